"""A server that echoes the request's credentials back (some proxies and API gateways put the Authorization
header in their error bodies): the secrets aitop holds must appear in none of its outputs.

The fake Prometheus and the /metrics pages below put what they received — `Authorization`, an API key header
from the config file and a `--header` value — into query error bodies, `infos`, label values (and so row
names and alert ids), an HTTP reason phrase and a target error. Each output is then searched: the snapshot
JSON and table, `check` text and JSON, stderr, the TUI's screen bytes in a real pty, the log file and a crash
file. Every output must also show the masked echo (`***`), so the test proves the echo reached it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kit import PtySession, aitop_env, plain
from server import Action, FaultServer, PrometheusAPI, Reply, Request, api_error

TOKEN = "glc_ECHOED_TOKEN_i15a_4f1c"
API_KEY = "ak_ECHOED_KEY_i15a_9b2e"  # X-Api-Key, from the config file ({ file = … })
TEAM = "team-ECHOED-i15a-31"  # X-Team, from --header on the command line
MARK = "ECHOED"  # in every secret and nowhere else: catches a secret cut or split by the terminal writes
SECRETS = (TOKEN, API_KEY, TEAM, MARK)


def echo(request: Request) -> str:
    """What an echoing gateway says about the request it got."""
    return " ".join(f"{name}={request.headers.get(name, '')}" for name in ("authorization", "x-api-key", "x-team"))


class EchoingPrometheus(PrometheusAPI):
    """The fault suite's Prometheus, echoing each request's credentials: a model (label value) is named after
    them, every quantile query carries them in an `info`, the p99 query is rejected with them, and a firing
    alert has them in its name, labels and summary."""

    def __call__(self, request: Request) -> Action:
        said = echo(request)
        self.models = {"alpha": 10.0, f"m {said}": 4.0}
        self.infos = [f"upstream saw {said}"]
        self.alerts = [{"labels": {"alertname": f"Echo {said}", "severity": "critical", "model": f"m {said}"},
                        "annotations": {"summary": f"gateway saw {said}"}, "state": "firing",
                        "activeAt": "2026-12-01T00:00:00Z", "value": "1"}]
        if "histogram_quantile(0.99" in (request.param("query") or ""):
            return api_error(400, "execution", f"bad token: {said}")
        return super().__call__(request)


class EchoingReason(Action):
    """A /metrics target that fails with the credentials in its status line and its body."""

    name = "echo-reason"

    def serve(self, server, conn, request):
        body = f"denied: {echo(request)}".encode()
        head = f"HTTP/1.1 502 bad token {request.headers.get('authorization', '')}\r\nContent-Length: {len(body)}\r\n"
        conn.sendall(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)


def echoing_page(request: Request) -> Action:
    """A /metrics page whose model label and HELP text carry the request's credentials."""
    said = echo(request).replace("\\", "\\\\").replace('"', '\\"')
    lines = [f"# HELP llm_requests_total requests seen by {said}", "# TYPE llm_requests_total counter",
             f'llm_requests_total{{model="p {said}",status="success"}} 90',
             f'llm_requests_total{{model="p {said}",status="error"}} 10']
    return Reply(200, "\n".join(lines) + "\n", {"Content-Type": "text/plain; version=0.0.4"})


def credentials(tmp: Path) -> list[str]:
    """The token file, the config file naming the API key file, and the --header flag."""
    token = tmp / "token"
    token.write_text(TOKEN + "\n")
    key = tmp / "api-key"
    key.write_text(API_KEY + "\n")
    config = tmp / "config.toml"
    config.write_text('[http.headers]\nX-Api-Key = { file = "api-key" }\n')
    for path in (token, key, config):
        path.chmod(0o600)
    return ["--bearer-token-file", str(token), "--config", str(config), "--header", f"X-Team: {TEAM}"]


def run_aitop(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aitop", *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


FORCED_CRASH = """
import logging, sys
import aitop.ui.app as ui

TOKEN_FILE, KEY_FILE, TEAM = sys.argv[1:4]

def crash(self):  # an exception whose text quotes an echoing server, logged first
    said = "Bearer " + open(TOKEN_FILE).read().strip() + " " + open(KEY_FILE).read().strip() + " " + TEAM
    logging.getLogger("aitop.sources").warning("the gateway answered: %s", said)
    raise RuntimeError("forced failure; the gateway answered: " + said)

ui.AitopApp.action_help = crash
from aitop.cli import main
sys.argv = ["aitop", *sys.argv[4:]]
raise SystemExit(main())
"""


@pytest.fixture(scope="module")
def echo_runs(tmp_path_factory) -> dict:
    """Every output of aitop against the echoing servers, gathered once for the module's tests."""
    tmp = tmp_path_factory.mktemp("echo")
    flags = credentials(tmp)
    env = aitop_env(tmp)
    api = EchoingPrometheus()
    with FaultServer(api, lifetime=90) as prom, FaultServer(echoing_page, lifetime=90) as page, \
            FaultServer(lambda request: EchoingReason(), lifetime=90) as failing:
        prom_args = [prom.url, "--prometheus", *flags, "--window", "30s"]
        scrape_args = [f"{page.url}/metrics", f"{failing.url}/metrics", "--scrape", *flags, "--window", "0.2"]
        outputs = {
            "snapshot json (prometheus)": run_aitop(["snapshot", *prom_args, "--format", "json"], env),
            "snapshot table (prometheus)": run_aitop(["snapshot", *prom_args, "--format", "table"], env),
            "check text (prometheus)": run_aitop(["check", *prom_args], env),
            "check json (prometheus)": run_aitop(["check", *prom_args, "--format", "json"], env),
            "snapshot json (scrape)": run_aitop(["snapshot", *scrape_args, "--format", "json"], env),
            "snapshot table (scrape)": run_aitop(["snapshot", *scrape_args, "--format", "table"], env),
            "check text (scrape)": run_aitop(["check", *scrape_args], env),
            "watch jsonl (prometheus)": run_aitop(["watch", *prom_args, "--format", "jsonl", "--count", "1"], env),
            "watch codec (prometheus)": run_aitop(["watch", *prom_args, "--format", "codec", "--count", "1"], env),
        }
        wrapper = tmp / "crash.py"
        wrapper.write_text(FORCED_CRASH)
        session = PtySession([str(tmp / "token"), str(tmp / "api-key"), TEAM, *prom_args, "--interval", "0.5"],
                             env, command=[sys.executable, str(wrapper)])
        try:
            drawn = session.read_until(lambda out: "alpha" in plain(out) and "***" in plain(out), 30)
            session.write(b"?")  # the forced exception, which quotes the secrets
            code = session.wait(20)
        finally:
            session.stop()
        seen = {(r.headers.get("authorization"), r.headers.get("x-api-key"), r.headers.get("x-team"))
                for server in (prom, page, failing) for r in server.requests()}
    state = tmp / "state" / "aitop"
    log = state / "aitop.log"
    return {"outputs": outputs, "screen": session.output, "drawn": drawn, "code": code, "seen": seen,
            "log": log.read_text() if log.exists() else "", "crashes": list(state.glob("crash-*.log"))}


def assert_masked(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} reached the {where}"


def test_the_servers_did_receive_and_echo_every_secret(echo_runs):
    assert echo_runs["seen"] == {(f"Bearer {TOKEN}", API_KEY, TEAM)}  # every request carried all three


FULL_ECHO = "authorization=Bearer *** x-api-key=*** x-team=***"
#: Per output, the masked echo it must show (proof that the echoed text reached it).
SHOWN = {
    "snapshot json (prometheus)": FULL_ECHO, "snapshot table (prometheus)": FULL_ECHO,
    "check text (prometheus)": FULL_ECHO, "check json (prometheus)": FULL_ECHO,
    "snapshot json (scrape)": FULL_ECHO, "snapshot table (scrape)": FULL_ECHO,
    "watch jsonl (prometheus)": FULL_ECHO, "watch codec (prometheus)": FULL_ECHO,
    "check text (scrape)": "HTTP 502 bad token Bearer ***",
}


@pytest.mark.parametrize("name", list(SHOWN))
def test_headless_outputs_and_stderr_show_the_echo_masked(echo_runs, name):
    result = echo_runs["outputs"][name]
    assert "Traceback" not in result.stderr and result.returncode in (0, 1, 2, 3), result.stderr[-2000:]
    assert_masked(f"stdout of {name}", result.stdout)
    assert_masked(f"stderr of {name}", result.stderr)
    shown = result.stdout + result.stderr
    assert SHOWN[name] in shown, shown[-3000:]  # the echo reached this output, masked
    if "json" in name or "codec" in name:
        json.loads(result.stdout)  # masking kept the JSON valid


def test_echoed_error_body_reaches_snapshot_and_check_masked(echo_runs):
    snapshot = json.loads(echo_runs["outputs"]["snapshot json (prometheus)"].stdout)
    groups = {row["group"] for row in snapshot["rows"]}
    assert "m authorization=Bearer *** x-api-key=*** x-team=***" in groups
    (alert,) = [alert for alert in snapshot["alerts"] if alert["rule"].startswith("prometheus:")]
    assert (alert["rule"], alert["group"], alert["message"]) == (f"prometheus:Echo {FULL_ECHO}…",
                                                                 f"m {FULL_ECHO}", f"gateway saw {FULL_ECHO}")
    assert alert["id"].startswith(f"prometheus:Echo {FULL_ECHO}…:")
    check = echo_runs["outputs"]["check text (prometheus)"].stdout
    assert f"CRITICAL prometheus/m {FULL_ECHO} [prometheus:Echo {FULL_ECHO}…]: gateway saw {FULL_ECHO}" in check
    scrape = json.loads(echo_runs["outputs"]["snapshot json (scrape)"].stdout)
    errors = [target["error"] for target in scrape["targets"] if not target["up"]]
    assert errors and all("bad token Bearer ***" in error or "***" in error for error in errors), errors


def test_tui_screen_log_and_crash_file_never_hold_a_secret(echo_runs):
    screen = echo_runs["screen"]
    text = plain(screen)
    assert echo_runs["drawn"], text[-3000:]
    assert echo_runs["code"] == 1 and "internal error (RuntimeError); details in" in " ".join(text.split())
    assert_masked("TUI screen", screen.decode("utf-8", "replace"))
    assert_masked("TUI screen (escapes removed)", text)
    log = echo_runs["log"]
    assert "the gateway answered: Bearer *** *** ***" in log  # the record was written, masked
    assert_masked("log file", log)
    (crash,) = echo_runs["crashes"]
    report = crash.read_text()
    assert "RuntimeError: forced failure; the gateway answered: Bearer *** *** ***" in report
    assert_masked("crash file", report)
