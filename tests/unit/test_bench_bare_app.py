"""The bare Textual app benchmark item 7 runs beside aitop does the job it is measured for: it fetches the
page and redraws every number of its grid at each fetch (a baseline that drew nothing would flatter aitop)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from pages import served  # noqa: E402

from benchmarks.bare_app import COLUMNS, ROWS, BareApp  # noqa: E402

PAGE = b"# TYPE x counter\nx_total 1\n"


@pytest.mark.parametrize("mode", ["table", "text"])
async def test_every_fetch_redraws_the_whole_grid(mode: str) -> None:
    from textual.widgets import DataTable, Static

    with served(PAGE) as url:
        app = BareApp(url, mode)
        async with app.run_test(size=(120, 40)) as pilot:
            shown = []
            for _ in range(2):
                await app.poll()
                await pilot.pause()
                if mode == "table":
                    table = app.query_one(DataTable)
                    shown.append([str(table.get_cell(f"r{r}", f"c{c}")) for r in range(ROWS) for c in range(COLUMNS)])
                else:
                    shown.append(str(app.query_one("#grid", Static).render()).split())
            header = str(app.query_one("#header", Static).render())
    assert header == "bare Textual app: 2 lines, fetch 2"
    assert all(len(numbers) == ROWS * COLUMNS for numbers in shown)
    assert all(before != after for before, after in zip(*shown, strict=True))  # every number changed
