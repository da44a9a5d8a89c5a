"""SLOs (README) against a real Prometheus with days of history written in first (promtool backfill), and
the rules `aitop slo rules` writes checked and unit-tested by the real `promtool`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prod_servers import backfill  # noqa: E402

pytestmark = pytest.mark.integration

HISTORY_S = 7 * 3600.0  # the 1h/5m and 6h/30m page pairs are all covered
STEP_S = 60.0
#: model -> (requests per second, share failing)
FLEET = {"chat-9pct": (10.0, 0.09), "steady": (10.0, 0.0)}

SLO_CONFIG = """
[[slo]]
name = "availability"
objective = 99.9

# The built-in error-rate rules would say CRITICAL by themselves: off, so the verdict is the SLO's alone.
[[rules]]
name = "error_rate_critical"
enabled = false

[[rules]]
name = "error_rate_warning"
enabled = false
"""


def _history(models: dict[str, tuple[float, float]]) -> str:
    """OpenMetrics of an `llm_*` app: `llm_requests_total` by model and status, one sample a minute."""
    now = round(time.time() - 0.5, 3)
    times = [round(now - i * STEP_S, 3) for i in range(int(HISTORY_S // STEP_S), -1, -1)]
    lines = ["# TYPE llm_requests counter"]
    for model, (rate, failing) in models.items():
        for status, share in (("success", 1 - failing), ("error", failing)):
            for t in times:
                n = (t - times[0]) * rate * share
                lines.append(f'llm_requests_total{{job="app",instance="app:8000",model="{model}",'
                             f'status="{status}"}} {n:.3f} {t:.3f}')
    # chat-9pct's latency: half its requests within 1 s, 96 % within 2 s, all within 4 s
    lines.append("# TYPE llm_request_latency_seconds histogram")
    rate = models["chat-9pct"][0] if "chat-9pct" in models else 0.0
    for le, share in (("1.0", 0.5), ("2.0", 0.96), ("4.0", 1.0), ("+Inf", 1.0)):
        for t in times:
            lines.append(f'llm_request_latency_seconds_bucket{{job="app",instance="app:8000",model="chat-9pct",'
                         f'le="{le}"}} {(t - times[0]) * rate * share:.3f} {t:.3f}')
    return "\n".join(lines) + "\n# EOF\n"


def _prometheus(known, tmp: Path, models) -> object:
    binary, promtool = known.require_binary("prometheus"), known.require_binary("promtool")
    backfill(promtool, _history(models), tmp / "data")
    config = tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 60s\nscrape_configs: []\n")
    port = known.free_port()
    server = known._Server("prometheus", [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
                                          f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                           tmp / "prometheus.log", f"http://127.0.0.1:{port}")
    server.wait_healthy("/-/ready")
    return server


@pytest.fixture(scope="module")
def slo_prom(known, tmp_path_factory):
    """A Prometheus holding 7 h of a fleet where one model fails 9 % of its requests."""
    server = _prometheus(known, tmp_path_factory.mktemp("slo-prom"), FLEET)
    try:
        yield server.base_url
    finally:
        server.stop()


def _aitop(*args: str, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aitop", *args, "--config", str(config)], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_check_slo_pages_on_a_9pct_error_rate_and_names_the_model(slo_prom, tmp_path):
    config = tmp_path / "aitop.toml"
    config.write_text(SLO_CONFIG)
    without = _aitop("check", slo_prom, config=config)
    assert without.returncode == 0, without.stdout + without.stderr  # the rules alone see nothing wrong
    done = _aitop("check", slo_prom, "--slo", config=config)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.startswith("AITOP CRITICAL: 1 critical — llm/chat-9pct: SLO availability (99.9% availability)")
    line = next(line for line in done.stdout.splitlines() if "[slo:availability]" in line)
    # 9 % failing against a 0.1 % budget: 90× the sustainable burn, over every window
    assert line.startswith("CRITICAL llm/chat-9pct [slo:availability]: SLO availability (99.9% availability) "
                           "burning its error budget 90.0× over 1h and 90.0× over 5m (> 14.4: page)")
    assert "steady" not in done.stdout


def test_check_slo_judges_a_latency_slo_from_the_histogram_buckets(slo_prom, tmp_path):
    config = tmp_path / "aitop.toml"
    config.write_text('[[slo]]\nname = "fast"\nobjective = 99\nkind = "latency"\nthreshold = "2s"\n'
                      + SLO_CONFIG.split("# The built-in")[1].split("\n", 1)[1])
    done = _aitop("check", slo_prom, "--slo", config=config)
    # 4 % slower than 2 s against a 1 % budget: 4× — above both ticket factors, under both page ones
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = [line for line in done.stdout.splitlines() if "[slo:fast]" in line]
    assert line.startswith("WARNING llm/chat-9pct [slo:fast]: SLO fast (99% latency) burning its error budget "
                           "4.0× over 1d and 4.0× over 2h (> 3: ticket)")


def test_check_slo_json_reports_the_burn_rate(slo_prom, tmp_path):
    config = tmp_path / "aitop.toml"
    config.write_text(SLO_CONFIG)
    done = _aitop("check", slo_prom, "--slo", "--format", "json", config=config)
    import json

    report = json.loads(done.stdout)
    assert report["exit_code"] == 2
    slo = [a for a in report["alerts"] if a["rule"] == "slo:availability"]
    assert [(a["group"], a["status"], a["field"], a["threshold"]) for a in slo] == \
        [("chat-9pct", "CRITICAL", "burn_rate", 14.4)]
    assert slo[0]["value"] == pytest.approx(90.0, rel=1e-3)


RULES_TEST = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'llm_requests_total{model="chat",status="success"}'
        values: '0+910x200'
      - series: 'llm_requests_total{model="chat",status="error"}'
        values: '0+90x200'
      - series: 'llm_requests_total{model="fine",status="success"}'
        values: '0+1000x200'
    promql_expr_test:
      - expr: aitop:slo_bad:ratio_rate5m{model="chat"}
        eval_time: 30m
        exp_samples:
          - labels: 'aitop:slo_bad:ratio_rate5m{model="chat",schema="llm",slo="availability"}'
            value: 0.09
      - expr: aitop:slo_bad:ratio_rate1h{model="fine"}
        eval_time: 90m
        exp_samples:
          - labels: 'aitop:slo_bad:ratio_rate1h{model="fine",schema="llm",slo="availability"}'
            value: 0
    alert_rule_test:
      - eval_time: 1m
        alertname: AitopSLOBurnRate
        exp_alerts: []
      - eval_time: 10m
        alertname: AitopSLOBurnRate
        exp_alerts:
          - exp_labels: {severity: critical, tier: page, slo: availability, schema: llm, model: chat}
            exp_annotations:
              summary: "SLO availability (99.9% availability) burning its error budget on llm/chat: page"
      - eval_time: 90m
        alertname: AitopSLOBurnRate
        exp_alerts:
          - exp_labels: {severity: critical, tier: page, slo: availability, schema: llm, model: chat}
            exp_annotations:
              summary: "SLO availability (99.9% availability) burning its error budget on llm/chat: page"
          - exp_labels: {severity: warning, tier: ticket, slo: availability, schema: llm, model: chat}
            exp_annotations:
              summary: "SLO availability (99.9% availability) burning its error budget on llm/chat: ticket"
"""


def test_slo_rules_pass_promtool_check_and_a_burn_rate_scenario(known, tmp_path):
    promtool = known.require_binary("promtool")
    config = tmp_path / "aitop.toml"
    config.write_text('[[slo]]\nname = "availability"\nschema = "llm"\nobjective = 99.9\n\n'
                      '[[slo]]\nname = "fast"\nschema = "llm"\nobjective = 99\nkind = "latency"\nthreshold = "2s"\n')
    written = _aitop("slo", "rules", config=config)
    assert written.returncode == 0, written.stderr
    (tmp_path / "rules.yml").write_text(written.stdout)
    checked = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    (tmp_path / "test.yml").write_text(RULES_TEST)
    tested = subprocess.run([promtool, "test", "rules", "test.yml"], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _sloth_pyrra_rules() -> str:
    """Recording rules as Sloth and Pyrra generate them (their documented names and labels) for the 9 % model."""
    bad = 'llm_requests_total{model="chat-9pct",status="error"}'
    every = 'llm_requests_total{model="chat-9pct"}'
    rules = []
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
        ratio = f"sum(rate({bad}[{window}])) / sum(rate({every}[{window}]))"
        rules.append(f"      - record: slo:sli_error:ratio_rate{window}\n        expr: '{ratio}'\n        labels:\n"
                     f"          sloth_service: chat\n          sloth_slo: requests-availability\n"
                     f"          sloth_window: {window}\n")
        rules.append(f"      - record: llm_requests:burnrate{window}\n        expr: '{ratio}'\n        labels:\n"
                     f"          slo: chat-errors\n")
    rules.append("      - record: slo:objective:ratio\n        expr: vector(0.999)\n        labels:\n"
                 "          sloth_service: chat\n          sloth_slo: requests-availability\n")
    rules.append("      - record: pyrra_objective\n        expr: vector(0.99)\n        labels:\n"
                 "          slo: chat-errors\n")
    return "groups:\n  - name: slos\n    interval: 1s\n    rules:\n" + "".join(rules)


def test_check_slo_reads_the_sloth_and_pyrra_rules_a_server_records(known, tmp_path):
    import httpx

    binary, promtool = known.require_binary("prometheus"), known.require_binary("promtool")
    backfill(promtool, _history(FLEET), tmp_path / "data")
    (tmp_path / "slos.yml").write_text(_sloth_pyrra_rules())
    (tmp_path / "prometheus.yml").write_text("global:\n  scrape_interval: 60s\n  evaluation_interval: 1s\n"
                                             "rule_files: [slos.yml]\nscrape_configs: []\n")
    port = known.free_port()
    server = known._Server("prometheus", [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
                                          f"--storage.tsdb.path={tmp_path / 'data'}",
                                          f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                           tmp_path / "prometheus.log", f"http://127.0.0.1:{port}")
    try:
        server.wait_healthy("/-/ready")
        deadline = time.monotonic() + 30
        server.wait_until("the SLO rules evaluated", lambda: len(httpx.get(
            server.base_url + "/api/v1/query", params={"query": "pyrra_objective or slo:objective:ratio"},
            timeout=2).json()["data"]["result"]) == 2, deadline)
        config = tmp_path / "aitop.toml"
        config.write_text(SLO_CONFIG.split("# The built-in")[1].split("\n", 1)[1])  # the rules off, no [[slo]]
        done = _aitop("check", server.base_url, "--slo", config=config)
    finally:
        server.stop()
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()[1:]
    assert len(lines) == 2, done.stdout
    assert lines[0].startswith("CRITICAL pyrra/chat-errors [pyrra:chat-errors]: SLO chat-errors (99% availability)"
                               " burning its error budget 9.0× over 6h and 9.0× over 30m (> 6: page)")
    assert lines[1].startswith("CRITICAL sloth/chat [sloth:requests-availability]: SLO requests-availability "
                               "(99.9% availability) burning its error budget 90.0× over 1h and 90.0× over 5m "
                               "(> 14.4: page)")


async def test_slo_view_colours_the_burning_pairs(slo_prom):
    from aitop.monitor import Monitor
    from aitop.ops_config import OpsSettings, attach
    from aitop.slo.spec import SLO
    from aitop.sources.prometheus.collector import PrometheusCollector
    from aitop.ui.app import AitopApp
    from aitop.ui.slo_view import SloScreen

    monitor = Monitor(PrometheusCollector(slo_prom, window=60.0))
    attach(monitor, OpsSettings(slos=(SLO("availability", 0.999),)))
    app = AitopApp(monitor, interval=None)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.poll_once()
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, SloScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        lines = app.screen.body_text.splitlines()
    header = next(line for line in lines if line.startswith("SLO"))
    assert header.split() == ["SLO", "row", "objective", "1h/5m", "×14.4", "6h/30m", "×6", "1d/2h", "×3", "3d/6h",
                              "×1", "budget", "left", "runs", "out", "verdict"]
    burning = next(line for line in lines if "llm/chat-9pct" in line).split()
    # 9 % failing against a 0.1 % budget: 90× over every window, both page pairs and both ticket pairs
    assert burning[:4] == ["availability", "llm/chat-9pct", "99.9%", "avail"]
    assert burning[4:12] == ["90.0/90.0", "!", "90.0/90.0", "!", "90.0/90.0", "!", "90.0/90.0", "!"]
    assert burning[-1] == "page"
    steady = next(line for line in lines if "llm/steady" in line).split()
    assert steady[4:8] == ["0.0/0.0", "0.0/0.0", "0.0/0.0", "0.0/0.0"] and steady[-1] == "ok"
