"""The messages workers post to the cockpit app: slow work happens elsewhere, the app only applies data.

Every message carries plain, already-read data (texts, snapshots, decisions), so a handler never
touches the disk or a subprocess.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
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


# The messages have hand-written `__init__`s (they were dataclasses: ≈ 0.25 ms each to create, before
# the cockpit's first frame); they compare and hash by identity, as Textual's own messages do. `can_replace`: a newer full snapshot of the same thing,
# still queued, supersedes an older one (the app applies only the newest).


class GuardedFile(NamedTuple):  # not a dataclass: the cockpit imports it before its first frame, a NamedTuple is cheaper to create
    """One guarded file as the watcher read it: the approved baseline and what is on disk now."""

    path: str
    baseline: str | None
    current: str | None
    problem: str | None = None  # what is wrong with the bytes on disk, e.g. "not valid UTF-8 (byte 0xff at offset 9)"
    recorded: bool = True  # False: newly guarded, no approved content yet (not "approved as absent")

    @property
    def differs(self) -> bool:
        return self.baseline != self.current


class FileChanged(Message):
    """The guarded files were (re)read: every guarded file, in configured order.

    `drawn`, when given, is set once the app has drawn them (the watcher waits for it before its
    slower reads, so they do not share the GIL with that frame)."""

    files: tuple[GuardedFile, ...]
    drawn: threading.Event | None

    def __init__(self, files: tuple[GuardedFile, ...], drawn: threading.Event | None = None) -> None:
        self.files = files
        self.drawn = drawn
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FileChanged)


class GateChanged(Message):
    """The gate state was recomputed (after a file, proposal, decision or lock change).

    `read_at` is when its reading began (monotonic): several threads read the gate, and one that began
    earlier may post later; the cockpit keeps the state whose reading began last."""

    state: GateState
    read_at: float

    def __init__(self, state: GateState, read_at: float = 0.0) -> None:
        self.state = state
        self.read_at = read_at
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, GateChanged) and message.read_at >= self.read_at  # a newer reading only


class ProposalsChanged(Message):
    """The proposal store was re-listed: entries (proposal + status + decision), quarantined files, and
    for the decided ones shown the change the gate wrote (`core.history.AppliedChange` or None, by id)."""

    entries: tuple[ProposalEntry, ...]
    quarantined: tuple[Quarantined, ...]
    history: Mapping[str, AppliedChange | None]

    def __init__(
        self,
        entries: tuple[ProposalEntry, ...],
        quarantined: tuple[Quarantined, ...],
        history: Mapping[str, AppliedChange | None] | None = None,
    ) -> None:
        self.entries = entries
        self.quarantined = quarantined
        self.history = {} if history is None else history
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProposalsChanged)


class ValidationReady(Message):
    """A check finished (it may spawn nix-instantiate, hence a worker): which one, its result, and
    which run of it (`generation`: results of superseded runs are dropped)."""

    key: CheckKey
    check: Check
    generation: int

    def __init__(self, key: CheckKey, check: Check, generation: int = 0) -> None:
        self.key = key
        self.check = check
        self.generation = generation
        super().__init__()


class ProcessesRefreshed(Message):
    """A fresh `ProcessSnapshot` from `core.processes.collect`."""

    snapshot: ProcessSnapshot

    def __init__(self, snapshot: ProcessSnapshot) -> None:
        self.snapshot = snapshot
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProcessesRefreshed)


class RebuildStarted(Message):
    """A gate operation that rebuilds began: what it is and which command runs."""

    title: str
    command: str

    def __init__(self, title: str, command: str) -> None:
        self.title = title
        self.command = command
        super().__init__()


class RebuildLines(Message):
    """A batch of display lines from the running rebuild (posted every ~50 ms), with the progress then."""

    lines: tuple[str, ...]
    progress: BuildProgress | None

    def __init__(self, lines: tuple[str, ...], progress: BuildProgress | None) -> None:
        self.lines = lines
        self.progress = progress
        super().__init__()


class RebuildStage(Message):
    """The gate reported a stage of the operation (validating, applying, rebuilding, rolling back...)."""

    stage: str

    def __init__(self, stage: str) -> None:
        self.stage = stage
        super().__init__()


class RebuildFinished(Message):
    """The gate operation ended: its decision, or the one-line error that stopped it before a decision."""

    title: str
    decision: Decision | None
    error: str | None
    progress: BuildProgress | None
    outcome: RebuildOutcome | None  # when the command ran (cancelled, timed out, exit code)

    def __init__(
        self,
        title: str,
        decision: Decision | None,
        error: str | None,
        progress: BuildProgress | None = None,
        outcome: RebuildOutcome | None = None,
    ) -> None:
        self.title = title
        self.decision = decision
        self.error = error
        self.progress = progress
        self.outcome = outcome
        super().__init__()


class ProcessLogLines(Message):
    """The latest tail (last N lines) of one process's log, or why it cannot be read."""

    name: str
    lines: tuple[str, ...]
    error: str | None

    def __init__(self, name: str, lines: tuple[str, ...], error: str | None = None) -> None:
        self.name = name
        self.lines = lines
        self.error = error
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProcessLogLines) and message.name == self.name


class ActionDone(Message):
    """A short background action (revert, process restart/stop, guard capture) ended: say what happened."""

    text: str
    error: bool

    def __init__(self, text: str, error: bool = False) -> None:
        self.text = text
        self.error = error
        super().__init__()


class RemoteRebuildLog(Message):
    """The log of a rebuild another cockpit (or `omni-tui rebuild`) runs was found and is being followed."""

    path: str

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__()


class RemoteRebuildEnded(Message):
    """The other process released the gate and its log was read to the end."""

    path: str | None

    def __init__(self, path: str | None) -> None:
        self.path = path
        super().__init__()
