"""Known metric schemas, as data: one TOML file per serving system in this folder.

A schema says which sample names identify the system, which label names the rows, and for each *concept*
(requests, errors, latency, …) one or more *variants* — metric name, label selector, unit scale, kind —
tried in order. Supporting another system means adding a file here (or a `[[schema]]` entry in the user's
config, see `schemas_from_config`), not a branch in code. The file format is documented in
`aitop.catalog.parse`; the kinds in `aitop.catalog.schema`; detection in `aitop.catalog.match`.

What every schema reads, per concept, generated from these files: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from aitop.catalog.match import (
    NameFilter,
    Resolved,
    alternates,
    choose,
    choose_all,
    detect_schemas,
    fingerprint,
    resolve,
)
from aitop.catalog.parse import CatalogError, check_references, load_schema_file, parse_schema, schemas_from_config
from aitop.catalog.schema import (
    CONCEPT_KINDS,
    DISTRIBUTION_KINDS,
    FEEDBACK_NEGATIVE,
    FEEDBACK_POSITIVE,
    Schema,
    Variant,
    counter_forms,
)

__all__ = [
    "CONCEPT_KINDS", "DISTRIBUTION_KINDS", "FEEDBACK_NEGATIVE", "FEEDBACK_POSITIVE", "CatalogError", "NameFilter",
    "Resolved", "Schema", "Variant", "alternates", "builtin_schemas", "check_references", "choose", "choose_all",
    "counter_forms", "detect_schemas", "fingerprint", "load_schema_file", "parse_schema", "resolve",
    "schemas_from_config", "with_custom",
]


@lru_cache(maxsize=1)
def builtin_schemas() -> tuple[Schema, ...]:
    """The schemas shipped with aitop, in file-name order."""
    folder = Path(__file__).parent
    schemas = tuple(load_schema_file(path) for path in sorted(folder.glob("*.toml")))
    check_references(schemas, "aitop/catalog")
    return schemas


def with_custom(custom: Iterable[Schema], builtin: Iterable[Schema] | None = None) -> tuple[Schema, ...]:
    """The built-in schemas plus a user's: a custom schema replaces a built-in one of the same name."""
    custom = tuple(custom)
    replaced = {schema.name for schema in custom}
    base = builtin_schemas() if builtin is None else tuple(builtin)
    return tuple(schema for schema in base if schema.name not in replaced) + custom
