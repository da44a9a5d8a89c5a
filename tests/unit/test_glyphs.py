"""ASCII stand-ins for legacy-encoding outputs, and standard output that fails (full disk, closed)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

import aitop
from aitop.glyphs import ERROR_HANDLER, FALLBACK, stand_in, to_ascii, use_glyph_fallback
from aitop.outstream import GuardedOutput, guarded_stdout


def test_every_stand_in_is_ascii_and_as_wide_as_its_symbol():
    for symbol, ascii_text in FALLBACK.items():
        assert ascii_text.isascii() and ascii_text.isprintable(), symbol
        assert cell_len(ascii_text) == cell_len(symbol), (symbol, ascii_text)


def test_every_non_ascii_character_in_aitop_has_a_declared_stand_in():
    # Strings, comments and catalogs alike: a symbol added anywhere without a stand-in fails here.
    root = Path(aitop.__file__).parent
    found = {char: path.name for path in root.rglob("*") if path.suffix in (".py", ".toml", ".tcss")
             for char in path.read_text(encoding="utf-8") if not char.isascii()}
    generic = {char: path for char, path in found.items() if "?" in stand_in(char)}
    assert not generic, generic


def test_box_drawing_braille_and_unknown_characters_keep_their_width():
    assert to_ascii("╭──┬──╮") == "+--+--+" and to_ascii("│┃║") == "|||"
    assert to_ascii("⣿⠀") == ". "  # plot dots
    assert to_ascii("模型") == "????"  # double-width: one ? per terminal cell
    assert to_ascii("▁▂▃▄▅▆▇█") == ".,-~=+*#"  # sparkline heights stay ordered
    assert to_ascii("\u0301") == ""  # a combining accent takes no cell


def test_the_error_handler_replaces_only_what_the_encoding_cannot_encode():
    text = "✓ café · 2×3 — 👎 % ▲"
    assert text.encode("iso8859-1", ERROR_HANDLER).decode("iso8859-1") == "v café · 2×3 - -1 % ^"
    assert text.encode("ascii", ERROR_HANDLER) == b"v caf? . 2x3 - -1 % ^"
    assert text.encode("utf-8", ERROR_HANDLER).decode("utf-8") == text


def test_use_glyph_fallback_makes_a_latin1_stream_print_stand_ins():
    with pytest.raises(UnicodeEncodeError):  # Python's default for stdout
        io.TextIOWrapper(io.BytesIO(), encoding="iso8859-1", write_through=True).write("✓")
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="iso8859-1")
    use_glyph_fallback(stream)
    stream.write("✓ ok — done\n")
    stream.flush()
    assert raw.getvalue() == b"v ok - done\n"


class Failing(io.StringIO):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def write(self, text: str) -> int:
        raise self.error


def test_a_failed_write_is_remembered_and_everything_after_it_dropped():
    guard = GuardedOutput(Failing(OSError(28, "No space left on device")))
    assert guard.write("abc") == 3  # never raises
    guard.write("more")
    guard.flush()
    assert guard.lost == "No space left on device"
    assert GuardedOutput(io.StringIO()).lost is None


def test_guarded_stdout_is_taken_away_afterwards():
    original = sys.stdout
    with guarded_stdout() as guard:
        assert sys.stdout is guard
        print("through the guard")
    assert sys.stdout is original and guard.lost is None
