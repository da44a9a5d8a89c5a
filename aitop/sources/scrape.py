"""Raw-scrape mode: fetch many /metrics pages concurrently and compute rows locally.

Each target is fetched with its own deadline, and at most one scrape per target is in flight: a slow or dead
one never holds the others back — with a poll budget, `collect()` returns what has arrived and a slow
target's scrape goes on in the background. Bodies are capped on the wire and after decompression (gzip is
decoded here with `max_length`, because one 64 KiB gzip chunk can expand to tens of MB before a per-chunk
check fires), overlong label values are cut before parsing, and each page is capped at `MAX_SERIES` series
with a "showing N of M" warning. Every failure becomes a short message built from known parts — never an
exception string that might carry a URL with credentials. A target that refuses credentials or rate-limits
is retried only after a minute (or after its Retry-After); a target down for `evict_after` seconds has its
series forgotten (reliability.md §D.2, §D.4, §F 11, 12, 14, 15, 21-24).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from aitop.catalog import NameFilter, Schema, builtin_schemas
from aitop.model import Row, TargetHealth
from aitop.rows import RowBuilder, TargetData
from aitop.sanitize import clean
from aitop.sources.base import Collected, Points
from aitop.sources.exposition import OPENMETRICS, ExpositionError, SeriesKey, SeriesKeys, parse, prefilter
from aitop.store import TargetWindow
from aitop.transport import BoundedInflater, HttpSettings, TooLarge, connect_failure, httpx_client, ssl_context

#: Only the classic text format: prometheus_client answers OpenMetrics whenever the Accept header names it
#: (whatever its q), and then escapes `vllm:` to `vllm_`. OpenMetrics is still parsed if a server sends it.
ACCEPT = "text/plain;version=0.0.4"
MAX_WIRE_BYTES = 16 * 1024 * 1024
MAX_DECODED_BYTES = 64 * 1024 * 1024
#: Series kept per target and scrape (after the name pre-filter); the rest are dropped with a warning.
MAX_SERIES = 20_000
#: Label values longer than this are cut (plus a hash, so distinct values stay distinct) before parsing:
#: prometheus_client reads labels a character at a time, and nobody reads a 1 MB model name anyway.
MAX_LABEL_VALUE = 1024
#: Seconds a down target's series stay on screen (stale) before they are forgotten.
EVICT_AFTER = 300.0
#: Refused credentials are not retried sooner than this (reliability.md §D.2, Auth).
AUTH_RETRY_SECONDS = 60.0
#: A parse error's line is looked for only in pages up to this many lines (it costs a few more parses).
_LOCATE_MAX_LINES = 50_000


class ScrapeError(Exception):
    """A scrape failed; the message is safe to show (no URL, no secret, control characters escaped).

    `retry_after`: do not scrape this target again for that many seconds (refused credentials, 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


def _decoder(encoding: str) -> BoundedInflater | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return BoundedInflater(encoding, MAX_DECODED_BYTES)
    raise ScrapeError(f"unsupported Content-Encoding {clean(encoding, 30)}")


def _describe(exc: Exception, timeout: float, host: str = "") -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, httpx.ConnectError):
        reason = connect_failure(exc)
        if reason == "DNS lookup failed":
            return f"DNS lookup failed for {clean(host, 60)}" if host else reason
        reason = reason or str(exc).split("]")[-1].strip() or "connection failed"
        return f"cannot connect: {clean(reason, 60)}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "connection broken mid-response"
    if isinstance(exc, httpx.TransportError):
        return f"transport error ({type(exc).__name__})"
    return f"scrape failed ({type(exc).__name__})"


_LONG_VALUE = re.compile(r'"[^"\n]{%d}' % (MAX_LABEL_VALUE + 1))  # cheap: tried only where a quote opens
_QUOTED = re.compile(r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"')


def _shorten(match: re.Match[str]) -> str:
    value = match.group(1)
    if len(value) <= MAX_LABEL_VALUE:
        return match.group(0)
    head = value[:MAX_LABEL_VALUE]
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:  # never cut an escape in half
        head = head[:-1]
    digest = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f'"{head}…#{digest}"'


def shorten_label_values(body: str) -> str:
    """`body` with every quoted value longer than `MAX_LABEL_VALUE` cut (a hash keeps them distinct)."""
    if _LONG_VALUE.search(body) is None:
        return body
    return _QUOTED.sub(_shorten, body)


#: Characters `str.splitlines()` breaks lines at, besides "\n" (and "\r\n"): inside a label value or a HELP
#: text they would split one line into two and fail the whole page. Replaced by visible escapes first.
_LINE_BREAKS = re.compile("\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_BREAK_MARKS = {"\r": "^M", "\x0b": "^K", "\x0c": "^L"}


def protect_line_breaks(body: str) -> str:
    """`body` with every line-breaking character other than "\n" made visible (CRLF endings kept)."""
    lone_cr = "\r" in body and body.count("\r") != body.count("\r\n")
    if not lone_cr and not any(char in body for char in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        return body  # the usual case, decided by a few C-speed scans
    return _LINE_BREAKS.sub(lambda m: _BREAK_MARKS.get(m.group(), f"<U+{ord(m.group()):04X}>"), body)


_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def plain_label_names(names: Iterable[str]) -> tuple[str, ...]:
    """The label names offered for grouping: only classic names. A Prometheus 3 UTF-8 name can hold control
    characters or PromQL syntax, and the choices are shown and sent back as they are."""
    return tuple(name for name in names if _LABEL_NAME.fullmatch(name))


def served_openmetrics(body: str) -> bool:
    """An OpenMetrics page ends with `# EOF`; the classic text format has no such line."""
    return body.rstrip().endswith("\n# EOF") or body.strip() == "# EOF"


def _is_sample(line: str) -> bool:
    return bool(line) and line[0] != "#"


def cap_series(filtered: str, limit: int) -> tuple[str, int]:
    """Keep the first `limit` sample lines of a pre-filtered page (and its metadata and `# EOF`).

    Returns the text and how many sample lines the page had."""
    lines = filtered.splitlines()
    count = sum(1 for line in lines if _is_sample(line))
    if count <= limit:
        return filtered, count
    kept: list[str] = []
    seen = 0
    for line in lines:
        if _is_sample(line):
            seen += 1
            if seen > limit:
                continue
        kept.append(line)
    return "\n".join(kept) + "\n", count


def _locate_error(filtered: str, content_type: str, wanted: NameFilter) -> str | None:
    """The first line of `filtered` that makes the parser fail (bisecting on prefixes), or None."""
    lines = filtered.splitlines()
    if len(lines) > _LOCATE_MAX_LINES:
        return None
    openmetrics = content_type.startswith(OPENMETRICS)

    def fails(count: int) -> bool:
        text = "\n".join(line for line in lines[:count] if line != "# EOF") + "\n"
        try:
            parse(text + ("# EOF\n" if openmetrics else ""), content_type, wanted)
        except ExpositionError:
            return True
        return False

    low, high = 1, len(lines)
    if not fails(high):
        return None
    while low < high:  # the shortest failing prefix ends with the bad line
        middle = (low + high) // 2
        if fails(middle):
            high = middle
        else:
            low = middle + 1
    return lines[high - 1]


class ScrapeCollector:
    """A `Collector` over raw /metrics endpoints.

    `poll_budget`: how long `collect()` waits for the targets' answers (None: until every scrape ended,
    each bounded by its own deadline). A scrape still running then goes on in the background and is
    used by a later poll; a target is never scraped twice at once.
    """

    kind = "scrape"

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
        self.window_seconds = window
        self.group_by: str | None = None
        self.timeout = timeout
        self.schemas = tuple(schemas) if schemas is not None else builtin_schemas()
        self.name_filter = NameFilter(self.schemas)
        self.wall_clock = wall_clock
        self.monotonic = monotonic
        self.poll_budget: float | None = None
        self.max_series = MAX_SERIES
        self.evict_after = EVICT_AFTER
        self._windows = {url: TargetWindow(window) for url in self.urls}
        self._keys = {url: SeriesKeys() for url in self.urls}  # used by one scrape at a time (single flight)
        self._health = {url: TargetHealth(display_url(url), "scrape", up=False, error="not scraped yet") for url in self.urls}
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
        rows, schemas, labels = await asyncio.to_thread(self._rows)
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
        )

    def _rows(self) -> tuple[tuple[Row, ...], tuple[str, ...], tuple[str, ...]]:
        builder = self._build(RowBuilder(self.schemas, group_by=self.group_by))
        return tuple(builder.rows()), tuple(sorted(builder.detected)), plain_label_names(builder.label_names())

    def _build(self, builder: RowBuilder) -> RowBuilder:
        for url in self.urls:
            builder.add_target(TargetData(instance_of(url), self._windows[url], self._health[url].up))
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
        self.duplicates[url] += result.duplicates
        self._notes[url] = result.notes
        self._health[url] = TargetHealth(
            previous.url, "scrape", up=True, error=None, last_success=result.wall, failures=previous.failures
        )

    async def _scrape(self, url: str) -> ScrapeResult:
        stamp = [self.monotonic(), self.wall_clock()]
        try:
            async with asyncio.timeout(self.timeout * 1.5):  # a total deadline: a trickling body cannot hang us
                body, content_type = await self._fetch(url, stamp)
            samples, notes, duplicates = await asyncio.to_thread(self._parse, url, body, content_type)
        except ScrapeError as exc:
            return ScrapeResult(url, *stamp, error=str(exc), retry_after=exc.retry_after)
        except ExpositionError as exc:
            return ScrapeResult(url, *stamp, error=str(exc))
        except TimeoutError as exc:
            # The total deadline cancelled the request mid-flight; httpcore can leave that connection in its
            # pool as busy for good (after 100 such the pool is full), so this target gets a fresh client.
            stale, self._clients[url] = self._clients[url], self._new_client()
            closing = asyncio.get_running_loop().create_task(_close_quietly(stale))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            return ScrapeResult(url, *stamp, error=_describe(exc, self.timeout, httpx.URL(url).host))
        except Exception as exc:  # noqa: BLE001 — any transport fault is a target fault, described safely
            return ScrapeResult(url, *stamp, error=_describe(exc, self.timeout, httpx.URL(url).host))
        return ScrapeResult(url, *stamp, samples=samples, notes=notes, duplicates=duplicates)

    def _parse(self, url: str, body: str, content_type: str) -> tuple[dict[SeriesKey, float], tuple[str, ...], int]:
        """Parse one page within bounds (runs in a worker thread). Raises `ExpositionError` with the line."""
        notes: list[str] = []
        media_type = content_type.split(";", 1)[0].strip().lower()
        body = protect_line_breaks(body.removeprefix("\ufeff"))
        if media_type in ("", "text/plain") and served_openmetrics(body):
            # The classic parser would read exemplars as timestamps and seconds as milliseconds.
            content_type = OPENMETRICS
            notes.append("OpenMetrics page served as text/plain (parsed as OpenMetrics)")
        filtered, _, _ = prefilter(body, self.name_filter)
        filtered = shorten_label_values(filtered)
        filtered, count = cap_series(filtered, self.max_series)
        if count > self.max_series:
            notes.append(f"showing {self.max_series:,} of {count:,} series (per-target cap)")
        try:
            samples = parse(filtered, content_type, self.name_filter, self._keys[url]).samples
        except ExpositionError as exc:
            bad = _locate_error(filtered, content_type, self.name_filter)
            if bad is None:
                raise
            number = next((i for i, line in enumerate(body.splitlines(), 1) if line == bad), None)
            where = f"parse error line {number}" if number is not None else "parse error"
            detail = str(exc).removeprefix("unparsable exposition: ")
            raise ExpositionError(f"unparsable exposition: {where}: {detail}") from None
        duplicates = max(0, min(count, self.max_series) - len(samples))
        if duplicates:
            notes.append(f"{duplicates} duplicate series lines (last value kept)")
        return samples, tuple(notes), duplicates

    async def _fetch(self, url: str, stamp: list[float]) -> tuple[str, str]:
        async with self._clients[url].stream("GET", url) as response:
            # Exporters render the page before sending headers, so their arrival dates the values better
            # than the request start does: a first scrape also pays for the TCP connect, which skewed a
            # 3 s rate by 0.8 % against Prometheus when the second scrape reused the connection.
            stamp[:] = [self.monotonic(), self.wall_clock()]
            if response.status_code != 200:
                raise self._status_error(response)
            media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media_type in ("text/html", "application/xhtml+xml"):
                host = clean(httpx.URL(url).host, 60)
                raise ScrapeError(f"unexpected HTML from {host} — authentication proxy? (not a metrics page)")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_WIRE_BYTES:
                raise ScrapeError(
                    f"response too large: {int(declared) // 1024 // 1024} MiB exceeds the {_mib(MAX_WIRE_BYTES)} cap"
                )
            inflater = _decoder(response.headers.get("content-encoding", ""))
            chunks: list[bytes] = []
            wire = decoded = 0
            try:
                async for chunk in response.aiter_raw():
                    wire += len(chunk)
                    if wire > MAX_WIRE_BYTES:
                        raise ScrapeError(f"response too large: exceeds the {_mib(MAX_WIRE_BYTES)} cap")
                    if inflater is not None:
                        chunks.extend(inflater.feed(chunk))
                        continue
                    decoded += len(chunk)
                    if decoded > MAX_DECODED_BYTES:
                        raise TooLarge(decoded)
                    chunks.append(chunk)
                if inflater is not None:
                    chunks.append(inflater.flush())
            except TooLarge:
                chunks.clear()
                raise ScrapeError(f"response too large: decoded body exceeds the {_mib(MAX_DECODED_BYTES)} cap") from None
            except zlib.error:
                raise ScrapeError("corrupt gzip body") from None
            return b"".join(chunks).decode("utf-8", errors="replace"), response.headers.get("content-type", "")

    @staticmethod
    def _status_error(response: httpx.Response) -> ScrapeError:
        status = response.status_code
        message = f"HTTP {status} {clean(response.reason_phrase, 40)}".rstrip()
        if status in (401, 403):
            return ScrapeError(f"authentication failed ({message}): check the token or password; "
                               f"retrying in {AUTH_RETRY_SECONDS:g}s", retry_after=AUTH_RETRY_SECONDS)
        if response.is_redirect:
            target = httpx.URL(response.headers.get("location", ""))
            message += f" to {clean(target.path or '/', 60)} (a login page? aitop does not follow redirects)"
        retry_after = _retry_after(response.headers.get("retry-after", ""))
        if status == 429:
            return ScrapeError(f"rate limited ({message})" + (f"; retrying in {retry_after:g}s" if retry_after else ""),
                               retry_after=retry_after)
        return ScrapeError(message, retry_after=retry_after)

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
    try:
        await client.aclose()
    except Exception:  # noqa: BLE001 — a broken connection may fail to close; it is dropped either way
        pass


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:g} MiB"


def _retry_after(value: str) -> float | None:
    """Seconds from a Retry-After header (an HTTP date is ignored); capped at 10 minutes."""
    try:
        return min(max(0.0, float(value.strip())), 600.0) if value.strip() else None
    except ValueError:
        return None
