"""The regex fast path for classic text gives exactly what prometheus_client's text parser gives.

Every case is parsed twice — as shipped, and with the fast path switched off — and the two outcomes must
be identical: the same samples (names, label sets, values down to the sign of zero) or the same error.
"""

import math
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from pages import ALL, read  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas
from aitop.sources.scrape import exposition
from aitop.sources.scrape.exposition import ExpositionError, SeriesKeys, parse

WANTED = NameFilter(builtin_schemas())
M = "vllm:num_requests_running"
C = "vllm:request_success"
H = "vllm:e2e_request_latency_seconds"

CASES = [
    f'{M}{{model_name="m"}} 3\n',
    f'{M}{{model_name="m"}} 3 1700000000000\n',
    f'{M}{{model_name="m"}}   3   1700000000000  \n',
    f'{M}{{model_name="m",}} 3\n',
    f'{M}{{}} 3\n',
    f'{M} 3\n',
    f'{M}{{model_name="m"}} -0\n',
    f'{M}{{model_name="m"}} -0.0\n',
    f'{M}{{model_name="m"}} +0\n',
    f'{M}{{model_name="m"}} 1e999\n',
    f'{M}{{model_name="m"}} {"9" * 400}\n',
    f'{M}{{model_name="m"}} {"9" * 300}\n',
    f'{M}{{model_name="m"}} NaN\n',
    f'{M}{{model_name="m"}} -nan\n',
    f'{M}{{model_name="m"}} +Inf\n',
    f'{M}{{model_name="m"}} 1_000\n',
    f'{M}{{model_name="m"}} 0x10\n',
    f'{M}{{model_name="m"}} 1 2 3\n',
    f'{M}{{model_name="m"}} 1\t2\n',
    f'{M}{{model_name="m"}}\t1\n',
    f'{M}{{model_name="m"}}1\n',
    f'{M} {{model_name="m"}} 1\n',
    f'{M}{{model_name="m\\"x"}} 1\n',
    f'{M}{{model_name="a\\\\b\\nc"}} 1\n',
    f'{M}{{model_name="a,b=c}}d"}} 1\n',
    f'{M}{{model_name="m",model_name="n"}} 1\n',
    f'{M}{{__name__="x",model_name="m"}} 1\n',
    f'{M}{{__x="1"}} 1\n',
    f'{M}{{a:b="1"}} 1\n',
    f'{M}{{ model_name = "m" }} 1\n',
    f'{M}{{model_name="ü ✓"}} 1\n',
    f'{M}{{model_name="m"}} 1 # {{trace_id="a"}} 1\n',
    f'{M}{{model_name="m"}} 1\xa0\n',
    f'{M}{{model_name="m"}} 1 -1\n',
    f'{M}{{model_name="m"}} 1 {"1" * 25}\n',
    f"# TYPE {C} counter\n{C}{{model_name=\"m\"}} 4\n{C}_total{{model_name=\"m\"}} 5\n",
    f"# TYPE {C}_total counter\n{C}_total{{model_name=\"m\"}} 4\n",
    f"# TYPE {C} counter\n{C}{{model_name=\"m\"}} 4\n# TYPE {C} gauge\n{C}{{model_name=\"n\"}} 5\n",
    f"# TYPE {C} counter\n{M} 1\n{C}{{model_name=\"m\"}} 4\n",
    f"# TYPE {C} counter extra\n{C}{{model_name=\"m\"}} 4\n",
    f"# TYPE {C}\xa0counter\n{C}{{model_name=\"m\"}} 4\n",
    f"# TYPE \"{C}\" counter\n{C}{{model_name=\"m\"}} 4\n",
    f"# TYPE {C}\n{C}{{model_name=\"m\"}} 4\n",
    f"# TYPE\t{C}\tcounter\n{C}{{model_name=\"m\"}} 4\n",
    f"# UNIT {H} seconds\n# TYPE {H} histogram\n{H}_bucket{{le=\"1\"}} 1\n{H}_count 1\n{H}_sum 0.5\n"
    f"{H}_created 1.7e9\n{H} 3\n# EOF\n",
    f"# TYPE {H} summary\n{H}{{quantile=\"0.5\"}} 1\n{H}_count 1\n{H}_sum 0.5\n",
    f"# TYPE {H} gauge\n{H}_bucket{{le=\"1\"}} 1\n",
    f"# HELP {C} help\n# TYPE {C} counter\n{C} 1\n",
    f"# EOF\n{M} 1\n",
    "# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total 1\n",
    f"# TYPE {C} counte=r\n{C}{{model_name=\"m\"}} 4\n",
    "# TYPE _total counter\n_total 1\n",
    '{"vllm:num_requests_running"} 1\n',
]


def outcome(body: str, content_type: str = "text/plain; version=0.0.4"):
    try:
        samples = parse(body, content_type, WANTED).samples
    except ExpositionError as exc:
        return ("error", str(exc))
    # repr() tells -0.0 from 0.0 and keeps NaN comparable
    return ("ok", [(key, repr(value)) for key, value in samples.items()])


def both(body: str, monkeypatch) -> tuple:
    fast = outcome(body)
    with monkeypatch.context() as patched:
        patched.setattr(exposition, "_parse_plain", lambda lines, keys: None)
        reference = outcome(body)
    return fast, reference


@pytest.mark.parametrize("body", CASES)
def test_tricky_lines_match_the_text_parser(body, monkeypatch):
    fast, reference = both(body, monkeypatch)
    assert fast == reference


@pytest.mark.parametrize("name", ALL)
def test_fixture_pages_match_the_text_parser(name, monkeypatch):
    fast, reference = both(read(name), monkeypatch)
    assert fast == reference and fast[0] == "ok"


def test_fixture_pages_take_the_fast_path(monkeypatch):
    # Guard against a fast path that silently always falls back: the plain fixtures must not need it.
    calls = []
    monkeypatch.setattr(exposition, "parse_text", lambda text: calls.append(text) or iter(()))
    parse(read("vllm"), "text/plain", WANTED)
    assert calls == []


def test_random_mutations_match_the_text_parser(monkeypatch):
    rng = random.Random(8)
    base = read("vllm").splitlines()
    pieces = [" ", "\t", '"', "\\", "{", "}", ",", "=", "#", "_", "-", "e", "0", "Inf", "\xa0", "__"]
    for _ in range(150):
        lines = list(base)
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(lines))
            line = lines[index]
            at = rng.randrange(len(line) + 1)
            cut = rng.choice((0, 0, 1))
            lines[index] = line[:at] + rng.choice(pieces) + line[at + cut:]
        body = "\n".join(lines) + "\n"
        fast, reference = both(body, monkeypatch)
        assert fast == reference, body


def test_nan_values_survive():
    samples = parse(f'{M}{{model_name="m"}} NaN\n', "text/plain", WANTED).samples
    assert math.isnan(samples[(M, (("model_name", "m"),))])


def test_series_keys_are_reused_across_scrapes_and_hold_only_the_latest_one():
    page = lambda models: "".join(  # noqa: E731
        f'vllm:num_requests_running{{model_name="{m}"}} 1\n' for m in models
    )
    keys = SeriesKeys()
    first = parse(page(["a", "b"]), "text/plain", WANTED, keys).samples
    second = parse(page(["a", "c"]), "text/plain", WANTED, keys).samples
    key_a = next(k for k in first if k[1] == (("model_name", "a"),))
    assert next(k for k in second if k[1] == (("model_name", "a"),)) is key_a  # the same object, not re-parsed
    assert sorted(keys.known) == ['vllm:num_requests_running{model_name="a"}', 'vllm:num_requests_running{model_name="c"}']
    for n in range(50):  # label churn: the cache follows the live series, not every label set ever seen
        parse(page([f"m{n}", f"m{n + 1}"]), "text/plain", WANTED, keys)
    assert len(keys.known) == 2
