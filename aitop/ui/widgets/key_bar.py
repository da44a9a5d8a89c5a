"""The bottom line of keys: the screen's shown bindings as one line of `Text`.

Textual's `Footer` builds a widget per key and re-styles all of them whenever focus moves; over SSH, and in
a test suite that opens hundreds of screens, one `Static` redrawn from `active_bindings` is much cheaper
and shows the same thing.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Static

from aitop.ui.typed import aitop_app


class KeyBar(Static):
    """`key description` pairs for every shown binding of the focused chain, palette key on the right."""

    def __init__(self) -> None:
        super().__init__(markup=False)
        self._shown: tuple[object, ...] = ()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.call_after_refresh(self.show_keys)

    def on_unmount(self) -> None:
        # Signals hold their subscribers until they next publish: a closed screen's bar would stay in memory.
        self.screen.bindings_updated_signal.unsubscribe(self)
        self.app.theme_changed_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen) -> None:
        self.show_keys()

    def _theme_changed(self, _theme: Theme) -> None:
        self.show_keys()

    def show_keys(self) -> None:
        """Redraw from the screen's active bindings."""
        if not self.is_attached:
            return
        key_style = Style(color=self.app.theme_variables.get("accent", "yellow"), bold=True)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        seen: set[str] = set()
        palette = None
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action in ("command_palette", "app.command_palette") and binding.key == "ctrl+p":
                palette = binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            description = binding.description
            if binding.action == "toggle_pause" and aitop_app(self).paused:
                description = "Resume"  # the one key whose meaning flips with the state it shows
            text.append(f" {self.app.get_key_display(binding)} ", key_style if enabled else Style(dim=True))
            text.append(f"{description} ", Style(dim=not enabled))
        if palette is not None:
            hint = Text.assemble((f" {self.app.get_key_display(palette)} ", key_style), "palette ")
            room = self.size.width - text.cell_len - hint.cell_len
            if room > 0:
                text.append(" " * room)
                text.append_text(hint)
        signature = (text.plain, tuple(text.spans))
        if signature != self._shown:  # bindings change on every focus move; the keys mostly do not
            self._shown = signature
            self.update(text, layout=False)  # always one line: no need to lay the screen out again

    def on_resize(self) -> None:
        self.show_keys()
