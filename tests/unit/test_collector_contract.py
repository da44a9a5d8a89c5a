"""Every collector — the scrape, Prometheus, replay and pending ones, and the tests' fakes — is a `Collector`:
at run time (every member of the protocol is there) and to mypy (each class is accepted where a `Collector`
is expected). Callers rely on that instead of probing with `hasattr`."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from demo_fleet import FleetCollector

from aitop.demo import DemoFleet
from aitop.markers import MarkerLog
from aitop.model import Collected
from aitop.recording.reader import Recording, TargetScrapes
from aitop.recording.replay import ReplayCollector
from aitop.sources.base import Collector, CollectorBase
from aitop.sources.detect import DetectionError, PendingCollector
from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.sources.scrape.collector import ScrapeCollector

TESTS = Path(__file__).resolve().parents[1]


def _recording() -> Recording:
    return Recording("r.om", {"a:1": TargetScrapes([1.0], [{}])}, start=1.0, end=1.0, samples=0, gzipped=False,
                     complete=True)  # fmt: skip


async def _never() -> Collector:
    raise DetectionError("refused", reason="connection refused")


def _ui_fakes() -> ModuleType:
    """tests/ui/ui_fakes.py, which is on the path only when tests/ui is collected too."""
    if "ui_fakes" in sys.modules:
        return sys.modules["ui_fakes"]
    spec = importlib.util.spec_from_file_location("ui_fakes", TESTS / "ui" / "ui_fakes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ui_fakes"] = module
    spec.loader.exec_module(module)
    return module


def _collectors() -> dict[str, Collector]:
    return {
        "scrape": ScrapeCollector(["http://127.0.0.1:9/metrics"]),
        "prometheus": PrometheusCollector("http://127.0.0.1:9"),
        "replay": ReplayCollector(_recording()),
        "pending": PendingCollector(_never, ["http://127.0.0.1:9"], window_seconds=30.0),
        "demo fleet": FleetCollector(DemoFleet(seed=1)),
        "ui fake": _ui_fakes().FakeCollector([]),
    }


def test_every_collector_has_every_member_of_the_protocol():
    collectors = _collectors()
    try:
        for name, collector in collectors.items():
            assert isinstance(collector, Collector), name
    finally:
        for collector in collectors.values():
            asyncio.run(collector.aclose())


def test_a_class_missing_a_member_is_not_a_collector():
    class NoCollect(CollectorBase):  # no `collect`, no kind/targets/window
        pass

    assert not isinstance(NoCollect(), Collector)


async def test_the_neutral_members_and_what_the_sources_say():
    scrape = ScrapeCollector(["http://127.0.0.1:9/metrics"])
    prometheus = PrometheusCollector("http://127.0.0.1:9/prefix/")
    replay = ReplayCollector(_recording())
    try:
        assert (scrape.can_record, prometheus.can_record, replay.can_record) == (True, False, False)
        assert (scrape.base_url, prometheus.base_url, replay.base_url) == (None, "http://127.0.0.1:9/prefix", None)
        assert isinstance(scrape.markers, MarkerLog) and isinstance(replay.markers, MarkerLog)
        assert prometheus.markers is None and scrape.recorder is None and replay.poll_budget is None
        assert await replay.history(("llm", "m"), ["request_rate"], 60.0) is None
        assert await scrape.history_markers(("llm", "m"), 60.0) == []
    finally:
        await scrape.aclose()
        await prometheus.aclose()


async def test_pending_hands_every_member_over_to_the_real_collector():
    inner = ScrapeCollector(["http://127.0.0.1:9/metrics"])
    failures = [DetectionError("refused", reason="connection refused")]

    async def opener() -> Collector:
        if failures:
            raise failures.pop()
        return inner

    pending = PendingCollector(opener, ["http://127.0.0.1:9/metrics"], window_seconds=12.0)
    pending.group_by, pending.poll_budget = "engine", 0.5
    assert (pending.kind, pending.can_record, pending.markers, pending.base_url) == ("connecting", False, None, None)
    assert pending.window_seconds == 12.0 and pending.tls_verified
    down = await pending.collect()
    assert isinstance(down, Collected) and not down.targets[0].up and pending.inner is None
    await pending.collect()
    try:
        assert pending.inner is inner and (inner.group_by, inner.poll_budget) == ("engine", 0.5)
        assert (pending.kind, pending.can_record, pending.markers) == ("scrape", True, inner.markers)
        pending.poll_budget = 2.0  # set through the pending collector, it reaches the real one
        assert inner.poll_budget == 2.0 and pending.poll_budget == 2.0
    finally:
        await pending.aclose()


def test_detect_reads_a_recording(tmp_path, capsys):
    """`aitop detect FILE` reports what a recording holds, as it does for a live target (the replay collector
    is a `DetectingCollector`: it names the metrics on each target's latest page replayed)."""
    from aitop import cli
    from aitop.recording.writer import Recorder

    path = tmp_path / "r.om"
    recorder = Recorder(path)
    for i in range(3):
        recorder.scrape("10.0.0.1:8000", 1_790_000_000.0 + i, {("llm_requests_total", (("model", "m"),)): 10.0 * i})
    recorder.close()
    assert cli.main(["detect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "llm — " in out and re.search(r"\n  requests +counter   llm_requests_total", out)


STATIC = """
from aitop.recording.replay import ReplayCollector
from aitop.sources.base import Collector, DetectingCollector
from aitop.sources.detect import PendingCollector
from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.sources.scrape.collector import ScrapeCollector
from demo_fleet import FleetCollector
from test_monitor import ScriptedCollector
from ui_fakes import FakeCollector


def accepts(collector: Collector) -> None: ...


def detects(collector: DetectingCollector) -> None: ...


def check(scrape: ScrapeCollector, prometheus: PrometheusCollector, replay: ReplayCollector,
          pending: PendingCollector, fleet: FleetCollector, fake: FakeCollector, scripted: ScriptedCollector) -> None:
    accepts(scrape)
    accepts(prometheus)
    accepts(replay)
    accepts(pending)
    accepts(fleet)
    accepts(fake)
    accepts(scripted)
    detects(scrape)
    detects(prometheus)
    detects(replay)
"""


@pytest.mark.timeout(300)
def test_mypy_accepts_each_collector_where_a_collector_is_expected(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed")
    (tmp_path / "conformance.py").write_text(STATIC)
    # The checkout first: an editable install without py.typed would be skipped, making every class Any.
    paths = os.pathsep.join([str(TESTS.parent), *(str(TESTS / part) for part in ("", "ui", "unit"))])
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "conformance.py", "--follow-imports=silent", "--ignore-missing-imports",
         "--no-incremental", "--cache-dir", os.devnull],
        cwd=tmp_path, env={**os.environ, "MYPYPATH": paths}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
