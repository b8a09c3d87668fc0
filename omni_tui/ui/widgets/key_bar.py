"""The footer: every live key of the screen and what it does, drawn as ONE widget on one row.

Textual's `Footer` mounts a widget per key and recomposes all of them (mount, restyle, two layouts,
a full repaint) each time the screen's bindings may have changed — on every focus move, every modal
opened or closed. Here the keys are pieces of one line (`key_bar_layout`): when the bindings change,
the row is read again when next drawn (one row repainted, from its cache when nothing changed);
nothing is mounted or laid out.

What a person gets is Textual's compact footer: `key description` entries, a binding group as
` np Hunk`, disabled keys dimmed, the palette's key docked at the right end (inline when the cockpit
is narrow), a hovered entry highlighted with its tooltip, a click pressing the key (a bell when it is
disabled). When the row is too narrow, the entries named in `gives_way` are left out first to last
(the help screen and the palette still list every action).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import groupby
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip

from omni_tui.ui.widgets.key_bar_layout import KeyCap, KeyEntry, Piece, lay_out, piece_at
from omni_tui.ui.widgets.one_row import OneRow

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyBar(OneRow):
    """The keys of the screen it is on (`Screen.active_bindings`), one row at the bottom."""

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--label", "key-bar--separator", "key-bar--hover"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        & > .key-bar--description { color: $footer-description-foreground; background: $footer-description-background; }
        & > .key-bar--label { color: $footer-description-foreground; background: $footer-description-background; }
        & > .key-bar--separator { color: $foreground 20%; }
        & > .key-bar--hover { background: $block-hover-background; }
    }
    """

    def __init__(self, gives_way: Sequence[str] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.gives_way = tuple(gives_way)
        self.entries: tuple[KeyEntry, ...] | None = None  # None until the screen's bindings are read
        self._stale = False  # the bindings changed since `entries` was read
        self._hover: tuple[int, int] | None = None  # (entry, key) under the mouse
        self._pieces: list[Piece] = []  # the pieces of the row `OneRow` keeps (laid out when it was drawn)

    # -- what it shows --------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # Textual's Footer skips these while the terminal is unfocused (the focus chain is then empty).
        if screen is not self.screen or not self.app.app_focus:
            return
        # Read when the row is next drawn, not now: the signal also fires while widgets are being removed
        # (a screen closing, the app quitting), when the actions' availability cannot be asked. A row
        # read the same as before is the cached strip. Under a modal, nothing is repainted (Textual
        # would draw the dimmed screen under the modal again): the screen's resume signals once more.
        self._stale = True
        if self.screen.is_current:
            self.refresh()

    def _read_entries(self) -> tuple[KeyEntry, ...]:
        """The screen's shown bindings as footer entries, grouped as Textual's Footer groups them."""
        app = self.app
        # The app may word an action by its state (z: Zoom, or Restore while a panel is zoomed).
        label = getattr(app, "key_label", lambda _action, description: description)
        active = self.screen.active_bindings
        by_action: defaultdict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _node, binding, enabled, tooltip in active.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        entries: list[KeyEntry] = []
        for group, runs in groupby(by_action.values(), lambda bindings: bindings[0][0].group):
            firsts = [bindings[0] for bindings in runs]  # an action bound to several keys shows its first
            if group is not None and len(firsts) > 1:
                caps = tuple(
                    KeyCap(b.key, app.get_key_display(b), b.action, enabled, tooltip or b.description) for b, enabled, tooltip in firsts
                )
                entries.append(KeyEntry(caps, group.description, grouped=True))
                continue
            for b, enabled, tooltip in firsts:
                entries.append(
                    KeyEntry((KeyCap(b.key, app.get_key_display(b), b.action, enabled, tooltip),), label(b.action, b.description))
                )
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, b, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            cap = KeyCap(b.key, app.get_key_display(b), b.action, enabled, b.tooltip or b.description)
            entries.append(KeyEntry((cap,), b.description, palette=True))
        return tuple(entries)

    @property
    def pieces(self) -> list[Piece]:
        """The row as laid out at the current width (what a click or a hover finds)."""
        self.row()
        return self._pieces

    # -- drawing (`OneRow`: the strip is kept while this key is the same) --------------------------------

    def row_key(self) -> tuple[object, ...]:
        if (self.entries is None or self._stale) and self.is_attached:
            self._stale = False
            self.entries = self._read_entries()
        return (self.entries or (), self.size.width, not self.screen.has_class("-narrow"), self._hover)

    def draw_row(self, width: int) -> Strip:
        entries = self.entries or ()
        pieces = lay_out(entries, width, self.gives_way, dock_palette=not self.screen.has_class("-narrow"))
        blank = self.blank_style()
        styles: dict[str, Style] = {
            kind: self.get_component_rich_style(f"key-bar--{kind}") for kind in ("key", "description", "label", "separator")
        }
        hover = Style(bgcolor=self.get_component_rich_style("key-bar--hover").bgcolor)
        dim = Style(dim=True)
        segments: list[Segment] = []
        x = 0
        for piece in pieces:
            if piece.x > x:
                segments.append(Segment(" " * (piece.x - x), blank))
            style = styles.get(piece.kind, blank)
            if piece.entry >= 0:
                if not entries[piece.entry].keys[piece.key].enabled:
                    style += dim
                if (piece.entry, piece.key) == self._hover:
                    style += hover
            segments.append(Segment(piece.text, style))
            x = piece.end
        self._pieces = pieces
        return Strip(segments).adjust_cell_length(width, blank).crop(0, width)

    # -- the mouse ------------------------------------------------------------------------------------

    def _cap_at(self, x: int) -> tuple[int, int] | None:
        """The (entry, key) drawn at column `x`, if a key is there."""
        piece = piece_at(self.pieces, x)
        return (piece.entry, piece.key) if piece is not None and piece.entry >= 0 and self.entries else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._cap_at(event.x)
        if hover != self._hover:
            self._hover = hover
            self.tooltip = self.entries[hover[0]].keys[hover[1]].tooltip or None if hover and self.entries else None
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        at = self._cap_at(event.x)
        if at is None or not self.entries:
            return
        cap = self.entries[at[0]].keys[at[1]]
        if cap.enabled:
            self.app.simulate_key(cap.key)
        else:
            self.app.bell()
