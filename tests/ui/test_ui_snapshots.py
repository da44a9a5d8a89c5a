"""Snapshot tests (pytest-textual-snapshot): one per screen state worth seeing. Review changes with
`--snapshot-update` and the generated snapshot_report.html before accepting them.

Deterministic: frozen clock, scripted data, fixed Prometheus-like history for charts, no timer (the apps
are built with interval=None), fixed theme.
"""

from __future__ import annotations

import pytest
from ui_fakes import TARGETS, FakeCollector, collected, down, fleet, fleet_alerts, make_row, remote_history, up


async def poll(pilot) -> None:
    await pilot.app.poll_once()
    await pilot.pause()


def one_target_down():
    return collected(fleet(), targets=[up(TARGETS[0]), down(TARGETS[1], "HTTP 503 Service Unavailable"),
                                       up(TARGETS[2])])  # fmt: skip


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_overview(snap_compare, make_app, size):
    """A target down: ✗ 2/3 up and its error in the status line; 80×24 hides columns."""
    assert snap_compare(make_app([one_target_down()]), terminal_size=size, run_before=poll)


SIZES = [(80, 24), (120, 40), (200, 60)]


@pytest.mark.parametrize("alerts", [False, True], ids=["quiet", "alerts"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_overview_sizes(snap_compare, make_app, size, alerts):
    """The fleet header, then the same columns with and without firing alerts: the sidebar goes below the
    table (or beside it, in what the columns leave), never over a column; at 80×24 a badge counts them."""
    app = make_app([collected(fleet(), alerts=fleet_alerts() if alerts else ())])
    assert snap_compare(app, terminal_size=size, run_before=poll)


def test_cost_view(snap_compare, make_app):
    """`v`: the executives' view (spend, satisfaction, availability); the sidebar fills what it leaves."""

    async def cost(pilot) -> None:
        await poll(pilot)
        await pilot.press("v")
        await pilot.pause()

    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    assert snap_compare(app, terminal_size=(160, 40), run_before=cost)


def test_overview_wide_with_firing_alerts(snap_compare, make_app):
    """200×60: more columns, and the alert sidebar, worst first."""
    app = make_app([collected(fleet(), alerts=fleet_alerts(), backend="Prometheus 2.53.0")])
    assert snap_compare(app, terminal_size=(200, 60), run_before=poll)


def test_drill_down_with_charts(snap_compare, make_app):
    """Enter on mixtral: fields, charts over 15 minutes, errors by type, split by instance."""
    source = FakeCollector([collected(fleet(), alerts=fleet_alerts())])
    source.remote_history = remote_history()
    source.breakdowns[(("vllm", "mixtral-8x7b"), "instance")] = (
        make_row("10.0.0.5:8000", request_rate=9.0, error_rate=0.09, latency_p50=1.1, latency_p95=3.1, latency_p99=7.0,
                 ttft_p95=1.8, output_tokens_rate=610, group_label="instance"),
        make_row("10.0.0.7:8000", request_rate=3.5, error_rate=0.02, latency_p50=0.5, latency_p95=1.2, latency_p99=2.2,
                 ttft_p95=0.6, output_tokens_rate=270, group_label="instance"),
    )  # fmt: skip

    async def drill(pilot) -> None:
        await poll(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app([], collector=source), terminal_size=(120, 40), run_before=drill)


def test_paused(snap_compare, make_app):
    """PAUSED, with one newer snapshot held back."""

    async def pause(pilot) -> None:
        await poll(pilot)
        await pilot.press("p")
        await poll(pilot)

    app = make_app([collected(fleet()), collected(fleet()[:2])])
    assert snap_compare(app, terminal_size=(100, 24), run_before=pause)


def test_light_theme(snap_compare, make_app):
    """aitop-light, with severities in colours dark enough for a white background."""
    app = make_app([collected(fleet(), alerts=fleet_alerts())], theme_name="aitop-light")
    assert snap_compare(app, terminal_size=(120, 40), run_before=poll)


def test_help_screen(snap_compare, make_app):
    """`?`: every key, by where it works."""

    async def help_(pilot) -> None:
        await poll(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app([collected(fleet())]), terminal_size=(120, 40), run_before=help_)
