"""Item 3 — load on Prometheus: HTTP requests and bytes per aitop refresh, at 2 and at 2,000 groups.

Two real Prometheus servers (the Debian `prometheus` binary, started as the integration tests start it)
each scrape a vLLM exporter in a child process every 5 s: one of 2 models, one of 2,000 (114 series a
model, 228,000 in all; counters grow linearly, `servers.linear_handler`). aitop's `PrometheusCollector`
talks to each through a counting TCP proxy, so the bytes are what crossed the wire (headers included,
gzip as negotiated). Requests are counted twice: by the collector (`queries_sent`) and by Prometheus
itself (`prometheus_http_requests_total` of the /api/v1 handlers, read straight from the server).

After warm-up (detection, label names, and until the window holds two scrapes, so every row has data),
1 (quick) or 4 refreshes are measured, back to back. Re-detection (`/api/v1/label/__name__/values`) happens once
a minute and is reported, not counted per refresh. Baselines: queries at 2 groups (the figure at 2,000
must equal it), and one scrape of the same exporter's /metrics page (what scraping it directly costs).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from benchmarks.report import Figure
from benchmarks.servers import serving

SIZES = (2, 2000)
SCRAPE_SECONDS = 5
WINDOW = 30.0
_CONFTEST = Path(__file__).resolve().parents[1] / "tests" / "integration" / "conftest.py"


def _integration():
    """tests/integration/conftest.py as a module: its `_Server`, `free_port`, `require_binary`, `JOB`."""
    spec = importlib.util.spec_from_file_location("aitop_integration_conftest", _CONFTEST)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # type: ignore[arg-type,union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class CountingProxy:
    """A TCP relay on 127.0.0.1 that counts the bytes going each way."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.received = 0  # server -> aitop
        self.sent = 0  # aitop -> server
        self.server: asyncio.base_events.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self.writers += (writer, up_writer)
        await asyncio.gather(self._pipe(reader, up_writer, "sent"), self._pipe(up_reader, writer, "received"))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counter: str) -> None:
        try:
            while data := await reader.read(65536):
                setattr(self, counter, getattr(self, counter) + len(data))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def aclose(self) -> None:
        """Stop listening and end every relay (closing both ends makes each pipe read EOF and return)."""
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.sleep(0.1)


def _server_requests(base_url: str) -> int:
    """Prometheus's own count of requests to its /api/v1 handlers."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name == "prometheus_http_requests":
            total += sum(s.value for s in family.samples
                         if s.name.endswith("_total") and s.labels.get("handler", "").startswith("/api/v1/"))
    return int(total)


def _page_bytes(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        return len(response.read())


@dataclass
class Load:
    """What the measured refreshes cost at one size."""

    groups: int
    rows: int = 0
    queries: list[int] = field(default_factory=list)  # per refresh, counted by aitop
    server_queries: list[int] = field(default_factory=list)  # per refresh, counted by Prometheus
    received: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # wall time of each refresh (mostly Prometheus's)
    first_queries: int = 0  # the first refresh: detection and label names as well
    first_received: int = 0
    page: int = 0  # one scrape of the exporter's /metrics page


def _prometheus(conf, exporter_port: int, home: Path):
    """Start a real Prometheus scraping the exporter every `SCRAPE_SECONDS` (`wait_ready()` it, `stop()` it)."""
    port = conf.free_port()
    config = home / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n  scrape_timeout: {SCRAPE_SECONDS}s\n"
        f"scrape_configs:\n  - job_name: {conf.JOB}\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter_port}']\n"
    )
    return conf._Server("prometheus", [
        conf.require_binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={home / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ], home / "prometheus.log", f"http://127.0.0.1:{port}")


async def _measure(base_url: str, groups: int, refreshes: int) -> Load:
    from aitop.sources.prometheus.collector import PrometheusCollector

    load = Load(groups)
    began = time.monotonic()
    proxy = CountingProxy(int(base_url.rsplit(":", 1)[1]))
    collector = PrometheusCollector(await proxy.start(), window=WINDOW, timeout=20)
    try:
        before = (collector.queries_sent, proxy.received)
        await collector.collect()
        load.first_queries, load.first_received = collector.queries_sent - before[0], proxy.received - before[1]
        deadline = time.monotonic() + 90
        while True:  # until the window holds two scrapes of every row
            collected = await collector.collect()
            rows = collected.rows
            if len(rows) == groups and all(row.value("request_rate") is not None for row in rows):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"Prometheus gave {len(rows)} of {groups} rows with data within 90 s")
            await asyncio.sleep(1.0)
        load.rows = len(rows)
        print(f"    {groups} groups: every row has data after {time.monotonic() - began:.0f} s", file=sys.stderr)
        for _ in range(refreshes):  # back to back: what one refresh sends does not depend on the pause
            queries, received, sent = collector.queries_sent, proxy.received, proxy.sent
            served = await asyncio.to_thread(_server_requests, base_url)
            started = time.monotonic()
            await collector.collect()
            load.seconds.append(time.monotonic() - started)
            load.queries.append(collector.queries_sent - queries)
            load.received.append(proxy.received - received)
            load.sent.append(proxy.sent - sent)
            load.server_queries.append(await asyncio.to_thread(_server_requests, base_url) - served)
    finally:
        await collector.aclose()
        await proxy.aclose()
    return load


def run(quick: bool) -> list[Figure]:
    conf = _integration()
    refreshes = 1 if quick else 4
    loads: dict[int, Load] = {}
    began = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            # Everything starts at once and is waited for after, so the start-ups overlap.
            exporters = {groups: stack.enter_context(serving("linear", "--lanes", str(groups))) for groups in SIZES}
            servers = {}
            for groups, exporter in exporters.items():
                home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aitop-promload-")))
                servers[groups] = _prometheus(conf, int(exporter.url.rsplit(":", 1)[1]), home)
                stack.callback(servers[groups].stop)
            for server in servers.values():
                server.wait_ready("/-/ready")
            urls = {groups: (servers[groups].base_url, exporters[groups].url + "/metrics") for groups in SIZES}
            for groups, (base_url, metrics_url) in urls.items():
                print(f"    {groups} groups: Prometheus up after {time.monotonic() - began:.0f} s", file=sys.stderr)
                loads[groups] = asyncio.run(_measure(base_url, groups, refreshes))
                loads[groups].page = _page_bytes(metrics_url)
    except BaseException as exc:  # pytest.fail/skip from the shared helpers are BaseExceptions
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise RuntimeError(str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__) from None
    small, big = loads[SIZES[0]], loads[SIZES[-1]]
    figures = []
    for load in (small, big):
        queries = statistics.median(load.queries)
        server = statistics.median(load.server_queries)
        at_two = statistics.median(small.queries)
        target, check = (f"= {at_two:g} (as at 2)", lambda v, at_two=at_two: v == at_two) if load is big else ("", None)
        figures.append(Figure(
            "3", f"HTTP requests per refresh, {load.groups:,} groups", queries, "", at_two,
            "at 2 groups", target, check,
            f"{load.rows:,} rows; Prometheus counted {server:g} per refresh; first refresh (detection, labels) "
            f"{load.first_queries} requests, {load.first_received:,} B; a refresh took "
            f"{statistics.median(load.seconds):.2f} s of wall time",
        ))
    for load in (small, big):
        received = statistics.median(load.received)
        figures.append(Figure(
            "3", f"  bytes received per refresh, {load.groups:,} groups", received, "B", load.page,
            "one scrape of its /metrics", note=f"{received / load.rows:,.0f} B per row; sent "
            f"{statistics.median(load.sent):,.0f} B per refresh; per refresh: {load.received}",
        ))
    return figures


if __name__ == "__main__":
    from benchmarks.report import table

    print(table(run("--quick" in sys.argv)))
