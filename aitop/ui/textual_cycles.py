"""Two patches to Textual 8.2.8 so that drawing a frame and running a poll leave no reference cycles behind.

Reference counting frees what nothing refers to the moment it is dropped; an object in a reference cycle
waits for the cyclic collector, and so does everything it refers to. Textual made two such cycles at every
refresh of the live TUI, which is what kept the collector's thresholds at the default (aitop/gcpolicy.py):

- `Strip.divide(cuts)` caches its answer in the strip's own `_divide_cache`; when the only cut is the
  strip's own length, that answer is `[self]`, so the strip holds a list that holds the strip. The
  compositor divides every line it redraws this way (`Compositor._render_chops`), most with that one cut:
  each drawn line was a cycle of the strip, its seven FIFOCaches and its segments (gc.DEBUG_SAVEALL over 5
  refreshes at 200 rows: 2,186 objects, all of them such strips and what they hold). The patched `divide`
  answers `[self]` for that cut without caching it and hands every other cut to Textual's own method: the
  same strips in the same order, only not remembered (a one-item list is cheaper to build than to look
  up); the compositor only reads the list it gets.
- `Worker._run` sets the `active_worker` context variable to the worker inside the worker's own task, so
  the worker holds its task, the task its context and the context the worker: every poll's worker was a
  cycle, and with it its result — the whole snapshot the poll returned, its rows and their drafts — stayed
  in memory until a collection found it (the live TUI at 6 rows: one such cycle per poll, holding ~170
  objects). The patched `_run` runs Textual's own and then resets the variable in that context to what it
  was before, once the work is over; everything the work and its callbacks see is unchanged.

The patches apply only to the Textual release they were written against (pinned in pyproject.toml) and only
when the methods are still Textual's own functions; otherwise Textual is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

import textual
from textual.strip import Strip
from textual.worker import Worker, active_worker

__all__ = ["ORIGINAL_DIVIDE", "ORIGINAL_RUN", "TEXTUAL_VERSION", "install", "installed"]

#: The Textual release whose `Strip.divide` and `Worker._run` this module was written against.
TEXTUAL_VERSION = "8.2.8"

#: Textual's own `Strip.divide`, kept to answer every cut but the whole strip.
ORIGINAL_DIVIDE: Callable[[Strip, Iterable[int]], Sequence[Strip]] = Strip.divide
#: Textual's own `Worker._run`, which the patched one runs.
ORIGINAL_RUN: Callable[[Worker[Any], Any], Coroutine[Any, Any, None]] = Worker._run


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    """`Strip.divide`, without caching the strip in itself when the one cut is its whole length."""
    cell_length = self.cell_length
    kept = [cut for cut in cuts if cut <= cell_length]
    if len(kept) == 1 and kept[0] == cell_length:
        return [self]
    return ORIGINAL_DIVIDE(self, kept)


async def _run(self: Worker[Any], app: Any) -> None:
    """`Worker._run`, leaving the task's context without a reference to the worker once it is over."""
    # Runs in the worker's task, whose context Textual's `_run` sets `active_worker` in: a token taken
    # here, in the same context, puts the variable back as it was when the task started.
    token = active_worker.set(self)
    try:
        await ORIGINAL_RUN(self, app)
    finally:
        active_worker.reset(token)


_PATCHES: tuple[tuple[type, str, Callable[..., Any], Callable[..., Any]], ...] = (
    (Strip, "divide", ORIGINAL_DIVIDE, _divide),
    (Worker, "_run", ORIGINAL_RUN, _run),
)


def installed() -> bool:
    """Whether both patched methods are in place."""
    return all(owner.__dict__.get(name) is patched for owner, name, _, patched in _PATCHES)


def install() -> bool:
    """Put the patched methods on `Strip` and `Worker` (once); True when they are there. False, and Textual
    unchanged, when it is not the release the patches were written for or a method is no longer the
    function this module read."""
    if installed():
        return True
    if textual.__version__ != TEXTUAL_VERSION:
        return False
    for owner, name, original, _ in _PATCHES:
        current = owner.__dict__.get(name)
        if current is not original or getattr(current, "__module__", None) != owner.__module__:
            return False
    for owner, name, _, patched in _PATCHES:
        setattr(owner, name, patched)
    return True


install()
