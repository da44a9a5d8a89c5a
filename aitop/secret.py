"""Credentials that cannot leak by accident.

A `Secret` prints as `***` in str(), repr(), f-strings, logs and tracebacks with locals; the value comes out
only through `reveal()`, which is called where an HTTP request's auth header is built and nowhere else.
Secrets are read from files or environment variables, never from the command line (visible in `ps`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MASK = "***"


class Secret:
    """A credential; `str()` and `repr()` never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The credential itself. Call only where it goes into a request."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickling would copy the value into places nobody audits
        raise TypeError("a Secret cannot be pickled")


class SecretFileError(ValueError):
    """A credential file cannot be used; the message names the file, never its content."""


def read_secret_file(path: str | os.PathLike[str]) -> tuple[Secret, str | None]:
    """The secret in `path` (surrounding whitespace stripped) and a warning if others can read the file."""
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
        value = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SecretFileError(f"cannot read {file}: {reason}") from None
    if not value:
        raise SecretFileError(f"{file} is empty")
    warning = None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warning = f"{file} is readable by other users (chmod 600 {file})"
    return Secret(value), warning
