"""Guards around the running process: private logs and crash reports, the terminal check, hang-ups.

No traceback reaches the user's terminal and no local variable reaches a file: an unexpected error is
written, frames only, to a 0600 file in the platformdirs state directory.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import logging.handlers
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

from aitop.secret import mask

log = logging.getLogger("aitop.cli")


def state_dir() -> Path:
    path = Path(platformdirs.user_state_dir("aitop"))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


class MaskingFormatter(logging.Formatter):
    """Formats a record, traceback included, then masks every credential aitop holds: an exception's text
    can quote a server's answer, and that can echo a header back."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def setup_logging(to_file: bool) -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO if to_file else logging.WARNING)
    if to_file:  # a TUI owns the terminal: log lines on stderr would tear the screen
        path = state_dir() / "aitop.log"
        handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=1)
        with contextlib.suppress(OSError):
            path.chmod(0o600)  # private, like the crash reports
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    # httpx logs every request's full URL at INFO: query strings can carry API keys, and they are noise.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def write_crash_report(exc: BaseException) -> Path | None:
    """Write the traceback — frames only, never local variables, credentials masked — to a 0600 file."""
    try:
        path = state_dir() / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(mask("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
        return path
    except OSError:
        return None


def terminal_problem() -> str | None:
    """Why a full-screen UI cannot run here (None when it can): no TTY on either end, or a dumb terminal."""
    try:
        if not sys.stdin.isatty():
            return "stdin is not a TTY"
        if not sys.stdout.isatty():
            return "stdout is not a TTY"
    except (AttributeError, ValueError):  # closed or replaced streams
        return "no terminal"
    if os.environ.get("TERM", "") in ("dumb", "unknown"):
        return f"TERM={os.environ['TERM']}"
    return None


@contextlib.contextmanager
def crash_reports_without_locals(app_class: Any) -> Iterator[None]:
    """While the TUI runs, an exception escaping a handler goes to a private crash file, not the screen.

    Textual renders such an exception with `show_locals=True`: a bearer token in a local variable or a header
    dict would be printed on the terminal. Textual 8.2 routes every one of them through
    `App._handle_exception` (textual is pinned exactly, so this private hook is checked on upgrade).
    `app_class` is that App class, typed `Any`: the core does not import Textual to name it.
    """
    original = app_class._handle_exception

    from rich.text import Text

    def handle_exception(app, error: Exception) -> None:
        report = write_crash_report(error)
        where = f"; details in {report}" if report else ""
        log.error("internal error in the TUI (%s)%s", type(error).__name__, where)
        app._return_code = 1
        if app._exception is None:  # a pilot test re-raises it; a real run only exits
            app._exception = error
            app._exception_event.set()
        app._exit_renderables.append(Text(f"aitop: internal error ({type(error).__name__}){where}"))
        app._close_messages_no_wait()

    app_class._handle_exception = handle_exception
    try:
        yield
    finally:
        app_class._handle_exception = original


#: Errors with which writing to a terminal fails once it has hung up.
_HANGUP_ERRNOS = frozenset({errno.EIO, errno.ENXIO, errno.EBADF, errno.EPIPE})


@contextlib.contextmanager
def thread_errors_off_the_terminal(hangup_status: int = 129) -> Iterator[None]:
    """While the TUI runs, an exception that ends a thread never writes a traceback to the terminal.

    Textual's output thread ("textual-output") dies with EIO when the terminal hangs up (a dropped SSH
    session). Python would print its traceback to the dead tty, and the app's orderly exit would then wait
    for good on that thread's full queue (until the hang-up watchdog's hard exit). So that case ends the
    process at once with the hang-up status; any other thread's exception goes to a crash file without
    locals, like the app's own.
    """
    import threading

    original = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        if name == "textual-output" and isinstance(args.exc_value, OSError) and args.exc_value.errno in _HANGUP_ERRNOS:
            log.info("the terminal hung up (%s writing to it); exiting", errno.errorcode.get(args.exc_value.errno))
            os._exit(hangup_status)
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        report = write_crash_report(args.exc_value)
        log.error("internal error in thread %s (%s)%s", name, args.exc_type.__name__,
                  f"; details in {report}" if report else "")

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = original


def exit_on_hangup(fd: int = 0) -> None:
    """End the process when the terminal hangs up, even if no SIGHUP arrives.

    A dropped SSH session that is not our controlling terminal (or SIGHUP ignored, as under nohup) sends no
    signal; Textual's input thread then reads EOF from the dead tty forever, spinning the CPU. A daemon thread
    waits for POLLHUP on stdin, then raises SIGHUP — the app's own
    handler exits cleanly with status 129 — and exits hard 3 s later if nothing handled it.
    """
    import select
    import signal
    import threading

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLHUP | select.POLLERR | select.POLLNVAL)  # hang-ups only, not input
        while True:
            events = poller.poll()
            if any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events):
                os.kill(os.getpid(), signal.SIGHUP)
                time.sleep(3.0)
                os._exit(129)

    threading.Thread(target=watch, name="aitop-hangup-watch", daemon=True).start()
