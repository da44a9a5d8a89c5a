"""The bare Textual app item 7 runs beside aitop: the least a Textual program does for the same job.

`python -m benchmarks.bare_app URL MODE` fetches URL (the exporter's /metrics page) with httpx every 2 s and
shows a 6 × 11 grid of numbers that all change at every fetch, under a one-line header and Textual's footer:
MODE `table` in a `DataTable` (every cell updated), `text` as one `Static` of six lines (one update), `idle`
fetching and showing nothing (Textual's own cost at rest). It parses nothing, keeps no history and judges
nothing: what it costs is the framework's floor for the redraw aitop does, measured on the same machine in
the same seconds.
"""

from __future__ import annotations

import sys

import httpx
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static

ROWS, COLUMNS, INTERVAL = 6, 11, 2.0


class BareApp(App):
    """Fetch a page every `INTERVAL` seconds and show a grid of changing numbers (`mode`: table, text, idle)."""

    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, url: str, mode: str) -> None:
        super().__init__()
        self.url, self.mode, self.tick = url, mode, 0
        self.client = httpx.AsyncClient()

    def compose(self) -> ComposeResult:
        yield Static("", id="header")
        yield DataTable() if self.mode == "table" else Static("", id="grid")
        yield Footer()

    def on_mount(self) -> None:
        if self.mode == "table":
            table = self.query_one(DataTable)
            for column in range(COLUMNS):
                table.add_column(f"c{column}", key=f"c{column}")
            for row in range(ROWS):
                table.add_row(*(Text("—") for _ in range(COLUMNS)), key=f"r{row}")
        if self.mode != "idle":
            self.set_interval(INTERVAL, self.poll)

    def _number(self, row: int, column: int) -> str:
        return f"{(row + self.tick) * (column + 1) / 7:.2f}"

    async def poll(self) -> None:
        lines = (await self.client.get(self.url)).text.count("\n")
        self.tick += 1
        self.query_one("#header", Static).update(f"bare Textual app: {lines} lines, fetch {self.tick}")
        if self.mode == "text":
            grid = "\n".join(" ".join(f"{self._number(r, c):>9}" for c in range(COLUMNS)) for r in range(ROWS))
            self.query_one("#grid", Static).update(Text(grid))
            return
        table = self.query_one(DataTable)
        for row in range(ROWS):
            for column in range(COLUMNS):
                table.update_cell(f"r{row}", f"c{column}", Text(self._number(row, column)))


if __name__ == "__main__":
    BareApp(sys.argv[1], sys.argv[2]).run()
