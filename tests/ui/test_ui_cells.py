"""Cell building without an app: formatting, severity marks, missing values, numeric sort order."""

from __future__ import annotations

import math
from dataclasses import replace
from unittest.mock import patch

import pytest
from rich.console import Console
from rich.style import Style
from rich.text import Text
from ui_fakes import make_row

from aitop.format import MISSING_MARK
from aitop.model import Severity
from aitop.ui import cells
from aitop.ui.cells import MODEL_WIDTH, Palette, SortableText, cell_value, model_cell, numeric_cell, schema_cell
from aitop.ui.view import SortOrder

PALETTE = Palette(ok="#00FF00", warning="#FFFF00", critical="#FF0000", muted="#808080")


def test_nan_is_missing_not_a_number():
    row = make_row("m", latency_p95=math.nan)
    cell = numeric_cell(row, "latency_p95", PALETTE)
    assert cell.plain == MISSING_MARK and cell.value is None


def test_warning_and_critical_carry_a_symbol_not_only_colour():
    row = replace(make_row("m", error_rate=0.02, latency_p95=3.0),
                  severity={"error_rate": Severity.WARNING, "latency_p95": Severity.CRITICAL})  # fmt: skip
    warning = numeric_cell(row, "error_rate", PALETTE)
    critical = numeric_cell(row, "latency_p95", PALETTE)
    assert warning.plain == "▲ 2.0%" and critical.plain == "‼ 3.00s"
    assert {span.style.color.name for span in warning.spans} == {"#ffff00"}
    assert all(span.style.bold for span in critical.spans)
    assert model_cell(row, PALETTE).plain == "● m"


def test_stale_row_is_faded_not_dim_and_long_names_are_cut():
    row = make_row("x" * 300, request_rate=1.0)
    cells = [model_cell(row, PALETTE, dim=True), schema_cell(row, PALETTE, dim=True),
             numeric_cell(row, "request_rate", PALETTE, dim=True), numeric_cell(row, "latency_p95", PALETTE, dim=True)]
    # Italic in the muted colour (4.5:1 in every theme), never dim (a 50% blend, about 2:1).
    assert all("italic" in str(cell.style) and "dim" not in str(cell.style) for cell in cells)
    model = cells[0]
    assert len(model.plain) == MODEL_WIDTH + 2 and model.plain.endswith("…")
    assert model.value == row.group  # the sort (and drill-down) keep the whole (sanitised) label


def test_sorting_is_numeric_with_missing_last():
    rows = [make_row("b", request_rate=9.5), make_row("a", request_rate=None), make_row("c", request_rate=10.0),
            make_row("a2", request_rate=9.5), make_row("z", request_rate=0.0)]  # fmt: skip
    ranked = [row.group for row in SortOrder("request_rate").rank(rows)]
    assert ranked == ["c", "a2", "b", "z", "a"]
    # inverted: smallest first, but unknown still last
    assert [row.group for row in SortOrder("request_rate", reverse=True).rank(rows)] == ["z", "a2", "b", "c", "a"]
    # "10.0" < "9.5" as strings; the cells compare as numbers
    assert SortableText("9.5", value=9.5) < SortableText("10.0", value=10.0)
    assert SortableText(MISSING_MARK, value=None) < SortableText("0", value=0.0)


def test_a_row_with_a_replica_down_says_so_in_its_model_cell():
    row = replace(make_row("llama-3.1-8b", request_rate=2.0), replicas=(2, 3))
    assert model_cell(row, PALETTE).plain == "  llama-3.1-8b 2/3 replicas up"
    assert model_cell(replace(row, replicas=(3, 3)), PALETTE).plain == "  llama-3.1-8b"
    long = replace(row, group="m" * 60)
    assert model_cell(long, PALETTE).plain.endswith(" 2/3 replicas up")  # the name gives way, not the note


def test_a_cells_look_is_worked_out_once():
    # The table compares a changed cell with the old one two or three times a refresh.
    cell = numeric_cell(make_row("m", request_rate=12.5), "request_rate", Palette())
    assert cell.signature() is cell.signature()
    assert cell.signature() == (cell.plain, str(cell.style), tuple(cell.spans))


def test_a_cell_made_from_what_the_table_already_worked_out_does_not_work_it_out_again(monkeypatch):
    row = make_row("m", request_rate=12.5)
    expected = numeric_cell(row, "request_rate", Palette())
    monkeypatch.setattr(cells, "cell_value", lambda *_: pytest.fail("formatted again"))
    monkeypatch.setattr(cells, "has_info", lambda *_: pytest.fail("asked again"))
    cell = numeric_cell(row, "request_rate", Palette(), shown="12.5", noted=False)
    assert cell.signature() == expected.signature() and cell.value == expected.value


def test_a_plain_numeric_cell_is_made_in_one_step_and_equals_one_appended_to() -> None:
    row = replace(make_row("m", request_rate=12.34, error_rate=0.2), severity={"error_rate": Severity.CRITICAL})
    palette = Palette()
    for dim in (False, True):
        with patch.object(Text, "append", side_effect=AssertionError("appended")):
            made = numeric_cell(row, "request_rate", palette, dim=dim)
        appended = SortableText(style=palette.faded() if dim else "", value=12.34, justify="right")
        appended.append(cell_value("request_rate", 12.34), Style())
        assert made.signature() == appended.signature() and made.value == appended.value
        assert (made.justify, made.no_wrap, made.end) == (appended.justify, appended.no_wrap, appended.end)
        assert list(Console().render(made)) == list(Console().render(appended))
    assert "‼" in numeric_cell(row, "error_rate", palette).plain  # (a marked cell still goes the long way)
