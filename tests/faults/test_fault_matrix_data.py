"""Fault cases F18–F25 (tests/faults/README.md): bad *data* from working servers — hostile label values, special floats, counter
resets, targets that die and come back, mislabelled OpenMetrics, pages that crash the parser, duplicates,
broken histograms — through the real collectors over real sockets.
"""

from __future__ import annotations

import json
import logging
import time

import pytest
from kit import monitor, prometheus, scrape, screen_text, values
from server import OPENMETRICS, TEXT, Exporter, PrometheusAPI, Reply

from aitop.format import format_value
from aitop.model import Missing
from aitop.output import to_json, to_table
from aitop.sanitize import MAX_LENGTH

# -- F18 ----------------------------------------------------------------------------------------------

INVISIBLE = {
    "rtl": "evil\u202etxt.exe",
    "zwsp": "zero\u200bwidth",
    "cr": "carriage\rreturn",
    "lf": "two\nlines",
    "tab": "tab\there",
    "nul": "nul\x00byte",
    "nel": "c1\x85next-line",
    "ls": "line\u2028separator",
    "huge": "H" * 1_000_000,
}


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _check_display(groups: set[str]) -> None:
    for group in groups:
        assert len(group) <= MAX_LENGTH
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in group), repr(group[:80])
        assert not any(c in group for c in "\u202e\u200b\u2028"), repr(group[:80])


async def test_f18_invisible_and_huge_labels_scrape_mode(serve, clock):
    lines = [f'llm_requests_total{{model="{_escaped(v)}",status="success"}} {{n}}' for v in INVISIBLE.values()]
    scrapes = iter([10, 20])
    server = serve(lambda r: Reply(200, "\n".join(lines).replace("{n}", str(next(scrapes))) + "\n", TEXT))
    collector = scrape(server, clock=clock)
    await collector.collect()
    clock.advance(5)
    result = await collector.collect()
    await collector.aclose()
    assert result.targets[0].up, result.targets[0].error  # one odd label never takes the target down
    groups = {row.group for row in result.rows}
    assert len(groups) == len(INVISIBLE)
    _check_display(groups)
    assert {"evil<U+202E>txt.exe", "zero<U+200B>width", "carriage^Mreturn", "two⏎lines", "tab here", "nul^@byte",
            "c1<U+0085>next-line", "line<U+2028>separator"} <= groups  # visible placeholders
    (huge,) = [g for g in groups if g.startswith("HHH")]
    assert len(huge) == MAX_LENGTH and huge.endswith("…")  # truncated with an ellipsis
    assert all(row.value("request_rate") == 2.0 for row in result.rows)


async def test_f18_invisible_and_huge_labels_prometheus_mode(serve, clock):
    api = PrometheusAPI(dict.fromkeys(INVISIBLE.values(), 3.0))
    collector = prometheus(serve(api), clock)
    result = await collector.collect()
    await collector.aclose()
    groups = {row.group for row in result.rows}
    assert len(groups) == len(INVISIBLE)
    _check_display(groups)
    assert "nul^@byte" in groups and "two⏎lines" in groups


# -- F19 ----------------------------------------------------------------------------------------------

SPECIAL = {"finite": "5", "nan": "NaN", "pinf": "+Inf", "ninf": "-Inf", "huge": "1e+308", "negzero": "-0"}


async def test_f19_special_floats_and_integer_timestamps(serve, clock, caplog):
    from aitop.ui.view import SortOrder

    api = PrometheusAPI(dict.fromkeys(SPECIAL, 1.0))
    api.value_override = dict(SPECIAL)

    def victoria_metrics(request):  # integer timestamps, as VictoriaMetrics sends them
        answer = api.answer(request)
        body = json.loads(answer.body)
        for series in body["data"]["result"]:
            series["value"][0] = 1_700_000_000
        answer.body = json.dumps(body)
        return answer

    api.fault(lambda r: victoria_metrics(r) if r.path.endswith("/query") else None)
    mon = monitor(prometheus(serve(api), clock), clock)
    for _ in range(8):  # enough polls for baselines to start learning
        snapshot = await mon.refresh()
        assert not snapshot.stale, snapshot.error  # no exception anywhere (the monitor would show it stale)
        clock.advance(60)
    await mon.aclose()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[-2000:]
    rate = values(snapshot, "request_rate")
    assert rate["finite"] == 5.0 and rate["huge"] == 1e308 and rate["pinf"] == float("inf")
    assert rate["ninf"] == float("-inf") and rate["negzero"] == 0.0
    assert rate["nan"] is None or rate["nan"] != rate["nan"]  # NaN: unknown, never a number
    assert format_value("request_rate", rate["pinf"]) == "+Inf" and format_value("request_rate", rate["ninf"]) == "-Inf"
    assert format_value("request_rate", rate["nan"]) == "—"
    # NaN sorts last whichever way the column is sorted.
    for order in (SortOrder("request_rate"), SortOrder("request_rate").inverted()):
        assert order.rank(snapshot.rows)[-1].group == "nan"
    # Excluded from baselines: only finite values are learnt.
    baselines = mon.analyzer.baselines
    learnt = {row.group for row in snapshot.rows if baselines.view(row.key, "request_rate", clock()) is not None}
    assert {"finite", "huge", "negzero"} <= learnt and not learnt & {"nan", "pinf", "ninf"}
    # The JSON contract has no NaN/Infinity: unknown is null; the table renders without an exception.
    rows = {row["group"]: row for row in json.loads(to_json(snapshot))["rows"]}
    assert rows["nan"]["request_rate"] is None and rows["pinf"]["request_rate"] is None
    assert "+Inf" in to_table(snapshot)
    # The TUI's cells: ±Inf spelt out, NaN the unknown mark; nothing raises.
    from aitop.ui.cells import Palette, numeric_cell

    shown = {row.group: numeric_cell(row, "request_rate", Palette()).plain for row in snapshot.rows}
    assert shown["pinf"].endswith("+Inf") and shown["ninf"].endswith("-Inf") and shown["nan"] == "—"
    # Excluded from averages: the recorded history keeps them, the trend's bin means and the charts skip them.
    from aitop.ui.sparkline import sparkline
    from aitop.ui.widgets.charts import ChartSeries

    points = [(float(t), v) for t, v in enumerate([2.0, float("inf"), 2.0, float("nan"), 2.0, float("-inf"), 2.0,
                                                   None, 2.0, 2.0])]
    assert sparkline(points, end=9.0, span=100.0, width=5) == "█████"  # every bin's mean is 2.0
    assert sparkline(points[:4], end=9.0, span=100.0, width=4) == "█ █ "  # one point per cell: gaps
    assert ChartSeries("x", "request_rate", tuple(points)).known == [(t, 2.0) for t, v in points if v == 2.0]


# -- F20 ----------------------------------------------------------------------------------------------


def _page(requests: dict[str, float], created: dict[str, float]) -> str:
    lines = ["# TYPE llm_requests_total counter"]
    for model, value in requests.items():
        lines.append(f'llm_requests_total{{model="{model}",status="success"}} {value}')
    for model, stamp in created.items():
        lines.append(f'llm_requests_created{{model="{model}",status="success"}} {stamp}')
    return "\n".join(lines) + "\n"


PAGES_F20 = [
    _page({"dropped": 995, "created": 100}, {"created": 1_700_000_000}),
    _page({"dropped": 1000, "created": 120}, {"created": 1_700_000_000}),
    _page({"dropped": 5, "created": 150}, {"created": 1_700_003_600}),  # 1000 -> 5; a new _created
]


@pytest.mark.parametrize("window", [5, 10], ids=["window-after-the-reset", "window-across-the-reset"])
async def test_f20_counter_reset_and_created_change(serve, clock, window):
    pages = iter(PAGES_F20)
    collector = scrape(serve(lambda r: Reply(200, next(pages), TEXT)), clock=clock, window=window)
    await collector.collect()
    clock.advance(5)
    before = values(await collector.collect(), "request_rate")
    assert before == {"dropped": 1.0, "created": 4.0}
    clock.advance(5)
    after = values(await collector.collect(), "request_rate")
    await collector.aclose()
    assert all(rate >= 0 for rate in after.values())  # never negative
    if window == 5:
        # Counted from 0 after the reset: 5 / 5 s; the changed _created is a reset too: 150 / 5 s, not 30 / 5 s.
        assert after == {"dropped": 1.0, "created": 30.0}
    else:
        # A window that spans the reset counts both sides, as increase() does: (1000 − 995) + 5 over 10 s, and
        # (120 − 100) + 150 over 10 s — the reset is counted, neither lost nor negative.
        assert after == {"dropped": 1.0, "created": 17.0}


# -- F21 ----------------------------------------------------------------------------------------------


async def test_f21_one_of_three_targets_dies_and_returns_as_a_new_process(serve, clock):
    exporters = [Exporter([f"m{i}"], rate=10.0) for i in range(3)]
    servers = [serve(e) for e in exporters]
    collector = scrape(*servers, clock=clock, window=10)
    collector.evict_after = 30.0  # "K minutes", scaled down
    await collector.collect()
    clock.advance(5)
    healthy = await collector.collect()
    assert values(healthy, "request_rate") == {"m0": 2.0, "m1": 2.0, "m2": 2.0}

    servers[1].refuse()
    down_at = clock()
    for step in range(5):  # down for 25 s: DOWN since the first failure, its rows stale, the others live
        clock.advance(5)
        result = await collector.collect()
        target = result.targets[1]
        assert not target.up and target.error == "cannot connect: connection refused"
        assert target.down_since == down_at + 5 and target.failures == step + 1
        assert [t.up for t in result.targets] == [True, False, True]
        rows = {row.group: row for row in result.rows}
        assert rows["m1"].stale and not rows["m0"].stale and not rows["m2"].stale
        assert rows["m0"].value("request_rate") == 2.0 and rows["m2"].value("request_rate") == 2.0
    clock.advance(10)
    evicted = await collector.collect()  # unseen for K: its series are forgotten
    assert {row.group for row in evicted.rows} == {"m0", "m2"}

    exporters[1].reset()  # a new process: its counters start again from ~0
    servers[1].listen()
    clock.advance(5)
    back = await collector.collect()
    assert back.targets[1].up and back.targets[1].down_since is None
    clock.advance(5)
    rates = values(await collector.collect(), "request_rate")
    await collector.aclose()
    assert rates == pytest.approx({"m0": 2.0, "m1": 2.0, "m2": 2.0})  # the rate restarts cleanly


async def test_f21_the_screen_names_the_target_down_and_since_when(serve, clock):
    from rich.style import Style

    from aitop.monitor import Monitor
    from aitop.ui.app import AitopApp
    from aitop.ui.widgets import TopTable

    servers = [serve(Exporter([f"m{i}"], rate=10.0)) for i in range(3)]
    collector = scrape(*servers, clock=clock, window=10)
    app = AitopApp(Monitor(collector, clock=clock), interval=None, clock=clock)
    async with app.run_test(size=(200, 30)) as pilot:
        await app.poll_once()
        clock.advance(5)
        await app.poll_once()
        servers[1].refuse()
        for _ in range(3):
            clock.advance(5)
            await app.poll_once()
        await pilot.pause()
        down_at = collector._health[collector.urls[1]].down_since
        assert down_at == clock() - 10  # its first failed scrape
        since = time.strftime("%H:%M:%S", time.localtime(down_at))
        text = screen_text(app)
        assert "✗ 2/3 up" in text
        assert f"✗ 127.0.0.1:{servers[1].port} DOWN since {since}: cannot connect: connection refused" in text
        table = app.query_one(TopTable)
        dim = {}
        for key in table.rows:
            model = table.get_row(key)[0]
            style = Style.parse(model.style) if isinstance(model.style, str) else model.style
            dim[model.value] = bool(style.italic)  # faded: muted and italic (dim would read about 2:1)
        assert dim == {"m0": False, "m1": True, "m2": False}  # its row stale (faded), the others live


async def test_f21_a_brief_outage_restarts_the_rate_through_reset_detection(serve, clock):
    exporter = Exporter(["m"], rate=10.0)
    server = serve(exporter)
    collector = scrape(server, clock=clock, window=10)
    await collector.collect()
    clock.advance(5)
    await collector.collect()
    server.refuse()
    clock.advance(5)
    await collector.collect()
    exporter.reset()
    server.listen()
    clock.advance(5)
    rate = values(await collector.collect(), "request_rate")["m"]
    await collector.aclose()
    assert rate is not None and rate >= 0  # never negative across the restart


# -- F22 ----------------------------------------------------------------------------------------------

OPENMETRICS_PAGE = """# TYPE llm_requests counter
llm_requests_total{{model="om",status="success"}} {n} # {{trace_id="abc123"}} 1.0 1700000000.5
llm_requests_created{{model="om",status="success"}} 1700000000.25
# TYPE llm_request_latency_seconds histogram
llm_request_latency_seconds_bucket{{le="0.5",model="om"}} {half} # {{trace_id="def"}} 0.2 1700000000.75
llm_request_latency_seconds_bucket{{le="+Inf",model="om"}} {n}
llm_request_latency_seconds_count{{model="om"}} {n}
llm_request_latency_seconds_sum{{model="om"}} {half}
# EOF
"""


@pytest.mark.parametrize("served_as", ["openmetrics", "text/plain"])
async def test_f22_openmetrics_with_exemplars_and_float_timestamps(serve, clock, served_as):
    counts = iter([10, 20])
    headers = OPENMETRICS if served_as == "openmetrics" else TEXT

    def app(request):
        n = next(counts)
        return Reply(200, OPENMETRICS_PAGE.format(n=n, half=n // 2), headers)

    clock.now = 1_800_000_000.0  # wall time in 2027: nothing may come out dated 1970
    collector = scrape(serve(app), clock=clock, window=5)
    await collector.collect()
    clock.advance(5)
    result = await collector.collect()
    await collector.aclose()
    (row,) = result.rows
    assert row.value("request_rate") == 2.0 and row.value("latency_p50") == 0.5
    assert result.taken_at == 1_800_000_005.0 and result.targets[0].last_success == 1_800_000_005.0
    flagged = [w for w in result.warnings if "OpenMetrics page served as text/plain" in w]
    assert bool(flagged) is (served_as == "text/plain")  # (b) detected and flagged


# -- F23 ----------------------------------------------------------------------------------------------

GOOD = 'llm_requests_total{model="m",status="success"} 10\n'
CRASHERS = {
    # prometheus_client raises IndexError on the empty label name (classic parser)
    "IndexError": ("text/plain", GOOD + 'llm_requests_total{a="1", ="1"} 1\n', 2),
    # …and AttributeError ('float' object has no attribute 'sec') on this OpenMetrics page
    "AttributeError": ("application/openmetrics-text",
                       "# TYPE llm_inflight_requests gauge\nllm_inflight_requests 0 .5\nllm_inflight_requests 0 1\n# EOF\n", 3),
}


@pytest.mark.parametrize("kind", sorted(CRASHERS))
async def test_f23_parser_exceptions_become_a_parse_error_with_the_line(serve, clock, kind):
    content_type, bad_page, line = CRASHERS[kind]
    pages = iter([(TEXT["Content-Type"], GOOD), (TEXT["Content-Type"], GOOD.replace("10", "20")), (content_type, bad_page),
                  (TEXT["Content-Type"], GOOD.replace("10", "40"))])

    def app(request):
        media, body = next(pages)
        return Reply(200, body, {"Content-Type": media})

    collector = scrape(serve(app), clock=clock, window=30)
    await collector.collect()
    clock.advance(5)
    good = await collector.collect()
    frames = len(collector._windows[collector.urls[0]].frames)
    clock.advance(5)
    bad = await collector.collect()  # no exception escapes: the target reports it
    assert not bad.targets[0].up
    assert bad.targets[0].error.startswith(f"unparsable exposition: parse error line {line}")
    assert len(collector._windows[collector.urls[0]].frames) == frames  # nothing of that scrape was kept
    assert [r.values for r in bad.rows] == [r.values for r in good.rows]
    clock.advance(5)
    again = await collector.collect()  # and it keeps running: the next good page is read as usual
    await collector.aclose()
    assert again.targets[0].up and values(again, "request_rate") == {"m": pytest.approx(30 / 15)}


async def test_f23_a_line_separator_in_a_type_line_does_not_break_the_page(serve, clock):
    pages = iter([GOOD, "# TYPE \u2028 gauge\n" + GOOD.replace("10", "20")])
    collector = scrape(serve(lambda r: Reply(200, next(pages), TEXT)), clock=clock)
    await collector.collect()
    clock.advance(5)
    result = await collector.collect()  # (raw, the classic parser raises IndexError on it)
    await collector.aclose()
    assert result.targets[0].up and values(result, "request_rate") == {"m": 2.0}


# -- F24 ----------------------------------------------------------------------------------------------


def _interleaved(n: int) -> str:
    return "\n".join([
        "# TYPE llm_requests_total counter",
        f'llm_requests_total{{model="a",status="success"}} {n}',
        f'llm_requests_total{{model="a",status="success"}} {n + 100}',  # duplicate: last wins
        "# TYPE llm_request_latency_seconds histogram",
        f'llm_request_latency_seconds_bucket{{le="+Inf",model="a"}} {n}',
        f'llm_request_latency_seconds_count{{model="a"}} {n}',
        "# TYPE llm_requests_total counter",  # the family again, interleaved
        f'llm_requests_total{{model="b",status="success"}} {n}',
    ]) + "\n"


async def test_f24_duplicates_and_interleaved_families(serve, clock):
    counts = iter([0, 50])
    collector = scrape(serve(lambda r: Reply(200, _interleaved(next(counts)), TEXT)), clock=clock, window=5)
    await collector.collect()
    clock.advance(5)
    result = await collector.collect()
    await collector.aclose()
    rates = values(result, "request_rate")
    assert rates == {"a": 10.0, "b": 10.0}  # (150 − 100) / 5: the last duplicate, counted once; families merged
    assert collector.duplicates[collector.urls[0]] == 2  # one per scrape: the warning counter
    assert any("1 duplicate series lines (last value kept)" in w for w in result.warnings)


# -- F25 ----------------------------------------------------------------------------------------------


def _histogram(buckets: dict[str, float], model: str) -> list[str]:
    lines = [f'llm_request_latency_seconds_bucket{{le="{le}",model="{model}"}} {count}' for le, count in buckets.items()]
    top = max(buckets.values(), default=0)
    lines.append(f'llm_request_latency_seconds_count{{model="{model}"}} {top}')
    lines.append(f'llm_requests_total{{model="{model}",status="success"}} {top}')
    return lines


CASES = {
    # unsorted, `le` spelt 1e0 / 2e-1 / +inf: {0.1:50, 0.2:70, 1:110, +Inf:120} -> p50 0.15, p95 in +Inf -> 1.0
    "spellings": {"+inf": 120, "1e0": 110, "0.1": 50, "2e-1": 70},
    "no_inf": {"0.1": 50, "1": 110},  # no +Inf bucket: NaN
    "one_bucket": {"+Inf": 120},  # fewer than two buckets: NaN
    "non_monotonic": {"0.1": 20, "1": 10, "10": 50, "100": 40, "1000": 90, "+Inf": 80},  # forced monotonic
}


async def _f25_rows(serve, clock) -> dict:
    """The rows of a scrape-mode collector fed `CASES` (and an all-zero histogram) twice, 5 s apart."""

    def page(scale: float) -> str:
        lines = ["# TYPE llm_request_latency_seconds histogram", "# TYPE llm_requests_total counter"]
        for model, buckets in CASES.items():
            lines += _histogram({le: count * scale for le, count in buckets.items()}, model)
        lines += _histogram({"0.5": 0, "+Inf": 0}, "all_zero")
        return "\n".join(lines) + "\n"

    scales = iter([0.0, 1.0])
    collector = scrape(serve(lambda r: Reply(200, page(next(scales)), TEXT)), clock=clock, window=5)
    await collector.collect()
    clock.advance(5)
    rows = {row.group: row for row in (await collector.collect()).rows}
    await collector.aclose()
    return rows


async def test_f25_histogram_edge_cases_in_direct_mode(serve, clock):
    rows = await _f25_rows(serve, clock)
    assert rows["spellings"].value("latency_p50") == pytest.approx(0.15)
    assert rows["spellings"].value("latency_p95") == pytest.approx(1.0)  # rank in +Inf: 2nd-highest bound
    for model in ("no_inf", "one_bucket", "all_zero"):
        assert rows[model].value("latency_p50") is None, model
    assert rows["all_zero"].missing_reason("latency_p50") is Missing.NO_OBSERVATIONS
    assert rows["non_monotonic"].value("latency_p50") == pytest.approx(8.5)
    assert rows["non_monotonic"].value("latency_p99") == pytest.approx(979.75)
    # The full histograms.test vectors (q<0, q>1, NaN, negative buckets, coalescing, ...) are unit tests of
    # the same function: tests/unit/test_prommath.py.


async def test_f25_forced_monotonicity_is_flagged_in_direct_mode(serve, clock):
    rows = await _f25_rows(serve, clock)
    note = "input to histogram_quantile needed to be fixed for monotonicity"
    assert note in rows["non_monotonic"].provenance["latency_p50"]  # as Prometheus's info annotation says
    assert note not in rows["spellings"].provenance["latency_p50"]
    # The table underlines the cell without making the line (it asks of every shown cell, every refresh).
    fresh = await _f25_rows(serve, clock)
    assert fresh["non_monotonic"].provenance.info("latency_p50") and not fresh["spellings"].provenance.info("latency_p50")
    assert not fresh["non_monotonic"].provenance.made and not fresh["non_monotonic"].provenance._known
