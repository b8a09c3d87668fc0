"""A person's decisions on a proposal: approve (all of it, chosen hunks or edited content), reject,
and roll back a failed apply; `[policy] refuse` rejects (never approves) on its own.

An approval is recorded before anything is written (write ahead); then the files are backed up and
written, the environment rebuilt, and the result kept (baseline := applied) or rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_tui.core.audit import utc_now
from omni_tui.core.errors import GateError, PathError, ValidationError
from omni_tui.core.gate.memory import GateMemory
from omni_tui.core.gate.state import RebuildStep, StageCallback, failure_reason, run_rebuild_step
from omni_tui.core.gate.writes import check_config, decode, encode
from omni_tui.core.proposals import IN_PROGRESS, PENDING, AppliedFile, Decision, Proposal
from omni_tui.core.proposals.policy import policy_refusal, record_rejection, refuse_by_policy
from omni_tui.core.safefs import ChangedMeanwhile, atomic_write, read_backup, read_bytes, sha256_bytes, write_backup
from omni_tui.core.validate import validate_contents

if TYPE_CHECKING:
    from omni_tui.core.rebuild import RebuildOutcome

# The change card, the history and the diff are imported by the decisions that use them: `status`,
# which agents poll, builds a `Gate` to read its state and never decides (docs/performance.md).


def _holds(path: Path, want: bytes | None) -> bool:
    """Whether `path` still holds `want` (re-checked right before a rename: see atomic_write's `check`)."""
    return read_bytes(path) == want


def _text_bytes(text: str) -> bytes:
    return text.encode("utf-8")


def _details(outcome: RebuildOutcome) -> dict[str, Any]:
    """A rebuild's facts as a decision and its audit entry both record them."""
    return dict(exit_code=outcome.exit_code, duration_s=round(outcome.duration_s, 3), log_path=outcome.log_path)


NOT_REBUILT = "omni-tui's configuration only: nothing in the environment to rebuild, no rebuild was run"
"""The reason an accepted edit of `omni-tui.toml` alone records (`Gate.accept_direct` with no rebuild step)."""


class Decisions(GateMemory):
    """Approve, reject, refuse by policy, roll back."""

    # -- approve ----------------------------------------------------------------------------

    def approve(
        self,
        proposal_id: str,
        *,
        rebuild: RebuildStep,
        hunks: Mapping[str, set[int]] | None = None,
        edited: Mapping[str, str] | None = None,
        on_stage: StageCallback | None = None,
        command: str | None = None,
        as_reviewed: Proposal | None = None,
    ) -> Decision:
        """Apply a pending proposal (all of it, chosen hunks, or edited content) and rebuild.

        `as_reviewed`: the proposal as the person was shown it (the cockpit passes it). A proposal file is
        never changed after it is submitted; one rewritten in place since (same id, other content) is
        refused here, under the lock, so what is applied is what the person approved.

        Returns the final decision (`applied`, `rolled_back`, `failed` or `stale`). Raises
        ValidationError (the proposal stays pending) when the content to apply is invalid, and
        GateError when the proposal is not pending, changed since it was reviewed, or the gate is busy.
        """
        stage = on_stage or (lambda _stage: None)
        with self.exclusive("approve", proposal_id):
            self._refuse_if_tampered(f"approve {proposal_id}")
            proposal = self.store.get(proposal_id)
            status = self.store.status(proposal.id)
            if status != PENDING:
                raise GateError(f"proposal {proposal.id} is {status}, not pending")
            if as_reviewed is not None and proposal != as_reviewed:
                raise GateError(
                    f"proposal {proposal.id} was rewritten on disk after it was shown to you; nothing was applied: "
                    "look at it again before approving"
                )
            refused = policy_refusal(self.ws, proposal)
            if refused is not None:
                raise GateError(f"cannot approve {proposal.id}: {refused}")
            stage("validating")
            current = {c.path: self.ws.read_current(c.path) for c in proposal.changes}
            stale = [c.path for c in proposal.changes if sha256_bytes(current[c.path]) != c.base_sha256]
            if stale:
                reason = f"{', '.join(stale)} changed since the proposal was made; the agent must propose again"
                decision = self._decide_stale(
                    proposal.id,
                    reason,
                    allowed_from=(PENDING,),
                    sha256_before={c.path: c.base_sha256 for c in proposal.changes},
                    sha256_after={p: sha256_bytes(current[p]) for p in stale},
                )
                stage("stale")
                return decision
            # Approving must not silently approve someone else's unreviewed edits underneath it.
            dirty = [c.path for c in proposal.changes if current[c.path] != self.ws.read_baseline(c.path)]
            newly = [path for path in dirty if not self.ws.has_baseline(path)]
            if newly:
                raise GateError(
                    f"{', '.join(newly)} is newly guarded and none of it is approved yet: accept its content first (the cockpit's A), "
                    f"then approve {proposal.id}"
                )
            if dirty:
                raise GateError(
                    f"{', '.join(dirty)} differs from the approved baseline (unapproved edits or a failed apply): "
                    f"accept, revert or roll back first, then approve {proposal.id}"
                )
            contents, files = self._contents(proposal, current, hunks, edited)
            validation = validate_contents(contents, max_bytes=self.ws.config.guard.max_bytes)
            if not validation.ok:
                raise ValidationError(f"cannot approve {proposal.id}: {validation.summary()}")
            check_config(contents, f"cannot approve {proposal.id}")
            command = command or getattr(rebuild, "command", None)
            return self._apply(proposal.id, current, contents, files, rebuild, stage, command, kind="approve")

    def _contents(
        self,
        proposal: Proposal,
        current: Mapping[str, bytes | None],
        hunks: Mapping[str, set[int]] | None,
        edited: Mapping[str, str] | None,
    ) -> tuple[dict[str, str], list[AppliedFile]]:
        paths = set(proposal.paths)
        for name, given in (("hunks", hunks), ("edited", edited)):
            for path in given or {}:
                if path not in paths:
                    raise GateError(f"{name}: proposal {proposal.id} does not change {path}")
        contents: dict[str, str] = {}
        files: list[AppliedFile] = []
        for change in proposal.changes:
            before = current[change.path]
            total: int | None = None
            if edited and change.path in edited:
                text, mode, chosen = edited[change.path], "edited", None
            elif hunks is not None and change.path in hunks:
                old_text = decode(change.path, before)
                chosen = tuple(sorted(hunks[change.path]))
                from omni_tui.core.textdiff import diff_texts

                diff = diff_texts(old_text, change.new_content)
                text, mode, total = diff.apply(set(chosen)), "hunks", len(diff.hunks)
            else:
                text, mode, chosen = change.new_content, "proposed", None
            contents[change.path] = text
            files.append(AppliedFile(change.path, sha256_bytes(before), sha256_bytes(_text_bytes(text)), mode, chosen, total))
        if all(_text_bytes(contents[f.path]) == current[f.path] for f in files):  # e.g. no hunk selected
            raise GateError(f"nothing to apply: the selection leaves {', '.join(contents)} unchanged")
        return contents, files

    def _apply(
        self,
        decision_id: str,
        current: Mapping[str, bytes | None],
        contents: Mapping[str, str | None],
        files: list[AppliedFile],
        rebuild: RebuildStep | None,
        stage: StageCallback,
        command: str | None,
        *,
        kind: str,
    ) -> Decision:
        """Back up, write, rebuild, then keep (baseline := applied) or roll back. Caller holds the lock.
        `rebuild` None (accept_direct of omni-tui's configuration alone): kept without a rebuild."""
        files_t = tuple(files)
        before = {p: sha256_bytes(b) for p, b in current.items()}
        after = {f.path: f.sha256_after for f in files}
        stage("applying")
        decided = utc_now()
        applying = Decision(decision_id, "applying", None, self.who, decided, via=self.via, files=files_t)
        rebuilding = Decision(decision_id, "rebuilding", None, self.who, decided, via=self.via, files=files_t)
        # The person's approval is recorded first (write ahead), vouching for both in-progress decisions.
        from omni_tui.core.card.diff import FilePair
        from omni_tui.core.card.project import card_summary

        card = card_summary([FilePair(p, current[p], encode(contents[p])) for p in contents if p in current])
        self.store.decide(
            applying,
            "approved" if kind == "approve" else "accepted_direct",
            allowed_from=(PENDING,) if kind == "approve" else None,
            later=(rebuilding,),
            who=self.who,
            via=self.via,
            decision="approved",
            sha256_before=before,
            sha256_after=after,
            command=command,
            card=card,
        )
        written: list[str] = []
        path = next(iter(contents), "")
        try:
            # The bytes actually on disk now, under the lock, are what is backed up and compared: an
            # edit saved since the proposal was validated makes it stale, never lost.
            # (accept_direct: what was validated is on disk; the backup is the baseline, what rollback restores)
            for path in current:
                on_disk = self.ws.read_current(path)
                expected = current[path] if kind == "approve" else encode(contents.get(path))
                if on_disk != expected:
                    return self._moved_meanwhile(decision_id, [path], current, contents, written, files_t, stage)
                write_backup(self.ws.paths.backups, decision_id, path, on_disk if kind == "approve" else current[path])
            if kind == "approve":  # what is written (after a partial or edited approval too): the history's after-side
                from omni_tui.core.history import applied_label

                for path, text in contents.items():  # (accept_direct keeps it in `<id>@direct` already)
                    write_backup(self.ws.paths.backups, applied_label(decision_id), path, encode(text))
            for path, text in contents.items():
                data = encode(text)
                if kind == "approve" and data is not None and current[path] != data:  # direct edits are already on disk
                    target = self.ws.resolve(path)
                    # Re-checked immediately before the rename (atomic_write's `check`), file by file.
                    try:
                        atomic_write(target, data, check=partial(_holds, target, current[path]), keep_inode=self._sandboxed())
                    except ChangedMeanwhile:
                        return self._moved_meanwhile(decision_id, [path], current, contents, written, files_t, stage)
                    written.append(path)
        except (OSError, PathError) as exc:
            self._undo_writes(written, current, contents)
            cause = getattr(exc, "strerror", None) or str(exc)
            reason = f"apply failed: cannot write {path}: {cause}; nothing was changed"
            decision = self.store.record(
                Decision(decision_id, "failed", reason, self.who, utc_now(), via=self.via, files=files_t),
                sha256_before=before,
                sha256_after=before,
            )
            stage("failed")
            return decision
        if rebuild is None:
            return self._finish(decision_id, current, contents, files_t, None, stage, command, kind=kind)
        self.store.write_decision(rebuilding)  # vouched for by the approval's entry
        stage("rebuilding")
        outcome, interrupted = run_rebuild_step(rebuild)  # Ctrl-C / SystemExit: recorded and rolled back, then raised
        decision = self._finish(decision_id, current, contents, files_t, outcome, stage, command, kind=kind)
        if interrupted is not None:
            raise interrupted
        return decision

    def _moved_meanwhile(
        self,
        decision_id: str,
        moved: list[str],
        current: Mapping[str, bytes | None],
        contents: Mapping[str, str | None],
        written: list[str],
        files: tuple[AppliedFile, ...],
        stage: StageCallback,
    ) -> Decision:
        """A guarded file changed on disk between the validation and the write: the proposal is stale,
        what this apply had written is undone, and the edit on disk is kept (and backed up)."""
        contents_now = {p: self.ws.read_current(p) for p in moved}
        for path, data in contents_now.items():
            write_backup(self.ws.paths.backups, f"{decision_id}@meanwhile", path, data)
        self._undo_writes(written, current, contents)
        reason = (
            f"{', '.join(moved)} changed on disk while it was being validated; nothing was written over it "
            f"(kept, and backed up in backups/{decision_id}@meanwhile): look at it again"
        )
        decision = self._decide_stale(
            decision_id,
            reason,
            files=files,
            sha256_before={p: sha256_bytes(current[p]) for p in moved},
            sha256_after={p: sha256_bytes(d) for p, d in contents_now.items()},
        )
        stage("stale")
        return decision

    def _finish(
        self,
        decision_id: str,
        current: Mapping[str, bytes | None],
        contents: Mapping[str, str | None],
        files: tuple[AppliedFile, ...],
        outcome: RebuildOutcome | None,
        stage: StageCallback,
        command: str | None,
        *,
        kind: str,
    ) -> Decision:
        """Keep (the rebuild passed, or none was run: `outcome` None), or fail / roll back."""
        before = {p: sha256_bytes(b) for p, b in current.items()}
        after = {f.path: f.sha256_after for f in files}
        details = {} if outcome is None else _details(outcome)
        if outcome is None or outcome.ok:
            reason = NOT_REBUILT if outcome is None else outcome.error
            decision = Decision(
                decision_id,
                "applied",
                reason,
                self.who,
                utc_now(),
                via=self.via,
                last_lines=() if outcome is None else outcome.last_lines,
                files=files,
                **details,
            )
            baselines = {path: encode(text) for path, text in contents.items()}
            # Write ahead: the entry vouches for the new baselines and the decision, then they are written.
            self.ws.audit.append(
                "applied",
                who=self.who,
                via=self.via,
                proposal_id=decision_id,
                decision="applied",
                reason=reason,
                sha256_before=before,
                sha256_after=after,
                command=command,
                state={**self.store.vouch(decision), **self.ws.vouch_baselines(baselines)},
                **details,
            )
            for path, data in baselines.items():
                self.ws.write_baseline(path, data)
            self.store.write_decision(decision)
            if outcome is not None:  # the last rebuild (and a failed apply) are about builds: untouched otherwise
                self._record_rebuild(kind, decision_id, "applied", outcome, command)
                self._remember(failed=None)
            self._sweep_stale(f"the approval of {decision_id}" if kind == "approve" else f"the accepted direct edit {decision_id}")
            stage("applied")
            return decision
        reason = failure_reason(outcome)
        if kind == "approve" and self.ws.config.rebuild.auto_rollback:
            stage("rolling_back")
            self._restore(decision_id, current, contents)
            decision = self._conclude("rolled_back", decision_id, reason, outcome, files, command, kind=kind, before=after, after=before)
            stage("rolled_back")
            return decision
        if kind != "approve":
            reason += "; the direct edits are kept (roll back to restore the baseline)"
        decision = self._conclude("failed", decision_id, reason, outcome, files, command, kind=kind, before=before, after=after)
        self._remember(failed={"proposal_id": decision_id, "paths": list(contents), "reason": reason, "exit_code": outcome.exit_code})
        stage("failed")
        return decision

    def _conclude(
        self,
        status: str,
        decision_id: str,
        reason: str,
        outcome: RebuildOutcome,
        files: tuple[AppliedFile, ...],
        command: str | None,
        *,
        kind: str,
        before: Mapping[str, str | None],
        after: Mapping[str, str | None],
    ) -> Decision:
        """A rebuild that did not succeed, recorded as `status` (`rolled_back` or `failed`): the decision,
        vouched for by its audit entry (`before` → `after`: the hashes it moved the files between), and
        gate.json's last rebuild."""
        details = _details(outcome)
        decision = Decision(
            decision_id, status, reason, self.who, utc_now(), via=self.via, last_lines=outcome.last_lines, files=files, **details
        )
        self.store.record(decision, sha256_before=before, sha256_after=after, command=command, **details)
        self._record_rebuild(kind, decision_id, status, outcome, command)
        return decision

    # -- reject / rollback ------------------------------------------------------------------

    def reject(self, proposal_id: str, reason: str) -> Decision:
        """Refuse a pending proposal with the person's reason (required: the agent reads it)."""
        if not reason or not reason.strip():
            raise GateError("a reason is required to reject a proposal (the agent reads it)")
        return record_rejection(self.store, self.store.get(proposal_id), reason.strip(), who=self.who, via=self.via)

    def refuse_by_policy(self, proposal_id: str) -> Decision | None:
        """Reject a pending proposal at once when `[policy] refuse` matches its card (who: policy). Never approves.
        (core/proposals/policy.py, which the store also applies to each proposal it is given)"""
        return refuse_by_policy(self.store, proposal_id)

    def rollback(self, proposal_id: str) -> Decision:
        """Restore the bytes from before a failed (or interrupted) apply; the decision becomes `rolled_back`."""
        with self.exclusive("rollback", proposal_id):
            previous = self.store.decision(proposal_id)
            if previous is None:
                raise GateError(f"proposal {proposal_id} has not been applied; nothing to roll back")
            if previous.status not in ("failed", *IN_PROGRESS):
                raise GateError(f"proposal {proposal_id} is {previous.status}; only a failed apply can be rolled back")
            paths = [f.path for f in previous.files]
            if not paths and self.store.exists(proposal_id):
                paths = self.store.get(proposal_id).paths
            originals: dict[str, bytes | None] = {}
            for path in paths:
                found, data = read_backup(self.ws.paths.backups, proposal_id, path)
                if found and data is None and not self.ws.baseline_sha(path)[0]:
                    # Newly guarded (nothing of it ever approved): the failed change was the acceptance of
                    # the content it had, which stays, an unapproved edit again — not deleted, since
                    # "absent" is no more approved than what is there.
                    continue
                if found:
                    originals[path] = data
                elif previous.status != "applying":
                    raise GateError(f"no backup of {path} for {proposal_id}; cannot roll back")
                # else: interrupted while backing up, so before any file was written: nothing to restore
            current = {p: sha256_bytes(self.ws.read_current(p)) for p in originals}
            self._restore(proposal_id, originals, None)
            cause = previous.reason
            if previous.status in IN_PROGRESS:  # interrupted: say so, and what was found still running
                cause = f"interrupted while {previous.status} (the process that applied it ended without finishing)"
                if self._orphans_stopped:
                    cause += f"; its orphaned build {self._orphans_stopped[-1].describe()} was stopped"
            reason = f"rolled back by {self.who}" + (f" after: {cause}" if cause else "")
            decision = Decision(
                proposal_id,
                "rolled_back",
                reason,
                self.who,
                utc_now(),
                previous.exit_code,
                previous.duration_s,
                previous.log_path,
                previous.last_lines,
                previous.files,
                via=self.via,
            )
            self.store.record(decision, sha256_before=current, sha256_after={p: sha256_bytes(d) for p, d in originals.items()})
            memory = self._memory()
            if isinstance(memory.get("failed"), dict) and memory["failed"].get("proposal_id") == proposal_id:
                self._remember(failed=None)
            last = memory.get("last_rebuild")
            if isinstance(last, dict) and last.get("proposal_id") == proposal_id:
                self._remember(last_rebuild={**last, "status": "rolled_back"})
            self._sweep_stale(f"the rollback of {proposal_id}")
            return decision
