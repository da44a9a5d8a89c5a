"""The last good answer of every query, kept for a refresh that gets no fresh one (a transient failure, or a
query still running): the rows then show the answer from a few seconds ago.

Kept decoded, 1,000 rows' answers are ~45,000 small dicts and lists that stay alive between refreshes, and
every full garbage collection walks them (10–14 ms of a 1,000-row refresh). Kept as the response they came
in (its body is one bytes object, which the collector never walks) they cost nothing until a fallback needs
one; it is then decoded again — once per response per refresh however many of its queries fall back — and
split and capped as it was when it arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from aitop.gcpolicy import paused_gc
from aitop.sources.prometheus.batch import CONCEPT_LABEL
from aitop.sources.prometheus.promql import Query
from aitop.sources.prometheus.results import capped


@dataclass(frozen=True, slots=True)
class Kept:
    """One query's last good answer: its response (body read) and, for a batch's, the query's tag in it —
    or the decoded series themselves when there is no response body to decode again (a canned answer)."""

    source: requests.Response | list
    tag: str | None
    at: float  # monotonic time it arrived


def keep(result: list, response: requests.Response | None, tag: str | None, now: float) -> Kept:
    """What to keep of a fresh answer (`tag`: the query's index in the batch that answered it, if one did)."""
    if isinstance(response, requests.Response) and isinstance(response._content, bytes):
        return Kept(response, tag, now)
    return Kept(result, None, now)


class Recall:
    """The kept answers decoded again for one refresh's fallbacks (each response decoded at most once)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._decoded: dict[int, tuple[requests.Response, dict[str | None, list]]] = {}

    def __call__(self, query: Query, kept: Kept) -> list:
        """The series `kept` held for `query`, as the refresh it arrived in read them."""
        source = kept.source
        if not isinstance(source, requests.Response):
            return source
        found = self._decoded.get(id(source))
        if found is None:
            with paused_gc():  # (as when it arrived: thousands of small dicts, none in a cycle)
                result = source.json()["data"]["result"]
            parts: dict[str | None, list] = {}
            for series in result:  # a batch's answer splits by its tag (popped, as `split_answer` does)
                tag = (series.get("metric") or {}).pop(CONCEPT_LABEL, None)
                parts.setdefault(tag, []).append(series)
            found = self._decoded[id(source)] = (source, parts)
        return capped(query, found[1].get(kept.tag, []), self.limit, [])
