"""The gate: the proposal life cycle as a state machine, and the only code that writes guarded files.

    pending ──approve──▶ applying ──▶ rebuilding ──▶ applied
       │                                  └──fail──▶ failed ──rollback──▶ rolled_back
       ├──reject(reason)──▶ rejected         (auto_rollback: fail ──▶ rolled_back at once)
       ├──base changed────▶ stale
       └──agent withdraws─▶ withdrawn

One apply/rebuild at a time across processes: an exclusive `flock` on `paths.lock`, which also
holds the holder's pid, action and proposal id (so `state()` elsewhere reports `rebuilding`).
`gate.json` remembers the last rebuild and a failed apply that was not rolled back.
Nothing here decides on its own: every entry point is called by a person's action in a cockpit.

`Gate` is one class built in layers, each a module of this package, each one using those above it:

    kinds.py         GateKind, GATE_KINDS: the states, named once (a leaf: the header widget reads it)
    state.py         GateState, Holder, FailedApply, LastRebuild: what the gate is in, as data
    lock.py          GateLock: who acts, the cross-process lock, orphaned builds stopped
    writes.py        GuardedWrites: bytes put in guarded files; proposals made stale by a write
    integrity.py     Integrity: forgeries the audit chain does not vouch for; resolve_tampered
    memory.py        GateMemory: gate.json (last rebuild, failed apply) and state()
    decisions.py     Decisions: approve, reject, [policy] refuse, rollback
    direct_edits.py  DirectEdits: accept, revert or capture edits made on disk
    (here)           Gate: + validate a proposal, rebuild the approved state
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from omni_tui.core.errors import GateError
from omni_tui.core.gate.direct_edits import DirectEdits
from omni_tui.core.gate.kinds import GATE_KINDS, GateKind
from omni_tui.core.gate.state import (
    FailedApply,
    GateState,
    Holder,
    LastRebuild,
    RebuildStep,
    StageCallback,
    failure_reason,
    run_rebuild_step,
)
from omni_tui.core.proposals import Proposal
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.validate import Validation, cache_for, combine, stale_issues

if TYPE_CHECKING:
    from omni_tui.core.rebuild import RebuildOutcome


class Gate(DirectEdits):
    """The proposal life cycle and the only writer of guarded files (see the layers above)."""

    # -- validation -------------------------------------------------------------------------

    def validate(
        self, proposal: Proposal, *, nix: bool = True, current: Mapping[str, str | None] | None = None, shared: bool = False
    ) -> Validation:
        """Is the base still current? Does the content parse as Nix, fit the size limit, is it UTF-8?

        The content checks are remembered by content hash (`ValidationCache`, written to disk for every
        process); the stale check reads the disk every time. `current`: the hashes on disk, when the
        caller already has them (a listing of many proposals reads each file once). `shared`: the result
        is for agents (`status --json`), so checks other processes left on disk may be reused; what a
        person reads comes from checks this process ran (an agent can write the state directory).
        """
        found = self._validate(proposal, nix=nix, current=current, run=True, shared=shared)
        assert found is not None
        return found

    def validate_cached(
        self, proposal: Proposal, *, nix: bool = True, current: Mapping[str, str | None] | None = None, shared: bool = False
    ) -> Validation | None:
        """`validate` from remembered content checks only (nothing is run); None when one is not known yet."""
        return self._validate(proposal, nix=nix, current=current, run=False, shared=shared)

    def _validate(
        self, proposal: Proposal, *, nix: bool, current: Mapping[str, str | None] | None, run: bool, shared: bool
    ) -> Validation | None:
        if current is None or any(c.path not in current for c in proposal.changes):
            current = {c.path: sha256_bytes(self.ws.read_current(c.path)) for c in proposal.changes}
        cache = self.__dict__.get("_validation_cache")  # looked up once per gate: status checks 10,000 proposals
        if cache is None:
            cache = self.__dict__["_validation_cache"] = cache_for(self.ws.paths.state / "cache" / "validation")
        max_bytes = self.ws.config.guard.max_bytes
        parts: list[Validation] = []
        for change in proposal.changes:
            part = (cache.check if run else cache.peek)(change.path, change.new_content, max_bytes=max_bytes, nix=nix, shared=shared)
            if part is None:
                return None
            parts.append(part)
        return combine(parts, stale_issues(current, {c.path: c.base_sha256 for c in proposal.changes}))

    # -- headless rebuild of the approved state ---------------------------------------------

    def rebuild_approved(self, rebuild: RebuildStep, *, command: str | None = None) -> RebuildOutcome:
        """Rebuild the approved state (no file changes); refused while unapproved edits or a failed apply exist."""
        with self.exclusive("rebuild"):
            self._refuse_if_tampered("rebuild")
            state = self.state()
            if state.failed is not None:
                raise GateError(
                    f"the last apply ({state.failed.proposal_id}) failed and was not rolled back; roll it back in the cockpit first"
                )
            unapproved = self.ws.unapproved()
            if unapproved:
                raise GateError(f"unapproved edits in {', '.join(unapproved)}: accept or revert them in the cockpit first")
            command = command or getattr(rebuild, "command", None)
            outcome, interrupted = run_rebuild_step(rebuild)  # Ctrl-C / SystemExit: recorded, then raised
            self._record_rebuild("rebuild", None, "ok" if outcome.ok else "failed", outcome, command)
            self.ws.audit.append(
                "rebuild",
                who=self.who,
                via=self.via,
                decision="ok" if outcome.ok else "failed",
                reason=None if outcome.ok else failure_reason(outcome),
                command=command,
                exit_code=outcome.exit_code,
                duration_s=outcome.duration_s,
                log_path=outcome.log_path,
            )
            if interrupted is not None:
                raise interrupted
            return outcome


__all__ = [
    "Gate",
    "GateState",
    "GateKind",
    "LastRebuild",
    "Holder",
    "FailedApply",
    "RebuildStep",
    "StageCallback",
    "GATE_KINDS",
    "failure_reason",
]
