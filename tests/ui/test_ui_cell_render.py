"""Table cells rendered without Rich's generic machinery (aitop.ui.widgets.cell_render) come out exactly as
`DataTable` renders them through Rich: same segments, same text, same styles, for every cell aitop builds,
under every style a cell can be drawn with (cursor, hover, fixed column, zebra stripes, cursor priorities,
padding, widths that fit exactly or not at all); and anything the fast path does not cover goes to Rich."""

from __future__ import annotations

import contextlib
import dataclasses
from itertools import product
from unittest.mock import patch

import pytest
from rich.console import Console
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.app import App, ComposeResult
from textual.renderables.styled import Styled
from textual.widgets import DataTable
from ui_fakes import T0, collected, fleet, make_row, settle

from aitop.model import Severity
from aitop.ui.cells import Palette, SortableText, model_cell, numeric_cell, schema_cell
from aitop.ui.widgets import TopTable
from aitop.ui.widgets import cell_render
from aitop.ui.widgets.cell_render import render_text_cell
from aitop.ui.widgets.lazy_table import LazyTable
from aitop.ui.widgets.top_table import trend_cell

PALETTE = Palette(ok="#00ff00", warning="#ffaa00", critical="#ff0000", muted="grey50", series=("#3366ff",))


def _row(group: str = "llama-3.1-8b", severity: dict | None = None, **kwargs):
    row = make_row(group, request_rate=42.3, error_rate=0.071, latency_p95=None, **kwargs)
    return dataclasses.replace(row, severity=severity or {})


def _text(plain: str, style: str | Style = "", **kwargs) -> Text:
    return Text(plain, style, **kwargs)


def _spanned(plain: str, spans: list[Span], style: str | Style = "", **kwargs) -> Text:
    text = Text(plain, style, **kwargs)
    text.spans = spans
    return text


def _escaped() -> Text:
    # ESC is not among the codes Text strips, so it survives into the plain text.
    return Text("a\x1b[31mb", end="")


def cases() -> dict[str, tuple[Text, bool]]:
    """name -> (cell, whether the fast path must take it when it fits its column)."""
    red = Style(color="red", bold=True)
    crit, warn = {"error_rate": Severity.CRITICAL}, {"error_rate": Severity.WARNING}
    points = tuple((T0 - 60 + 10 * i, float(i % 4)) for i in range(7)) + ((T0, None),)
    return {
        "numeric ok": (numeric_cell(_row(), "request_rate", PALETTE), True),
        "numeric warning": (numeric_cell(_row(severity=warn), "error_rate", PALETTE), True),
        "numeric critical": (numeric_cell(_row(severity=crit), "error_rate", PALETTE), True),
        "numeric critical stale": (numeric_cell(_row(severity=crit), "error_rate", PALETTE, dim=True), True),
        "missing": (numeric_cell(_row(), "latency_p95", PALETTE), True),
        "missing stale": (numeric_cell(_row(), "latency_p95", PALETTE, dim=True), True),
        "info underlined": (numeric_cell(_row(provenance={"request_rate": "info: forced monotonic"}),
                                         "request_rate", PALETTE), True),
        "info underlined critical": (numeric_cell(_row(severity={"request_rate": Severity.CRITICAL},
                                                       provenance={"request_rate": "info: x"}),
                                                  "request_rate", PALETTE), True),
        "stale ok": (numeric_cell(_row(), "request_rate", PALETTE, dim=True), True),
        "model": (model_cell(_row(), PALETTE), True),
        "model critical": (model_cell(_row(severity=crit), PALETTE), True),
        "model stale": (model_cell(_row(), PALETTE, dim=True), True),
        "model long": (model_cell(_row("m" * 60, severity=crit), PALETTE), True),  # already ends in "…"
        "model hostile": (model_cell(_row("[bold]x[/] [@click=app.quit]q"), PALETTE), True),
        "model control": (model_cell(_row("a\x07b\tc\x1bd"), PALETTE), True),  # clean() makes these visible
        "schema": (schema_cell(_row(schema="vllm"), PALETTE), True),
        "schema stale": (schema_cell(_row(schema="tgi"), PALETTE, dim=True), True),
        "trend": (trend_cell(points, end=T0, palette=PALETTE), True),
        "trend stale": (trend_cell(points, end=T0, palette=PALETTE, dim=True), True),
        "trend empty": (trend_cell((), end=T0, palette=PALETTE), True),  # all blanks
        "sortable plain": (SortableText("12.5", value=12.5, justify="right"), True),
        "text default": (_text("abc"), True),
        "text left": (_text("abc", "italic", justify="left"), True),
        "text right": (_text("abc", "italic", justify="right"), True),
        "text center": (_text("abc", "italic", justify="center"), True),
        "text full": (_text("a b c", justify="full"), True),
        "text right trailing blanks": (_spanned("ab   ", [Span(1, 4, "red"), Span(3, 5, red), Span(0, 2, "bold")],
                                                justify="right"), True),
        "text center trailing blanks": (_spanned("ab   ", [Span(0, 5, "blue")], "dim", justify="center"), True),
        "text right only blanks": (_text("   ", "underline", justify="right"), True),
        "overlapping spans": (_spanned("abcdef", [Span(0, 4, "red"), Span(2, 6, Style(bgcolor="blue")),
                                                  Span(3, 3, "green"), Span(1, 2, "not a style name")]),
                              True),
        "style names": (_text("abc", "bold magenta on white"), True),
        "link": (_text("abc", Style(link="https://example.com")), True),
        "end newline": (_text("abc", "red", justify="right", end="\n"), True),
        "overflow ellipsis": (_text("abc", overflow="ellipsis", justify="right"), True),
        "markup-looking": (SortableText("[bold]x[/]", value="[bold]x[/]"), True),
        "non-ascii narrow": (_text("—▲‼●…▁▇ é", justify="right"), True),
        # Fallbacks: Rich's way, and still the same result.
        "empty": (SortableText("", "dim", value=None, justify="right"), False),
        "empty plain": (_text(""), False),
        "tab": (_text("a\tb"), False),
        "newline": (_text("a\nb"), False),
        "escape": (_escaped(), False),
        "wide": (_text("模型", justify="right"), False),
        "combining": (_text("e\u0301x"), False),
        "zero-width joiner": (_text("a\u200db"), False),
        "emoji": (_text("\U0001f600"), False),
        "wrapping": (_text("abc", no_wrap=False), False),
        "overflow ignore": (_text("abc", overflow="ignore"), False),
        "odd end": (_text("abc", end=" "), False),
        "odd justify": (_text("abc", justify="middle"), False),  # type: ignore[arg-type]
    }


CASES = cases()
NAMES = list(CASES)


class CellTable(LazyTable):
    """Three columns, each row one case in every column (column 0 fixed), each case in an even and an odd row."""

    def build(self, key: str, item: object):  # pragma: no cover - rows are added whole
        raise AssertionError("not deferred")


class CellApp(App):
    def compose(self) -> ComposeResult:
        yield CellTable(zebra_stripes=True, fixed_columns=1, cursor_type="cell")

    def on_mount(self) -> None:
        table = self.query_one(CellTable)
        for key in ("a", "b", "c"):
            table.add_column(key, key=key, width=12)
        for name in NAMES:
            cell = CASES[name][0]
            for parity in (0, 1):
                table.add_row(cell, cell, cell, key=f"{name}/{parity}")


@contextlib.asynccontextmanager
async def cell_table(theme: str | None = None, *, hover_shown: bool = True):
    """A running CellApp's table, settled (in `theme` if given), with the hover cursor shown or not."""
    app = CellApp()
    async with app.run_test(size=(80, 24 + 2 * len(NAMES))) as pilot:
        if theme is not None:
            app.theme = theme
        await pilot.pause()
        table = app.query_one(CellTable)
        table._show_hover_cursor = hover_shown
        yield table


def rich_render(table: DataTable, *args) -> list[list[Segment]]:
    """The cell as DataTable renders it through Rich, bypassing every cache."""
    table._cell_render_cache.clear()
    table._update_count += 1  # also drops the row renderables: nothing rendered before is reused
    return DataTable._render_cell(table, *args)


def fast_render(table: LazyTable, *args) -> list[list[Segment]]:
    """The cell as LazyTable renders it on a cache miss (fast path or its fallback)."""
    table._rendered.clear()
    table._cell_render_cache.clear()  # a fallback renders afresh, not from what rich_render left there
    return table._render_cell(*args)


def taken(table: LazyTable, row: int, column: int, base: Style, width: int, cursor: bool, hover: bool) -> bool:
    """Whether LazyTable renders this cell by the fast path (rather than falling back to Rich)."""
    styles = table._cell_styles(row, column, base, cursor, hover)
    cell = table.get_cell_at((row, column))
    return table._render_text_cell(table._row_locations.get_key(row), cell, width, styles) is not None


def same(actual: list[list[Segment]], expected: list[list[Segment]]) -> bool:
    # Segment is a NamedTuple: == compares text, style (Style.__eq__) and control.
    return [list(line) for line in actual] == [list(line) for line in expected]


def base_styles(table: CellTable, row: int, column: int) -> list[Style]:
    """The base styles DataTable._render_line_in_row passes for this cell: the row's (zebra stripe) and,
    for the fixed column, the fixed style too."""
    styles = [table._get_row_style(row, table.rich_style)]
    if column < table.fixed_columns:
        styles.append(table.get_component_styles("datatable--fixed").rich_style + Style.from_meta({"fixed": True}))
    return styles


def widths(cell: Text, padding: int) -> list[int]:
    fit = cell.cell_len + 2 * padding
    return sorted({1, fit - 1, fit, fit + 3} - {0, -1})  # too narrow for anything, one short, exact, roomy


def check(table: CellTable, rows: range | list[int], columns: tuple[int, ...], flags, paddings=(1,)) -> int:
    """Compare every combination; the number of cells the fast path took."""
    fast = 0
    for padding in paddings:
        table.cell_padding = padding
        for row, column in product(rows, columns):
            cell = table.get_cell_at((row, column))
            name = NAMES[row // 2]
            for base, width, (cursor, hover) in product(base_styles(table, row, column), widths(cell, padding), flags):
                args = (row, column, base, width, cursor, hover)
                expected = rich_render(table, *args)
                assert same(fast_render(table, *args), expected), (name, padding, args)
                took = taken(table, *args)
                fits = width - 2 * padding >= cell.cell_len
                if CASES[name][1] and fits:
                    assert took, (name, padding, args)
                elif not CASES[name][1]:
                    assert not took, (name, padding, args)
                fast += took
    return fast


FLAGS = list(product((False, True), (False, True)))  # (cursor, hover)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_fast_path_matches_rich_for_every_cell_and_style(theme):
    async with cell_table(theme) as table:
        # The hover cursor counts only once the mouse has moved over the table (both ways in one theme).
        for shown in (False, True) if theme == "textual-dark" else (True,):
            table._show_hover_cursor = shown
            assert check(table, range(table.row_count), (0, 1), FLAGS) > 0


async def test_fast_path_matches_rich_under_other_cursor_priorities_paddings_and_fixed_rows():
    async with cell_table() as table:
        rows = [2 * NAMES.index(name) + parity for name in ("numeric critical", "model critical", "trend",
                                                            "text right trailing blanks", "text left", "wide")
                for parity in (0, 1)]  # fmt: skip
        for foreground, background in product(("css", "renderable"), repeat=2):
            table.cursor_foreground_priority, table.cursor_background_priority = foreground, background
            check(table, rows, (0, 2), FLAGS, paddings=(0, 2))  # (padding 1: the test above)
        table.fixed_rows = 1  # the first rows are styled as fixed cells
        check(table, [0, 1, 2], (0, 1), FLAGS, paddings=(1,))
        table.show_cursor = False
        check(table, rows, (0, 1), FLAGS, paddings=(1,))


async def test_a_new_cell_in_the_same_place_reuses_its_styles_and_still_matches_rich():
    """On a refresh a cell is replaced where it stands: LazyTable reuses the styles worked out for that place."""
    async with cell_table() as table:
        replacements = [name for name, (_, ordinary) in CASES.items() if ordinary]
        calls = []
        cell_styles = table._cell_styles
        table._cell_styles = lambda *args: calls.append(args) or cell_styles(*args)  # type: ignore[method-assign]
        for index, name in enumerate(replacements):
            row = 2 * NAMES.index(name) + index % 2
            row_key = table._row_locations.get_key(row)
            new = CASES[replacements[(index + 1) % len(replacements)]][0]
            for column, (cursor, hover) in product((0, 1), FLAGS):
                for base in base_styles(table, row, column):
                    args = (row, column, base, 44, cursor, hover)
                    fast_render(table, *args)  # the old cell, rendered and cached
                    old = table.get_cell_at((row, column))
                    table._write(row_key, {("a", "b", "c")[column]: new})
                    table._update_count += 1
                    worked_out = len(calls)
                    lines = table._render_cell(*args)
                    assert len(calls) == worked_out  # the styles were reused
                    assert same(lines, rich_render(table, *args)), (name, args)
                    table._write(row_key, {("a", "b", "c")[column]: old})


async def test_every_cell_painted_in_the_overview_matches_rich(make_app):
    """The cells, widths and styles a real paint of the overview uses (model, schema, numbers, trend)."""
    stale = make_row("stale-model", stale=True, request_rate=1.0)
    app = make_app([collected([*fleet(), stale])])
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 5)
        calls = []
        original = table._render_cell

        def record(*args, **kwargs):
            calls.append((args, kwargs))
            return original(*args, **kwargs)

        table._render_cell = record  # type: ignore[method-assign]
        table._show_hover_cursor = True
        table.hover_coordinate = table.cursor_coordinate.down()
        table._clear_caches()
        table.refresh()
        await pilot.pause()
        data = [(args, kwargs) for args, kwargs in calls if args[0] >= 0 and args[1] >= 0]
        assert len(data) >= 5 * len(table.columns)
        assert any(kwargs.get("cursor") for _, kwargs in data) and any(kwargs.get("hover") for _, kwargs in data)
        for args, kwargs in data:
            flags = (kwargs.get("cursor", False), kwargs.get("hover", False))
            full = (*args[:4], *flags) if len(args) == 4 else args
            assert same(fast_render(table, *full), rich_render(table, *full)), full
            assert taken(table, *full), full


async def test_ordinary_cells_skip_rich_and_fallbacks_go_through_it(monkeypatch):
    async with cell_table(hover_shown=False) as table:
        base = table._get_row_style(0, table.rich_style)
        width = {name: max(CASES[name][0].cell_len + 2, 12) for name in NAMES}  # room for every case
        expected = {name: rich_render(table, 2 * NAMES.index(name), 1, base, width[name], False, False)
                    for name in NAMES}  # fmt: skip
        renders = []
        original = Console.render_lines

        def counting(self, *args, **kwargs):
            renders.append(args)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(Console, "render_lines", counting)
        for name, (_, ordinary) in CASES.items():
            renders.clear()
            lines = fast_render(table, 2 * NAMES.index(name), 1, base, width[name], False, False)
            assert same(lines, expected[name]), name
            assert (not renders) if ordinary else renders, name


# -- the pure-Rich builder, without an app ---------------------------------------------------------------


def rich_lines(console: Console, text: Text, width: int, padding: int, pre: Style, post: Style,
               justify: str | None = None) -> list[list[Segment]]:  # fmt: skip
    """What DataTable asks Rich for, with a plain console."""
    options = console.options.update_dimensions(width, 1).update(no_wrap=True, justify=justify)
    return console.render_lines(Styled(Padding(text, (0, padding)), pre_style=pre, post_style=post), options)


PRE_POST = [
    (Style.null(), Style.null()),
    (Style(color="white", bgcolor="black") + Style.from_meta({"row": 1, "column": 2}), Style.null()),
    (Style(bgcolor="blue", italic=True), Style(color="yellow")),
    (Style.null(), Style(bgcolor="red")),
]


@pytest.mark.parametrize("justify", [None, "left", "right", "center", "full", "default"])
def test_builder_matches_rich_without_an_app(justify):
    console = Console(force_terminal=True, width=80, highlight=False, emoji=False, soft_wrap=False)
    taken = 0
    for name, (text, _) in CASES.items():
        for padding, (pre, post) in product((0, 1, 3), PRE_POST):
            for width in widths(text, padding):
                built = render_text_cell(text, width, padding, pre, post, console.get_style, justify=justify)
                if built is not None:
                    taken += 1
                    assert same(built, rich_lines(console, text, width, padding, pre, post, justify)), \
                        (name, justify, padding, width, pre, post)  # fmt: skip
    assert taken > len(CASES) * 12


def test_builder_declines_what_it_cannot_reproduce():
    console = Console(force_terminal=True, width=80)
    pre = Style(color="red")

    class Shouting(Text):
        def render(self, console, end=""):  # a subclass that renders differently
            return super().render(console, end)

    def build(text: Text, width: int = 10, padding: int = 1):
        return render_text_cell(text, width, padding, pre, Style.null(), console.get_style)

    assert build(Text("abc")) is not None
    assert build(Text("abcdefghi")) is None  # wider than the 8 cells inside the padding: truncated by Rich
    assert build(Text("abc"), width=2) is None  # no room inside the padding
    assert build(Text("abc"), padding=-1) is None
    assert build(_spanned("abc", [Span(1, 9, "red")])) is None  # a span past the end
    assert build(_spanned("abc", [Span(2, 1, "red")])) is None  # a span ending before it starts
    assert build(Shouting("abc")) is None
    for name, (text, ordinary) in CASES.items():
        if not ordinary:
            assert build(text, width=40) is None, name


def test_the_styles_layered_over_a_cell_are_worked_out_once():
    # A refresh layers the same few styles over every changed cell: the second time costs a lookup.
    pre, post = Style(bgcolor="blue") + Style.from_meta({"row": 1, "column": 2}), Style(bold=True)
    text = Text("12.3", style="italic", justify="right")
    first = render_text_cell(text, 8, 1, pre, post, Console().get_style)
    with patch.object(cell_render, "_add_layers", lambda *_: pytest.fail("styles layered again")):
        again = render_text_cell(Text("45.6", style="italic", justify="right"), 8, 1, pre, post, Console().get_style)
    assert first is not None and again is not None
    assert [segment.style for segment in again[0]] == [segment.style for segment in first[0]]
