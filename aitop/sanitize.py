"""The one boundary where untrusted strings become safe display text.

Label values, HELP text, alert annotations and server error bodies come from whoever controls an exporter or
a proxy. Before such a string enters the model it passes `clean()`: every credential aitop holds is masked
(a server may echo the request's `Authorization` header back), every control character that a terminal
would act on becomes a visible escape, and the length is capped. Rich/Textual markup is *not* escaped here —
widgets receive `rich.text.Text`, which never parses markup, so `[/]` or `[@click=…]` stay plain characters.

The threats and the tests that inject them: docs/failure-modes.md, hostile text.
"""

from __future__ import annotations

from functools import lru_cache

from aitop import secret as _secret
from aitop.secret import mask, mask_longest

#: Longest display string, in characters, after escaping.
MAX_LENGTH = 256
ELLIPSIS = "…"

# Bidi controls (Trojan Source, CVE-2021-42574) and zero-width characters: invisible, so make them visible.
_INVISIBLE = frozenset(
    [0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
    + [0x2028, 0x2029]
)


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\t":
        return " "
    if char == "\n":
        return "⏎"
    if code < 0x20:
        return "^" + chr(code + 0x40)  # caret notation: ESC -> ^[
    if code == 0x7F:
        return "^?"
    if 0x80 <= code <= 0x9F or code in _INVISIBLE:
        return f"<U+{code:04X}>"
    return char


def _needs_escape(code: int) -> bool:
    return code < 0x20 or 0x7F <= code <= 0x9F or code in _INVISIBLE


def _escape_all(text: str) -> str:
    if any(_needs_escape(ord(char)) for char in text):
        return "".join(_escape(char) for char in text)
    return text


@lru_cache(maxsize=8192)
def _clean_short(text: str, limit: int, secrets: int) -> str:
    # `secrets` (the secret registry's generation) is part of the key: a text cached before a credential
    # was loaded must be masked again.
    escaped = _escape_all(mask(text))
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + ELLIPSIS


def clean(text: object, limit: int = MAX_LENGTH) -> str:
    """Return `text` as a single line with every secret aitop holds masked (`***`), every control, bidi and
    zero-width character made visible, capped at `limit` characters (an ellipsis marks the cut)."""
    value = text if isinstance(text, str) else str(text)
    if len(value) <= limit:  # the common case, kept cheap: one cached call
        return _clean_short(value, limit, _secret.generation())
    window = limit + mask_longest()  # a secret that starts before the cut is masked whole, not half shown
    if len(value) <= window:
        return _clean_short(value, limit, _secret.generation())
    # Only the part that can survive the cap is looked at: a 1 MB label costs the same as a short one. Masking
    # shortens the text, so the part is widened until `window` characters are left after it: only then does
    # a secret cut at the part's end lie wholly beyond the cap.
    end = window
    head = mask(value[:end])
    while len(head) < window and end < len(value):
        end *= 2
        head = mask(value[:end])
    return _escape_all(head)[: limit - 1] + ELLIPSIS
