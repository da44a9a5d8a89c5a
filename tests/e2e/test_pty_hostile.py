"""The real TUI in a real pseudo-terminal, fed hostile label values by a real exporter.

Asserts on the bytes that reach the terminal: no escape sequence that came from data (window title, clipboard,
hyperlink, CSI from a C1 byte) and no crash, and `q` still exits 0.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import make_server

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import (
    ThreadingWSGIServer,
    _SilentHandler,
    make_wsgi_app,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))
from kit import escape_audit

HOSTILE = [
    "[/]",
    "[link=http://evil.example]x[/link]",
    "[@click=app.quit]QUIT[/]",
    "t\x1b]0;PWNED-TITLE\x07",
    "c\x1b]52;c;UFdORUQ=\x07",
    "h\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "csi\u009b31mred",
    "bidi\u202eevil",
    # 100 KB, far past the 256-character display cap. (A 1 MB label repeats on ~20 lines of this exporter's
    # page, 22 MB a poll, which costs seconds per poll; the 1 MB case runs in tests/faults, F18.)
    "L" * 100_000,
]
# Sequences that only data could have produced: Textual never sets titles, clipboards or these links.
FORBIDDEN = [b"\x1b]0;", b"\x1b]52;", b"\x1b]8;;http://evil", b"\x1b]8;id", b"\xc2\x9b", b"\x1b[2J", "\u202e".encode()]


@pytest.fixture
def hostile_exporter():
    registry = CollectorRegistry()
    requests = Counter("llm_requests", "requests", ["model", "status"], registry=registry)
    latency = Histogram("llm_request_latency_seconds", "latency", ["model"], registry=registry)
    for model in HOSTILE:
        requests.labels(model, "success").inc(5)
        requests.labels(model, "timeout\x1b[2J").inc(1)
        latency.labels(model).observe(0.4)
    # What start_http_server(0, addr="127.0.0.1", registry=registry) does, but polling for shutdown every
    # 50 ms: its thread polls every 0.5 s, and shutdown() waits for that poll.
    server = make_server("127.0.0.1", 0, make_wsgi_app(registry), ThreadingWSGIServer, handler_class=_SilentHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/metrics", requests
    server.shutdown()
    server.server_close()


def _read_until(fd: int, needle: bytes, seconds: float) -> bytes:
    """Read until `needle` has arrived (or `seconds` passed): a fixed wait flakes on a loaded machine, where
    the first poll of this 2 MB page can take a second or more."""
    output = b""
    deadline = time.monotonic() + seconds
    while needle not in output and time.monotonic() < deadline:
        output += _read_for(fd, 0.1)
    return output


def _read_for(fd: int, seconds: float) -> bytes:
    chunks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def test_hostile_labels_never_reach_the_terminal_raw(hostile_exporter, tmp_path):
    url, requests = hostile_exporter
    primary, secondary = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state"), "TEXTUAL_ANIMATIONS": "none"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "aitop", url, "--interval", "0.5"],
        stdin=secondary, stdout=secondary, stderr=secondary, env=env, start_new_session=True,
    )
    os.close(secondary)
    try:
        output = _read_until(primary, b"llm", 20.0)
        for model in HOSTILE:  # traffic between polls, so rates are computed and cells redrawn
            requests.labels(model, "success").inc(3)
        # Until a later poll has drawn rates (a number like 6.00 in a req/s cell; the first poll has none),
        # not a fixed wait, then one more interval.
        drawn_by = time.monotonic() + 20.0
        while not re.search(rb"\d\.\d\d", output) and time.monotonic() < drawn_by:
            output += _read_for(primary, 0.1)
        output += _read_for(primary, 0.5)
        os.write(primary, b"q")
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:  # keep reading: a full pty blocks it
            output += _read_for(primary, 0.1)
        code = process.wait(timeout=1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(primary)
    assert code == 0, output[-2000:]
    assert b"Traceback" not in output
    assert b"llm" in output and re.search(rb"\d\.\d\d", output)  # the rows were drawn, with rates
    for needle in FORBIDDEN:
        assert needle not in output, f"{needle!r} reached the terminal"
    assert b"PWNED-TITLE" not in output.replace(b"^[]0;PWNED-TITLE", b"")  # only ever shown escaped
    audit = escape_audit(output)  # every ESC is one of Textual's own sequences; no C1 byte at all
    print(f"FIGURES e2e pty: {audit}")
    assert audit["from_data"] == 0 and audit["c1"] == 0, audit["examples"]
    assert audit["visible_escapes"] > 0  # the hostile values were drawn, escaped (^[…)
