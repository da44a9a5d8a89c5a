"""The real TUI in a real pseudo-terminal: an ISO-8859-1 locale, job control (ctrl+z, SIGTSTP/SIGCONT) and
ctrl+l. Asserts on the bytes that reach the terminal and on the process state the kernel reports."""

from __future__ import annotations

import os
import re
import signal
import time

from conftest import MODELS
from kit import PtySession, aitop_env, plain

#: The table's header: drawn once and never again unless the whole screen is repainted.
HEADER = "req/s"


def process_state(pid: int) -> str:
    """The kernel's one-letter state of `pid` (`T` = stopped)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def wait_for_state(session: PtySession, state: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while process_state(session.process.pid) != state and time.monotonic() < deadline:
        session.read(0.05)
    return process_state(session.process.pid) == state


def repainted(session: PtySession, since: int, timeout: float = 10.0) -> bool:
    """Whether the header row was drawn again after byte `since` of the output."""
    return session.read_until(lambda out: HEADER in plain(out[since:]), timeout)


def test_tui_in_an_iso_8859_1_locale_draws_stand_ins_never_escapes(exporter, latin1_locale, tmp_path):
    env = aitop_env(tmp_path, LANG=latin1_locale, LC_ALL=latin1_locale)
    session = PtySession([exporter, "--interval", "0.5"], env)
    try:
        assert session.read_until(b"llama-3.1-8b", 20.0), session.output[-2000:]
        assert session.read_until(b"1/1 up", 10.0)
        session.read(1.0)  # a few polls: rates, alerts, the trend column's blocks
        session.write(b"q")
        assert session.wait(10) == 0
    finally:
        session.stop()
    output = session.output
    text = output.decode("iso8859-1")
    print(f"FIGURES latin-1 pty: {len(output)} bytes")
    assert b"Traceback" not in output
    # Python's stderr default would print `\u2713` (six columns for one) and tear every line after it.
    assert "\\u" not in text and "\\U" not in text, text[text.find("\\u") - 80 : text.find("\\u") + 80]
    for symbol in ["✓", "▲", "‼", "—", "👎", "▁", "─"]:
        assert symbol.encode("utf-8") not in output, symbol
    screen = re.sub(r"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]", "", text)  # what the terminal shows, as ISO-8859-1
    assert "v 1/1 up" in screen  # ✓ 1/1 up
    assert "vreq/s" in screen and "-1 %" in screen  # the ▼ sort arrow, the 👎 % heading (two cells)
    assert "café-7b" in screen and "??-7b" in screen  # latin-1 keeps its é; 模型 is one ? per cell


def test_job_control_and_ctrl_l_repaint_the_whole_screen(exporter, tmp_path):
    # A long interval: no poll redraws anything while the test looks for the repaint.
    session = PtySession([exporter, "--interval", "60"], aitop_env(tmp_path))
    try:
        assert session.read_until(lambda out: HEADER in plain(out) and MODELS[0] in plain(out), 20.0)
        session.read(1.0)

        # ctrl+z is a key in raw mode: it must stop the process, as in top (the shell's `fg` sends SIGCONT).
        session.write(b"\x1a")
        assert wait_for_state(session, "T"), "ctrl+z did not suspend aitop"
        mark = len(session.output)
        os.kill(session.process.pid, signal.SIGCONT)
        assert repainted(session, mark), plain(session.output[mark:])[-500:]

        # SIGTSTP / SIGCONT from outside (kill -TSTP, a shell's job control).
        session.read(0.5)
        os.kill(session.process.pid, signal.SIGTSTP)
        assert wait_for_state(session, "T"), "SIGTSTP did not suspend aitop"
        mark = len(session.output)
        os.kill(session.process.pid, signal.SIGCONT)
        assert repainted(session, mark), plain(session.output[mark:])[-500:]

        # ctrl+l: a repaint on request.
        session.read(0.5)
        mark = len(session.output)
        session.write(b"\x0c")
        assert repainted(session, mark), plain(session.output[mark:])[-500:]

        session.write(b"q")
        assert session.wait(10) == 0
    finally:
        session.stop()
    assert b"Traceback" not in session.output
