"""The snapshot codec: lossless round trips (the demo fleet's whole incident cycle, and hand-made edge cases),
strict JSON, and a `CodecError` — never another exception — for other versions and for garbage."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import random
from collections.abc import Mapping

import pytest
from demo_fleet import STEP, FleetCollector

from aitop.codec import CODEC, CodecError, decode, encode
from aitop.demo import INCIDENTS, DemoFleet
from aitop.model import Alert, Collected, Missing, Row, Severity, Snapshot, TargetHealth
from aitop.monitor import Monitor

INF, NAN = math.inf, math.nan


def same(a: object, b: object, path: str = "snapshot") -> None:
    """`a` and `b` are equal field for field, and of the same types: NaN equals NaN, -0.0 is not 0.0, an int
    is not a float, a mapping keeps its order."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), path
        for field in dataclasses.fields(a):
            same(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    elif isinstance(a, Mapping):
        assert isinstance(b, Mapping) and list(a) == list(b), path
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, tuple):
        assert type(b) is tuple and len(a) == len(b), path
        for index, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{index}]")
    elif isinstance(a, float):
        assert type(b) is float, path
        assert (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b)), path
    else:
        assert type(a) is type(b) and a == b, (path, a, b)


def round_trip(snapshot: Snapshot) -> Snapshot:
    """Through strict JSON text, as a stream carries it."""
    text = json.dumps(encode(snapshot), allow_nan=False)
    back = decode(json.loads(text))
    assert json.dumps(encode(back), allow_nan=False) == text  # and it encodes to the same document again
    return back


async def _demo_cycle() -> list[Snapshot]:
    fleet = DemoFleet(seed=5)
    monitor = Monitor(FleetCollector(fleet), warmup=True)
    snapshots = []
    while fleet.sim_time < max(incident.end for incident in INCIDENTS) + 60:
        fleet.step(STEP)
        snapshots.append(await monitor.refresh())
    return snapshots


@pytest.fixture(scope="module")
def demo_snapshots() -> list[Snapshot]:
    return asyncio.run(_demo_cycle())


def test_every_snapshot_of_the_demo_cycle_round_trips_exactly(demo_snapshots):
    rows = [row for snapshot in demo_snapshots for row in snapshot.rows]
    # The cycle exercises what the codec must carry, so the round trips below are not vacuous.
    assert any(INF in (bound for bound, _ in buckets) for row in rows for buckets in row.distributions.values())
    assert any(row.missing for row in rows) and any(row.provenance for row in rows)
    assert any(row.warmup for row in rows) and any(row.severity for row in rows)
    assert {alert.state for snapshot in demo_snapshots for alert in snapshot.alerts} >= {"firing", "resolved"}
    assert any(snapshot.collected.rows for snapshot in demo_snapshots)
    for index, snapshot in enumerate(demo_snapshots):
        back = round_trip(snapshot)  # the same JSON text again: ints stay ints, -0.0 stays -0.0
        assert back == snapshot  # no NaN in the demo: plain equality holds
        if index % 10 == 0:  # and field for field, types too (slower)
            same(snapshot, back)


def _edge_row(group: str, **overrides: object) -> Row:
    values = {"request_rate": 1.5, "error_rate": None, "latency_p95": NAN, "latency_p99": INF, "ttft_p95": -INF,
              "cost_per_hour": -0.0, "running": 3, "kv_cache_usage": 5e-324, "waiting": 1.7976931348623157e308}
    row = Row(
        schema="vllm", group=group, group_label="model_name", values=values,
        missing={reason.name.lower(): reason for reason in Missing},
        errors_by_type={"timeout": 0.25, "5xx": 2},
        severity={"latency_p95": Severity.CRITICAL, "error_rate": Severity.WARNING, "request_rate": Severity.OK},
        stale=True,
        provenance={"latency_p95": 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{a="\\"b\\n"}[30s])))',
                    "ttft_p95": "ünïcode ✓ 👎 \x00\t"},
        distributions={"latency": ((0.1, 0.0), (1.0, 2.5), (INF, 3.0)), "ttft": ()},
        data_since=1_700_000_000.125, replicas=(1, 2), warmup=(12.5, 30.0), gpus=("GPU-1", "GPU-2"),
    )  # fmt: skip
    return dataclasses.replace(row, **overrides)


def _edge_snapshot() -> Snapshot:
    alert = Alert("a1", "latency_p95_critical", Severity.CRITICAL, "firing", "vllm", "m", "latency_p95", NAN, None,
                  1_700_000_000.0, "p95 latency 3.2s", resolution="clears after 30s", runbook="https://x/rb",
                  silenced_by=("s1", "s2"))  # fmt: skip
    backend = dataclasses.replace(alert, id="p", rule="prometheus:High", severity=Severity.WARNING, value=0.5,
                                  threshold=INF, silenced_by=())  # fmt: skip
    collected = Collected(
        taken_at=1_700_000_123.456, window_seconds=60, rows=(_edge_row("m"), _edge_row("n", data_since=None)),
        targets=(TargetHealth("http://p:9090", "prometheus", False, error="HTTP 503", last_success=None,
                              down_since=1_700_000_100.0, failures=7),),
        schemas=("vllm", "llm"), labels=("engine", "instance"), backend=None, warnings=("w1", "w2"),
        tls_verified=False, alerts=(backend,), model_rows=(), window_requested_seconds=30.0, clock_offset=-0.25,
        scrape_interval=None, failed_queries=(("up", "timeout", ("request_rate", "error_rate")), ("x", "", ())),
        at=1_699_999_000.0,
    )  # fmt: skip
    return Snapshot(collected=collected, source_kind="prometheus", source_targets=("http://p:9090",),
                    rows=(_edge_row("m", replicas=None, warmup=None),), alerts=(backend, alert), stale=True,
                    error="every target down", group_by="engine")  # fmt: skip


def test_hand_made_edge_cases_round_trip_field_for_field():
    snapshot = _edge_snapshot()
    back = round_trip(snapshot)
    same(snapshot, back)
    row = back.rows[0]
    assert row.values["error_rate"] is None and math.isnan(row.values["latency_p95"])
    assert row.missing_reason("error_rate") is Missing.NO_METRIC and row.missing["tls"] is Missing.TLS
    assert type(row.values["running"]) is int and row.distributions["latency"][-1] == (INF, 3.0)
    assert back.collected.model_rows == () and back.collected.backend is None and back.scrape_interval is None
    assert back.alerts[1].severity is Severity.CRITICAL and back.alerts[1].threshold is None


@pytest.mark.parametrize("variant", ["plain", "model_rows None", "made by hand", "not stale"])
def test_variants_of_the_optional_parts_round_trip(variant):
    snapshot = _edge_snapshot()
    if variant == "model_rows None":
        snapshot = dataclasses.replace(snapshot, collected=dataclasses.replace(snapshot.collected, model_rows=None))
    elif variant == "made by hand":  # the old keyword constructor: an empty `Collected` behind it
        snapshot = Snapshot(0, 30, "scrape", (), (), ())
    elif variant == "not stale":
        snapshot = dataclasses.replace(snapshot, stale=False, error=None, group_by=None)
    same(snapshot, round_trip(snapshot))


def _random_number(rng: random.Random) -> float | int:
    return rng.choice([
        rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randint(-300, 300), rng.randint(-2**62, 2**62), 0, -0.0,
        NAN, INF, -INF, 5e-324, 1.7976931348623157e308,
    ])  # fmt: skip


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice('ab"\\\n\x00é✓👎\ud800{}[],:') for _ in range(rng.randint(0, 8)))


def _random_row(rng: random.Random) -> Row:
    names = rng.sample(["request_rate", "error_rate", "latency_p95", "ttft_p95", "gpu_count", "x"], rng.randint(0, 6))
    return Row(
        schema=_random_text(rng), group=_random_text(rng), group_label=_random_text(rng),
        values={name: rng.choice([None, _random_number(rng)]) for name in names},
        missing={name: rng.choice(list(Missing)) for name in rng.sample(names, len(names) // 2)},
        errors_by_type={_random_text(rng): _random_number(rng) for _ in range(rng.randint(0, 3))},
        severity={name: rng.choice(list(Severity)) for name in names[:2]},
        stale=rng.random() < 0.5, provenance={name: _random_text(rng) for name in names[:3]},
        distributions={_random_text(rng): tuple((_random_number(rng), _random_number(rng)) for _ in range(3))},
        data_since=rng.choice([None, _random_number(rng)]),
        replicas=rng.choice([None, (rng.randint(0, 9), rng.randint(0, 9))]),
        warmup=rng.choice([None, (_random_number(rng), _random_number(rng))]),
        gpus=tuple(_random_text(rng) for _ in range(rng.randint(0, 2))),
    )  # fmt: skip


def test_random_snapshots_round_trip_field_for_field():
    rng = random.Random(4)
    for _ in range(200):
        alert = Alert(_random_text(rng), _random_text(rng), rng.choice(list(Severity)), "firing", "s", "g", "f",
                      rng.choice([None, _random_number(rng)]), rng.choice([None, _random_number(rng)]),
                      _random_number(rng), _random_text(rng), silenced_by=(_random_text(rng),))  # fmt: skip
        collected = Collected(
            _random_number(rng), _random_number(rng), tuple(_random_row(rng) for _ in range(rng.randint(0, 3))),
            (TargetHealth(_random_text(rng), "scrape", rng.random() < 0.5, rng.choice([None, _random_text(rng)]),
                          rng.choice([None, _random_number(rng)]), None, rng.randint(0, 99)),),
            (_random_text(rng),), alerts=(alert,) * rng.randint(0, 2),
            model_rows=rng.choice([None, (), (_random_row(rng),)]), clock_offset=_random_number(rng),
            failed_queries=((_random_text(rng), _random_text(rng), (_random_text(rng),)),) * rng.randint(0, 1),
        )  # fmt: skip
        snapshot = Snapshot(collected=collected, source_kind="scrape", source_targets=(_random_text(rng),),
                            rows=tuple(_random_row(rng) for _ in range(rng.randint(0, 3))), alerts=(alert,),
                            error=rng.choice([None, _random_text(rng)]), group_by=rng.choice([None, "engine"]))  # fmt: skip
        same(snapshot, round_trip(snapshot))


def test_the_document_names_its_version_and_enums_by_name():
    document = encode(_edge_snapshot())
    assert document["codec"] == CODEC == 1
    row = document["snapshot"]["rows"][0]
    assert row["missing"]["no_metric"] == "NO_METRIC" and row["severity"]["latency_p95"] == "CRITICAL"
    assert row["values"]["latency_p95"] == "NaN" and row["distributions"]["latency"][-1] == ["+Inf", 3.0]


@pytest.mark.parametrize(("document", "message"), [
    (None, 'not an aitop snapshot document (no "codec" version in null)'),
    ([1, 2], 'not an aitop snapshot document (no "codec" version in a list)'),
    ("{}", 'not an aitop snapshot document (no "codec" version in a string)'),
    ({"rows": []}, 'not an aitop snapshot document (no "codec" version in an object)'),
    ({"codec": 2, "snapshot": {}}, "snapshot codec version 2 is not readable here (this aitop reads 1)"),
    ({"codec": "1", "snapshot": {}}, "snapshot codec version '1' is not readable here (this aitop reads 1)"),
    ({"codec": True, "snapshot": {}}, "snapshot codec version True is not readable here (this aitop reads 1)"),
    ({"codec": 1}, "snapshot: expected an object, got null"),
    ({"codec": 1, "snapshot": {"collected": {}}}, "snapshot.collected: no 'taken_at'"),
])  # fmt: skip
def test_other_versions_and_garbage_say_what_is_wrong(document, message):
    with pytest.raises(CodecError) as caught:
        decode(document)
    assert str(caught.value) == message


def test_a_bad_value_deep_inside_names_its_place():
    document = encode(_edge_snapshot())
    document["snapshot"]["rows"][0]["values"]["request_rate"] = "fast"
    with pytest.raises(CodecError, match=r"^snapshot\.rows\[0\]\.values\.request_rate: expected a number, got a string$"):
        decode(document)
    document = encode(_edge_snapshot())
    document["snapshot"]["collected"]["rows"][1]["missing"]["tls"] = "TLS failure"  # the text, not the name
    with pytest.raises(CodecError, match=r"^snapshot\.collected\.rows\[1\]\.missing\.tls: 'TLS failure' is not a Missing"):
        decode(document)


def _places(node: object, path: tuple = ()) -> list[tuple]:
    """Every (container path, key or index) in a JSON document."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((path, key))
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((path, index))
            found += _places(value, (*path, index))
    return found


def test_damaged_documents_give_a_codec_error_or_a_snapshot_never_another_exception():
    original = encode(_edge_snapshot())
    places = _places(original)
    garbage = [None, "x", "NaN", 1.5, -1, True, [], {}, [1, 2], {"a": 1}, "CRITICAL"]
    rng = random.Random(16)
    outcomes = {"error": 0, "snapshot": 0}
    for _ in range(1500):
        document = json.loads(json.dumps(original))
        for _ in range(rng.choice((1, 1, 2, 3))):
            path, key = rng.choice(places)
            try:
                container = document
                for step in path:
                    container = container[step]
                if isinstance(container, dict) and rng.random() < 0.2:
                    del container[key]
                else:
                    container[key] = rng.choice(garbage)
            except (KeyError, IndexError, TypeError):  # an earlier damage removed that place
                continue
        try:
            snapshot = decode(document)
        except CodecError as exc:
            assert str(exc)
            outcomes["error"] += 1
        else:
            assert isinstance(snapshot, Snapshot)
            outcomes["snapshot"] += 1
    assert outcomes["error"] > 1000  # almost every damage is caught

