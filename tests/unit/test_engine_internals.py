"""Engine internals: goodput's bucket bound (and the target rounded down), the config's targets and GPU host
mapping, ratio fields, and the GPU join in Prometheus mode (pod first, else host, never a row of its own)."""

from __future__ import annotations

import pytest
from helpers import histogram, series, window_of

from aitop import gpus
from aitop.analysis.settings import ConfigError
from aitop.catalog import builtin_schemas
from aitop.config import build_config
from aitop.engine_config import EngineSettings, apply_engine
from aitop.engine_fields import GOODPUT_TARGETS
from aitop.model import Missing
from aitop.rows import RowBuilder, TargetData
from aitop.sources.prometheus.results import assemble_rows
from aitop.sources.prometheus.promql import instant_queries, places_queries, plan_schemas


@pytest.fixture(autouse=True)
def default_targets():
    apply_engine(EngineSettings())
    yield
    apply_engine(EngineSettings())  # the defaults again: 1 s, 50 ms, no host mapping


def vllm_row(ttft_buckets, model="m"):
    """One vLLM row from two scrapes 10 s apart whose TTFT buckets grew by `ttft_buckets` (cumulative, by le)."""
    total = ttft_buckets["+Inf"]
    first = {series("vllm:request_success_total", model_name=model, finished_reason="stop"): 0.0,
             **histogram("vllm:time_to_first_token_seconds", {le: 0.0 for le in ttft_buckets}, model_name=model)}
    second = {series("vllm:request_success_total", model_name=model, finished_reason="stop"): total,
              **histogram("vllm:time_to_first_token_seconds", ttft_buckets, model_name=model)}
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData("10.0.0.5:8000", window_of((0.0, first), (10.0, second)), True))
    (row,) = builder.rows()
    return row


BUCKETS = {"0.25": 300.0, "0.5": 700.0, "0.75": 900.0, "2.5": 990.0, "+Inf": 1000.0}


def test_goodput_reads_the_bucket_at_the_target_and_says_so():
    apply_engine(EngineSettings(goodput_ttft=0.5))
    row = vllm_row(BUCKETS)
    assert row.value("goodput_ttft") == pytest.approx(700 / 1000)
    line = row.provenance["goodput_ttft"]
    assert line.startswith('sum(rate(vllm:time_to_first_token_seconds_bucket{le="0.5"}[10s])) / '
                           "sum(rate(vllm:time_to_first_token_seconds_count[10s]))")
    assert "rounded down" not in line


def test_a_target_between_bounds_is_rounded_down_and_said():
    row = vllm_row(BUCKETS)  # default 1 s: between 0.75 and 2.5
    assert row.value("goodput_ttft") == pytest.approx(900 / 1000)
    assert "target 1s lies between bucket bounds: rounded down to le=0.75" in row.provenance["goodput_ttft"]


def test_a_target_below_every_bound_gives_no_goodput():
    apply_engine(EngineSettings(goodput_ttft=0.1))
    row = vllm_row(BUCKETS)
    assert row.value("goodput_ttft") is None
    assert row.provenance["goodput_ttft"] == "no bucket bound at or below the target 0.1s"


def test_config_sections(tmp_path):
    path = tmp_path / "aitop.toml"
    path.write_text('[goodput]\nttft = "800ms"\ntpot = 0.1\n[gpus.hosts]\n"10.0.0.5" = "gpu-node-1"\n')
    config = build_config(["http://x:1/metrics"], config_file=path)
    assert config.engine == EngineSettings(goodput_ttft=0.8, goodput_tpot=0.1, gpu_hosts=(("10.0.0.5", "gpu-node-1"),))
    apply_engine(config.engine)
    assert GOODPUT_TARGETS == {"goodput_ttft": 0.8, "goodput_tpot": 0.1} and gpus.HOST_ALIASES == {"10.0.0.5": "gpu-node-1"}
    path.write_text('[goodput]\nttft = "fast"\n')
    with pytest.raises(ConfigError, match="goodput.ttft"):
        build_config(["http://x:1/metrics"], config_file=path)
    path.write_text('[gpus]\nnodes = 1\n')
    with pytest.raises(ConfigError, match="gpus.nodes: unknown key"):
        build_config(["http://x:1/metrics"], config_file=path)


def vector(*pairs):
    return [{"metric": labels, "value": [0, str(value)]} for labels, value in pairs]


def prometheus_rows(places_answer, gpu_labels):
    names = {"vllm:num_requests_running", "vllm:request_success_total", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED"}
    plans = plan_schemas(builtin_schemas(), names)
    queries = [q for plan in plans for q in instant_queries(plan, window=30, group_by=None)]
    places = places_queries(plans, group_by=None)
    assert {q.schema for q in places} == {"vllm", "dcgm"}
    answered = {}
    for query in queries:
        if query.schema == "vllm" and query.concept == "running":
            answered[query] = (vector(({"model_name": "llama"}, 4)), None)
        elif query.schema == "dcgm" and query.concept == "gpu_utilization":
            answered[query] = (vector(({"UUID": "GPU-a"}, 90), ({"UUID": "GPU-b"}, 30)), None)  # percent
    for query in places:
        rows = places_answer if query.schema == "vllm" else gpu_labels
        answered[query] = (vector(*((labels, 1) for labels in rows)), None)
    rows, _ = assemble_rows(plans, answered, {}, None)
    return {row.key: row for row in rows}


def test_prometheus_mode_joins_by_pod_first_and_places_make_no_rows():
    rows = prometheus_rows(
        [{"model_name": "llama", "instance": "10.1.0.7:8000", "namespace": "ai", "pod": "llama-0"},
         {"model_name": "ghost", "instance": "10.1.0.9:8000"}],  # places alone never make a row
        [{"UUID": "GPU-a", "instance": "10.1.0.2:9400", "namespace": "ai", "pod": "llama-0", "Hostname": "n1"},
         {"UUID": "GPU-b", "instance": "10.1.0.7:9400", "namespace": "ai", "pod": "other-0", "Hostname": "n1"}])
    assert set(rows) == {("vllm", "llama"), ("dcgm", "GPU-a"), ("dcgm", "GPU-b")}
    llama = rows[("vllm", "llama")]
    assert llama.gpus == ("GPU-a",)  # GPU-b shares the host but belongs to another pod
    assert llama.value("gpu_utilization") == pytest.approx(0.9) and llama.value("gpu_count") == 1
    assert "on the same pod" in llama.provenance["gpu_utilization"]


def test_host_mapping_from_the_config_joins_differently_named_hosts():
    model = [{"model_name": "llama", "instance": "10.1.0.7:8000"}]
    gpu = [{"UUID": "GPU-a", "instance": "10.9.9.9:9400", "Hostname": "gpu-node-1"}]
    assert prometheus_rows(model, gpu)[("vllm", "llama")].gpus == ()
    apply_engine(EngineSettings(gpu_hosts=(("10.1.0.7", "gpu-node-1"),)))
    joined = prometheus_rows(model, gpu)[("vllm", "llama")]
    assert joined.gpus == ("GPU-a",) and "on the same host" in joined.provenance["gpu_count"]


def test_no_places_query_without_gpus_on_the_server():
    plans = plan_schemas(builtin_schemas(), {"vllm:num_requests_running", "vllm:request_success_total"})
    assert places_queries(plans, group_by=None) == []


def test_host_of_instances():
    assert gpus.host_of("10.0.0.5:8000") == "10.0.0.5"
    assert gpus.host_of("[::1]:9400") == "[::1]"
    assert gpus.host_of("gpu-node-1") == "gpu-node-1"


def test_length_cut_share_is_zero_when_no_answer_was_cut():
    def page(done):
        return {series("vllm:request_success_total", model_name="m", finished_reason="stop"): done,
                series("vllm:num_requests_running", model_name="m"): 1.0}

    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData("h:1", window_of((0.0, page(0.0)), (10.0, page(100.0))), True))
    (row,) = builder.rows()
    assert row.value("length_cut_ratio") == 0.0
    assert row.missing_reason("prefix_cache_hit_ratio") is Missing.NO_METRIC


def test_history_keeps_the_traffic_fields_only():
    """The ring buffers record the 18 traffic fields: 22 engine and GPU fields more would more than double
    their memory (500 rows × 720 recordings: 52 MB → 115 MB)."""
    from aitop.model import TRAFFIC_FIELDS, Snapshot
    from aitop.history import RECORDED_NAMES, History

    row = vllm_row(BUCKETS)
    history = History()
    history.record(Snapshot(100.0, 10.0, "scrape", (), (), (row,)))
    assert history.series(row.key, "request_rate") == ((100.0, row.value("request_rate")),)
    assert history.series(row.key, "goodput_ttft") == ()
    assert tuple(spec.name for spec in TRAFFIC_FIELDS) == RECORDED_NAMES and len(RECORDED_NAMES) == 18


def scrape_rows(*targets: tuple[str, dict]) -> dict:
    """Rows of one scrape of each (instance, samples) target, gauges only."""
    builder = RowBuilder(builtin_schemas())
    for instance, samples in targets:
        builder.add_target(TargetData(instance, window_of((0.0, samples)), True))
    return {row.key: row for row in builder.rows()}


def triton_page(model: str, *uuids: str) -> dict:
    page = {series("nv_inference_request_success", model=model, version="1"): 10.0,
            series("nv_inference_request_failure", model=model, version="1", reason="OTHER"): 0.0}
    for uuid in uuids:
        page |= {series("nv_gpu_utilization", gpu_uuid=uuid): 0.5,
                 series("nv_gpu_memory_used_bytes", gpu_uuid=uuid): 2.0 ** 30,
                 series("nv_gpu_memory_total_bytes", gpu_uuid=uuid): 2.0 ** 32}
    return page


def test_tritons_gpus_join_the_rows_of_their_own_server_only():
    """Triton names its GPUs only: they are the rows of the Triton server reporting them (not of another server
    on the host), in MiB and with used / total as the memory share."""
    rows = scrape_rows(("10.0.0.5:8000", triton_page("bert", "GPU-t1")), ("10.0.0.5:8001", triton_page("gpt", "GPU-t2")))
    bert = rows[("triton", "bert")]
    assert bert.gpus == ("GPU-t1",) and rows[("triton", "gpt")].gpus == ("GPU-t2",)
    assert bert.value("gpu_memory_used") == pytest.approx(1024.0) and bert.value("gpu_memory_ratio") == 0.25
    assert "same server (the server's own GPU gauges)" in bert.provenance["gpu_utilization"]


def test_a_dcgm_row_of_the_same_gpu_stands_for_tritons():
    dcgm = {series(name, UUID="GPU-t1", gpu="0", Hostname="h"): value
            for name, value in (("DCGM_FI_DEV_GPU_UTIL", 90.0), ("DCGM_FI_DEV_FB_USED", 3000.0),
                                ("DCGM_FI_DEV_FB_FREE", 1000.0))}
    rows = scrape_rows(("10.0.0.5:8000", triton_page("bert", "GPU-t1")), ("10.0.0.5:9400", dcgm))
    bert = rows[("triton", "bert")]
    assert bert.gpus == ("GPU-t1",) and bert.value("gpu_count") == 1  # once, not once per exporter
    assert bert.value("gpu_utilization") == pytest.approx(0.9)  # DCGM's reading
