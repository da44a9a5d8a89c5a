"""Every row field, declared once: its unit, heading, noun, description, how it is derived, and its section.

This table is the one place a field is named. The JSON contract's order is this table's order (traffic, then
engine, then analysis); the formatter reads units from it, messages read nouns, the sources read derivations
(`aitop.derivations`), the UI reads headings. Adding a field = a catalog entry for the metric (where it comes
from, `aitop/catalog/*.toml`) plus one entry here: in `traffic.py`, `engine.py` or `analysis.py` of this package,
by its section (`declare.py` holds the declaration's form).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aitop.fields.analysis import ANALYSIS_FIELDS
from aitop.fields.declare import ANALYSIS, ENGINE, TRAFFIC, Field
from aitop.fields.engine import ENGINE_FIELDS
from aitop.fields.traffic import TRAFFIC_FIELDS


__all__ = ["ANALYSIS", "ENGINE", "FIELDS", "FIELD_BY_NAME", "TRAFFIC", "Field"]

#: Every field, in contract order.
FIELDS: tuple[Field, ...] = (*TRAFFIC_FIELDS, *ENGINE_FIELDS, *ANALYSIS_FIELDS)
FIELD_BY_NAME: Mapping[str, Field] = MappingProxyType({field.name: field for field in FIELDS})
