"""Strict validation of schema documents (catalog files and users' config), with the key path in every error.

The TOML shape, one document per schema (`[[schema]]` entries in a config file take the same keys)::

    name = "tgi"                      # row key part; letters, digits, _ and -
    title = "HF TGI"                  # for people
    group_labels = ["instance"]       # labels naming a row, first present wins; "instance" = the target
    detect = ["tgi_request_count"]    # any of these names present => the system is there
    suppressed_by = ["vllm"]          # not there after all when one of these schemas is on the same target
    scoped = true                     # generic names: on a Prometheus server, read only from targets that
                                      # show the fingerprint (automatic for names several schemas read)
    [absent]                          # concept -> why the system cannot provide it
    ttft = "TGI has no time-to-first-token metric"

    [[concept.latency]]               # variants of a concept, tried in order
    kind = "histogram"                # counter | histogram | summary | mean | gauge (per concept: CONCEPT_KINDS)
    metric = "tgi_request_duration"   # counters: also a list, summed; counters/gauges: or metric_regex = "..."
    count = "..."                     # mean only: the denominator counter (Δmetric / Δcount)
    match = { err = ".+" }            # anchored regexes; absent labels read as ""
    exclude = { route = "/-/.*" }
    type_label = ["err"]              # errors / feedback: the label naming the error type or rating
    type_format = "{a} {b}"           # or a format over several labels (a constant is fine)
    aggregate = "max"                 # gauges: sum | max | min | avg
    scale = 0.001                     # to seconds / tokens / USD (ms -> 0.001, µs -> 1e-6)
    group_labels = ["requested_model"]  # this variant's series name rows by other labels
    join = { on = ["model_id"], via = "x_total" }  # counters and sum/max/min gauges without the row label:
                                      # a series counts in the rows of the `via` series sharing its `on`
                                      # labels ("instance": the same target)
    value_label = "running_lora_adapters"  # joined max/min gauges: the reading is this label of the newest
    value_read = "count"              # series per join key: "count" of its comma-separated items, or "number"
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable
from pathlib import Path

from aitop.catalog.schema import CONCEPT_KINDS, DEFAULT_AGGREGATE, Schema, Variant


class CatalogError(ValueError):
    """A schema document is malformed; the message names the file and the key path."""


_AGGREGATES = ("sum", "max", "min", "avg")
_VARIANT_KEYS = {
    "kind", "metric", "metric_regex", "count", "match", "exclude", "type_label", "type_format", "aggregate",
    "scale", "group_labels", "join", "value_label", "value_read",
}
_SCHEMA_KEYS = {"name", "title", "group_labels", "detect", "concept", "suppressed_by", "absent", "scoped"}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def _regex(where: str, source: object) -> re.Pattern[str]:
    if not isinstance(source, str):
        raise CatalogError(f"{where}: expected a regular expression string")
    try:
        return re.compile(source)
    except re.error as exc:
        raise CatalogError(f"{where}: invalid regular expression: {exc}") from None


def _selector(where: str, table: object) -> tuple[tuple[str, re.Pattern[str]], ...]:
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: expected a table of label = regex")
    return tuple((label, _regex(f"{where}.{label}", pattern)) for label, pattern in table.items())


def _string_list(where: str, value: object, *, empty: bool = True) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise CatalogError(f"{where}: expected a list of non-empty strings")
    if not value and not empty:
        raise CatalogError(f"{where}: must not be empty")
    return tuple(value)


def _string(where: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise CatalogError(f"{where}: expected a metric name")
    return value


def _type_format(where: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CatalogError(f"{where}: expected a string like \"{{label}} {{other_label}}\"")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    for name, spec, conv in fields:
        if not name.isidentifier() or spec or conv:
            raise CatalogError(f"{where}: only plain {{label}} fields are allowed, not {{{name}}}")
    return value


def _variant(where: str, concept: str, raw: object) -> Variant:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a table")
    unknown = set(raw) - _VARIANT_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kind = raw.get("kind")
    allowed = CONCEPT_KINDS[concept]
    if kind not in allowed:
        raise CatalogError(f"{where}.kind: {concept} must be one of {', '.join(allowed)}, not {kind!r}")
    if ("metric" in raw) == ("metric_regex" in raw):
        raise CatalogError(f"{where}: give exactly one of metric or metric_regex")
    if "metric_regex" in raw and kind not in ("counter", "gauge"):
        raise CatalogError(f"{where}.metric_regex: only counters and gauges can be matched by a regex")
    if isinstance(raw.get("metric"), list) and kind != "counter":
        raise CatalogError(f"{where}.metric: only counters can be summed from several metrics")
    if ("count" in raw) != (kind == "mean"):
        raise CatalogError(f"{where}.count: a mean needs count (its denominator counter); other kinds take none")
    aggregate = raw.get("aggregate", DEFAULT_AGGREGATE.get(concept, "sum"))
    if aggregate not in _AGGREGATES:
        raise CatalogError(f"{where}.aggregate: one of {', '.join(_AGGREGATES)}")
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        raise CatalogError(f"{where}.scale: a positive number")
    join_on, join_via = _join(f"{where}.join", raw.get("join"), kind, aggregate)
    value_label, value_read = raw.get("value_label"), raw.get("value_read", "count")
    if value_label is not None and (not isinstance(value_label, str) or not value_label or join_via is None
                                    or aggregate not in ("max", "min")):
        raise CatalogError(f"{where}.value_label: a label name, on a joined max or min gauge")
    if value_read not in ("count", "number") or ("value_read" in raw and value_label is None):
        raise CatalogError(f"{where}.value_read: \"count\" or \"number\", with value_label")
    return Variant(
        concept=concept,
        kind=kind,
        metrics=_string_list(f"{where}.metric", raw["metric"], empty=False) if "metric" in raw else (),
        metric_regex=_regex(f"{where}.metric_regex", raw["metric_regex"]) if "metric_regex" in raw else None,
        count=(_string(f"{where}.count", raw["count"]),) if "count" in raw else (),
        match=_selector(f"{where}.match", raw.get("match", {})),
        exclude=_selector(f"{where}.exclude", raw.get("exclude", {})),
        type_labels=_string_list(f"{where}.type_label", raw.get("type_label", [])),
        type_format=_type_format(f"{where}.type_format", raw.get("type_format")),
        aggregate=aggregate,
        scale=float(scale),
        group_labels=_string_list(f"{where}.group_labels", raw.get("group_labels", [])),
        join_on=join_on,
        join_via=join_via,
        value_label=value_label,
        value_read=value_read,
    )


def _join(where: str, raw: object, kind: object, aggregate: str) -> tuple[tuple[str, ...], str | None]:
    """A variant's join: (on labels, via metric), or ((), None) without one. Only counters and gauges summed,
    or taken at their highest or lowest, can be joined: a series is first combined per `on` key, then per
    row, which equals combining them all at once for those alone (an average of averages would not)."""
    if raw is None:
        return (), None
    if not isinstance(raw, dict) or set(raw) != {"on", "via"}:
        raise CatalogError(f"{where}: expected {{ on = [labels], via = \"metric\" }}")
    if kind not in ("counter", "gauge") or aggregate == "avg":
        raise CatalogError(f"{where}: only counters and sum/max/min gauges can be joined")
    return _string_list(f"{where}.on", raw["on"], empty=False), _string(f"{where}.via", raw["via"])


def parse_schema(raw: dict, source: str, path: str = "") -> Schema:
    """Validate one schema document. Errors read `{source}: {path}{key}: problem`."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{source}: {path.rstrip('.') or 'schema'}: expected a table")
    unknown = set(raw) - _SCHEMA_KEYS
    if unknown:
        raise CatalogError(f"{source}: {path}unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "group_labels", "detect", "concept"):
        if key not in raw:
            raise CatalogError(f"{source}: {path}missing key {key}")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CatalogError(f"{source}: {path}name: letters, digits, _ and - only")
    if not isinstance(raw["concept"], dict):
        raise CatalogError(f"{source}: {path}concept: expected [[concept.NAME]] tables")
    concepts: dict[str, tuple[Variant, ...]] = {}
    for concept, variants in raw["concept"].items():
        where = f"{source}: {path}concept.{concept}"
        if concept not in CONCEPT_KINDS:
            raise CatalogError(f"{where}: unknown concept (known: {', '.join(CONCEPT_KINDS)})")
        if not isinstance(variants, list) or not variants:
            raise CatalogError(f"{where}: expected [[concept.{concept}]] entries")
        concepts[concept] = tuple(_variant(f"{where}[{i}]", concept, v) for i, v in enumerate(variants))
    absent = raw.get("absent", {})
    if not isinstance(absent, dict):
        raise CatalogError(f"{source}: {path}absent: expected a table of concept = \"why\"")
    for concept, why in absent.items():
        if concept not in CONCEPT_KINDS or not isinstance(why, str):
            raise CatalogError(f"{source}: {path}absent.{concept}: expected a known concept = \"why\"")
        if concept in concepts:
            raise CatalogError(f"{source}: {path}absent.{concept}: the schema maps this concept")
    title = raw.get("title", name)
    if not isinstance(title, str):
        raise CatalogError(f"{source}: {path}title: expected a string")
    scoped = raw.get("scoped", False)
    if not isinstance(scoped, bool):
        raise CatalogError(f"{source}: {path}scoped: expected true or false")
    return Schema(
        name=name,
        title=title,
        group_labels=_string_list(f"{source}: {path}group_labels", raw["group_labels"], empty=False),
        detect=_string_list(f"{source}: {path}detect", raw["detect"], empty=False),
        concepts=concepts,
        suppressed_by=_string_list(f"{source}: {path}suppressed_by", raw.get("suppressed_by", [])),
        absent=dict(absent),
        scoped=scoped,
    )


def load_schema_file(path: Path) -> Schema:
    """One catalog file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from None
    return parse_schema(raw, path.name)


def check_references(schemas: Iterable[Schema], source: str, known: Iterable[str] = ()) -> None:
    """Names are unique and every `suppressed_by` names a schema that exists (typos fail loudly)."""
    schemas = tuple(schemas)
    seen: set[str] = set()
    for schema in schemas:
        if schema.name in seen:
            raise CatalogError(f"{source}: schema {schema.name!r} is defined twice")
        seen.add(schema.name)
    names = seen | set(known)
    for schema in schemas:
        for other in schema.suppressed_by:
            if other not in names:
                raise CatalogError(f"{source}: {schema.name}: suppressed_by names no schema: {other!r}")


def schemas_from_config(raw: object, source: str, known: Iterable[str] = ()) -> tuple[Schema, ...]:
    """Users' in-house schemas from a config file's `[[schema]]` list, in the catalog files' shape.

    Errors name the entry: `config.toml: schema[1].concept.requests[0].kind: …`. `known` are the names
    `suppressed_by` may also refer to (the built-in schemas').
    """
    if not isinstance(raw, list):
        raise CatalogError(f"{source}: schema: expected [[schema]] tables")
    schemas = tuple(parse_schema(item, source, f"schema[{i}].") for i, item in enumerate(raw))
    check_references(schemas, source, known)
    return schemas
