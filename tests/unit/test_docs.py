"""The project's own docs stay true to the code: generated tables equal the catalog, cited paths and tests
exist, and nothing cites a document that is not in the repository."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from catalog_doc import BEGIN, CATALOG, DOC, END, current, generated

from aitop.model import SPEC_BY_NAME

ROOT = CATALOG.parent.parent
#: Every document a reader is sent to, and the README that links them.
DOCS = (*sorted((ROOT / "docs").glob("*.md")), ROOT / "tests" / "faults" / "README.md", ROOT / "README.md")
#: A repository path in backticks, optionally followed by `::test_name`.
_PATH = re.compile(r"`((?:aitop|tests|docs|themes|benchmarks)/[\w./-]+?)(?:::(\w+))?`")
#: Documents that live outside the repository and must never be cited (nor sections of them, `§F 25`, or of
#: an issue's text, `issue 5 §2`).
_OUTSIDE = re.compile(r"design\.md|metric-schemas\.md|reliability\.md|\.\./shared|/work/|§F|issue \d+ §",
                      flags=re.IGNORECASE)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^(?:async )?def (test_\w+)", _text(path), flags=re.MULTILINE))
    return names


def _catalog_concepts() -> set[str]:
    concepts: set[str] = set()
    for path in CATALOG.glob("*.toml"):
        raw = tomllib.loads(_text(path))
        concepts.update(raw["concept"])
        concepts.update(raw.get("absent", {}))
    return concepts


def _concept_table() -> dict[str, list[str]]:
    """{concept: the fields its row in the "Concepts and the fields they fill" table names}."""
    section = _text(DOC).split("## Concepts and the fields they fill", 1)[1].split("\n## ", 1)[0]
    table: dict[str, list[str]] = {}
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)` \| ([^|]*) \|", line)
        if match:
            table[match.group(1)] = re.findall(r"`(\w+)`", match.group(2))
    return table


def test_the_per_server_tables_are_the_catalog():
    """docs/metrics.md holds exactly what tests/catalog_doc.py renders from aitop/catalog/*.toml."""
    stored = current(_text(DOC))
    assert stored is not None, f"docs/metrics.md lost its {BEGIN!r} … {END!r} markers"
    assert stored == generated(), "docs/metrics.md is out of date: run .venv/bin/python tests/catalog_doc.py --write"


def test_every_catalog_file_has_its_section():
    stored = current(_text(DOC)) or ""
    for path in CATALOG.glob("*.toml"):
        assert f", {path.name})" in stored, path.name


def test_every_concept_is_explained_with_fields_that_exist():
    table = _concept_table()
    missing = _catalog_concepts() - set(table)
    assert not missing, f"concepts the catalog uses but docs/metrics.md does not explain: {sorted(missing)}"
    for concept, fields in table.items():
        assert fields, concept
        unknown = [name for name in fields if name not in SPEC_BY_NAME]
        assert not unknown, f"{concept}: no such field {unknown}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_cited_paths_and_tests_exist(doc):
    tests = _test_names()
    for path, test in _PATH.findall(_text(doc)):
        assert (ROOT / path).exists(), f"{doc.name} cites {path}, which does not exist"
        if test:
            assert re.search(rf"^(?:async )?def {test}\b", _text(ROOT / path), flags=re.MULTILINE), \
                f"{doc.name} cites {path}::{test}, which does not exist"
    for test, cut in re.findall(r"`(test_\w+)\b(?!\.py)(…)?", _text(doc)):
        found = any(name.startswith(test) for name in tests) if cut else test in tests  # `test_f17_f18_…`
        assert found, f"{doc.name} cites {test}{cut}, which no test file defines"


def test_nothing_cites_a_document_outside_the_repository():
    sources = [*DOCS, *(ROOT / "aitop").rglob("*.py"), *(ROOT / "aitop").rglob("*.toml"), *(ROOT / "tests").rglob("*.py")]
    sources = [path for path in sources if path != Path(__file__)]
    cited = [f"{path.relative_to(ROOT)}: {line.strip()}" for path in sources
             for line in _text(path).splitlines() if _OUTSIDE.search(line)]
    assert not cited, "\n".join(cited)


def test_the_readme_links_every_doc():
    readme = _text(ROOT / "README.md")
    for doc in (ROOT / "docs").glob("*.md"):
        assert f"(docs/{doc.name})" in readme, doc.name
