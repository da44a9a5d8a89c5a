"""Turning a /metrics body into samples: a cheap pre-filter by metric name, then a parser.

A large exposition (node exporter, kube-state-metrics) is mostly families no schema needs; dropping their
lines before parsing keeps a 100k-line page cheap. The parser is picked from Content-Type: the classic
parser silently misreads OpenMetrics (exemplars become timestamps), so the two are never mixed.

The kept lines of a classic text page are first read by `_parse_plain`, a regex fast path for the common
shape (`name{a="b",…} value [timestamp]`, no escapes) that gives exactly what prometheus_client's text
parser gives, `_total` added to counter samples included. Any line outside that shape sends the whole page
to prometheus_client, so unusual input is judged, and rejected, exactly as before. A line whose series
text the regex accepted on the target's previous scrape costs a slice and a dict lookup instead
(`SeriesKeys`): most of a page's lines, scrape after scrape.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from aitop.catalog import NameFilter
from aitop.sanitize import clean
from aitop.series import SeriesKey

OPENMETRICS = "application/openmetrics-text"

class ExpositionError(ValueError):
    """The body is not a metrics exposition aitop can read; the message is safe to display."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """The wanted samples of one scrape."""

    samples: dict[SeriesKey, float]
    lines_total: int
    lines_kept: int


def _looks_like_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] in "_:")


def kept_lines(text: str, wanted: NameFilter) -> tuple[list[str], int]:
    """The sample and `# TYPE`/`# UNIT` lines of wanted families (and `# EOF`), and the count of lines seen."""
    kept, total, _ = kept_lines_counted(text, wanted)
    return kept, total


def kept_lines_counted(text: str, wanted: NameFilter) -> tuple[list[str], int, int]:
    """`kept_lines`, and how many of the kept lines are metadata (the rest are samples)."""
    kept: list[str] = []
    metadata = 0
    names_cache: dict[str, bool] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        if line[0] == "#":
            parts = line.split(None, 3)
            if (len(parts) >= 3 and parts[1] in ("TYPE", "UNIT") and wanted.wants_family(parts[2])
                    or line.startswith("# EOF")):
                kept.append(line)
                metadata += 1
            continue
        name = line.partition("{")[0]  # the text before the first `{`, space or tab (inline: every line)
        if " " in name or "\t" in name:
            name = name.partition(" ")[0].partition("\t")[0]
        keep = names_cache.get(name)
        if keep is None:
            if not _looks_like_name(name) and not line.startswith('{"'):  # {"utf8.name"} is Prometheus 3
                raise ExpositionError(f"unparsable exposition: line {number} does not start with a metric name")
            keep = names_cache[name] = wanted.wants(name)
        if keep:
            kept.append(line)
    return kept, len(lines), metadata


def prefilter(text: str, wanted: NameFilter) -> tuple[str, int, int]:
    """Keep only the sample and `# TYPE`/`# UNIT` lines of wanted families (and `# EOF`).

    Returns the filtered text and the counts of lines seen and kept.
    """
    kept, total = kept_lines(text, wanted)
    return "\n".join(kept) + "\n", total, len(kept)


_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# (name{label="value",…}), name, labels, value, then an optional integer timestamp; no escapes, spaces only.
_LABEL = r'(?!__)[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'  # `__name__` and other reserved names: the full parser
_PLAIN_SAMPLE = re.compile(
    rf"(([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{{((?:{_LABEL},)*{_LABEL})?\}})?) +([^ ]+)(?: +-?[0-9]{{1,19}})? *"
)
_LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"')
#: Sample names a family of each type accepts (prometheus_client's text parser); others are untyped.
_ALLOWED_SUFFIXES = {"summary": ("_count", "_sum", ""), "histogram": ("_count", "_sum", "_bucket")}
_KINDS = frozenset(("counter", "gauge", "summary", "histogram", "gaugehistogram", "unknown", "info", "stateset",
                    "untyped"))
class SeriesKeys:
    """Series keys by their `name{labels}` text, kept for one target across its scrapes.

    Every scrape of a series then yields the same key object (cheap dict lookups in the store, one copy in
    memory) and skips the label parsing; a line of a known series skips the line regex too. Only the latest
    scrape's series are kept, so label churn cannot grow it: its size follows the live series, not every
    label set ever seen.
    """

    __slots__ = ("kept", "kept_for", "kept_names", "kept_totals", "known")

    def __init__(self) -> None:
        self.known: dict[str, SeriesKey] = {}
        #: The one-pass reader's own memory (`onepass.read_plain`): series texts of lines that passed the name
        #: filter `kept_for`, so a line of one of them is known to be wanted without testing its name.
        self.kept: dict[str, SeriesKey] = {}
        self.kept_names: dict[str, bool] = {}  # metric name -> `kept_for` wants it
        self.kept_totals: dict[SeriesKey, SeriesKey] = {}  # a counter's key as read -> with `_total` added
        self.kept_for: NameFilter | None = None


def plain_value(text: str) -> float | None:
    """A sample's value read as prometheus_client's text parser reads it (`int`, else `float`), or None when
    only that parser can say what it makes of it."""
    if "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isinf(value):
        return None  # the text parser reads huge integers with int(), which float() then rejects
    if value == 0 and text.lstrip("+-").isdigit():
        return 0.0  # int("-0") is 0, where float("-0") is -0.0
    return value


def _parse_plain(lines: list[str], keys: SeriesKeys) -> dict[SeriesKey, float] | None:
    """The samples of pre-filtered classic text lines, or None when a line needs the full parser.

    Follows prometheus_client's text parser: a `# TYPE` line opens a family; a sample whose name the family
    does not accept closes it and stands alone (untyped); samples of a counter family whose name lacks
    `_total` get it appended. Values are read as that parser reads them (`int`, else `float`).
    """
    samples: dict[SeriesKey, float] = {}
    known, seen = keys.known, {}
    family = ""
    allowed: tuple[str, ...] = ()
    suffix = ""  # "_total" while the open family is a counter named without it
    for line in lines:
        if line[0] == "#":
            if '"' in line or not line.isascii():  # quoted names; whitespace str.split() alone would see
                return None
            parts = line.split()
            if len(parts) < 2 or parts[1] not in ("TYPE", "HELP"):
                continue  # `# UNIT …`, `# EOF`: comments to the text parser
            if parts[1] == "HELP" or len(parts) != 4 or parts[2] == family or not _NAME.fullmatch(parts[2]):
                return None
            family, kind = parts[2], parts[3]
            if kind not in _KINDS or family == "_total":  # the text parser's Metric() rejects both
                return None
            allowed = tuple(family + end for end in _ALLOWED_SUFFIXES.get(kind, ("",)))
            suffix = "_total" if kind == "counter" and not family.endswith("_total") else ""
            continue
        # A series text the regex accepted on an earlier scrape, then one space and a value with no space:
        # the regex would split this line exactly there (the text is its first group, and a value without
        # spaces leaves no room for a timestamp), so a slice and a lookup replace it. Anything else (two
        # spaces, a timestamp, a new series) takes the regex.
        cut = line.rfind(" ")
        series = line[:cut]
        key = known.get(series) if cut > 0 else None
        if key is not None and cut < len(line) - 1:
            name, text = key[0], line[cut + 1:]
        else:
            match = _PLAIN_SAMPLE.fullmatch(line)
            if match is None:
                return None
            series, name, label_text, text = match.groups()
            key = known.get(series)
            if key is None:
                pairs = _LABEL_PAIR.findall(label_text) if label_text else []
                if len(pairs) > 1 and len(dict(pairs)) != len(pairs):
                    return None  # a repeated label name: the text parser rejects the page
                key = (name, tuple(sorted(pairs)))
        seen[series] = key
        if name in allowed:
            if suffix:
                key = (name + suffix, key[1])
        else:
            family, allowed, suffix = "", (), ""
        value = plain_value(text)
        if value is None:
            return None
        samples[key] = value
    keys.known = seen
    return samples


def parse(body: str, content_type: str, wanted: NameFilter, keys: SeriesKeys | None = None) -> Parsed:
    """Parse the wanted samples of an exposition. Raises `ExpositionError` (never anything else).

    Pass the same `keys` for every scrape of one target to reuse its series keys.
    """
    media_type = _media_type(content_type)
    kept, total = kept_lines(body.removeprefix("\ufeff"), wanted)
    return _parse_kept(kept, total, media_type, keys)


def parse_kept(kept: list[str], content_type: str, keys: SeriesKeys | None = None) -> Parsed:
    """`parse` of lines `prefilter` (or `kept_lines`) already kept: the page is not filtered again."""
    return _parse_kept(kept, len(kept), _media_type(content_type), keys)


def _media_type(content_type: str) -> str:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and media_type not in ("text/plain", OPENMETRICS, "application/octet-stream"):
        raise ExpositionError(f"not a metrics page (Content-Type {clean(media_type, 60)})")
    return media_type


def _parse_kept(kept: list[str], total: int, media_type: str, keys: SeriesKeys | None) -> Parsed:
    fast = _parse_plain(kept, keys or SeriesKeys()) if media_type != OPENMETRICS else None
    if fast is not None:
        return Parsed(samples=fast, lines_total=total, lines_kept=len(kept))
    parser = parse_openmetrics if media_type == OPENMETRICS else parse_text
    samples: dict[SeriesKey, float] = {}
    try:
        # Both parsers are lazy generators that can fail halfway: materialise inside the try, so a
        # half-parsed page never reaches the model. They raise more than ValueError on bad input.
        for family in list(parser("\n".join(kept) + "\n")):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    except Exception as exc:  # noqa: BLE001 — IndexError/KeyError/AttributeError happen
        detail = clean(str(exc) or type(exc).__name__, 120)
        raise ExpositionError(f"unparsable exposition: {detail}") from None
    return Parsed(samples=samples, lines_total=total, lines_kept=len(kept))
