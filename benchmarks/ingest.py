"""Item 1 — ingest: aitop's parse + compute of a 100,000-line page against prometheus_client's parser.

Two pages, each read as the second of two scrapes (so the store computes real increases):

* mixed: vLLM families for a few dozen models (5 % of the lines) inside node-exporter/kube-state-like noise;
* relevant: ~100,000 lines of vLLM families only (~830 models), every line of which aitop keeps.

aitop's figure is `exposition.parse` (pre-filter + parser, with the target's `SeriesKeys` cache filled by
the scrape before, as the scrape collector keeps it) + `TargetWindow.add` (store) + `RowBuilder` (rows,
quantiles); the baseline is `text_string_to_metric_families` materialising every family of the page.
Throughput is reported as page samples per second (sample lines of the page / time).
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from aitop.catalog import NameFilter, builtin_schemas
from aitop.rows import RowBuilder, TargetData
from aitop.sources.scrape.exposition import SeriesKeys, parse
from aitop.store import TargetWindow
from benchmarks.pages import VllmFleet, lanes_for, mixed_page
from benchmarks.report import Figure
from benchmarks.timing import cpu_seconds

LINES = 100_000
SHARE = 0.05
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Pair:
    """Two scrapes of one page, 10 s apart."""

    label: str
    before: str
    after: str
    lines: int
    relevant: int


def pages() -> list[Pair]:
    lanes = lanes_for(int(LINES * SHARE))
    fleet = VllmFleet(lanes)
    before = mixed_page(fleet, LINES)
    fleet.advance()
    after = mixed_page(fleet, LINES)
    mixed = Pair(f"{after.relevant / after.lines:.1%} relevant", before.text, after.text, after.lines, after.relevant)
    fleet = VllmFleet(lanes_for(LINES))
    first = fleet.render()
    fleet.advance()
    second = fleet.render()
    lines = second.count("\n")
    return [mixed, Pair("all relevant", first, second, lines, lines)]


def _baseline(text: str) -> int:
    return sum(len(family.samples) for family in text_string_to_metric_families(text))


def _ingest(pair: Pair, previous: dict, schemas, wanted, keys: SeriesKeys) -> tuple[float, float, float, int]:
    """CPU seconds of parse, store and rows for the second scrape, and the number of rows. `keys` is the
    target's series-key cache, as the scrape collector keeps one per target across its scrapes."""
    window = TargetWindow(30.0)
    window.add(0.0, 0.0, previous)
    gc.collect()
    t0 = time.process_time()
    parsed = parse(pair.after, CONTENT_TYPE, wanted, keys)
    t1 = time.process_time()
    window.add(10.0, 10.0, parsed.samples)
    t2 = time.process_time()
    builder = RowBuilder(schemas)
    builder.add_target(TargetData("127.0.0.1:8000", window, True))
    rows = builder.rows()
    t3 = time.process_time()
    return t1 - t0, t2 - t1, t3 - t2, len(rows)


def run(quick: bool) -> list[Figure]:
    schemas = builtin_schemas()
    wanted = NameFilter(schemas)
    repeat = 1 if quick else 3
    figures: list[Figure] = []
    for pair in pages():
        keys = SeriesKeys()  # one target's cache, filled by the scrape before: the steady state
        previous = parse(pair.before, CONTENT_TYPE, wanted, keys).samples  # also warms what aitop has warm
        runs = [_ingest(pair, previous, schemas, wanted, keys) for _ in range(repeat)]
        parse_s, store_s, rows_s = (statistics.median(run[i] for run in runs) for i in range(3))
        ours = statistics.median(sum(run[:3]) for run in runs)
        theirs, samples = cpu_seconds(lambda pair=pair: _baseline(pair.after), repeat=repeat)
        faster = pair.relevant < pair.lines
        note = (f"{pair.lines:,} lines, {pair.relevant:,} relevant, {samples:,} samples -> {runs[0][3]} rows; "
                f"parse {parse_s * 1e3:.0f} ms + store {store_s * 1e3:.0f} ms + rows {rows_s * 1e3:.0f} ms")
        baseline_ms = theirs * 1e3
        figures.append(Figure(
            "1", f"ingest 100k-line page, {pair.label}", ours * 1e3, "ms", baseline_ms, "prometheus_client",
            "≤ ×0.10 (10× faster)" if faster else "≤ ×1.00 (no slower)",
            # Bound now: a bare closure would judge every page against the last page's baseline.
            (lambda v, limit=(0.10 if faster else 1.0) * baseline_ms: v <= limit), note,
        ))
        figures.append(Figure("1", f"  throughput, {pair.label}", samples / ours, "samples/s", samples / theirs,
                              "prometheus_client"))
    return figures
