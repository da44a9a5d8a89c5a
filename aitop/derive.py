"""Row fields from aggregated rates, shared by both sources.

A source fills one `Accumulator` per row (`aitop.accumulator`) — summed rates per concept, merged bucket
rates (or quantiles a server already computed), summary quantile lines, mean numerator/denominator rates,
gauge readings, vote rates — and `finish_row` derives every field of `aitop.fields.FIELDS` from it by the
field's declared formula (`aitop.derivations`): its value, a reason for every field it cannot know, and a
one-line provenance for the explain view.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aitop.accumulator import (
    KIND_NOTES,
    MONOTONICITY_INFO,
    Accumulator,
    Draft,
    Provenance,
)
from aitop.derivations import Quantile
from aitop.fields import FIELDS
from aitop.missing import Missing
from aitop.model import Row

__all__ = ["CONCEPT_FIELDS", "KIND_NOTES", "MONOTONICITY_INFO", "QUANTILE_FIELDS", "Accumulator", "Provenance",
           "finish_row"]


def _concept_fields() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for spec in FIELDS:
        for concept in spec.derive.concepts:
            found.setdefault(concept, []).append(spec.name)
    return {concept: tuple(names) for concept, names in found.items()}


#: The fields each concept can fill, for saying why a field is empty (read from the fields' derivations).
CONCEPT_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(_concept_fields())
#: Histogram concept -> its (field, quantile) pairs, in field order (read from the fields' derivations).
QUANTILE_FIELDS: Mapping[str, tuple[tuple[str, float], ...]] = MappingProxyType({
    concept: tuple((spec.name, spec.derive.q) for spec in FIELDS
                   if isinstance(spec.derive, Quantile) and spec.derive.concept == concept)
    for concept in dict.fromkeys(spec.derive.concept for spec in FIELDS if isinstance(spec.derive, Quantile))
})  # fmt: skip


def finish_row(schema: str, group: str, acc: Accumulator) -> Row:
    """The `Row` of one accumulated group: contract fields, missing reasons, provenance."""
    draft = Draft(acc)
    for spec in FIELDS:
        spec.derive.fill(spec.name, draft)
    values, missing, notes = draft.values, draft.missing, draft.notes

    provenance: dict[str, str] = {}
    if acc.served:  # a server answered: its PromQL, for the source each field used
        provenance.update((name, line) for name, line in acc.queries.items() if not name.startswith("@"))
        provenance.update({name: acc.kind_queries[(name, kind)] for name, kind in draft.used.items()
                           if (name, kind) in acc.kind_queries})
    for spec in FIELDS:
        if spec.name not in provenance and (line := spec.derive.explain(spec.name, draft)) is not None:
            provenance[spec.name] = line
    for concept, why in acc.absent.items():
        for name in CONCEPT_FIELDS.get(concept, ()):
            if values.get(name) is None:
                notes.setdefault(name, f"not exposed: {why}")
    for name, note in notes.items():
        if missing.get(name) is Missing.NO_BUCKETS and name in provenance:  # the query, then why it gave nothing
            provenance[name] += f" — {note}"
        provenance.setdefault(name, note)
    return Row(
        schema=schema,
        group=group,
        group_label=acc.group_label,
        values=values,
        missing=missing,
        errors_by_type=dict(sorted(acc.error_types.items(), key=lambda item: -item[1])),
        # Scrape mode: the row repeats its last good window only when no target behind it is up; with some
        # up it is live, and `replicas` says how many are missing.
        stale=acc.stale or bool(acc.replicas) and not acc.replicas_up,
        provenance=provenance,
        distributions={concept: tuple(sorted(b.items())) for concept, b in acc.buckets.items() if b},
        data_since=acc.data_since,
        replicas=(len(acc.replicas_up), len(acc.replicas)) if len(acc.replicas) > 1 else None,
    )
