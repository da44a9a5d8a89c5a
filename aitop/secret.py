"""Credentials that cannot leak by accident.

A `Secret` prints as `***` in str(), repr(), f-strings (whatever the format spec), logs and tracebacks with
locals; the value comes out only through `reveal()`, which is called where an HTTP request's auth header is
built and nowhere else. Secrets are read from files or environment variables, never from the command line
(visible in `ps`).

A server can still send a credential back: some proxies and API gateways echo the request's `Authorization`
header in their error bodies. So every live `Secret` is also remembered here, and `mask()` replaces each of
them — and the forms a request carries it in (percent-encoded, base64 basic auth) — with `***` in any text.
`aitop.sanitize.clean()` calls it where untrusted text enters the model, and every writer (JSON, table,
`check`, stderr, the log, crash files) calls it again on what it writes.
"""

from __future__ import annotations

import os
import stat
import threading
import weakref
from pathlib import Path
from urllib.parse import quote, quote_plus

MASK = "***"
#: Shorter values are not masked (a header value "1" would blank every digit); a config warning says so.
MIN_MASKED_LENGTH = 4

# Live secrets: id -> (weak reference, the forms to mask). Worker threads mask too, so the registry is
# changed and read under a lock; a secret's death only bumps the generation (a weakref callback can run
# inside any allocation, even one made while the lock is held), and dead entries are dropped on the next read.
_lock = threading.RLock()
_live: dict[int, tuple[weakref.ref, tuple[str, ...]]] = {}
_generation = 0
_masks_cache: tuple[int, tuple[str, ...]] = (-1, ())


def _changed(_ref: object = None) -> None:
    global _generation
    _generation += 1


def _forms(value: str) -> tuple[str, ...]:
    """The ways `value` can come back in text: as sent, and percent-encoded (URLs, form bodies)."""
    if len(value) < MIN_MASKED_LENGTH:
        return ()
    return tuple(dict.fromkeys((value, quote(value, safe=""), quote_plus(value, safe=""))))


class Secret:
    """A credential; `str()`, `repr()` and `format()` never show it, and `mask()` hides it in any text."""

    __slots__ = ("_value", "__weakref__")

    def __init__(self, value: str) -> None:
        self._value = value
        forms = _forms(value)
        if forms:
            with _lock:
                _live[id(self)] = (weakref.ref(self, _changed), forms)
                _changed()

    def reveal(self) -> str:
        """The credential itself. Call only where it goes into a request."""
        return self._value

    @property
    def maskable(self) -> bool:
        """Whether `mask()` can hide it (values under `MIN_MASKED_LENGTH` characters cannot be)."""
        return len(self._value) >= MIN_MASKED_LENGTH

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK  # whatever the spec: f"{token:>40}" must not print the value either

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickling would copy the value into places nobody audits
        raise TypeError("a Secret cannot be pickled")


def generation() -> int:
    """A number that changes whenever the set of live secrets does (for caches of masked text)."""
    return _generation


def _masks() -> tuple[str, ...]:
    global _masks_cache
    cache = _masks_cache
    if cache[0] == _generation:
        return cache[1]
    with _lock:
        stamp, forms = _generation, set[str]()
        for key, (ref, secret_forms) in list(_live.items()):
            if ref() is None:
                del _live[key]
            else:
                forms.update(secret_forms)
        cache = (stamp, tuple(sorted(forms, key=len, reverse=True)))  # longest first: no partial hits
        _masks_cache = cache
    return cache[1]


def mask(text: str) -> str:
    """`text` with every live secret (in any of the forms it is sent in) replaced by `***`."""
    for form in _masks():
        if form in text:
            text = text.replace(form, MASK)
    return text


def mask_data(value: object) -> object:
    """`value` (JSON-like: dicts, lists, strings, numbers) with `mask()` applied to every string in it, keys
    included. Masking the data rather than its JSON text keeps the JSON valid whatever a secret looks like."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(k) if isinstance(k, str) else k: mask_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(item) for item in value]
    return value


def mask_longest() -> int:
    """The length of the longest text `mask()` replaces (0 when there is none)."""
    masks = _masks()
    return len(masks[0]) if masks else 0


class SecretFileError(ValueError):
    """A credential file cannot be used; the message names the file, never its content."""


def check_value(value: str, where: str) -> str | None:
    """Why `value` cannot be sent in an HTTP header (None when it can); never quotes the value."""
    if "\n" in value or "\r" in value:
        return f"{where} holds more than one line: it must hold the credential alone, on one line"
    if any(ord(char) < 0x20 and char != "\t" or ord(char) == 0x7F for char in value):
        return f"{where} holds control characters, which cannot be sent in an HTTP header"
    return None


def read_secret_file(path: str | os.PathLike[str]) -> tuple[Secret, str | None]:
    """The secret in `path` (surrounding whitespace stripped) and a warning if its group or others can read
    the file. A file with more than one line is refused (a header cannot carry it)."""
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
        value = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SecretFileError(f"cannot read {file}: {reason}") from None
    if not value:
        raise SecretFileError(f"{file} is empty")
    problem = check_value(value, str(file))
    if problem:
        raise SecretFileError(problem)
    warning = None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        who = "other users" if mode & stat.S_IRWXO else "its group"
        verb = "readable" if mode & (stat.S_IRGRP | stat.S_IROTH) else "writable"
        warning = f"{file} is {verb} by {who} (chmod 600 {file})"
    return Secret(value), warning
