"""Serves every fixture page of tests/data on its own port, with counters growing linearly in time.

Run as a child interpreter: `python fixture_server.py` prints `{"ports": {fixture: port}, "t0": t0}` and
serves until its stdin closes. At time t a page is the fixture with every counter (and histogram /
summary bucket, sum, count) multiplied by (HISTORY_S + t - t0) / 10, so each grows at (fixture value) / 10
per second — the rates tests/data/expected.py is written in — and has long been running at t0. Gauges,
summary quantiles and `_created` stay. Scrapes by Prometheus get each sample's exact timestamp (as the
known-answer exporter in conftest.py does), so `rate()` is exact.

One port per page: the `instance` label then tells the pages apart, as it would real targets (TGI and
llama.cpp rows are named by it; a schema standing down for another applies per instance).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import pages  # noqa: E402
from prometheus_client.exposition import ThreadingWSGIServer  # noqa: E402

HISTORY_S = 3600.0
SERVER_USER_AGENTS = ("Prometheus/", "vm_promscrape")


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


def app_for(text: str, t0: float):
    def app(environ, start_response):
        ms = int(time.time() * 1000)
        server = environ.get("HTTP_USER_AGENT", "").startswith(SERVER_USER_AGENTS)
        factor = (HISTORY_S + ms / 1000 - t0) / 10
        body = pages.scaled(text, factor, ms if server else None).encode()
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


def main() -> None:
    t0 = time.time()
    servers = {}
    for name in (*pages.SCHEMA_FIXTURES, pages.MIXED, pages.NODE):
        server = make_server("127.0.0.1", 0, app_for(pages.read(name), t0), ThreadingWSGIServer, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, name=f"fixture-{name}", daemon=True).start()
        servers[name] = server
    print(json.dumps({"ports": {name: s.server_port for name, s in servers.items()}, "t0": t0}), flush=True)
    sys.stdin.read()
    # No server.shutdown(): each waits up to its 0.5 s poll interval, one after the other. The serving
    # threads are daemons; closing the sockets and leaving ends them.
    for server in servers.values():
        server.server_close()


if __name__ == "__main__":
    main()
