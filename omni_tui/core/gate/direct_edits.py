"""Edits made directly on disk, not proposed: accept them (validate, rebuild, make them the baseline),
revert them to the baseline (backed up first), or, in guard mode, capture each as a proposal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from omni_tui.core.audit import utc_now
from omni_tui.core.config import CONFIG_FILE, PYPROJECT_FILE
from omni_tui.core.errors import GateError, LockBusyError, OmniError, ValidationError
from omni_tui.core.gate.decisions import Decisions
from omni_tui.core.gate.state import RebuildStep, StageCallback
from omni_tui.core.gate.writes import check_config, config_only, decode
from omni_tui.core.proposals import AppliedFile, Decision, FileChange, Proposal, new_id
from omni_tui.core.safefs import atomic_write, restore, sha256_bytes, write_backup
from omni_tui.core.validate import validate_contents

DIRECT_AGENT = "direct-edit"


class DirectEdits(Decisions):
    """Accept, revert or capture the edits made on disk without a proposal."""

    def _direct_paths(self) -> list[str]:
        state = self.state()
        return list(state.unapproved)

    def accept_direct(
        self,
        *,
        rebuild: RebuildStep | None,
        on_stage: StageCallback | None = None,
        command: str | None = None,
        as_reviewed: Mapping[str, str | None] | None = None,
    ) -> Decision:
        """Accept the files as they are on disk: validate, rebuild, and on success make them the baseline.

        `rebuild` None: only when every file is omni-tui's own configuration (`omni-tui.toml`), which
        changes nothing in the environment — kept without a rebuild, and recorded so (`NOT_REBUILT`).
        A project without devenv gets its `[rebuild] command` this way.

        `as_reviewed`: the unapproved files as the person was shown them, path → text (None: deleted);
        the cockpit passes it. Files that changed since, or another file edited meanwhile, are refused
        here, under the lock: what becomes the baseline is what the person accepted.

        Recorded as a decision with a fresh id (agent `direct-edit`). A failed rebuild keeps the
        edits on disk (they are a person's work) and leaves the gate `failed`; `rollback(id)` then
        restores the baseline.
        """
        with self.exclusive("accept_direct"):
            return self._accept_direct(rebuild, on_stage, command, as_reviewed)

    def guard_files(self, add: Sequence[str], *, shown: bytes | None, on_stage: StageCallback | None = None) -> Decision:
        """Add `add` to `[guard] files` in omni-tui.toml and accept that, as the person confirmed it.

        `shown`: the bytes of omni-tui.toml the edit was computed from and shown with (None: there was
        none). Refused, with nothing written, while any guarded file differs from its baseline, when
        omni-tui.toml is not the file holding the configuration, or when it changed since. Under one
        hold of the lock, so no capture or other decision comes between the write and its acceptance.
        Each file added has no approved content yet: it then waits as an unapproved edit
        (`Workspace.init_baseline`).
        """
        with self.exclusive("guard_files"):
            self._refuse_if_tampered("guard files")
            if self.ws.unapproved():
                raise GateError("accept or revert the unapproved edits first: guarding files changes omni-tui.toml and accepts it")
            data, _files = self.guarded_config(add, shown)
            if self.ws.read_current(CONFIG_FILE) != shown:
                raise GateError(f"{CONFIG_FILE} changed after it was shown to you; nothing was written")
            text = decode(CONFIG_FILE, data)
            atomic_write(self.ws.resolve(CONFIG_FILE), data, keep_inode=self._sandboxed())
            return self._accept_direct(None, on_stage, None, {CONFIG_FILE: text})

    def guarded_config(self, add: Sequence[str], shown: bytes | None) -> tuple[bytes, tuple[str, ...]]:
        """The bytes `guard_files` would write over omni-tui.toml's `shown` (None: there is none), and the
        new list; nothing is written (the cockpit shows the list before asking). GateError while the
        configuration lives in pyproject.toml (never moved into a new omni-tui.toml); ConfigError, with
        the line to add by hand, when the table is written in a way that is not edited."""
        from omni_tui.core.config_edit import with_guarded  # a rare action: agents' commands never load it

        if shown is None and PYPROJECT_FILE in self.ws.config_paths():
            raise GateError(f"the configuration is in {PYPROJECT_FILE}: add them to [tool.omni-tui.guard] files there")
        return with_guarded(shown, add)

    def _accept_direct(
        self,
        rebuild: RebuildStep | None,
        on_stage: StageCallback | None,
        command: str | None,
        as_reviewed: Mapping[str, str | None] | None,
    ) -> Decision:
        stage = on_stage or (lambda _stage: None)
        self._refuse_if_tampered("accept the direct edits")
        paths = [p for p in self.ws.unapproved()]
        if not paths:
            raise GateError("there are no unapproved edits to accept")
        if rebuild is None and not config_only(paths):
            raise GateError(f"accepting {', '.join(p for p in paths if not config_only([p]))} needs a rebuild: nothing was accepted")
        stage("validating")
        on_disk = {p: self.ws.read_current(p) for p in paths}
        contents: dict[str, str | None] = {}
        for path, data in on_disk.items():
            contents[path] = None if data is None else decode(path, data)  # None: a deletion to accept
        if as_reviewed is not None and dict(as_reviewed) != contents:
            raise GateError("the guarded files changed after the direct edits were shown to you; nothing was accepted: look at them again")
        present = {p: text for p, text in contents.items() if text is not None}
        validation = validate_contents(present, max_bytes=self.ws.config.guard.max_bytes)
        if not validation.ok:
            raise ValidationError(f"cannot accept the direct edits: {validation.summary()}")
        check_config(present, "cannot accept the direct edits")
        decision_id = new_id()
        baseline = {p: self.ws.read_baseline(p) for p in paths}
        files = [AppliedFile(p, sha256_bytes(baseline[p]), sha256_bytes(on_disk[p]), "edited") for p in paths]
        # The backup under the decision id is what `rollback` restores: the approved baseline.
        for path in paths:
            write_backup(self.ws.paths.backups, f"{decision_id}@direct", path, on_disk[path])
        command = command or getattr(rebuild, "command", None)
        # "before" is the baseline: what the apply replaced in the approved state, and what rollback returns to.
        return self._apply(decision_id, baseline, contents, files, rebuild, stage, command, kind="accept_direct")

    def revert_direct(self, paths: Iterable[str] | None = None) -> list[str]:
        """Restore the baseline bytes of unapproved files (all, or `paths`); the edits are backed up first."""
        with self.exclusive("revert"):
            self._refuse_if_tampered("revert to the baseline")
            if paths is None:
                targets = self._direct_paths()
            else:
                targets = [self.ws.relative(p) for p in paths]
            label = f"revert@{new_id()}"
            reverted = []
            for path in targets:
                now = self.ws.read_current(path)
                baseline = self.ws.read_baseline(path)
                if now == baseline or not self.ws.has_baseline(path):
                    continue  # (no approved bytes recorded, e.g. a new [tool.omni-tui] in pyproject.toml: never delete it)
                write_backup(self.ws.paths.backups, label, path, now)
                restore(self.ws.resolve(path), baseline, keep_inode=self._sandboxed())
                reverted.append(path)
                self.ws.audit.append(
                    "reverted",
                    who=self.who,
                    via=self.via,
                    decision="reverted",
                    reason=f"{path} restored to the baseline (edits kept in backups/{label})",
                    sha256_before={path: sha256_bytes(now)},
                    sha256_after={path: sha256_bytes(baseline)},
                )
            if reverted:
                self._sweep_stale("reverted to the baseline")
            return reverted

    def capture_direct_edits(self, agent: str = DIRECT_AGENT) -> list[Proposal]:
        """Guard mode: turn each unapproved file into a proposal and restore its baseline at once.

        A newly guarded file (no approved content recorded yet) is left as it is, an unapproved edit:
        restoring "nothing" would delete a file the environment reads.

        Returns the proposals made ([] when the gate is busy: an apply in progress writes files itself).
        """
        try:
            with self.exclusive("capture"):
                made: list[Proposal] = []
                if self.forgeries():
                    return made  # never restore a baseline the audit log does not vouch for
                for path in self._direct_paths():
                    if not self.ws.has_baseline(path):
                        continue  # newly guarded: no approved content to restore; it waits for a person to accept it
                    now = self.ws.read_current(path)
                    baseline = self.ws.read_baseline(path)
                    if now == baseline:
                        continue
                    proposal = self._capture_one(path, now, baseline, agent)
                    if proposal is not None:
                        made.append(proposal)
                if made:
                    self._sweep_stale("guard mode restored the baseline")
                return made
        except LockBusyError:
            return []

    def _capture_one(self, path: str, now: bytes | None, baseline: bytes | None, agent: str) -> Proposal | None:
        label = f"capture@{new_id()}"
        write_backup(self.ws.paths.backups, label, path, now)
        proposal: Proposal | None = None
        problem: str | None = None
        if now is None:
            problem = f"guard mode: {path} was deleted directly; restored (a deletion cannot be proposed)"
        else:
            try:
                text = decode(path, now)
                proposal = Proposal(
                    new_id(),
                    agent,
                    f"Direct edit of {path}",
                    f"{path} was edited directly while guard mode was on. The edit was captured as this "
                    f"proposal and the file was restored to its approved baseline.",
                    utc_now(),
                    (FileChange(path, sha256_bytes(baseline), text),),
                )
                proposal = self.store.submit(proposal)
            except OmniError as exc:
                problem = f"guard mode: direct edit of {path} reverted, it cannot become a proposal: {exc}"
                proposal = None
        restore(self.ws.resolve(path), baseline, keep_inode=self._sandboxed())
        self.ws.audit.append(
            "captured" if proposal else "reverted",
            who=self.who,
            via=self.via,
            proposal_id=proposal.id if proposal else None,
            decision="reverted",
            reason=problem or f"guard mode: direct edit of {path} became proposal {proposal.id if proposal else ''}",
            sha256_before={path: sha256_bytes(now)},
            sha256_after={path: sha256_bytes(baseline)},
        )
        return proposal
