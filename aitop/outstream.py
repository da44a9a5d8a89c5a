"""Standard output that can fail: closed, a full disk (`> /dev/full`), a pipe whose reader went away.

None of these is a bug in aitop, so none may end in the crash path (exit 70 and a crash file). `guarded_stdout`
stands in for `sys.stdout` while a command runs: the first failed write or flush is remembered and everything
after it is dropped, so the command finishes its own way; the caller then reports the loss in one line on
stderr and exits with `EXIT_OUTPUT_LOST`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Exit status when the output could not be written (EX_IOERR in sysexits.h; 70 stays "internal error").
EXIT_OUTPUT_LOST = 74


def stdout_closed() -> bool:
    """Whether the process was started with no usable file descriptor 1 (`aitop … >&-`)."""
    if sys.stdout is None:
        return True
    try:
        os.fstat(1)
    except OSError:
        return True
    return False


class GuardedOutput:
    """A text stream wrapper whose writes never raise; `lost` says why output stopped (None while fine)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.lost: str | None = None
        #: The reader went away (`aitop watch … | head`): its choice, so not reported as lost output.
        self.reader_gone = False

    def write(self, text: str) -> int:
        """Write `text`, or drop it once the stream has failed."""
        if self.lost is None:
            try:
                return self._stream.write(text)
            except (OSError, ValueError) as exc:
                self._lose(exc)
        return len(text)

    def flush(self) -> None:
        """Flush, recording (not raising) a failure."""
        if self.lost is None:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._lose(exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _lose(self, exc: BaseException) -> None:
        self.lost = exc.strerror if isinstance(exc, OSError) and exc.strerror else "stdout is closed"
        self.reader_gone = isinstance(exc, BrokenPipeError)
        # The interpreter flushes stdout once more at exit and would fail the same way ("Exception ignored",
        # status 120): the unwritten bytes go to /dev/null instead.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


@contextmanager
def guarded_stdout() -> Iterator[GuardedOutput]:
    """Replace `sys.stdout` by a `GuardedOutput` for the duration; flushed before it is taken away."""
    original = sys.stdout
    guard = GuardedOutput(original)
    sys.stdout = guard
    try:
        yield guard
    finally:
        guard.flush()
        if sys.stdout is guard:
            sys.stdout = original
