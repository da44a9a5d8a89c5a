"""Read a recording back within bounds, whatever state it is in; repair one a crash cut off.

A recording comes from a file anyone could have written: it is read as a stream (gzip detected by its magic
bytes, inflated in bounded steps), line by line with a cap on a line's length, a cap on samples in all and
per scrape, and every label value shortened by the same rule as a live page's. A cut-off last line, a
missing `# EOF`, a truncated or corrupt gzip stream, unreadable lines and samples out of time order are
notes, never errors: what could be read is used and the notes say what was not.
"""

from __future__ import annotations

import bisect
import math
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aitop.analysis.settings import ConfigError
from aitop.recording.format import EOF_LINE, EXPORTED_INSTANCE, INSTANCE, SAMPLE_LINE, UP, parse_labels
from aitop.sanitize import clean
from aitop.series import SeriesKey
from aitop.sources.scrape.page import shorten_label_values

#: Samples read from one recording in all; the rest is ignored, and said so.
MAX_SAMPLES = 2_000_000
#: Series per scrape of one target (as the live per-target cap).
MAX_SERIES = 20_000
#: Bytes of one line; a longer line is skipped as unreadable.
MAX_LINE = 64 * 1024
#: Bytes of text inflated from a gzip recording before reading stops.
MAX_DECODED = 1 << 30
#: The target of samples without an `instance` label (a file that did not come from aitop).
NO_INSTANCE = "recording"
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


class RecordingError(ConfigError):
    """A recording that cannot be used at all (missing, unreadable, or with no sample in it)."""


def rfc3339(stamp: float) -> str:
    """A unix time as RFC 3339 UTC with milliseconds."""
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class TargetScrapes:
    """One target's scrapes in time order: `samples[i]` is None where the scrape failed (`up` 0)."""

    times: list[float] = field(default_factory=list)
    samples: list[dict[SeriesKey, float] | None] = field(default_factory=list)

    def last_at(self, at: float) -> int:
        """Index of the last scrape at or before `at`, -1 if none."""
        return bisect.bisect_right(self.times, at) - 1


@dataclass(slots=True)
class Recording:
    """A recording as read: per-target scrapes, its time span, and notes about what could not be read."""

    path: str
    targets: dict[str, TargetScrapes]
    start: float
    end: float
    samples: int
    gzipped: bool
    complete: bool  # ended with `# EOF` and nothing was dropped
    notes: tuple[str, ...] = ()

    @property
    def scrapes(self) -> int:
        return sum(len(target.times) for target in self.targets.values())


class _Lines:
    """The lines of a (possibly gzipped) file, within the line and inflate caps; records how it ended."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.gzipped = False
        self.problem: str | None = None  # why the byte stream ended early
        self.partial = False  # the text ended without a final newline
        self.too_long = 0
        self.first_too_long = 0

    def _chunks(self) -> Iterator[bytes]:
        head = self.handle.read(_CHUNK)
        if not head.startswith(_GZIP_MAGIC):
            while head:
                yield head
                head = self.handle.read(_CHUNK)
            return
        self.gzipped = True
        inflater, decoded, data, read = zlib.decompressobj(31), 0, head, len(head)
        while True:
            try:
                out = inflater.decompress(data, _CHUNK)
                while True:
                    decoded += len(out)
                    if decoded > MAX_DECODED:
                        self.problem = f"more than {MAX_DECODED >> 20} MiB once decompressed: read that much"
                        return
                    if out:
                        yield out
                    if not inflater.unconsumed_tail:
                        break
                    out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
            except zlib.error:
                self.problem = f"the gzip data is corrupt near byte {read:,}: read up to there"
                return
            if inflater.eof:  # a member ended; another may follow (concatenated gzip files)
                rest = inflater.unused_data
                inflater = zlib.decompressobj(31)
                data = rest or self.handle.read(_CHUNK)
                read += 0 if rest else len(data)
                if not data:
                    return
                continue
            data = self.handle.read(_CHUNK)
            read += len(data)
            if not data:
                self.problem = "the gzip stream is cut off"
                return

    def __iter__(self) -> Iterator[tuple[int, str]]:
        pending = b""
        number = 0
        skipping = False  # inside a line longer than MAX_LINE
        for chunk in self._chunks():
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            for line in lines:
                number += 1
                if skipping:
                    skipping = False
                    continue
                yield number, line.decode("utf-8", "replace")
            if len(pending) > MAX_LINE:
                if not skipping:
                    self.too_long += 1
                    self.first_too_long = self.first_too_long or number + 1
                skipping, pending = True, b""
        if pending or skipping:
            self.partial = True


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_recording(path: str | os.PathLike[str], *, max_samples: int = MAX_SAMPLES) -> Recording:
    """Read a recording. Raises `RecordingError` only when nothing usable is in it."""
    shown = clean(os.fspath(path), 200)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise RecordingError(f"no such recording: {shown}") from None
    except IsADirectoryError:
        raise RecordingError(f"{shown} is a directory, not a recording") from None
    except OSError as exc:
        raise RecordingError(f"cannot read {shown}: {clean(exc.strerror or type(exc).__name__, 80)}") from None
    scrapes: dict[tuple[str, float], dict[SeriesKey, float]] = {}
    health: dict[tuple[str, float], bool] = {}
    keys: dict[SeriesKey, SeriesKey] = {}  # one key object per series across scrapes
    last_time: dict[str, float] = {}
    bad = first_bad = out_of_order = over_series = 0
    total = 0
    eof = after_eof = truncated_at = False
    with handle:
        lines = _Lines(handle)
        for number, line in lines:
            if not line or line.startswith("#"):
                if line.rstrip() == EOF_LINE:
                    eof = True
                elif eof and line:
                    after_eof = True
                continue
            if eof:
                after_eof = True
                continue
            match = SAMPLE_LINE.fullmatch(shorten_label_values(line.rstrip("\r")))
            value = stamp = None
            if match is not None:
                value, stamp = _float(match.group(3)), _float(match.group(4))
            if match is None or value is None or stamp is None or not (math.isfinite(stamp) and 0 < stamp < 1e11):
                bad += 1
                first_bad = first_bad or number
                continue
            pairs = parse_labels(match.group(2))
            labels = dict(pairs)
            if len(labels) != len(pairs):  # a repeated label name: not a series
                bad += 1
                first_bad = first_bad or number
                continue
            instance = labels.pop(INSTANCE, NO_INSTANCE)
            if EXPORTED_INSTANCE in labels:
                labels[INSTANCE] = labels.pop(EXPORTED_INSTANCE)
            name = match.group(1)
            if name == UP:
                health[(instance, stamp)] = value == 1
                continue
            if total >= max_samples:
                truncated_at = True
                break
            if stamp < last_time.get(instance, stamp):
                out_of_order += 1
            last_time[instance] = max(stamp, last_time.get(instance, stamp))
            scrape = scrapes.setdefault((instance, stamp), {})
            key = (name, tuple(sorted(labels.items())))
            key = keys.setdefault(key, key)
            if key not in scrape and len(scrape) >= MAX_SERIES:
                over_series += 1
                continue
            scrape[key] = value
            total += 1
    if not scrapes:
        why = f" ({bad:,} unreadable lines, first at line {first_bad})" if bad else ""
        if lines.problem:
            raise RecordingError(f"no samples could be read from {shown}: {lines.problem}")
        raise RecordingError(f"no samples with timestamps in {shown}: not an OpenMetrics recording{why}")
    targets: dict[str, TargetScrapes] = {}
    for instance, stamp in sorted(set(scrapes) | set(health), key=lambda item: (item[1], item[0])):
        samples = scrapes.get((instance, stamp))
        if samples is None and health.get((instance, stamp), True):
            continue  # an `up` without samples that says up: nothing to replay
        target = targets.setdefault(clean(instance, 120), TargetScrapes())
        target.times.append(stamp)
        target.samples.append(samples if health.get((instance, stamp), True) else None)
    start = min(stamp for _, stamp in scrapes)
    end = max(stamp for _, stamp in scrapes)
    notes: list[str] = []
    if lines.problem:
        notes.append(f"{lines.problem} ({rfc3339(end)})")
    if truncated_at:
        notes.append(f"recording too large: read the first {max_samples:,} samples (up to {rfc3339(end)}); "
                     "the rest is ignored")
    elif not eof:
        notes.append(f"the recording was cut off (no '# EOF': its recorder did not finish); read up to "
                     f"{rfc3339(end)}. `aitop record --repair {shown}` makes it loadable by promtool")
    if bad or lines.too_long:
        first = min(n for n in (first_bad, lines.first_too_long) if n)
        notes.append(f"{bad + lines.too_long:,} unreadable lines skipped (first at line {first:,})")
    if out_of_order:
        notes.append(f"{out_of_order:,} samples were out of time order (replayed in time order)")
    if over_series:
        notes.append(f"{over_series:,} series over the cap of {MAX_SERIES:,} per scrape were dropped")
    if after_eof:
        notes.append("text after '# EOF' was ignored")
    return Recording(
        path=shown, targets=targets, start=start, end=end, samples=total, gzipped=lines.gzipped,
        complete=eof and not (notes or lines.partial), notes=tuple(notes),
    )
