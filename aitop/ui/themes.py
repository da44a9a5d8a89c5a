"""Themes as data: `themes/*.toml` files become `textual.theme.Theme` objects.

A theme file holds the fields of `Theme` (``name``, ``primary``, ``background``, ``dark`` …) and an optional
``[variables]`` table, where aitop reads its own ``aitop-*`` colours. A file that cannot be read or does not
validate is skipped and reported; it never stops the app.

Built-in themes ship in `themes/`; users add their own as ``<user config dir>/aitop/themes/*.toml``
(platformdirs), where a file may also replace a built-in of the same name.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_dir
from textual.color import Color, ColorParseError
from textual.theme import Theme

import aitop
from aitop.sanitize import clean
from aitop.ui.cells import Palette

DEFAULT_THEME = "aitop-dark"
#: The order `t` cycles through the shipped themes; user themes follow, by name.
BUILTIN_ORDER: tuple[str, ...] = ("aitop-dark", "aitop-light", "aitop-high-contrast", "aitop-okabe-ito")

#: Chart series variables, in plotting order.
CHART_VARIABLES: tuple[str, ...] = ("aitop-chart-1", "aitop-chart-2", "aitop-chart-3", "aitop-chart-4")
#: aitop's own theme variables. Every TCSS reference to one of these must resolve under any theme.
AITOP_VARIABLES: tuple[str, ...] = ("aitop-ok", "aitop-warning", "aitop-critical", "aitop-muted", *CHART_VARIABLES)

#: Set (to "1") by the app under NO_COLOR: colours are gone, so the palette marks by attributes instead.
NO_COLOR_VARIABLE = "aitop-no-color"

_COLOUR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)  # fmt: skip
_FLOAT_FIELDS = ("luminosity_spread", "text_alpha")
_KNOWN_FIELDS = frozenset({"name", "dark", "variables", *_COLOUR_FIELDS, *_FLOAT_FIELDS})
# The name becomes a CSS class (-theme-<name>) on the App, so keep it to characters a class allows.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ThemeFileError(ValueError):
    """A theme file that does not describe a usable theme."""


@dataclass(frozen=True, slots=True)
class ThemeLoad:
    """The themes that loaded, and one line per file that did not."""

    themes: tuple[Theme, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def builtin_theme_dirs() -> tuple[Path, ...]:
    """Where the shipped themes live: inside the wheel, else (editable install) the repository's `themes/`."""
    package = Path(aitop.__file__).parent
    for candidate in (package / "_themes", package.parent / "themes"):
        if candidate.is_dir():
            return (candidate,)
    return ()


def user_theme_dir() -> Path:
    """Where a user's own theme files live (tests point this at a temporary directory)."""
    return Path(user_config_dir("aitop")) / "themes"


def _colour(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{where}: expected a colour string, got {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{where}: not a colour: {clean(value, 40)!r}") from None
    return value


def theme_from_mapping(data: Mapping[str, object]) -> Theme:
    """Validate a parsed theme file and build the `Theme`; raises `ThemeFileError` naming the bad key."""
    unknown = sorted(set(data) - _KNOWN_FIELDS)
    if unknown:
        raise ThemeFileError(f"unknown key {clean(unknown[0], 40)!r}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeFileError("name: required; letters, digits, '-' and '_' only")
    if "primary" not in data:
        raise ThemeFileError("primary: required")
    kwargs: dict[str, object] = {key: _colour(data[key], key) for key in _COLOUR_FIELDS if key in data}
    for key in _FLOAT_FIELDS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ThemeFileError(f"{key}: expected a number")
            kwargs[key] = float(value)
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError("dark: expected true or false")
    raw_variables = data.get("variables", {})
    if not isinstance(raw_variables, dict):
        raise ThemeFileError("variables: expected a table")
    variables: dict[str, str] = {}
    for key, value in raw_variables.items():
        if key in AITOP_VARIABLES:
            # These feed Rich styles directly, so they must be plain colours, not CSS expressions.
            variables[key] = _colour(value, f"variables.{key}")
        elif isinstance(value, str):
            variables[key] = value
        else:
            raise ThemeFileError(f"variables.{clean(key, 40)}: expected a string")
    # Textual's typing gap: each key of `kwargs` was checked above against Theme's own (colours are str,
    # the rest float), but a dict's keys cannot carry that to the type checker.
    return Theme(name=name, dark=dark, variables=variables, **kwargs)  # type: ignore[arg-type]


def load_theme_file(path: Path) -> Theme:
    """Read one TOML theme file; raises `ThemeFileError` (or `OSError`) when it is unusable."""
    with path.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ThemeFileError(f"not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ThemeFileError("not UTF-8 text") from None
    return theme_from_mapping(data)


def load_themes(dirs: Iterable[Path] | None = None) -> ThemeLoad:
    """Every `*.toml` theme in `dirs` (default: the built-in ones), in name order; the first of a name wins."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in builtin_theme_dirs() if dirs is None else dirs:
        for path in sorted(Path(directory).glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except (OSError, ThemeFileError) as exc:
                problems.append(clean(f"theme {path.name} skipped: {exc}"))
                continue
            if theme.name in themes:
                problems.append(clean(f"theme {path.name} skipped: {theme.name!r} is already defined"))
                continue
            themes[theme.name] = theme
    return ThemeLoad(tuple(themes.values()), tuple(problems))


def load_all_themes(user_dir: Path | None = None) -> ThemeLoad:
    """The built-in themes, then the user's (which may replace a built-in of the same name)."""
    builtin = load_themes()
    directory = user_theme_dir() if user_dir is None else user_dir
    user = load_themes([directory]) if directory.is_dir() else ThemeLoad()
    themes = {theme.name: theme for theme in builtin.themes}
    themes.update({theme.name: theme for theme in user.themes})
    return ThemeLoad(tuple(themes.values()), builtin.problems + user.problems)


def theme_cycle(names: Iterable[str]) -> list[str]:
    """The themes `t` steps through: the shipped ones in their fixed order, then any others by name."""
    names = set(names)
    return [name for name in BUILTIN_ORDER if name in names] + sorted(names - set(BUILTIN_ORDER))


def next_theme(current: str, cycle: list[str]) -> str:
    """The theme after `current` in `cycle` (the first one when `current` is not in it)."""
    if not cycle:
        return current
    if current not in cycle:
        return cycle[0]
    return cycle[(cycle.index(current) + 1) % len(cycle)]


def variable_defaults(theme: Theme) -> dict[str, str]:
    """Fallbacks for the aitop-* variables under a theme that does not define them (e.g. Textual's own)."""
    return {
        "aitop-ok": theme.success or "#4EBF71",
        "aitop-warning": theme.warning or "#FFA62B",
        "aitop-critical": theme.error or "#BA3C5B",
        "aitop-muted": "#808080",
        "aitop-chart-1": theme.primary or "#5AA9E6",
        "aitop-chart-2": theme.accent or theme.warning or "#F2A541",
        "aitop-chart-3": theme.secondary or "#C678DD",
        "aitop-chart-4": theme.success or "#7EE787",
    }


def _rich_colour(value: str | None, fallback: str) -> str:
    # Theme variables may be any CSS colour form; Rich wants plain hex.
    try:
        return Color.parse(value).hex6 if value else fallback
    except ColorParseError:
        return fallback


_PALETTE_VARIABLES = ("aitop-ok", "aitop-warning", "aitop-critical", "aitop-muted", NO_COLOR_VARIABLE, *CHART_VARIABLES)
_palettes: dict[tuple[str | None, ...], Palette] = {}  # the variables above -> their palette


def palette_from_variables(variables: Mapping[str, str]) -> Palette:
    """The Rich colours for table and status cells, from `App.theme_variables`. Asked several times a
    refresh: one palette per set of colours is made once (and, being the same object, compares at once)."""
    key = tuple(variables.get(name) for name in _PALETTE_VARIABLES)
    palette = _palettes.get(key)
    if palette is None:
        if len(_palettes) >= 64:  # themes are few; this only bounds a session that edits them endlessly
            _palettes.clear()
        palette = _palettes[key] = _make_palette(variables)
    return palette


def _make_palette(variables: Mapping[str, str]) -> Palette:
    return Palette(
        ok=_rich_colour(variables.get("aitop-ok"), "green"),
        warning=_rich_colour(variables.get("aitop-warning"), "yellow"),
        critical=_rich_colour(variables.get("aitop-critical"), "red"),
        muted=_rich_colour(variables.get("aitop-muted"), "grey50"),
        no_color=variables.get(NO_COLOR_VARIABLE) == "1",
        series=tuple(
            _rich_colour(variables.get(name), fallback)
            for name, fallback in zip(CHART_VARIABLES, Palette().series, strict=True)
        ),
    )
