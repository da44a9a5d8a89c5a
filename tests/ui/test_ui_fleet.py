"""The fleet header: totals over every row (the fleet's p95 from merged buckets), the verdict naming the
worst problem, and lines that keep whole phrases at any width."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import patch

import pytest
from rich.cells import cell_len
from ui_fakes import TARGETS, collected, down, fleet, fleet_alerts, make_row, up

from aitop.model import Row, Severity, Snapshot
from aitop.prommath import histogram_quantile
from aitop.ui.cells import Palette
from aitop.ui.fleet import summarize, summary_parts
from aitop.ui.widgets import FleetHeader
from aitop.ui.widgets.fleet_header import header_text

BUCKETS_FAST = ((0.1, 90.0), (0.5, 99.0), (1.0, 100.0), (float("inf"), 100.0))
BUCKETS_SLOW = ((0.1, 0.0), (0.5, 2.0), (1.0, 5.0), (float("inf"), 10.0))


def snapshot(rows, alerts=(), targets=None, **kwargs) -> Snapshot:
    data = collected(rows, alerts=alerts, targets=targets)
    return Snapshot(taken_at=data.taken_at, window_seconds=30.0, source_kind="scrape", source_targets=TARGETS,
                    targets=data.targets, rows=data.rows, alerts=data.alerts, **kwargs)  # fmt: skip


def test_totals_add_rates_and_weigh_the_error_share():
    summary = summarize(snapshot(fleet()))
    assert summary.request_rate == pytest.approx(42.3 + 12.5 + 8.1 + 0.5)
    errors = 42.3 * 0.002 + 12.5 * 0.071 + 8.1 * 0.015
    assert summary.error_rate == pytest.approx(errors / (42.3 + 12.5 + 8.1 + 0.5))
    assert summary.tokens_rate == pytest.approx(5400 + 1900 + 2100 + 880 + 960 + 410)
    assert summary.cost_per_hour == pytest.approx(9.5) and summary.cost_per_day == pytest.approx(228.0)


def test_regrouped_the_totals_count_groups_not_models():
    assert any(phrase.endswith("models ok") for phrase, _ in summary_parts(summarize(snapshot(fleet()))))
    regrouped = summary_parts(summarize(snapshot(fleet(), group_by="instance")))
    assert any(phrase.endswith("instance groups ok") for phrase, _ in regrouped)
    assert not any("models" in phrase for phrase, _ in regrouped)


def test_the_fleet_p95_comes_from_merged_buckets_not_from_averaging_percentiles():
    fast = replace(make_row("fast", request_rate=100.0, latency_p95=0.3), distributions={"latency": BUCKETS_FAST})
    slow = replace(make_row("slow", request_rate=10.0, latency_p95=1.0), distributions={"latency": BUCKETS_SLOW})
    summary = summarize(snapshot([fast, slow]))
    merged = [(0.1, 90.0), (0.5, 101.0), (1.0, 105.0), (float("inf"), 110.0)]
    assert summary.latency_merged and summary.latency == pytest.approx(histogram_quantile(0.95, merged))
    assert summary.latency != pytest.approx((0.3 + 1.0) / 2)
    # Two schemas' different bucket layouts: each histogram is read at the other's bounds as a step.
    other = replace(make_row("other", request_rate=10.0), distributions={"latency": ((0.3, 9.0), (60.0, 10.0),
                                                                                    (float("inf"), 10.0))})  # fmt: skip
    mixed = summarize(snapshot([fast, other]))
    stepped = [(0.1, 90.0), (0.3, 99.0), (0.5, 108.0), (1.0, 109.0), (60.0, 110.0), (float("inf"), 110.0)]
    assert mixed.latency == pytest.approx(histogram_quantile(0.95, stepped)) and mixed.latency < 1.0
    without = summarize(snapshot(fleet()))  # no buckets (quantiles from the server): the worst row, said so
    assert not without.latency_merged and without.latency == 2.7
    assert any(phrase.startswith("worst p95 2.70s") for phrase, _ in summary_parts(without))


def test_the_verdict_names_the_worst_problem():
    calm = [replace(row, severity={}) for row in fleet()]
    quiet = summarize(snapshot(calm))
    assert quiet.verdict == "✓ all 4 rows within their thresholds" and quiet.verdict_severity is Severity.OK
    marked = [replace(row, severity={"error_rate": Severity.CRITICAL}) if row.group == "mixtral-8x7b" else row
              for row in calm]  # fmt: skip
    assert summarize(snapshot(marked)).verdict == "‼ 1 of 4 rows over a threshold, no alert yet; worst: mixtral-8x7b"
    alerting = summarize(snapshot(fleet(), alerts=fleet_alerts()))
    # The oldest critical firing alert: the server's, which has no field, so its message says what.
    assert alerting.verdict == "‼ firing on mixtral-8x7b: queue backlog above 50 for 10m (+3 more)"
    assert (alerting.firing, alerting.pending) == (3, 1)
    outage = summarize(snapshot(fleet(), alerts=fleet_alerts(), targets=[up(TARGETS[0]), down(TARGETS[1], "HTTP 503")]))
    assert outage.verdict == "‼ 1 of 2 targets down: HTTP 503"
    daily = [replace(row, values={**row.values, "cost_per_day": (row.value("cost_per_hour") or 0) * 24})
             for row in fleet()]  # as the analysis adds it  # fmt: skip
    over = summarize(snapshot([replace(row, severity={}) for row in daily]), budget=100.0)  # mixtral: $132/day
    assert over.verdict == "▲ 1 over the $100/day budget: mixtral-8x7b at $132/day" and over.over_budget == 1


@pytest.mark.parametrize("width", [58, 78, 118, 198])
def test_the_header_keeps_whole_phrases_and_wraps_the_verdict(width):
    summary = summarize(snapshot(fleet(), alerts=fleet_alerts()), budget=100.0)
    lines = header_text(summary, width, Palette()).plain.split("\n")
    assert all(cell_len(line) <= width for line in lines) and "…" not in "".join(lines)
    phrases = lines[0].split(" · ")
    assert phrases[0] == "[overview] fleet" and phrases[1] == "63.4 req/s"
    assert all(phrase in [p for p, _ in summary_parts(summary)] for phrase in phrases[1:])
    assert " ".join(line.strip() for line in lines[1:]) == summary.verdict


async def test_the_overview_opens_with_the_header(make_app):
    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        text = app.query_one(FleetHeader).text.plain
        assert text.startswith("[overview] fleet · 63.4 req/s · err 1.7% · worst p95 2.70s · 3 firing, 1 pending")
        assert "‼ firing on mixtral-8x7b" in text.split("\n")[1]


async def test_a_new_total_repaints_the_totals_line_alone(make_app, monkeypatch):
    rows = fleet()
    faster = [replace(row, values={**row.values, "request_rate": (row.values["request_rate"] or 0) + 1.0})
              for row in rows]  # fmt: skip
    app = make_app([collected(rows, alerts=fleet_alerts()), collected(faster, alerts=fleet_alerts())])
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        header = app.query_one(FleetHeader)
        verdict = header.text.plain.split("\n")[1:]
        asked: list[tuple] = []
        monkeypatch.setattr(header, "refresh", lambda *regions, **kwargs: asked.append((regions, kwargs)))
        await app.poll_once()
        assert header.text.plain.split("\n")[1:] == verdict  # the verdict did not change
        assert asked, "the header was not repainted for a new total"
        regions, kwargs = asked[-1]
        # The totals line only: the unchanged verdict line is neither composed nor sent to the terminal again.
        assert not kwargs.get("layout") and [(region.y, region.height) for region in regions] == [(0, 1)]


def test_the_totals_read_each_row_once_per_question_without_the_per_value_helpers():
    # Every row, every refresh (2,000 rows: ~20,000 values): the loops read the rows' mappings inline, and
    # a row's worst severity is worked out once for the verdict and the count of rows in trouble.
    rows = [replace(row, severity={"error_rate": Severity.WARNING}) if row.group == "mixtral-8x7b" else row
            for row in fleet()]  # fmt: skip
    expected = summarize(snapshot(rows), budget=1.0)
    with patch.object(Row, "value", side_effect=AssertionError("Row.value")), \
            patch.object(Row, "worst", property(lambda row: pytest.fail("Row.worst"))):  # fmt: skip
        assert summarize(snapshot(rows), budget=1.0) == expected
    assert expected.in_trouble == sum(1 for row in rows if row.worst >= Severity.WARNING)
