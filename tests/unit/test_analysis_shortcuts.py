"""`Analyzer._judge` takes shortcuts (no verdict for a value within an absolute limit, no reading the alert
engine would pass over, no `evaluate` call without a warm baseline, a per-filter plan of the rules): the
cells, alerts and alert states are those judging every rule on every row by `evaluate` makes, on randomised
rows over many refreshes (warming, stale, unknown and non-finite values, rows that vanish or come twice)."""

from __future__ import annotations

import math
import random
import re
from dataclasses import replace
from functools import partial

from aitop.analysis.baseline import BaselineView
from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.engine import Analyzer
from aitop.analysis.messages import context
from aitop.analysis.rules import UNKNOWN, RowFilter, Rule, evaluate, severity_of
from aitop.analysis.settings import AlertSettings, BaselineSettings
from aitop.model import Row, Severity

_NOT_VIEWED = object()

RULES = (
    Rule("err_warn", "error_rate", ">", Severity.WARNING, threshold=0.05, for_=10.0),
    Rule("err_crit", "error_rate", ">=", Severity.CRITICAL, threshold=0.2, for_=0.0, keep_firing_for=20.0),
    Rule("kv_low", "kv_cache_usage", "<", Severity.WARNING, threshold=0.1, alert=False),
    Rule("lat_traffic", "latency_p95", ">", Severity.WARNING, threshold=1.0, min_request_rate=2.0),
    Rule("lat_base", "latency_p95", ">", Severity.CRITICAL, baseline=2.0, for_=6.0),
    Rule("rate_band", "request_rate", "<>", Severity.WARNING, sigma=3.0),
    Rule("waiting_b", "waiting", ">", Severity.WARNING, threshold=5.0,
         filter=RowFilter(schema=re.compile("sglang"))),
    Rule("waiting_a", "waiting", ">", Severity.CRITICAL, threshold=20.0,
         filter=RowFilter(group=re.compile("m-[0-4]"))),
    Rule("labelled", "running", "<=", Severity.WARNING, threshold=0.0,
         filter=RowFilter(labels=(("model_name", re.compile("m-.*")),))),
)


def _general_judge(analyzer: Analyzer, rows, now, *, with_baselines, alerts=True):
    """Every applicable rule on every row through `evaluate`, every reading kept: the path the shortcuts
    must agree with."""
    views: dict = {}

    def view(row: Row, field: str) -> BaselineView | None:
        if not with_baselines:
            return None
        key = (row.schema, row.group, field)
        found = views.get(key, _NOT_VIEWED)
        if found is _NOT_VIEWED:
            found = views[key] = analyzer.baselines.view((row.schema, row.group), field, now)
        return found

    severities, readings = [], []
    for row in rows:
        verdicts = []
        for rule in analyzer.rules:
            if not rule.filter.matches(row):
                continue
            if row.warming or row.values.get(rule.field) is None:
                verdict = UNKNOWN
            else:
                verdict = evaluate(rule, row, view(row, rule.field) if rule.relative else None)
            verdicts.append((rule, verdict))
            if rule.alert and alerts:
                held = UNKNOWN if row.stale else verdict
                readings.append((rule, row, held, context(rule, row, partial(view, row)) if held.breached else None))
        severities.append(severity_of(verdicts))
    return severities, readings


def _rows(chooser: random.Random, refresh: int) -> list[Row]:
    rows = []
    for number in range(12):
        if chooser.random() < 0.1:
            continue  # gone this refresh
        values = {
            "request_rate": chooser.choice([None, 0.0, 1.0, 3.0, 3.0, 3.0, 4.0, math.nan]),
            "error_rate": chooser.choice([None, 0.0, 0.01, 0.06, 0.3, math.inf, math.nan]),
            "kv_cache_usage": chooser.choice([None, 0.05, 0.5, -math.inf]),
            "latency_p95": chooser.choice([0.5, 0.5, 0.55, 1.2, 3.0, None]),
            "waiting": chooser.choice([0.0, 6.0, 30.0, None]),
            "running": chooser.choice([0.0, 1.0, None]),
        }
        row = Row(schema=chooser.choice(["vllm", "sglang"]) if number % 3 == 0 else "vllm", group=f"m-{number}",
                  group_label=chooser.choice(["model_name", "model_name", "pod"]), values=values,
                  stale=chooser.random() < 0.1, data_since=None if chooser.random() < 0.9 else refresh * 2.0)
        rows.append(row)
        if chooser.random() < 0.05:  # the same key twice, read otherwise
            rows.append(replace(row, values={**values, "error_rate": chooser.choice([0.0, 0.3])}, stale=False))
    return rows


def test_the_shortcuts_judge_as_evaluating_every_rule_does() -> None:
    settings = AnalysisSettings(rules=RULES, baseline=BaselineSettings(window=120.0, slots=8, warmup=8.0, min_slots=2),
                                alerts=AlertSettings(keep_resolved=30.0, missing_grace=12.0))
    fast, general = Analyzer(settings), Analyzer(settings)
    general._judge = partial(_general_judge, general)  # type: ignore[method-assign]
    chooser = random.Random(17)
    seen = set()
    for refresh in range(300):
        now = 1000.0 + 2.0 * refresh
        rows = _rows(chooser, refresh)
        warmup = 6.0 if refresh % 50 < 25 else 0.0
        one = fast.process(rows, now=now, window_seconds=10.0, warmup=warmup)
        other = general.process(rows, now=now, window_seconds=10.0, warmup=warmup)
        assert [list(row.severity.items()) for row in one.rows] == [list(row.severity.items()) for row in other.rows]
        assert one.rows == other.rows
        assert one.alerts == other.alerts and one.new_critical == other.new_critical
        seen.update((alert.rule, alert.state) for alert in one.alerts)
        seen.update((rule, level) for row in one.rows for rule, level in row.severity.items())
    assert fast.engine._tracks.keys() == general.engine._tracks.keys()  # (every state, not only those listed)
    # The randomised rows reached every state and cell colour the shortcuts decide.
    assert {"err_warn", "err_crit", "lat_base"} <= {rule for rule, state in seen if state == "firing"}
    assert {(rule, state) for rule, state in seen if state in ("pending", "resolved")}
    assert {level for _, level in seen if isinstance(level, Severity)} == set(Severity)
