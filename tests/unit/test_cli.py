"""The command line: exit codes, stdout/stderr discipline, snapshot against a real local exporter."""

import json
import re
import socket

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from aitop import cli, guard


@pytest.fixture
def exporter():
    registry = CollectorRegistry()
    requests = Counter("llm_requests", "requests", ["model", "status"], registry=registry)
    requests.labels("gpt-4o", "success").inc(10)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    yield f"127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("aitop ")


def test_no_target_hints_at_demo(capsys, monkeypatch):
    for name in ("AITOP_URL", "PROMETHEUS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["snapshot"]) == 2
    assert "aitop --demo" in capsys.readouterr().err


def test_credentials_in_url_refused_without_echoing_them(capsys):
    assert cli.main(["snapshot", "http://admin:hunter2@127.0.0.1:9/metrics"]) == 2
    captured = capsys.readouterr()
    assert "hunter2" not in captured.err + captured.out and "credentials" in captured.err


def test_snapshot_json_on_stdout_only(exporter, capsys):
    target, requests = exporter
    requests.labels("gpt-4o", "timeout").inc(0)
    assert cli.main(["snapshot", target, "--format", "json", "--window", "0.3"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.err == ""
    (row,) = data["rows"]
    assert (row["schema"], row["group"], row["request_rate"], row["error_rate"]) == ("llm", "gpt-4o", 0.0, None)
    assert row["missing"]["error_rate"] == "no observations in window"


def test_snapshot_with_a_dead_target_still_prints_and_says_why(exporter, capsys):
    target, _ = exporter
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"  # bound, not listening: refused
        assert cli.main(["snapshot", target + "/metrics", dead + "/metrics", "--window", "0.2"]) == 0
    captured = capsys.readouterr()
    assert "gpt-4o" in captured.out and f"DOWN http://{dead}/metrics" in captured.out
    assert "cannot connect" in captured.err


def test_snapshot_all_targets_down_exits_1(capsys):
    assert cli.main(["snapshot", "127.0.0.1:9/metrics", "--format", "json", "--window", "0.1"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == [] and data["targets"][0]["up"] is False


def test_unreachable_target_of_unknown_kind_asks_for_a_flag(capsys):
    assert cli.main(["snapshot", "127.0.0.1:9"]) == 2
    assert "pass --prometheus or --scrape" in capsys.readouterr().err
    assert cli.main(["snapshot", "127.0.0.1:9", "--scrape", "--window", "0.1"]) == 1


def test_bare_host_port_of_an_exporter_is_scraped_at_metrics(exporter, capsys):
    target, _ = exporter
    assert cli.main(["snapshot", target, "--format", "json", "--window", "0.2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"]["targets"] == [f"http://{target}/metrics"] and data["rows"][0]["group"] == "gpt-4o"


def test_internal_error_prints_no_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(guard, "state_dir", lambda: tmp_path)

    def explode(argv):
        token = "SECRET-TOKEN-123"  # noqa: F841 — a local that a traceback-with-locals would print
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_dispatch", explode)
    assert cli.main(["x"]) == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and "SECRET-TOKEN-123" not in err and "RuntimeError" in err
    (report,) = tmp_path.glob("crash-*.log")
    assert report.stat().st_mode & 0o077 == 0
    assert "SECRET-TOKEN-123" not in report.read_text()


def test_tui_refuses_without_a_terminal(capsys):
    # under pytest stdout is captured, so this is the `ssh host aitop` (no -t) case
    assert cli.main(["127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "no TTY" in err and "ssh -t" in err and "--once" in err  # fault case F29 (tests/faults/README.md)


def test_demo_raises_only_the_default_budget():
    from dataclasses import replace

    from aitop.analysis.configure import AnalysisSettings
    from aitop.analysis.configure import DEFAULT_RULES

    budget = next(rule for rule in DEFAULT_RULES if rule.field == "cost_per_day")
    demo = cli.demo_analysis(AnalysisSettings())
    assert next(r for r in demo.rules if r.name == budget.name).threshold == cli.DEMO_DAILY_BUDGET
    assert [r for r in demo.rules if r.name != budget.name] == [r for r in DEFAULT_RULES if r.name != budget.name]
    mine = AnalysisSettings(rules=tuple(replace(r, threshold=50.0) if r is budget else r for r in DEFAULT_RULES))
    assert next(r for r in cli.demo_analysis(mine).rules if r.name == budget.name).threshold == 50.0


def test_detect_reports_schemas_concepts_and_reasons(exporter, capsys):
    target, _ = exporter
    assert cli.main(["detect", target + "/metrics"]) == 0
    out = capsys.readouterr().out
    assert "llm — " in out and re.search(r"\n  requests +counter   llm_requests_total", out)
    assert "running: no such metric — looked for llm_inflight_requests" in out
    assert cli.main(["detect", target + "/metrics", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)


def test_detect_on_a_dead_target_exits_1(capsys):
    assert cli.main(["detect", "127.0.0.1:9/metrics"]) == 1
    assert "cannot connect" in capsys.readouterr().err


def test_watch_prints_one_json_line_per_refresh_and_stops_after_count(exporter, capsys, tmp_path):
    target, requests = exporter
    config = tmp_path / "config.toml"
    config.write_text("")  # no user config from the machine running the tests
    assert cli.main(["watch", target, "--format", "jsonl", "--count", "3", "--interval", "0.5s",
                     "--window", "0.8s", "--config", str(config)]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    snapshots = [json.loads(line) for line in lines]
    assert [s["rows"][0]["group"] for s in snapshots] == ["gpt-4o"] * 3
    # Warm-up: the first refresh's row is not judged; once the 0.8 s window is full it is.
    assert snapshots[0]["rows"][0]["warming"] and not snapshots[-1]["rows"][0]["warming"]
    assert all(isinstance(s["alerts"], list) for s in snapshots)


def test_watch_codec_prints_one_lossless_snapshot_per_refresh(exporter, capsys, tmp_path):
    from aitop.codec import decode

    target, _ = exporter
    config = tmp_path / "config.toml"
    config.write_text("")
    assert cli.main(["watch", target, "--format", "codec", "--count", "2", "--interval", "0.5s",
                     "--window", "0.8s", "--config", str(config)]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["codec"] == 1 for line in lines)
    first, last = (decode(json.loads(line)) for line in lines)
    assert first.source_kind == "scrape" and [row.group for row in last.rows] == ["gpt-4o"]
    assert first.rows[0].warming and first.collected.targets[0].up
    assert last.rows[0].provenance["request_rate"]  # what the JSON contract leaves out


def test_watch_count_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["watch", "127.0.0.1:9/metrics", "--count", "0"])
    assert exited.value.code == 2 and "--count" in capsys.readouterr().err
