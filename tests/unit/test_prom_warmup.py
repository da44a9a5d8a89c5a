"""Prometheus mode's warm-up from the server's history and its side batch of per-model queries (pure: time is
injected, answers are given; the real server is in tests/integration/test_prometheus_warmup.py)."""

from __future__ import annotations

from dataclasses import replace

from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.engine import Analyzer
from aitop.analysis.configure import DEFAULT_RULES
from aitop.catalog import builtin_schemas
from aitop.model import Row
from aitop.sources.prometheus.batch import Batcher
from aitop.sources.prometheus.rows import MODELS_LANE, build_rows, plan_refresh
from aitop.sources.prometheus.since import SINCE, since_query, since_step, with_data_since
from aitop.sources.prometheus.promql import Query, instant_queries, plan_schemas

T0 = 1_700_000_000.0
WINDOW = 30.0
RULE = replace(next(r for r in DEFAULT_RULES if r.name == "error_rate_critical"), for_=0.0)


def row(data_since: float | None) -> Row:
    return Row("llm", "m", "model", {"error_rate": 0.5, "request_rate": 10.0}, data_since=data_since)


def judge(analyzer: Analyzer, data_since: float | None, now: float, history: bool = True):
    return analyzer.process([row(data_since)], now=now, window_seconds=WINDOW, warmup=WINDOW, history=history)


def test_a_window_the_server_holds_is_judged_at_the_first_refresh() -> None:
    # mutant: `_watch` ignores `history` (aitop's first look bounds the warm-up) -> warming, no alert
    analysis = judge(Analyzer(AnalysisSettings(rules=(RULE,))), T0 - 3600, T0)
    assert not analysis.rows[0].warming and [a.state for a in analysis.alerts] == ["firing"]


def test_a_series_ten_seconds_old_warms_up_for_the_rest_of_its_window() -> None:
    analyzer = Analyzer(AnalysisSettings(rules=(RULE,)))
    analysis = judge(analyzer, T0 - 10, T0)
    assert analysis.rows[0].warmup == (10.0, WINDOW) and analysis.rows[0].warming and not analysis.alerts
    assert judge(analyzer, T0 - 10, T0 + 20).alerts  # 30 s of the server's data


def test_without_history_the_warm_up_starts_at_aitops_first_look() -> None:
    # scrape mode: data_since never makes a row older than when aitop first saw it
    analysis = judge(Analyzer(AnalysisSettings(rules=(RULE,))), T0 - 3600, T0, history=False)
    assert analysis.rows[0].warmup == (0.0, WINDOW) and not analysis.alerts


def test_after_an_outage_of_the_source_the_warm_up_counts_from_its_return() -> None:
    # mutant: `restart()` forgets only aitop's own looks -> the server's old data_since judges at once
    analyzer = Analyzer(AnalysisSettings(rules=(RULE,)))
    assert judge(analyzer, T0 - 3600, T0).alerts
    analyzer.restart()
    analysis = judge(analyzer, T0 - 3600, T0 + 60)
    assert analysis.rows[0].warmup == (0.0, WINDOW)
    assert judge(analyzer, T0 - 3600, T0 + 90).rows[0].warmup == (30.0, WINDOW)


def test_a_counter_reset_the_server_reports_restarts_the_warm_up() -> None:
    analyzer = Analyzer(AnalysisSettings(rules=(RULE,)))
    assert not judge(analyzer, T0 - 3600, T0).rows[0].warming
    assert judge(analyzer, T0 + 4, T0 + 6).rows[0].warmup == (2.0, WINDOW)


def test_data_since_is_the_latest_per_row_in_aitops_clock() -> None:
    # mutant: the offset added instead of subtracted, or the earliest series kept -> both asserts fail
    query = Query("llm", SINCE, SINCE, "max by (model) (…)", ("model",))
    answer = [{"metric": {"model": "m"}, "value": [T0, str(T0 - 100)]},
              {"metric": {"model": "m"}, "value": [T0, str(T0 - 20)]},  # (two counter names, one row)
              {"metric": {"model": "n"}, "value": [T0, "NaN"]}]
    rows = [row(None), replace(row(None), group="n"), replace(row(None), group="other")]
    out = with_data_since(rows, {query: answer}, offset=5.0)  # the server's clock is 5 s ahead of aitop's
    assert [r.data_since for r in out] == [T0 - 25, None, None]


def test_the_since_query_asks_each_counter_name_alone_over_the_window_plus_a_step() -> None:
    (plan,) = plan_schemas([s for s in builtin_schemas() if s.name == "llm"],
                           {"llm_requests_total", "llm_request_latency_seconds_bucket"})
    query = since_query(plan, window=WINDOW, step=since_step(WINDOW, 15.0), group_by=None)
    assert query is not None and query.group_labels == ("model",)
    assert query.expr.startswith("max by (model) (")
    assert "[45s:15s]" in query.expr and "timestamp(llm_requests_total" in query.expr
    assert since_step(3600 * 24, 15.0) == 360.0  # never more than 240 steps over a window


def test_a_regrouped_refresh_sends_the_per_model_queries_as_a_batch_of_their_own() -> None:
    # mutant: no lane (the model queries join the view's batch) -> one batch, not two
    (plan,) = plan_schemas([s for s in builtin_schemas() if s.name == "llm"],
                           {"llm_requests_total", "llm_request_latency_seconds_bucket"})

    def fields(label: str | None) -> list[Query]:
        return instant_queries(plan, window=WINDOW, group_by=label)

    planned = plan_refresh([plan], fields, window=WINDOW, scrape_interval=15.0, group_by="instance")
    assert planned.models and all(q.group_labels == ("model",) for q in planned.models)
    assert set(planned.lanes.values()) == {MODELS_LANE}
    batches, alone = Batcher().plan(planned.sent, 0.0, lambda expr: False, planned.lanes)
    assert sorted(b.schema for b in batches) == ["llm", "llm (models)"] and alone == []
    assert plan_refresh([plan], fields, window=WINDOW, scrape_interval=15.0, group_by=None).models == ()
    # a per-model query the view asks already (the same expression) is sent once, in the view's batch
    same = plan_refresh([plan], lambda label: fields(None), window=WINDOW, scrape_interval=15.0, group_by="x")
    (own,) = [q for q in same.models if q.expr in same.lanes]  # only the since-query differs (its grouping)
    assert own.kind == SINCE and len(same.sent) == len(same.view) + 1


def test_rows_are_built_with_the_data_since_of_their_since_answers() -> None:
    """`build_rows` hands each row its `data_since` while it is made (no second copy of every row): the
    same value `with_data_since` gives, and None for a row without a since answer."""
    (plan,) = plan_schemas([s for s in builtin_schemas() if s.name == "llm"],
                           {"llm_requests_total", "llm_request_latency_seconds_bucket"})
    planned = plan_refresh([plan], lambda label: instant_queries(plan, window=WINDOW, group_by=label),
                           window=WINDOW, scrape_interval=15.0, group_by=None)
    answered = {}
    for query in planned.view:
        if query.kind == SINCE:
            answer = [{"metric": {"model": "m"}, "value": [T0, str(T0 - 100)]},
                      {"metric": {"model": "n"}, "value": [T0, "NaN"]}]
        else:
            answer = [{"metric": {"model": group}, "value": [T0, "2"]} for group in ("m", "n")]
        answered[query] = (answer, None)
    rows, models, _ = build_rows([plan], planned, answered, {}, group_by=None, offset=5.0)
    assert models is None
    assert {row.group: row.data_since for row in rows} == {"m": T0 - 105, "n": None}
    since = {q: a for q, (a, _) in answered.items() if q.kind == SINCE}
    assert [row.data_since for row in with_data_since([replace(r, data_since=None) for r in rows], since, 5.0)] \
        == [row.data_since for row in rows]
