"""The `[columns]` table of the config file: the columns the user chose for each TUI view, in their order.

    [columns]
    overview = ["model", "request_rate", "error_rate", "cost_per_day"]

Parsed here (a table of lists of column names; the UI checks the names and drops unknown ones with a
notice, so a file written by a newer aitop still loads). `save_view_columns` writes one view's list back
with a minimal writer that touches nothing else in the file: it edits the one `key = [...]` line inside
`[columns]` (or adds the table at the end), checks that the result parses to the same settings apart from
that key, and replaces the file atomically, keeping its permissions. Comments and layout stay as they were.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aitop.analysis.settings import ConfigError

KEY = "columns"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def parse_columns(raw: object) -> dict[str, tuple[str, ...]]:
    """View name -> column keys, from the `[columns]` table; raises `ConfigError` naming the bad key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{KEY}: expected a table of view = [column, …]")
    views: dict[str, tuple[str, ...]] = {}
    for view, keys in raw.items():
        if not _NAME.match(view):
            raise ConfigError(f"{KEY}.{view[:32]}: a view name is lowercase letters, digits, '-' and '_'")
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise ConfigError(f"{KEY}.{view}: expected a list of column names")
        views[view] = tuple(dict.fromkeys(key[:64] for key in keys))
    return views


def _line(view: str, keys: Sequence[str]) -> str:
    # JSON strings are valid TOML basic strings for these names (letters, digits, '_', '-').
    return f"{view} = [{', '.join(json.dumps(key) for key in keys)}]"


def _edited(text: str, view: str, keys: Sequence[str]) -> str:
    lines = text.splitlines()
    wanted = _line(view, keys)
    section = None
    start = None
    for index, line in enumerate(lines):
        header = _HEADER.match(line)
        if header:
            section = header.group(1).strip()
            if section == KEY:
                start = index
            continue
        if section == KEY and re.match(rf"^\s*{re.escape(view)}\s*=", line):
            if not line.rstrip().endswith("]"):  # a list over several lines: not this writer's job
                raise ConfigError(f"{KEY}.{view}: spans several lines; edit it by hand")
            lines[index] = wanted
            return "\n".join(lines) + "\n"
    if start is not None:
        lines.insert(start + 1, wanted)
        return "\n".join(lines) + "\n"
    if not text.strip():
        return f"[{KEY}]\n{wanted}\n"
    body = text if text.endswith("\n") else text + "\n"
    return f"{body}\n[{KEY}]\n{wanted}\n"


def save_view_columns(path: str | os.PathLike[str], view: str, keys: Sequence[str]) -> Path:
    """Write `keys` as view `view`'s columns into the config file at `path` (created if missing)."""
    if not _NAME.match(view) or not all(re.match(r"^[A-Za-z0-9_-]{1,64}$", key) for key in keys):
        raise ConfigError(f"{KEY}.{view[:32]}: names must be letters, digits, '-' and '_'")
    file = Path(path).expanduser()
    text = file.read_text(encoding="utf-8") if file.exists() else ""
    before: dict[str, Any] = tomllib.loads(text)
    if KEY in before and not isinstance(before[KEY], dict):
        raise ConfigError(f"{KEY}: is not a table; edit it by hand")
    new = _edited(text, view, keys)
    try:
        after = tomllib.loads(new)  # never write a file that does not parse back to what was meant
    except tomllib.TOMLDecodeError:
        after = None
    expected = {**before, KEY: {**before.get(KEY, {}), view: list(keys)}}
    if after != expected:
        raise ConfigError(f"{KEY}: the file's layout is not one this writer can edit safely; edit it by hand")
    file.parent.mkdir(parents=True, exist_ok=True)
    mode = file.stat().st_mode & 0o777 if file.exists() else 0o600
    handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(new)
        os.chmod(temporary, mode)
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return file


def view_columns(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The `[columns]` table of a parsed config file (empty when it has none)."""
    return parse_columns(raw[KEY]) if KEY in raw else {}
