"""Production-like servers for test_production_prometheus.py: real Prometheus scraping every 15 s and every
60 s, Prometheus with query limits, Prometheus behind TLS, VictoriaMetrics with a series limit.

History without waiting: the known-answer exporter's values are a function of time (conftest's
`LinearCollector`), so the past is written as OpenMetrics with timestamps, one sample per scrape interval,
and loaded with `promtool tsdb create-blocks-from openmetrics` into the data directory before the server
starts (VictoriaMetrics: `/api/v1/import/prometheus`). The live scrapes then continue the same lines
(the exporter stamps the samples it serves to Prometheus), so rates over any window are the slopes.

Two small vLLM pages of different versions — V0 exposing `vllm:gpu_cache_usage_perc`, V1
`vllm:kv_cache_usage_perc` — are served in this process (gauges: no timing involved) for the mixed-fleet test.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client.utils import floatToGoString

#: The mixed fleet: {job page: (model, KV metric, KV value, running)}.
MIXED_FLEET = {
    "v0": ("llama-v0", "vllm:gpu_cache_usage_perc", 0.25, 3.0),
    "v1": ("llama-v1", "vllm:kv_cache_usage_perc", 0.75, 5.0),
}


def mixed_page(version: str) -> str:
    """One vLLM server's page: its running gauge and its version's KV-cache gauge."""
    model, kv, usage, running = MIXED_FLEET[version]
    return (
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
        "# TYPE vllm:num_requests_running gauge\n"
        f'vllm:num_requests_running{{model_name="{model}"}} {running}\n'
        "# HELP {kv} KV-cache usage. 1 means 100 percent usage.\n".replace("{kv}", kv)
        + f"# TYPE {kv} gauge\n"
        f'{kv}{{model_name="{model}"}} {usage}\n'
    )


class _PageHandler(BaseHTTPRequestHandler):
    page = ""

    def do_GET(self):  # noqa: N802 - http.server's name
        body = self.page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002
        pass


@dataclass
class Page:
    server: ThreadingHTTPServer
    target: str

    @property
    def url(self) -> str:
        return f"http://{self.target}/metrics"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_page(text: str) -> Page:
    handler = type("Handler", (_PageHandler,), {"page": text})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return Page(server, f"127.0.0.1:{server.server_port}")


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def openmetrics_history(known, t0: float, times: Sequence[float], job: str, instance: str,
                        pages: Mapping[str, tuple[str, str]] = {}) -> str:  # noqa: B006 - read only
    """OpenMetrics text of the known-answer exporter at each of `times` (labelled as the scrape job
    `job` labels it), plus the static `pages` ({job: (instance, page text)}) at the same times."""
    families: dict[str, tuple[str, dict[str, list[str]]]] = {}

    def add(name: str, kind: str, sample: str, labels: Mapping[str, str], value: float, t: float) -> None:
        series = families.setdefault(name, (kind, {}))[1].setdefault(sample + _labels(labels), [])
        series.append(f"{sample}{_labels(labels)} {floatToGoString(value)} {t:.3f}")

    for t in times:
        for family in known.LinearCollector(t0, clock=lambda t=t: t).collect():
            for s in family.samples:
                add(family.name, family.type, s.name, {**s.labels, "job": job, "instance": instance}, s.value, t)
        for page_job, (page_instance, text) in pages.items():
            kind = "gauge"
            for line in text.splitlines():
                if line.startswith("# TYPE "):
                    _, _, name, kind = line.split()
                elif line and not line.startswith("#"):
                    head, value = line.rsplit(" ", 1)
                    name, _, rest = head.partition("{")
                    labels = dict(pair.split("=", 1) for pair in rest.rstrip("}").split(",") if pair)
                    labels = {k: v.strip('"') for k, v in labels.items()}
                    add(name, kind, name, {**labels, "job": page_job, "instance": page_instance}, float(value), t)
    out = []
    for name, (kind, series) in families.items():
        out.append(f"# TYPE {name} {kind}")
        for lines in series.values():
            out += lines
    return "\n".join(out) + "\n# EOF\n"


def backfill(promtool: str, text: str, data_dir: Path) -> None:
    """Write `text` (OpenMetrics with timestamps) as TSDB blocks into `data_dir`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / "history.om"
    source.write_text(text)
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
                   check=True, capture_output=True, timeout=120)


def scrape_config(path: Path, interval: str, jobs: Mapping[str, Iterable[str]]) -> Path:
    """A scrape config with one interval for every job ({job: targets})."""
    text = f"global:\n  scrape_interval: {interval}\n  scrape_timeout: 5s\nscrape_configs:\n"
    for job, targets in jobs.items():
        text += (f"  - job_name: {job}\n    honor_timestamps: true\n    static_configs:\n"
                 f"      - targets: [{', '.join(repr(t) for t in targets)}]\n")
    path.write_text(text)
    return path


def self_signed(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made with the openssl CLI."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def many_models_history(models: int, times: Sequence[float], edges: Sequence[float] = (0.5, 1, 2, 4, 8)) -> str:
    """OpenMetrics of an `llm_*` app serving `models` models (1 request/s each, no errors): enough series
    that a histogram query cannot finish within a 1 ms `--query.timeout`."""
    requests, buckets, counts, sums = [], [], [], []
    for m in range(models):
        model = f"model-{m:04d}"
        for t in times:
            n = t - times[0] + 1000.0
            requests.append(f'llm_requests_total{{model="{model}",status="success"}} {n} {t:.3f}')
            for i, edge in enumerate((*edges, "+Inf")):
                bound = edge if edge == "+Inf" else f"{float(edge)}"
                buckets.append(f'llm_request_latency_seconds_bucket{{le="{bound}",model="{model}"}} '
                               f"{n * min(1.0, (i + 1) / len(edges))} {t:.3f}")
            counts.append(f'llm_request_latency_seconds_count{{model="{model}"}} {n} {t:.3f}')
            sums.append(f'llm_request_latency_seconds_sum{{model="{model}"}} {n} {t:.3f}')
    return "\n".join(["# TYPE llm_requests counter", *requests, "# TYPE llm_request_latency_seconds histogram",
                      *buckets, *counts, *sums, "# EOF"]) + "\n"


def inf_only_history(model: str, times: Sequence[float], per_second: float) -> str:
    """OpenMetrics of an OTel GenAI server histogram exported without explicit bounds (only `le="+Inf"`),
    `per_second` requests a second."""
    buckets, counts, sums = [], [], []
    labels = f'gen_ai_request_model="{model}"'
    for t in times:
        n = (t - times[0]) * per_second + 100.0
        buckets.append(f'gen_ai_server_request_duration_seconds_bucket{{{labels},le="+Inf"}} {n} {t:.3f}')
        counts.append(f"gen_ai_server_request_duration_seconds_count{{{labels}}} {n} {t:.3f}")
        sums.append(f"gen_ai_server_request_duration_seconds_sum{{{labels}}} {n * 0.8} {t:.3f}")
    return "\n".join(["# TYPE gen_ai_server_request_duration_seconds histogram", *buckets, *counts, *sums,
                      "# EOF"]) + "\n"
