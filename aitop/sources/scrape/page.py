"""One scraped page, read within bounds: line breaks made safe, long label values cut, series capped.

Overlong label values are cut before parsing, and each page is capped at a number of series with a
"showing N of M" note; a page that fails to parse is bisected to name its bad line.
"""

from __future__ import annotations

import hashlib
import re

from aitop.catalog import NameFilter
from aitop.sources.scrape.exposition import (
    OPENMETRICS,
    ExpositionError,
    SeriesKey,
    SeriesKeys,
    kept_lines_counted,
    parse,
    parse_kept,
)
from aitop.sources.scrape.onepass import read_plain

#: Label values longer than this are cut (plus a hash, so distinct values stay distinct) before parsing:
#: prometheus_client reads labels a character at a time, and nobody reads a 1 MB model name anyway.
MAX_LABEL_VALUE = 1024
#: A parse error's line is looked for only in pages up to this many lines (it costs a few more parses).
_LOCATE_MAX_LINES = 50_000


_LONG_VALUE = re.compile(rf'"[^"\n]{{{MAX_LABEL_VALUE + 1}}}')  # cheap: tried only where a quote opens
_QUOTED = re.compile(r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"')


def _shorten(match: re.Match[str]) -> str:
    value = match.group(1)
    if len(value) <= MAX_LABEL_VALUE:
        return match.group(0)
    head = value[:MAX_LABEL_VALUE]
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:  # never cut an escape in half
        head = head[:-1]
    digest = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f'"{head}…#{digest}"'


def shorten_label_values(body: str) -> str:
    """`body` with every quoted value longer than `MAX_LABEL_VALUE` cut (a hash keeps them distinct)."""
    if _LONG_VALUE.search(body) is None:
        return body
    return _QUOTED.sub(_shorten, body)


#: Characters `str.splitlines()` breaks lines at, besides "\n" (and "\r\n"): inside a label value or a HELP
#: text they would split one line into two and fail the whole page. Replaced by visible escapes first.
_LINE_BREAKS = re.compile("\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_BREAK_MARKS = {"\r": "^M", "\x0b": "^K", "\x0c": "^L"}


def protect_line_breaks(body: str) -> str:
    """`body` with every line-breaking character other than "\n" made visible (CRLF endings kept)."""
    lone_cr = "\r" in body and body.count("\r") != body.count("\r\n")
    if not lone_cr and not any(char in body for char in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        return body  # the usual case, decided by a few C-speed scans
    return _LINE_BREAKS.sub(lambda m: _BREAK_MARKS.get(m.group(), f"<U+{ord(m.group()):04X}>"), body)


def served_openmetrics(body: str) -> bool:
    """An OpenMetrics page ends with `# EOF`; the classic text format has no such line."""
    return body.rstrip().endswith("\n# EOF") or body.strip() == "# EOF"


def _is_sample(line: str) -> bool:
    return bool(line) and line[0] != "#"


def cap_series(filtered: str, limit: int) -> tuple[str, int]:
    """Keep the first `limit` sample lines of a pre-filtered page (and its metadata and `# EOF`).

    Returns the text and how many sample lines the page had."""
    lines = filtered.splitlines()
    count = sum(1 for line in lines if _is_sample(line))
    if count <= limit:
        return filtered, count
    kept: list[str] = []
    seen = 0
    for line in lines:
        if _is_sample(line):
            seen += 1
            if seen > limit:
                continue
        kept.append(line)
    return "\n".join(kept) + "\n", count


def _cap_lines(kept: list[str], limit: int) -> list[str]:
    """The lines `cap_series` keeps of these kept lines (never empty): the first `limit` samples, all metadata."""
    seen = 0
    for index, line in enumerate(kept):
        if line[0] != "#":
            seen += 1
            if seen > limit:
                return kept[:index] + [line for line in kept[index:] if line[0] == "#"]
    return kept


def _locate_error(filtered: str, content_type: str, wanted: NameFilter) -> str | None:
    """The first line of `filtered` that makes the parser fail (bisecting on prefixes), or None."""
    lines = filtered.splitlines()
    if len(lines) > _LOCATE_MAX_LINES:
        return None
    openmetrics = content_type.startswith(OPENMETRICS)

    def fails(count: int) -> bool:
        text = "\n".join(line for line in lines[:count] if line != "# EOF") + "\n"
        try:
            parse(text + ("# EOF\n" if openmetrics else ""), content_type, wanted)
        except ExpositionError:
            return True
        return False

    low, high = 1, len(lines)
    if not fails(high):
        return None
    while low < high:  # the shortest failing prefix ends with the bad line
        middle = (low + high) // 2
        if fails(middle):
            high = middle
        else:
            low = middle + 1
    return lines[high - 1]


def read_page(
    body: str, content_type: str, wanted: NameFilter, keys: SeriesKeys, max_series: int
) -> tuple[dict[SeriesKey, float], tuple[str, ...], int]:
    """Parse one page within bounds: its samples, notes about it, and how many duplicate lines it had.

    Raises `ExpositionError` naming the offending line. CPU-bound: callers run it in a worker thread.
    """
    notes: list[str] = []
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = protect_line_breaks(body.removeprefix("\ufeff"))
    classic = media_type in ("", "text/plain", "application/octet-stream")
    if media_type in ("", "text/plain") and served_openmetrics(body):
        # The classic parser would read exemplars as timestamps and seconds as milliseconds.
        content_type, classic = OPENMETRICS, False
        notes.append("OpenMetrics page served as text/plain (parsed as OpenMetrics)")
    # Most pages are read in one pass (`onepass`); one it leaves (None) takes the two passes below.
    read = read_plain(body, wanted, keys, max_series, MAX_LABEL_VALUE) if classic else None
    if read is not None:
        samples, count = read
        notes_, duplicates = _notes(notes, count, len(samples), max_series)
        return samples, notes_, duplicates
    # The page is split and filtered once; its kept lines are parsed as they are unless a label value
    # had to be cut (rare: that works on the text) or the series capped.
    kept, _, metadata = kept_lines_counted(body, wanted)
    count = len(kept) - metadata  # sample lines
    # No label value can be too long on a page without a line that long: one C-speed pass over the lengths
    # spares the regex search of the whole page (a tenth of a large page's parse).
    if max(map(len, kept), default=0) > MAX_LABEL_VALUE:
        filtered = "\n".join(kept) + "\n"
        shortened = shorten_label_values(filtered)
        if shortened is not filtered:
            filtered, count = cap_series(shortened, max_series)
            kept = [line for line in filtered.splitlines() if line]
    if count > max_series:
        kept = _cap_lines(kept, max_series)  # what `cap_series` keeps, without splitting the text again
    try:
        samples = parse_kept(kept, content_type, keys).samples
    except ExpositionError as exc:
        bad = _locate_error("\n".join(kept) + "\n", content_type, wanted)  # the lines parsed, cap applied
        if bad is None:
            raise
        number = next((i for i, line in enumerate(body.splitlines(), 1) if line == bad), None)
        where = f"parse error line {number}" if number is not None else "parse error"
        detail = str(exc).removeprefix("unparsable exposition: ")
        raise ExpositionError(f"unparsable exposition: {where}: {detail}") from None
    notes_, duplicates = _notes(notes, count, len(samples), max_series)
    return samples, notes_, duplicates


def _notes(notes: list[str], count: int, distinct: int, max_series: int) -> tuple[tuple[str, ...], int]:
    """The page's notes and its duplicate sample lines, given its sample lines and its distinct series read."""
    if count > max_series:
        notes.append(f"showing {max_series:,} of {count:,} series (per-target cap)")
    duplicates = max(0, min(count, max_series) - distinct)
    if duplicates:
        notes.append(f"{duplicates} duplicate series lines (last value kept)")
    return tuple(notes), duplicates
