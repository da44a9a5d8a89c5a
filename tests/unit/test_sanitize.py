"""The display boundary: nothing a terminal acts on survives, and length is capped."""

import pytest

from aitop.sanitize import MAX_LENGTH, clean


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("llama-3.1-8b", "llama-3.1-8b"),
        ("\x1b]0;pwned\x07", "^[]0;pwned^G"),
        ("\x1b]52;c;SGVsbG8=\x07", "^[]52;c;SGVsbG8=^G"),
        ("a\x9bb", "a<U+009B>b"),
        ("tab\there", "tab here"),
        ("two\nlines\r", "two⏎lines^M"),
        ("del\x7f", "del^?"),
        ("abc\u202edcb", "abc<U+202E>dcb"),
        ("zero\u200bwidth", "zero<U+200B>width"),
        ("[/]", "[/]"),  # markup is neutralised by rendering as Text, not by editing the string
    ],
)
def test_clean(raw, expected):
    assert clean(raw) == expected


def test_long_strings_are_capped_with_an_ellipsis():
    out = clean("x" * 1_000_000)
    assert len(out) == MAX_LENGTH and out.endswith("…")


def test_escapes_near_the_cap_never_leak_a_raw_control():
    out = clean("\x1b" * 1000)
    assert "\x1b" not in out and len(out) <= MAX_LENGTH


def test_non_strings_are_stringified():
    assert clean(42) == "42"
