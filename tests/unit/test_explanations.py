"""Row explanations are made when read: one field's line alone gives the text all of them give, in both modes,
and building rows (1,000 of them, in Prometheus mode) calls no formula's `explain` until a row's are read."""

from __future__ import annotations

import copy
import pickle
import re

import pytest
import requests
from fixture_rows import build

import pages
from aitop.catalog import builtin_schemas
from aitop.codec import decode, encode
from aitop.derivations import Formula
from aitop.explanations import Explanations, Lazy, default_lines, noted_info, under_lines, with_lines
from aitop.fields import FIELDS
from aitop.model import Collected, Row, Snapshot
from aitop.sources.prometheus.results import QueryFailure, assemble_rows, unknown_where_failed, with_infos
from aitop.sources.prometheus.promql import instant_queries, places_queries, plan_schemas

#: Every field, the row's why line, a ratio's hidden side and a name nothing has.
NAMES = (*(spec.name for spec in FIELDS), "why", "@requests", "no_such_field")


def _same_either_way(lazy: Row, whole: Row) -> None:
    """`lazy` read one field at a time gives exactly what `whole` read at once gives, and then, read whole
    too, the same mapping in the same order."""
    every = dict(whole.provenance)
    for name in NAMES:  # asked first: telling an info annotation needs no line, and tells as the line would
        assert lazy.provenance.info(name) == noted_info(every.get(name)), (lazy.key, name)
        assert lazy.provenance.get(name) == every.get(name), (lazy.key, name)
        assert (name in lazy.provenance) == (name in every), (lazy.key, name)
    assert list(lazy.provenance.items()) == list(every.items())


@pytest.mark.parametrize("page", pages.ALL)
def test_scrape_rows_explain_one_field_as_all_fields(page: str) -> None:
    lazy, whole = build(page).rows(), build(page).rows()
    assert [row.key for row in lazy] == [row.key for row in whole]
    for one, every in zip(lazy, whole):
        assert isinstance(one.provenance, Explanations) and not one.provenance.made
        _same_either_way(one, every)


def _answers(page: str, *, fail_every: int = 0):
    """(plans, answered, errored): every query the page's metrics plan, answered with two series per model
    (bounds, quantiles and error types where the query reads them); with `fail_every`, every n-th fails."""
    names = {re.split(r"[{ ]", line, maxsplit=1)[0] for line in pages.read(page).splitlines()
             if line and not line.startswith("#")}
    plans = plan_schemas(builtin_schemas(), names)
    queries = [q for plan in plans for q in instant_queries(plan, window=30.0, group_by=None)]
    queries += places_queries(plans, group_by=None)
    answered, errored = {}, {}
    for number, query in enumerate(queries, 1):
        if fail_every and number % fail_every == 0:
            errored[query] = QueryFailure(f"{query.concept}: query rejected (bad_data)", transient=False)
            continue
        result = []
        for model, value in (("alpha", "2.5"), ("beta", "NaN" if number % 3 == 0 else "0.75")):
            for le in ("0.5", "+Inf"):
                labels = {label: model for label in query.group_labels[:1]}
                labels.update({label: "error" for label in query.type_labels})
                labels.update({"le": le, "quantile": "0.95", "instance": "10.0.0.1:8000", "pod": f"pod-{model}"})
                result.append({"metric": labels, "value": [1.7e9, value]})
        answered[query] = (result, None)
    return plans, answered, errored


def _prometheus_rows(page: str, fail_every: int) -> list[Row]:
    plans, answered, errored = _answers(page, fail_every=fail_every)
    rows, _ = assemble_rows(plans, answered, errored, None)
    return with_infos(unknown_where_failed(rows, errored), answered)


@pytest.mark.parametrize("fail_every", [0, 4])
@pytest.mark.parametrize("page", pages.ALL)
def test_prometheus_rows_explain_one_field_as_all_fields(page: str, fail_every: int) -> None:
    lazy, whole = _prometheus_rows(page, fail_every), _prometheus_rows(page, fail_every)
    assert [row.key for row in lazy] == [row.key for row in whole]
    for one, every in zip(lazy, whole):
        _same_either_way(one, every)


class _Counted:
    """Counts the calls of every formula's `explain`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        for cls in {type(spec.derive) for spec in FIELDS}:
            assert issubclass(cls, Formula)
            monkeypatch.setattr(cls, "explain", self._counting(cls.explain))

    def _counting(self, explain):
        def counted(formula, name, draft):
            self.calls += 1
            return explain(formula, name, draft)
        return counted


def _many(rows: int):
    """(plans, answered): the vLLM queries answered for `rows` models, as the benchmark's server does."""
    (plan,) = plan_schemas(builtin_schemas(), {"vllm:request_success_total", "vllm:e2e_request_latency_seconds_bucket",
                                               "vllm:time_to_first_token_seconds_bucket", "vllm:prompt_tokens_total"})
    answered = {}
    for query in instant_queries(plan, window=30.0, group_by=None):
        result = [{"metric": {"model_name": f"model-{n:05d}", **{label: "abort" for label in query.type_labels}},
                   "value": [1.7e9, f"{1 + n % 7}"]} for n in range(rows)]
        answered[query] = (result, None)
    return [plan], answered


def test_a_server_info_annotation_is_told_without_making_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """`with_infos` marks the fields a server's info annotation concerns; the table asks `info` of every shown
    cell, and the answer needs no line made (the PromQL lines of 1,000 rows, every refresh)."""
    plans, answered = _many(20)
    query = next(q for q in answered if q.field == "latency_p95")
    response = requests.Response()
    response._content = b'{"status":"success","data":{},"infos":["input to histogram_quantile needed to be fixed"]}'
    answered[query] = (answered[query][0], response)
    rows, _ = assemble_rows(plans, answered, {}, None)
    rows = with_infos(unknown_where_failed(rows, {}), answered)
    counted = _Counted(monkeypatch)
    fresh = [row for row in rows if not row.provenance.made]
    for row in fresh:
        row.provenance._known = None  # (with_infos made the annotated field's line: forget it)
        row.provenance._base._known = None
    assert all(row.provenance.info("latency_p95") and not row.provenance.info("latency_p50") for row in fresh)
    assert counted.calls == 0 and not any(row.provenance._known or row.provenance._base._known for row in fresh)
    whole = [dict(row.provenance) for row in rows]
    assert all(noted_info(lines["latency_p95"]) and not noted_info(lines["latency_p50"]) for lines in whole)


def test_building_a_thousand_rows_explains_nothing_until_read(monkeypatch: pytest.MonkeyPatch) -> None:
    plans, answered = _many(1000)
    counted = _Counted(monkeypatch)
    rows, _ = assemble_rows(plans, answered, {}, None)
    rows = with_infos(unknown_where_failed(rows, {}), answered)
    assert len(rows) == 1000 and counted.calls == 0
    assert rows[0].value("latency_p95") is not None and counted.calls == 0  # values need no explanation
    assert rows[7].provenance["latency_p95"].startswith("histogram_quantile(0.95")
    one = counted.calls
    assert one == 0  # a server's PromQL: no formula asked
    assert rows[7].provenance.get("cost_per_hour") is None and counted.calls == one + 1  # that field's formula alone
    dict(rows[7].provenance)
    assert counted.calls > one + 1  # every formula, for that row only
    assert not rows[8].provenance.made


def test_scrape_rows_explain_nothing_until_read(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = _Counted(monkeypatch)
    rows = build("vllm").rows()
    assert rows and counted.calls == 0
    assert rows[0].provenance["request_rate"].startswith("sum(rate(vllm:request_success_total")
    assert counted.calls == 1


def test_lazy_explanations_pickle_copy_compare_and_encode_as_a_dict() -> None:
    (row, *_) = build("vllm").rows()
    whole = dict(build("vllm").rows()[0].provenance)
    assert pickle.loads(pickle.dumps(row)).provenance == whole
    assert type(pickle.loads(pickle.dumps(row.provenance))) is dict
    assert copy.deepcopy(row) == row and row.provenance == whole and whole == row.provenance
    collected = Collected(taken_at=1.0, window_seconds=10.0, rows=(row,), targets=(), schemas=("vllm",))
    snapshot = Snapshot(collected=collected, rows=(row,))
    assert list(decode(encode(snapshot)).rows[0].provenance.items()) == list(whole.items())


def test_added_lines_are_laid_as_dict_merges_lay_them() -> None:
    base = {"a": "1", "b": "2"}
    lazy = Lazy(base.get, lambda: dict(base))
    for made in (lambda m: with_lines(m, {"b": "B", "c": "C"}), lambda m: under_lines({"c": "C", "a": "A"}, m),
                 lambda m: default_lines(m, {"a": "A", "d": "D"}), lambda m: with_lines(m, {"d": "D"}, when="b"),
                 lambda m: with_lines(m, {"a": "A", "d": "D"}, when="z")):
        plain, layered = made(base), made(lazy)
        assert isinstance(layered, Explanations) and "z" not in layered
        assert [layered.get(key) for key in "abcdz"] == [plain.get(key) for key in "abcdz"]
        assert list(layered.items()) == list(plain.items())
    assert not lazy.made or list(lazy.items()) == list(base.items())
    assert with_lines(base, {"d": "D"}, when="z") is base


def test_the_analysis_reads_no_explanation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily spend's line is added only beside an hourly one, without making the row's lines to ask."""
    from aitop.analysis.engine import Analyzer

    plans, answered = _many(50)
    rows, _ = assemble_rows(plans, answered, {}, None)
    counted = _Counted(monkeypatch)
    analysis = Analyzer().process(rows, now=1.7e9, window_seconds=30.0)
    assert counted.calls == 0 and not any(row.provenance.made for row in analysis.rows)
    assert "cost_per_day" not in analysis.rows[0].provenance  # vLLM has no cost: no hourly line to project
