"""Running a program in a real pseudo-terminal: size, environment, a reader that timestamps every byte it
drains, and the program's CPU time from /proc."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import subprocess
import tempfile
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def clean_env(home: str) -> dict[str, str]:
    """A terminal-like environment as an SSH session gets it (TERM=xterm-256color; ssh forwards no
    COLORTERM, so 256 colours), with a throwaway HOME: no user config, logs kept out of the real one."""
    dropped = ("AITOP_", "PROMETHEUS_", "XDG_", "NO_COLOR", "COLORTERM", "TEXTUAL_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env.update(HOME=home, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               XDG_CONFIG_HOME=f"{home}/.config", XDG_STATE_HOME=f"{home}/.state", XDG_CACHE_HOME=f"{home}/.cache")
    return env


class Terminal:
    """`argv` running on the slave side of a pty of `columns`×`lines`; output drained and timestamped."""

    def __init__(self, argv: Sequence[str], *, columns: int = 120, lines: int = 40) -> None:
        self._home = tempfile.TemporaryDirectory(prefix="aitop-bench-")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, close_fds=True, start_new_session=True,
            env=clean_env(self._home.name),
        )
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, bytes]] = []  # (monotonic, bytes) as read
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    @property
    def home(self) -> str:
        return self._home.name

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the program closed the terminal
                return
            if not data:
                return
            with self._lock:
                self.chunks.append((time.monotonic(), data))

    def output(self, since: float = 0.0, until: float = float("inf")) -> bytes:
        with self._lock:
            return b"".join(data for at, data in self.chunks if since <= at < until)

    def bytes_between(self, since: float, until: float) -> int:
        with self._lock:
            return sum(len(data) for at, data in self.chunks if since <= at < until)

    def wait_for(self, needles: Sequence[bytes], timeout: float) -> float | None:
        """Seconds from launch until any of `needles` appeared in the output, or None on timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline and self.process.poll() is None:
            with self._lock:
                chunks = list(self.chunks)
            text = b"".join(data for _, data in chunks)
            for needle in needles:
                index = text.find(needle, max(0, seen - len(needle)))
                if index >= 0:
                    offset = 0
                    for at, data in chunks:  # when did the chunk that completed the needle arrive?
                        offset += len(data)
                        if offset >= index + len(needle):
                            return at - self.started
            seen = len(text)
            time.sleep(0.005)
        return None

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def close(self) -> None:
        """Stop the program (its whole session, by its own process group id) and free the pty."""
        if self.process.poll() is None:
            try:
                os.write(self.master, b"q")
                self.process.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(2)
        self._home.cleanup()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
