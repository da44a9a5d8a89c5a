"""Prometheus-mode rows are the same however their answers are read: each query's series in one loop of its
kind (`reads`) or one at a time (`reader`), in any order, and refresh after refresh while series appear,
vanish and change labels (the row shapes `finish_row` keeps from refresh to refresh never go stale)."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import fields

import fixture_rows  # noqa: F401 - puts tests/data, where `pages` is, on the path
import pytest

import pages
from aitop.accumulator import EXPLAINED, Accumulator
from aitop.catalog import builtin_schemas
from aitop.derive import INDEX
from aitop.model import Row
from aitop.sources.prometheus import reading, results
from aitop.sources.prometheus.promql import Query, instant_queries, places_queries, plan_schemas
from aitop.sources.prometheus.results import assemble_rows


def test_a_fresh_accumulator_is_the_constructors() -> None:
    fresh, made = Accumulator.fresh("model", {"x": "y"}), Accumulator(group_label="model", absent={"x": "y"})
    for part in fields(Accumulator):
        value, expected = getattr(fresh, part.name), getattr(made, part.name)
        assert value == expected and type(value) is type(expected), part.name
        if isinstance(expected, defaultdict):
            assert repr(value["k"]) == repr(expected["k"]), part.name  # what a missing key becomes


def test_the_accumulator_kept_for_explaining_holds_what_explanations_read() -> None:
    acc = Accumulator.fresh("model", {"x": "y"})
    slim = acc.for_explaining()
    for part in fields(Accumulator):
        if part.name in EXPLAINED:
            assert getattr(slim, part.name) is getattr(acc, part.name), part.name
        else:
            assert not hasattr(slim, part.name), part.name


def _one_at_a_time(query: Query) -> reading.Reads:
    read = reading.reader(query)

    def reads(query: Query, found, result) -> None:
        for (acc, _), series in zip(found, result, strict=True):
            read(acc, query, series.get("metric", {}), float(series["value"][1]))
    return reads


def _answers(page: str, models: list[tuple[str, str]], seed: int):
    """(plans, answered): every query the page's metrics plan, answered for `models` ((label value or "" for
    a series without the model label, sample value)), bounds, quantiles and error types where read."""
    names = {re.split(r"[{ ]", line, maxsplit=1)[0] for line in pages.read(page).splitlines()
             if line and not line.startswith("#")}
    plans = plan_schemas(builtin_schemas(), names)
    queries = [q for plan in plans for q in instant_queries(plan, window=30.0, group_by=None)]
    queries += places_queries(plans, group_by=None)
    chooser = random.Random(seed)
    answered = {}
    for number, query in enumerate(queries):
        result = []
        for model, value in models:
            sample = value if number % 4 else chooser.choice([value, "NaN", "0"])  # (a row's series agree)
            for le in ("0.5", "+Inf"):
                labels = {label: model for label in query.group_labels[:1] if model}
                labels.update({label: chooser.choice(["error", "timeout", "up"]) for label in query.type_labels})
                labels.update({"le": le, "quantile": "0.95", "instance": f"10.0.0.{len(model)}:8000",
                               "pod": f"pod-{model}"})
                result.append({"metric": labels, "value": [1.7e9, sample]})
        answered[query] = (result, None)
    return plans, answered


def _same(rows: list[Row], expected: list[Row], *, ties: bool = False) -> None:
    """`ties`: error types of equal rate may come in either order (the answer's order breaks the tie)."""
    assert [row.key for row in rows] == [row.key for row in expected]
    for row, other in zip(rows, expected, strict=True):
        assert row.group_label == other.group_label
        assert repr(list(row.values.items())) == repr(list(other.values.items()))  # (NaN is not NaN; its repr is)
        assert list(row.missing.items()) == list(other.missing.items())
        errors, others = row.errors_by_type.items(), other.errors_by_type.items()
        assert repr(sorted(errors) if ties else list(errors)) == repr(sorted(others) if ties else list(others))
        assert row.gpus == other.gpus
        assert dict(row.provenance) == dict(other.provenance)


def _shuffled(answered: dict, seed: int) -> dict:
    chooser = random.Random(seed)
    out = {}
    for query, (result, response) in answered.items():
        result = list(result)
        chooser.shuffle(result)
        out[query] = (result, response)
    return out


@pytest.mark.parametrize("page", pages.ALL)
def test_rows_read_per_kind_equal_rows_read_series_by_series(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plans, answered = _answers(page, [("alpha", "2.5"), ("beta", "0.75"), ("", "1.5")], seed=1)
    rows, _ = assemble_rows(plans, answered, {}, None)
    monkeypatch.setattr(results, "reads", _one_at_a_time)
    expected, _ = assemble_rows(plans, answered, {}, None)
    _same(rows, expected)


@pytest.mark.parametrize("page", pages.ALL)
def test_rows_do_not_depend_on_the_order_of_an_answers_series(page: str) -> None:
    plans, answered = _answers(page, [("alpha", "2.5"), ("beta", "0.75")], seed=2)
    rows, _ = assemble_rows(plans, answered, {}, None)
    for seed in range(3):
        again, _ = assemble_rows(plans, _shuffled(answered, seed), {}, None)
        _same(again, rows, ties=True)


@pytest.mark.parametrize("page", pages.ALL)
def test_rows_refresh_after_refresh_equal_rows_made_afresh(page: str) -> None:
    """Series appear (gamma), vanish (beta), lose their model label (alpha's, read by target) and change
    values: every refresh's rows equal those made with nothing kept from the refreshes before."""
    refreshes = [
        [("alpha", "2.5"), ("beta", "0.75")],
        [("alpha", "3.5"), ("gamma", "0.5")],
        [("", "3.5"), ("gamma", "NaN"), ("beta", "0")],
        [("alpha", "2.5"), ("beta", "0.75")],
    ]
    for number, models in enumerate(refreshes):
        plans, answered = _answers(page, models, seed=number)
        rows, _ = assemble_rows(plans, answered, {}, None)
        kept = dict(INDEX.plans)
        INDEX.plans.clear()
        try:
            afresh, _ = assemble_rows(plans, answered, {}, None)
        finally:
            INDEX.plans.update(kept)
        _same(rows, afresh)
