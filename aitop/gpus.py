"""GPUs beside the models they serve: the NVIDIA DCGM exporter's rows (and Triton's own GPU rows) joined to
the model rows.

The `dcgm` catalog schema gives one row per GPU (utilisation, frame-buffer memory, power, temperature).
Each row, GPU or model, also knows its *places*: the host of every target (scrape mode) or `instance`
(Prometheus mode) behind it, the `Hostname` label, and `namespace/pod` where the series carry them. A GPU
belongs to the model rows that share its pod when it has one (DCGM's pod-resources mapping names the pod
using the GPU), else to those on its host. Where a model's host and its GPUs' host are spelled differently (a
Kubernetes node name against a pod IP), the `[gpus] hosts` table of the config file maps one to the other.
Triton's GPU gauges (`triton_gpu`) name only the GPU: they belong to the rows of the Triton server that
reports them (the same target), and a DCGM row of the same GPU replaces them.

A model row then shows how many GPUs it runs on, their mean utilisation, the memory used (sum) and the
fullest GPU's memory share, the power drawn (sum) and the hottest GPU's temperature; `e` lists the GPUs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from aitop.explanations import under_lines, with_lines
from aitop.model import Missing, Row, row_with

GPU_SCHEMA = "dcgm"
#: Schemas whose rows are GPUs. A server's own GPU gauges (Triton's) belong to that server's rows alone (the
#: same target), not to every model on the host; a DCGM row of the same GPU (UUID) is preferred to them.
GPU_SCHEMAS = (GPU_SCHEMA, "triton_gpu")
TARGET_GPU_SCHEMAS = frozenset({"triton_gpu"})
#: Labels that place a series: the node it runs on, and the pod (with its namespace).
HOST_LABELS = ("Hostname", "hostname", "node")
#: The model-row fields a join fills, and how the GPUs' values combine.
JOINED_FIELDS = ("gpu_count", "gpu_utilization", "gpu_memory_used", "gpu_memory_ratio", "gpu_power", "gpu_temperature")
#: A model host (as in its target or `instance`) -> the GPUs' host (their exporter's or `Hostname`), from
#: the config file's `[gpus] hosts`; set once at start-up by `configure`.
HOST_ALIASES: dict[str, str] = {}


def configure(hosts: Mapping[str, str]) -> None:
    """Use the config file's host mapping for every join from now on."""
    HOST_ALIASES.clear()
    HOST_ALIASES.update(hosts)


def host_of(instance: str) -> str:
    """`10.0.0.5:8000` -> `10.0.0.5` (`[::1]:9400` -> `[::1]`); a bare host stays as it is."""
    head, sep, port = instance.rpartition(":")
    if sep and port.isdigit() and (head.endswith("]") or ":" not in head):
        return head
    return instance


def places_of(labels: Mapping[str, str], instance: str | None = None) -> frozenset[str]:
    """Where a series runs: `host:<h>` for its target's host and its node labels, `pod:<ns>/<pod>`."""
    places: set[str] = set()
    if instance:
        places.update(("host:" + host_of(instance), "target:" + instance))
    for label in HOST_LABELS:
        if labels.get(label):
            places.add("host:" + labels[label])
    if labels.get("pod"):
        places.add(f"pod:{labels.get('namespace', '')}/{labels['pod']}")
    return frozenset(places)


def _aliased(places: Iterable[str]) -> set[str]:
    out = set(places)
    for place in places:
        if place.startswith("host:") and (alias := HOST_ALIASES.get(place[5:])) is not None:
            out.add("host:" + alias)
    return out


def join_gpus(rows: Sequence[Row], places: Mapping[tuple[str, str], Iterable[str]]) -> list[Row]:
    """The rows, each model row with its GPUs' fields filled in and their groups in `Row.gpus`."""
    gpus = [row for row in rows if row.schema in GPU_SCHEMAS]
    if not gpus:
        return [_without_gpus(row) if row.schema not in GPU_SCHEMAS else row for row in rows]
    models = {row.key: _aliased(places.get(row.key, ())) for row in rows if row.schema not in GPU_SCHEMAS}
    links: dict[tuple[str, str], list[Row]] = {}
    how: dict[tuple[str, str], str] = {}
    measured = {gpu.group for gpu in gpus if gpu.schema == GPU_SCHEMA}
    for gpu in gpus:
        if gpu.schema != GPU_SCHEMA and gpu.group in measured:
            continue  # the DCGM exporter's row of the same GPU stands for it
        where = set(places.get(gpu.key, ()))
        pods = {place for place in where if place.startswith("pod:")}
        owners = [key for key, mine in models.items() if pods & mine]
        reason = "pod"
        if gpu.schema in TARGET_GPU_SCHEMAS:
            targets = {place for place in where if place.startswith("target:")}
            owners = [key for key, mine in models.items() if targets & mine]
            reason = "server"
        elif not pods:  # a GPU given to a pod is that pod's alone, even when the pod is not watched
            hosts = {place for place in where if place.startswith("host:")}
            owners = [key for key, mine in models.items() if hosts & mine]
            reason = "host"
        for key in owners:
            links.setdefault(key, []).append(gpu)
            how[key] = reason if how.get(key, reason) == reason else "pod or host"
    return [_with_gpus(row, links[row.key], how[row.key]) if row.key in links
            else row if row.schema in GPU_SCHEMAS else _without_gpus(row, gpus_seen=True) for row in rows]


#: Why a model row's GPU fields are empty: no GPU shares its hosts or pods (True), or no DCGM exporter (False).
_NOT_JOINED: Mapping[bool, Mapping[str, str]] = MappingProxyType({
    True: MappingProxyType(dict.fromkeys(JOINED_FIELDS, (
        "not joined: no GPU of the DCGM exporter shares this row's hosts or pods (map differing host names "
        "with [gpus.hosts] in the config file)"))),
    False: MappingProxyType(dict.fromkeys(JOINED_FIELDS, (
        "not joined: no NVIDIA DCGM exporter among the targets (add it to see this row's GPUs)"))),
})


def _without_gpus(row: Row, gpus_seen: bool = False) -> Row:
    """A model row no GPU joined: its GPU fields say why (for `e` and `aitop detect`)."""
    return row_with(row, provenance=under_lines(_NOT_JOINED[gpus_seen], row.provenance))


def _known(rows: Sequence[Row], name: str) -> list[float]:
    return [value for row in rows if (value := row.value(name)) is not None]


def _with_gpus(row: Row, gpus: Sequence[Row], how: str) -> Row:
    values, missing, provenance = dict(row.values), dict(row.missing), {}
    combined = {
        "gpu_count": float(len(gpus)),
        "gpu_utilization": (sum(u) / len(u)) if (u := _known(gpus, "gpu_utilization")) else None,
        "gpu_memory_used": sum(m) if (m := _known(gpus, "gpu_memory_used")) else None,
        "gpu_memory_ratio": max(r) if (r := _known(gpus, "gpu_memory_ratio")) else None,
        "gpu_power": sum(p) if (p := _known(gpus, "gpu_power")) else None,
        "gpu_temperature": max(t) if (t := _known(gpus, "gpu_temperature")) else None,
    }
    listed = ", ".join(gpu.group for gpu in gpus)
    rule = {"gpu_count": "count", "gpu_utilization": "mean", "gpu_memory_used": "sum", "gpu_memory_ratio": "fullest",
            "gpu_power": "sum", "gpu_temperature": "hottest"}
    for name, value in combined.items():
        values[name] = value
        if value is None:
            missing[name] = Missing.NO_METRIC
        else:
            missing.pop(name, None)
            source = "the server's own GPU gauges" if how == "server" else "NVIDIA DCGM exporter"
            provenance[name] = f"{rule[name]} of {len(gpus)} GPU{'s' if len(gpus) != 1 else ''} on the same {how} " \
                               f"({source}): {listed}"
    return replace(row, values=values, missing=missing, provenance=with_lines(row.provenance, provenance),
                   gpus=tuple(gpu.group for gpu in gpus))
