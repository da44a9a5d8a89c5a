"""A vLLM + DCGM fleet: the model row shows its GPUs' utilisation and memory in the overview, the drill-down
and the JSON, from rows built by the real row builder over the fixture pages (vLLM on 10.0.0.5:8000, the
DCGM exporter on 10.0.0.5:9400, no pod labels: the GPUs join by host)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ui_fakes import collected, settle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import pages  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas  # noqa: E402
from aitop.model import Snapshot  # noqa: E402
from aitop.output import snapshot_to_dict  # noqa: E402
from aitop.rows import RowBuilder, TargetData  # noqa: E402
from aitop.sources.scrape.exposition import parse  # noqa: E402
from aitop.store import TargetWindow  # noqa: E402
from aitop.ui.screens import DetailScreen  # noqa: E402
from aitop.ui.widgets import TopTable  # noqa: E402

VLLM = ("vllm", "meta-llama/Llama-3.3-70B-Instruct")
UUIDS = [f"GPU-3f6a1c2e-0001-4c1e-9a51-00000000000{n}" for n in (1, 2, 3)]
WIDE = (240, 40)  # the GPU columns are the last to fit


def _window(text: str) -> TargetWindow:
    window = TargetWindow(30.0)
    for i, page in enumerate((text, pages.scaled(text, 2.0))):
        window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(page, "text/plain", NameFilter(builtin_schemas())).samples)
    return window


def fleet_rows(dcgm_instance: str = "10.0.0.5:9400"):
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData("10.0.0.5:8000", _window(pages.read("vllm")), True))
    builder.add_target(TargetData(dcgm_instance, _window(pages.without_pods(pages.read("dcgm"))), True))
    return builder.rows()


def test_gpus_join_the_model_on_their_host_and_not_elsewhere() -> None:
    rows = {row.key: row for row in fleet_rows()}
    vllm = rows[VLLM]
    assert vllm.gpus == tuple(UUIDS)
    assert vllm.value("gpu_count") == 3
    assert vllm.value("gpu_utilization") == pytest.approx((0.87 + 0.61 + 0.0) / 3)
    assert vllm.value("gpu_memory_used") == 30000 + 28000 + 0
    assert vllm.value("gpu_memory_ratio") == pytest.approx(30000 / 40960)  # the fullest GPU
    assert vllm.value("gpu_power") == pytest.approx(285.5 + 240.25 + 55.0)
    assert vllm.value("gpu_temperature") == 71
    assert "mean of 3 GPUs on the same host (NVIDIA DCGM exporter)" in vllm.provenance["gpu_utilization"]
    elsewhere = {row.key: row for row in fleet_rows("10.0.0.9:9400")}[VLLM]  # another host: no GPUs
    assert elsewhere.gpus == () and elsewhere.value("gpu_utilization") is None


def test_pod_labelled_gpus_join_only_their_pod() -> None:
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData("10.0.0.5:8000", _window(pages.read("vllm")), True))
    builder.add_target(TargetData("10.0.0.5:9400", _window(pages.read("dcgm")), True))  # pods vllm-llama-0, embedder-0
    vllm = {row.key: row for row in builder.rows()}[VLLM]
    assert vllm.gpus == () and vllm.value("gpu_count") is None  # the vLLM series carry no pod label


def test_json_lists_the_rows_gpus_and_their_figures() -> None:
    rows = fleet_rows()
    data = snapshot_to_dict(Snapshot(taken_at=0.0, window_seconds=10.0, source_kind="scrape", source_targets=(),
                                     targets=(), rows=tuple(rows)))
    vllm = next(row for row in data["rows"] if (row["schema"], row["group"]) == VLLM)
    assert vllm["gpus"] == UUIDS
    assert vllm["gpu_utilization"] == pytest.approx(1.48 / 3) and vllm["gpu_memory_used"] == 58000
    gpu = next(row for row in data["rows"] if row["group"] == UUIDS[0])
    assert gpu["schema"] == "dcgm" and gpu["gpu_utilization"] == pytest.approx(0.87)


async def test_overview_and_drill_down_show_the_models_gpus(make_app) -> None:
    app = make_app([collected(fleet_rows(), schemas=("dcgm", "vllm"))])
    async with app.run_test(size=WIDE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        await pilot.press("v", "v")  # the engineers' view (overview → cost → latency) lists the GPUs early
        assert await settle(pilot, lambda: "gpu_utilization" in [column.key for column in table.shown_columns])
        shown = [column.key for column in table.shown_columns]
        assert "gpu_utilization" in shown and "gpu_memory_ratio" in shown
        key = "vllm\x1fmeta-llama/Llama-3.3-70B-Instruct"
        assert table.get_cell(key, "gpu_utilization").plain.strip() == "49.3%"
        assert table.get_cell(key, "gpu_memory_ratio").plain.strip() == "73.2%"
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.key == VLLM
        fields = screen.query_one("#fields")
        assert fields.get_row("gpu_utilization")[1].plain.strip() == "49.3%"
        assert fields.get_row("gpu_memory_used")[1].plain.strip() == "58,000"
        gpus = screen.query_one("#gpus")
        lines = [[cell.plain for cell in gpus.get_row_at(i)] for i in range(gpus.row_count)]
        assert [line[0] for line in lines] == UUIDS
        assert lines[0][1:] == ["87.0%", "73.2%"] and lines[1][1:] == ["61.0%", "68.4%"]
        assert lines[2][1:] == ["0.0%", "0.0%"]  # an idle GPU is 0, not unknown
