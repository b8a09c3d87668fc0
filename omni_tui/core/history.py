"""What an apply really changed: the bytes before it and the bytes it wrote, read back from `backups/`.

The gate keeps, per decision id, the bytes before the apply in `backups/<id>/` (what a rollback
restores) and the bytes it wrote in `backups/<id>@applied/` (a direct-edit acceptance: in
`backups/<id>@direct/`, written by `accept_direct`). Every text read here is checked against the
decision's recorded sha256, so a damaged or reused backup is never shown as history. Decisions made
before `@applied` existed get their after-side rebuilt from the proposal when that is provably the
same bytes (applied as proposed, or the recorded hunks); an edited one without a backup has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from omni_tui.core.proposals import AppliedFile, Decision, Proposal, ProposalEntry
from omni_tui.core.safefs import read_backup, sha256_bytes
from omni_tui.core.textdiff import apply_hunks

if TYPE_CHECKING:
    from omni_tui.core.workspace import Workspace

# The statuses whose files were (or are being) written by the gate: they have a before and an after.
HISTORY_STATUSES = ("applying", "rebuilding", "applied", "failed", "rolled_back")
# `@` cannot occur in a proposal id (`ID_PATTERN`), so this label never collides with another
# decision's before-backup (which a rollback would restore).
APPLIED_SUFFIX = "@applied"
DIRECT_SUFFIX = "@direct"

# path → (text before the apply, text it wrote); None = the file did not exist on that side.
AppliedChange = dict[str, tuple[str | None, str | None]]


def applied_label(decision_id: str) -> str:
    """The backups label holding what an approval wrote (`backups/<label>/<escaped path>`)."""
    return decision_id + APPLIED_SUFFIX


def applied_change(ws: Workspace, decision: Decision | None, proposal: Proposal | None = None) -> AppliedChange | None:
    """{path: (before, after)} of what the gate wrote for `decision`; None when it cannot be shown exactly.

    None for a decision that wrote nothing (pending, rejected, stale, withdrawn), one without recorded
    files, and whenever a backup is missing (pruned, older than this record, an apply still backing up)
    or does not match the recorded hash.
    """
    if decision is None or decision.status not in HISTORY_STATUSES or not decision.files:
        return None
    backups = ws.paths.backups
    change: AppliedChange = {}
    for applied in decision.files:
        found, before = read_backup(backups, decision.proposal_id, applied.path)
        if not found or sha256_bytes(before) != applied.sha256_before:
            return None
        known, after = _after(backups, decision.proposal_id, applied, before, proposal)
        if not known:
            return None
        change[applied.path] = (_text(before), _text(after))
    return change


def entry_change(ws: Workspace, entry: ProposalEntry) -> AppliedChange | None:
    """`applied_change` for one listed proposal (its decision and, for older decisions, its content)."""
    return applied_change(ws, entry.decision, entry.proposal)


def _after(
    backups: Path, decision_id: str, applied: AppliedFile, before: bytes | None, proposal: Proposal | None
) -> tuple[bool, bytes | None]:
    """(known, the bytes written for one file; None = absent); known is False when they cannot be told exactly."""
    for label in (applied_label(decision_id), decision_id + DIRECT_SUFFIX):
        found, data = read_backup(backups, label, applied.path)
        if found:
            return sha256_bytes(data) == applied.sha256_after, data
    rebuilt = _rebuilt(applied, before, proposal)
    if rebuilt is None or sha256_bytes(rebuilt) != applied.sha256_after:
        return False, None
    return True, rebuilt


def _rebuilt(applied: AppliedFile, before: bytes | None, proposal: Proposal | None) -> bytes | None:
    """What an approval made before `@applied` backups existed must have written, from the proposal."""
    if proposal is None or applied.path not in proposal.paths:
        return None
    new = proposal.change(applied.path).new_content
    if applied.applied == "proposed":
        return new.encode("utf-8")
    if applied.applied == "hunks" and applied.hunks is not None:
        try:
            old = "" if before is None else before.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return apply_hunks(old, new, set(applied.hunks)).encode("utf-8")
    return None  # edited by the person: only the backup knows


def bases_at_hand(ws: Workspace, proposal: Proposal) -> bool:
    """Every file of `proposal` still has its base bytes on disk or in the baseline (no backup needed)."""
    for change in proposal.changes:
        if change.base_sha256 is None:
            continue
        if change.base_sha256 not in (sha256_bytes(ws.read_current(change.path)), sha256_bytes(ws.read_baseline(change.path))):
            return False
    return True


def kept_bases(ws: Workspace, proposal: Proposal) -> dict[str, str | None]:
    """path → the text `proposal` was made against (None: the file did not exist), for each of its files
    whose base bytes some backup still holds (found by `base_sha256`, newest backup first); a path whose
    base no backup holds is left out. The file now and the baseline are the caller's to try first."""
    found: dict[str, str | None] = {}
    wanted: dict[str, str] = {}
    for change in proposal.changes:
        if change.base_sha256 is None:
            found[change.path] = None  # proposed as a new file: its base is "absent", known without a backup
        else:
            wanted[change.path] = change.base_sha256
    if not wanted:
        return found
    try:
        labels = sorted((entry.name for entry in ws.paths.backups.iterdir() if entry.is_dir()), reverse=True)
    except OSError:
        return found
    for label in labels:
        for path, digest in list(wanted.items()):
            present, data = read_backup(ws.paths.backups, label, path)
            if present and data is not None and sha256_bytes(data) == digest:
                found[path] = _text(data)
                del wanted[path]
        if not wanted:
            break
    return found


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


__all__ = ["AppliedChange", "HISTORY_STATUSES", "applied_change", "applied_label", "bases_at_hand", "entry_change", "kept_bases"]
