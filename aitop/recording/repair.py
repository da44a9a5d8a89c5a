"""Rewrite a recording a crash cut off (or one with unreadable lines) as a complete one.

What `read_recording` can read is written again, in time order, ending with `# EOF` (and, for gzip, a
proper trailer), so promtool and VictoriaMetrics load it. The original is kept beside it as `FILE.broken`.
"""

from __future__ import annotations

import os
from pathlib import Path

from aitop.recording.reader import Recording, read_recording, rfc3339
from aitop.recording.writer import Recorder


def write_recording(recording: Recording, path: str | os.PathLike[str]) -> None:
    """Write `recording` to `path` (gzip when it ends in `.gz`), scrapes of all targets in time order."""
    order = sorted(
        (stamp, instance, index)
        for instance, target in recording.targets.items()
        for index, stamp in enumerate(target.times)
    )
    recorder = Recorder(path)
    try:
        for stamp, instance, index in order:
            recorder.scrape(instance, stamp, recording.targets[instance].samples[index])
    finally:
        recorder.close()


def repair(path: str | os.PathLike[str]) -> str:
    """Repair the recording at `path` in place; returns what was done, for the user."""
    recording = read_recording(path)
    source = Path(path)
    if recording.complete:
        return f"{recording.path} is complete ({recording.scrapes:,} scrapes, ends with '# EOF'): nothing to repair"
    # Written beside the original under a temporary name, so a failure half-way leaves the original as it was.
    suffix = ".gz" if source.name.endswith(".gz") else ""
    temporary = source.with_name(f".{source.name}.repairing{suffix}")
    write_recording(recording, temporary)
    broken = source.with_name(source.name + ".broken")
    os.replace(source, broken)
    os.replace(temporary, source)
    problems = "; ".join(note.split(". `aitop record")[0] for note in recording.notes) or "no '# EOF'"
    return (
        f"repaired {recording.path}: {recording.scrapes:,} scrapes of {len(recording.targets)} target(s), "
        f"{recording.samples:,} samples from {rfc3339(recording.start)} to {rfc3339(recording.end)} kept "
        f"({problems}); the original is kept as {broken.name}"
    )
