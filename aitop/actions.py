"""Row actions, like k9s plugins: commands from the config run on the selected row.

Each `[[action]]` names a key and an argument list. `$MODEL`, `$SCHEMA`, `$INSTANCE`, `$PROMQL` and
`$TARGET` inside an argument are replaced by the row's values, one argument at a time, and the list is
run directly (never through a shell): a model named `x; rm -rf ~` stays one literal argument.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aitop.analysis.settings import ConfigError, string, table

ACTION_KEYS = frozenset({"name", "key", "command", "description"})
VARIABLES = ("MODEL", "SCHEMA", "INSTANCE", "PROMQL", "TARGET")
_VARIABLE = re.compile(r"\$(" + "|".join(VARIABLES) + r")\b|\$\{(" + "|".join(VARIABLES) + r")\}")
#: Keys the TUI uses or keeps (capitals sort, digits pick chart ranges): an action cannot take them.
RESERVED_KEYS = frozenset("abegjkopqrstw?/:+=-<>[] ") | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True, slots=True)
class RowAction:
    """One configured command; `argv` holds the `$VARIABLES` unexpanded."""

    name: str
    key: str
    argv: tuple[str, ...]
    description: str = ""


def parse_actions(raw: object) -> tuple[RowAction, ...]:
    """`[[action]]` entries: name, key (one character), command (a list of arguments)."""
    if not isinstance(raw, list):
        raise ConfigError("action: expected [[action]] tables")
    actions = []
    for i, entry in enumerate(raw):
        where = f"action[{i}]"
        entry = table(where, entry, ACTION_KEYS)
        for needed in ("name", "key", "command"):
            if needed not in entry:
                raise ConfigError(f"{where}.{needed}: required")
        key = string(f"{where}.key", entry["key"])
        if len(key) != 1 or key in RESERVED_KEYS:
            raise ConfigError(f"{where}.key: one character not used by aitop ({key[:10]!r} is taken or too long)")
        command = entry["command"]
        if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
            raise ConfigError(f"{where}.command: a non-empty list of arguments (no shell string)")
        actions.append(RowAction(string(f"{where}.name", entry["name"]), key, tuple(command),
                                 string(f"{where}.description", entry.get("description", ""))))
    keys = [action.key for action in actions]
    if len(set(keys)) != len(keys):
        raise ConfigError("action: two actions share a key")
    return tuple(actions)


def expand(argv: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """`argv` with `$NAME`/`${NAME}` replaced in each argument; the count of arguments never changes."""
    return [_VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), ""), arg) for arg in argv]


def run(action: RowAction, values: Mapping[str, str], *, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run the action on one row's values; output captured (the TUI shows its tail)."""
    return subprocess.run(expand(action.argv, values), capture_output=True, text=True, timeout=timeout,
                          check=False, stdin=subprocess.DEVNULL)
