"""Fixtures for the end-to-end tests: a real exporter on 127.0.0.1, and a real ISO-8859-1 locale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from wsgiref.simple_server import make_server

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler, make_wsgi_app

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))

#: A model name ISO-8859-1 can encode (é) and one it cannot (two double-width CJK characters).
MODELS = ["llama-3.1-8b", "café-7b", "模型-7b"]
LATIN1_LOCALE = "en_US.ISO-8859-1"


@pytest.fixture
def exporter():
    """A prometheus_client exporter with requests, errors, latency and negative feedback for `MODELS`."""
    registry = CollectorRegistry()
    requests = Counter("llm_requests", "requests", ["model", "status"], registry=registry)
    latency = Histogram("llm_request_latency_seconds", "latency", ["model"], registry=registry)
    feedback = Counter("llm_feedback", "votes", ["model", "vote"], registry=registry)
    for model in MODELS:
        requests.labels(model, "success").inc(50)
        requests.labels(model, "error").inc(5)
        latency.labels(model).observe(0.4)
        feedback.labels(model, "👎").inc(2)
        feedback.labels(model, "👍").inc(8)
    stop = threading.Event()

    def traffic() -> None:  # between two scrapes there is always traffic: rates, and alerts (10 % errors, 3 s)
        while not stop.wait(0.02):
            for model in MODELS:
                requests.labels(model, "success").inc(9)
                requests.labels(model, "error").inc(1)
                latency.labels(model).observe(3.0)

    server = make_server("127.0.0.1", 0, make_wsgi_app(registry), ThreadingWSGIServer, handler_class=_SilentHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    threading.Thread(target=traffic, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/metrics"
    stop.set()
    server.shutdown()
    server.server_close()


def _has_locale(name: str) -> bool:
    wanted = name.lower().replace("-", "")
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower().replace("-", "")
    return wanted in listed.split()


@pytest.fixture(scope="session")
def latin1_locale() -> str:
    """The name of a real ISO-8859-1 locale, generated with `localedef` when missing and allowed (root).

    CI (`AITOP_REQUIRE_INTEGRATION=1`) fails rather than skips when it cannot be had: .ci/run installs the
    `locales` package that holds the definitions.
    """
    if not _has_locale(LATIN1_LOCALE) and shutil.which("localedef") and os.geteuid() == 0:
        subprocess.run(["localedef", "-i", "en_US", "-f", "ISO-8859-1", LATIN1_LOCALE], capture_output=True)
    if not _has_locale(LATIN1_LOCALE):
        message = f"no {LATIN1_LOCALE} locale (install `locales`, then localedef -i en_US -f ISO-8859-1)"
        if os.environ.get("AITOP_REQUIRE_INTEGRATION") == "1":
            pytest.fail(message + ", and AITOP_REQUIRE_INTEGRATION=1 forbids skipping", pytrace=False)
        pytest.skip(message)
    return LATIN1_LOCALE
