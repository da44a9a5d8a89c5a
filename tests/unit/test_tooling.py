"""The static checks run by the test command: mypy, ruff and the import contracts (`lint-imports`).

Each tool is configured in pyproject.toml and runs here as a subprocess from the test environment's own
`bin/`, from the repository root, so `.ci/run` and a contributor's `pytest` check the same thing. The caches
live under build/tmp/ (ignored by git): a clean clone starts cold, a second run is fast, and only one xdist
worker runs each tool.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CACHE = ROOT / "build" / "tmp"


def run_tool(name: str, *args: str) -> None:
    """Run `name` from the environment's bin/ in the repository root; fail with its output unless it exits 0."""
    tool = BIN / name
    assert tool.exists(), f"{tool} is missing: install the test extra (pip install -e '.[test]')"
    proc = subprocess.run([str(tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{name} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"


@pytest.mark.timeout(360)  # a cold cache on a loaded 2-core machine; a warm run takes well under a second
def test_mypy() -> None:
    run_tool("mypy", "--cache-dir", str(CACHE / "mypy"))  # the files are pyproject.toml's [tool.mypy] files


@pytest.mark.timeout(120)
def test_ruff() -> None:
    run_tool("ruff", "check", "--no-fix", "--output-format", "concise")  # cache: [tool.ruff] cache-dir


@pytest.mark.timeout(120)
def test_import_contracts() -> None:
    run_tool("lint-imports", "--no-logo", "--cache-dir", str(CACHE / "import-linter"))
