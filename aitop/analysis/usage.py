"""Usage fields derived from a row's own numbers: tokens per request, and the peak request rate over the
window and over the session.

Tokens per request are the token rate divided by the request rate over the same window, so they are
stateless. Peaks need what was seen before: `PeakTracker` keeps, per row, the request rates of the
refreshes within the current window (for the window's peak) and the highest rate since aitop started (for
the session's peak). A row keeps its peaks across refreshes under one grouping; another grouping has its
own rows and peaks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeGuard

from aitop.explanations import with_lines
from aitop.model import Missing, Row

#: Row fields this module adds, in the order they are declared in `aitop.model`.
PER_REQUEST = {"input_tokens_per_request": "input_tokens_rate", "output_tokens_per_request": "output_tokens_rate"}
PEAK = "request_rate_peak"
SESSION_PEAK = "request_rate_session_peak"
PROVENANCE = {
    "input_tokens_per_request": "input tok/s / req/s over the same window",
    "output_tokens_per_request": "output tok/s / req/s over the same window",
    PEAK: "highest req/s of the refreshes within the last window",
    SESSION_PEAK: "highest req/s since aitop started",
}
_PER_REQUEST = tuple(PER_REQUEST.items())
#: Rows not seen for this many seconds are forgotten, so label churn cannot grow the tracker without bound
#: (the analysis passes its baselines' `forget_after`, so every per-row memory forgets alike).
FORGET_AFTER = 3600.0


def _known(value: float | None) -> TypeGuard[float]:
    return value is not None and value == value


def per_request(row: Row) -> tuple[dict[str, float | None], dict[str, Missing]]:
    """(values, missing) of the tokens-per-request fields of `row` (unknown with no request in the window)."""
    values: dict[str, float | None] = {}
    missing: dict[str, Missing] = {}
    own = row.values
    requests = own.get("request_rate")
    for name, rate_name in _PER_REQUEST:
        rate = own.get(rate_name)
        if rate is not None and rate == rate and requests is not None and requests > 0:  # (NaN > 0 is False)
            values[name] = rate / requests
        else:
            values[name] = None
            missing[name] = (Missing.NO_OBSERVATIONS if requests == 0
                             else row.missing_reason(rate_name) or row.missing_reason("request_rate")
                             or Missing.NO_METRIC)  # fmt: skip
    return values, missing


class PeakTracker:
    """The highest request rate per row, over the last window and since the tracker was made."""

    def __init__(self, forget_after: float = FORGET_AFTER) -> None:
        self.forget_after = forget_after
        self._recent: dict[tuple[str, str, str], deque[tuple[float, float]]] = {}
        self._session: dict[tuple[str, str, str], float] = {}
        self._seen: dict[tuple[str, str, str], float] = {}

    def observe(self, key: tuple[str, str, str], rate: float | None, now: float,
                window_seconds: float) -> tuple[float | None, float | None]:  # fmt: skip
        """Note `rate` for row `key` at `now`; (peak within the window, peak of the session)."""
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque()
        if rate is not None and rate == rate:  # (`_known`, inline: once per row and refresh)
            # A reading no later and no higher than this one can never be the window's peak again (it leaves
            # the window no later): dropped, the deque stays a few entries long however many refreshes a
            # window holds, and the peak below reads those few.
            while recent and recent[-1][1] <= rate and recent[-1][0] <= now:
                recent.pop()
            recent.append((now, rate))
            session = self._session.get(key, rate)
            self._session[key] = rate if rate > session else session  # (`max(session, rate)`)
        while recent and recent[0][0] <= now - window_seconds:  # (now - window, now], as PromQL ranges
            recent.popleft()
        self._seen[key] = now
        if len(recent) == 1:  # (most rows: a rate that only grew, or the one reading of the window)
            window: float | None = recent[0][1]
        else:
            window = max((value for _, value in recent), default=None)
        return window, self._session.get(key)

    def forget_stale(self, now: float) -> None:
        """Drop rows unseen for `forget_after` seconds."""
        for key in [key for key, seen in self._seen.items() if seen < now - self.forget_after]:
            del self._seen[key]
            self._recent.pop(key, None)
            self._session.pop(key, None)

    def fields(self, row: Row, now: float, window_seconds: float,
               grouping: str | None = None) -> tuple[dict[str, float | None], dict[str, Missing]]:  # fmt: skip
        """(values, missing) of `row`'s tokens per request and request-rate peaks, noting its rate."""
        values, missing = per_request(row)
        # A stale row repeats its last good window: it must not count twice towards a peak.
        rate = None if row.stale else row.values.get("request_rate")
        values[PEAK], values[SESSION_PEAK] = self.observe((grouping or "", row.schema, row.group), rate, now,
                                                          window_seconds)  # fmt: skip
        for name in (PEAK, SESSION_PEAK):
            if values[name] is None:
                missing[name] = row.missing_reason("request_rate") or Missing.NOT_ENOUGH_SAMPLES
        return values, missing

    def add(self, row: Row, now: float, window_seconds: float, grouping: str | None = None) -> Row:
        """`row` with its tokens per request and request-rate peaks."""
        return with_fields(row, *self.fields(row, now, window_seconds, grouping))


def with_fields(row: Row, values: Mapping[str, float | None], missing: Mapping[str, Missing]) -> Row:
    """`row` with `values` added (and why the unknown ones are unknown)."""
    provenance = with_lines(row.provenance, {name: PROVENANCE[name] for name in values if name in PROVENANCE})
    return replace(row, values={**row.values, **values}, missing={**row.missing, **missing}, provenance=provenance)
