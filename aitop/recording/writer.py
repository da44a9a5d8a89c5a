"""Append scrapes to a recording as they happen; `# EOF` on close.

Every scrape is flushed to the file at once (for `.gz`, as a full gzip flush), so a recorder killed at any
moment leaves every finished scrape readable: the reader drops a cut-off last line, and `repair` writes the
missing `# EOF` (and the gzip trailer).
"""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Mapping
from io import BufferedIOBase
from pathlib import Path

from aitop.recording.format import EOF_LINE, scrape_block
from aitop.series import SeriesKey


def _open(path: Path) -> BufferedIOBase:
    # 0600 like aitop's other files: a recording holds whatever the targets expose.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    raw = os.fdopen(fd, "wb")
    if path.name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)
    return raw


class Recorder:
    """Writes scrapes to `path` (gzip-compressed when it ends in `.gz`). Safe to call from several tasks or
    threads; `close()` is idempotent."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: BufferedIOBase | None = _open(self.path)
        self._lock = threading.Lock()
        self.scrapes = 0
        self.samples = 0
        #: Series left out because OpenMetrics cannot carry their names unquoted.
        self.skipped = 0
        #: Why writing stopped (a full disk…), None while it goes on.
        self.error: str | None = None

    def scrape(self, instance: str, wall: float, samples: Mapping[SeriesKey, float] | None) -> None:
        """Record one scrape of `instance` at unix time `wall`; `samples` None records a failed scrape."""
        text, skipped = scrape_block(instance, wall, samples)
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(text.encode("utf-8", "surrogateescape"))
                self._file.flush()  # gzip: a sync flush, so everything so far decompresses after a crash
                raw = getattr(self._file, "fileobj", None)
                if raw is not None:
                    raw.flush()
            except OSError as exc:  # a full disk must not stop the scrapes (or the TUI) that feed it
                self.error = f"recording to {self.path} stopped: {exc.strerror or type(exc).__name__}"
                self._file = None
                return
            self.scrapes += 1
            self.samples += len(samples or ()) - skipped
            self.skipped += skipped

    def close(self) -> None:
        """Write `# EOF` and close the file."""
        with self._lock:
            if self._file is None:
                return
            file, self._file = self._file, None
            file.write(f"{EOF_LINE}\n".encode())
            raw = getattr(file, "fileobj", None)
            file.close()
            if raw is not None:
                raw.close()
