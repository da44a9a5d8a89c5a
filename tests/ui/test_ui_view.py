"""The overview's rules without an app: filter, sort, visible columns, sparklines, alert order and text,
explain text, the help index and the theme cycle."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from rich.cells import cell_len
from ui_fakes import T0, alert, fleet, fleet_alerts, make_row

from aitop.model import Missing, Severity
from aitop.ui.alert_text import alert_badge, alert_text, comparison, format_duration, ordered
from aitop.ui.cells import Palette
from aitop.ui.columns import ALL_COLUMNS, SORT_KEYS, visible_columns
from aitop.ui.explain import explain_text
from aitop.ui.sparkline import BARS, sparkline
from aitop.ui.themes import BUILTIN_ORDER, next_theme, theme_cycle
from aitop.ui import view
from aitop.ui.view import FilterError, RowFilter, SortOrder

PALETTE = Palette(ok="#00FF00", warning="#FFFF00", critical="#FF0000", muted="#808080")


def groups(rows) -> list[str]:
    return [row.group for row in rows]


def test_filter_is_case_insensitive_regex_over_group_and_schema():
    rows = fleet()
    assert groups(RowFilter("LLAMA|mix").apply(rows)) == ["llama-3.1-8b", "mixtral-8x7b"]
    assert groups(RowFilter("^tgi$").apply(rows)) == ["qwen2.5-7b", "bge-large-en"]  # by schema
    assert groups(RowFilter("!^tgi$").apply(rows)) == ["llama-3.1-8b", "mixtral-8x7b"]
    assert RowFilter("!").active is False and len(RowFilter("!").apply(rows)) == 4
    assert RowFilter("").apply(rows) == rows


@pytest.mark.parametrize("pattern", ["[", "(?P<x", "*a", "a{2,1}", "x" * 201])
def test_invalid_filter_says_why(pattern):
    with pytest.raises(FilterError) as info:
        RowFilter(pattern).compile()
    assert "regex" in str(info.value) or "longer" in str(info.value)


def test_hostile_label_is_matched_literally_by_an_escaped_pattern():
    rows = [make_row("[/]"), make_row("[@click=app.quit]x[/]"), make_row("plain")]
    assert groups(RowFilter(r"^\[/\]$").apply(rows)) == ["[/]"]


def test_sort_numbers_descend_names_ascend_missing_last():
    rows = fleet()
    assert groups(SortOrder("latency_p95").rank(rows)) == ["mixtral-8x7b", "qwen2.5-7b", "llama-3.1-8b", "bge-large-en"]
    # qwen and bge have no feedback: last, in name order, whichever the direction
    assert groups(SortOrder("feedback_negative_ratio").rank(rows))[2:] == ["bge-large-en", "qwen2.5-7b"]
    assert groups(SortOrder("feedback_negative_ratio", reverse=True).rank(rows)) == [
        "llama-3.1-8b", "mixtral-8x7b", "bge-large-en", "qwen2.5-7b"]  # fmt: skip
    assert groups(SortOrder("model").rank(rows)) == ["bge-large-en", "llama-3.1-8b", "mixtral-8x7b", "qwen2.5-7b"]
    assert SortOrder("model").descending is False and SortOrder("request_rate").descending is True


def test_sort_moves_inverts_and_toggles():
    keys = ["model", "request_rate", "error_rate"]
    order = SortOrder("request_rate")
    assert order.moved(keys, 1).key == "error_rate" and order.moved(keys, -1).key == "model"
    assert order.moved(keys, 2).key == "model"  # wraps
    assert SortOrder("cost_per_hour").moved(keys, 1).key == "model"  # hidden column: start at an end
    assert order.inverted() == SortOrder("request_rate", reverse=True)
    assert order.by("request_rate") == order.inverted() and order.by("error_rate") == SortOrder("error_rate")


def test_sort_shortcuts_are_distinct_capitals():
    assert len(SORT_KEYS) == len(set(SORT_KEYS)) and all(key.isupper() for key in SORT_KEYS)


def test_visible_columns_by_width():
    narrow = [column.key for column in visible_columns(79)]
    assert narrow == ["model", "request_rate", "error_rate", "latency_p95", "latency_p99", "trend", "cost_per_hour"]
    assert len(visible_columns(119)) == 11
    assert [column.key for column in visible_columns(400)] == [column.key for column in ALL_COLUMNS]
    # The sort column is always shown (its ▼ must be somewhere), even when its priority would hide it.
    kept = [column.key for column in visible_columns(79, keep=("feedback_negative_ratio",))]
    assert "feedback_negative_ratio" in kept and "feedback_negative_ratio" not in narrow
    assert {"model", "request_rate", "error_rate", "latency_p95"} <= set(kept)  # priority 0 stays too
    # Widths from content: a wider value widens its column, and a lower-priority column makes room.
    wide = visible_columns(79, widths={"error_rate": 14})
    assert {c.key: c.width for c in wide}["error_rate"] == 14 and len(wide) < len(narrow)
    assert [column.key for column in visible_columns(10)] == ["model", "request_rate", "error_rate", "latency_p95"]


def test_sparkline_scales_from_zero_and_bins_by_time():
    points = [(T0 + i, float(i)) for i in range(1, 5)]
    assert sparkline(points, end=T0 + 4, width=8) == "    " + "".join(BARS[round(i / 4 * 7)] for i in range(1, 5))
    assert sparkline([], end=T0, width=4) == "    "
    assert sparkline([(T0, None), (T0 + 1, math.nan)], end=T0 + 1, width=3) == "   "
    assert sparkline([(T0, 0.0), (T0 + 1, 0.0)], end=T0 + 1, width=2) == BARS[0] * 2
    # 60 points over 59 s into 6 bins: rising values give a rising line, whatever the span
    many = [(T0 + i, float(i)) for i in range(60)]
    line = sparkline(many, end=T0 + 59, width=6)
    assert len(line) == 6 and list(line) == sorted(line) and line[-1] == BARS[-1]
    # older than the span is ignored
    assert sparkline([(T0 - 1000, 5.0), (T0, 1.0)], end=T0, span=300, width=2) == " " + BARS[-1]


def test_alerts_ordered_by_severity_state_then_age():
    shown = ordered(fleet_alerts())
    assert [(a.rule, a.state) for a in shown] == [
        ("prometheus:VLLMQueueBacklog", "firing"),  # critical, firing, oldest
        ("error_rate_high", "firing"),
        ("latency_p95_high", "pending"),
        ("error_rate_warn", "firing"),
        ("spend_high", "resolved"),
    ]


def test_alert_text_says_what_where_value_threshold_and_age():
    text = alert_text(fleet_alerts()[1], T0 + 2, PALETTE, width=80).plain.split("\n")
    assert text[0] == "‼ CRIT firing 3m"  # minutes past the first minute: no redraw every refresh
    assert text[1] == "  mixtral-8x7b · vllm"
    assert text[2] == "  err % 7.1% > 5.0% · error_rate_high"
    assert text[3] == "  errors 7.1% over 5m (threshold 5%)"
    prom = alert_text(fleet_alerts()[4], T0 + 2, PALETTE).plain
    assert "prometheus:VLLMQueueBacklog" in prom and "1h01m" in prom
    hostile = alert("[/]\x1b]0;x\x07", rule="[@click=app.quit]r[/]", message="\x9b2J")
    rendered = alert_text(hostile, T0, PALETTE, width=80).plain
    assert "\x1b" not in rendered and "\x9b" not in rendered and "[@click=app.quit]r[/]" in rendered
    assert comparison(alert("m", "cost_per_hour", value=2.0, threshold=5.0)) == "$/h $2.00 < $5.00"
    assert format_duration(59) == "59s" and format_duration(86400 + 3600 * 4) == "1d04h"


def test_alert_badge_counts_and_uses_a_symbol():
    badge = alert_badge(fleet_alerts(), PALETTE)
    assert badge is not None and badge.plain == "‼ ALERTS 3 firing 1 pending (a)"
    assert alert_badge([replace(a, state="resolved") for a in fleet_alerts()], PALETTE) is None
    warn = alert_badge([alert("m", severity=Severity.WARNING)], PALETTE)
    assert warn is not None and warn.plain.startswith("▲")


def test_explain_shows_computation_and_reason_for_missing():
    row = make_row("llama", latency_p95=0.88, provenance={
        "latency_p95": 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{model_name="llama"}[30.0s]))) — 12 series'})
    text = explain_text(row, "latency_p95", None, PALETTE).plain
    assert "880ms" in text and "histogram_quantile(0.95" in text and "12 series" in text and "why" not in text
    missing = make_row("llama", missing={"ttft_p95": Missing.NOT_ENOUGH_SAMPLES})
    text = explain_text(missing, "ttft_p95", None, PALETTE).plain
    assert "—" in text and "not enough samples" in text and "no computation recorded" in text
    assert "no such metric" in explain_text(missing, "cost_per_hour", None, PALETTE).plain


def test_theme_cycle_order():
    cycle = theme_cycle(["zeta", *reversed(BUILTIN_ORDER), "alpha"])
    assert cycle == [*BUILTIN_ORDER, "alpha", "zeta"]
    assert next_theme("aitop-dark", cycle) == "aitop-light"
    assert next_theme("zeta", cycle) == "aitop-dark"
    assert next_theme("textual-dark", cycle) == "aitop-dark"


def test_explain_says_how_the_warm_up_stands_and_which_criterion_it_uses():
    row = make_row("llama-3.1-8b", latency_p95=1.2)
    warming = explain_text(replace(row, warmup=(12.0, 30.0)), "latency_p95", None, PALETTE).plain
    assert "judged    not yet: warming up, 12s of a full 30s window watched (cells unmarked, alerts wait)" in warming
    warm = explain_text(replace(row, warmup=(31.0, 30.0)), "latency_p95", None, PALETTE).plain
    assert "judged    yes: its window holds a full 30s of data (warm-up: a full window, not a request count)" in warm
    assert "judged" not in explain_text(row, "latency_p95", None, PALETTE).plain  # one-shot: no warm-up


def test_the_sidebar_gives_what_resolution_needs_its_own_line():
    firing = replace(alert("llama-3.1-8b", "latency_p95", value=1.95, threshold=2.0, rule="latency_p95_critical",
                           message="p95 latency 1.95s (threshold 2.00s) on llama-3.1-8b, firing for 3m, "
                                   "clearing: 12s of 30s below 2.00s"),
                     resolution="clearing: 12s of 30s below 2.00s")  # fmt: skip
    lines = alert_text(firing, T0, PALETTE, width=40).plain.splitlines()
    assert lines[2:4] == ["  p95 1.95s < 2.00s ·", "  latency_p95_critical"]  # wrapped, not cut
    assert lines[4] == "  clearing: 12s of 30s below 2.00s"  # its own line, above the message
    # The whole message, wrapped within the width: nothing cut, no ellipsis.
    assert " ".join(line.strip() for line in lines[5:]) == firing.message
    assert all(cell_len(line) <= 40 for line in lines) and "…" not in "".join(lines)


def test_the_rows_of_the_previous_refresh_are_not_sorted_by_name_again(monkeypatch) -> None:
    rows = [replace(row, group=f"{row.group}-{n}") for n in range(3) for row in fleet()]
    fresh = SortOrder("request_rate").rank(rows)
    sorts: list[int] = []
    original = view._sort_by_name
    monkeypatch.setattr(view, "_sort_by_name", lambda rows: sorts.append(len(rows)) or original(rows))
    again = [replace(row, values={**row.values, "request_rate": 1.0}) for row in rows]  # new rows, same names
    by_name = sorted(again, key=lambda row: (row.schema.casefold(), row.group.casefold()))
    assert groups(SortOrder("request_rate").rank(again)) == groups(by_name)  # all tie: name order
    assert groups(SortOrder("request_rate").rank(rows)) == groups(fresh) and sorts == []
    assert groups(SortOrder("model").rank(rows[::-1])) == sorted(groups(rows), key=str.casefold)
    assert sorts == [len(rows)]  # another order of the rows: sorted again
