"""Prometheus mode's chart markers, from the server's history of a row's targets (the instances that hold
the row's request counter):

- restarts: `resets()` of the row's request counter and `changes(process_start_time_seconds)`, per step of
  a `query_range`, so a marker is placed within one step of the event;
- deployments: an info series (`vllm:cache_config_info`) or the row's model label first present on an
  instance after the range starts — its first timestamp, from `min_over_time(timestamp(…)[range:step])`;
- the server's alerts on the row (`ALERTS` carrying the row's label) that started firing in the range.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aitop.catalog.match import MARKER_SERIES
from aitop.markers import RESTART_GAUGE, Marker
from aitop.sanitize import clean
from aitop.sources.prometheus.results import QueryFailure
from aitop.sources.prometheus.promql import group_matcher
from aitop.sources.prometheus.history import history_step

#: Info series whose new label set on an instance is a deployment.
INFO_SERIES = tuple(sorted(name for name in MARKER_SERIES if name.endswith("_info")))


def _counter(plan, matcher) -> str | None:
    """A selector of the row's request counter as stored on the server (a histogram's `_count`)."""
    found = plan.variants.get("requests")
    if found is None:
        return None
    variant, metric = found
    name = metric + "_count" if variant.kind == "histogram" else metric
    return f"{name}{{{matcher.for_variant(plan.schema, variant)}}}"


def _labels(metric: dict, skip: set[str]) -> str:
    pairs = [f"{name}={clean(value, 24)}" for name, value in sorted(metric.items()) if name not in skip]
    return ", ".join(pairs[:4])


def _run_starts(values, step: float) -> list[float]:
    """The first time of each run of consecutive steps in a `query_range` answer."""
    starts, previous = [], None
    for stamp, _ in values:
        stamp = float(stamp)
        if previous is None or stamp - previous > step * 1.5:
            starts.append(stamp)
        previous = stamp
    return starts


async def server_markers(collector, key: tuple[str, str], seconds: float) -> list[Marker]:
    """Row `key`'s markers over the last `seconds` (at the collector's evaluation time)."""
    plan = next((p for p in collector._plans if p.schema.name == key[0]), None)
    if plan is None:
        return []
    row = next((r for r in collector._last_rows if r.key == key), None)
    label = row.group_label if row is not None else plan.group_labels(collector.group_by)[0]
    selector = _counter(plan, group_matcher((label,), key[1]))
    if selector is None:
        return []
    owners = f"group by (instance) ({selector})"
    end = collector.server_now()
    step = history_step(seconds)
    models = frozenset({key[1]})
    found: list[Marker] = []

    async def ranged(expr: str) -> list:
        start, stop = datetime.fromtimestamp(end - seconds, UTC), datetime.fromtimestamp(end, UTC)
        try:
            return (await collector._run_bounded(collector._client.custom_query_range, expr, start, stop,
                                                 f"{step:g}s"))[0]
        except QueryFailure:
            return []

    async def firsts(expr: str) -> list[tuple[dict, float]]:
        """(labels, first time) of each series of `expr` that began inside the range."""
        query = f"min_over_time(timestamp({expr})[{int(seconds)}s:{step:g}s])"
        try:
            (result, _) = await collector._run_bounded(collector._client.custom_query, query,
                                                       collector._query_params(end))
        except QueryFailure:
            return []
        return [(item["metric"], float(item["value"][1])) for item in result
                if float(item["value"][1]) > end - seconds + step]

    # The range must hold two samples; a change then shows at every step until it leaves the range, so
    # only the first step of each run is the event.
    span = f"{max(2 * step, collector.window_used):g}s"
    started = set()
    for item in await ranged(f"changes({RESTART_GAUGE}[{span}]) > 0 and on (instance) {owners}"):
        instance = item["metric"].get("instance", "")
        for stamp in _run_starts(item["values"], step):
            started.add(stamp)
            found.append(Marker(stamp, "restart", f"{clean(instance, 60)} restarted (process start time "
                                "changed)", instance, models))
    for item in await ranged(f"sum by (instance) (resets({selector}[{span}])) > 0"):
        instance = item["metric"].get("instance", "")
        found += [Marker(stamp, "restart", f"{clean(instance, 60)} restarted (counters reset)", instance, models)
                  for stamp in _run_starts(item["values"], step)
                  if not any(abs(stamp - other) <= float(span[:-1]) for other in started)]
    for name in INFO_SERIES:
        for metric, first in await firsts(f"{name} and on (instance) {owners}"):
            instance = metric.get("instance", "")
            found.append(Marker(first, "deploy", f"{name} new on {clean(instance, 60)}: "
                                f"{_labels(metric, {'instance', 'job', '__name__'})}", instance, models))
    for metric, first in await firsts(owners):
        instance = metric.get("instance", "")
        found.append(Marker(first, "deploy", f"model {clean(key[1], 48)} appeared on {clean(instance, 60)}",
                            instance, models))
    alerts = f'group by (alertname) (ALERTS{{alertstate="firing",{group_matcher((label,), key[1])}}})'
    for metric, first in await firsts(alerts):
        found.append(Marker(first, "alert", f"prometheus:{clean(metric.get('alertname', '?'), 48)} fired", key=key))
    return found
