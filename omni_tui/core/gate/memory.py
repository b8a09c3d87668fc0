"""What the gate remembers and what it reads as: `gate.json` (the last rebuild, a failed apply that was
not rolled back) and `state()`, the one answer every cockpit, `status` and agent shows.

`state()` ranks: tampered > rebuilding > failed > unapproved_edits > pending > clean.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from omni_tui.core.audit import utc_now
from omni_tui.core.gate.integrity import Integrity
from omni_tui.core.gate.kinds import GateKind
from omni_tui.core.gate.state import FailedApply, GateState, failure_reason
from omni_tui.core.proposals import IN_PROGRESS, PENDING, ProposalEntry
from omni_tui.core.safefs import atomic_write, is_locked, read_bytes
from omni_tui.core.sandbox import running as running_sandboxes

if TYPE_CHECKING:
    from omni_tui.core.rebuild import RebuildOutcome


class GateMemory(Integrity):
    """gate.json, and the state the gate reads as."""

    # -- gate memory (gate.json) ------------------------------------------------------------

    def _memory(self) -> dict[str, Any]:
        data = read_bytes(self.ws.paths.gate_state)
        if not data:
            return {}
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: `[[[[…` nested too deeply
            return {}
        return value if isinstance(value, dict) else {}

    def _remember(self, **changes: Any) -> None:
        memory = self._memory()
        memory.update(changes)
        atomic_write(self.ws.paths.gate_state, (json.dumps(memory, indent=2) + "\n").encode())

    def last_rebuild(self) -> dict[str, Any] | None:
        """gate.json's last rebuild, shown only when the audit log's newest build entry is that one (same
        proposal, same person): a hand-written `gate.json` never shows a rebuild nobody ran."""
        value = self._memory().get("last_rebuild")
        if not isinstance(value, dict):
            return None
        self.ws.ledger.refresh()
        last = self.ws.ledger.last_build
        if last is None or last.get("proposal_id") != value.get("proposal_id") or last.get("who") != value.get("who"):
            return None
        return value

    def _record_rebuild(self, kind: str, proposal_id: str | None, status: str, outcome: RebuildOutcome, command: str | None) -> None:
        self._remember(
            last_rebuild={
                "kind": kind,
                "proposal_id": proposal_id,
                "status": status,
                "ok": outcome.ok,
                "exit_code": outcome.exit_code,
                "duration_s": round(outcome.duration_s, 3),
                "log_path": outcome.log_path,
                "command": command,
                "reason": None if outcome.ok else failure_reason(outcome),
                "who": self.who,
                "finished_at": utc_now(),
            }
        )

    # -- state ------------------------------------------------------------------------------

    def state(self) -> GateState:
        """The gate as a person should see it: tampered > rebuilding > failed > unapproved_edits > pending > clean."""
        holder = self.holder()
        entries = self.store.entries()
        tampered = tuple(self.forgeries(entries))
        pending = tuple(e for e in entries if e.status == PENDING)
        failed = self._failed(entries, lock_held=holder is not None)
        busy_paths = {p for e in entries if e.status in IN_PROGRESS for p in e.proposal.paths}
        if failed:
            busy_paths.update(failed.paths)
        unapproved = tuple(p for p in self.ws.unapproved() if p not in busy_paths)
        kind: GateKind
        if tampered:
            kind = "tampered"
        elif holder is not None:
            kind = "rebuilding"
        elif failed is not None:
            kind = "failed"
        elif unapproved:
            kind = "unapproved_edits"
        elif pending:
            kind = "pending"
        else:
            kind = "clean"
        return GateState(kind, pending, unapproved, holder, failed, self.last_rebuild(), tampered, len(running_sandboxes(self.ws.paths)))

    def _failed(self, entries: list[ProposalEntry], *, lock_held: bool) -> FailedApply | None:
        # An in-progress decision with nobody holding the lock: its process died mid-apply. (Check
        # the lock again: an apply may have started between the first look and reading the entries.)
        if not lock_held and any(e.status in IN_PROGRESS for e in entries) and not is_locked(self.ws.paths.lock):
            for entry in entries:
                if entry.status in IN_PROGRESS and entry.decision is not None:
                    return FailedApply(
                        entry.proposal.id, tuple(entry.proposal.paths), f"interrupted while {entry.status}", None, interrupted=True
                    )
        marker = self._memory().get("failed")
        if not isinstance(marker, dict):
            return None
        paths = tuple(marker.get("paths") or ())
        # Superseded when every path is back at the baseline (rolled back, reverted, or a later apply).
        if not any(self.ws.read_current(p) != self.ws.read_baseline(p) for p in paths):
            return None
        return FailedApply(str(marker.get("proposal_id")), paths, str(marker.get("reason")), marker.get("exit_code"))
