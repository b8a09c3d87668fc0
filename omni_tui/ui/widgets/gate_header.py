"""The one-line header: the gate state (CLEAN, N PENDING, UNAPPROVED EDITS, REBUILDING, FAILED, TAMPERED) and the workspace."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from omni_tui.core.gate.kinds import GATE_KINDS, gate_label
from omni_tui.core.terminal import inert


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


class GateHeader(Horizontal):
    """Shows the gate state in its colour, what else waits, and the workspace path."""

    DEFAULT_CSS = """
    GateHeader { height: 1; }
    GateHeader > Label { height: 1; }
    GateHeader > #gate-detail { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    GateHeader > #gate-presence { color: $accent; text-style: bold; }
    """

    def __init__(self, workspace: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._workspace = workspace
        self.kind = "clean"
        self.text = "CLEAN"
        self._detail = ""
        self._presence = ""

    def compose(self) -> ComposeResult:
        yield Label(" omni-tui ", id="gate-app")
        yield Label(" CLEAN ", id="gate-state", classes="-clean")
        yield Label("", id="gate-detail")
        yield Label("", id="gate-presence")
        yield Label(Text(f" {self._workspace} "), id="gate-root")

    def show_state(self, kind: str, pending: int = 0, unapproved: Sequence[str] = (), note: str = "", sandboxed: int = 0) -> None:
        """Display a gate state: `kind` is one of GATE_KINDS; `sandboxed` agents run under `omni-tui run`."""
        self.kind = kind if kind in GATE_KINDS else "clean"
        self.text = gate_label(self.kind, pending)
        state = self.query_one("#gate-state", Label)
        # Each label is updated only when its text changes: every write to a guarded file re-reads the
        # gate, and an update asks for a relayout of the screen (docs/performance.md, change latency).
        _update(state, Text(f" {self.text} "))
        for other in GATE_KINDS:
            state.set_class(other == self.kind, f"-{other}")
        detail = self._detail = gate_detail(self.kind, pending, unapproved, note, sandboxed)
        self._fit_root()
        # Plain Text: the detail quotes paths, people and failure reasons, never markup.
        # Its width is 1fr and its height 1: a new text cannot change its size, so no relayout.
        _update(
            self.query_one("#gate-detail", Label), Text(f" {detail}" if detail else "", no_wrap=True, overflow="ellipsis"), layout=False
        )

    def show_presence(self, others: Sequence[tuple[str, str]]) -> None:
        """Who else has a cockpit open on the project: (name, "terminal" | "web"), oldest first."""
        self._presence = presence_text(others)
        _update(self.query_one("#gate-presence", Label), Text(self._presence, no_wrap=True, overflow="ellipsis"))
        self._fit_root()

    def on_resize(self, _event: events.Resize) -> None:
        self._fit_root()

    def _fit_root(self) -> None:
        # A long workspace path gives way to what is waiting (narrow terminals): its end is what names it.
        width = self.size.width
        if width <= 0:
            return
        used = 10 + len(self.text) + 2 + len(self._detail) + 1 + len(self._presence)  # " omni-tui ", " STATE ", " detail", presence
        room = max(16, width - used - 4)  # the root label pads itself; the detail keeps a spare column
        shown = _elide_path(self._workspace, room)
        _update(self.query_one("#gate-root", Label), Text(f" {shown} "))


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


def _update(label: Label, text: Text, *, layout: bool = True) -> None:
    """`label.update(text)` unless it already shows exactly that (same characters, same styles).

    The labels are one line, as wide as their text: a new text of the same width ("12 PENDING" after
    "11 PENDING") is repainted in place, without a relayout of the screen — a relayout for each of 200
    proposals arriving in 10 s was ~20 ms of the UI thread each, and keys waited (bench_queue_scale.py)."""
    old = label.content
    if not isinstance(old, Text):
        label.update(text, layout=layout)
    elif old != text:
        label.update(text, layout=layout and old.cell_len != text.cell_len)
