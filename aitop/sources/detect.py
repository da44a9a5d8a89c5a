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
from typing import TYPE_CHECKING, Generic, TypeVar, overload

import httpx

from aitop.model import Row, TargetHealth
from aitop.sanitize import clean
from aitop.sources.base import Collected, Collector, Points, ScrapeSink
from aitop.transport import (
    HTTPS_HINT,
    HttpSettings,
    backoff_delay,
    connect_failure,
    httpx_client,
    speaks_https,
    tls_failure,
)

if TYPE_CHECKING:
    from aitop.markers import Marker, MarkerLog

T = TypeVar("T")


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


class _FromInner(Generic[T]):
    """A `PendingCollector` member: the real collector's once there is one, else the pending one's own
    (`own`, an attribute name). Setting it sets both, so the real collector starts with what was set."""

    def __init__(self, own: str) -> None:
        self.own = own
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, pending: None, owner: type) -> _FromInner[T]: ...

    @overload
    def __get__(self, pending: PendingCollector, owner: type) -> T: ...

    def __get__(self, pending: PendingCollector | None, owner: type) -> T | _FromInner[T]:
        if pending is None:
            return self
        value: T = getattr(pending.inner, self.name) if pending.inner is not None else getattr(pending, self.own)
        return value

    def __set__(self, pending: PendingCollector, value: T) -> None:
        setattr(pending, self.own, value)
        if pending.inner is not None:
            setattr(pending.inner, self.name, value)


class PendingCollector:
    """A collector for targets not reachable yet: reports them down until `opener()` succeeds, then
    delegates everything to the collector it built.

    `opener` builds the real collector (detecting each target's kind) and raises `DetectionError` while
    a target cannot be reached. A refused connection is asked again at every poll — nothing is listening,
    trying costs nobody anything, and a started server is seen within one interval; a DNS failure backs
    off 1 s, 2 s, 4 s … with jitter.
    """

    # Every `Collector` member: the real collector's once connected; until then the values below.
    kind: _FromInner[str] = _FromInner("_kind")
    targets: _FromInner[tuple[str, ...]] = _FromInner("_targets")
    window_seconds: _FromInner[float] = _FromInner("_window_seconds")
    group_by: _FromInner[str | None] = _FromInner("_group_by")
    poll_budget: _FromInner[float | None] = _FromInner("_poll_budget")
    recorder: _FromInner[ScrapeSink | None] = _FromInner("_recorder")
    can_record: _FromInner[bool] = _FromInner("_can_record")
    tls_verified: _FromInner[bool] = _FromInner("_tls_verified")
    markers: _FromInner[MarkerLog | None] = _FromInner("_markers")
    base_url: _FromInner[str | None] = _FromInner("_base_url")

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
        self.inner: Collector | None = None
        self._kind, self._window_seconds = "connecting", window_seconds
        self._targets = tuple(clean(t, 120) for t in targets)
        self._group_by: str | None = None
        self._poll_budget: float | None = None
        self._recorder: ScrapeSink | None = None
        self._can_record, self._tls_verified = False, True
        self._markers: MarkerLog | None = None
        self._base_url: str | None = None
        self.wall_clock, self.monotonic = wall_clock, monotonic
        self.failures = 0
        self.next_attempt = -float("inf")
        self._down_since: float | None = None
        self._error = f"disconnected: {error.reason}" if error is not None else "connecting…"
        if error is not None:
            self._failed(error)

    def _failed(self, error: DetectionError) -> None:
        self.failures += 1
        self._error = f"disconnected: {error.reason}"
        if error.dns:
            self.next_attempt = self.monotonic() + backoff_delay(self.failures)
        if self._down_since is None:
            self._down_since = self.wall_clock()

    async def collect(self) -> Collected:
        """The real collector's rows once it could be built; until then every target down, with why."""
        if self.inner is None and self.monotonic() >= self.next_attempt:
            try:
                inner = await self._opener()
            except DetectionError as failure:
                self._failed(failure)
            else:
                inner.group_by, inner.poll_budget = self._group_by, self._poll_budget
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
        """The real collector's split; none before there is one."""
        return await self.inner.breakdown(key, label) if self.inner is not None else ()

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        """The real collector's history; None (the monitor's own) before there is one."""
        return await self.inner.history(key, fields, seconds) if self.inner is not None else None

    async def history_markers(self, key: tuple[str, str], seconds: float) -> list[Marker]:
        """The real collector's backend markers; none before there is one."""
        return await self.inner.history_markers(key, seconds) if self.inner is not None else []

    async def aclose(self) -> None:
        """Close the real collector, if one was built."""
        if self.inner is not None:
            await self.inner.aclose()
