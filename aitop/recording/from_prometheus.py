"""Record from a Prometheus-compatible server: the raw samples behind the catalog's concepts, as a recording.

A recording taken from a server must replay like one taken from the exporters, so it holds the samples
the server scraped, at the times it scraped them — not values resampled on a `query_range` step grid (a
step that is not the scrape interval shifts every rate) and not `/federate`, which has only the latest
sample. The instant query of a range selector, `{__name__=~"a|b"}[600s]` at time T, returns exactly the
raw samples in (T-600s, T] with their own timestamps (Prometheus, Thanos, Mimir and VictoriaMetrics alike;
Prometheus 2 also the one at T-600s: dropped here), so the span is read in consecutive, non-overlapping
10-minute slices, oldest first, a few metric names per query, each slice written before the next is asked
for: memory holds one slice, and the samples in all are capped like a recording being read.

The samples of one scrape share their timestamp, so (instance label, timestamp) is one recorded scrape of
that target; `up` 0 records a failed scrape. Only the metric names a schema uses (the same names the
PromQL queries select, before their label matchers) are recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from aitop.catalog import NameFilter, Schema, builtin_schemas
from aitop.recording.format import INSTANCE, UP
from aitop.recording.reader import MAX_SAMPLES, NO_INSTANCE
from aitop.recording.writer import Recorder
from aitop.series import SeriesKey

#: Seconds of history per query: small enough that a busy server answers each within its limits.
SLICE = 600.0
#: Metric names per query (a regex alternation of them).
NAMES_PER_QUERY = 20

Query = Callable[[str, float], list]  # (PromQL, evaluation time) -> the API's `result` list


class ServerRecording:
    """What `record_server` wrote: scrapes, samples, the span, and why it stopped early (None if it did not)."""

    def __init__(self) -> None:
        self.scrapes = 0
        self.samples = 0
        self.targets: set[str] = set()
        self.truncated: str | None = None


def recorded_names(server_names: Sequence[str], schemas: Sequence[Schema] | None) -> list[str]:
    """The server's metric names some schema reads, plus `up` (which scrapes failed)."""
    wanted = NameFilter(schemas if schemas is not None else builtin_schemas())
    return sorted({name for name in server_names if wanted.wants(name)} | {UP})


def _selector(names: Sequence[str], seconds: float) -> str:
    # Metric names are [a-zA-Z0-9_:]: nothing in them is a regex metacharacter.
    return f'{{__name__=~"{"|".join(names)}"}}[{int(seconds)}s]'


def _slice_samples(query: Query, names: Sequence[str], end: float, seconds: float, budget: int):
    """{(instance, time): {series: value}} of the raw samples in (end - seconds, end], and whether the
    `budget` of samples ran out."""
    scrapes: dict[tuple[str, float], dict[SeriesKey, float]] = {}
    taken = 0
    for start in range(0, len(names), NAMES_PER_QUERY):
        for series in query(_selector(names[start:start + NAMES_PER_QUERY], seconds), end):
            metric = dict(series.get("metric", {}))
            name = metric.pop("__name__", None)
            if not name:
                continue
            instance = metric.pop(INSTANCE, None) or NO_INSTANCE
            key = (name, tuple(sorted(metric.items())))
            for stamp, text in series.get("values", ()):
                stamp = round(float(stamp), 3)
                if stamp <= end - seconds:  # Prometheus 2 includes the range's left edge: the last slice's
                    continue
                if taken >= budget:
                    return scrapes, True
                scrapes.setdefault((instance, stamp), {})[key] = float(text)
                taken += 1
    return scrapes, False


def record_server(query: Query, names: Sequence[str], start: float, end: float, recorder: Recorder,
                  *, max_samples: int = MAX_SAMPLES) -> ServerRecording:
    """Write the raw samples of `names` in (start, end] to `recorder`, scrape by scrape in time order."""
    done = ServerRecording()
    span = max(end - start, 0.0)
    slices = max(math.ceil(span / SLICE), 1)
    for index in range(slices):
        slice_end = min(start + (index + 1) * SLICE, end)
        seconds = slice_end - max(start + index * SLICE, start)
        if seconds < 1.0:
            continue
        scrapes, ran_out = _slice_samples(query, names, slice_end, seconds, max_samples - done.samples)
        # Targets that expose none of the schemas' metrics (their `up` alone) are not recorded.
        wanted = {instance for (instance, _), samples in scrapes.items() if any(key[0] != UP for key in samples)}
        for (instance, stamp), samples in sorted(scrapes.items(), key=lambda item: (item[0][1], item[0][0])):
            if instance not in wanted:
                continue
            up = next((value for key, value in samples.items() if key[0] == UP), 1.0)
            body = {key: value for key, value in samples.items() if key[0] != UP}
            if up != 0 and not body:  # an `up` stamped apart from samples the exporter stamped itself
                continue
            recorder.scrape(instance, stamp, body if up != 0 else None)
            done.scrapes += 1
            done.samples += len(body)
            done.targets.add(instance)
            if recorder.error is not None:
                return done
        if ran_out:
            done.truncated = f"recording too large: stopped after {max_samples:,} samples"
            return done
    return done


#: History recorded from a server when no --duration is given.
DEFAULT_SPAN = 900.0


async def record_from_server(config, base_url: str, output: str, duration: float | None) -> int:
    """`aitop record SERVER --output FILE [--duration D] [--at T]`: the D (default 15 min) of the server's
    history ending at T (default: the server's now) into `output`; returns the exit code."""
    import asyncio
    import sys

    from aitop.recording.reader import rfc3339
    from aitop.recording.replay import parse_at
    from aitop.sources.prometheus.http import PromHttp, QueryFailure

    http = PromHttp(base_url, config.timeout, config.http)

    def query(expr: str, at: float | None = None) -> list:
        params = {"time": f"{at:.3f}"} if at is not None else None
        return http.call(http.client.custom_query, expr, params)[0]

    recorder: Recorder | None = None
    try:
        now = float((await asyncio.to_thread(query, "time()"))[0])  # the server's clock, not ours
        end = parse_at(config.at, now=now) if config.at is not None else now
        span = duration if duration is not None else DEFAULT_SPAN
        names = recorded_names((await asyncio.to_thread(http.call, http.client.get_label_values, "__name__"))[0],
                               config.schemas)
        recorder = Recorder(output)
        done = await asyncio.to_thread(record_server, query, names, end - span, end, recorder)
    except QueryFailure as exc:
        print(f"aitop: recording from {base_url} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if recorder is not None:
            recorder.close()
        http.close()
    print(f"aitop: recorded {done.scrapes:,} scrapes of {len(done.targets)} target(s), {done.samples:,} samples "
          f"of {len(names) - 1} metric names from {base_url}, {rfc3339(end - span)} to {rfc3339(end)}, to {output}",
          file=sys.stderr)
    for problem in (done.truncated, recorder.error):
        if problem is not None:
            print(f"aitop: {problem}", file=sys.stderr)
    if recorder.error is not None:
        return 1
    return 0
