"""The notice that replaces a screen when the terminal is below the size aitop can lay out."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

#: Smallest usable terminal; below it every screen shows only this notice.
MIN_WIDTH = 60
MIN_HEIGHT = 15


class TooSmall(Static):
    """Hidden by CSS unless the screen carries the `-tiny` or `-short` breakpoint class."""

    def __init__(self) -> None:
        super().__init__(markup=False, classes="too-small")

    def on_mount(self) -> None:
        self.say(self.app.size.width, self.app.size.height)

    def say(self, width: int, height: int) -> None:
        """Name the current size in the notice."""
        self.update(Text(
            f"Terminal too small: {width}×{height}\nneeds {MIN_WIDTH}×{MIN_HEIGHT} · q quits",
            justify="center",
        ))  # fmt: skip
