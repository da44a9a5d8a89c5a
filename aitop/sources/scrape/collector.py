"""Raw-scrape mode: fetch many /metrics pages concurrently and compute rows locally.

Each target is fetched with its own deadline, and at most one scrape per target is in flight: a slow or dead
one never holds the others back — with a poll budget, `collect()` returns what has arrived and a slow
target's scrape goes on in the background. Fetching within byte caps is `fetch`'s job, reading a page within
series caps is `page`'s. A target that refuses credentials or rate-limits is retried only after a minute (or
after its Retry-After); a target down for `evict_after` seconds has its series forgotten.
"""

from __future__ import annotations

import contextlib
import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from aitop.catalog import NameFilter, Schema, builtin_schemas
from aitop.markers import MarkerLog, model_labels
from aitop.model import Row, TargetHealth
from aitop.rows import RowBuilder, RowCache, TargetData
from aitop.sanitize import clean
from aitop.sources.base import Collected, CollectorBase, Points, plain_label_names
from aitop.sources.scrape.exposition import ExpositionError, SeriesKey, SeriesKeys
from aitop.sources.scrape.fetch import ACCEPT, ScrapeError, describe_failure, fetch_page
from aitop.sources.scrape.page import read_page
from aitop.store import TargetWindow
from aitop.transport import HttpSettings, httpx_client, ssl_context

#: Series kept per target and scrape (after the name pre-filter); the rest are dropped with a warning.
MAX_SERIES = 20_000
#: Seconds a down target's series stay on screen (stale) before they are forgotten.
EVICT_AFTER = 300.0
#: A page up to this many characters is parsed on the event loop, and rows from up to this many series are built
#: there (each a couple of ms at most): a worker thread's hand-offs cost more than such work (about 0.5 ms
#: of a 10-target refresh's 7), while a larger page or fleet still goes to a thread so keys stay answered.
INLINE_BYTES = 128 * 1024
INLINE_SERIES = 1_500


@dataclass(frozen=True, slots=True)
class ScrapeResult:
    """One target's answer to one poll."""

    url: str
    monotonic: float
    wall: float
    samples: dict[SeriesKey, float] | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()  # warnings about an answer that was still used (series cap, duplicates…)
    retry_after: float | None = None
    duplicates: int = 0


def display_url(url: str) -> str:
    """The URL as shown to users: never with user-info, control characters escaped."""
    parsed = httpx.URL(url)
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return clean(str(parsed), 120)


def instance_of(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


class ScrapeCollector(CollectorBase):
    """A `Collector` over raw /metrics endpoints.

    `poll_budget`: how long `collect()` waits for the targets' answers (None: until every scrape ended,
    each bounded by its own deadline). A scrape still running then goes on in the background and is
    used by a later poll; a target is never scraped twice at once.
    """

    kind = "scrape"
    can_record = True  # every page read can go to a `recorder`

    def __init__(
        self,
        urls: Iterable[str],
        *,
        window: float = 30.0,
        timeout: float = 5.0,
        schemas: Iterable[Schema] | None = None,
        http: HttpSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.urls = tuple(dict.fromkeys(urls))
        self.targets = tuple(display_url(url) for url in self.urls)
        self._instances = {url: instance_of(url) for url in self.urls}  # parsing a URL costs ~20 µs: once
        self.window_seconds = window
        self.group_by: str | None = None
        self.timeout = timeout
        self.schemas = tuple(schemas) if schemas is not None else builtin_schemas()
        self.name_filter = NameFilter(self.schemas)
        #: Restarts and deployments seen, for the drill-down's chart markers.
        self.markers: MarkerLog = MarkerLog(model_labels(self.schemas))
        self.wall_clock = wall_clock
        self.monotonic = monotonic
        self.poll_budget: float | None = None
        self.max_series = MAX_SERIES
        self.evict_after = EVICT_AFTER
        self.inline_bytes, self.inline_series = INLINE_BYTES, INLINE_SERIES
        self._windows = {url: TargetWindow(window) for url in self.urls}
        self._keys = {url: SeriesKeys() for url in self.urls}  # used by one scrape at a time (single flight)
        self._plans = {url: RowCache() for url in self.urls}  # the main view's row plans (not drill-downs')
        self._model_plans = {url: RowCache() for url in self.urls}  # the (schema, model) rows' while regrouped
        self._health = {url: TargetHealth(display_url(url), "scrape", up=False, error="not scraped yet")
                        for url in self.urls}
        self._tasks: dict[str, asyncio.Task[ScrapeResult]] = {}  # single flight: the scrape in progress
        self._started: dict[str, float] = {}
        self._next_attempt: dict[str, float] = {}  # url -> monotonic time before which it is not scraped
        self._down_since: dict[str, float] = {}  # url -> monotonic time of the outage's first failure
        self._notes: dict[str, tuple[str, ...]] = {url: () for url in self.urls}
        #: Duplicate series lines seen per target (last value kept), since the collector started.
        self.duplicates: dict[str, int] = {url: 0 for url in self.urls}
        self.scrapes_started = 0
        self.tls_verified = not (http and http.insecure_skip_verify)
        self._http, self._transport = http or HttpSettings(), transport
        self._ssl = ssl_context(self._http)  # built once: each client would load the CA bundle again
        # One client (one connection pool) per target: a target whose requests are cut off cannot use up the
        # pool of the others, and its client is replaced after a cut-off (see `_scrape`).
        self._clients = {url: self._new_client() for url in self.urls}
        self._closing: set[asyncio.Task] = set()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx_client(
            self._http,
            timeout=self.timeout,
            headers={"Accept": ACCEPT, "Accept-Encoding": "gzip", "User-Agent": "aitop"},
            transport=self._transport,
            ssl_context=self._ssl,
        )

    async def collect(self) -> Collected:
        now = self.monotonic()
        for url in self.urls:
            if url in self._tasks or now < self._next_attempt.get(url, -float("inf")):
                continue  # still running (single flight), or backing off after 401/403/429
            self.scrapes_started += 1
            self._started[url] = now
            self._tasks[url] = asyncio.create_task(self._scrape(url))
        running = list(self._tasks.values())
        if running:
            await asyncio.wait(running, timeout=self.poll_budget)
        warnings: list[str] = []
        for url in self.urls:
            task = self._tasks.get(url)
            if task is None:
                continue
            if task.done():
                del self._tasks[url]
                self._record(task.result())
            else:
                age = self.monotonic() - self._started[url]
                warnings.append(f"slow target {self._health[url].url}: scrape still running after {age:.0f}s")
        for url in self.urls:
            warnings.extend(f"{self._health[url].url}: {note}" for note in self._notes[url])
        # Rows from thousands of series take a while to build: off the event loop, so keys stay answered.
        series = sum(len(window.latest.layout) for window in self._windows.values() if window.latest is not None)
        if series <= self.inline_series:
            rows, schemas, labels, model_rows = self._rows()
        else:
            rows, schemas, labels, model_rows = await asyncio.to_thread(self._rows)
        elapsed = max((window.elapsed for window in self._windows.values()), default=0.0)
        return Collected(
            taken_at=self.wall_clock(),
            window_seconds=elapsed,
            rows=rows,
            targets=tuple(self._health[url] for url in self.urls),
            schemas=schemas,
            labels=labels,
            warnings=tuple(warnings),
            tls_verified=self.tls_verified,
            model_rows=model_rows,
        )

    def _rows(self) -> tuple[tuple[Row, ...], tuple[str, ...], tuple[str, ...], tuple[Row, ...] | None]:
        builder = self._build(RowBuilder(self.schemas, group_by=self.group_by), self._plans)
        models = None
        if self.group_by is not None:  # alerts follow the (schema, model) rows whatever the view's grouping
            models = tuple(self._build(RowBuilder(self.schemas), self._model_plans).rows())
        return tuple(builder.rows()), tuple(sorted(builder.detected)), plain_label_names(builder.label_names()), models

    def _build(self, builder: RowBuilder, plans: Mapping[str, RowCache] | None = None) -> RowBuilder:
        now = self.monotonic()
        for url in self.urls:
            cache = plans[url] if plans is not None else None
            window, up = self._windows[url], self._health[url].up
            # Like Prometheus's staleness: a down target counts until its last samples leave the window.
            expired = not up and window.latest is not None and now - window.latest.monotonic >= self.window_seconds
            builder.add_target(TargetData(self._instances[url], window, up, cache, expired=expired))
        return builder

    async def metric_names(self) -> dict[str, set[str]]:
        """{target: the catalog's metric names on its latest page}, for `aitop detect`."""
        return {
            display_url(url): {name for name, _ in window.latest.values} if window.latest else set()
            for url, window in self._windows.items()
        }

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        # Computed from the scrapes already held: a drill-down costs no extra request to the target.
        builder = RowBuilder(self.schemas, group_by=label, within=key, within_group_by=self.group_by)
        return tuple(self._build(builder).rows())

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        return None  # a /metrics page has no past: the monitor's own ring buffers are the history

    def _record(self, result: ScrapeResult) -> None:
        url = result.url
        previous = self._health[url]
        if self.recorder is not None:
            self.recorder.scrape(self._instances[url], result.wall, result.samples)
        if result.retry_after is not None:
            self._next_attempt[url] = self.monotonic() + result.retry_after
        if result.samples is None:
            # The outage starts at its first failed scrape; a target never scraped yet is down from then too.
            first_failure = url not in self._down_since
            self._down_since.setdefault(url, result.monotonic)
            down_since = result.wall if first_failure or previous.down_since is None else previous.down_since
            window = self._windows[url]
            if window.frames and result.monotonic - self._down_since[url] >= self.evict_after:
                self._windows[url] = TargetWindow(self.window_seconds)  # its series were stale long enough
            self._notes[url] = ()
            self._health[url] = TargetHealth(
                previous.url, "scrape", up=False, error=result.error, last_success=previous.last_success,
                down_since=down_since, failures=previous.failures + 1,
            )
            return
        self._down_since.pop(url, None)
        self._windows[url].add(result.monotonic, result.wall, result.samples)
        self.markers.observe(self._instances[url], result.wall, result.samples)
        self.duplicates[url] += result.duplicates
        self._notes[url] = result.notes
        self._health[url] = TargetHealth(
            previous.url, "scrape", up=True, error=None, last_success=result.wall, failures=previous.failures
        )

    async def _scrape(self, url: str) -> ScrapeResult:
        stamp = [self.monotonic(), self.wall_clock()]

        def on_headers() -> None:
            stamp[:] = [self.monotonic(), self.wall_clock()]

        try:
            async with asyncio.timeout(self.timeout * 1.5):  # a total deadline: a trickling body cannot hang us
                body, content_type = await fetch_page(self._clients[url], url, on_headers)
            page = (body, content_type, self.name_filter, self._keys[url], self.max_series)
            if len(body) <= self.inline_bytes:
                samples, notes, duplicates = read_page(*page)
            else:
                samples, notes, duplicates = await asyncio.to_thread(read_page, *page)
        except ScrapeError as exc:
            return ScrapeResult(url, stamp[0], stamp[1], error=str(exc), retry_after=exc.retry_after)
        except ExpositionError as exc:
            return ScrapeResult(url, stamp[0], stamp[1], error=str(exc))
        except TimeoutError as exc:
            # The total deadline cancelled the request mid-flight; httpcore can leave that connection in its
            # pool as busy for good (after 100 such the pool is full), so this target gets a fresh client.
            stale, self._clients[url] = self._clients[url], self._new_client()
            closing = asyncio.get_running_loop().create_task(_close_quietly(stale))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            return ScrapeResult(url, stamp[0], stamp[1], error=describe_failure(exc, self.timeout, httpx.URL(url).host))
        except Exception as exc:  # noqa: BLE001 — any transport fault is a target fault, described safely
            return ScrapeResult(url, stamp[0], stamp[1], error=describe_failure(exc, self.timeout, httpx.URL(url).host))
        return ScrapeResult(url, stamp[0], stamp[1], samples=samples, notes=notes, duplicates=duplicates)

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        for client in self._clients.values():
            await client.aclose()


async def _close_quietly(client: httpx.AsyncClient) -> None:
    with contextlib.suppress(Exception):  # a broken connection may fail to close; it is dropped either way
        await client.aclose()


