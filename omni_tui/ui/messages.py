"""The messages workers post to the cockpit app: slow work happens elsewhere, the app only applies data.

Every message carries plain, already-read data (texts, snapshots, decisions), so a handler never
touches the disk or a subprocess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from textual.message import Message


@dataclass(frozen=True)
class GuardedFile:
    """One guarded file as the watcher read it: the approved baseline and what is on disk now."""

    path: str
    baseline: str | None
    current: str | None

    @property
    def differs(self) -> bool:
        return self.baseline != self.current


class FileChanged(Message):
    """The guarded files were (re)read: every guarded file, in configured order."""

    def __init__(self, files: tuple[GuardedFile, ...]) -> None:
        super().__init__()
        self.files = files


class GateChanged(Message):
    """The gate state was recomputed (after a file, proposal, decision or lock change)."""

    def __init__(self, state: Any) -> None:
        super().__init__()
        self.state = state


class ProposalsChanged(Message):
    """The proposal store was re-listed: entries (proposal + status + decision), quarantined files, and
    for the decided ones shown the change the gate wrote (`core.history.AppliedChange` or None, by id)."""

    def __init__(self, entries: tuple[Any, ...], quarantined: tuple[Any, ...], history: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.entries = entries
        self.quarantined = quarantined
        self.history = dict(history or {})


class ValidationReady(Message):
    """`Gate.validate` finished for one proposal (it may spawn nix-instantiate, hence a worker)."""

    def __init__(self, proposal_id: str, validation: Any, error: str | None = None, generation: int = 0) -> None:
        super().__init__()
        self.proposal_id = proposal_id
        self.generation = generation  # which request this answers: results of superseded runs are dropped
        self.validation = validation
        self.error = error


class ProcessesRefreshed(Message):
    """A fresh `ProcessSnapshot` from `core.processes.collect`."""

    def __init__(self, snapshot: Any) -> None:
        super().__init__()
        self.snapshot = snapshot


class RebuildStarted(Message):
    """A gate operation that rebuilds began: what it is and which command runs."""

    def __init__(self, title: str, command: str) -> None:
        super().__init__()
        self.title = title
        self.command = command


class RebuildLines(Message):
    """A batch of display lines from the running rebuild (posted every ~50 ms), with the progress then."""

    def __init__(self, lines: tuple[str, ...], progress: Any) -> None:
        super().__init__()
        self.lines = lines
        self.progress = progress


class RebuildStage(Message):
    """The gate reported a stage of the operation (validating, applying, rebuilding, rolling back...)."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage


class RebuildFinished(Message):
    """The gate operation ended: its decision, or the one-line error that stopped it before a decision."""

    def __init__(self, title: str, decision: Any | None, error: str | None, progress: Any = None, outcome: Any = None) -> None:
        super().__init__()
        self.title = title
        self.decision = decision
        self.error = error
        self.progress = progress
        self.outcome = outcome  # the RebuildOutcome when the command ran (cancelled, timed out, exit code)


class ProcessLogLines(Message):
    """The latest tail (last N lines) of one process's log, or why it cannot be read."""

    def __init__(self, name: str, lines: tuple[str, ...], error: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.lines = lines
        self.error = error


class ActionDone(Message):
    """A short background action (revert, process restart/stop, guard capture) ended: say what happened."""

    def __init__(self, text: str, error: bool = False) -> None:
        super().__init__()
        self.text = text
        self.error = error


class RemoteRebuildLog(Message):
    """The log of a rebuild another cockpit (or `omni-tui rebuild`) runs was found and is being followed."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class RemoteRebuildEnded(Message):
    """The other process released the gate and its log was read to the end."""

    def __init__(self, path: str | None) -> None:
        super().__init__()
        self.path = path
