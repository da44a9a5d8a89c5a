"""The incident buffer: the last minutes of scrapes kept in memory, written out when a critical alert fires.

On-call questions start after the fact ("what did it look like just before?"). The buffer holds what the
scrape collector read over the last `keep` seconds, compactly — per scrape a key tuple shared with the
previous scrape of the target while its series stay the same, and the values as an array of doubles, so
about 8 bytes a sample — and never more than `max_samples` samples (oldest dropped first). When a critical
alert starts firing, `IncidentMonitor` writes the buffer to the state directory as a recording
(`incident-<UTC time>-<rule>.om.gz`), at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from array import array
from collections import deque
from collections.abc import Mapping
from operator import is_
from pathlib import Path

from aitop.monitor import Monitor
from aitop.recording.writer import Recorder
from aitop.series import SeriesKey

log = logging.getLogger(__name__)

#: Samples the buffer holds at most (~16 MB of values plus the shared keys).
MAX_SAMPLES = 2_000_000
#: Seconds between two incident files.
MIN_GAP = 60.0


class IncidentBuffer:
    """The last `keep` seconds of scrapes, within `max_samples`. Takes scrapes like a `Recorder`."""

    def __init__(self, keep: float = 900.0, max_samples: int = MAX_SAMPLES) -> None:
        self.keep = keep
        self.max_samples = max_samples
        self.samples = 0
        self._scrapes: deque[tuple[str, float, tuple[SeriesKey, ...], array | None]] = deque()
        self._keys: dict[str, tuple[SeriesKey, ...]] = {}

    def scrape(self, instance: str, wall: float, samples: Mapping[SeriesKey, float] | None) -> None:
        """Keep one scrape (None: a failed one) and forget what is older than `keep` or over the bound."""
        if samples is None:
            self._scrapes.append((instance, wall, (), None))
        else:
            keys = self._keys.get(instance, ())
            if len(keys) != len(samples) or not all(map(is_, keys, samples)):  # C-speed: 2x the generator's
                keys = self._keys[instance] = tuple(samples)
            self._scrapes.append((instance, wall, keys, array("d", samples.values())))
            self.samples += len(keys)
        while self._scrapes and (
            self._scrapes[0][1] < wall - self.keep or self.samples > self.max_samples
        ):
            _, _, old, _ = self._scrapes.popleft()
            self.samples -= len(old)

    def __len__(self) -> int:
        return len(self._scrapes)

    def contents(self) -> list:
        """What the buffer holds now (a cheap list of references: scrapes are never changed once kept)."""
        return list(self._scrapes)

    def write(self, path: str | Path, contents: list | None = None) -> int:
        """Write the buffer (or `contents` taken from it earlier) as a recording; returns the scrapes written."""
        recorder = Recorder(path)
        try:
            for instance, wall, keys, values in self.contents() if contents is None else contents:
                recorder.scrape(instance, wall, None if values is None else dict(zip(keys, values)))
        finally:
            recorder.close()
        return recorder.scrapes


class Tee:
    """Hands each scrape to several recorders (a `--record` file and the incident buffer)."""

    def __init__(self, *recorders) -> None:
        self.recorders = recorders

    def scrape(self, instance: str, wall: float, samples: Mapping[SeriesKey, float] | None) -> None:
        for recorder in self.recorders:
            recorder.scrape(instance, wall, samples)


def incident_name(stamp: float, rule: str) -> str:
    """`incident-20261205T031200Z-error_rate_critical.om.gz`: sortable by time, the rule made file-safe."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", rule)[:60] or "alert"
    return f"incident-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(stamp))}-{safe}.om.gz"


class IncidentMonitor(Monitor):
    """A `Monitor` that writes `buffer` to `directory` when a critical alert starts firing."""

    def __init__(self, collector, *, buffer: IncidentBuffer, directory: Path, **kwargs) -> None:
        super().__init__(collector, **kwargs)
        self.buffer = buffer
        self.directory = Path(directory)
        self.written: list[Path] = []
        self._last_write = -float("inf")
        self._writing: asyncio.Task | None = None

    async def refresh(self):
        snapshot = await super().refresh()
        if (self.new_critical and len(self.buffer) and snapshot.taken_at - self._last_write >= MIN_GAP
                and (self._writing is None or self._writing.done())):
            self._last_write = snapshot.taken_at
            path = self.directory / incident_name(snapshot.taken_at, self.new_critical[0].rule)
            # What the buffer holds at the alert, not when the write gets its turn.
            self._writing = asyncio.create_task(self._write(path, self.buffer.contents()))
        return snapshot

    async def _write(self, path: Path, contents: list) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            scrapes = await asyncio.to_thread(self.buffer.write, path, contents)
        except OSError as exc:
            log.warning("incident buffer not written to %s: %s", path, exc.strerror)
            return
        self.written.append(path)
        log.warning("critical alert: the last %d scrapes were written to %s", scrapes, path)

    async def aclose(self) -> None:
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        await super().aclose()
