"""Legibility: WCAG 2.x contrast computed from the theme data, for every built-in theme and NO_COLOR.

Text (numbers, alert messages, the status line, headings) must reach AA, 4.5:1, on every background it is
drawn on: the surface, the panel (status line, headings, sidebar title) and the zebra stripes (the panel at
40 % over the surface, as the TCSS draws odd rows). Marks (sparklines, chart series) must reach 3:1.
`dim` is never used for text: Textual draws it as a 50 % blend with the background, about 2:1.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.style import Style
from textual.color import Color
from ui_fakes import T0, alert, collected, fleet, make_row

from aitop.model import Severity
from aitop.ui.alert_text import alert_text
from aitop.ui.cells import model_cell, numeric_cell, schema_cell
from aitop.ui.themes import CHART_VARIABLES, NO_COLOR_VARIABLE, load_themes, palette_from_variables

TEXT = 4.5
MARKS = 3.0
THEMES = {theme.name: theme for theme in load_themes().themes}
TEXT_COLOURS = ("foreground", "primary", "aitop-ok", "aitop-warning", "aitop-critical", "aitop-muted")


def luminance(colour: Color) -> float:
    """WCAG 2.x relative luminance."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def backgrounds(theme) -> dict[str, Color]:
    surface, panel = Color.parse(theme.surface), Color.parse(theme.panel)
    return {"surface": surface, "panel": panel, "zebra": surface.blend(panel, 0.4)}


def colour(theme, name: str) -> Color:
    return Color.parse(getattr(theme, name) if name in ("foreground", "primary") else theme.variables[name])


def test_the_four_builtin_themes_are_checked():
    assert set(THEMES) == {"aitop-dark", "aitop-light", "aitop-high-contrast", "aitop-okabe-ito"}


@pytest.mark.parametrize("name", sorted(THEMES))
def test_text_reaches_wcag_aa_on_every_background(name):
    theme = THEMES[name]
    failures = [
        f"{text} on {where}: {contrast(colour(theme, text), background):.2f}:1"
        for text in TEXT_COLOURS
        for where, background in backgrounds(theme).items()
        if contrast(colour(theme, text), background) < TEXT
    ]
    assert not failures, f"{name}: " + "; ".join(failures)


@pytest.mark.parametrize("name", sorted(THEMES))
def test_marks_reach_three_to_one(name):
    theme = THEMES[name]
    failures = [
        f"{mark} on {where}: {contrast(colour(theme, mark), background):.2f}:1"
        for mark in CHART_VARIABLES
        for where, background in backgrounds(theme).items()
        if contrast(colour(theme, mark), background) < MARKS
    ]
    assert not failures, f"{name}: " + "; ".join(failures)


@pytest.mark.parametrize("name", sorted(THEMES))
def test_the_stale_status_line_stays_legible(name):
    """The status line turns critical at 20 % over the panel when the data is stale; its text stays AA."""
    theme = THEMES[name]
    stale = Color.parse(theme.panel).blend(colour(theme, "aitop-critical"), 0.2)
    assert contrast(Color.parse(theme.foreground), stale) >= TEXT


def test_the_measure_itself():
    assert contrast(Color.parse("#000000"), Color.parse("#FFFFFF")) == pytest.approx(21.0)
    assert contrast(Color.parse("#777777"), Color.parse("#FFFFFF")) == pytest.approx(4.48, abs=0.01)


def _styles(text) -> list[Style]:
    styles = [text.style] if isinstance(text.style, Style) else []
    return styles + [span.style for span in text.spans if isinstance(span.style, Style)]


def test_no_color_marks_by_attributes_and_never_dims():
    """Under NO_COLOR every colour is the terminal's default: nothing may be dimmed (a 50 % blend, about 2:1),
    and a critical value is reversed, so it stands out more than normal text, not less."""
    palette = palette_from_variables({NO_COLOR_VARIABLE: "1"})
    row = replace(make_row("m", request_rate=1.0, error_rate=0.5, latency_p95=None),
                  severity={"error_rate": Severity.CRITICAL})
    cells = [numeric_cell(row, "error_rate", palette), numeric_cell(row, "latency_p95", palette),
             numeric_cell(row, "request_rate", palette, dim=True), model_cell(row, palette, dim=True),
             schema_cell(row, palette, dim=True)]  # fmt: skip
    resolved = alert("m", state="resolved")
    texts = [*cells, alert_text(resolved, T0, palette, width=40), alert_text(alert("m"), T0, palette, width=40)]
    assert not any(style.dim for text in texts for style in _styles(text))
    assert all(style.reverse for style in _styles(cells[0]))
    assert any(style.italic for style in _styles(cells[2]))  # stale: italic instead of dim


async def test_the_palette_offers_only_aitops_themes(make_app):
    """The palette's "Theme" command lists the registered themes: Textual's own (nord: critical 1.6:1) are
    not among them; aitop's are, and a user's own would be."""
    app = make_app([collected(fleet())])
    async with app.run_test(size=(100, 30)):
        assert set(app.available_themes) == set(THEMES)
        assert "nord" not in app.available_themes and "textual-dark" not in app.available_themes
