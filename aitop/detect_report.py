"""`aitop detect TARGET`: which schemas a source exposes, where each concept comes from, why fields are empty.

Pure functions over what a collector returns — the metric names each target exposes and (optionally) a
`Collected` with rows — using the catalog's own detection rules (`aitop.catalog.match`), so the report
says exactly what the table does. `build_report` makes the data, `render_text` and `report_to_dict` show it.
Every name and label value shown passes `clean()`: they come from the target.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from aitop.catalog import CONCEPT_KINDS, Resolved, Schema, choose_all, counter_forms, detect_schemas, fingerprint
from aitop.catalog.match import spellings
from aitop.derive import CONCEPT_FIELDS, KIND_NOTES, QUANTILE_FIELDS
from aitop.model import FIELD_NAMES, Missing
from aitop.sanitize import clean
from aitop.model import Collected

FOUND, MISSING, NOT_EXPOSED, NOT_MAPPED = "found", "missing", "not exposed", "not mapped"


@dataclass(frozen=True, slots=True)
class ConceptReport:
    """Where one concept of a schema comes from on this source, or why it does not."""

    concept: str
    status: str  # found | missing (mapped, not on the source) | not exposed (the system has none) | not mapped
    kind: str | None = None  # counter | histogram | summary | mean | gauge
    metrics: tuple[str, ...] = ()  # exposed names read (a mean's numerator)
    counts: tuple[str, ...] = ()  # a mean's denominator
    selector: str = ""
    group_labels: tuple[str, ...] = ()  # when the variant names rows by other labels than the schema
    scale: float = 1.0
    note: str = ""  # what kind of number it is, why it is absent, or what was looked for
    fields: tuple[str, ...] = ()  # the row fields it fills


@dataclass(frozen=True, slots=True)
class RowReport:
    """One row of a schema and the reason for each of its empty fields."""

    group: str
    group_label: str
    missing: tuple[tuple[str, str], ...]  # (field, reason)


@dataclass(frozen=True, slots=True)
class SchemaReport:
    name: str
    title: str
    detected_by: tuple[str, ...]
    targets: tuple[str, ...]
    group_labels: tuple[str, ...]
    concepts: tuple[ConceptReport, ...]
    rows: tuple[RowReport, ...]


@dataclass(frozen=True, slots=True)
class DetectReport:
    """Everything `aitop detect` shows."""

    targets: tuple[tuple[str, bool, str | None], ...]  # (url, up, error)
    names_seen: int
    schemas: tuple[SchemaReport, ...]
    suppressed: tuple[tuple[str, str], ...]  # (schema that stood down, the schema it stood down for)


def names_query(schemas: Sequence[Schema]) -> str:
    """PromQL listing, per target, the catalog's metric names a Prometheus server holds — for `build_report`
    per instance (a schema stands down per target, so one server-wide name list would be too coarse).
    It is long (~10 KB): send it with POST."""
    exposed = {name for s in schemas for d in s.detect for name in counter_forms(d)}
    exposed |= {name for s in schemas for v in s.variants() for m in (*v.metrics, *v.count)
                for name in (v.value_names(m) if m in v.metrics else counter_forms(m))}
    names = sorted({spelling for name in exposed for spelling in spellings(name)})
    patterns = [re.escape(name) for name in names] + [v.metric_regex.pattern for s in schemas for v in s.variants()
                                                      if v.metric_regex is not None]
    regex = "|".join(patterns).replace("\\", "\\\\").replace('"', '\\"')
    return f'group by (instance, __name__) ({{__name__=~"{regex}"}})'


def names_by_instance(result: Sequence[Mapping]) -> dict[str, set[str]]:
    """{instance: metric names} from the answer to `names_query` (a Prometheus vector)."""
    names: dict[str, set[str]] = {}
    for series in result:
        labels = series.get("metric", {})
        names.setdefault(labels.get("instance", ""), set()).add(labels.get("__name__", ""))
    return names


def _concept(schema: Schema, concept: str, found: Sequence[Resolved]) -> ConceptReport:
    fields = CONCEPT_FIELDS.get(concept, ())
    if found:
        first = found[0]
        variant = first.variant
        # what kind of number a latency-like field is; a gauge elsewhere (running, KV) is just a gauge
        noted = variant.kind in KIND_NOTES and (concept in QUANTILE_FIELDS or variant.kind != "gauge")
        notes = [KIND_NOTES[variant.kind]] if noted else []
        if len(found) > 1:
            fallback = found[1]
            notes.append(f"when several series hold a row: {fallback.variant.kind} of "
                         f"{', '.join(clean(m) for m in fallback.metrics)}")
        if variant.type_format or variant.type_labels:
            notes.append(f"types from {variant.type_format or ' / '.join(variant.type_labels)}")
        if variant.join_via is not None:
            notes.append(f"joined to the rows of {', '.join(clean(c) for c in first.counts)} by "
                         f"{', '.join(variant.join_on)}")
        counts = () if variant.join_via is not None else first.counts
        return ConceptReport(
            concept=concept, status=FOUND, kind=variant.kind,
            metrics=tuple(clean(m) for e in found[:1] for m in e.metrics), counts=tuple(clean(c) for c in counts),
            selector=variant.selector(), group_labels=variant.group_labels, scale=variant.scale,
            note="; ".join(notes), fields=fields,
        )
    if concept in schema.absent:
        return ConceptReport(concept, NOT_EXPOSED, note=schema.absent[concept], fields=fields)
    if concept in schema.concepts:
        looked = [m for v in schema.concepts[concept] for m in (*v.metrics, *v.count)]
        looked += [v.metric_regex.pattern for v in schema.concepts[concept] if v.metric_regex is not None]
        return ConceptReport(concept, MISSING, note="looked for " + ", ".join(dict.fromkeys(looked)), fields=fields)
    return ConceptReport(concept, NOT_MAPPED, note=f"the {schema.title} schema maps no metric to it", fields=fields)


def _reason(row, field: str, concepts: Mapping[str, ConceptReport]) -> str:
    """Why a field of a row is empty: the catalog's note when the system has no such metric, what was
    looked for when the target lacks it, else the row's reason (not enough samples, no observations…)."""
    note = row.provenance.get(field, "")
    if note.startswith(("not exposed", "not shown", "not joined")):
        return note
    reason = row.missing_reason(field)
    text = reason.value if reason is not None else "unknown"
    sources = [concepts[c] for c, fields in CONCEPT_FIELDS.items() if field in fields and c in concepts]
    if reason is Missing.NO_METRIC and sources:
        source = next((s for s in sources if s.status != NOT_MAPPED), sources[0])
        if source.status == FOUND:
            return f"{text} — the target has {', '.join(source.metrics)}, but no series of it for this row"
        return f"{text} — {source.note}"
    return text


def build_report(
    schemas: Sequence[Schema],
    names: Mapping[str, Collection[str]],
    collected: Collected | None = None,
) -> DetectReport:
    """The report for a source: `names` maps each target (a /metrics URL, or the Prometheus server) to the
    metric names it exposes; `collected` adds the rows and the targets' health."""
    found_on: dict[str, list[str]] = {}
    prints: dict[str, dict[str, None]] = {}
    chosen: dict[str, dict[str, list[Resolved]]] = {}
    suppressed: dict[str, str] = {}
    by_name = {schema.name: schema for schema in schemas}
    for target, exposed in names.items():
        found, stood_down = detect_schemas(schemas, exposed)
        suppressed.update(stood_down)
        for schema in found:
            found_on.setdefault(schema.name, []).append(clean(target, 120))
            prints.setdefault(schema.name, {}).update(dict.fromkeys(clean(n) for n in fingerprint(schema, exposed)))
            for concept, entries in choose_all(schema, exposed).items():
                merged = chosen.setdefault(schema.name, {}).setdefault(concept, [])
                merged.extend(e for e in entries if e.variant not in {m.variant for m in merged})
    for name in found_on:
        suppressed.pop(name, None)  # stood down on one target, found on another: it is there
    rows = collected.rows if collected is not None else ()
    reports = []
    for name in found_on:
        schema = by_name[name]
        concepts = tuple(_concept(schema, concept, chosen.get(name, {}).get(concept, ())) for concept in CONCEPT_KINDS)
        by_concept = {c.concept: c for c in concepts}
        row_reports = tuple(
            RowReport(row.group, row.group_label,
                      tuple((field, _reason(row, field, by_concept))
                            for field in FIELD_NAMES if row.value(field) is None))
            for row in rows if row.schema == name
        )
        reports.append(SchemaReport(name, schema.title, tuple(prints[name]), tuple(found_on[name]),
                                    schema.group_labels, concepts, row_reports))
    health = tuple((t.url, t.up, t.error) for t in collected.targets) if collected is not None else ()
    seen = len(set().union(*names.values())) if names else 0
    return DetectReport(health, seen, tuple(reports), tuple(sorted(suppressed.items())))


def _source(concept: ConceptReport) -> str:
    what = ", ".join(concept.metrics) + concept.selector
    if concept.counts:
        what = f"{what} / {', '.join(concept.counts)}"
    if concept.scale != 1:
        what += f" × {concept.scale:g}"
    if concept.group_labels:
        what += f" (rows by {', '.join(concept.group_labels)})"
    return what


def render_text(report: DetectReport) -> str:
    """The report as plain text for a terminal."""
    out: list[str] = []
    for url, up, error in report.targets:
        out.append(f"target {url}: {'up' if up else 'DOWN'}" + (f" ({error})" if error else ""))
    if not report.schemas:
        seen = (f"none of the {report.names_seen} metric names read identifies one" if report.names_seen
                else "the source exposes none of the metric names aitop's schemas use")
        out.append(f"no known schema: {seen} (an unrelated exporter, or a system aitop has no schema for: "
                   "add one to the config)")
    for schema in report.schemas:
        out += ["", f"{schema.name} — {schema.title}   found by {', '.join(schema.detected_by)}",
                f"  rows named by {' / '.join(schema.group_labels)}"
                + (f"; on {len(schema.targets)} targets" if len(schema.targets) > 1 else "")]
        width = max(len(c.concept) for c in schema.concepts)
        for concept in schema.concepts:
            if concept.status == NOT_MAPPED:
                continue
            if concept.status == FOUND:
                line = f"{concept.kind:<9} {_source(concept)}" + (f"  — {concept.note}" if concept.note else "")
            else:
                line = f"{'—':<9} {concept.status}: {concept.note}"
            out.append(f"  {concept.concept:<{width}}  {line}")
        unmapped = [c.concept for c in schema.concepts if c.status == NOT_MAPPED]
        if unmapped:
            out.append(f"  {'others':<{width}}  not in this schema: {', '.join(unmapped)}")
        for row in schema.rows:
            out.append(f"  row {row.group} ({row.group_label})" + (": every field known" if not row.missing else ""))
            for reason, fields in _by_reason(row.missing).items():
                out.append(f"    {', '.join(fields)}: {reason}")
        if not schema.rows and report.targets:
            out.append("  no rows yet (rates need two scrapes; a histogram needs observations)")
    for name, by in report.suppressed:
        out += ["", f"{name}: not shown — its metrics on these targets belong to {by}"]
    return "\n".join(out).lstrip("\n") + "\n"


def _by_reason(missing: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for field, reason in missing:
        grouped.setdefault(reason, []).append(field)
    return grouped


def report_to_dict(report: DetectReport) -> dict:
    """The report as JSON-ready data (`aitop detect --format json`)."""
    return {
        "targets": [{"url": url, "up": up, "error": error} for url, up, error in report.targets],
        "names_seen": report.names_seen,
        "schemas": [
            {
                "name": s.name, "title": s.title, "detected_by": list(s.detected_by), "targets": list(s.targets),
                "group_labels": list(s.group_labels),
                "concepts": {
                    c.concept: {"status": c.status, "kind": c.kind, "metrics": list(c.metrics),
                                "counts": list(c.counts),
                                "selector": c.selector, "group_labels": list(c.group_labels), "scale": c.scale,
                                "note": c.note, "fields": list(c.fields)}
                    for c in s.concepts
                },
                "rows": [{"group": r.group, "group_label": r.group_label, "missing": dict(r.missing)} for r in s.rows],
            }
            for s in report.schemas
        ],
        "suppressed": [{"schema": name, "by": by} for name, by in report.suppressed],
    }
