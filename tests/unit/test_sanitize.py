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


@pytest.mark.parametrize(("raw", "expected"), [
    ("x" * 10, "x" * 10),  # exactly the limit: kept whole, no ellipsis
    ("x" * 11, "x" * 9 + "…"),  # one over: cut to limit - 1, plus the ellipsis (limit characters in all)
    ("\x1b" * 4 + "ab", "^[^[^[^[ab"),  # escaping grows it to exactly the limit
    ("\x1b" * 5 + "ab", "^[^[^[^[^…"),  # ...and one past it
    ("y" * 500, "y" * 9 + "…"),  # the long path (only the part that can survive is looked at)
])
def test_cap_is_exact(raw, expected):
    assert clean(raw, 10) == expected and len(clean(raw, 10)) == len(expected) <= 10


def test_held_secrets_are_masked_before_the_cap():
    from aitop.secret import Secret

    token = Secret("tok_MASKME_0123456789")
    assert clean("bad token Bearer tok_MASKME_0123456789") == "bad token Bearer ***"
    assert clean("x" * 5 + "tok_MASKME_0123456789", 10) == "xxxxx***"  # masked whole, not cut to a prefix
    straddling = "y" * 250 + "tok_MASKME_0123456789" + "z" * 1000  # starts before the cap, ends after it
    assert "tok_" not in clean(straddling) and clean(straddling).startswith("y" * 250 + "***")
    del token
    assert clean("bad token Bearer tok_MASKME_0123456789") == "bad token Bearer tok_MASKME_0123456789"  # gone


def test_masks_follow_the_live_secrets_and_their_encoded_forms():
    from aitop.secret import Secret

    text = "GET /x?key=p%40ss%20word%2F1 and p%40ss+word%2F1 and p@ss word/1"
    assert clean(text) == text  # cached unmasked while no such secret exists...
    password = Secret("p@ss word/1")
    assert clean(text) == "GET /x?key=*** and *** and ***"  # ...and masked once one does (cache keyed on it)
    assert clean("ab1") == "ab1" and not Secret("ab1").maskable  # too short to mask without garbling
    del password


def test_a_secret_cut_by_the_cap_never_shows_even_after_earlier_masks_shortened_the_text():
    from aitop.secret import Secret

    first, second = Secret("first_SECRET_0123456789abcdef"), Secret("second-SECRET-xyz-0987")
    text = "e " + first.reveal() + " " + first.reveal() + " tail " + second.reveal() + " and more text" * 3
    shown = clean(text, 40)
    assert "SECRET" not in shown and "second" not in shown and len(shown) == 40
    assert shown.startswith("e *** *** tail *** and more text and")
    del first, second
