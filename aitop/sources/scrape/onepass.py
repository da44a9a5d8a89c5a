"""A classic text page read in one pass: the name pre-filter, the series cap and the sample parser at once.

`page.read_page` otherwise walks a page twice: `kept_lines_counted` keeps the wanted lines, then
`_parse_plain` reads them. Here each line is looked at once, and a line of a series this target's earlier
scrapes already read (its `name{labels}` text followed by one space and a value) skips both the name test
and the line regex: a slice and a dict lookup say it is wanted and give its key. Everything else follows
the two-pass code line for line, and anything that code would not read the common way (a line it would
reject, hand to prometheus_client, or shorten) makes `read_plain` return None, so the caller takes the
two-pass path and judges the page exactly as before.
"""

from __future__ import annotations

from aitop.catalog import NameFilter
from aitop.series import SeriesKey
from aitop.sources.scrape.exposition import (
    _ALLOWED_SUFFIXES,
    _KINDS,
    _LABEL_PAIR,
    _NAME,
    _PLAIN_SAMPLE,
    SeriesKeys,
    _looks_like_name,
    plain_value,
)

#: Metric names remembered beyond twice a page's lines (plus this) mean name churn: that memory is dropped.
_SLACK = 1024


class _Declined(Exception):
    """The two-pass path must read this page (it may reject it, or read it another way)."""


def _family(line: str, wanted: NameFilter, family: str) -> tuple[str, tuple[str, ...], str] | None:
    """A metadata line: `kept_lines_counted`'s test, then `_parse_plain`'s reading of a kept `# TYPE` line.

    Returns the family it opens (name, accepted sample names, counter suffix), or None when it opens none."""
    parts = line.split(None, 3)
    if not (len(parts) >= 3 and parts[1] in ("TYPE", "UNIT") and wanted.wants_family(parts[2])
            or line.startswith("# EOF")):
        return None
    if '"' in line or not line.isascii():
        raise _Declined
    parts = line.split()
    if len(parts) < 2 or parts[1] not in ("TYPE", "HELP"):
        return None
    if parts[1] == "HELP" or len(parts) != 4 or parts[2] == family or not _NAME.fullmatch(parts[2]):
        raise _Declined
    family, kind = parts[2], parts[3]
    if kind not in _KINDS or family == "_total":
        raise _Declined
    allowed = tuple(family + end for end in _ALLOWED_SUFFIXES.get(kind, ("",)))
    return family, allowed, "_total" if kind == "counter" and not family.endswith("_total") else ""


def _wanted(line: str, wanted: NameFilter, names: dict[str, bool], odd: dict[str, bool]) -> bool:
    """`kept_lines_counted`'s test of a sample line: its metric name is wanted."""
    name = line.partition("{")[0]
    if " " in name or "\t" in name:
        name = name.partition(" ")[0].partition("\t")[0]
    keep = names.get(name)
    if keep is None:
        if _looks_like_name(name):
            keep = names[name] = wanted.wants(name)
        else:  # remembered for this page only, as `kept_lines_counted` does
            keep = odd.get(name)
            if keep is None:
                if not line.startswith('{"'):
                    raise _Declined  # `kept_lines_counted` raises: let it, with its message
                keep = odd[name] = wanted.wants(name)
    return keep


def read_plain(
    body: str, wanted: NameFilter, keys: SeriesKeys, max_series: int, longest: int
) -> tuple[dict[SeriesKey, float], int] | None:
    """The samples of a classic text page and its count of wanted sample lines, or None for the two-pass path.

    `body` has had its line breaks made safe; `longest` is the longest line the two-pass path reads without
    shortening label values (a page with a longer line is left to it). Samples past `max_series` wanted
    sample lines are counted, not read, as `page._cap_lines` leaves them out. `keys` is not changed when
    None is returned.
    """
    lines = body.splitlines()
    if max(map(len, lines), default=0) > longest:
        return None
    if keys.kept_for is not wanted:  # the memory below says "wanted" only for the filter that filled it
        keys.kept, keys.kept_names, keys.kept_totals, keys.kept_for = {}, {}, {}, wanted
    fresh: dict[str, SeriesKey] = {}  # series first read on this scrape
    seen: dict[str, SeriesKey] = {}  # every series read on this scrape: the memory for the next one
    odd: dict[str, bool] = {}  # names that do not start like one (`{"utf8.name"}`): this page only
    try:
        samples, count = _read(lines, wanted, keys, fresh, seen, odd, max_series)
    except _Declined:
        return None
    # Only this page's series are remembered, so label churn cannot grow the memory (as `SeriesKeys.known`).
    keys.kept = seen
    if fresh and keys.kept_totals:  # the set of series changed: forget the `_total` keys of series gone
        live = set(seen.values())
        keys.kept_totals = {key: total for key, total in keys.kept_totals.items() if key in live}
    if len(keys.kept_names) > 2 * len(lines) + _SLACK:
        keys.kept_names = {}  # metric-name churn: rare, and one page's worth is tested again
    return samples, count


def _read(lines: list[str], wanted: NameFilter, keys: SeriesKeys, fresh: dict[str, SeriesKey],
          seen: dict[str, SeriesKey], odd: dict[str, bool], max_series: int,
          ) -> tuple[dict[SeriesKey, float], int]:  # fmt: skip
    known, names, totals = keys.kept, keys.kept_names, keys.kept_totals
    samples: dict[SeriesKey, float] = {}
    family = ""
    allowed: tuple[str, ...] = ()
    suffix = ""  # "_total" while the open family is a counter named without it
    count = 0
    rest = iter(lines)
    for line in rest:
        if not line:
            continue
        if line[0] == "#":
            opened = _family(line, wanted, family)
            if opened is not None:
                family, allowed, suffix = opened
            continue
        cut = line.rfind(" ")
        key = None
        if cut > 0:
            series = line[:cut]
            key = known.get(series)
            if key is None and fresh:
                key = fresh.get(series)
        if key is not None and cut < len(line) - 1:
            # A series read before: its name passed the filter then (same filter), and the regex would
            # split this line exactly here (see `_parse_plain`).
            name, text = key[0], line[cut + 1:]
        elif not _wanted(line, wanted, names, odd):
            continue
        else:
            if count == max_series:
                count += 1
                break
            match = _PLAIN_SAMPLE.fullmatch(line)
            if match is None:
                raise _Declined
            series, name, label_text, text = match.groups()
            key = known.get(series) or fresh.get(series)
            if key is None:
                pairs = _LABEL_PAIR.findall(label_text) if label_text else []
                if len(pairs) > 1 and len(dict(pairs)) != len(pairs):
                    raise _Declined
                key = fresh[series] = (name, tuple(sorted(pairs)))
        count += 1
        if count > max_series:
            break
        seen[series] = key
        if name in allowed:
            if suffix:  # the same key object every scrape: the store and the incident buffer compare by it
                total = totals.get(key)
                if total is None:
                    total = totals[key] = (name + suffix, key[1])
                key = total
        else:
            family, allowed, suffix = "", (), ""
        value = plain_value(text)
        if value is None:
            raise _Declined
        samples[key] = value
    # Past the cap (if the loop stopped there): wanted sample lines are counted, metadata still read.
    for line in rest:
        if not line:
            continue
        if line[0] == "#":
            opened = _family(line, wanted, family)
            if opened is not None:
                family = opened[0]
        else:  # `_wanted`, its usual case inline: most of a capped page's lines come here
            name = line.partition("{")[0]
            if " " in name or "\t" in name:
                name = name.partition(" ")[0].partition("\t")[0]
            keep = names.get(name)
            if keep is None:
                keep = _wanted(line, wanted, names, odd)
            if keep:
                count += 1
    return samples, count
