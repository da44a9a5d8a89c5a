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


def _sparse_accumulator(chooser: random.Random) -> Accumulator:
    """A row holding a few concepts in any of the accumulator's parts, present or not (a scrape window's
    buckets, a server's goodput buckets, observations, votes): the fields of the others are settled by shape."""
    acc = Accumulator(group_label="model")
    concepts = sorted({getattr(spec.derive, "concept", "") for spec in FIELDS} - {""} | {"cost", "cost_per_query"})
    for concept in chooser.sample(concepts, chooser.randint(0, 4)):
        if chooser.random() < 0.7:
            acc.present.add(concept)
        part = chooser.randrange(7)  # (6: present, or counted, with no data, as a server's quantile leaves goodput)
        if part == 6 and chooser.random() < 0.5:
            acc.counted.add(concept)
        elif part == 0:
            acc.buckets[concept].update({0.5: 1.0, math.inf: chooser.choice([0.0, 2.0])})
        elif part == 1:
            acc.goodput_buckets[concept].update({1.0: 1.0, math.inf: 2.0})
        elif part == 2:
            acc.unbounded[concept] = chooser.choice([0.0, 3.0])
        elif part == 3:
            acc.counted.add(concept)
            acc.rates[concept] = chooser.choice([0.0, 4.0, math.nan])
        elif part == 4:
            acc.gauges[concept].append(chooser.choice([1.0, math.nan]))
        elif part == 5:
            acc.means[concept] = [1.0, chooser.choice([0.0, 1.0])]
    if chooser.random() < 0.3:
        acc.votes = [chooser.choice([0.0, 1.0]), chooser.choice([0.0, 2.0])]
    if chooser.random() < 0.3:
        acc.exposed = set(chooser.sample(concepts, 3))
    return acc


def test_rows_settled_by_shape_equal_calling_every_formula() -> None:
    """Rows of one shape share how their fields are filled, refresh after refresh: a field settled by its
    shape (nothing its formula reads) is the one its formula gives, and a row of another shape is never
    filled by a stale plan."""
    chooser = random.Random(17)
    accumulators = [_sparse_accumulator(chooser) for _ in range(300)]
    for acc in accumulators + accumulators[::-1]:  # (the second pass reads every plan from the cache)
        row, draft = finish_row("vllm", "m", acc), _by_every_formula(acc)
        assert list(row.values.items()) == list(draft.values.items())
        assert list(row.missing.items()) == list(draft.missing.items())
        settled = row.provenance.draft  # type: ignore[attr-defined]
        assert settled.used == draft.used and settled.notes == draft.notes and settled.lines == draft.lines
    assert len(INDEX.plans) > 1
