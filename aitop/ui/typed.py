"""Typed access to the running `AitopApp` from screens, widgets and command providers.

Textual types `node.app` as `App[Any]`, so `app.monitor`, `app.views` or `app.request_poll` would each need
a `type: ignore`. Every aitop screen and widget runs inside an `AitopApp` (or a subclass), so one cast here
says so once, and the type checker then checks every use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.app import App
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

if TYPE_CHECKING:  # a runtime import would be circular: the app imports the screens
    from aitop.ui.app import AitopApp

ResultT = TypeVar("ResultT")


def aitop_app(owner: DOMNode | App[Any]) -> AitopApp:
    """The `AitopApp` that `owner` (a node, or the app itself) runs in."""
    return cast("AitopApp", owner if isinstance(owner, App) else owner.app)


class AitopScreen(Screen[ResultT]):
    """A screen of aitop: `self.aitop` is the running app, typed; its workers' failures reach the app's
    error router (Textual tells only the node that started a worker, and does not bubble it)."""

    @property
    def aitop(self) -> AitopApp:
        """The running app, with its monitor, views, poll state and snapshot."""
        return aitop_app(self)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.aitop.on_worker_state_changed(event)


class AitopModalScreen(ModalScreen[ResultT]):
    """A dialog of aitop: like `AitopScreen`, over the screen below it."""

    @property
    def aitop(self) -> AitopApp:
        """The running app, with its monitor, views, poll state and snapshot."""
        return aitop_app(self)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.aitop.on_worker_state_changed(event)
