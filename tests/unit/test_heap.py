"""glibc's malloc held to two arenas in the long-running commands (the TUI, `watch`)."""

from __future__ import annotations

import ctypes
import sys

import aitop.heap as heap
from aitop import cli


class FakeLibc:
    def __init__(self, answer: int) -> None:
        self.answer, self.calls = answer, []

    @property
    def mallopt(self):
        def mallopt(parameter: int, value: int) -> int:
            self.calls.append((parameter, value))
            return self.answer

        return mallopt


def test_the_cap_asks_glibc_for_two_arenas_and_says_whether_it_took(monkeypatch):
    libc = FakeLibc(1)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.setattr(sys, "platform", "linux")
    assert heap.cap_malloc_arenas() is True and libc.calls == [(heap.M_ARENA_MAX, 2)] and heap.M_ARENA_MAX == -8
    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc(0))  # e.g. musl's mallopt, which does nothing
    assert heap.cap_malloc_arenas() is False


def test_without_glibc_nothing_is_asked(monkeypatch):
    libc = FakeLibc(1)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert heap.cap_malloc_arenas() is False and libc.calls == []

    def no_mallopt(name):
        raise AttributeError("mallopt")

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", no_mallopt)
    assert heap.cap_malloc_arenas() is False


def test_the_tui_and_watch_cap_the_arenas_before_they_start(monkeypatch, capsys):
    import aitop.ui.app as app

    capped = []
    monkeypatch.setattr(cli, "cap_malloc_arenas", lambda: capped.append(True) or True)
    monkeypatch.setattr(app, "has_terminal", lambda: False)  # the TUI then stops right after
    assert cli.main(["127.0.0.1:1/metrics"]) == 2
    assert capped == [True]
    assert cli.main(["watch", "127.0.0.1:1/metrics", "--count", "1", "--interval", "1s"]) in (0, 1, 2, 3)
    assert capped == [True, True]
