"""Where each key of the footer goes on its one row: the entries as pieces of text, the ones that give way
hidden until the rest fits, the palette's key at the right end.

Textual-free, so the rules are tested without an app: `KeyBar` (key_bar.py) turns the screen's active
bindings into `KeyEntry`s, asks `lay_out` for the row at its width, and paints the `Piece`s it gets. The
spacing is the one of Textual's compact `Footer`: `key description`, one blank between entries; a
group is ` keys label` (" np Hunk"); the docked palette key is `▏^p Commands` at the right end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

from rich.cells import cell_len, set_cell_size

PieceKind = Literal["key", "description", "label", "gap", "separator"]


class KeyCap(NamedTuple):
    """One key as the footer shows it."""

    key: str  # as Textual names it (what a click presses)
    shown: str  # as the person reads it ("?", "^p")
    action: str
    enabled: bool = True  # False: dimmed, and a click rings the bell
    tooltip: str = ""


class KeyEntry(NamedTuple):
    """One place in the footer: a key and what it does, or a group of keys sharing one label."""

    keys: tuple[KeyCap, ...]
    description: str  # what the key does; for a group, the group's label
    grouped: bool = False  # a group: its keys side by side, then the label
    palette: bool = False  # the command palette's key (docked at the right end unless the row is narrow)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(cap.action for cap in self.keys)


class Piece(NamedTuple):
    """A run of text at column `x`; `entry` / `key` index the key it belongs to (-1: none, e.g. a gap)."""

    x: int
    text: str
    kind: PieceKind
    entry: int = -1
    key: int = -1

    @property
    def end(self) -> int:
        return self.x + cell_len(self.text)


def entry_pieces(entry: KeyEntry, index: int, *, docked: bool = False) -> list[tuple[str, PieceKind, int]]:
    """The (text, kind, key index) runs of one entry, the trailing blank included, from its first column."""
    runs: list[tuple[str, PieceKind, int]] = []
    if entry.grouped:
        runs.append((" ", "gap", -1))
        runs.extend((cap.shown, "key", key) for key, cap in enumerate(entry.keys))
        runs.append((" ", "gap", -1))
        runs.append((entry.description, "label", -1))
        runs.append((" ", "gap", -1))
        return runs
    if docked:
        runs.append(("▏", "separator", -1))
    runs.append((entry.keys[0].shown, "key", 0))
    if entry.description:
        runs.append((" " + entry.description, "description", 0))
    runs.append((" ", "gap", -1))
    return runs


def entry_width(entry: KeyEntry, *, docked: bool = False) -> int:
    return sum(cell_len(text) for text, _kind, _key in entry_pieces(entry, 0, docked=docked))


def lay_out(entries: Sequence[KeyEntry], width: int, gives_way: Sequence[str] = (), *, dock_palette: bool = True) -> list[Piece]:
    """The pieces of the row at `width`: entries in order, left to right; the palette's key docked at the
    right end when `dock_palette`; while the row is too wide, the entries holding the actions of
    `gives_way` are left out, first to last. What still does not fit is cut at the edge."""
    docked = [i for i, entry in enumerate(entries) if entry.palette and dock_palette]
    flow = [i for i in range(len(entries)) if i not in docked]
    room = width - sum(entry_width(entries[i], docked=True) for i in docked)
    needed = sum(entry_width(entries[i]) for i in flow)
    for action in gives_way:
        if needed <= room:
            break
        for i in [i for i in flow if action in entries[i].actions]:
            needed -= entry_width(entries[i])
            flow.remove(i)
    pieces: list[Piece] = []
    x = 0
    for i in flow:
        for text, kind, key in entry_pieces(entries[i], i):
            if x >= room:
                break
            if x + cell_len(text) > room:
                text = set_cell_size(text, room - x)
            pieces.append(Piece(x, text, kind, i if kind not in ("gap", "label") else -1, key))
            x += cell_len(text)
    x = max(room, 0)
    for i in docked:
        for text, kind, key in entry_pieces(entries[i], i, docked=True):
            pieces.append(Piece(x, text, kind, i if kind not in ("gap", "separator") else -1, key))
            x += cell_len(text)
    return pieces


def piece_at(pieces: Sequence[Piece], x: int) -> Piece | None:
    """The piece drawn at column `x`, if any."""
    for piece in pieces:
        if piece.x <= x < piece.end:
            return piece
    return None
