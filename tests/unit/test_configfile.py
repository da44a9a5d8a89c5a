"""The TOML config file: where it is found, precedence (flags > env > file > defaults), strict errors naming
the key path, secrets only by reference, and the settings reaching the commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aitop import cli
from aitop.config import ConfigError, build_config, find_config_file, load_config_file
from aitop.model import Severity

EXAMPLE = Path(__file__).resolve().parents[2] / "aitop.example.toml"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def rules_of(config) -> dict:
    return {rule.name: rule for rule in config.analysis.rules}


def test_the_example_documents_a_valid_config():
    settings = load_config_file(EXAMPLE, {})
    assert settings.targets == ("http://localhost:9090",) and settings.theme == "aitop-dark"
    names = {rule.name for rule in settings.analysis.rules}
    assert {"latency_p95_critical", "request_rate_collapse", "slow-first-token-llama"} <= names
    assert settings.analysis.prices.lookup("llama-3.1-8b")[0] == "llama-3.1-*"


def test_precedence_flags_then_env_then_file_then_defaults(tmp_path):
    path = write(tmp_path, 'targets = ["file:1"]\ninterval = "5s"\nwindow = "1m"\nkind = "scrape"\n')
    from_file = build_config([], config_file=path, environ={})
    assert (from_file.targets, from_file.interval, from_file.window, from_file.timeout, from_file.kind) == (
        ("http://file:1",), 5.0, 60.0, 5.0, "scrape")
    assert build_config([], config_file=path, environ={"AITOP_URL": "env:2"}).targets == ("http://env:2",)
    flags = build_config(["flag:3"], interval=1.0, window=10.0, kind="prometheus", config_file=path, environ={})
    assert (flags.targets, flags.interval, flags.window, flags.kind) == (("http://flag:3",), 1.0, 10.0, "prometheus")


def test_discovery_order(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert find_config_file(None, {}) is None  # nothing there: defaults, no error
    (tmp_path / "xdg" / "aitop").mkdir(parents=True)
    default = write(tmp_path / "xdg" / "aitop", 'theme = "aitop-light"\n')  # platformdirs' user config dir
    assert find_config_file(None, {}) == default
    other = tmp_path / "dir"
    other.mkdir()
    in_dir = write(other, 'theme = "x"\n')
    assert find_config_file(None, {"AITOP_CONFIG_DIR": str(other)}) == in_dir
    named = write(tmp_path, 'theme = "y"\n', "named.toml")
    assert find_config_file(None, {"AITOP_CONFIG": str(named), "AITOP_CONFIG_DIR": str(other)}) == named
    assert find_config_file(str(default), {"AITOP_CONFIG": str(named)}) == default  # --config wins
    with pytest.raises(ConfigError, match=r"\$AITOP_CONFIG .*missing.toml: no such file"):
        find_config_file(None, {"AITOP_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(ConfigError, match="--config .*nope.toml: no such file"):
        build_config([], config_file=tmp_path / "nope.toml", environ={})


def test_library_callers_never_pick_up_a_users_file_by_surprise(tmp_path, monkeypatch):
    path = write(tmp_path, 'targets = ["file:1"]\n')
    assert build_config([], environ={"AITOP_CONFIG": str(path)}).targets == ()
    assert build_config([], environ={"AITOP_CONFIG": str(path)}, discover_config=True).targets == ("http://file:1",)


@pytest.mark.parametrize(("text", "message"), [
    ('tagrets = ["x"]', r"tagrets: unknown key \(known: "),
    ('interval = "fast"', r"interval: not a duration: 'fast'"),
    ("interval = 0", r"interval: must be positive"),
    ('kind = "graphite"', r"kind: one of auto, scrape, prometheus"),
    ("[http]\nbearer_token = 'abc123'", r"http.bearer_token: unknown key; use bearer_token_file or bearer_token_env"),
    ("token = 'abc123'", r"token: unknown key; secrets go in bearer_token_file or bearer_token_env under \[http\]"),
    ("[http.headers]\nX-Api-Key = 'abc123'", r"http.headers.X-Api-Key: looks like a credential"),
    ("[http.headers]\nX-Api-Key = { env = 'NOT_SET_ANYWHERE' }", r"http.headers.X-Api-Key.env: \$NOT_SET_ANYWHERE is not set"),
    ("[[rules]]\nname = 'error_rate_critical'\nthreshold = 'high'", r"rules\[0\].threshold: expected a number, not 'high'"),
    ("[[rules]]\nname = 'a'\nfield = 'error_rate'\nop = '>'\nseverity = 'warning'\nthreshold = 1\n"
     "[[rules]]\nname = 'b'\nfield = 'error_rate'\nop = '>'\nseverity = 'warning'\n"
     "[[rules]]\nname = 'c'\nfield = 'error_rate'\nop = '>'\nseverity = 'warning'\nthreshold = 'x'",
     r"rules\[1\]: a new rule needs one of threshold, baseline, sigma"),
    ("[[rules]]\nname = 'x'\nfield = 'error_rate'\nop = '>'\nseverity = 'warning'\nthresold = 1",
     r"rules\[0\].thresold: unknown key"),
    ("[[rules]]\nname = 'x'\nfield = 'eror_rate'", r"rules\[0\].field: unknown field 'eror_rate'"),
    ("[[rules]]\nname = 'x'\nfield = 'error_rate'\nop = '=>'", r"rules\[0\].op: one of >, >=, <, <=, <>"),
    ("[[rules]]\nname = 'x'\nseverity = 'page'", r"rules\[0\].severity: warning or critical"),
    ("[[rules]]\nname = 'error_rate_warning'\nthreshold = 1\nbaseline = 2", r"rules\[0\]: give one of .* not threshold and baseline"),
    ("[[rules]]\nname = 'error_rate_warning'\ngroup = '(('", r"rules\[0\].group: invalid regular expression"),
    ("[[rules]]\nname = 'error_rate_warning'\nfor = '5 minutes'", r"rules\[0\].for: not a duration"),
    ("[[rules]]\nname = 'error_rate_warning'\nhysteresis = 2", r"rules\[0\].hysteresis: a fraction below 1"),
    ("[[rules]]\nname = 'x y'", r"rules\[0\].name: letters, digits"),
    ("[[rules]]\nname = 'error_rate_warning'\n[[rules]]\nname = 'error_rate_warning'", r"rules\[1\].name: 'error_rate_warning' is already configured at rules\[0\]"),
    ("[[rules]]\nname = 'x'\nfield = 'request_rate'\nop = '<>'\nseverity = 'warning'\nbaseline = 2",
     r"rules\[0\].op: '<>' \(either direction\) needs a sigma limit"),
    ("[thresholds]\nerror_rate = { warn = 0.1 }", r"thresholds.error_rate.warn: unknown key"),
    ("[thresholds]\nnope = { warning = 0.1 }", r"thresholds.nope: unknown field"),
    ("[baseline]\nwindow = '0s'", r"baseline.window: must be positive"),
    ("[baseline]\nslots = 1", r"baseline.slots: expected a whole number ≥ 3"),
    ("[alerts]\nbell = 'yes'", r"alerts.bell: expected true or false"),
    ("[prices]\n'gpt-4o' = { input = 'cheap', output = 1 }", r'prices."gpt-4o".input: expected a number'),
    ("[check]\nwindow = 'soon'", r"check.window: not a duration"),
    ("x = [", r"not valid TOML"),
])
def test_bad_files_are_errors_naming_the_key_path(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        build_config([], config_file=path, environ={})
    assert str(caught.value).startswith(str(path))  # …and the file
    assert "abc123" not in str(caught.value)  # never the secret


def test_rules_override_disable_add_and_thresholds_shorthand(tmp_path):
    path = write(tmp_path, """
[thresholds]
error_rate = { warning = 0.02, critical = 0.2 }
latency_p99 = { warning = 5 }
feedback_negative_ratio = { warning = false }

[[rules]]
name = "latency_p95_critical"
for = "2m"

[[rules]]
name = "request_rate_collapse"
enabled = false

[[rules]]
name = "gpu-ttft"
field = "ttft_p95"
op = ">="
baseline = 4
severity = "critical"
schema = "vllm"
group = "llama-.*"
labels = { model_name = "llama-.*" }
""")
    rules = rules_of(build_config([], config_file=path, environ={}))
    assert rules["error_rate_warning"].threshold == 0.02 and rules["error_rate_critical"].threshold == 0.2
    assert rules["latency_p99_warning"].threshold == 5.0 and rules["latency_p99_warning"].for_ == 30.0
    assert not rules["feedback_negative_ratio_warning"].enabled
    assert rules["latency_p95_critical"].for_ == 120.0 and rules["latency_p95_critical"].threshold == 2.0
    assert not rules["request_rate_collapse"].enabled
    new = rules["gpu-ttft"]
    assert (new.field, new.op, new.baseline, new.severity, new.for_) == ("ttft_p95", ">=", 4.0, Severity.CRITICAL, 30.0)
    assert new.filter.schema.pattern == "vllm" and new.filter.labels[0][0] == "model_name"


def test_secrets_by_file_or_env_reference_only(tmp_path):
    token = write(tmp_path, "s3cr3t-token\n", "token")
    key = write(tmp_path, "api-key-value\n", "key")
    path = write(tmp_path, """
[http]
bearer_token_file = "token"
tenant = "team-a"

[http.headers]
"X-Team" = "inference"
"X-Api-Key" = { file = "key" }
"X-Other-Key" = { env = "OTHER_KEY" }
""")
    config = build_config([], config_file=path, environ={"OTHER_KEY": "from-env"})
    http = config.http
    assert http.bearer_token.reveal() == "s3cr3t-token"  # relative to the config file's folder
    assert {name: value.reveal() for name, value in http.headers} == {
        "X-Team": "inference", "X-Api-Key": "api-key-value", "X-Other-Key": "from-env"}
    assert http.tenant == "team-a"
    shown = repr(config) + str(config)
    assert "s3cr3t" not in shown and "api-key-value" not in shown and "from-env" not in shown
    flag = build_config([], headers=["X-Team: cli"], config_file=path, environ={"OTHER_KEY": "x"})
    assert dict((n, v.reveal()) for n, v in flag.http.headers)["X-Team"] == "cli"  # flags win
    by_env = write(tmp_path, '[http]\nbearer_token_env = "MY_TOKEN"\n', "env.toml")
    assert build_config([], config_file=by_env, environ={"MY_TOKEN": "t0k"}).http.bearer_token.reveal() == "t0k"
    assert key.exists() and token.exists()


def test_a_file_others_can_write_is_flagged(tmp_path):
    path = write(tmp_path, 'theme = "x"\n')
    os.chmod(path, 0o666)
    assert any("writable by other users" in w for w in build_config([], config_file=path, environ={}).warnings)


def test_offset_is_accepted_but_reported_as_not_used_yet(tmp_path):
    path = write(tmp_path, '[baseline]\noffset = "1d"\n')
    config = build_config([], config_file=path, environ={})
    assert config.analysis.baseline.offset == 86400.0
    assert any("offset" in w and "not used yet" in w for w in config.warnings)


def test_analysis_settings_reach_the_config(tmp_path):
    path = write(tmp_path, """
theme = "aitop-okabe-ito"
[alerts]
bell = true
keep_resolved = "1m"
[baseline]
window = "10m"
slots = 20
[check]
window = "3s"
[prices]
"mistral-*" = { input = 0.2, output = 0.6 }
""")
    config = build_config([], config_file=path, environ={})
    assert config.theme == "aitop-okabe-ito" and config.check_window == 3.0
    assert config.analysis.bell and config.analysis.alerts.keep_resolved == 60.0
    assert (config.analysis.baseline.window, config.analysis.baseline.slots) == (600.0, 20)
    assert config.analysis.prices.lookup("mistral-7b")[1].output == 0.6
    assert config.config_file == str(path)


def test_check_uses_the_rules_from_the_config(tmp_path, capsys):
    from test_check import Traffic  # the same live exporter
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    registry.register(Traffic({"gpt-4o": 0.09}))
    server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        target = f"127.0.0.1:{server.server_port}/metrics"
        path = write(tmp_path, "[thresholds]\nerror_rate = { critical = 0.2 }\n[check]\nwindow = '0.3s'\n")
        assert cli.main(["check", target, "--config", str(path)]) == 1  # now only the 1 % warning is breached
        assert capsys.readouterr().out.startswith("AITOP WARNING: 1 warning — llm/gpt-4o: error rate 9.0%")
        broken = write(tmp_path, "[[rules]]\nname = 'x'\n", "broken.toml")
        assert cli.main(["check", target, "--config", str(broken)]) == 3
        assert capsys.readouterr().out.startswith(f"AITOP UNKNOWN: {broken}: rules[0]: a new rule needs field")
    finally:
        server.shutdown()
        server.server_close()


def test_the_tui_gets_the_theme_and_the_monitor_gets_the_analysis(tmp_path, monkeypatch):
    import aitop.ui.app as app

    seen = {}

    def fake_run_tui(monitor, *, interval, theme_name=None, columns=None, config_path=None):
        seen.update(monitor=monitor, interval=interval, theme=theme_name, columns=columns, config_path=config_path)
        return 0

    async def fake_open_collector(config):
        from aitop.sources.base import CollectorBase

        class Collector(CollectorBase):
            kind, targets, window_seconds, group_by = "scrape", tuple(config.targets), config.window, None

        return Collector()

    monkeypatch.setattr(app, "has_terminal", lambda: True)
    monkeypatch.setattr(app, "run_tui", fake_run_tui)
    monkeypatch.setattr(cli, "open_collector", fake_open_collector)
    path = write(tmp_path, 'theme = "aitop-light"\ninterval = "3s"\n[alerts]\nbell = true\n'
                           "[[rules]]\nname = 'error_rate_warning'\nenabled = false\n"
                           '[columns]\ncost = ["model", "cost_per_day"]\n')
    assert cli.main(["--config", str(path), "127.0.0.1:1/metrics"]) == 0
    assert seen["theme"] == "aitop-light" and seen["interval"] == 3.0
    # The views' columns come from the file, and `c` saves back into that same file.
    assert seen["columns"] == {"cost": ("model", "cost_per_day")} and seen["config_path"] == str(path)
    assert seen["monitor"].bell and "error_rate_warning" not in {r.name for r in seen["monitor"].analyzer.rules}


def test_custom_schema_from_the_config_file(tmp_path):
    from aitop.config import build_config

    path = tmp_path / "config.toml"
    path.write_text(
        '[[schema]]\nname = "inhouse"\ngroup_labels = ["svc_model"]\ndetect = ["acme_llm_calls_total"]\n'
        '[[schema.concept.requests]]\nkind = "counter"\nmetric = "acme_llm_calls_total"\n'
    )
    config = build_config(["x:1/metrics"], config_file=path, environ={})
    assert config.schemas[-1].name == "inhouse" and "vllm" in {s.name for s in config.schemas}
    path.write_text('[[schema]]\nname = "broken"\n')
    with pytest.raises(ConfigError, match="schema\\[0\\]"):
        build_config(["x:1/metrics"], config_file=path, environ={})


def test_theme_flag_beats_the_file(tmp_path):
    from aitop.config import build_config

    path = tmp_path / "config.toml"
    path.write_text('theme = "aitop-light"\n')
    assert build_config(["x:1"], config_file=path, environ={}).theme == "aitop-light"
    assert build_config(["x:1"], config_file=path, environ={}, theme="aitop-okabe-ito").theme == "aitop-okabe-ito"
