"""A scriptable HTTP fault server for the fault-matrix tests.

`FaultServer(app)` listens on 127.0.0.1 only, on a free port, and asks `app(request)` what to do with each
request: an `Action` — a normal `Reply` (optionally late), `Hang` (accept, read, never answer: a blackhole),
`Trickle` (one byte at a time), `ResetMidBody` (half the body, then a TCP reset) or `Drop` (close without a
word). The server can also `refuse()` connections (the port is closed) and `listen()` again on the same port,
as a restarted process would.

Bounded and self-stopping: at most `max_connections` connections are served at once (more are closed on
arrival), request heads and bodies are read up to fixed caps, every wait is cut short by `stop()`, and the
server stops by itself after `lifetime` seconds even if a test forgets it. Every request lands in `log` with
its start and end times, so tests assert on what aitop actually sent (and how many at once).

Builders for the bodies the matrix needs live here too: Prometheus API envelopes, plain-text 503s, HTML
login pages, redirects, 429 with Retry-After, gzip bombs, huge vectors, and two simulators — `Exporter`
(a /metrics page with counters that advance, reset, churn, carry hostile labels) and `PrometheusAPI`
(enough of /api/v1 for aitop's Prometheus mode, with per-query faults).
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import gzip
import json
import random
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
MAX_HEAD = 64 * 1024
MAX_REQUEST_BODY = 1024 * 1024


# -- requests and the log ------------------------------------------------------------------------------


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    started: float  # time.monotonic()
    finished: float | None = None
    action: str = ""

    def param(self, name: str) -> str | None:
        """A query-string or form parameter (first value)."""
        values = self.query.get(name)
        if values:
            return values[0]
        if self.body and "form-urlencoded" in self.headers.get("content-type", ""):
            form = parse_qs(self.body.decode("utf-8", "replace"))
            if form.get(name):
                return form[name][0]
        return None


# -- actions -------------------------------------------------------------------------------------------


class Action:
    """What the server does with one request. `serve` writes to the client socket."""

    name = "action"

    def serve(self, server: FaultServer, conn: socket.socket, request: Request) -> None:  # pragma: no cover
        raise NotImplementedError


def _head(status: int, headers: Mapping[str, str], length: int | None) -> bytes:
    reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Reply(Action):
    """A complete answer, sent after `delay` seconds (the wait ends early when the server stops)."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    name: str = "reply"

    def serve(self, server, conn, request):
        if self.delay and server.stopped.wait(self.delay):
            return
        data = self.body.encode() if isinstance(self.body, str) else self.body
        conn.sendall(_head(self.status, self.headers, len(data)) + data)


@dataclass
class Hang(Action):
    """Accept and read the request, then say nothing until the client gives up or the server stops."""

    name: str = "hang"

    def serve(self, server, conn, request):
        conn.settimeout(0.01)
        while not server.stopped.is_set():
            try:
                if conn.recv(1024) == b"":
                    return  # the client closed: its deadline worked
            except TimeoutError:
                continue
            except OSError:
                return


@dataclass
class Trickle(Action):
    """Headers (with the full Content-Length), then the body `step` bytes every `interval` seconds."""

    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    interval: float = 0.05
    step: int = 1
    name: str = "trickle"

    def serve(self, server, conn, request):
        conn.sendall(_head(200, self.headers, len(self.body)))
        for start in range(0, len(self.body), self.step):
            if server.stopped.wait(self.interval):
                return
            conn.sendall(self.body[start : start + self.step])


@dataclass
class ResetMidBody(Action):
    """Headers (with the full Content-Length), `fraction` of the body, then a TCP reset."""

    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    fraction: float = 0.5
    name: str = "reset"

    def serve(self, server, conn, request):
        conn.sendall(_head(200, self.headers, len(self.body)) + self.body[: int(len(self.body) * self.fraction)])
        time.sleep(0.01)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends RST


@dataclass
class Drop(Action):
    """Close the connection without answering."""

    name: str = "drop"

    def serve(self, server, conn, request):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


App = Callable[[Request], Action]


# -- the server ----------------------------------------------------------------------------------------


class FaultServer:
    """An HTTP/1.1 server on 127.0.0.1 whose every answer is scripted by `app`."""

    def __init__(self, app: App, *, lifetime: float = 30.0, max_connections: int = 64) -> None:
        self.app = app
        self.lifetime = lifetime
        self.max_connections = max_connections
        self.stopped = threading.Event()
        self.log: list[Request] = []
        self.rejected = 0  # connections closed on arrival because too many were open
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._timer: threading.Timer | None = None
        # Bound now and kept until the first listen(): a port given back to the kernel could be handed out
        # again at once (to some client's end of a connection) before the server binds it.
        self._bound: socket.socket | None = socket.socket()
        self._bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._bound.bind((HOST, 0))
        self.port = self._bound.getsockname()[1]

    # lifecycle
    def start(self) -> FaultServer:
        self.listen()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def listen(self) -> None:
        """Accept connections (again) on the same port."""
        if self.stopped.is_set() or self._listener is not None:
            return
        listener, self._bound = self._bound, None
        if listener is None:  # listening again after refuse(), on the same port, as a restarted process would
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((HOST, self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), name=f"fault-accept-{self.port}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def refuse(self) -> None:
        """Close the listening socket: new connections are refused (open ones finish)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress at once (Linux)
            listener.close()

    def stop(self) -> None:
        self.stopped.set()
        self.refuse()
        if self._bound is not None:
            self._bound.close()
            self._bound = None
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(timeout=1.0)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # the log
    def requests(self, predicate: Callable[[Request], bool] | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.log if predicate is None or predicate(r)]

    def count(self, predicate: Callable[[Request], bool] | None = None) -> int:
        return len(self.requests(predicate))

    def max_concurrent(self, predicate: Callable[[Request], bool] | None = None) -> int:
        """The most requests matching `predicate` that were being served at the same moment."""
        now = time.monotonic()
        events = []
        for r in self.requests(predicate):
            events.append((r.started, 1))
            events.append((r.finished if r.finished is not None else now, -1))
        events.sort(key=lambda e: (e[0], e[1]))  # an end and a start at the same instant do not overlap
        best = level = 0
        for _, step in events:
            level += step
            best = max(best, level)
        return best

    def in_flight(self) -> int:
        with self._lock:
            return sum(1 for r in self.log if r.finished is None)

    # serving
    def _accept(self, listener: socket.socket) -> None:
        while not self.stopped.is_set() and self._listener is listener:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if len(self._clients) >= self.max_connections:
                    self.rejected += 1
                    conn.close()
                    continue
                self._clients.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), name=f"fault-conn-{self.port}", daemon=True)
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        request = None
        try:
            conn.settimeout(5.0)
            request = self._read_request(conn)
            if request is None:
                return
            action = self.app(request)
            request.action = action.name
            action.serve(self, conn, request)
        except Exception:  # noqa: BLE001 — a client that went away mid-answer is part of the game
            pass
        finally:
            if request is not None:
                request.finished = time.monotonic()
            with self._lock:
                self._clients.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _read_request(self, conn: socket.socket) -> Request | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
            if len(data) > MAX_HEAD:
                return None
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = min(int(headers.get("content-length", "0") or 0), MAX_REQUEST_BODY)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        parts = urlsplit(target)
        request = Request(method, parts.path, parse_qs(parts.query), headers, rest[:length], time.monotonic())
        with self._lock:
            self.log.append(request)
        return request


# -- bodies --------------------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
OPENMETRICS = {"Content-Type": "application/openmetrics-text; version=1.0.0; charset=utf-8"}


def api_success(data: object, *, warnings: Sequence[str] = (), infos: Sequence[str] = (), **extra) -> Reply:
    body: dict = {"status": "success", "data": data, **extra}
    if warnings:
        body["warnings"] = list(warnings)
    if infos:
        body["infos"] = list(infos)
    return Reply(200, json.dumps(body), JSON)


def vector(samples: Iterable[tuple[Mapping[str, str], object]], at: float = 1_700_000_000.0) -> dict:
    """A vector result: (labels, value) pairs; values are sent as strings, like Prometheus."""
    return {"resultType": "vector", "result": [{"metric": dict(m), "value": [at, str(v)]} for m, v in samples]}


def api_error(status: int, error_type: str, error: str, headers: Mapping[str, str] | None = None) -> Reply:
    body = json.dumps({"status": "error", "errorType": error_type, "error": error})
    return Reply(status, body, {**JSON, **(headers or {})})


def service_unavailable(stopping: bool = False) -> Reply:
    """Prometheus while it starts (WAL replay) or stops: 503 with a *plain-text* body."""
    return Reply(503, "Service Unavailable", {"Content-Type": "text/plain; charset=utf-8",
                                              "X-Prometheus-Stopping": "true" if stopping else "false"})


def html_login_page(status: int = 200) -> Reply:
    page = ("<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action='/oauth2/start'>"
            "<input name='user'><input type='password' name='password'></form></body></html>")
    return Reply(status, page, {"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, "", {"Location": location, "Content-Type": "text/html"})


def rate_limited(retry_after: float, *, as_date: bool = False) -> Reply:
    """429 with Retry-After in seconds, or (`as_date`) as the HTTP date that many seconds from now."""
    value = email.utils.formatdate(time.time() + retry_after, usegmt=True) if as_date else f"{retry_after:g}"
    return Reply(429, "too many outstanding requests", {"Content-Type": "text/plain", "Retry-After": value})


_BOMBS: dict[tuple[int, bytes], bytes] = {}


def gzip_bomb(decoded_size: int, fill: bytes = b"#") -> bytes:
    """A valid gzip stream of `decoded_size` bytes of `fill`: 200 MiB pack into ~200 KiB.

    Built in a fraction of a second: after a sync flush every further MiB of the same byte compresses to
    the same byte-aligned block, so that block is repeated; only the trailer (CRC, size) is computed."""
    key = (decoded_size, fill)
    if key not in _BOMBS:
        block = fill * (1024 * 1024 // len(fill))
        count = max(2, decoded_size // len(block))
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        first = packer.compress(block) + packer.flush(zlib.Z_SYNC_FLUSH)
        repeat = packer.compress(block) + packer.flush(zlib.Z_SYNC_FLUSH)
        final = packer.flush()[:-8]  # the last (empty) block; the trailer is rebuilt for the whole stream
        crc = 0
        for _ in range(count):
            crc = zlib.crc32(block, crc)
        trailer = struct.pack("<II", crc, (count * len(block)) & 0xFFFFFFFF)
        _BOMBS[key] = first + repeat * (count - 1) + final + trailer
    return _BOMBS[key]


def gzipped(body: bytes | str, headers: Mapping[str, str]) -> Reply:
    data = body.encode() if isinstance(body, str) else body
    return Reply(200, gzip.compress(data, 1), {**headers, "Content-Encoding": "gzip"})


def huge_vector(count: int, *, limit: int | None = None, label: str = "model") -> Reply:
    """`count` series for a top-N panel; honours `limit` as Prometheus 3.2+ does (with its warning)."""
    shown = count if limit is None or limit <= 0 else min(count, limit)
    samples = ((({label: f"m-{i:06d}"}), i % 97 + 1) for i in range(shown))
    warnings = ["results truncated due to limit"] if shown < count else []
    return api_success(vector(samples), warnings=warnings)


# -- simulators ----------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Exporter:
    """A /metrics page for the generic `llm_*` schema: per model, a request counter (success/error) that
    grows by `rate` per scrape, and a latency histogram. Scriptable: `reset()` restarts the counters
    (a new process: lower values, new `_created`), `churn(fraction)` replaces label sets (pod churn),
    `extra` lines are appended verbatim (duplicates, interleaving, hostile text)."""

    BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5)

    def __init__(self, models: Sequence[str] = ("alpha", "beta"), *, rate: float = 10.0, seed: int = 7) -> None:
        self.models = list(models)
        self.rate = rate
        self.scrapes = 0
        self.created = 1_700_000_000.0
        self.extra: list[str] = []
        self.content_type = TEXT["Content-Type"]
        self._base: dict[str, float] = {m: 0.0 for m in self.models}
        self._random = random.Random(seed)
        self._serial = 0

    def reset(self) -> None:
        self._base = {m: -self.scrapes * self.rate + 1 for m in self.models}  # counters restart near 0
        self.created += 3600.0

    def churn(self, fraction: float) -> None:
        count = max(1, round(len(self.models) * fraction))
        for index in self._random.sample(range(len(self.models)), count):
            self._serial += 1
            old = self.models[index]
            new = f"{old.split('#')[0]}#{self._serial}"
            self.models[index] = new
            self._base.pop(old, None)
            self._base[new] = -self.scrapes * self.rate

    def value(self, model: str) -> float:
        return max(0.0, self._base.get(model, 0.0) + self.scrapes * self.rate)

    def page(self) -> str:
        self.scrapes += 1
        lines = ["# HELP llm_requests_total LLM requests.", "# TYPE llm_requests_total counter"]
        for model in self.models:
            total = self.value(model)
            name = _escape(model)
            lines.append(f'llm_requests_total{{model="{name}",status="success"}} {total * 0.9:.1f}')
            lines.append(f'llm_requests_total{{model="{name}",status="error"}} {total * 0.1:.1f}')
        lines.append("# TYPE llm_requests_created gauge")
        for model in self.models:
            lines.append(f'llm_requests_created{{model="{_escape(model)}",status="success"}} {self.created}')
        lines.append("# TYPE llm_request_latency_seconds histogram")
        for model in self.models:
            total, name = self.value(model), _escape(model)
            for bound, share in zip(self.BUCKETS, (0.2, 0.5, 0.8, 0.95, 1.0)):
                lines.append(f'llm_request_latency_seconds_bucket{{le="{bound}",model="{name}"}} {total * share:.1f}')
            lines.append(f'llm_request_latency_seconds_bucket{{le="+Inf",model="{name}"}} {total:.1f}')
            lines.append(f'llm_request_latency_seconds_count{{model="{name}"}} {total:.1f}')
            lines.append(f'llm_request_latency_seconds_sum{{model="{name}"}} {total * 0.4:.1f}')
        lines.extend(self.extra)
        return "\n".join(lines) + "\n"

    def __call__(self, request: Request) -> Action:
        if request.path != "/metrics":
            return Reply(404, "not found")
        return Reply(200, self.page(), {"Content-Type": self.content_type})


Fault = Callable[[Request], Action | None]


class PrometheusAPI:
    """Enough of the Prometheus HTTP API for aitop: buildinfo, label values/names, instant queries and
    alerts for the `llm_*` schema, answered from `models` (model -> request rate). `faults` are asked first,
    in order: the first that returns an Action answers the request."""

    def __init__(self, models: Mapping[str, float] | None = None, *, prefix: str = "") -> None:
        self.models = dict(models or {"alpha": 10.0, "beta": 4.0})
        self.prefix = prefix
        self.faults: list[Fault] = []
        self.alerts: list[dict] = []
        self.token: str | None = None  # when set, every request needs "Authorization: Bearer <token>"
        self.value_override: dict[str, str] = {}  # model -> sample value string for every query ("NaN"…)
        self.infos: list[str] = []

    def fault(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def __call__(self, request: Request) -> Action:
        for fault in list(self.faults):
            action = fault(request)
            if action is not None:
                return action
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return api_error(401, "unauthorized", "bad or missing token")
        path = request.path.removeprefix(self.prefix)
        if path == "/api/v1/status/buildinfo":
            return api_success({"version": "2.53.0"})
        if path == "/api/v1/label/__name__/values":
            return api_success(["llm_requests_total", "llm_request_latency_seconds_bucket", "up"])
        if path == "/api/v1/labels":
            return api_success(["__name__", "model", "status", "le", "instance", "job"])
        if path == "/api/v1/alerts":
            return api_success({"alerts": self.alerts})
        if path == "/api/v1/query" and batch_parts(request.param("query") or ""):
            return self.answer_batch(request)
        if path in ("/api/v1/query", "/api/v1/query_range"):
            return self.answer(request)
        return Reply(404, "404 page not found")

    def answer_batch(self, request: Request) -> Action:
        """aitop's batched query: each sub-query meets the faults and is answered as if sent alone; a
        fault on any of them is the whole batch's answer, as on a real server (one bad sub-query fails it)."""
        result = []
        infos: list[str] = []
        for expr, tag in batch_parts(request.param("query") or ""):
            sub = dataclasses.replace(request, query={**request.query, "query": [expr]}, body=b"")
            for fault in list(self.faults):
                action = fault(sub)
                if action is not None:
                    return action
            body = json.loads(self.answer(sub).body)
            infos += body.get("infos", [])
            result += [{**s, "metric": {**s["metric"], BATCH_LABEL: tag}} for s in body["data"]["result"]]
        return api_success({"resultType": "vector", "result": result}, infos=list(dict.fromkeys(infos)))

    def answer(self, request: Request) -> Action:
        expr = request.param("query") or ""
        samples = []
        # The since-query gets no series: the rows warm up from when aitop first sees them, as before it existed.
        for model, rate in () if is_since(expr) else self.models.items():
            value = self.value_override.get(model)
            if expr.startswith("histogram_quantile("):
                samples.append(({"model": model}, value or "0.25"))
            elif "status!~" in expr:
                samples.append(({"model": model, "status": "error"}, value or rate * 0.1))
            elif "llm_requests_total" in expr:
                samples.append(({"model": model}, value or rate))
        infos = self.infos if expr.startswith("histogram_quantile(") else []
        if request.path.endswith("/query_range"):  # the drill-down's charts: a matrix, a point a minute
            start = float(request.param("start") or 1_700_000_000.0)
            end = float(request.param("end") or start)
            stamps = [start + 60 * i for i in range(max(1, min(60, int((end - start) // 60) + 1)))]
            result = [{"metric": dict(m), "values": [[t, str(v)] for t in stamps]} for m, v in samples]
            return api_success({"resultType": "matrix", "result": result}, infos=infos)
        return api_success(vector(samples), infos=infos)


def is_since(expr: str) -> bool:
    """Whether `expr` asks since when the rows' windows hold data (`aitop.sources.prometheus.since`)."""
    return expr.startswith("max by (") and "timestamp(" in expr  # (a whole batch starts with label_replace)


def is_server_fact(expr: str) -> bool:
    """Whether `expr` is one of the questions aitop asks about the server itself (its clock, the jobs and
    scrape spacing of its series) along with the metric names, not a panel's query."""
    return expr == "time()" or expr.startswith(("group by (job)", "max by (job) (600 / count_over_time("))


BATCH_LABEL = "__aitop_concept__"
_BATCH_PART = re.compile(r'label_replace\((.*?), "__aitop_concept__", "(\d+)", "", ""\)(?: or |$)', re.S)


def batch_parts(expr: str) -> list[tuple[str, str]]:
    """The (sub-query, tag) pairs of a batched query; [] for any other expression."""
    return _BATCH_PART.findall(expr) if BATCH_LABEL in expr else []


def query_kind(request: Request) -> str:
    """Which panel a query feeds: requests, errors, latency_p50/p95/p99, inf_bucket, data_since (or '' for
    other endpoints)."""
    expr = request.param("query") or ""
    if batch_parts(expr):
        return "batch"  # its sub-queries meet the faults one by one (PrometheusAPI.answer_batch)
    if not request.path.endswith("/query"):
        return ""
    return _expr_kind(expr)


def query_kinds(request: Request) -> list[str]:
    """The panels a request feeds: its sub-queries' kinds for a batch, else `[query_kind(request)]`."""
    parts = batch_parts(request.param("query") or "")
    return [_expr_kind(part) for part, _ in parts] if parts else [query_kind(request)]


def _expr_kind(expr: str) -> str:
    if is_server_fact(expr):
        return ""
    if is_since(expr):  # since when each row's window is unbroken (warm-up), not a panel
        return "data_since"
    match = re.match(r"histogram_quantile\(0\.(\d+),", expr)
    if match:
        return f"latency_p{match.group(1).ljust(2, '0')}"  # 0.5 -> p50, 0.95 -> p95
    if 'le="+Inf"' in expr:  # a histogram's observations/s (why its quantiles may be empty), not a panel
        return "inf_bucket"
    return "errors" if "status!~" in expr else "requests"
