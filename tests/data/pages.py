"""The fixture expositions in this folder, and pages derived from them (shared by unit and integration tests).

Each `<schema>.prom` is a first scrape of that system written from that system's documented metric names (its client library's
text style, HELP/TYPE lines, `_created` series where the library prints them). A later scrape is the same
page with every counter, histogram bucket/_sum/_count and summary _sum/_count multiplied by a factor;
gauges, summary quantile lines and `_created` stay. Two scrapes 10 s apart with factor 2 therefore give a
rate of (fixture value) / 10 per second for every counter — the numbers the expectations are written in.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).parent

#: Fixture name -> the schema it exercises (file stem == schema name, plus the two composite pages).
SCHEMA_FIXTURES = (
    "bentoml", "dcgm", "fastapi", "flask", "kserve", "litellm", "llamacpp", "llm", "lmdeploy", "nim", "otel_genai", "ray_serve",
    "ray_vllm", "sglang", "tgi", "triton", "triton_gpu", "trtllm", "vllm", "xinference",
)
MIXED = "mixed_litellm_vllm_node"
NODE = "node_exporter"
ALL = (*SCHEMA_FIXTURES, MIXED, NODE)

_GROWING = {"counter"}
_CHILDREN = ("_bucket", "_sum", "_count")


def read(name: str) -> str:
    return (DATA / f"{name}.prom").read_text(encoding="utf-8")


def _types(text: str) -> dict[str, str]:
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
    return types


def _grows(name: str, types: dict[str, str]) -> bool:
    """Does this sample count up over time (a counter, or a histogram's/summary's buckets, sum and count)?"""
    if name in types:
        return types[name] in _GROWING  # a summary's quantile line or a gauge stays
    for suffix in _CHILDREN:
        family = name.removesuffix(suffix)
        if family != name and types.get(family) in ("histogram", "summary"):
            return True
    return False


def scaled(text: str, factor: float, timestamp_ms: int | None = None) -> str:
    """The page with growing samples multiplied by `factor` (and every sample stamped, if asked)."""
    types = _types(text)
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            out.append(line)
            continue
        head, value = line.rsplit(" ", 1)
        name = head.split("{", 1)[0]
        number = float(value)
        if _grows(name, types):
            number *= factor
        stamp = f" {timestamp_ms}" if timestamp_ms is not None else ""
        out.append(f"{head} {number!r}{stamp}")
    return "\n".join(out) + "\n"


def without_pods(text: str) -> str:
    """A DCGM page as a bare-metal exporter prints it: no Kubernetes pod mapping (GPUs join by host)."""
    return re.sub(r',container="[^"]*",namespace="[^"]*",pod="[^"]*"', "", text)


@contextlib.contextmanager
def served(body: bytes) -> Iterator[str]:
    """`body` served as a classic-text /metrics page on a free port of 127.0.0.1; yields its URL."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()
