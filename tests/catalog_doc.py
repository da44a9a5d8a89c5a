"""The per-server tables of docs/metrics.md, generated from the catalog files (aitop/catalog/*.toml).

The catalog is the source of truth for which metric answers which concept; this module renders it as
Markdown so the document cannot drift from it. `tests/unit/test_docs.py` fails when the generated part of
docs/metrics.md differs from what this module renders; rewrite it with

    .venv/bin/python tests/catalog_doc.py --write

The files are read as TOML text (plus their comments, which carry the why), not through the catalog's
Python model, so the document depends only on the data format `aitop/catalog/parse.py` documents.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "aitop" / "catalog"
DOC = ROOT / "docs" / "metrics.md"
BEGIN = "<!-- BEGIN GENERATED from aitop/catalog/*.toml by tests/catalog_doc.py: do not edit by hand -->"
END = "<!-- END GENERATED -->"

#: Unit scales the catalog uses, said in words (anything else is printed as the factor).
_SCALES = {1e-6: "µs → s", 0.001: "ms → s", 0.01: "% → fraction"}
_CONCEPT_LINE = re.compile(r"^\[\[concept\.(\w+)\]\]\s*(?:#\s*(.*))?$")
_RULE = re.compile(r"^-+\s*|\s*-+$")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (`|` would end the cell, even inside backticks)."""
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return _cell(f"`{text}`")


def _comments(lines: Sequence[str]) -> tuple[str, dict[tuple[str, int], str]]:
    """(the file's heading comment, {(concept, n): the comment on or just above its n-th variant})."""
    head: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        head.append(line.lstrip("#").strip())
    notes: dict[tuple[str, int], str] = {}
    seen: dict[str, int] = {}
    above: list[str] = []
    for line in lines[len(head):]:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(_RULE.sub("", stripped.lstrip("#").strip()))
            continue
        match = _CONCEPT_LINE.match(stripped)
        if match:
            concept, inline = match.group(1), match.group(2)
            index = seen.get(concept, 0)
            seen[concept] = index + 1
            parts = [part for part in (" ".join(line for line in above if line), inline or "") if part]
            if parts:
                notes[(concept, index)] = "; ".join(parts)
        above = []
    return " ".join(head), notes


def _metric(variant: Mapping[str, object]) -> str:
    if "metric_regex" in variant:
        return f"name matching {_code(str(variant['metric_regex']))}"
    metric = variant["metric"]
    names = metric if isinstance(metric, list) else [metric]
    text = " + ".join(_code(str(name)) for name in names)
    if variant.get("kind") == "mean":
        text += f" ÷ {_code(str(variant['count']))}"
    return text


def _selection(variant: Mapping[str, object]) -> str:
    parts = []
    for key, op in (("match", "=~"), ("exclude", "!~")):
        table = variant.get(key) or {}
        assert isinstance(table, dict)
        parts += [_code(f'{label}{op}"{pattern}"') for label, pattern in table.items()]
    if variant.get("type_label"):
        labels = variant["type_label"]
        assert isinstance(labels, list)
        parts.append("type from " + ", ".join(_code(str(label)) for label in labels))
    if variant.get("type_format"):
        parts.append(f"type {_code(str(variant['type_format']))}")
    if variant.get("group_labels"):
        labels = variant["group_labels"]
        assert isinstance(labels, list)
        parts.append("rows by " + ", ".join(_code(str(label)) for label in labels))
    if variant.get("aggregate"):
        parts.append(f"{variant['aggregate']} of series")
    join = variant.get("join")
    if isinstance(join, dict):
        on = ", ".join(_code(str(label)) for label in join["on"])
        parts.append(f"joined to the rows of {_code(str(join['via']))} by {on}")
    return "; ".join(parts)


def _scale(variant: Mapping[str, object]) -> str:
    scale = variant.get("scale")
    if scale is None:
        return ""
    assert isinstance(scale, int | float)
    return _SCALES.get(float(scale), f"× {scale:g}")


def schema_section(path: Path) -> str:
    """One catalog file as a Markdown section: what it reads per concept, and what it cannot."""
    text = path.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    head, notes = _comments(text.splitlines())
    out = [f"### {raw.get('title', raw['name'])} (`{raw['name']}`, {path.name})", ""]
    if head:
        out += [head, ""]
    labels = raw["group_labels"]
    if labels == ["instance"]:
        facts = ["Rows by target (`instance`: one model per process)"]
    else:
        first = " (the first a series has)" if len(labels) > 1 else ""
        facts = [f"Rows by {', '.join(_code(label) for label in labels)}{first}"]
    facts.append(f"detected by any of {', '.join(_code(name) for name in raw['detect'])}")
    if raw.get("suppressed_by"):
        facts.append(f"stands down where {', '.join(_code(name) for name in raw['suppressed_by'])} is found "
                     "on the same target")
    if raw.get("scoped"):
        facts.append("scoped: on a Prometheus server read only from targets showing a detect name")
    out += ["; ".join(facts) + ".", ""]
    out += ["| concept | kind | metric | selection | unit | note |", "|---|---|---|---|---|---|"]
    for concept, variants in raw["concept"].items():
        for index, variant in enumerate(variants):
            note = _cell(notes.get((concept, index), ""))
            name = f"`{concept}`" if index == 0 else f"`{concept}` (then)"
            out.append(f"| {name} | {variant['kind']} | {_metric(variant)} | {_selection(variant)} | "
                       f"{_scale(variant)} | {note} |")
    absent = raw.get("absent") or {}
    if absent:
        out += ["", "Not exposed, shown as `—` with this reason:", ""]
        out += [f"- `{concept}`: {why}" for concept, why in absent.items()]
    out += ["", promql_block(raw["name"])]
    return "\n".join(out)


#: How each kind of query is read, in words (`Query.kind` in aitop/sources/prometheus/promql.py).
_READINGS = {
    "rate": "rate",
    "errors": "failure rate by type",
    "feedback": "vote rate by rating",
    "quantile": "quantile",
    "unbounded": "+Inf-bucket rate (tells \"only a +Inf bucket\" from \"nothing observed\")",
    "buckets": "bucket rates by bound",
    "summary": "summary quantile lines",
    "mean": "mean (Δsum / Δcount)",
    "gauge": "gauge",
}
#: The rate window of the PromQL examples, seconds.
EXAMPLE_WINDOW = 30.0


def promql_block(name: str) -> str:
    """The PromQL aitop sends for schema `name` on a server holding the first variant of each concept: the
    queries of one refresh, as `aitop.sources.prometheus.promql` builds them (so the examples are the code's own)."""
    from aitop.catalog import builtin_schemas
    from aitop.sources.prometheus.promql import instant_queries, plan_schemas

    schemas = builtin_schemas()
    (schema,) = [schema for schema in schemas if schema.name == name]
    names = set(schema.detect)
    for variants in schema.concepts.values():
        first = variants[0]
        names.update(metric + ("_bucket" if first.kind == "histogram" else "") for metric in (*first.metrics, *first.count))
    (plan,) = [plan for plan in plan_schemas(schemas, names) if plan.schema.name == name]
    lines = []
    queries = instant_queries(plan, window=EXAMPLE_WINDOW, group_by=None)
    for query in queries:
        for reading in query.readings():
            what = f"# {reading.concept}: {_READINGS.get(reading.kind, reading.kind)}"
            what += f" → {reading.field}" if reading.field else ""
            lines.append(what + (f", then × {reading.scale:g}" if reading.scale != 1 else ""))
        lines += [query.expr, ""]
    summary = (f"<details><summary>PromQL of one refresh ({len(queries)} queries, window {EXAMPLE_WINDOW:g}s; "
               "sent as one batched request)</summary>")
    return "\n".join([summary, "", "```promql", *lines[:-1], "```", "", "</details>"])


def catalog_files() -> list[Path]:
    """Every catalog file, in name order."""
    return sorted(CATALOG.glob("*.toml"))


def generated() -> str:
    """The generated part of docs/metrics.md, markers included."""
    sections = [schema_section(path) for path in catalog_files()]
    return "\n\n".join([BEGIN, *sections, END])


def current(document: str) -> str | None:
    """The generated part as it stands in `document` (None when its markers are missing)."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        return None
    return document[start: end + len(END)]


def write() -> None:
    """Replace the generated part of docs/metrics.md with a fresh rendering of the catalog."""
    document = DOC.read_text(encoding="utf-8")
    old = current(document)
    if old is None:
        raise SystemExit(f"{DOC}: no {BEGIN!r} … {END!r} markers")
    DOC.write_text(document.replace(old, generated()), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(generated())
