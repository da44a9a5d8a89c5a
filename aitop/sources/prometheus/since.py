"""Prometheus mode: since when each row's window holds unbroken data, asked of the server (`Row.data_since`).

The server keeps history, so a row's warm-up need not start when aitop does: a model whose window the
server holds in full is judged on the first refresh, and one whose series began 10 s ago (a new replica, a
fresh Prometheus) is warming for the rest of its window, as its `rate()` reads low until then. A counter
reset (a restarted server process) starts the window again, as in scrape mode.

One sub-query per schema, in the refresh's batch: for every series of the request counter, the time of
its latest reset in the window (a sample lower than the last one before it), else of its oldest sample
there; per row the latest of these. `timestamp()` gives a sample's own time only when applied to a
selector, so each counter name is its own term (a selector over several names would hold series with the
same labels once `timestamp()` drops the name: an error). The range is the window plus one step, so a
series older than the window reads as starting before it (a full window), never a step inside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from aitop.model import Row
from aitop.sanitize import clean
from aitop.sources.prometheus.promql import INF_BUCKET, Query, SchemaPlan, by_labels, duration, vector

#: The query's concept and kind: its answer fills `Row.data_since`, no field.
SINCE = "data_since"
#: Counter names looked at per schema (a regex variant can match many; the first few tell a restart).
MAX_NAMES = 4
#: Steps a subquery takes over the window at most (a long window is sampled more coarsely).
MAX_STEPS = 240
NONE_GROUP = "(none)"  # as prom_results names series without the group label
_TERM = "__aitop_name__"


def since_step(window: float, scrape_interval: float | None) -> float:
    """The subquery's step: the scrape interval (a quarter of the window when unknown), never finer than
    `MAX_STEPS` steps over the window."""
    step = scrape_interval if scrape_interval else window / 4
    return max(step, window / MAX_STEPS)


def since_query(plan: SchemaPlan, *, window: float, step: float, group_by: str | None) -> Query | None:
    """The sub-query answering, per row of `plan`'s schema, the server time since which its window is
    unbroken; None when the schema has no request counter to ask about."""
    found = plan.chosen.get("requests")
    if not found:
        return None
    resolved = found[0]
    variant = resolved.variant
    labels = plan.group_labels(group_by, variant)
    extra = [INF_BUCKET] if variant.kind == "histogram" else []  # one series per bucket set is enough
    span, every = duration(window + step), duration(step)

    def since(selector: str) -> str:
        # A reset: a sample below the last one a step earlier (a range bridges the gap a restart leaves,
        # which staleness empties for an instant selector); its time is the step's. Else the oldest sample's.
        before = f"last_over_time({selector}[{span}] offset {every})"
        return (f"(max_over_time(timestamp({selector} < {before})[{span}:{every}])"
                f" or min_over_time(timestamp({selector})[{span}:{every}]))")

    names = resolved.values[:MAX_NAMES]
    terms = [vector(plan, variant, (name,), labels, extra, since) for name in names]
    if len(terms) > 1:  # distinct label sets, so `or` keeps every name's series
        terms = [f'label_replace({term}, "{_TERM}", "{i}", "", "")' for i, term in enumerate(terms)]
    expr = f"max by ({by_labels(labels[:1])}) ({' or '.join(terms)})"
    return Query(plan.schema.name, SINCE, SINCE, expr, group_labels=labels[:1], variant=variant)


def since_queries(plans: Sequence[SchemaPlan], *, window: float, scrape_interval: float | None,
                  group_by: str | None) -> list[Query]:  # fmt: skip
    """One `since_query` per schema that has a request counter."""
    step = since_step(window, scrape_interval)
    queries = (since_query(plan, window=window, step=step, group_by=group_by) for plan in plans)
    return [query for query in queries if query is not None]


def data_since_of(answers: Mapping[Query, list], offset: float) -> dict[tuple[str, str], float]:
    """Row key -> `data_since` (aitop's clock: the server's time minus `offset`, server − aitop) from the
    answers of the schemas' since-queries."""
    since: dict[tuple[str, str], float] = {}
    for query, result in answers.items():
        label = query.group_labels[0]
        for series in result:
            value = float(series["value"][1])
            if not math.isfinite(value):  # no sample to tell
                continue
            name = series.get("metric", {}).get(label)
            group = clean(name) if name else NONE_GROUP
            key = (query.schema, group)
            since[key] = max(since.get(key, value), value)
    return {key: value - offset for key, value in since.items()}


def with_data_since(rows: Sequence[Row], answers: Mapping[Query, list], offset: float) -> list[Row]:
    """`rows` with `data_since` from the answers of their schemas' since-queries (`data_since_of`); a row
    without an answer keeps None (warm-up from when aitop first sees it)."""
    since = data_since_of(answers, offset)
    if not since:
        return list(rows)
    return [replace(row, data_since=since[row.key]) if row.key in since else row for row in rows]
