"""Turning a /metrics body into samples: a cheap pre-filter by metric name, then prometheus_client's parser.

A large exposition (node exporter, kube-state-metrics) is mostly families no schema needs; dropping their
lines before parsing keeps a 100k-line page cheap. The parser is picked from Content-Type: the classic
parser silently misreads OpenMetrics (exemplars become timestamps), so the two are never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from aitop.catalog import NameFilter
from aitop.sanitize import clean

OPENMETRICS = "application/openmetrics-text"

#: A sample: (name, sorted label pairs) -> value.
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


class ExpositionError(ValueError):
    """The body is not a metrics exposition aitop can read; the message is safe to display."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """The wanted samples of one scrape."""

    samples: dict[SeriesKey, float]
    lines_total: int
    lines_kept: int


def _sample_name(line: str) -> str:
    end = len(line)
    for stop in ("{", " ", "\t"):
        index = line.find(stop)
        if 0 <= index < end:
            end = index
    return line[:end]


def _looks_like_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] in "_:")


def prefilter(text: str, wanted: NameFilter) -> tuple[str, int, int]:
    """Keep only the sample and `# TYPE`/`# UNIT` lines of wanted families (and `# EOF`).

    Returns the filtered text and the counts of lines seen and kept.
    """
    kept: list[str] = []
    total = 0
    names_cache: dict[str, bool] = {}
    for line in text.splitlines():
        total += 1
        if not line:
            continue
        if line[0] == "#":
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("TYPE", "UNIT") and wanted.wants_family(parts[2]):
                kept.append(line)
            elif line.startswith("# EOF"):
                kept.append(line)
            continue
        name = _sample_name(line)
        keep = names_cache.get(name)
        if keep is None:
            if not _looks_like_name(name) and not line.startswith('{"'):  # {"utf8.name"} is Prometheus 3
                raise ExpositionError(f"unparsable exposition: line {total} does not start with a metric name")
            keep = names_cache[name] = wanted.wants(name)
        if keep:
            kept.append(line)
    return "\n".join(kept) + "\n", total, len(kept)


def parse(body: str, content_type: str, wanted: NameFilter) -> Parsed:
    """Parse the wanted samples of an exposition. Raises `ExpositionError` (never anything else)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and media_type not in ("text/plain", OPENMETRICS, "application/octet-stream"):
        raise ExpositionError(f"not a metrics page (Content-Type {clean(media_type, 60)})")
    body = body.removeprefix("\ufeff")
    filtered, total, kept = prefilter(body, wanted)
    parser = parse_openmetrics if media_type == OPENMETRICS else parse_text
    samples: dict[SeriesKey, float] = {}
    try:
        # Both parsers are lazy generators that can fail halfway: materialise inside the try, so a
        # half-parsed page never reaches the model. They raise more than ValueError on bad input.
        for family in list(parser(filtered)):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    except Exception as exc:  # noqa: BLE001 — IndexError/KeyError/AttributeError happen (reliability.md §B.2)
        detail = clean(str(exc) or type(exc).__name__, 120)
        raise ExpositionError(f"unparsable exposition: {detail}") from None
    return Parsed(samples=samples, lines_total=total, lines_kept=kept)
