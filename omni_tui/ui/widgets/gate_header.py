"""The one-line header: the gate state (CLEAN, N PENDING, UNAPPROVED EDITS, REBUILDING, FAILED, TAMPERED) and the workspace."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip

from omni_tui.core.gate.kinds import GATE_KINDS, gate_label
from omni_tui.core.terminal import inert
from omni_tui.ui.widgets.one_row import OneRow


def sandboxed_text(count: int) -> str:
    """`1 agent sandboxed`, `3 agents sandboxed` (`omni-tui run`), or nothing."""
    return f"{count} agent{'s' if count != 1 else ''} sandboxed" if count > 0 else ""


def gate_detail(kind: str, pending: int, unapproved: Sequence[str], note: str = "", sandboxed: int = 0) -> str:
    """What else is waiting besides the headline state, e.g. `2 pending · edited: devenv.nix · 1 agent sandboxed`."""
    parts: list[str] = []
    if kind != "pending" and pending:
        parts.append(f"{pending} pending")
    if unapproved and kind != "unapproved_edits":
        parts.append("edited: " + ", ".join(unapproved))
    elif unapproved:
        parts.append(", ".join(unapproved))
    if note:
        parts.append(note)
    if sandboxed > 0:
        parts.append(sandboxed_text(sandboxed))
    return " · ".join(parts)


def presence_text(others: Sequence[tuple[str, str]], shown: int = 3) -> str:
    """` also open: bob (web), carol (terminal) +2 ` — names made inert (any process can write the registry)."""
    if not others:
        return ""
    names = [f"{inert(name)[:24]} ({via})" for name, via in others[:shown]]
    more = f" +{len(others) - shown}" if len(others) > shown else ""
    return f" also open: {', '.join(names)}{more} "


class GateHeader(OneRow):
    """Shows the gate state in its colour, what else waits, and the workspace path.

    ONE widget drawing its row (as `KeyBar` draws the footer): ` omni-tui `, ` STATE ` and a gap, the
    detail taking the columns left (cut with "…"), who else is open, the workspace path at the right.
    Five labels cost five mounts and stylings in the first frame (DESIGN.md §7, start-up); here a new
    state or count is a repaint of this one row, never a relayout of the screen (200 proposals arriving
    in 10 s relaid the cockpit out for each wider count, bench/bench_queue_scale.py)."""

    COMPONENT_CLASSES = {
        "gate-header--app",
        "gate-header--detail",
        "gate-header--presence",
        "gate-header--root",
        *(f"gate-header--{kind}" for kind in GATE_KINDS),
    }
    DEFAULT_CSS = """
    GateHeader {
        width: 1fr;
        height: 1;
        & > .gate-header--app { text-style: bold; background: $primary-muted; color: $text-primary; }
        & > .gate-header--clean { text-style: bold; background: $success-muted; color: $text-success; }
        & > .gate-header--pending { text-style: bold; background: $warning-muted; color: $text-warning; }
        & > .gate-header--unapproved_edits { text-style: bold; background: $warning; color: $background; }
        & > .gate-header--rebuilding { text-style: bold; background: $accent-muted; color: $text-accent; }
        & > .gate-header--failed { text-style: bold; background: $error; color: $background; }
        & > .gate-header--tampered { text-style: bold; background: $error; color: $background; }
        & > .gate-header--detail { color: $text-muted; }
        & > .gate-header--presence { color: $accent; text-style: bold; }
        & > .gate-header--root { color: $text-muted; }
    }
    """

    def __init__(self, workspace: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._workspace = workspace
        self.kind = "clean"
        self.text = "CLEAN"
        self._detail = ""
        self._presence = ""

    def show_state(self, kind: str, pending: int = 0, unapproved: Sequence[str] = (), note: str = "", sandboxed: int = 0) -> None:
        """Display a gate state: `kind` is one of GATE_KINDS; `sandboxed` agents run under `omni-tui run`."""
        self.kind = kind if kind in GATE_KINDS else "clean"
        self.text = gate_label(self.kind, pending)
        # Every write to a guarded file re-reads the gate: the row is repainted only when it changed.
        self._detail = gate_detail(self.kind, pending, unapproved, note, sandboxed)
        self._changed()

    def show_presence(self, others: Sequence[tuple[str, str]]) -> None:
        """Who else has a cockpit open on the project: (name, "terminal" | "web"), oldest first."""
        self._presence = presence_text(others)
        self._changed()

    def _changed(self) -> None:
        drawn = self.drawn_key
        if drawn is None or drawn[:4] != (self.kind, self.text, self._detail, self._presence):
            self.refresh()

    # -- drawing (`OneRow`: the strip is kept while this key is the same) --------------------------------

    def row_key(self) -> tuple[object, ...]:
        return (self.kind, self.text, self._detail, self._presence, self.size.width)

    def draw_row(self, width: int) -> Strip:
        blank = self.blank_style()
        style = self.get_component_rich_style
        # Plain Content (control codes stripped): the detail quotes paths, people and failure reasons, never markup.
        app, state = Content(" omni-tui "), Content(f" {self.text} ")
        presence, root = Content(self._presence), Content(f" {self._root_shown(width)} ")
        # The parts as the five labels were laid out: the detail takes what the others leave (at least one column).
        room = max(1, width - app.cell_length - state.cell_length - 1 - presence.cell_length - root.cell_length)
        detail = Content(f" {self._detail}" if self._detail else "").truncate(room, ellipsis=True)
        segments = [
            Segment(app.plain, style("gate-header--app")),
            Segment(state.plain, style(f"gate-header--{self.kind}")),
            Segment(" ", blank),
            Segment(detail.plain, style("gate-header--detail")),
            Segment(" " * (room - detail.cell_length), blank),
            Segment(presence.plain, style("gate-header--presence")),
            Segment(root.plain, style("gate-header--root")),
        ]
        # An empty presence drew nothing (a label 0 wide); the detail, at least 1 wide, always drew its piece.
        return Strip([piece for piece in segments if piece.text or piece is segments[3]]).adjust_cell_length(width, blank).crop(0, width)

    def _root_shown(self, width: int) -> str:
        # A long workspace path gives way to what is waiting (narrow terminals): its end is what names it.
        if width <= 0:
            return self._workspace
        used = 10 + len(self.text) + 2 + len(self._detail) + 1 + len(self._presence)  # " omni-tui ", " STATE ", " detail", presence
        room = max(16, width - used - 4)  # the root pads itself; the detail keeps a spare column
        return _elide_path(self._workspace, room)


def _elide_path(root: str, room: int) -> str:
    """`root` in `room` columns: the path's start gives way ("…" then its end), never a short tag before
    it ("DEMO · /tmp/…/omni-tui-demo-x": the demo says it is the demo however long the path)."""
    if len(root) <= room:
        return root
    tag, sep, path = root.partition(" · ")
    if not sep or len(tag) > 8 or room - len(tag) - len(sep) < 8:
        tag, sep, path = "", "", root
    keep = room - len(tag) - len(sep) - 1
    return f"{tag}{sep}…{path[-keep:]}"
