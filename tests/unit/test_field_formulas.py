"""The field table is the one declaration of a field (`aitop.fields`): every formula gives, from a field's entry
alone, its value, its explanation and its PromQL — in scrape mode and in Prometheus mode — with no code naming
the field. Checked two ways: a schema generated from what the formulas read fills every field of the table,
and a field added to the table in the test alone (one more Ratio entry) comes out of both modes."""

from __future__ import annotations

import math

import pytest
from helpers import series, window_of

import aitop.catalog.parse
from aitop.catalog import parse_schema
from aitop.derivations import Analysed, Drift, Formula, Ratio, Votes
from aitop.derive import INDEX
from aitop.fields import ENGINE, FIELDS, Field
from aitop.rows import RowBuilder, TargetData
from aitop.sources.prometheus.results import assemble_rows
from aitop.sources.prometheus.promql import group_matcher, instant_queries, plan_schemas
from aitop.sources.prometheus.history import row_expression

BOUNDS = ("0.01", "0.05", "0.5", "1", "+Inf")  # goodput targets (1 s, 50 ms) fall on a bound


def _concepts(fields) -> dict[str, str]:
    """concept -> its natural kind, for every concept the fields' formulas read."""
    kinds: dict[str, str] = {}
    for spec in fields:
        for concept, allowed, _ in spec.derive.reads():
            kinds.setdefault(concept, allowed[0])
    return kinds


def _schema(fields, name: str = "dcgm"):
    """A schema reading every concept from a metric of its own (`t_<concept>`); named like the GPU exporter so
    that its GPU fields stay its own (model rows get theirs from the GPU join)."""
    concepts = {}
    for concept, kind in _concepts(fields).items():
        variant = {"kind": kind, "metric": f"t_{concept}" + ("_total" if kind == "counter" else "")}
        if concept in {d.concept for d in (s.derive for s in fields) if isinstance(d, Votes)}:
            variant["type_label"] = ["vote"]
        concepts[concept] = [variant]
    return parse_schema({"name": name, "group_labels": ["model"], "detect": ["t_requests_total"],
                         "concept": concepts}, "test")


def _samples(fields, scale: float) -> dict:
    votes = {d.concept for d in (s.derive for s in fields) if isinstance(d, Votes)}
    out = {}
    for concept, kind in _concepts(fields).items():
        metric = f"t_{concept}"
        if kind == "counter" and concept in votes:
            out[series(metric + "_total", model="m", vote="up")] = 30 * scale
            out[series(metric + "_total", model="m", vote="down")] = 10 * scale
        elif kind == "counter":
            out[series(metric + "_total", model="m")] = (100 if concept == "requests" else 20) * scale
        elif kind == "histogram":
            for i, bound in enumerate(BOUNDS):
                out[series(metric + "_bucket", model="m", le=bound)] = (10 + 10 * i) * scale
            out[series(metric + "_count", model="m")] = 50 * scale
            out[series(metric + "_sum", model="m")] = 20 * scale
        else:
            out[series(metric, model="m")] = 0.5
    return out


def _scrape_row(fields):
    builder = RowBuilder([_schema(fields)])
    builder.add_target(TargetData("h:1", window_of((0, _samples(fields, 1)), (10, _samples(fields, 2))), True))
    (row,) = builder.rows()
    return row


def _from_sources(spec: Field) -> bool:
    return not isinstance(spec.derive, (Analysed, Drift))


def test_every_field_of_every_formula_has_a_value_an_explanation_and_its_queries():
    row = _scrape_row(FIELDS)
    for spec in filter(_from_sources, FIELDS):
        assert row.value(spec.name) is not None, (spec.name, row.missing.get(spec.name), row.provenance.get(spec.name))
        if type(spec.derive).explain is not Formula.explain:  # (a GPU row's count and memory share have none)
            assert row.provenance.get(spec.name), spec.name
    plan = plan_schemas([_schema(FIELDS)], {key[0] for key in _samples(FIELDS, 1)})[0]
    queried = {q.concept for q in instant_queries(plan, window=30, group_by=None)}
    matcher = group_matcher(("model",), "m")
    for spec in filter(_from_sources, FIELDS):
        assert set(spec.derive.concepts) <= queried, spec.name
        # a formula with a history query gives one for each of its fields (spend per request has none)
        if type(spec.derive).promql is not Formula.promql and getattr(spec.derive, "per", None) != "request":
            assert row_expression(plan, spec.name, window=30, matcher=matcher), spec.name


EXTRA = Field("lookup_hit_ratio", unit="fraction", heading="lookup hit %", noun="lookup hit ratio",
              description="a test-only field: lookup hits / lookups", derive=Ratio("lookup_hits", "lookups"),
              section=ENGINE)


@pytest.fixture
def extra_field(monkeypatch):
    """The field table with one more entry, and nothing else changed: the readers' index is read from the
    table, and the catalog learns the entry's concepts as `aitop.catalog.schema` does from the real table."""
    kinds = dict(aitop.catalog.parse.CONCEPT_KINDS)
    kinds.update((concept, allowed) for concept, allowed, _ in EXTRA.derive.reads())
    monkeypatch.setattr(aitop.catalog.parse, "CONCEPT_KINDS", kinds)
    INDEX.load((*FIELDS, EXTRA))
    yield
    INDEX.load(FIELDS)


def test_a_field_added_to_the_table_alone_comes_out_of_both_modes(extra_field):
    fields = (EXTRA,)
    schema = _schema((*fields, FIELDS[0]), name="test")
    builder = RowBuilder([schema])
    both = (*fields, FIELDS[0])
    builder.add_target(TargetData("h:1", window_of((0, _samples(both, 1)), (10, _samples(both, 2))), True))
    (row,) = builder.rows()
    assert row.value("lookup_hit_ratio") == pytest.approx(1.0)  # 20 hits / 20 lookups per 10 s
    assert row.provenance["lookup_hit_ratio"] == (
        "sum(rate(t_lookup_hits_total[10.0s])) / sum(rate(t_lookups_total[10.0s])) — "
        "1 series from 1 target, computed locally from scrapes 10.0s apart")

    (plan,) = plan_schemas([schema], {key[0] for key in _samples(both, 1)})
    queries = {q.concept: q for q in instant_queries(plan, window=30, group_by=None)}
    assert queries["lookup_hits"].expr == "sum by (model) (rate(t_lookup_hits_total[30s]))"
    answered = {queries[c]: ([{"metric": {"model": "m"}, "value": [0, v]}], None)
                for c, v in (("lookup_hits", "3"), ("lookups", "4"), ("requests", "5"))}
    (served,) = assemble_rows([plan], answered, {}, None)[0]
    assert served.value("lookup_hit_ratio") == 0.75
    assert served.provenance["lookup_hit_ratio"] == (
        "sum by (model) (rate(t_lookup_hits_total[30s])) / sum by (model) (rate(t_lookups_total[30s]))"
        " — answered by the server")
    assert math.isclose(served.value("request_rate"), 5.0)


def test_each_concept_is_read_one_way():
    """Formulas that read the same concept agree on the kinds a variant of it may have and on how its gauges
    combine (the catalog takes the first)."""
    seen: dict[str, tuple] = {}
    for spec in FIELDS:
        for concept, allowed, aggregate in spec.derive.reads():
            first = seen.setdefault(concept, (allowed, aggregate, spec.name))
            assert first[0] == allowed, (concept, first[2], spec.name)
            assert aggregate is None or first[1] in (None, aggregate), (concept, first[2], spec.name)
