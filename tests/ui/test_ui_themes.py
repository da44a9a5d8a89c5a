"""Theme files: the built-in theme loads, bad files are skipped with a reason, the app applies the theme."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.theme import Theme
from ui_fakes import collected, fleet

from aitop.ui.app import AitopApp
from aitop.ui.themes import AITOP_VARIABLES, builtin_theme_dirs, load_themes, palette_from_variables
from aitop.ui.widgets import TopTable

GOOD = """
name = "paper"
primary = "#224488"
background = "#FAFAFA"
dark = false
[variables]
aitop-critical = "#AA0000"
"""

BAD = {
    "broken.toml": "name = 'x\n",
    "colour.toml": 'name = "c"\nprimary = "not-a-colour"\n',
    "unknown.toml": 'name = "u"\nprimary = "#123456"\nprimery = "#123456"\n',
    "noname.toml": 'primary = "#123456"\n',
    "badname.toml": 'name = "a b{}"\nprimary = "#123456"\n',
    "dark.toml": 'name = "d"\nprimary = "#123456"\ndark = "yes"\n',
    "variable.toml": 'name = "v"\nprimary = "#123456"\n[variables]\naitop-warning = "$warning 50%"\n',
    "zz-duplicate.toml": 'name = "paper"\nprimary = "#000000"\n',
}


def test_builtin_theme_loads():
    assert builtin_theme_dirs(), "themes/ (or the packaged aitop/_themes) must be found"
    loaded = load_themes()
    assert loaded.problems == ()
    theme = {theme.name: theme for theme in loaded.themes}["aitop-dark"]
    assert theme.dark is True
    assert set(AITOP_VARIABLES) <= set(theme.variables)


def test_bad_theme_files_are_skipped_with_a_reason(tmp_path: Path):
    (tmp_path / "good.toml").write_text(GOOD)
    for name, text in BAD.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    loaded = load_themes([tmp_path])
    assert [theme.name for theme in loaded.themes] == ["paper"]
    assert loaded.themes[0].variables == {"aitop-critical": "#AA0000"} and loaded.themes[0].dark is False
    assert len(loaded.problems) == len(BAD) + 1
    for name in [*BAD, "binary.toml"]:
        assert any(name in problem for problem in loaded.problems), name


def test_palette_falls_back_on_unusable_values():
    palette = palette_from_variables({"aitop-critical": "#FF0000", "aitop-warning": "nonsense"})
    assert palette.critical == "#FF0000" and palette.warning == "yellow"


def test_tcss_uses_variables_not_hex_colours():
    tcss = (Path(__import__("aitop.ui").ui.__file__).parent / "aitop.tcss").read_text()
    values = re.findall(r":\s*([^;{}]*);", tcss)
    assert values and not any(re.search(r"#[0-9a-fA-F]{3,8}\b|rgb\(|hsl\(", value) for value in values)
    assert "$aitop-" in tcss


async def test_app_uses_aitop_dark_and_declares_variables_for_any_theme(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.theme == "aitop-dark"
        assert set(AITOP_VARIABLES) <= set(app.theme_variables)
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        error_column = [column.key.value for column in table.ordered_columns].index("error_rate")

        def critical_colour() -> str:
            cell = table.get_row("vllm\x1fmixtral-8x7b")[error_column]
            return cell.spans[0].style.color.triplet.hex.upper()

        assert critical_colour() == app.theme_variables["aitop-critical"].upper()
        # A theme without aitop-* variables (a user's, say): the CSS must still parse.
        app.register_theme(Theme("bare", primary="#0550AE", error="#A40E26", dark=False))
        app.theme = "bare"
        await pilot.pause()
        await pilot.pause()
        assert app.theme_variables["aitop-critical"] == app.current_theme.error
        assert critical_colour() == app.current_theme.error.upper()


@pytest.mark.parametrize("name", ["no-such-theme"])
async def test_unknown_theme_falls_back_with_a_notice(make_app, name):
    app: AitopApp = make_app([collected(fleet())], theme_name=name)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "aitop-dark"
        assert any("no-such-theme" in str(note.message) for note in app._notifications)


def test_builtin_themes_are_complete_and_severities_distinct():
    loaded = load_themes()
    names = {theme.name for theme in loaded.themes}
    assert {"aitop-dark", "aitop-light", "aitop-high-contrast", "aitop-okabe-ito"} <= names
    for theme in loaded.themes:
        assert set(AITOP_VARIABLES) <= set(theme.variables), theme.name
        severities = {theme.variables[name].upper() for name in ("aitop-ok", "aitop-warning", "aitop-critical")}
        assert len(severities) == 3, theme.name
    light = {theme.name: theme for theme in loaded.themes}["aitop-light"]
    assert light.dark is False
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    okabe = {theme.name: theme for theme in loaded.themes}["aitop-okabe-ito"]
    used = {okabe.variables[name].upper() for name in AITOP_VARIABLES if name != "aitop-muted"}
    assert used <= okabe_ito


async def test_user_themes_load_replace_and_report_bad_files(make_app, isolate_user_themes):
    isolate_user_themes.mkdir()
    (isolate_user_themes / "paper.toml").write_text(GOOD)
    (isolate_user_themes / "broken.toml").write_text(BAD["colour.toml"])
    (isolate_user_themes / "dark.toml").write_text(
        'name = "aitop-dark"\nprimary = "#123456"\n[variables]\naitop-critical = "#AA0000"\n')
    app = make_app([collected(fleet())], theme_name="paper")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "paper"
        assert app.theme_names[-1] == "paper" and app.theme_names[0] == "aitop-dark"
        assert any("broken.toml" in str(note.message) for note in app._notifications)
        app.theme = "aitop-dark"
        await pilot.pause()
        assert app.theme_variables["aitop-critical"].upper() == "#AA0000"  # the user's copy replaced it


def test_a_palette_is_made_once_per_set_of_colours_and_follows_a_change(monkeypatch) -> None:
    from aitop.ui import themes

    made: list[object] = []
    make = themes._make_palette
    monkeypatch.setattr(themes, "_make_palette", lambda variables: made.append(1) or make(variables))
    variables = {"aitop-critical": "#FF0101", "aitop-warning": "#FFFF01", "unrelated": "x"}
    first = palette_from_variables(variables)
    assert palette_from_variables(dict(variables, unrelated="y")) is first  # asked again: not made again
    assert made == [1]
    other = palette_from_variables(dict(variables, **{"aitop-critical": "#FE0000"}))
    assert other.critical == "#FE0000" and first.critical == "#FF0101" and made == [1, 1]
