"""How the gate puts bytes in guarded files, and what follows when one moves.

Files are rewritten in place while an `omni-tui run` sandbox runs (its read-only bind stays on
them, core/sandbox.py); a put-back never loses an edit made meanwhile (it is backed up first); and
after any write, pending proposals built on content that is gone become `stale` at once.
`encode`/`decode`/`check_config`: the text of a proposal as the bytes written, and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from omni_tui.core.audit import utc_now
from omni_tui.core.config import CONFIG_FILE, PYPROJECT_FILE
from omni_tui.core.errors import ConfigError, GateError, PathError, ValidationError
from omni_tui.core.gate.lock import GateLock
from omni_tui.core.proposals import PENDING, AppliedFile, Decision, new_id
from omni_tui.core.safefs import read_bytes, restore, sha256_bytes, write_backup
from omni_tui.core.sandbox import running as running_sandboxes
from omni_tui.core.validate import not_utf8
from omni_tui.core.workspace import config_from_bytes


def encode(text: str | None) -> bytes | None:
    """Content to put in place; None = the file should not exist (only a person's direct deletion)."""
    return None if text is None else text.encode("utf-8")


def config_only(paths: Iterable[str]) -> bool:
    """Whether these guarded files are all omni-tui's own configuration file (nothing devenv reads)."""
    paths = list(paths)
    return bool(paths) and all(path == CONFIG_FILE for path in paths)


def check_config(contents: Mapping[str, str], what: str) -> None:
    """A configuration file must parse before it becomes the approved configuration."""
    for path in (CONFIG_FILE, PYPROJECT_FILE):
        if contents.get(path) is not None:
            try:
                config_from_bytes(path, contents[path].encode("utf-8"))
            except ConfigError as exc:
                raise ValidationError(f"{what}: {exc}") from None


def decode(path: str, data: bytes | None) -> str:
    """Bytes on disk → the text to validate or diff (None: an absent file, ""); ValidationError when not UTF-8."""
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: {not_utf8(data, exc)}") from None


class GuardedWrites(GateLock):
    """Writing guarded files back (in place under a sandbox), and the stale sweep after a write."""

    def _sandboxed(self) -> bool:
        """Is an `omni-tui run` sandbox running on this project? Then guarded files are rewritten in place
        (same file), so the read-only bind inside the sandbox stays on them (core/sandbox.py)."""
        return bool(running_sandboxes(self.ws.paths))

    def _undo_writes(self, written: list[str], current: Mapping[str, bytes | None], contents: Mapping[str, str | None]) -> None:
        """Put back what this apply wrote; a file someone changed since is left as it is (theirs)."""
        for path in written:
            target = self.ws.resolve(path)
            if read_bytes(target) == encode(contents.get(path)):
                restore(target, current[path], keep_inode=self._sandboxed())

    def _restore(self, label: str, originals: Mapping[str, bytes | None], applied: Mapping[str, str | None] | None) -> None:
        """Put each path back to `originals`; anything else found there (an edit made meanwhile) is backed up first."""
        for path, data in originals.items():
            target = self.ws.resolve(path)
            now = read_bytes(target)
            if now == data:
                continue
            if applied is None or now != encode(applied.get(path)):
                write_backup(self.ws.paths.backups, f"{label}@overwritten-{new_id()}", path, now)
            restore(target, data, keep_inode=self._sandboxed())

    # -- stale at once ----------------------------------------------------------------------

    def _sweep_stale(self, cause: str) -> list[str]:
        """Pending proposals built on content that is now neither on disk nor the baseline become stale at once.

        Called (under the gate lock) whenever an approval, an accepted edit, a revert or a rollback
        moved a guarded file: their agents' `wait` returns 12 on its next poll.
        """
        made: list[str] = []
        current: dict[str, str | None] = {}
        for entry in self.store.entries():
            if entry.status != PENDING:
                continue
            gone: list[str] = []
            for change in entry.proposal.changes:
                if change.path not in current:
                    try:
                        current[change.path] = sha256_bytes(self.ws.read_current(change.path))
                    except PathError:
                        current[change.path] = ""
                if change.base_sha256 != current[change.path] and change.base_sha256 != self.ws.baseline_sha(change.path)[1]:
                    gone.append(change.path)
            if not gone:
                continue
            reason = (
                f"{', '.join(gone)} moved ({cause}): the content this proposal was built on is neither on disk "
                "nor approved any more; the agent must propose again"
            )
            try:
                self._decide_stale(
                    entry.proposal.id,
                    reason,
                    allowed_from=(PENDING,),
                    sha256_before={c.path: c.base_sha256 for c in entry.proposal.changes},
                    sha256_after={p: current[p] or None for p in gone},
                )
            except GateError:
                continue  # decided meanwhile (withdrawn by its agent)
            made.append(entry.proposal.id)
        return made

    def _decide_stale(
        self,
        proposal_id: str,
        reason: str,
        *,
        sha256_before: Mapping[str, str | None],
        sha256_after: Mapping[str, str | None],
        files: tuple[AppliedFile, ...] = (),
        allowed_from: Iterable[str] | None = None,
    ) -> Decision:
        """Record `stale`: the content a proposal was built on is gone (`before` → `after`: the hashes it moved between)."""
        decision = Decision(proposal_id, "stale", reason, self.who, utc_now(), via=self.via, files=files)
        return self.store.record(decision, allowed_from=allowed_from, sha256_before=sha256_before, sha256_after=sha256_after)
