"""aitop's terminal driver: an input thread that sleeps until input, a key timeout or the stop signal, and
always stops when told (its loop run on a pipe, without a terminal or an app)."""

from __future__ import annotations

import os
import threading
import time

from textual import events

from aitop.ui import driver as driver_module
from aitop.ui.driver import QuietLinuxDriver, _WakingEvent

#: A hang detector, not a speed bound: the thread answers in milliseconds.
HANG = 10.0


def _input_thread() -> tuple[QuietLinuxDriver, int, list[object], threading.Thread]:
    # Built without __init__: LinuxDriver's own would install SIGTSTP/SIGCONT handlers in the test process.
    driver = QuietLinuxDriver.__new__(QuietLinuxDriver)
    read, write = os.pipe()
    driver.fileno, driver._debug, driver.exit_event = read, False, _WakingEvent()
    messages: list[object] = []
    driver.process_message = messages.append  # type: ignore[method-assign]
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    return driver, write, messages, thread


def _wait_for(condition) -> bool:
    deadline = time.monotonic() + HANG
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def _keys(messages: list[object]) -> list[str]:
    return [message.key for message in messages if isinstance(message, events.Key)]


def test_the_stop_event_is_set_before_the_wake_byte_is_written(monkeypatch):
    """The other order let the thread wake on the byte, find the event not yet set and sleep for good: the
    app then hung on quit (seen under load in the fault tests)."""
    event = _WakingEvent()
    read, write = os.pipe()
    event.wake_fd = write
    seen: list[bool] = []
    real_write = os.write
    monkeypatch.setattr(driver_module.os, "write", lambda fd, data: (seen.append(event.is_set()), real_write(fd, data))[1])
    event.set()
    assert seen == [True] and os.read(read, 16) == b"x"
    event.clear()
    event.wake_fd = None  # no thread: nothing is written anywhere
    event.set()
    assert seen == [True]
    os.close(read)
    os.close(write)


def test_the_input_thread_reads_keys_times_out_a_lone_escape_and_always_stops():
    for _ in range(30):  # started and stopped again and again, as quit and ctrl+z do
        driver, write, messages, thread = _input_thread()
        os.write(write, b"q")
        assert _wait_for(lambda messages=messages: "q" in _keys(messages)), messages
        driver.exit_event.set()
        thread.join(HANG)
        assert not thread.is_alive(), "the input thread did not stop"
        os.close(write)
        os.close(driver.fileno)
    driver, write, messages, thread = _input_thread()
    os.write(write, b"\x1b")  # nothing follows: only the parser's timeout tells it is the Escape key
    assert _wait_for(lambda: "escape" in _keys(messages)), messages
    driver.exit_event.set()
    thread.join(HANG)
    assert not thread.is_alive()
