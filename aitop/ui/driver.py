"""The terminal driver: Textual's Linux driver, with an input thread that sleeps until a key comes.

Textual's input thread waits for the terminal with a 0.1 s timeout, so it can notice that it should stop
and can time out a lone Escape: ten wake-ups a second, which were two thirds of an idle aitop's CPU
(1.0 of 1.3 ms per second, measured per thread from /proc). This one waits without a timeout, except
while the key parser is waiting to tell a lone Escape from the start of a sequence (then exactly until
that moment), and is woken through a pipe when it must stop (quit, ctrl+z).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


class _WakingEvent(threading.Event):
    """An event that also writes a byte to a pipe when set, so a thread blocked on the pipe wakes up."""

    def __init__(self) -> None:
        super().__init__()
        #: The running input thread's pipe (None between threads: a suspended app has none). Changed and
        #: written under `pipe_lock`, so a byte never goes to a descriptor already closed (and maybe reused).
        self.wake_fd: int | None = None
        self.pipe_lock = threading.Lock()

    def set(self) -> None:
        # The event first: a thread woken by the byte must find it set, or it would go back to sleep for good.
        super().set()
        with self.pipe_lock:
            if self.wake_fd is not None:
                with contextlib.suppress(OSError):  # the pipe is full: the thread has bytes to wake on already
                    os.write(self.wake_fd, b"x")


def parser_deadline(parser: Any, now: float) -> float | None:
    """Seconds the input thread may sleep: None (until input) unless the parser waits to time out a key."""
    deadline = getattr(parser, "_timeout_time", None)
    return None if deadline is None else max(0.0, deadline - now)


class QuietLinuxDriver(LinuxDriver):
    """`LinuxDriver` whose input thread blocks until input, a key timeout, or the stop signal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event: _WakingEvent = _WakingEvent()

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's loop, with the sleeps described above)."""
        # A pipe per thread: a suspension (ctrl+z) ends the thread and closes the driver, a resume starts
        # another.
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        with self.exit_event.pipe_lock:
            self.exit_event.wake_fd = wake_write
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(wake_read, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            ready = [key for key, mask in events if mask & selectors.EVENT_READ]
            for key in ready:
                if key.fd == wake_read:
                    _drain(wake_read)
                    continue
                data = decode(os.read(self.fileno, 1024 * 4), final=final)
                if not data:  # stdin piped and closed
                    break
                for event in parser.feed(data):
                    self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(parser_deadline(parser, get_time())))
            selector.unregister(self.fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            with self.exit_event.pipe_lock:
                self.exit_event.wake_fd = None
                os.close(wake_read)
                os.close(wake_write)
            try:
                for _event in parser.feed(""):
                    pass
            except Exception:  # EOFError or ParseError at the end of input, as Textual's loop allows
                pass


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):  # empty (EAGAIN)
        while os.read(fd, 512):
            pass
