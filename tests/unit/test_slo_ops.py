"""Units: [[slo]]/[[notify]]/[[action]]/[alertmanager] parsing, burn-rate arithmetic, scrape-mode
windows left unknown, check verdicts, Alertmanager alerts, default runbooks."""

from __future__ import annotations

import pytest

from aitop.analysis.configure import DEFAULT_RULES
from aitop.analysis.settings import ConfigError
from aitop.check import CheckResult
from aitop.config import load_config_file
from aitop.model import Row, Severity, Snapshot, TargetHealth
from aitop.history import History
from aitop.slo.burn import status
from aitop.slo.check import with_slos
from aitop.slo.measure import le_matcher, session_statuses
from aitop.slo.spec import SLO, WINDOWS
from aitop.sources.prometheus.alertmanager import AlertmanagerClient, matchers_for


def _config(tmp_path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return load_config_file(path)


def test_ops_sections_parse(tmp_path):
    ops = _config(tmp_path, """
[[slo]]
name = "chat"
objective = 99.5
model = "llama-.*"
[[slo]]
name = "fast"
objective = 99
kind = "latency"
threshold = "1.5s"
period = "7d"
[[notify]]
severity = "=critical"
webhook = "http://pager.local/hook"
[[notify]]
severity = "warning"
command = ["notify-send", "aitop"]
[alertmanager]
url = "http://am:9093/"
author = "oncall"
silence_duration = "30m"
[[action]]
name = "logs"
key = "l"
command = ["kubectl", "logs", "-l", "model=$MODEL"]
""").ops
    assert [(s.name, s.objective, s.kind, s.threshold, s.period) for s in ops.slos] == [
        ("chat", 0.995, "availability", None, 30 * 86400.0), ("fast", 0.99, "latency", 1.5, 7 * 86400.0)]
    assert ops.slos[0].matches("vllm", "llama-3") and not ops.slos[0].matches("vllm", "qwen")
    assert [(t.severity, t.only, t.webhook, t.command) for t in ops.notify] == [
        (Severity.CRITICAL, True, "http://pager.local/hook", ()), (Severity.WARNING, False, None, ("notify-send", "aitop"))]
    assert (ops.alertmanager, ops.silence_author, ops.silence_seconds) == ("http://am:9093", "oncall", 1800.0)
    assert ops.actions[0].argv == ("kubectl", "logs", "-l", "model=$MODEL")


@pytest.mark.parametrize(("text", "error"), [
    ('[[slo]]\nname = "a"\nobjective = 100', "slo[0].objective: below 100"),
    ('[[slo]]\nname = "a"\nobjective = 99\nkind = "latency"', "slo[0].threshold: a latency SLO needs a threshold"),
    ('[[slo]]\nname = "a"', "slo[0]: name and objective are required"),
    ('[[slo]]\nname = "a"\nobjective = 99\nwindow = "1h"', "slo[0].window: unknown key"),
    ('[[notify]]\nwebhook = "http://x"\ncommand = ["a"]', "notify[0]: give exactly one of webhook or command"),
    ('[[notify]]\ncommand = "rm -rf /"', "notify[0].command: a list of arguments"),
    ('[[action]]\nname = "a"\nkey = "q"\ncommand = ["x"]', "action[0].key: one character not used by aitop"),
    ('[[action]]\nname = "a"\nkey = "l"\ncommand = "sh -c x"', "action[0].command: a non-empty list"),
    ('[alertmanager]\nurl = "am:9093"', "alertmanager.url: an http:// or https:// URL"),
])
def test_ops_errors_name_the_key(tmp_path, text, error):
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, text)
    assert error in str(caught.value)


def test_burn_rates_budget_and_exhaustion():
    slo = SLO("chat", 0.999)
    ratios = {w: 0.005 for w in WINDOWS}  # 5× the 0.1 % budget: under both page factors, over both ticket ones
    st = status(slo, "vllm", "llama", ratios, period_ratio=0.0005)
    assert st.burns[3600.0] == pytest.approx(5.0)
    assert st.tier == "ticket"
    assert [p.breached for p in st.pairs] == [False, False, True, True]
    assert st.budget_remaining == pytest.approx(0.5)
    # half the budget left, spent 5 periods' worth per period: 0.5 × 30 d / 5
    assert st.exhaustion_seconds == pytest.approx(0.5 * 30 * 86400 / 5)
    assert status(slo, "vllm", "llama", {w: 0.0145 for w in WINDOWS}).tier == "page"  # 14.5 > 14.4


def test_unknown_windows_are_never_judged_as_zero():
    st = status(SLO("chat", 0.999), "llm", "m", {300.0: 0.5, 1800.0: 0.5})  # only the short windows known
    assert st.tier is None and st.unknown_pairs == 4
    assert "4 of 4 window pairs unknown (not enough history)" in st.describe()


def _row(error_rate: float, rate: float = 10.0) -> Row:
    return Row("llm", "m", "model", {"error_rate": error_rate, "request_rate": rate})


def test_scrape_mode_covers_only_the_windows_the_session_saw():
    history = History(maxlen=1000)
    for i in range(0, 40 * 60 + 1, 60):  # 40 minutes of a 9 % error ratio
        history.record(Snapshot(float(i), 60.0, "scrape", (), (), (_row(0.09),)))
    (st,) = session_statuses([SLO("a", 0.999)], history, now=2400.0, interval=60.0)
    assert st.burns[300.0] == pytest.approx(90.0) and st.burns[1800.0] == pytest.approx(90.0)
    assert st.burns[3600.0] is None and st.burns[86400.0] is None  # longer than the session: unknown
    assert st.tier is None and st.unknown_pairs == 4


def test_check_verdicts_page_critical_ticket_warning():
    snapshot = Snapshot(0.0, 10.0, "prometheus", ("p",), (TargetHealth("p", "prometheus", True),), (_row(0.09),))
    base = CheckResult("OK", "AITOP OK", (), snapshot)
    page = status(SLO("a", 0.999), "llm", "m", {w: 0.09 for w in WINDOWS})
    ticket = status(SLO("b", 0.99), "llm", "m", {w: 0.04 for w in WINDOWS})  # 4×: ticket pairs only
    result = with_slos(base, [page, ticket], configured=2)
    assert (result.status, result.exit_code) == ("CRITICAL", 2)
    assert [(f.status, f.rule, f.group) for f in result.findings] == [("CRITICAL", "slo:a", "m"),
                                                                     ("WARNING", "slo:b", "m")]
    assert with_slos(base, [ticket], configured=1).exit_code == 1
    assert with_slos(base, [], configured=1).status == "UNKNOWN"  # no row matches: never OK by default


def test_latency_bucket_matcher_accepts_both_spellings():
    assert le_matcher(2.0, 1.0) == 'le=~"2|2\\\\.0"'
    assert le_matcher(0.5, 1.0) == 'le=~"0\\\\.5"'
    assert le_matcher(0.25, 0.001) == 'le=~"250|250\\\\.0"'  # a millisecond histogram


def test_alertmanager_alerts_marked_silenced_and_matchers():
    client = AlertmanagerClient("http://am")
    (alert,) = client.alerts_from([{
        "labels": {"alertname": "High\x1b[2J", "severity": "critical", "model_name": "llama"},
        "annotations": {"summary": "errors", "runbook_url": "https://rb/x"}, "fingerprint": "abc",
        "startsAt": "2026-01-01T00:00:00Z", "status": {"state": "suppressed", "silencedBy": ["s1"]},
    }])
    assert (alert.rule, alert.severity, alert.group, alert.silenced_by, alert.runbook) == (
        "alertmanager:High^[[2J", Severity.CRITICAL, "llama", ("s1",), "https://rb/x")
    assert matchers_for(alert, client.labels)["alertname"] == "High\x1b[2J"  # the exact label, for matching
    own = DEFAULT_RULES[0]
    from aitop.model import Alert

    mine = Alert("x", own.name, own.severity, "firing", "vllm", "llama", own.field, 3.0, 2.0, 0.0, "slow")
    assert matchers_for(mine, client.labels) is None  # aitop's own alerts never reach Alertmanager


def test_built_in_rules_carry_runbooks():
    assert all(rule.runbook for rule in DEFAULT_RULES)
    error = next(rule for rule in DEFAULT_RULES if rule.field == "error_rate")
    assert "roll back" in error.runbook and "status" in error.runbook


def test_the_example_config_documents_the_ops_sections():
    from pathlib import Path

    ops = load_config_file(Path(__file__).resolve().parents[2] / "aitop.example.toml", {}).ops
    assert [s.name for s in ops.slos] == ["chat-availability", "chat-latency"]
    assert [t.name for t in ops.notify] == ["pager", "desktop"] and ops.actions[0].key == "l"
    assert ops.alertmanager is None and ops.silence_seconds == 7200.0


def test_a_command_notification_gets_the_payload_on_stdin_as_an_argument_list(tmp_path):
    import json
    import sys
    import time

    from aitop.model import Alert
    from aitop.notify import Notifier, NotifyTarget

    out = tmp_path / "payload.json"
    script = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_bytes(sys.stdin.buffer.read())"
    notifier = Notifier([NotifyTarget("desk", command=(sys.executable, "-c", script, str(out)))])
    firing = Alert("a", "error_rate_critical", Severity.CRITICAL, "firing", "llm", "m; rm -rf ~", "error_rate",
                   0.2, 0.05, 0.0, "m: 20% fail")
    notifier.observe([firing])
    notifier.observe([firing])  # still firing: nothing new
    notifier.close(wait=10.0)
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    body = json.loads(out.read_text())
    assert body["status"] == "firing" and body["alerts"][0]["labels"]["model"] == "m; rm -rf ~"
    assert notifier.delivered == 1 and notifier.problem is None


def test_a_webhook_url_is_never_shown(tmp_path):
    ops = _config(tmp_path, '[[notify]]\nwebhook = "https://hooks.slack.example/services/T0/B0/s3cr3t"\n').ops
    assert ops.notify[0].name == "hooks.slack.example"
    with pytest.raises(ConfigError, match="alertmanager.url: credentials in URLs are not accepted"):
        _config(tmp_path, '[alertmanager]\nurl = "http://user:pw@am:9093"\n')


def test_json_alerts_carry_runbook_and_silences():
    import json

    from aitop.model import Alert
    from aitop.output import to_json

    alert = Alert("a", "alertmanager:High", Severity.CRITICAL, "firing", "alertmanager", "llama", "", None, None,
                  0.0, "errors", runbook="https://rb/x", silenced_by=("s1",))
    quiet = Alert("b", "error_rate_warning", Severity.WARNING, "firing", "vllm", "q", "error_rate", 0.02, 0.01, 0.0,
                  "q")
    data = json.loads(to_json(Snapshot(0.0, 10.0, "scrape", (), (), (), alerts=(alert, quiet))))
    assert [(a["runbook"], a["silenced_by"]) for a in data["alerts"]] == [("https://rb/x", ["s1"]), (None, [])]
