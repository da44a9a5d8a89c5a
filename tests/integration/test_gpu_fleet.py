"""A vLLM + DCGM fleet through `aitop snapshot --format json` over real HTTP: the session's vLLM fixture page
(counters growing, fixture_server.py) and a DCGM exporter page served here, both on 127.0.0.1 — one host,
so the GPUs join the model row, whose JSON then carries their utilisation and memory, and lists them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import pages  # noqa: E402

pytestmark = pytest.mark.integration

UUIDS = [f"GPU-3f6a1c2e-0001-4c1e-9a51-00000000000{n}" for n in (1, 2, 3)]
VLLM = ("vllm", "meta-llama/Llama-3.3-70B-Instruct")


@pytest.fixture(scope="module")
def dcgm_exporter():
    """A DCGM exporter page without pod labels (a bare-metal node), on a free port of 127.0.0.1."""
    with pages.served(pages.without_pods(pages.read("dcgm")).encode()) as url:
        yield url


def test_snapshot_json_shows_the_models_gpus(fixture_pages, dcgm_exporter) -> None:
    argv = [sys.executable, "-m", "aitop", "snapshot", fixture_pages.url("vllm"), dcgm_exporter,
            "--format", "json", "--window", "2s"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)
    rows = {(row["schema"], row["group"]): row for row in data["rows"]}
    vllm = rows[VLLM]
    assert vllm["gpus"] == UUIDS
    assert vllm["gpu_count"] == 3
    assert vllm["gpu_utilization"] == pytest.approx((0.87 + 0.61 + 0.0) / 3)
    assert vllm["gpu_memory_used"] == 58000 and vllm["gpu_memory_ratio"] == pytest.approx(30000 / 40960)
    assert vllm["gpu_power"] == pytest.approx(580.75) and vllm["gpu_temperature"] == 71
    # the engine's own figures ride along (hand-computed in tests/data/expected.py)
    assert vllm["prefix_cache_hit_ratio"] == pytest.approx(0.25, rel=1e-3)
    assert {key for key in rows if key[0] == "dcgm"} == {("dcgm", uuid) for uuid in UUIDS}
    assert rows[("dcgm", UUIDS[1])]["gpu_utilization"] == pytest.approx(0.61)


GPU_FIELDS = ("gpu_count", "gpu_utilization", "gpu_memory_used", "gpu_memory_ratio", "gpu_power", "gpu_temperature")


@pytest.fixture(scope="module")
def gpu_prometheus(known, fixture_pages, dcgm_exporter, tmp_path_factory):
    """A real Prometheus of its own scraping, every second, the vLLM fixture page and the pod-less DCGM page:
    two exporters on one host (127.0.0.1), as a vLLM server and the node's DCGM exporter are."""
    binary = known.require_binary("prometheus")
    tmp = tmp_path_factory.mktemp("gpu-prometheus")
    port = known.free_port()
    dcgm = dcgm_exporter.removeprefix("http://").removesuffix("/metrics")
    config = known.write_scrape_config(tmp / "prometheus.yml", fixture_pages.instance("vllm"), {"dcgm": [dcgm]})
    server = known._Server("prometheus", [
        binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ], tmp / "prometheus.log", f"http://127.0.0.1:{port}")
    try:
        server.wait_ready("/-/ready")
        yield server.base_url
    finally:
        server.stop()


def test_prometheus_mode_joins_the_same_gpus_as_scrape_mode(known, gpu_prometheus, fixture_pages,
                                                            dcgm_exporter) -> None:
    """The Prometheus-mode GPU join (one `group by (…, instance, Hostname, …)` places query per schema) gives
    the vLLM row the GPUs scrape mode gives it, with the same figures, in `aitop snapshot --format json`."""
    counter = f'vllm:num_preemptions_total{{instance="{fixture_pages.instance("vllm")}"}}'
    deadline = time.monotonic() + 60
    while (known.history_seconds(gpu_prometheus, counter) < 6.0
           or not known.promql(gpu_prometheus, "DCGM_FI_DEV_GPU_UTIL")):
        assert time.monotonic() < deadline, "the GPU Prometheus holds under 6 s of both exporters after 60 s"
        time.sleep(0.25)

    def vllm_row(*targets: str) -> dict:
        argv = [sys.executable, "-m", "aitop", "snapshot", *targets, "--format", "json", "--window", "5s"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr[-2000:]
        return {(row["schema"], row["group"]): row for row in json.loads(done.stdout)["rows"]}[VLLM]

    served = vllm_row(gpu_prometheus, "--prometheus")
    scraped = vllm_row(fixture_pages.url("vllm"), dcgm_exporter)
    assert served["gpus"] == scraped["gpus"] == UUIDS
    assert served["gpu_count"] == 3
    for name in GPU_FIELDS:
        assert served[name] == pytest.approx(scraped[name], rel=1e-9), name
