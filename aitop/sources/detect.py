"""Is a target a Prometheus-compatible server or a /metrics page? Ask it.

A URL ending in `/metrics` is scraped without a probe. Anything else is asked for
`/api/v1/status/buildinfo` (Prometheus, Thanos, Mimir and VictoriaMetrics answer it, under a path prefix
too), then for a trivial query; a server that answers either is queried with PromQL, anything else is
scraped (at `/metrics` when the URL has no path).

A target that cannot be reached at start-up does not stop the TUI: `PendingCollector` stands in for the
real collector, shows "disconnected: connection refused" (or "DNS lookup failed"), asks again on every
poll — with exponential back-off and jitter after DNS failures — and hands over as soon as the server
answers.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from aitop.model import Row, TargetHealth
from aitop.sanitize import clean
from aitop.sources.base import Collected, Collector, Points
from aitop.transport import (
    HTTPS_HINT,
    HttpSettings,
    backoff_delay,
    connect_failure,
    httpx_client,
    speaks_https,
    tls_failure,
)


class DetectionError(Exception):
    """The target could not be reached to tell its kind; the message is safe to show.

    `reason` is the short cause ("connection refused", "DNS lookup failed", …); `dns` is True when the host
    name did not resolve."""

    def __init__(self, message: str, *, reason: str = "", dns: bool = False) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.dns = dns


def _reason(exc: httpx.HTTPError) -> tuple[str, bool]:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out", False
    reason = tls_failure(exc) or connect_failure(exc)
    if reason is not None:
        return reason, reason == "DNS lookup failed"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect", False
    return type(exc).__name__, False


@dataclass(frozen=True, slots=True)
class Detected:
    kind: str  # scrape | prometheus
    url: str  # the /metrics URL, or the server's base URL (with any path prefix)
    backend: str | None = None  # "Prometheus 2.42.0" when known


def scrape_url(url: str) -> str:
    parsed = httpx.URL(url)
    return str(parsed.copy_with(path="/metrics")) if parsed.path in ("", "/") else url


def _looks_like_metrics_path(url: str) -> bool:
    return httpx.URL(url).path.rstrip("/").endswith("/metrics")


async def _ask(client: httpx.AsyncClient, url: str, path: str, params: dict | None = None) -> dict | None:
    response = await client.get(url.rstrip("/") + path, params=params)
    if speaks_https(response.status_code, response.content):
        https = str(httpx.URL(url).copy_with(scheme="https"))
        raise DetectionError(f"{clean(httpx.URL(url).host)}: {HTTPS_HINT.removesuffix('https://')}{clean(https, 120)}",
                             reason=HTTPS_HINT)
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("status") == "success" else None


async def detect(
    url: str, *, kind: str, http: HttpSettings, timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> Detected:
    """The kind of `url`: as forced by `kind` ("scrape"/"prometheus"), else by asking the server."""
    if kind == "scrape" or (kind == "auto" and _looks_like_metrics_path(url)):
        return Detected("scrape", scrape_url(url))
    async with httpx_client(http, timeout=timeout, headers={"User-Agent": "aitop"}, transport=transport) as client:
        try:
            info = await _ask(client, url, "/api/v1/status/buildinfo")
            if info is None:
                info = await _ask(client, url, "/api/v1/query", {"query": "vector(1)"})
        except httpx.HTTPError as exc:
            if kind == "prometheus":
                return Detected("prometheus", url.rstrip("/"))
            reason, dns = _reason(exc)
            raise DetectionError(
                f"cannot reach {clean(httpx.URL(url).host)} ({reason}) to tell whether it is a Prometheus server "
                f"or a /metrics page; pass --prometheus or --scrape",
                reason=reason, dns=dns,
            ) from None
    if info is None:
        if kind == "prometheus":
            return Detected("prometheus", url.rstrip("/"))
        return Detected("scrape", scrape_url(url))
    data = info.get("data")
    version = data.get("version") if isinstance(data, dict) else None
    backend = f"Prometheus-compatible {clean(version, 40)}" if version else "Prometheus-compatible"
    return Detected("prometheus", url.rstrip("/"), backend)


class PendingCollector:
    """A collector for targets not reachable yet: reports them down until `opener()` succeeds, then
    delegates everything to the collector it built.

    `opener` builds the real collector (detecting each target's kind) and raises `DetectionError` while
    a target cannot be reached. A refused connection is asked again at every poll — nothing is listening,
    trying costs nobody anything, and a started server is seen within one interval; a DNS failure backs
    off 1 s, 2 s, 4 s … with jitter.
    """

    def __init__(
        self,
        opener: Callable[[], Awaitable[Collector]],
        targets: Sequence[str],
        *,
        window_seconds: float,
        error: DetectionError | None = None,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._opener = opener
        self._targets = tuple(clean(target, 120) for target in targets)
        self._window_seconds = window_seconds
        self._group_by: str | None = None
        self._poll_budget: float | None = None
        self.wall_clock, self.monotonic = wall_clock, monotonic
        self.inner: Collector | None = None
        self.failures = 0
        self.next_attempt = -float("inf")
        self._down_since: float | None = None
        self._error = f"disconnected: {error.reason}" if error is not None else "connecting…"
        if error is not None:
            self._failed(error)

    # what a collector exposes, from the real one once there is one
    @property
    def kind(self) -> str:
        return self.inner.kind if self.inner is not None else "connecting"

    @property
    def targets(self) -> tuple[str, ...]:
        return self.inner.targets if self.inner is not None else self._targets

    @property
    def window_seconds(self) -> float:
        return self.inner.window_seconds if self.inner is not None else self._window_seconds

    @property
    def group_by(self) -> str | None:
        return self.inner.group_by if self.inner is not None else self._group_by

    @group_by.setter
    def group_by(self, label: str | None) -> None:
        self._group_by = label
        if self.inner is not None:
            self.inner.group_by = label

    @property
    def poll_budget(self) -> float | None:
        return self._poll_budget

    @poll_budget.setter
    def poll_budget(self, seconds: float | None) -> None:
        self._poll_budget = seconds
        if self.inner is not None and hasattr(self.inner, "poll_budget"):
            self.inner.poll_budget = seconds  # type: ignore[attr-defined]

    @property
    def tls_verified(self) -> bool:
        return getattr(self.inner, "tls_verified", True)

    def _failed(self, error: DetectionError) -> None:
        self.failures += 1
        self._error = f"disconnected: {error.reason}"
        if error.dns:
            self.next_attempt = self.monotonic() + backoff_delay(self.failures)
        if self._down_since is None:
            self._down_since = self.wall_clock()

    async def collect(self) -> Collected:
        if self.inner is None and self.monotonic() >= self.next_attempt:
            try:
                inner = await self._opener()
            except DetectionError as error:
                self._failed(error)
            else:
                inner.group_by = self._group_by
                if self._poll_budget is not None and hasattr(inner, "poll_budget"):
                    inner.poll_budget = self._poll_budget  # type: ignore[attr-defined]
                self.inner = inner
        if self.inner is not None:
            return await self.inner.collect()
        error = self._error
        if self.next_attempt > self.monotonic():
            error += f"; next try in {self.next_attempt - self.monotonic():.0f}s"
        health = tuple(
            TargetHealth(target, self.kind, up=False, error=error, down_since=self._down_since, failures=self.failures)
            for target in self._targets
        )
        return Collected(taken_at=self.wall_clock(), window_seconds=self._window_seconds, rows=(), targets=health,
                         schemas=())

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        return await self.inner.breakdown(key, label) if self.inner is not None else ()

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        return await self.inner.history(key, fields, seconds) if self.inner is not None else None

    async def aclose(self) -> None:
        if self.inner is not None:
            await self.inner.aclose()
