"""ASCII stand-ins for every symbol aitop (and Textual under it) draws, for outputs that cannot encode them.

A terminal or pipe in ISO-8859-1, ASCII or any other legacy encoding cannot show `✓`, `▲`, `—`, sparkline
blocks or box-drawing borders. Python's default for stdout is to raise (`snapshot` would exit 70) and for
stderr, where Textual draws the TUI, to print `\\u2713` — six columns for a one-column symbol, so every
line after it is torn. `use_glyph_fallback()` installs a codec error handler on the standard streams
instead: only a character the stream's encoding cannot encode is replaced, by its stand-in from
`FALLBACK`, else by a generic one of the same width, so layouts computed in terminal cells stay true.
A UTF-8 output never calls the handler; ISO-8859-1 keeps its own `·`, `×` and `µ`.
"""

from __future__ import annotations

import codecs
import sys
import unicodedata
from functools import lru_cache

from rich.cells import cell_len

#: The name the handler is registered under, for `str.encode(..., errors=ERROR_HANDLER)`.
ERROR_HANDLER = "aitop-glyphs"

#: Every symbol aitop draws, with its stand-in: the same number of terminal cells, so nothing shifts.
FALLBACK: dict[str, str] = {
    # severity, health and status marks
    "✓": "v", "✗": "x", "✕": "x", "▲": "^", "▼": "v", "‼": "!", "●": "*", "○": "o", "⭘": "o", "⚠": "!",
    "👎": "-1", "👍": "+1",
    # chart markers: restart, deployment
    "↻": "@", "⚑": "#",
    # punctuation and units
    "—": "-", "–": "-", "…": "~", "·": ".", "×": "x", "µ": "u", "Δ": "D", "⏎": "|", "•": "*", "°": "o",
    "\u00a0": " ", "≥": ">", "≤": "<", "≈": "~", "±": "+", "÷": "/", "σ": "s", "−": "-", "§": "S",
    # arrows (keys in the help screen, sort direction)
    "↑": "^", "↓": "v", "←": "<", "→": ">", "▶": ">", "◀": "<", "▸": ">", "◂": "<", "⏵": ">", "⏴": "<", "⏸": "=",
    # sparkline and bar heights, lowest to highest
    "▁": ".", "▂": ",", "▃": "-", "▄": "~", "▅": "=", "▆": "+", "▇": "*", "█": "#",
    # shades and partial blocks (scrollbars, tall borders, plot fills)
    "░": ":", "▒": "%", "▓": "#", "▔": " ", "▏": "|", "▎": "|", "▍": "|", "▌": "|", "▋": "|", "▊": "|",
    "▉": "#", "▐": "|", "▕": "|",
}


@lru_cache(maxsize=4096)
def stand_in(char: str) -> str:
    """The ASCII stand-in for one character: from `FALLBACK`, from its Unicode name for box drawing and
    braille (plot dots), else `?` per terminal cell (nothing for a combining mark)."""
    if char in FALLBACK:
        return FALLBACK[char]
    if char.isascii():
        return char
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        words = set(name.split())
        if "HORIZONTAL" in words and not words & {"VERTICAL", "UP", "DOWN"}:
            return "-"
        if "VERTICAL" in words and not words & {"HORIZONTAL", "LEFT", "RIGHT"}:
            return "|"
        return "+"  # corners, tees, crossings and half lines
    if name.startswith("BRAILLE PATTERN"):
        return " " if char == "\u2800" else "."
    return "?" * cell_len(char)


def to_ascii(text: str) -> str:
    """`text` with every non-ASCII character replaced by its stand-in."""
    return text if text.isascii() else "".join(stand_in(char) for char in text)


def _handler(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return to_ascii(error.object[error.start : error.end]), error.end


codecs.register_error(ERROR_HANDLER, _handler)


def can_encode(encoding: str | None, text: str) -> bool:
    """Whether `encoding` represents every character of `text` (False for an unknown encoding)."""
    try:
        text.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def use_glyph_fallback(*streams: object) -> None:
    """Make the standard streams (or `streams`) write stand-ins instead of raising or printing `\\uXXXX`.

    Streams that cannot be reconfigured (replaced by a test harness, closed, or None) are left alone.
    """
    targets = streams or (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    for stream in targets:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors=ERROR_HANDLER)
        except (ValueError, OSError, AttributeError):  # closed, or not a text stream after all
            continue
