"""Small helpers shared by the fault-matrix tests."""

from __future__ import annotations

import asyncio
import fcntl
import html
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from server import FaultServer

from aitop.model import Snapshot
from aitop.monitor import Monitor
from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.sources.scrape.collector import ScrapeCollector


def prometheus(server: FaultServer, clock=None, *, timeout: float = 2.0, **options) -> PrometheusCollector:
    """A Prometheus-mode collector for `server`, on `clock` (monotonic and wall) when given."""
    if clock is not None:
        options.update(wall_clock=clock, monotonic=clock)
    return PrometheusCollector(server.url, window=30, timeout=timeout, **options)


def scrape(*servers: FaultServer, clock=None, timeout: float = 2.0, window: float = 30.0) -> ScrapeCollector:
    options = {"wall_clock": clock, "monotonic": clock} if clock is not None else {}
    return ScrapeCollector([f"{s.url}/metrics" for s in servers], window=window, timeout=timeout, **options)


def monitor(collector, clock=None) -> Monitor:
    return Monitor(collector, clock=clock) if clock is not None else Monitor(collector)


def values(snapshot: Snapshot, field: str) -> dict[str, float | None]:
    """group -> value of `field`, over the snapshot's rows."""
    return {row.group: row.value(field) for row in snapshot.rows}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def resources() -> tuple[int, int, int]:
    """(open file descriptors, asyncio tasks, threads) of this process right now.

    Threads exclude the fault servers' own and the event loop's executor workers (a pool that grows to its
    fixed `max_workers` on demand): what is left would be a thread aitop started and lost."""
    workers = [t for t in threading.enumerate() if t.name.startswith("asyncio_")]
    loop = asyncio.get_running_loop()
    executor = getattr(loop, "_default_executor", None)
    assert executor is None or len(workers) <= executor._max_workers
    others = [t for t in threading.enumerate() if not t.name.startswith(("asyncio_", "fault-"))]
    return open_fds(), len(asyncio.all_tasks()), len(others)


async def settle(predicate, timeout: float = 2.0) -> bool:
    """Wait (a little at a time) until `predicate()` holds; True if it did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def screen_text(app) -> str:
    """The text on a Textual app's screen (from its SVG screenshot), one string, spaces restored."""
    svg = app.export_screenshot()
    return "".join(html.unescape(part) for part in re.findall(r">([^<]*)</text>", svg)).replace("\xa0", " ")


# -- a real terminal ----------------------------------------------------------------------------------

ESC_OR_C1 = re.compile(rb"\x1b|\xc2[\x80-\x9f]")

_CSI = re.compile(rb"\x1b\[([0-?]*)([ -/]*)([@-~])")
#: The CSI sequences Textual itself writes (by shape: private marker, intermediates, final byte): SGR,
#: cursor position (always row;column), private modes set/reset, the mode query, the kitty keyboard.
TEXTUAL_CSI = {"m", "H", "?h", "?l", "?$p", ">u", "<u", "?u"}
#: The one OSC Textual writes: the mouse pointer's shape (xterm OSC 22), a bare word.
_TEXTUAL_OSC = re.compile(rb"\x1b\]22;[a-z-]*(\x07|\x1b\\)")


def escape_audit(output: bytes) -> dict[str, int]:
    """Account for every escape sequence in a terminal capture.

    Everything Textual writes is a CSI sequence of a known shape (`TEXTUAL_CSI`, cursor moves always with
    both coordinates) or OSC 22; anything else — another CSI (`ESC[2J`, a bare `ESC[H`), any other OSC (title,
    clipboard, hyperlink), DCS/APC/PM/SOS, a lone ESC, or a C1 control (U+0080–U+009F, raw or UTF-8) — can
    only have come from data, and is counted in `from_data` (the test wants 0).
    """
    counts = {"bytes": len(output), "esc": output.count(b"\x1b"), "csi": 0, "osc22": 0, "from_data": 0,
              "c1": 0, "visible_escapes": output.count(b"^[")}
    foreign: list[bytes] = []
    for match in _CSI.finditer(output):
        params, intermediates, final = match.groups()
        shape = (bytes(c for c in params if c in b"?<=>") + intermediates + final).decode()
        if shape not in TEXTUAL_CSI or (final == b"H" and not re.fullmatch(rb"\d+;\d+", params)):
            foreign.append(match.group(0))
        counts["csi"] += 1
    rest = _CSI.sub(b"", output)
    counts["osc22"] = len(_TEXTUAL_OSC.findall(rest))
    rest = _TEXTUAL_OSC.sub(b"", rest)
    foreign += [rest[i : i + 16] for i in (m.start() for m in re.finditer(rb"\x1b", rest))]
    text = output.decode("utf-8", "surrogateescape")  # a raw 0x80–0x9F byte becomes a lone surrogate
    counts["c1"] = sum(1 for c in text if 0x80 <= ord(c) <= 0x9F or 0xDC80 <= ord(c) <= 0xDC9F)
    counts["from_data"] = len(foreign) + counts["c1"]
    counts["examples"] = foreign[:5]  # type: ignore[assignment]
    return counts


def set_size(fd: int, columns: int, lines: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))


class PtySession:
    """`python -m aitop …` in a real pseudo-terminal; every byte it writes is kept in `output`.

    `controlling`: the pty becomes the process's controlling terminal (as under sshd), so the kernel sends
    SIGWINCH on resize and SIGHUP when the master closes. Without it, neither signal ever arrives.
    """

    def __init__(self, args: Sequence[str], env: Mapping[str, str], *, size: tuple[int, int] = (120, 40),
                 controlling: bool = True, stderr=None, command: Sequence[str] | None = None) -> None:
        self.master, slave = pty.openpty()
        set_size(slave, *size)

        def become_controlling() -> None:  # runs in the child after setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            [*(command or (sys.executable, "-m", "aitop")), *args], stdin=slave, stdout=slave,
            stderr=stderr if stderr is not None else slave, env=dict(env), start_new_session=True,
            preexec_fn=become_controlling if controlling else None,
        )
        os.close(slave)
        self.output = b""
        self.closed = False

    def read(self, seconds: float = 0.0) -> bytes:
        """Read what arrives within `seconds` (at least what is already there)."""
        deadline = time.monotonic() + seconds
        got = b""
        while not self.closed:
            ready, _, _ = select.select([self.master], [], [], max(0.0, min(0.05, deadline - time.monotonic())))
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    break
                if not data:
                    break
                got += data
            elif time.monotonic() >= deadline:
                break
        self.output += got
        return got

    def read_until(self, needle: bytes | Callable[[bytes], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        test = needle if callable(needle) else (lambda out: needle in out)
        while not test(self.output):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.read(0.05)
                return test(self.output)
            self.read(0.05)
        return True

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float) -> int:
        """Wait for the exit, reading all the while (a full pty buffer would block the app's writes)."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.process.args, timeout)
            self.read(0.05)
        self.read(0.05)
        return self.process.returncode

    def resize(self, columns: int, lines: int) -> None:
        set_size(self.master, columns, lines)  # the kernel signals SIGWINCH to a controlling terminal's group

    def close_master(self) -> None:
        """What sshd does when the connection drops."""
        if not self.closed:
            self.closed = True
            os.close(self.master)

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.close_master()


def plain(output: bytes) -> str:
    """Terminal output with CSI sequences removed, as text (for looking for words on the screen)."""
    text = re.sub(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]", b"", output)
    return text.decode("utf-8", "replace")


def aitop_env(tmp: os.PathLike[str], **extra: str) -> dict[str, str]:
    """An environment for a child aitop: its own HOME/state/config dirs, a 256-colour terminal."""
    tmp = Path(tmp)
    dropped = ("AITOP_", "PROMETHEUS_", "NO_COLOR", "TEXTUAL", "COLUMNS", "LINES")  # the pty's size rules
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(TERM="xterm-256color", HOME=str(tmp), XDG_STATE_HOME=str(tmp / "state"),
               XDG_CONFIG_HOME=str(tmp / "config"), TEXTUAL_ANIMATIONS="none")
    env.update(extra)
    return env
