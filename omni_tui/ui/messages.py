"""The messages workers post to the cockpit app: slow work happens elsewhere, the app only applies data.

Every message carries plain, already-read data (texts, snapshots, decisions), so a handler never
touches the disk or a subprocess.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from textual.message import Message

from omni_tui.core.review import Check, CheckKey

if TYPE_CHECKING:
    from omni_tui.core.buildlog import BuildProgress
    from omni_tui.core.gate import GateState
    from omni_tui.core.history import AppliedChange
    from omni_tui.core.processes.model import ProcessSnapshot
    from omni_tui.core.proposals import Decision, ProposalEntry, Quarantined
    from omni_tui.core.rebuild import RebuildOutcome


# The messages are dataclasses (Textual calls `__post_init__`); eq=False keeps them hashable by
# identity, as Textual's own messages are. `can_replace`: a newer full snapshot of the same thing,
# still queued, supersedes an older one (the app applies only the newest).


class GuardedFile(NamedTuple):  # not a dataclass: the cockpit imports it before its first frame, a NamedTuple is cheaper to create
    """One guarded file as the watcher read it: the approved baseline and what is on disk now."""

    path: str
    baseline: str | None
    current: str | None

    @property
    def differs(self) -> bool:
        return self.baseline != self.current


@dataclass(eq=False)
class FileChanged(Message):
    """The guarded files were (re)read: every guarded file, in configured order.

    `drawn`, when given, is set once the app has drawn them (the watcher waits for it before its
    slower reads, so they do not share the GIL with that frame)."""

    files: tuple[GuardedFile, ...]
    drawn: threading.Event | None = field(default=None, compare=False, repr=False)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FileChanged)


@dataclass(eq=False)
class GateChanged(Message):
    """The gate state was recomputed (after a file, proposal, decision or lock change).

    `read_at` is when its reading began (monotonic): several threads read the gate, and one that began
    earlier may post later; the cockpit keeps the state whose reading began last."""

    state: GateState
    read_at: float = 0.0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, GateChanged) and message.read_at >= self.read_at  # a newer reading only


@dataclass(eq=False)
class ProposalsChanged(Message):
    """The proposal store was re-listed: entries (proposal + status + decision), quarantined files, and
    for the decided ones shown the change the gate wrote (`core.history.AppliedChange` or None, by id)."""

    entries: tuple[ProposalEntry, ...]
    quarantined: tuple[Quarantined, ...]
    history: Mapping[str, AppliedChange | None] = field(default_factory=dict)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProposalsChanged)


@dataclass(eq=False)
class ValidationReady(Message):
    """A check finished (it may spawn nix-instantiate, hence a worker): which one, its result, and
    which run of it (`generation`: results of superseded runs are dropped)."""

    key: CheckKey
    check: Check
    generation: int = 0


@dataclass(eq=False)
class ProcessesRefreshed(Message):
    """A fresh `ProcessSnapshot` from `core.processes.collect`."""

    snapshot: ProcessSnapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProcessesRefreshed)


@dataclass(eq=False)
class RebuildStarted(Message):
    """A gate operation that rebuilds began: what it is and which command runs."""

    title: str
    command: str


@dataclass(eq=False)
class RebuildLines(Message):
    """A batch of display lines from the running rebuild (posted every ~50 ms), with the progress then."""

    lines: tuple[str, ...]
    progress: BuildProgress | None


@dataclass(eq=False)
class RebuildStage(Message):
    """The gate reported a stage of the operation (validating, applying, rebuilding, rolling back...)."""

    stage: str


@dataclass(eq=False)
class RebuildFinished(Message):
    """The gate operation ended: its decision, or the one-line error that stopped it before a decision."""

    title: str
    decision: Decision | None
    error: str | None
    progress: BuildProgress | None = None
    outcome: RebuildOutcome | None = None  # when the command ran (cancelled, timed out, exit code)


@dataclass(eq=False)
class ProcessLogLines(Message):
    """The latest tail (last N lines) of one process's log, or why it cannot be read."""

    name: str
    lines: tuple[str, ...]
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProcessLogLines) and message.name == self.name


@dataclass(eq=False)
class ActionDone(Message):
    """A short background action (revert, process restart/stop, guard capture) ended: say what happened."""

    text: str
    error: bool = False


@dataclass(eq=False)
class RemoteRebuildLog(Message):
    """The log of a rebuild another cockpit (or `omni-tui rebuild`) runs was found and is being followed."""

    path: str


@dataclass(eq=False)
class RemoteRebuildEnded(Message):
    """The other process released the gate and its log was read to the end."""

    path: str | None
