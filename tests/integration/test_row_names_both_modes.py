"""A series without the schema's model label names the same row in both modes: its target.

Scrape mode names such a series by the target it was scraped from (`aitop.accumulator.group_of`); Prometheus
mode must name it by the same target, its `instance` label, in the PromQL itself (`sum by (model_name)`
drops `instance`). The real PromQL engine (`promtool test rules`) evaluates the queries aitop sends over the
series scrape mode read, and the rows each query answers for must be the rows scrape mode built.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import pages  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas  # noqa: E402
from aitop.rows import RowBuilder, TargetData  # noqa: E402
from aitop.sources.exposition import parse  # noqa: E402
from aitop.sources.promql import instant_queries, plan_schemas  # noqa: E402
from aitop.store import TargetWindow  # noqa: E402

pytestmark = pytest.mark.integration

TARGET = "vllm-1:8000"
LABEL = 'model_name="meta-llama/Llama-3.3-70B-Instruct"'
#: Concepts whose queries are checked: a counter, a histogram's quantiles, a gauge (sum and max).
CONCEPTS = ("requests", "latency", "running", "kv_cache")


def _page() -> str:
    """The vLLM fixture with every vLLM series repeated without `model_name` (an engine started without a
    served model name in its labels, beside one with it)."""
    out = []
    for line in pages.read("vllm").splitlines():
        out.append(line)
        if line.startswith("vllm:") and LABEL in line:
            out.append(line.replace(LABEL + ",", "").replace("," + LABEL, "").replace("{" + LABEL + "}", ""))
    return "\n".join(out) + "\n"


def _samples(text: str) -> dict:
    return parse(text, "text/plain; version=0.0.4; charset=utf-8", NameFilter(builtin_schemas())).samples


def _scrape_rows(first: dict, second: dict) -> set[str]:
    window = TargetWindow(30.0)
    window.add(0.0, 1_754_990_000.0, first)
    window.add(10.0, 1_754_990_010.0, second)
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData(TARGET, window, True))
    return {row.group for row in builder.rows() if row.schema == "vllm"}


def _series(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    every = {**dict(labels), "instance": TARGET, "job": "vllm"}
    return name + "{" + ",".join(f'{k}={json.dumps(v)}' for k, v in sorted(every.items())) + "}"


def test_a_series_without_the_model_label_names_the_same_row_in_both_modes(known, tmp_path):
    promtool = known.require_binary("promtool")
    text = _page()
    first, second = _samples(text), _samples(pages.scaled(text, 2.0))
    rows = _scrape_rows(first, second)
    assert rows == {"meta-llama/Llama-3.3-70B-Instruct", TARGET}  # the page does hold both kinds of series

    (plan,) = [p for p in plan_schemas(builtin_schemas(), {key[0] for key in first}) if p.schema.name == "vllm"]
    queries = [q for q in instant_queries(plan, window=30, group_by=None) if q.concept in CONCEPTS]
    assert {q.concept for q in queries} == set(CONCEPTS)
    test = {
        "evaluation_interval": "10s",
        "tests": [{
            "interval": "10s",
            "input_series": [{"series": _series(*key), "values": f"{first[key]!r} {second.get(key, first[key])!r}"}
                             for key in first],
            "promql_expr_test": [{
                "expr": f"group by (model_name) ({q.expr})",
                "eval_time": "10s",
                "exp_samples": [{"labels": "{" + f"model_name={json.dumps(row)}" + "}", "value": 1} for row in sorted(rows)],
            } for q in queries],
        }],
    }
    (tmp_path / "names.yml").write_text(json.dumps(test))  # JSON is YAML
    tested = subprocess.run([promtool, "test", "rules", "names.yml"], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
