"""The text of a recording: one OpenMetrics sample line per series and scrape, families typed by name.

Each scrape of a target is written as a block: every family's `# TYPE` line, then its samples, each with the
target's `instance` label (a series' own `instance` becomes `exported_instance`, as Prometheus renames it)
and the scrape's unix time in seconds. Prometheus's OpenMetrics parser accepts a family's `# TYPE` again in
a later block, so a recording can be appended to scrape by scrape; `# EOF` ends it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from aitop.series import SeriesKey

#: The label holding the target a sample came from, as Prometheus names it.
INSTANCE = "instance"
#: Where a series' own `instance` label goes, as Prometheus's honor_labels=false renames it.
EXPORTED_INSTANCE = "exported_instance"
#: The per-scrape health series (1 scraped, 0 failed), as Prometheus records it.
UP = "up"
EOF_LINE = "# EOF"

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})
#: name{labels} value timestamp — labels as name="value" pairs with OpenMetrics escapes.
SAMPLE_LINE = re.compile(
    r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+) (\S+)'
)
_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')
_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "\\": "\\", '"': '"'}


def family_of(name: str, histograms: set[str], counters: set[str], summaries: set[str]) -> tuple[str, str]:
    """(family name, OpenMetrics type) of a sample name, given the scrape's histogram, counter and summary
    families. Everything else is a gauge: replay does not depend on the type, PromQL does not either."""
    for suffix in ("_bucket", "_count", "_sum", "_created"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if base in histograms:
                return base, "histogram"
            if base in summaries and suffix != "_bucket":
                return base, "summary"
    if name.endswith("_total") and name[:-6] in counters:
        return name[:-6], "counter"
    if name.endswith("_created") and name[:-8] in counters:
        return name[:-8], "counter"
    if name in summaries:
        return name, "summary"
    return name, "gauge" if not name.endswith(("_bucket", "_count", "_sum", "_created", "_total")) else "unknown"


def _families(keys: Iterable[SeriesKey]) -> tuple[set[str], set[str], set[str]]:
    histograms, counters, summaries = set(), set(), set()
    for name, labels in keys:
        if name.endswith("_bucket") and any(label == "le" for label, _ in labels):
            histograms.add(name[:-7])
        elif name.endswith("_total"):
            counters.add(name[:-6])
        elif any(label == "quantile" for label, _ in labels):
            summaries.add(name)
    return histograms, counters, summaries


def number(value: float) -> str:
    """A value or timestamp as OpenMetrics writes it, exact (Python's shortest round-trip form)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _labels(labels: Iterable[tuple[str, str]], instance: str) -> str:
    pairs = [
        f'{EXPORTED_INSTANCE if name == INSTANCE else name}="{value.translate(_ESCAPES)}"' for name, value in labels
    ]
    pairs.append(f'{INSTANCE}="{instance.translate(_ESCAPES)}"')
    return ",".join(pairs)


def scrape_block(instance: str, wall: float, samples: Mapping[SeriesKey, float] | None) -> tuple[str, int]:
    """The text of one scrape of one target and how many of its series were left out: those whose name or
    label names OpenMetrics cannot carry unquoted (a Prometheus 3 UTF-8 name)."""
    stamp = number(wall)
    lines = [f"# TYPE {UP} gauge", f"{UP}{{{_labels((), instance)}}} {1 if samples is not None else 0} {stamp}"]
    if not samples:
        return "\n".join(lines) + "\n", 0
    histograms, counters, summaries = _families(samples)
    by_family: dict[tuple[str, str], list[str]] = {}
    skipped = 0
    for (name, labels), value in samples.items():
        if name == UP or not _NAME.fullmatch(name) or not all(_LABEL_NAME.fullmatch(label) for label, _ in labels):
            skipped += 1
            continue
        line = f"{name}{{{_labels(labels, instance)}}} {number(value)} {stamp}"
        by_family.setdefault(family_of(name, histograms, counters, summaries), []).append(line)
    for (family, kind), body in sorted(by_family.items()):
        lines.append(f"# TYPE {family} {kind}")
        lines.extend(body)
    return "\n".join(lines) + "\n", skipped


def parse_labels(text: str | None) -> list[tuple[str, str]]:
    """The label pairs of a sample line's `{…}` body, unescaped."""
    if not text:
        return []
    return [(name, _UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(0)), value))
            for name, value in _PAIR.findall(text)]
