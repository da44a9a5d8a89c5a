"""Import hygiene: everything outside aitop/ui/ is headless.

Each core module is imported in a fresh interpreter and `textual` must not be in
`sys.modules` afterwards: this catches Textual loaded through a third-party package too.
Modules are discovered by walking the package, so new modules are covered automatically.
That no core source line imports Textual (not even lazily, nor aitop.ui) is an import contract
in pyproject.toml, checked by `lint-imports` (tests/unit/test_tooling.py).

The layers and why the core stays headless: docs/architecture.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aitop

PACKAGE_DIR = Path(aitop.__file__).resolve().parent
UI_DIR = PACKAGE_DIR / "ui"
#: Importing `aitop.__main__` runs the program; its imports are checked by the import contracts instead.
NOT_IMPORTED = {"aitop.__main__"}

# Runs in a fresh interpreter: imports the given modules one by one and stops at the first one
# after which Textual is loaded, so the culprit is named (not a later, innocent module).
PROBE = r"""
import importlib, json, sys, traceback

def textual_loaded():
    return sorted(m for m in sys.modules if m == "textual" or m.startswith(("textual.", "textual_")))

report = {"checked": [], "culprit": None, "textual": [], "errors": {}}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except BaseException:
        report["errors"][name] = traceback.format_exc(limit=3)
    report["checked"].append(name)
    if textual_loaded():
        report["culprit"], report["textual"] = name, textual_loaded()[:5]
        break
print(json.dumps(report))
"""


def core_source_files() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py")
                  if UI_DIR not in p.parents and "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def core_modules() -> list[str]:
    return [m for m in map(module_name, core_source_files()) if m not in NOT_IMPORTED]


def probe(modules: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(modules)],
                          capture_output=True, text=True, timeout=60, cwd=PACKAGE_DIR.parent)
    assert proc.returncode == 0, f"probe crashed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_core_modules_are_discovered() -> None:
    mods = core_modules()
    assert {"aitop", "aitop.model", "aitop.sanitize"} <= set(mods), mods
    assert not [m for m in mods if m == "aitop.ui" or m.startswith("aitop.ui.")]


def test_probe_detects_textual() -> None:
    # The check can fail: a module that loads Textual is named as the culprit.
    report = probe(["json", "textual", "aitop"])
    assert report["culprit"] == "textual"
    assert report["checked"] == ["json", "textual"]


def test_core_modules_do_not_import_textual() -> None:
    remaining, culprits, errors = core_modules(), {}, {}
    while remaining:  # one interpreter when clean; a new one after each culprit found
        report = probe(remaining)
        errors.update(report["errors"])
        if report["culprit"] is None:
            break
        culprits[report["culprit"]] = report["textual"]
        remaining = [m for m in remaining if m not in report["checked"]]
    assert not culprits, "core modules that load Textual: " + ", ".join(
        f"{m} (-> {', '.join(t)})" for m, t in culprits.items())
    assert not errors, "core modules that fail to import:\n" + "\n".join(
        f"--- {m}\n{tb}" for m, tb in errors.items())

