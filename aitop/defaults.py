"""aitop's built-in settings: the views and alert rules of `defaults.toml`, written in the config file's own
syntax (`[columns]`, `[[rules]]`) and parsed by the same code as a user's file."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any


@cache
def builtin() -> Mapping[str, Any]:
    """The parsed `defaults.toml` (read once; callers only read it)."""
    return tomllib.loads(Path(__file__).with_name("defaults.toml").read_text("utf-8"))
