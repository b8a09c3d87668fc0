"""The cockpit's footer: Textual's `Footer`, keeping the keys that matter on screen when not all fit.

At 80 columns, with a pending proposal and direct edits, every live action wants a place and the row
overflows: Textual clips its end, which is where `? Help`, `q Quit` and `^p` sit. Here, once laid out,
the entries that give way (a fixed order: split, hunk keys, zoom … — never approve, reject, help, quit
or the palette) are hidden one by one until the rest fits. The help screen and the palette still list
every action, so nothing hidden is out of reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.widget import Widget
from textual.widgets import Footer

from omni_tui.ui.textual_compat import footer_entries, is_footer_key

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen


class CockpitFooter(Footer):
    def __init__(self, gives_way: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gives_way = tuple(gives_way)
        self._shown: tuple[object, ...] | None = None  # the bindings the footer was last composed from

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if self.compact and is_footer_key(widget):
                # Born compact: a FooterKey's compact watcher adds "-compact" as it mounts, and each add
                # restyles the key (15 keys, ~2 ms each, every time the footer is recomposed).
                widget.add_class("-compact", update=False)
            yield widget

    async def recompose(self) -> None:
        self._shown = self._bindings_signature()
        await super().recompose()  # every entry is back: measure again once laid out
        self.call_after_refresh(self.fit)

    def bindings_changed(self, screen: Screen) -> None:
        # Textual recomposes the footer (every key remounted and restyled, the row laid out again) each
        # time the screen says its bindings may have changed: several times per modal closed, per
        # focus move. When the keys the footer would show are the ones it shows, that is the same row.
        if self._bindings_ready and screen is self.screen and self._shown is not None and self._bindings_signature() == self._shown:
            return
        super().bindings_changed(screen)

    def _bindings_signature(self) -> tuple[object, ...] | None:
        """Everything Footer.compose reads from the bindings, for the keys it shows (None: not on a screen yet)."""
        if not self.is_attached:
            return None
        app = self.app
        return tuple(
            (key, binding, app.get_key_display(binding), enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING
        )

    def on_mount(self) -> None:
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        if self.is_mounted:
            self.call_after_refresh(self.recompose)

    def fit(self) -> None:
        """Hide the entries that give way, least needed first, until the others fit the row."""
        if not self.is_mounted or not self.size.width:
            return
        entries = footer_entries(self)
        docked = [widget for widget, _ in entries if widget.display and widget.styles.dock == "right"]
        flow = [(widget, ids) for widget, ids in entries if widget.display and widget not in docked]
        if not flow:
            return
        # Widths from what each entry shows (not from the last layout, which may predate this composition).
        room = self.size.width - sum(self._width(widget) for widget in docked)
        needed = sum(self._width(widget) for widget, _ in flow)
        for action in self._gives_way:
            if needed <= room:
                return
            for index, (widget, ids) in enumerate(flow):
                if action not in ids or not widget.display:
                    continue
                hidden: list[Widget] = [widget]
                if len(ids) > 1 and index + 1 < len(flow) and not flow[index + 1][1]:
                    hidden.append(flow[index + 1][0])  # a group's label goes with its keys
                for item in hidden:
                    needed -= self._width(item)
                    item.display = False

    def _width(self, widget: Widget) -> int:
        styles = widget.styles
        return widget.get_content_width(self.size, self.app.size) + styles.gutter.width + styles.margin.width
