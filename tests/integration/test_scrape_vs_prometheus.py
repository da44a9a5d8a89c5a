"""`aitop snapshot` on a raw /metrics endpoint agrees with real PromQL (why and how: docs/architecture.md).

An independent prometheus_client exporter (conftest.LinearCollector) serves counters and
histograms that grow linearly with wall-clock time at known slopes. aitop scrapes it twice
(`--window 8s`); a real Prometheus 2.x and a real VictoriaMetrics scrape it every second and
answer `rate()` / `histogram_quantile()` over 5 s. All three must agree to 0.1 %, and all must
equal the values computed by hand from the slope tables.

The servers receive each sample's exact timestamp (aitop gets the plain page, as from vLLM), so
their answers are exact to ~1e-8. aitop dates its samples itself, as Prometheus does: on a loaded
machine the instant a page is computed and the instant aitop's clock reads differ by a few ms, which
over the 8 s window shifts a rate by up to ~1e-3. So the exporter notes when it computed each page
aitop got, and the comparison takes aitop's own sample times (its `window_seconds`) into account:
the math must then agree to 2e-4, and the dating itself must be within 0.5 % (40 ms over 8 s).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from datetime import datetime

import pytest

from aitop.model import FIELD_NAMES

pytestmark = pytest.mark.integration

# PromQL range: 5 samples at the 1 s scrape interval. With exact sample timestamps on linear data a rate
# is exact over any full window, so a longer one only lengthens the servers' warm-up (HISTORY_S).
WINDOW = "5s"
WINDOW_S = 5
HISTORY_S = 7.0  # samples a server must hold before [5s] rates are exact (no partial window, 2 s spare)
REL = 1e-3
#: Rows' fields that are per-second rates: they scale with the window aitop measured, unlike ratios,
#: quantiles and gauges.
RATE_FIELDS = ("request_rate", "input_tokens_rate", "output_tokens_rate")
#: How far aitop's measured window may differ from the time between the pages it read.
DATING_REL = 5e-3
# aitop's two scrapes are this far apart. A scrape is dated to within a few ms (scheduling on a loaded
# 2-core machine); over 8 s that stays well under the 1e-3 tolerance (over 3 s it did not, once in 3 runs).
AITOP_WINDOW = "8s"
AITOP_WINDOW_S = 8.0

EXPECTED_ROWS = {
    ("vllm", "llama-3.1-8b"),
    ("vllm", "qwen2.5-72b"),
    ("llm", "gpt-4o"),
    ("llm", "claude-3.5-sonnet"),
}

_Q = {"p50": "0.5", "p95": "0.95", "p99": "0.99"}


# Only the known-answer exporter's series: the session's Prometheus also scrapes the schema fixture pages
# (job aitop-fixtures, test_system_schemas.py), whose vllm and llm rows are not in these tables.
J = 'job="aitop-exporter"'


def _vllm_queries() -> dict[str, str]:
    w = WINDOW
    total = f"sum by (model_name) (rate(vllm:request_success_total{{{J}}}[{w}]))"
    errors = (f'sum by (model_name) (rate(vllm:request_success_total{{finished_reason=~"abort|error",{J}}}[{w}]))')
    q = {
        "request_rate": total,
        "error_rate": f"{errors} / {total}",
        "input_tokens_rate": f"sum by (model_name) (rate(vllm:prompt_tokens_total{{{J}}}[{w}]))",
        "output_tokens_rate": f"sum by (model_name) (rate(vllm:generation_tokens_total{{{J}}}[{w}]))",
        "running": f"sum by (model_name) (vllm:num_requests_running{{{J}}})",
        "waiting": f"sum by (model_name) (vllm:num_requests_waiting{{{J}}})",
    }
    for name, qv in _Q.items():
        q[f"latency_{name}"] = (f"histogram_quantile({qv}, sum by (le, model_name) "
                                f"(rate(vllm:e2e_request_latency_seconds_bucket{{{J}}}[{w}])))")
        q[f"ttft_{name}"] = (f"histogram_quantile({qv}, sum by (le, model_name) "
                             f"(rate(vllm:time_to_first_token_seconds_bucket{{{J}}}[{w}])))")
    return q


def _llm_queries() -> dict[str, str]:
    w = WINDOW
    total = f"sum by (model) (rate(llm_requests_total{{{J}}}[{w}]))"
    errors = f'sum by (model) (rate(llm_requests_total{{status!="success",{J}}}[{w}]))'
    q = {
        "request_rate": total,
        "error_rate": f"{errors} / {total}",
        "input_tokens_rate": f"sum by (model) (rate(llm_input_tokens_total{{{J}}}[{w}]))",
        "output_tokens_rate": f"sum by (model) (rate(llm_output_tokens_total{{{J}}}[{w}]))",
    }
    for name, qv in _Q.items():
        q[f"latency_{name}"] = (f"histogram_quantile({qv}, sum by (le, model) "
                                f"(rate(llm_request_latency_seconds_bucket{{{J}}}[{w}])))")
    return q


#: schema -> (group label, {json field: PromQL})
QUERIES = {"vllm": ("model_name", _vllm_queries()), "llm": ("model", _llm_queries())}

#: Fields aitop must report as null (unknown) for the llm_* schema: it has no such metrics.
LLM_ABSENT = ("ttft_p50", "ttft_p95", "ttft_p99", "running", "waiting")


#: One counter of the exporter: its samples' timestamps are every series' (one page, one timestamp).
COVERAGE_SERIES = f'llm_requests_total{{model="gpt-4o",status="success",{J}}}'


def coverage(known, base_url: str, server: str, at: float) -> float:
    """The share of the window Prometheus's `rate()` covers at `at`, from the samples it actually holds.

    Prometheus extrapolates a rate to the window's edges only from a sample within 1.1 average scrape
    intervals of the edge, else half an interval: when a loaded machine delays or skips a scrape near an
    edge, every rate of a linear counter is its slope times this (< 1), however exact the timestamps.
    (It also stops at the counter's zero, which lies further back than the window: the counters have
    counted since the exporter started, HISTORY_S and more ago.) Ratios and quantiles are unaffected: all
    series share the timestamps. VictoriaMetrics' rate runs from the sample before the window: 1.0."""
    if server != "prometheus":
        return 1.0
    (series,) = known._query(base_url, f"{COVERAGE_SERIES}[{WINDOW}]", at)["result"]
    stamps = [float(t) for t, _ in series["values"]]
    sampled = stamps[-1] - stamps[0]
    step = sampled / (len(stamps) - 1)
    covered = sampled
    for gap in (stamps[0] - (at - WINDOW_S), at - stamps[-1]):
        covered += gap if gap < step * 1.1 else step / 2
    return covered / WINDOW_S


def as_scraped(rows: dict, scale: float) -> dict:
    """`rows` (aitop's JSON rows, or a server's) with their rates divided by `scale`: the slopes they show."""
    return {key: {f: (v / scale if f in RATE_FIELDS and isinstance(v, (int, float)) else v) for f, v in row.items()}
            for key, row in rows.items()}


def server_rows(known, base_url: str, server: str, at: float | None = None) -> dict[tuple[str, str], dict[str, float]]:
    """Every field of every row, as the server's PromQL computes it (all at one instant, `at` or now), with
    its rates divided by the window's `coverage`: the known slopes, on a machine that scraped late or not."""
    at = time.time() if at is None else at
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for schema, (label, queries) in QUERIES.items():
        for field, query in queries.items():
            for group, value in known.promql_by(base_url, query, label, at=at).items():
                rows.setdefault((schema, group), {})[field] = value
    return as_scraped(rows, coverage(known, base_url, server, at))


def evaluated_at(snapshot: dict) -> float:
    """The instant (server time) aitop's Prometheus-mode queries were evaluated at (ms, as it sent it)."""
    return datetime.fromisoformat(snapshot["evaluated_at"].replace("Z", "+00:00")).timestamp()


def assert_rows_close(actual, expected, what: str, rel: float = REL) -> None:
    """Every field of `expected` present in `actual` and equal to `rel`; one message for all."""
    assert set(actual) == set(expected), f"{what}: rows {sorted(actual)} != {sorted(expected)}"
    bad = []
    for key, fields in expected.items():
        for field, want in fields.items():
            got = actual[key].get(field)
            if got is None or not isinstance(got, (int, float)) or got != pytest.approx(want, rel=rel):
                error = (abs(got - want) / abs(want)) if isinstance(got, (int, float)) and want else None
                bad.append(f"  {key[0]}/{key[1]} {field}: got {got!r}, want {want!r}"
                           + (f" (rel err {error:.2e})" if error is not None else ""))
    assert not bad, f"{what}: {len(bad)} value(s) differ by more than {rel:.0e}:\n" + "\n".join(bad)


def as_aitop_saw_it(reference: dict, scale: float) -> dict:
    """`reference` with its rates scaled by (time between aitop's pages) / (the window aitop measured)."""
    return {key: {f: (v * scale if f in RATE_FIELDS and v is not None else v) for f, v in fields.items()}
            for key, fields in reference.items()}


# ---------------------------------------------------------------------------------------------
# The fixture data itself: a test that cannot fail is a defect, and so is an oracle that is
# wrong in a way that hides aitop bugs (quantile exactly on a bucket edge, identical engines).
# ---------------------------------------------------------------------------------------------


def test_known_answer_data_is_discriminating(known) -> None:
    edges_of = {"e2e": known.VLLM_E2E_EDGES, "ttft": known.VLLM_TTFT_EDGES}
    for e in known.VLLM_ENGINES:
        total = sum(e.finished.values())
        assert sum(e.e2e) == pytest.approx(total), f"{e}: e2e count rate != request rate"
        assert sum(e.ttft) == pytest.approx(total), f"{e}: ttft count rate != request rate"
    hists = []
    for model in {e.model for e in known.VLLM_ENGINES}:
        engines = [e for e in known.VLLM_ENGINES if e.model == model]
        for kind in ("e2e", "ttft"):
            hists.append((f"{model} {kind}", edges_of[kind],
                          [sum(c) for c in zip(*(getattr(e, kind) for e in engines))]))
    hists += [(f"{m.model} latency", known.LLM_LATENCY_EDGES, m.latency) for m in known.LLM_MODELS]
    for name, edges, rates in hists:
        for q in (0.5, 0.95, 0.99):
            lo, hi = known.quantile_bucket(q, edges, rates)
            assert hi != math.inf, f"{name} q{q} falls in +Inf"
            v = known.bucket_quantile(q, edges, rates)
            margin = 0.05 * (hi - lo)
            assert lo + margin < v < hi - margin, f"{name} q{q}={v} too close to bucket ({lo}, {hi}]"

    # llama's two engines differ, so only merging bucket increases gives the model's quantiles,
    # and only summing error counts gives its error ratio.
    e0, e1 = (e for e in known.VLLM_ENGINES if e.model == "llama-3.1-8b")
    want = known.expected_rows()[("vllm", "llama-3.1-8b")]
    for name, q in known.QUANTILES.items():
        per_engine = [known.bucket_quantile(q, known.VLLM_E2E_EDGES, e.e2e) for e in (e0, e1)]
        assert per_engine[0] != pytest.approx(per_engine[1], rel=0.01)
        assert sum(per_engine) / 2 != pytest.approx(want[f"latency_{name}"], rel=0.01)
        assert max(per_engine) != pytest.approx(want[f"latency_{name}"], rel=0.01)
    ratios = [sum(e.finished[r] for r in ("abort", "error")) / sum(e.finished.values()) for e in (e0, e1)]
    assert sum(ratios) / 2 != pytest.approx(want["error_rate"], rel=0.01)
    assert want["error_rate"] == pytest.approx(0.03)
    assert known.expected_rows()[("vllm", "qwen2.5-72b")]["error_rate"] == pytest.approx(0.10)


# ---------------------------------------------------------------------------------------------
# Processes: both servers start together; aitop's 8 s snapshot runs during their warm-up, once both
# have started (it needs only the exporter, which VictoriaMetrics has scraped by then, so its page is warm).
# ---------------------------------------------------------------------------------------------

SERVERS = ["prometheus", "victoria_metrics"]


@pytest.fixture(scope="module")
def aitop_process(exporter):
    """`python -m aitop snapshot <exporter /metrics> --format json --window 8s`, started, not awaited."""
    argv = [sys.executable, "-m", "aitop", "snapshot", exporter.url, "--format", "json",
            "--window", AITOP_WINDOW]
    started = time.time()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        yield argv, proc, started
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.fixture(scope="module")
def warm_servers(request, known, prometheus_launched, victoria_metrics_launched) -> dict[str, str]:
    """{server name: base URL}, each server holding >= HISTORY_S of exporter samples."""
    # Both processes are launched before either is waited for, so their start-ups overlap. The warm-up ends
    # HISTORY_S after Prometheus's first scrape, which its target discovery delays ~5 s after the launch.
    # aitop's run (~9 s) starts once both servers are up, so their start-up bursts of CPU are over (a short
    # rate is sensitive to ms of scheduling noise), and ends within that warm-up: no time is wasted.
    victoria_metrics = request.getfixturevalue("victoria_metrics")  # up and scraping: ~1-2 s
    prometheus_launched.wait_healthy("/-/ready")  # serving; its first scrape comes a few seconds later
    request.getfixturevalue("aitop_process")
    servers = {"prometheus": request.getfixturevalue("prometheus"), "victoria_metrics": victoria_metrics}
    for base in servers.values():
        known.wait_for_history(base, HISTORY_S)
    return servers


@pytest.fixture(scope="module")
def aitop_snapshot(aitop_process) -> dict:
    """The parsed JSON snapshot; fails with aitop's stderr when it did not produce one."""
    argv, proc, _ = aitop_process
    try:
        stdout, stderr = proc.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        pytest.fail(f"{' '.join(argv[1:])} still running after 40 s\n--- stderr ---\n{stderr[-3000:]}")
    assert proc.returncode == 0, (f"{' '.join(argv[1:])} exited {proc.returncode}\n"
                                  f"--- stderr ---\n{stderr[-3000:]}\n--- stdout ---\n{stdout[-2000:]}")
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"stdout is not JSON ({exc}):\n{stdout[:2000]}\n--- stderr ---\n{stderr[-2000:]}")


# ---------------------------------------------------------------------------------------------
# The servers see exactly the known slopes (validates exporter + fixtures + PromQL):
# "prometheus sees the exporter's known rates", and so does VictoriaMetrics.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_server_sees_the_exporters_known_rates(known, warm_servers, server) -> None:
    base = warm_servers[server]
    assert_rows_close(server_rows(known, base, server), known.expected_rows(), f"{server} vs hand-computed")


# ---------------------------------------------------------------------------------------------
# aitop.
# ---------------------------------------------------------------------------------------------


def aitop_rows(snapshot: dict) -> dict[tuple[str, str], dict]:
    rows = {}
    for row in snapshot["rows"]:
        key = (row["schema"], row["group"])
        assert key not in rows, f"duplicate row {key}"
        rows[key] = row
    return rows


def _comparable(rows: dict, reference: dict) -> dict:
    """aitop rows restricted to the fields the reference has (so a missing field shows as None)."""
    return {k: {f: rows[k].get(f) for f in reference.get(k, {})} for k in rows}


def known_only(rows: dict) -> dict:
    """The rows of the known-answer exporter. A server also holds the fixture pages' rows (their own test
    checks them): their schemas differ, or their groups do (no fixture reuses these model names)."""
    return {key: row for key, row in rows.items() if key in EXPECTED_ROWS}


def test_snapshot_shape(aitop_snapshot, exporter) -> None:
    snap = aitop_snapshot
    assert snap["source"]["kind"] == "scrape"
    assert snap["source"]["targets"] == [exporter.url]
    assert [t["up"] for t in snap["targets"]] == [True], snap["targets"]
    rows = aitop_rows(snap)
    assert set(rows) == EXPECTED_ROWS
    groups = {k: r.get("group_label") for k, r in rows.items()}
    assert groups == {k: ("model_name" if k[0] == "vllm" else "model") for k in EXPECTED_ROWS}
    for key in [k for k in rows if k[0] == "llm"]:
        absent = {f: rows[key].get(f, "<missing>") for f in LLM_ABSENT}
        assert absent == dict.fromkeys(LLM_ABSENT), f"{key}: unknown fields must be null, got {absent}"


@pytest.fixture(scope="module")
def dating_scale(aitop_process, aitop_snapshot, exporter) -> float:
    """(time between the first and last page aitop read, as the exporter computed them) / (aitop's window).

    1.0 for perfect dating; aitop's rates equal the true slopes times this."""
    _, _, started = aitop_process
    renders = [t for t in exporter.aitop_renders() if t >= started]
    assert len(renders) >= 2, f"the exporter served aitop {len(renders)} page(s) since it started"
    window = aitop_snapshot["window_seconds"]
    scale = (renders[-1] - renders[0]) / window
    assert scale == pytest.approx(1.0, abs=DATING_REL), (
        f"aitop measured a {window} s window between pages computed {renders[-1] - renders[0]:.4f} s apart")
    return scale


def test_snapshot_matches_hand_computed(known, aitop_snapshot, dating_scale) -> None:
    expected = as_aitop_saw_it(known.expected_rows(), dating_scale)
    rows = aitop_rows(aitop_snapshot)
    assert_rows_close(_comparable(rows, expected), expected, "aitop vs hand-computed", rel=2e-4)


@pytest.mark.parametrize("server", SERVERS)
def test_snapshot_matches_server(known, aitop_snapshot, warm_servers, server, dating_scale) -> None:
    """THE acceptance test: aitop's numbers == rate()/histogram_quantile() of a real server, on the same
    data: the server's rates over exact sample times, scaled to the sample times aitop measured."""
    reference = server_rows(known, warm_servers[server], server)
    assert set(reference) == EXPECTED_ROWS
    rows = aitop_rows(aitop_snapshot)
    assert_rows_close(_comparable(rows, reference), as_aitop_saw_it(reference, dating_scale), f"aitop vs {server}",
                      rel=2e-4)


# ---------------------------------------------------------------------------------------------
# Prometheus mode: aitop pointed at the server itself (kind auto-detected) must give the same
# numbers as the server's own PromQL and the same rows as scrape mode on the same exporter.
# ---------------------------------------------------------------------------------------------


#: VictoriaMetrics' API under the /prometheus prefix Mimir uses too (test_a_path_prefix_is_kept).
PREFIXED = "victoria_metrics/prometheus"


@pytest.fixture(scope="module")
def prometheus_mode_runs(warm_servers) -> dict[str, tuple[str, list[str], int, str, str]]:
    """{server or PREFIXED: (base URL, argv, exit code, stdout, stderr)} of
    `aitop snapshot <base URL> --format json --window 5s`.

    The three runs go side by side: each is mostly Python start-up, and they ask different servers (or
    paths) about data that holds still (exact rates of linear counters), so their order does not matter."""
    bases = {**warm_servers, PREFIXED: warm_servers["victoria_metrics"] + "/prometheus"}
    procs = {}
    for name, base in bases.items():
        argv = [sys.executable, "-m", "aitop", "snapshot", base, "--format", "json", "--window", WINDOW]
        procs[name] = (base, argv, subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE, text=True))
    runs = {}
    try:
        for name, (base, argv, proc) in procs.items():
            stdout, stderr = proc.communicate(timeout=60)
            runs[name] = (base, argv, proc.returncode, stdout, stderr)
    finally:
        for _, _, proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return runs


@pytest.fixture(scope="module")
def prometheus_mode(prometheus_mode_runs, warm_servers) -> dict[str, dict]:
    """{server: `aitop snapshot <server base URL> --format json --window 5s`}."""
    snapshots = {}
    for server in warm_servers:
        _, argv, code, stdout, stderr = prometheus_mode_runs[server]
        assert code == 0, f"{' '.join(argv[1:])} exited {code}\n{stderr[-3000:]}"
        snapshots[server] = json.loads(stdout)
    return snapshots


@pytest.mark.parametrize("server", SERVERS)
def test_prometheus_mode_matches_the_servers_promql(known, prometheus_mode, warm_servers, server) -> None:
    snap = prometheus_mode[server]
    assert snap["source"]["kind"] == "prometheus" and snap["targets"][0]["up"], snap["targets"]
    assert snap["window_seconds"] == WINDOW_S
    if server == "victoria_metrics":
        assert sorted(snap["schemas"]) == ["llm", "vllm"]
    else:  # the session's Prometheus also scrapes every schema fixture page
        assert {"llm", "vllm"} <= set(snap["schemas"])
    # The server's PromQL at the very instant aitop asked, and the rates of both as slopes (coverage).
    at = evaluated_at(snap)
    rows = as_scraped(known_only(aitop_rows(snap)), coverage(known, warm_servers[server], server, at))
    reference = server_rows(known, warm_servers[server], server, at)
    assert_rows_close(_comparable(rows, reference), reference, f"aitop on {server} vs its own PromQL")
    expected = known.expected_rows()
    assert_rows_close(_comparable(rows, expected), expected, f"aitop on {server} vs hand-computed")


def test_prometheus_mode_has_the_rows_of_scrape_mode(known, prometheus_mode, aitop_snapshot, dating_scale,
                                                     warm_servers) -> None:
    scrape = aitop_rows(aitop_snapshot)
    expected = known.expected_rows()
    # Scrape mode's rates carry its own dating error (a loaded machine dates a scrape a few ms late: 8 ms
    # over 8 s is 1e-3): compared as the server would see them, i.e. with the measured scale taken out.
    scrape_values = as_aitop_saw_it({key: {f: scrape[key][f] for f in fields} for key, fields in expected.items()},
                                    1 / dating_scale)
    for server, snap in prometheus_mode.items():
        # Prometheus's rates as slopes: divided by the share of the window its samples covered (coverage).
        rows = as_scraped(known_only(aitop_rows(snap)), coverage(known, warm_servers[server], server,
                                                                 evaluated_at(snap)))
        assert_rows_close(_comparable(rows, scrape_values), scrape_values, f"aitop on {server} vs aitop scrape mode")
        for key, row in rows.items():  # and the same fields are unknown, for the same reason
            # the contract's row fields; drift needs bucket distributions, which only scrape mode holds
            unknown = {f: r for f, r in row["missing"].items() if f in FIELD_NAMES}
            theirs = {f: r for f, r in scrape[key]["missing"].items() if f in FIELD_NAMES}
            assert unknown == theirs, f"{server} {key}: {unknown} != {theirs}"


def test_a_path_prefix_is_kept(known, prometheus_mode_runs) -> None:
    """Mimir and VictoriaMetrics serve the API under /prometheus: the base URL keeps its prefix."""
    base, _, code, stdout, stderr = prometheus_mode_runs[PREFIXED]
    assert code == 0, stderr[-2000:]
    snap = json.loads(stdout)
    assert snap["source"] == {"kind": "prometheus", "targets": [base], "tls_verified": True}
    expected = known.expected_rows()
    assert_rows_close(_comparable(aitop_rows(snap), expected), expected, "aitop on VictoriaMetrics /prometheus")
