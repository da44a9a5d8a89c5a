"""`finish_row` settles some fields itself (empty gauges and rates, quantiles a server computed): the row is
the one calling every field's formula in table order makes, for rows of every shape."""

from __future__ import annotations

import math
import random

from aitop.accumulator import Accumulator, Draft
from aitop.derive import INDEX, finish_row
from aitop.fields import FIELDS
from aitop.formula import Formula


def _by_every_formula(acc: Accumulator) -> Draft:
    draft = Draft(acc)
    for spec in FIELDS:
        spec.derive.fill(spec.name, draft)
    return draft


def _random_accumulator(chooser: random.Random) -> Accumulator:
    acc = Accumulator(group_label="model")
    concepts = sorted({getattr(spec.derive, "concept", "") for spec in FIELDS} - {""})
    for concept in chooser.sample(concepts, chooser.randint(0, len(concepts))):
        acc.present.add(concept)
        if chooser.random() < 0.6:
            acc.counted.add(concept)
            acc.rates[concept] = chooser.choice([0.0, 1.5, 7.0])
        if chooser.random() < 0.3:
            acc.gauges[concept].append(chooser.choice([0.0, 2.0, math.nan]))
        if chooser.random() < 0.2:
            acc.summaries[concept][0.95].extend([0.25] * chooser.randint(1, 2))
        if chooser.random() < 0.2:
            acc.means[concept] = [3.0, chooser.choice([0.0, 2.0])]
    for spec in FIELDS:
        if chooser.random() < 0.4:
            acc.quantiles[spec.name] = chooser.choice([0.5, math.nan, 0.0])
    acc.exposed = set(chooser.sample(concepts, chooser.randint(0, len(concepts))))
    return acc


def test_rows_equal_calling_every_formula() -> None:
    chooser = random.Random(8)
    for _ in range(400):
        acc = _random_accumulator(chooser)
        row, draft = finish_row("vllm", "m", acc), _by_every_formula(acc)
        assert list(row.values.items()) == list(draft.values.items())
        assert list(row.missing.items()) == list(draft.missing.items())
        assert row.provenance.draft.used == draft.used and row.provenance.draft.notes == draft.notes  # type: ignore[attr-defined]


def test_only_the_analysis_fields_are_skipped() -> None:
    skipped = {spec.name for spec in FIELDS} - {name for _, name, _, _ in INDEX.fills}
    assert skipped == {spec.name for spec in FIELDS if type(spec.derive).fill is Formula.fill} and skipped
