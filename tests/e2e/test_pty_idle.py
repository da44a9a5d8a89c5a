"""The real TUI left alone in a real pseudo-terminal: nothing wakes it between refreshes, and keys (a lone
Escape included) are still answered. Asserts on the kernel's count of each thread's wake-ups."""

from __future__ import annotations

import os

from conftest import MODELS
from kit import PtySession, aitop_env, plain


def wakeups(pid: int) -> dict[str, int]:
    """Voluntary context switches (wake-ups after a wait) of each thread of `pid`, by thread id."""
    counts = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as status:
                text = status.read()
        except OSError:  # the thread ended meanwhile
            continue
        counts[tid] = int(text.split("voluntary_ctxt_switches:")[1].split()[0])
    return counts


def test_an_idle_tui_sleeps_until_a_key_and_still_answers_escape(exporter, tmp_path):
    # No poll within the test: whatever wakes now is the TUI's own idle work.
    session = PtySession([exporter, "--interval", "60"], aitop_env(tmp_path))
    try:
        assert session.read_until(lambda out: MODELS[0] in plain(out), 20.0), plain(session.output)[-500:]
        session.read(1.0)
        before = wakeups(session.process.pid)
        session.read(3.0)
        after = wakeups(session.process.pid)
        # Textual's own input thread waits 0.1 s at a time: ~30 wake-ups in 3 s, and the status line's
        # one-second tick 3 more on the main thread. Now neither: only stray wake-ups (a late answer of the
        # terminal queries sent at start).
        busiest = max(after[tid] - before[tid] for tid in before if tid in after)
        print(f"FIGURES idle pty: most wake-ups of one thread in 3 s: {busiest}")
        assert busiest <= 5, (before, after)

        session.write(b"?")  # a key is read at once
        assert session.read_until(lambda out: "this list of keys" in plain(out) or "Keys" in plain(out), 10.0)
        mark = len(session.output)
        session.write(b"\x1b")  # a lone Escape is told from a sequence's start by a timeout: it still comes
        assert session.read_until(lambda out: MODELS[0] in plain(out[mark:]), 10.0), plain(session.output[mark:])
        session.write(b"q")
        assert session.wait(10) == 0
    finally:
        session.stop()
    assert b"Traceback" not in session.output
