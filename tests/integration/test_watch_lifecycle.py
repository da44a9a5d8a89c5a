"""Alert lifecycles end to end: the real `aitop watch --format jsonl` in a subprocess, scraping exporters this
test runs (plain HTTP servers on 127.0.0.1, port 0), with short windows and `for` / `keep_firing_for` from a
config file so a lifecycle takes seconds.

Time bounds are measured against the watch's own refresh spacing in the same run (`taken_at` of consecutive
lines), never against a fixed wall-clock figure: a loaded CI machine stretches the refreshes, not the bound.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

WINDOW = 3.0
INTERVAL = 0.5
FOR = 1.0
KEEP_FIRING_FOR = 3.0
RATE = 20.0  # requests/s per exporter
#: Bucket bounds of the latency histogram. All of a phase's requests land in one bucket, so the p95 that
#: `histogram_quantile` interpolates is exact: in (2, 4] it is 2 + 0.95 × 2 = 3.9 s, in (1, 2] 1.95 s.
BOUNDS = (1.0, 2.0, 4.0)
SLOW, FAST = 4.0, 2.0  # the upper bound of the bucket a phase's requests land in


class LinearExporter:
    """An `llm_*` exporter whose counters grow at `RATE`/s in wall time, every request in the bucket `le`."""

    def __init__(self, model: str, le: float) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._counts = {bound: 0.0 for bound in (*BOUNDS, float("inf"))}
        self._le = le
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = exporter.page().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/metrics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _settle(self) -> dict[float, float]:
        """Cumulative bucket counts now (requests of past phases included)."""
        now = time.monotonic()
        added = RATE * (now - self._start)
        self._start = now
        for bound in self._counts:
            if bound >= self._le:
                self._counts[bound] += added
        return dict(self._counts)

    def step(self, le: float) -> None:
        """From now on every request takes a time in the bucket with upper bound `le`."""
        with self._lock:
            self._settle()
            self._le = le

    def page(self) -> str:
        with self._lock:
            counts = self._settle()
        total = counts[float("inf")]
        label = f'model="{self.model}"'
        lines = [
            "# TYPE llm_requests_total counter",
            f'llm_requests_total{{{label},status="success"}} {total}',
            "# TYPE llm_request_latency_seconds histogram",
        ]
        for bound, count in counts.items():
            le = "+Inf" if bound == float("inf") else f"{bound}"
            lines.append(f'llm_request_latency_seconds_bucket{{{label},le="{le}"}} {count}')
        lines.append(f"llm_request_latency_seconds_sum{{{label}}} {total * 1.5}")
        lines.append(f"llm_request_latency_seconds_count{{{label}}} {total}")
        return "\n".join(lines) + "\n"

    def kill(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Watch:
    """`aitop watch` as a subprocess; `lines()` yields its parsed JSON lines as they come."""

    def __init__(self, tmp_path: Path, urls: list[str], config: str) -> None:
        path = tmp_path / "config.toml"
        path.write_text(config)
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("AITOP_CONFIG", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aitop", "watch", *urls, "--format", "jsonl", "--window", f"{WINDOW}s",
             "--interval", f"{INTERVAL}s", "--config", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip

    def lines(self):
        assert self.process.stdout is not None
        for line in self.process.stdout:
            yield json.loads(line)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def taken(snapshot: dict) -> float:
    return datetime.fromisoformat(snapshot["taken_at"].replace("Z", "+00:00")).timestamp()


def latency_alert(snapshot: dict) -> dict | None:
    return next((a for a in snapshot["alerts"] if a["rule"] == "latency_p95_critical"), None)


LATENCY_RULE = f"""
[[rules]]
name = "latency_p95_critical"
for = "{FOR}s"
keep_firing_for = "{KEEP_FIRING_FOR}s"
"""


@pytest.mark.timeout(60)
def test_p95_stepping_from_3_9s_to_1_95s_fires_then_resolves_within_window_plus_keep_firing_for(tmp_path):
    exporter = LinearExporter("gpt-4o", SLOW)
    watch = Watch(tmp_path, [exporter.url], LATENCY_RULE)
    try:
        stream = watch.lines()
        previous: float | None = None
        gaps: list[float] = []
        first: float | None = None
        fired = None
        for snapshot in stream:
            first = first if first is not None else taken(snapshot)
            alert = latency_alert(snapshot)
            if alert is not None and alert["state"] in ("pending", "firing"):
                # Warm-up: nothing is judged before the window is full.
                assert taken(snapshot) - first >= WINDOW * 0.95
            if alert is not None and alert["state"] == "firing":
                fired = (snapshot, alert)
                break
        assert fired is not None
        snapshot, alert = fired
        (row,) = snapshot["rows"]
        assert row["latency_p95"] == pytest.approx(3.9, rel=0.01)
        assert row["severity"]["latency_p95"] == "critical"
        assert f"clears after {KEEP_FIRING_FOR:.0f}s below 2.00s" in alert["message"]
        since = alert["since"]

        exporter.step(FAST)
        stepped = time.time()
        resolved = None
        marked_ok_while_firing = False
        for snapshot in stream:
            now = taken(snapshot)
            if previous is not None:
                gaps.append(now - previous)
            previous = now
            alert = latency_alert(snapshot)
            (row,) = snapshot["rows"]
            if alert["state"] == "firing":
                assert alert["since"] == since  # firing since it fired, however long it takes to clear
                if row["latency_p95"] is not None and row["latency_p95"] < 2.0:
                    # The value is back under the limit: the cell's mark follows it, the alert waits.
                    assert row["severity"]["latency_p95"] == "ok"
                    assert "clearing:" in alert["message"]
                    marked_ok_while_firing = True
            if alert["state"] == "resolved":
                resolved = now
                break
            if now - stepped > 4 * (WINDOW + KEEP_FIRING_FOR):  # a failure says so, not a test timeout
                break
        assert resolved is not None, "the alert never resolved"
        assert marked_ok_while_firing
        assert row["latency_p95"] == pytest.approx(1.95, rel=0.01)
        refresh = max(gaps)  # this run's own refresh spacing, however loaded the machine is
        assert resolved - stepped <= WINDOW + KEEP_FIRING_FOR + 2 * refresh
    finally:
        watch.stop()
        exporter.kill()


@pytest.mark.timeout(60)
def test_killing_one_of_three_targets_drops_the_rate_to_two_thirds_within_one_window(tmp_path):
    exporters = [LinearExporter("llama", FAST) for _ in range(3)]
    watch = Watch(tmp_path, [e.url for e in exporters], "")
    try:
        stream = watch.lines()
        for snapshot in stream:
            (row,) = snapshot["rows"] or [None]
            if row is not None and row["request_rate"] is not None and snapshot["window_seconds"] >= WINDOW * 0.95:
                break
        assert row["request_rate"] == pytest.approx(3 * RATE, rel=0.02)
        assert row["replicas"] == {"up": 3, "total": 3}
        exporters[2].kill()
        killed = time.time()
        previous, gaps, dropped = None, [], None
        for snapshot in stream:
            now = taken(snapshot)
            if previous is not None:
                gaps.append(now - previous)
            previous = now
            (row,) = snapshot["rows"]
            if not snapshot["targets"][2]["up"]:
                assert row["replicas"] == {"up": 2, "total": 3}
                assert not row["stale"]  # two replicas are live: the row is judged, not frozen
            if row["request_rate"] == pytest.approx(2 * RATE, rel=0.02):
                dropped = now
                break
            if now - killed > 4 * WINDOW:  # a failure says so, not a test timeout
                break
        assert dropped is not None, f"the request rate stayed at {row['request_rate']}"
        # The dead target's series count until its last scrape leaves the window, then no more.
        assert dropped - killed <= WINDOW + 2 * max(gaps)
        assert row["replicas"] == {"up": 2, "total": 3}
    finally:
        watch.stop()
        for exporter in exporters[:2]:
            exporter.kill()


def test_a_reader_that_goes_away_ends_watch_quietly(tmp_path):
    """`aitop watch … | head -1`: the closed pipe ends the watch with exit 0 and nothing on stderr."""
    exporter = LinearExporter("gpt-x", FAST)
    try:
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("AITOP_CONFIG", None)
        command = (f"{sys.executable} -m aitop watch {exporter.url} --format jsonl --window {WINDOW}s "
                   f"--interval {INTERVAL}s | head -1")
        result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True,
                                env=env, timeout=60)
    finally:
        exporter.kill()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] is not None
    assert result.stderr == ""
