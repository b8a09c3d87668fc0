"""What the gate is in, as data: `GateState` (its `kind` and what it is made of), `Holder` (who holds the
lock), `FailedApply`, `LastRebuild`, `failure_reason` (a failed rebuild in one phrase), and `run_rebuild_step`
(a rebuild step run so that whatever it ends with is an outcome the gate records).

Pure types: the cockpit, the CLI and the review state read them; nothing here touches a file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from omni_tui.core.errors import GateError
from omni_tui.core.gate.kinds import GateKind, gate_label
from omni_tui.core.ledger import Forgery
from omni_tui.core.proposals import ProposalEntry

if TYPE_CHECKING:  # the rebuild runner loads when a rebuild runs: `status` reads the gate and never rebuilds
    from omni_tui.core.rebuild import RebuildOutcome

RebuildStep = Callable[[], "RebuildOutcome"]
StageCallback = Callable[[str], None]

# These records are NamedTuples, not frozen dataclasses: immutable and compared, shown and hashed the same,
# without compiling six methods per class at import (`status`, which agents poll, reads the gate's
# state, and the cockpit imports this module before its first frame). A derived state is `_replace`d.


class Holder(NamedTuple):
    """Who holds the gate lock right now."""

    pid: int | None
    action: str
    proposal_id: str | None
    who: str | None
    since: str | None

    def describe(self) -> str:
        what = self.action + (f" of {self.proposal_id}" if self.proposal_id else "")
        by = f" by {self.who}" if self.who else ""
        return f"{what}{by} (pid {self.pid})" if self.pid else what + by


class FailedApply(NamedTuple):
    """An apply whose rebuild failed and whose files were not rolled back (or an interrupted one)."""

    proposal_id: str
    paths: tuple[str, ...]
    reason: str
    exit_code: int | None
    interrupted: bool = False


class LastRebuild(NamedTuple):
    """The last rebuild gate.json remembers, typed (`GateState.last_rebuild` is its JSON document, as
    `status --json` prints it; `GateState.last_build` is this)."""

    kind: str  # "approve", "accept", "rebuild"
    proposal_id: str | None
    status: str  # the decision status it ended in ("applied", "failed", "rolled_back", ...) or "ok"
    ok: bool
    exit_code: int | None = None
    duration_s: float | None = None
    log_path: str | None = None
    command: str | None = None
    reason: str | None = None
    who: str | None = None
    finished_at: str | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LastRebuild:
        duration = doc.get("duration_s")
        return cls(
            kind=str(doc.get("kind") or ""),
            proposal_id=doc.get("proposal_id") if isinstance(doc.get("proposal_id"), str) else None,
            status=str(doc.get("status") or ""),
            ok=bool(doc.get("ok")),
            exit_code=doc["exit_code"] if isinstance(doc.get("exit_code"), int) else None,
            duration_s=float(duration) if isinstance(duration, (int, float)) else None,
            log_path=doc["log_path"] if isinstance(doc.get("log_path"), str) else None,
            command=doc["command"] if isinstance(doc.get("command"), str) else None,
            reason=doc["reason"] if isinstance(doc.get("reason"), str) else None,
            who=doc["who"] if isinstance(doc.get("who"), str) else None,
            finished_at=doc["finished_at"] if isinstance(doc.get("finished_at"), str) else None,
        )


class GateState(NamedTuple):
    kind: GateKind
    pending: tuple[ProposalEntry, ...]
    unapproved: tuple[str, ...]
    holder: Holder | None = None
    failed: FailedApply | None = None
    last_rebuild: Mapping[str, Any] | None = None
    tampered: tuple[Forgery, ...] = ()  # state files (or the log) the audit chain does not account for
    sandboxed: int = 0  # `omni-tui run` sandboxes running on this project now (core/sandbox.py)

    @property
    def last_build(self) -> LastRebuild | None:
        return LastRebuild.from_json(self.last_rebuild) if self.last_rebuild else None

    def label(self) -> str:
        """The header text: `CLEAN`, `2 PENDING`, `UNAPPROVED EDITS`, `REBUILDING`, `FAILED — rollback?`, `TAMPERED — resolve?`."""
        return gate_label(self.kind, len(self.pending))


def run_rebuild_step(rebuild: RebuildStep) -> tuple[RebuildOutcome, BaseException | None]:
    """Run a rebuild step for the gate, which records whatever it ends with: a step that raises (or returns
    something else) is a failed rebuild with its message. Ctrl-C / SystemExit: an `interrupted` outcome,
    and the exception, which the caller raises again once the outcome is recorded (and rolled back)."""
    from omni_tui.core.rebuild import RebuildOutcome

    started = time.monotonic()
    try:
        outcome = rebuild()
        if not isinstance(outcome, RebuildOutcome):
            raise GateError(f"the rebuild step returned {type(outcome).__name__}, not a RebuildOutcome")
    except Exception as exc:
        return RebuildOutcome(None, time.monotonic() - started, None, (), error=str(exc) or type(exc).__name__), None
    except BaseException as exc:
        return RebuildOutcome(None, time.monotonic() - started, None, (), error=f"interrupted ({type(exc).__name__})"), exc
    return outcome, None


def failure_reason(outcome: RebuildOutcome) -> str:
    if outcome.cancelled:
        return "rebuild cancelled"
    if outcome.timed_out:
        return f"rebuild timed out after {outcome.duration_s:.0f} s"
    if outcome.exit_code is None:
        return f"rebuild failed: {outcome.error or 'the command did not run'}"
    return f"rebuild failed: exit {outcome.exit_code}"
