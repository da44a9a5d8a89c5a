"""Prometheus mode: what one refresh asks for and the rows it builds — the view's rows and, while the view is
grouped by another label (`g`), the (schema, model) rows beside them, which alerts and baselines follow.

While regrouped, each schema's per-model queries go out as a batch of their own (one more request per
schema, so a slow or failing one never costs the view's batch); a per-model query whose expression the view
asks already (grouping by the model label itself) is sent once and read twice. Each grouping also asks
when its rows' windows begin (`prom_since`), which becomes `Row.data_since`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import requests

from aitop.model import Row
from aitop.sources.prometheus.results import assemble_rows, unknown_where_failed, with_infos
from aitop.sources.prometheus.since import SINCE, data_since_of, since_queries
from aitop.sources.prometheus.promql import Query, SchemaPlan, places_queries

#: The batch lane of the per-model queries sent beside a regrouped view.
MODELS_LANE = "models"

Answers = Mapping[Query, tuple[list, requests.Response | None]]


@dataclass(frozen=True, slots=True)
class Planned:
    """The queries of one refresh: the view's, the per-model ones (empty unless regrouped), and the batch
    lane of every query sent apart from its schema's view batch (expression -> lane)."""

    view: tuple[Query, ...]
    models: tuple[Query, ...]
    lanes: Mapping[str, str]

    @property
    def sent(self) -> list[Query]:
        """Every query to send, each expression once."""
        return list({query.expr: query for query in (*self.view, *self.models)}.values())


def plan_refresh(plans: Sequence[SchemaPlan], fields: Callable[[str | None], list[Query]], *, window: float,
                 scrape_interval: float | None, group_by: str | None) -> Planned:  # fmt: skip
    """What to ask this refresh (see the module doc); `fields(label)`: the field queries of every schema
    grouped by `label` (None: the model label)."""

    def grouped(label: str | None, places: bool) -> list[Query]:
        queries = fields(label) + (places_queries(plans, group_by=label) if places else [])
        return queries + since_queries(plans, window=window, scrape_interval=scrape_interval, group_by=label)

    view = grouped(group_by, True)
    if group_by is None:
        return Planned(tuple(view), (), {})
    models = grouped(None, False)  # alerts need no GPU join
    asked = {query.expr for query in view}
    return Planned(tuple(view), tuple(models), {q.expr: MODELS_LANE for q in models if q.expr not in asked})


def _part(queries: Sequence[Query], found: Mapping[str, object]) -> dict:
    return {query: found[query.expr] for query in queries if query.expr in found}


def build_rows(
    plans: Sequence[SchemaPlan], planned: Planned, answered: Answers, errored: Mapping[Query, Exception],
    *, group_by: str | None, offset: float,
) -> tuple[list[Row], tuple[Row, ...] | None, list[str]]:
    """(the view's rows, the model rows when regrouped else None, the server's warnings) from one refresh's
    answers; `offset` (server − aitop) turns the server's times into aitop's for `data_since`."""
    by_expr = {query.expr: answer for query, answer in answered.items()}
    failed = {query.expr: error for query, error in errored.items()}

    def rows_of(queries: Sequence[Query], label: str | None) -> tuple[list[Row], list[str]]:
        fields = [query for query in queries if query.kind != SINCE]
        mine, broken = _part(fields, by_expr), _part(fields, failed)
        asked = [query for query in queries if query.kind == SINCE]
        since = {query: answer[0] for query, answer in _part(asked, by_expr).items()}
        # Each row is made with its `data_since` (one copy of 1,000 rows fewer than setting it after).
        rows, warnings = assemble_rows(plans, mine, broken, label, data_since=data_since_of(since, offset))
        rows = with_infos(unknown_where_failed(rows, broken), mine)
        for error in _part(asked, failed).values():  # (its message names the query)
            warnings.append(f"{error}; rows warm up from when aitop first sees them")
        return rows, warnings

    rows, warnings = rows_of(planned.view, group_by)
    if group_by is None:
        return rows, None, warnings
    models, more = rows_of(planned.models, None)
    return rows, tuple(models), list(dict.fromkeys([*warnings, *more]))
