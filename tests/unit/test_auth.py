"""Credentials reach the server and nothing else: a fake Prometheus API that demands them, a planted
secret that must never appear in aitop's output."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from aitop import cli

TOKEN = "glc_PLANTED_SECRET_7f3a9"
API_KEY = "PLANTED_API_KEY_55"


class FakePrometheus(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server API
        FakePrometheus.seen.append(dict(self.headers))
        url = urlparse(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"status": "error", "errorType": "unauthorized", "error": "bad token"})
        if url.path.endswith("/status/buildinfo"):
            return self._send(200, {"status": "success", "data": {"version": "2.53.0"}})
        if url.path.endswith("/label/__name__/values"):
            return self._send(200, {"status": "success", "data": ["llm_requests_total"]})
        if url.path.endswith("/labels"):
            return self._send(200, {"status": "success", "data": ["model", "status"]})
        if url.path.endswith("/query"):
            query = parse_qs(url.query)["query"][0]
            labels = {"model": "gpt-4o", **({"status": "timeout"} if "status!~" in query else {})}
            value = "0.5" if "status!~" in query else "5"
            result = [{"metric": labels, "value": [1, value]}] if "llm_requests_total" in query else []
            return self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
        return self._send(404, {"status": "error"})


@pytest.fixture
def fake_prometheus():
    FakePrometheus.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/prom"
    server.shutdown()
    server.server_close()


def args(url, token_file, *extra):
    """A snapshot with every kind of credential; the API key header comes from the config file (a credential
    header on the command line is refused), which names a file beside the token file."""
    folder = token_file.parent
    (folder / "api-key").write_text(API_KEY + "\n")
    (folder / "api-key").chmod(0o600)
    config = folder / "config.toml"
    config.write_text('[http.headers]\nX-API-Key = { file = "api-key" }\n')
    config.chmod(0o600)
    return ["snapshot", url, "--format", "json", "--bearer-token-file", str(token_file), "--tenant", "team-a",
            "--config", str(config), *extra]


def test_credentials_tenant_and_headers_reach_the_server(fake_prometheus, tmp_path, capsys):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    assert cli.main(args(fake_prometheus, token_file)) == 0
    out, err = capsys.readouterr()
    (row,) = json.loads(out)["rows"]
    assert (row["group"], row["request_rate"], row["error_rate"]) == ("gpt-4o", 5.0, 0.1)
    assert all(h.get("X-Scope-OrgID") == "team-a" and h.get("X-API-Key") == API_KEY for h in FakePrometheus.seen)
    assert TOKEN not in out + err and API_KEY not in out + err


def test_a_refused_token_is_reported_without_it(fake_prometheus, tmp_path, capsys):
    token_file = tmp_path / "token"
    token_file.write_text("wrong-" + TOKEN)
    token_file.chmod(0o600)
    assert cli.main(args(fake_prometheus, token_file, "--prometheus")) == 1
    out, err = capsys.readouterr()
    assert "not authorised (HTTP 401)" in out + err
    assert TOKEN not in out + err and API_KEY not in out + err


def test_token_file_readable_by_others_is_warned_about(fake_prometheus, tmp_path, capsys):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o644)
    assert cli.main(args(fake_prometheus, token_file)) == 0
    err = capsys.readouterr().err
    assert "readable by other users" in err and TOKEN not in err


def test_token_from_environment(fake_prometheus, monkeypatch, capsys):
    monkeypatch.setenv("AITOP_BEARER_TOKEN", TOKEN)
    assert cli.main(["snapshot", fake_prometheus, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["rows"][0]["group"] == "gpt-4o" and TOKEN not in out + err


@pytest.mark.parametrize("bypassed", [False, True])
def test_prometheus_queries_go_through_the_environment_proxy(fake_prometheus, monkeypatch, capsys, bypassed):
    """HTTP_PROXY / NO_PROXY are honoured in Prometheus mode (read once per server, not per request): the
    server's name does not resolve, so the answer can only come through the proxy (the fake server)."""
    monkeypatch.setenv("AITOP_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("HTTP_PROXY", fake_prometheus.removesuffix("/prom"))
    monkeypatch.setenv("NO_PROXY", "prometheus.invalid" if bypassed else "localhost")
    code = cli.main(["snapshot", "http://prometheus.invalid:9090/prom", "--prometheus", "--format", "json"])
    out, err = capsys.readouterr()
    if bypassed:
        assert code == 1 and "prometheus.invalid" in out + err and not FakePrometheus.seen
    else:
        assert code == 0 and json.loads(out)["rows"][0]["group"] == "gpt-4o"
        assert FakePrometheus.seen and all(h.get("Host") == "prometheus.invalid:9090" for h in FakePrometheus.seen)
