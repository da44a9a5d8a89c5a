"""Row fields from aggregated rates, shared by both sources.

A source fills one `Accumulator` per row (`aitop.accumulator`) — summed rates per concept, merged bucket
rates (or quantiles a server already computed), summary quantile lines, mean numerator/denominator rates,
gauge readings, vote rates — and `finish_row` derives every field of `aitop.fields.FIELDS` from it by the
field's declared formula (`aitop.derivations`): its value, a reason for every field it cannot know, and a
one-line provenance for the explain view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast
from types import MappingProxyType

from aitop.accumulator import (
    AGGREGATE,
    KIND_NOTES,
    MONOTONICITY_INFO,
    Accumulator,
    Draft,
    Provenance,
)
from aitop.derivations import Gauge, Goodput, Quantile, Rate, Ratio, Votes
from aitop.explanations import Explanations
from aitop.fields import FIELDS, Field
from aitop.formula import Formula
from aitop.missing import Missing
from aitop.model import Row, new_row

__all__ = ["CONCEPT_FIELDS", "INDEX", "KIND_NOTES", "MONOTONICITY_INFO", "QUANTILE_FIELDS", "Accumulator", "FieldIndex",
           "Provenance", "finish_row"]

#: What a row's shape says when it holds votes (`Accumulator.votes` is not kept by concept).
VOTES = "@votes"
#: How `finish_row` fills a field (`FieldIndex.fills`): by calling its formula, or a case it settles itself.
_CALL, _GAUGE, _COUNTER, _QUANTILE = 0, 1, 2, 3
_KINDS: Mapping[type, int] = {Gauge: _GAUGE, Rate: _COUNTER, Quantile: _QUANTILE}


class FieldIndex:
    """What the readers look up by concept or name, read from a field table (`aitop.fields.FIELDS`): built
    once, so a field added to the table reaches every reader. `load` reads another table (tests)."""

    def __init__(self, fields: tuple[Field, ...]) -> None:
        self.load(fields)

    def load(self, fields: tuple[Field, ...]) -> None:
        """Read `fields`: every index below follows from the fields' formulas."""
        self.fields = fields
        #: (fill, name, kind, concept) of every field in table order, those whose formula fills nothing (the
        #: analysis's) left out: a row's fields without lookups per field. `kind` (`_GAUGE`, `_COUNTER`,
        #: `_QUANTILE`, else `_CALL`) names the cases `finish_row` settles without calling `fill` — a plain
        #: gauge or rate that is empty, a quantile a server computed — as `fill` would.
        self.fills = tuple(
            (spec.derive.fill, spec.name, _KINDS.get(type(spec.derive), _CALL), getattr(spec.derive, "concept", ""))
            for spec in fields if type(spec.derive).fill is not Formula.fill)
        self.by_name: Mapping[str, Field] = MappingProxyType({spec.name: spec for spec in fields})
        found: dict[str, list[str]] = {}
        for spec in fields:
            for concept in spec.derive.concepts:
                found.setdefault(concept, []).append(spec.name)
        #: concept -> the fields it fills, for saying why a field is empty and which fields a query fills
        self.concept_fields: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {concept: tuple(names) for concept, names in found.items()})
        quantiles: dict[str, list[tuple[str, float]]] = {}
        for spec in fields:
            if isinstance(spec.derive, Quantile):
                quantiles.setdefault(spec.derive.concept, []).append((spec.name, spec.derive.q))
        #: histogram concept -> its (field, quantile) pairs, in field order
        self.quantile_fields: Mapping[str, tuple[tuple[str, float], ...]] = MappingProxyType(
            {concept: tuple(pairs) for concept, pairs in quantiles.items()})
        #: histogram concept -> the goodput field counting its buckets at a target
        self.goodput_concepts: Mapping[str, str] = MappingProxyType(
            {spec.derive.concept: spec.name for spec in fields if isinstance(spec.derive, Goodput)})
        rated = {spec.derive.concept for spec in fields if isinstance(spec.derive, Rate)}
        #: counter concepts that are one side of a ratio field (a concept with a rate field of its own, such
        #: as requests, keeps that field's explanation)
        self.ratio_parts: frozenset[str] = frozenset(
            concept for spec in fields if isinstance(spec.derive, Ratio)
            for concept in (spec.derive.numerator, spec.derive.denominator)) - rated
        #: rate and percentile fields (read over the window) -> their concept
        self.windowed: Mapping[str, str] = MappingProxyType(
            {spec.name: spec.derive.concept for spec in fields if isinstance(spec.derive, (Rate, Quantile))})
        #: their concepts (a row with none of them answered may lack samples rather than metrics)
        self.windowed_concepts: frozenset[str] = frozenset(self.windowed.values())
        #: for each of `fills`: what its formula reads of a row (its concepts, its field's name, which keys a
        #: server's quantile, and `VOTES` for the votes): untouched by a row, the field is as on an empty row
        self.depends: tuple[frozenset[str], ...] = tuple(
            frozenset({spec.name, *spec.derive.concepts, *(read[0] for read in spec.derive.reads()),
                       *((VOTES,) if isinstance(spec.derive, Votes) else ())})
            for spec in fields if type(spec.derive).fill is not Formula.fill)
        #: row shape -> how `finish_row` fills it (`_plan`, compiled), made from `fills` when first needed
        self.plans: dict[tuple, Callable[..., None]] = {}


#: The index of the field table every reader uses.
INDEX = FieldIndex(FIELDS)
#: The fields each concept can fill (`INDEX.concept_fields`).
CONCEPT_FIELDS = INDEX.concept_fields
#: Histogram concept -> its (field, quantile) pairs (`INDEX.quantile_fields`).
QUANTILE_FIELDS = INDEX.quantile_fields


# (An enum member read through its class costs ~70 ns: read once here.)
_NO_METRIC, _NOT_ENOUGH_SAMPLES = Missing.NO_METRIC, Missing.NOT_ENOUGH_SAMPLES
_NO_OBSERVATIONS = Missing.NO_OBSERVATIONS


def _highest_first(item: tuple[str, float]) -> float:
    return -item[1]


#: `Plan` steps: set a run of empty fields at once, call a field's formula, a quantile a server may have
#: computed (read per row, its formula called when the server's value is missing or NaN), or a counted rate
#: or a gauge with readings read as `Rate.fill` and `Gauge.fill` read them.
_EMPTY, _FILL, _SERVER_QUANTILE, _RATE, _READING, _NOTED = 0, 1, 2, 3, 4, 5
#: A row's steps in table order: (step, values | fill | concept, missing | name, why a NaN leaves a rate or
#: gauge empty | the run's (notes, lines, sources), a gauge's default aggregate). `_NOTED`: a run of empty
#: fields some of which have a note, a line or a source.
Plan = tuple[tuple[int, Any, Any, Any, str], ...]
#: A plan compiled (`_compiled`): fills a draft's dicts from (draft, values, missing, used, quantiles, rates,
#: gauges, aggregates).
Filler = Callable[..., None]
#: Distinct row shapes kept at most (a fleet has a few per schema; past this the cache starts again).
MAX_PLANS = 1024


def _shape(acc: Accumulator) -> tuple:
    """What decides, field by field, how `finish_row` fills a row (`_plan`): the concepts present and counted,
    the gauges with readings, the summaries, and every concept (or quantile field) the row holds anything of.
    Rows of one schema share a few shapes refresh after refresh. (Tuples in the containers' order: two rows
    alike but for the order their concepts came in have two shapes of one plan, a cheap price for a key made
    for every row without building sets.)"""
    gauges = acc.gauges
    return (tuple(acc.present), tuple(acc.counted), tuple([c for c in gauges if gauges[c]]), tuple(acc.summaries),
            tuple(acc.exposed), tuple(acc.rates), tuple(gauges), tuple(acc.means), tuple(acc.quantiles),
            tuple(acc.aggregates), tuple(acc.buckets), tuple(acc.goodput_buckets), tuple(acc.unbounded),
            bool(acc.votes[0] or acc.votes[1]))


def _settled(fill: Callable[[str, Draft], None], name: str, present: frozenset[str], counted: frozenset[str],
             exposed: frozenset[str]) -> Draft | None:  # fmt: skip
    """What the formula gives a row holding none of the data it reads, only which concepts are present,
    counted and exposed: its draft when the field is empty (with any note, line or source said of it), None
    when it has a value. (Its formula filled on a row of those sets alone shows it.)"""
    draft = Draft(Accumulator(group_label=""))
    draft.acc.present, draft.acc.counted, draft.acc.exposed = set(present), set(counted), set(exposed)
    fill(name, draft)
    return draft if draft.values == {name: None} and list(draft.missing) == [name] else None


def _plan(shape: tuple) -> Plan:
    """The steps filling a row of `shape`. A field is empty for a reason its shape gives when its gauge has
    no reading or its counter was not counted, or when the row holds none of the data its formula reads
    (`depends`); consecutive ones are set as one run (the same dicts, in the same order, as setting them one
    by one)."""
    present, counted, gauged, summarised, exposed = (frozenset(part) for part in shape[:5])
    touched = set().union(summarised, *shape[5:-1])  # concepts (and quantile fields) the row holds data of
    if shape[-1]:
        touched.add(VOTES)

    def unknown(concept: str) -> Missing:  # `Draft.unknown`
        return _NO_METRIC if concept not in present else \
            _NOT_ENOUGH_SAMPLES if concept not in counted else _NO_OBSERVATIONS

    steps: list[tuple[int, Any, Any, Any, str]] = []
    run = Draft(Accumulator(group_label=""))  # the empty fields since the last step: values, reasons, notes

    def close() -> None:
        nonlocal run
        if run.values:
            said = (run.notes, run.lines, run.used)
            steps.append((_NOTED, run.values, run.missing, said, "") if any(said) else
                         (_EMPTY, run.values, run.missing, _NO_METRIC, ""))
            run = Draft(run.acc)

    for (fill, name, kind, concept), depends in zip(INDEX.fills, INDEX.depends, strict=True):
        if kind == _GAUGE and concept not in gauged or kind == _COUNTER and concept not in counted:
            run.values[name], run.missing[name] = None, unknown(concept)
            continue
        if touched.isdisjoint(depends) and (settled := _settled(fill, name, present, counted, exposed)) is not None:
            for mine, theirs in zip((run.values, run.missing, run.notes, run.lines, run.used),
                                    (settled.values, settled.missing, settled.notes, settled.lines, settled.used),
                                    strict=True):
                mine.update(theirs)  # type: ignore[attr-defined]
            continue
        close()
        if kind == _COUNTER:
            steps.append((_RATE, concept, name, unknown(concept), ""))
        elif kind == _GAUGE:
            steps.append((_READING, concept, name, unknown(concept), fill.__self__.aggregate))  # type: ignore[attr-defined]
        else:  # (a one-series summary comes before a server's quantile: `distribution`'s order)
            steps.append((_SERVER_QUANTILE if kind == _QUANTILE and concept not in summarised else _FILL, fill, name,
                          _NO_METRIC, ""))
    close()
    return tuple(steps)


def _compiled(plan: Plan) -> Filler:
    """`plan` as one function of straight-line code: each step's test and stores written out with its
    constants, so a row runs no loop, no unpacking and no dispatch on the step's kind (the loop over a
    1,000-row refresh's 21,000 steps was a third of `finish_row`). The same stores in the same order as the
    steps say (`tests/unit/test_finish_row_shortcuts.py`)."""
    constants: dict[str, Any] = {"AGGREGATE": AGGREGATE}

    def constant(value: Any) -> str:
        name = f"c{len(constants)}"
        constants[name] = value
        return name

    body: list[str] = []
    for step, first, second, nan, aggregate in plan:
        if step == _FILL:
            body.append(f"{constant(first)}({second!r}, draft)")
        elif step == _SERVER_QUANTILE:
            body += [f"v = quantiles.get({second!r})",
                     f"if v is None or v != v: {constant(first)}({second!r}, draft)",
                     f"else: values[{second!r}] = v; used[{second!r}] = 'histogram'"]
        elif step == _EMPTY:
            body += [f"values.update({constant(first)})", f"missing.update({constant(second)})"]
        elif step == _NOTED:
            body += [f"values.update({constant(first)})", f"missing.update({constant(second)})",
                     f"draft.notes.update({constant(nan[0])})", f"draft.lines.update({constant(nan[1])})",
                     f"used.update({constant(nan[2])})"]
        else:
            body.append(f"v = rates.get({first!r}, 0.0)" if step == _RATE else
                        f"v = AGGREGATE[aggregates.get({first!r}, {aggregate!r})](gauges[{first!r}])")
            body += [f"if v == v: values[{second!r}] = v",
                     f"else: values[{second!r}] = None; missing[{second!r}] = {constant(nan)}"]
    source = "def fill(draft, values, missing, used, quantiles, rates, gauges, aggregates):\n" + \
        "".join(f"    {line}\n" for line in body or ["pass"])
    exec(compile(source, "<finish_row plan>", "exec"), constants)  # (our own code, written from the plan)
    return cast(Filler, constants["fill"])


def finish_row(schema: str, group: str, acc: Accumulator) -> Row:
    """The `Row` of one accumulated group: contract fields, missing reasons, and its explanations, which are
    made only when read (`aitop.explanations`)."""
    draft = Draft(acc)
    plans = INDEX.plans
    shape = _shape(acc)
    fill = plans.get(shape)
    if fill is None:
        if len(plans) >= MAX_PLANS:
            plans.clear()
        fill = plans[shape] = _compiled(_plan(shape))
    values, missing = draft.values, draft.missing
    fill(draft, values, missing, draft.used, acc.quantiles, acc.rates, acc.gauges, acc.aggregates)
    return new_row(
        schema, group, acc.group_label, values, missing,
        dict(sorted(acc.error_types.items(), key=_highest_first)) if acc.error_types else {},
        # Scrape mode: the row repeats its last good window only when no target behind it is up; with some
        # up it is live, and `replicas` says how many are missing.
        acc.stale or bool(acc.replicas) and not acc.replicas_up,
        # What the explanations read, without the rest of the accumulator: a row may keep it a while.
        _Explanations(_slimmed(draft)),
        {concept: tuple(sorted(b.items())) for concept, b in acc.buckets.items() if b},
        acc.data_since,
        (len(acc.replicas_up), len(acc.replicas)) if len(acc.replicas) > 1 else None,
    )


def _slimmed(draft: Draft) -> Draft:
    draft.acc = draft.acc.for_explaining()  # (the draft is done: its explanations read only this much)
    return draft


class _Explanations(Explanations):
    """A finished row's explanations from its draft: all of them (`_lines`), or one field's (`_line`), the
    same text either way. The draft is no longer changed once its row is built."""

    __slots__ = ("draft",)

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft

    def _lines(self) -> dict[str, str]:
        """field -> explanation: a server's PromQL (Prometheus mode), else each formula's own, then why a
        field is empty where more can be said."""
        draft = self.draft
        acc, values, missing = draft.acc, draft.values, draft.missing
        acc.explaining()
        provenance: dict[str, str] = {}
        if acc.served:  # a server answered: its PromQL, for the source each field used
            provenance.update((name, line) for name, line in acc.queries.items() if not name.startswith("@"))
            provenance.update({name: acc.kind_queries[(name, kind)] for name, kind in draft.used.items()
                               if (name, kind) in acc.kind_queries})
        for spec in INDEX.fields:
            if spec.name not in provenance and (line := spec.derive.explain(spec.name, draft)) is not None:
                provenance[spec.name] = line
        notes = dict(draft.notes)
        for concept, why in acc.absent.items():
            for name in INDEX.concept_fields.get(concept, ()):
                if values.get(name) is None:
                    notes.setdefault(name, f"not exposed: {why}")
        for name, note in notes.items():
            if missing.get(name) is Missing.NO_BUCKETS and name in provenance:  # the query, then why it gave nothing
                provenance[name] += f" — {note}"
            provenance.setdefault(name, note)
        return provenance

    def info(self, name: str) -> bool:
        """Whether the field's line has an info annotation, without making it: of the parts of a line only a
        percentile formula's own (`Quantile.annotated`) adds one; the server's PromQL and the notes never do."""
        spec = INDEX.by_name.get(name)
        return spec is not None and isinstance(spec.derive, Quantile) and spec.derive.annotated(name, self.draft)

    def _line(self, name: str) -> str | None:
        """The explanation of one field, as `_lines()` gives it (None: it has none)."""
        draft = self.draft
        acc = draft.acc
        if name.startswith("@"):  # one side of a ratio: never a line of its own
            return None
        line: str | None = None
        acc.explaining()
        if acc.served:
            kind = draft.used.get(name)
            line = acc.kind_queries.get((name, kind)) if kind is not None else None
            if line is None:
                line = acc.queries.get(name)
        if line is None and (spec := INDEX.by_name.get(name)) is not None:
            line = spec.derive.explain(name, draft)
        note = draft.notes.get(name)
        if note is None and draft.values.get(name) is None:
            note = next((f"not exposed: {why}" for concept, why in acc.absent.items()
                         if name in INDEX.concept_fields.get(concept, ())), None)
        if note is None:
            return line
        if line is None:
            return note
        return f"{line} — {note}" if draft.missing.get(name) is Missing.NO_BUCKETS else line
