"""Child-process servers the benchmarks point aitop at, so their CPU is never billed to aitop's process.

`python -m benchmarks.servers exporter --lanes N [--changing K] [--log]` serves a vLLM-style /metrics page
(see `pages.VllmFleet`): each scrape advances the first K lanes (default all; 0 = a frozen page); `--log`
prints `GET <monotonic time>` per scrape, so a benchmark can tell refreshes apart.
`python -m benchmarks.servers prometheus --groups N` imitates the parts of Prometheus's HTTP API aitop uses,
answering every instant query with one series per group (values jittered on every answer).
`python -m benchmarks.servers linear --lanes N` serves the same page rendered once, counters growing
linearly in time (for a real Prometheus to scrape: cheap to serve at 2,000 models).
All listen on 127.0.0.1 (port 0 = any free one) and print `READY <port>` once listening.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VLLM_NAMES = (
    "vllm:request_success_total", "vllm:request_success_created", "vllm:e2e_request_latency_seconds_bucket",
    "vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket",
    "vllm:request_queue_time_seconds_bucket", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
    "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
)
_BY = re.compile(r"\bby \(([^)]*)\)")


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # no access log on stderr
        pass

    def reply(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def exporter_handler(lanes: int, changing: int | None, log: bool = False) -> type[BaseHTTPRequestHandler]:
    from benchmarks.pages import VllmFleet

    fleet = VllmFleet(lanes)
    lock = threading.Lock()
    moving = range(lanes if changing is None else min(changing, lanes))

    class Exporter(_Quiet):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != "/metrics":
                return self.reply(b"not found\n", "text/plain", 404)
            with lock:
                if log:
                    print(f"GET {time.monotonic()}", flush=True)
                if len(moving):
                    fleet.advance(lanes=moving)
                body = fleet.render().encode()
            self.reply(body, "text/plain; version=0.0.4; charset=utf-8")

    return Exporter


_GROWING = ("_total", "_bucket", "_sum", "_count")


def linear_handler(lanes: int) -> type[BaseHTTPRequestHandler]:
    """A vLLM page of `lanes` models rendered once, then served with every counter, bucket, sum and count
    scaled by the time since start (growing at 1/1000 of its value per second), so a real Prometheus
    scraping it computes non-zero rates and quantiles without the fleet being simulated per scrape."""
    from benchmarks.pages import VllmFleet

    page = []  # (line, None) for lines that stay, (head, value) for samples that grow; in page order
    for line in VllmFleet(lanes).render().splitlines():
        head, _, value = line.rpartition(" ")
        grows = not line.startswith("#") and head.partition("{")[0].endswith(_GROWING)
        page.append((head, float(value)) if grows else (line, None))
    start = time.time()

    class Linear(_Quiet):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != "/metrics":
                return self.reply(b"not found\n", "text/plain", 404)
            factor = 1.0 + (time.time() - start) / 1000
            body = "\n".join(text if value is None else f"{text} {value * factor!r}" for text, value in page) + "\n"
            self.reply(body.encode(), "text/plain; version=0.0.4; charset=utf-8")

    return Linear


_BATCH_PART = re.compile(r'label_replace\((.*?), "__aitop_concept__", "(\d+)", "", ""\)(?: or |$)', re.S)


def _label_values(label: str, groups: int) -> list[str]:
    if label == "model_name":
        return [f"model-{i:05d}" for i in range(groups)]
    if label == "finished_reason":
        return ["abort", "error"]
    return ["0"]


def prometheus_handler(groups: int) -> type[BaseHTTPRequestHandler]:
    rng = random.Random(3)
    lock = threading.Lock()

    def answer(expr: str) -> dict:
        by = _BY.search(expr)
        labels = [label.strip() for label in by.group(1).split(",")] if by else []
        labels = [label for label in labels if label and label != "le"]
        base = (0.3 if "histogram_quantile" in expr else 0.002 if "finished_reason" in expr
                else 0.5 if "kv_cache" in expr else 5.0)
        rows = [{}]
        for label in labels:
            rows = [{**row, label: value} for row in rows for value in _label_values(label, groups)]
        with lock:
            result = [{"metric": row, "value": [1.7e9, f"{base * rng.uniform(0.8, 1.2):.6g}"]} for row in rows]
        return {"status": "success", "data": {"resultType": "vector", "result": result}}

    def batch(expr: str) -> dict:
        """aitop's batched query (one per schema): each sub-query answered as alone, its series tagged."""
        result = [{**series, "metric": {**series["metric"], "__aitop_concept__": tag}}
                  for sub, tag in _BATCH_PART.findall(expr) for series in answer(sub)["data"]["result"]]
        return {"status": "success", "data": {"resultType": "vector", "result": result}}

    class Prometheus(_Quiet):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if self.command == "POST":  # a form body: aitop sends its batched queries so
                length = int(self.headers.get("Content-Length") or 0)
                query.update(parse_qs(self.rfile.read(length).decode()))
            if url.path == "/api/v1/label/__name__/values":
                body = {"status": "success", "data": list(VLLM_NAMES)}
            elif url.path == "/api/v1/labels":
                body = {"status": "success", "data": ["__name__", "engine", "finished_reason", "instance", "job",
                                                      "le", "model_name"]}
            elif url.path == "/api/v1/query":
                expr = query.get("query", [""])[0]
                body = batch(expr) if "__aitop_concept__" in expr else answer(expr)
            elif url.path == "/api/v1/alerts":
                body = {"status": "success", "data": {"alerts": []}}
            elif url.path == "/api/v1/status/buildinfo":
                body = {"status": "success", "data": {"version": "2.53.0"}}
            else:
                return self.reply(b'{"status":"error","errorType":"not_found"}', "application/json", 404)
            self.reply(json.dumps(body).encode(), "application/json")

        do_POST = do_GET

    return Prometheus


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A scraper that gave up mid-answer (a timeout on a loaded machine) is its business, not a traceback.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Child:
    """A running server: its base URL, and the monotonic times of the scrapes it logged (`--log`)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("READY "):
            raise RuntimeError("benchmark server did not start")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        self.scrapes: list[float] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout or ():
            if line.startswith("GET "):
                self.scrapes.append(float(line.split()[1]))


@contextlib.contextmanager
def serving(kind: str, *args: str) -> Iterator[Child]:
    """Run a server in a child interpreter until the block ends."""
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.servers", kind, *args], stdout=subprocess.PIPE,
                               text=True)
    try:
        yield Child(process)
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def child(kind: str, *args: str) -> Iterator[str]:
    """Run a server in a child interpreter; yields its base URL (http://127.0.0.1:PORT)."""
    with serving(kind, *args) as server:
        yield server.url


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servers")
    parser.add_argument("kind", choices=("exporter", "linear", "prometheus"))
    parser.add_argument("--lanes", type=int, default=50)
    parser.add_argument("--changing", type=int, default=None)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", action="store_true", help="print `GET <monotonic>` for every scrape")
    args = parser.parse_args()
    if args.kind == "exporter":
        handler = exporter_handler(args.lanes, args.changing, args.log)
    elif args.kind == "linear":
        handler = linear_handler(args.lanes)
    else:
        handler = prometheus_handler(args.groups)
    server = _Server(("127.0.0.1", args.port), handler)
    print(f"READY {server.server_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
