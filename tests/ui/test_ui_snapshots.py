"""Snapshot tests of the overview (pytest-textual-snapshot). Review changes with `--snapshot-update` and
the generated snapshot_report.html before accepting them."""

from __future__ import annotations

import pytest
from ui_fakes import TARGETS, collected, down, fleet, up


async def poll(pilot) -> None:
    await pilot.app.poll_once()
    await pilot.pause()


def one_target_down():
    return collected(fleet(), targets=[up(TARGETS[0]), down(TARGETS[1], "HTTP 503 Service Unavailable"),
                                       up(TARGETS[2])])  # fmt: skip


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_overview(snap_compare, make_app, size):
    assert snap_compare(make_app([one_target_down()]), terminal_size=size, run_before=poll)
