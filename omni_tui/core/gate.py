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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from omni_tui.core.audit import utc_now, write_external_head
from omni_tui.core.build_group import BUILD_FILE, OrphanBuild, find_orphan, stop_orphan
from omni_tui.core.card.diff import FilePair
from omni_tui.core.card.policy import refusal
from omni_tui.core.card.project import card_summary, proposal_card, proposal_pairs
from omni_tui.core.config import CONFIG_FILE, PYPROJECT_FILE
from omni_tui.core.errors import ConfigError, GateError, LockBusyError, OmniError, PathError, ValidationError
from omni_tui.core.history import applied_label
from omni_tui.core.ledger import Forgery, baseline_key, decision_key
from omni_tui.core.proposals import (
    IN_PROGRESS,
    PENDING,
    TAMPERED,
    AppliedFile,
    Decision,
    FileChange,
    Proposal,
    ProposalEntry,
    ProposalStore,
    new_id,
)
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.safefs import (
    ChangedMeanwhile,
    atomic_write,
    file_lock,
    is_locked,
    read_backup,
    read_bytes,
    restore,
    sha256_bytes,
    write_backup,
)
from omni_tui.core.sandbox import running as running_sandboxes
from omni_tui.core.textdiff import diff_texts
from omni_tui.core.validate import Validation, cache_for, combine, stale_issues, validate_contents
from omni_tui.core.workspace import Workspace, config_from_bytes, default_who

RebuildStep = Callable[[], RebuildOutcome]
StageCallback = Callable[[str], None]

LOCK_PROBE_GRACE_S = 0.25  # how long a busy gate lock is tried again when nobody is named as its holder
GATE_KINDS = ("clean", "pending", "unapproved_edits", "rebuilding", "failed", "tampered")
GateKind = Literal["clean", "pending", "unapproved_edits", "rebuilding", "failed", "tampered"]
DIRECT_AGENT = "direct-edit"


@dataclass(frozen=True)
class Holder:
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


@dataclass(frozen=True)
class FailedApply:
    """An apply whose rebuild failed and whose files were not rolled back (or an interrupted one)."""

    proposal_id: str
    paths: tuple[str, ...]
    reason: str
    exit_code: int | None
    interrupted: bool = False


@dataclass(frozen=True)
class LastRebuild:
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


@dataclass(frozen=True)
class GateState:
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
        """The header text: `CLEAN`, `2 PENDING`, `UNAPPROVED EDITS`, `REBUILDING`, `FAILED — rollback?`, `TAMPERED`."""
        return {
            "tampered": "TAMPERED",
            "clean": "CLEAN",
            "pending": f"{len(self.pending)} PENDING",
            "unapproved_edits": "UNAPPROVED EDITS",
            "rebuilding": "REBUILDING",
            "failed": "FAILED — rollback?",
        }[self.kind]


def _holds(path: Path, want: bytes | None) -> bool:
    """Whether `path` still holds `want` (re-checked right before a rename: see atomic_write's `check`)."""
    return read_bytes(path) == want


def failure_reason(outcome: RebuildOutcome) -> str:
    if outcome.cancelled:
        return "rebuild cancelled"
    if outcome.timed_out:
        return f"rebuild timed out after {outcome.duration_s:.0f} s"
    if outcome.exit_code is None:
        return f"rebuild failed: {outcome.error or 'the command did not run'}"
    return f"rebuild failed: exit {outcome.exit_code}"


def _text_bytes(text: str) -> bytes:
    return text.encode("utf-8")


def _encode(text: str | None) -> bytes | None:
    """Content to put in place; None = the file should not exist (only a person's direct deletion)."""
    return None if text is None else text.encode("utf-8")


class Gate:
    def __init__(self, ws: Workspace, who: str | None = None, store: ProposalStore | None = None, via: str = "terminal") -> None:
        self.ws = ws
        self.who = who or default_who(ws.env)
        # Where the person decided: "terminal" (a cockpit in a terminal), "web" (`omni-tui serve`), "cli".
        self.via = via
        self.store = store or ProposalStore(ws)
        self.notices: list[str] = []  # what the gate did on its own that a person should be told (an orphan stopped)
        self._orphans_stopped: list[OrphanBuild] = []
        self.on_notice: Callable[[str], None] | None = None  # told each notice as it happens (the CLI prints it)

    # -- the lock ---------------------------------------------------------------------------

    def holder(self) -> Holder | None:
        """Who holds the gate lock, or None when nobody does."""
        if not is_locked(self.ws.paths.lock):
            return None
        try:
            info = json.loads(self.ws.paths.lock.read_text() or "{}")
        except (OSError, ValueError, RecursionError):
            info = {}
        return Holder(info.get("pid"), info.get("action", "rebuild"), info.get("proposal_id"), info.get("who"), info.get("since"))

    @contextlib.contextmanager
    def exclusive(self, action: str, proposal_id: str | None = None) -> Iterator[None]:
        """Hold the gate lock for `action`; LockBusyError naming the holder when another one runs."""
        stack = contextlib.ExitStack()
        # Anyone asking "is it held?" (`is_locked`: status, a cockpit's header) holds a shared lock for
        # an instant; that is not a holder, so a busy answer is asked again for a moment before it counts.
        deadline = time.monotonic() + LOCK_PROBE_GRACE_S
        while True:
            fd = stack.enter_context(file_lock(self.ws.paths.lock, blocking=False))
            if fd is not None:
                break
            stack.close()
            holder = self.holder()
            if holder is not None or time.monotonic() >= deadline:
                busy = holder.describe() if holder else "another apply or rebuild"
                raise LockBusyError(f"the gate is busy: {busy} is running; try again when it finishes")
            time.sleep(0.005)
        with stack:
            info = {"pid": os.getpid(), "action": action, "proposal_id": proposal_id, "who": self.who, "since": utc_now()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
            try:
                self._reap_orphan()
                yield
            finally:
                os.ftruncate(fd, 0)

    def _reap_orphan(self) -> None:
        """Under the lock: a build whose process group outlived the process that started it is stopped, and said.

        A build is recorded in `<state>/build.json` only while a process holding this lock runs it; a
        recorded group that still runs now that we hold the lock was left by a process that died (a
        cockpit killed mid-rebuild). It is never left running beside a new apply, rebuild or rollback.
        """
        group_file = self.ws.paths.state / BUILD_FILE
        orphan = find_orphan(group_file)
        if orphan is None:
            return
        if not stop_orphan(group_file, orphan):
            raise GateError(
                f"an orphaned rebuild {orphan.describe()} is still running and could not be stopped; "
                f"stop it (kill -KILL -- -{orphan.pgid}) and try again"
            )
        message = f"stopped an orphaned rebuild {orphan.describe()}: the process that started it is gone"
        self._orphans_stopped.append(orphan)
        self.notices.append(message)
        if self.on_notice is not None:
            self.on_notice(message)
        self.ws.audit.append("orphan_stopped", who=self.who, via=self.via, reason=message, command=orphan.command)

    def reap_orphans(self) -> list[str]:
        """A starting cockpit: stop an orphaned build if there is one; the notices to show ([] when the gate is busy)."""
        before = len(self.notices)
        try:
            with self.exclusive("recover"):
                pass
        except LockBusyError:
            return []
        return self.notices[before:]

    def orphan(self) -> OrphanBuild | None:
        """An orphaned build still running while nobody holds the gate (what `status` reports)."""
        if is_locked(self.ws.paths.lock):
            return None
        return find_orphan(self.ws.paths.state / BUILD_FILE)

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

    # -- integrity: what the audit chain does not account for -------------------------------

    def forgeries(self, entries: list[ProposalEntry] | None = None) -> list[Forgery]:
        """The log cut or rewritten, decisions and baselines it does not vouch for (cheap: see ledger.py)."""
        entries = self.store.entries() if entries is None else entries
        out: list[Forgery] = []
        ledger = self.ws.ledger
        ledger.refresh()
        chain = ledger.chain_problem(state_exists=ledger.entries == 0 and self._state_exists())
        if chain is not None:
            out.append(Forgery("audit", str(self.ws.audit.path), chain))
        for entry in entries:
            if entry.status == TAMPERED and entry.decision is not None:
                out.append(
                    Forgery(
                        "decision",
                        str(self.ws.paths.decisions / f"{entry.proposal.id}.json"),
                        (entry.decision.reason or "").split(": ", 1)[-1],
                    )
                )
        out.extend(self.ws.baseline_forgeries())
        return out

    def _state_exists(self) -> bool:
        for folder in (self.ws.paths.baseline, self.ws.paths.decisions):
            try:
                if any(not f.name.startswith(".") for f in folder.iterdir()):
                    return True
            except OSError:
                continue
        return False

    def _refuse_if_tampered(self, what: str) -> None:
        forged = self.forgeries()
        if forged:
            more = f" (and {len(forged) - 1} more)" if len(forged) > 1 else ""
            raise GateError(
                f"cannot {what}: the state was tampered with — {forged[0].describe()}{more}; a person must resolve it in the cockpit first"
            )

    def resolve_tampered(self, *, dry_run: bool = False) -> list[str]:
        """A person's answer to `tampered`: put back what the chain vouches for, record it, re-baseline.

        Forged decision files go to quarantine/ and the vouched-for bytes (kept in objects/) are put
        back, else the proposal is pending again; a forged or deleted baseline gets its vouched-for
        bytes back, else (nothing kept) the baseline as it is now is accepted by this person; a cut or
        rewritten log is set aside (a rewritten one as `audit.jsonl.tampered-<time>`) and a new head is
        recorded. One audit entry (`tamper_resolved`, who = this person) vouches for the result.
        Returns what was (with `dry_run`: would be) done, one line each.
        """
        if dry_run:
            return self._resolve(dry_run=True)
        with self.exclusive("resolve"):
            return self._resolve(dry_run=False)

    def _resolve(self, *, dry_run: bool) -> list[str]:
        forged = self.forgeries()
        if not forged:
            if dry_run:
                return []
            raise GateError("nothing to resolve: every decision and baseline matches the audit log")
        ledger, paths = self.ws.ledger, self.ws.paths
        done: list[str] = []
        state: dict[str, Any] = {}
        label = f"tampered@{new_id()}"
        chain = next((f for f in forged if f.kind == "audit"), None)
        for forgery in forged:
            if forgery.kind == "decision":
                pid = os.path.basename(forgery.path)[: -len(".json")]
                key = decision_key(pid)
                kept = next((d for d in (ledger.recover(x) for x in sorted(ledger.latest(key) or (), key=str) if x) if d), None)
                on_disk = read_bytes(paths.decisions / f"{pid}.json")
                digest = sha256_bytes(on_disk)
                if chain is not None and kept is None and digest is not None and ledger.recover(digest) is not None:
                    # The log that vouched for it is cut, but a copy of exactly these bytes was kept when an
                    # entry vouched for them: keep it (the entry below vouches for it again).
                    done.append(f"{forgery.path}: kept — these bytes were vouched for before the log was cut")
                    state[key] = digest
                    continue
                if kept is not None:
                    done.append(f"{forgery.path}: forged decision set aside in quarantine/; the one the audit log records is put back")
                else:
                    done.append(f"{forgery.path}: forged decision set aside in quarantine/; proposal {pid} is pending again")
                if dry_run:
                    continue
                file = paths.decisions / f"{pid}.json"
                if file.exists():
                    self.store.quarantine(file, f"forged decision: {forgery.detail}; set aside by {self.who}")
                if kept is not None:
                    atomic_write(file, kept)
                state[key] = sha256_bytes(kept)
        for rel in self.ws.guarded():
            recorded, digest = self.ws.baseline_sha(rel)
            key = baseline_key(rel)
            if (recorded or ledger.vouched(key)) and ledger.problem(key, digest) is None:
                continue
            if not recorded and not ledger.vouched(key):
                continue
            latest = ledger.latest(key) or frozenset()
            restored: tuple[bool, bytes | None] = (False, None)
            if None in latest:
                restored = (True, None)
            else:
                for candidate in sorted(x for x in latest if x):
                    data = ledger.recover(candidate)
                    if data is not None:
                        restored = (True, data)
                        break
            if restored[0]:
                done.append(
                    f"baseline of {rel}: the approved content the audit log records is put back (the forged copy is kept in backups/{label})"
                )
            elif chain is not None and digest is not None and ledger.recover(digest) is not None:
                done.append(f"baseline of {rel}: kept — these bytes were vouched for before the log was cut")
            else:
                done.append(
                    f"baseline of {rel}: the approved content cannot be recovered; the baseline as it is now is accepted by {self.who} — review it"
                )
            if dry_run:
                continue
            now = self.ws.read_baseline(rel) if recorded else None
            write_backup(paths.backups, label, rel, now)
            data = restored[1] if restored[0] else now
            self.ws.write_baseline(rel, data)
            state[key] = ledger.keep(data)
        if chain is not None:
            rewritten = "does not continue" in chain.detail or "rewritten" in chain.detail
            done.append(
                f"{chain.path}: {chain.detail}; "
                + ("set aside as evidence and a new chain started" if rewritten else "a new head is recorded")
                + f", vouching for the state as it is now (by {self.who})"
            )
            if not dry_run:
                if rewritten:
                    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
                    os.replace(self.ws.audit.path, self.ws.audit.path.with_name(f"{self.ws.audit.path.name}.tampered-{stamp}"))
                    self.ws.audit.head_path.unlink(missing_ok=True)
                # The chain before this point no longer vouches for anything reliably: vouch for it all.
                for rel in self.ws.guarded():
                    recorded, _digest = self.ws.baseline_sha(rel)
                    if recorded:
                        state[baseline_key(rel)] = ledger.keep(self.ws.read_baseline(rel))
                for file in sorted(paths.decisions.glob("*.json")):
                    data = read_bytes(file)
                    if data is not None:
                        state[decision_key(file.stem)] = ledger.keep(data)
        if dry_run:
            return done
        entry = self.ws.audit.append(
            "tamper_resolved",
            who=self.who,
            via=self.via,
            decision="rebaselined",
            reason="; ".join(f.describe() for f in forged)[:4000],
            state=state,
        )
        if chain is not None and self.ws.audit.external_head is not None:
            raw = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            write_external_head(self.ws.audit.external_head, int(entry["seq"]), hashlib.sha256(raw).hexdigest(), self.ws.audit.path)
        self.ws.ledger.refresh()
        self._sweep_stale("the resolution of tampered state")
        return done

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
            decision = Decision(entry.proposal.id, "stale", reason, self.who, utc_now(), via=self.via)
            try:
                self.store.decide(
                    decision,
                    "stale",
                    allowed_from=(PENDING,),
                    who=self.who,
                    via=self.via,
                    decision="stale",
                    reason=reason,
                    sha256_before={c.path: c.base_sha256 for c in entry.proposal.changes},
                    sha256_after={p: current[p] or None for p in gone},
                )
            except GateError:
                continue  # decided meanwhile (withdrawn by its agent)
            made.append(entry.proposal.id)
        return made

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

    # -- validation -------------------------------------------------------------------------

    def validate(self, proposal: Proposal, *, nix: bool = True, current: Mapping[str, str | None] | None = None) -> Validation:
        """Is the base still current? Does the content parse as Nix, fit the size limit, is it UTF-8?

        The content checks are remembered by content hash (`ValidationCache`, shared on disk by every
        process); the stale check reads the disk every time. `current`: the hashes on disk, when the
        caller already has them (a listing of many proposals reads each file once).
        """
        found = self._validate(proposal, nix=nix, current=current, run=True)
        assert found is not None
        return found

    def validate_cached(
        self, proposal: Proposal, *, nix: bool = True, current: Mapping[str, str | None] | None = None
    ) -> Validation | None:
        """`validate` from remembered content checks only (nothing is run); None when one is not known yet."""
        return self._validate(proposal, nix=nix, current=current, run=False)

    def _validate(self, proposal: Proposal, *, nix: bool, current: Mapping[str, str | None] | None, run: bool) -> Validation | None:
        if current is None or any(c.path not in current for c in proposal.changes):
            current = {c.path: sha256_bytes(self.ws.read_current(c.path)) for c in proposal.changes}
        cache = cache_for(self.ws.paths.state / "cache" / "validation")
        max_bytes = self.ws.config.guard.max_bytes
        parts: list[Validation] = []
        for change in proposal.changes:
            part = (cache.check if run else cache.peek)(change.path, change.new_content, max_bytes=max_bytes, nix=nix)
            if part is None:
                return None
            parts.append(part)
        return combine(parts, stale_issues(current, {c.path: c.base_sha256 for c in proposal.changes}))

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
    ) -> Decision:
        """Apply a pending proposal (all of it, chosen hunks, or edited content) and rebuild.

        Returns the final decision (`applied`, `rolled_back`, `failed` or `stale`). Raises
        ValidationError (the proposal stays pending) when the content to apply is invalid, and
        GateError when the proposal is not pending or the gate is busy.
        """
        stage = on_stage or (lambda _stage: None)
        with self.exclusive("approve", proposal_id):
            self._refuse_if_tampered(f"approve {proposal_id}")
            proposal = self.store.get(proposal_id)
            status = self.store.status(proposal.id)
            if status != PENDING:
                raise GateError(f"proposal {proposal.id} is {status}, not pending")
            refused = self.policy_refusal(proposal)
            if refused is not None:
                raise GateError(f"cannot approve {proposal.id}: {refused}")
            stage("validating")
            current = {c.path: self.ws.read_current(c.path) for c in proposal.changes}
            stale = [c.path for c in proposal.changes if sha256_bytes(current[c.path]) != c.base_sha256]
            if stale:
                reason = f"{', '.join(stale)} changed since the proposal was made; the agent must propose again"
                decision = Decision(proposal.id, "stale", reason, self.who, utc_now(), via=self.via)
                self.store.decide(
                    decision,
                    "stale",
                    allowed_from=(PENDING,),
                    who=self.who,
                    via=self.via,
                    decision="stale",
                    reason=reason,
                    sha256_before={c.path: c.base_sha256 for c in proposal.changes},
                    sha256_after={p: sha256_bytes(current[p]) for p in stale},
                )
                stage("stale")
                return decision
            # Approving must not silently approve someone else's unreviewed edits underneath it.
            dirty = [c.path for c in proposal.changes if current[c.path] != self.ws.read_baseline(c.path)]
            if dirty:
                raise GateError(
                    f"{', '.join(dirty)} differs from the approved baseline (unapproved edits or a failed apply): "
                    f"accept, revert or roll back first, then approve {proposal.id}"
                )
            contents, files = self._contents(proposal, current, hunks, edited)
            validation = validate_contents(contents, max_bytes=self.ws.config.guard.max_bytes)
            if not validation.ok:
                raise ValidationError(f"cannot approve {proposal.id}: {validation.summary()}")
            _check_config(contents, f"cannot approve {proposal.id}")
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
                old_text = _decode(change.path, before)
                chosen = tuple(sorted(hunks[change.path]))
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
        rebuild: RebuildStep,
        stage: StageCallback,
        command: str | None,
        *,
        kind: str,
    ) -> Decision:
        """Back up, write, rebuild, then keep (baseline := applied) or roll back. Caller holds the lock."""
        files_t = tuple(files)
        before = {p: sha256_bytes(b) for p, b in current.items()}
        after = {f.path: f.sha256_after for f in files}
        stage("applying")
        decided = utc_now()
        applying = Decision(decision_id, "applying", None, self.who, decided, via=self.via, files=files_t)
        rebuilding = Decision(decision_id, "rebuilding", None, self.who, decided, via=self.via, files=files_t)
        # The person's approval is recorded first (write ahead), vouching for both in-progress decisions.
        card = card_summary([FilePair(p, current[p], _encode(contents[p])) for p in contents if p in current])
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
                expected = current[path] if kind == "approve" else _encode(contents.get(path))
                if on_disk != expected:
                    return self._moved_meanwhile(decision_id, [path], current, contents, written, files_t, stage)
                write_backup(self.ws.paths.backups, decision_id, path, on_disk if kind == "approve" else current[path])
            if kind == "approve":  # what is written (after a partial or edited approval too): the history's after-side
                for path, text in contents.items():  # (accept_direct keeps it in `<id>@direct` already)
                    write_backup(self.ws.paths.backups, applied_label(decision_id), path, _encode(text))
            for path, text in contents.items():
                data = _encode(text)
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
            decision = self.store.decide(
                Decision(decision_id, "failed", reason, self.who, utc_now(), via=self.via, files=files_t),
                "failed",
                who=self.who,
                via=self.via,
                decision="failed",
                reason=reason,
                sha256_before=before,
                sha256_after=before,
            )
            stage("failed")
            return decision
        self.store.write_decision(rebuilding)  # vouched for by the approval's entry
        stage("rebuilding")
        started = time.monotonic()
        interrupted: BaseException | None = None
        try:
            outcome = rebuild()
            if not isinstance(outcome, RebuildOutcome):
                raise GateError(f"the rebuild step returned {type(outcome).__name__}, not a RebuildOutcome")
        except Exception as exc:  # a raising rebuild step is a failed rebuild, with its message
            outcome = RebuildOutcome(None, time.monotonic() - started, None, (), error=str(exc) or type(exc).__name__)
        except BaseException as exc:  # Ctrl-C / SystemExit: record and roll back, then let it propagate
            outcome = RebuildOutcome(None, time.monotonic() - started, None, (), error=f"interrupted ({type(exc).__name__})")
            interrupted = exc
        decision = self._finish(decision_id, current, contents, files_t, outcome, stage, command, kind=kind)
        if interrupted is not None:
            raise interrupted
        return decision

    def _sandboxed(self) -> bool:
        """Is an `omni-tui run` sandbox running on this project? Then guarded files are rewritten in place
        (same file), so the read-only bind inside the sandbox stays on them (core/sandbox.py)."""
        return bool(running_sandboxes(self.ws.paths))

    def _undo_writes(self, written: list[str], current: Mapping[str, bytes | None], contents: Mapping[str, str | None]) -> None:
        """Put back what this apply wrote; a file someone changed since is left as it is (theirs)."""
        for path in written:
            target = self.ws.resolve(path)
            if read_bytes(target) == _encode(contents.get(path)):
                restore(target, current[path], keep_inode=self._sandboxed())

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
        decision = Decision(decision_id, "stale", reason, self.who, utc_now(), via=self.via, files=files)
        self.store.decide(
            decision,
            "stale",
            who=self.who,
            via=self.via,
            decision="stale",
            reason=reason,
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
        outcome: RebuildOutcome,
        stage: StageCallback,
        command: str | None,
        *,
        kind: str,
    ) -> Decision:
        before = {p: sha256_bytes(b) for p, b in current.items()}
        after = {f.path: f.sha256_after for f in files}
        details: dict[str, Any] = dict(exit_code=outcome.exit_code, duration_s=round(outcome.duration_s, 3), log_path=outcome.log_path)
        if outcome.ok:
            decision = Decision(
                decision_id,
                "applied",
                outcome.error,
                self.who,
                utc_now(),
                via=self.via,
                last_lines=outcome.last_lines,
                files=files,
                **details,
            )
            baselines = {path: _encode(text) for path, text in contents.items()}
            # Write ahead: the entry vouches for the new baselines and the decision, then they are written.
            self.ws.audit.append(
                "applied",
                who=self.who,
                via=self.via,
                proposal_id=decision_id,
                decision="applied",
                reason=outcome.error,
                sha256_before=before,
                sha256_after=after,
                command=command,
                state={**self.store.vouch(decision), **self.ws.vouch_baselines(baselines)},
                **details,
            )
            for path, data in baselines.items():
                self.ws.write_baseline(path, data)
            self.store.write_decision(decision)
            self._record_rebuild(kind, decision_id, "applied", outcome, command)
            self._remember(failed=None)
            self._sweep_stale(f"the approval of {decision_id}" if kind == "approve" else f"the accepted direct edit {decision_id}")
            stage("applied")
            return decision
        reason = failure_reason(outcome)
        if kind == "approve" and self.ws.config.rebuild.auto_rollback:
            stage("rolling_back")
            self._restore(decision_id, current, contents)
            decision = Decision(
                decision_id, "rolled_back", reason, self.who, utc_now(), via=self.via, last_lines=outcome.last_lines, files=files, **details
            )
            self.store.decide(
                decision,
                "rolled_back",
                who=self.who,
                via=self.via,
                decision="rolled_back",
                reason=reason,
                sha256_before=after,
                sha256_after=before,
                command=command,
                **details,
            )
            self._record_rebuild(kind, decision_id, "rolled_back", outcome, command)
            stage("rolled_back")
            return decision
        if kind != "approve":
            reason += "; the direct edits are kept (roll back to restore the baseline)"
        decision = Decision(
            decision_id, "failed", reason, self.who, utc_now(), via=self.via, last_lines=outcome.last_lines, files=files, **details
        )
        self.store.decide(
            decision,
            "failed",
            who=self.who,
            via=self.via,
            decision="failed",
            reason=reason,
            sha256_before=before,
            sha256_after=after,
            command=command,
            **details,
        )
        self._record_rebuild(kind, decision_id, "failed", outcome, command)
        self._remember(failed={"proposal_id": decision_id, "paths": list(contents), "reason": reason, "exit_code": outcome.exit_code})
        stage("failed")
        return decision

    def _restore(self, label: str, originals: Mapping[str, bytes | None], applied: Mapping[str, str | None] | None) -> None:
        """Put each path back to `originals`; anything else found there (an edit made meanwhile) is backed up first."""
        for path, data in originals.items():
            target = self.ws.resolve(path)
            now = read_bytes(target)
            if now == data:
                continue
            if applied is None or now != _encode(applied.get(path)):
                write_backup(self.ws.paths.backups, f"{label}@overwritten-{new_id()}", path, now)
            restore(target, data, keep_inode=self._sandboxed())

    # -- reject / rollback ------------------------------------------------------------------

    def reject(self, proposal_id: str, reason: str) -> Decision:
        """Refuse a pending proposal with the person's reason (required: the agent reads it)."""
        if not reason or not reason.strip():
            raise GateError("a reason is required to reject a proposal (the agent reads it)")
        proposal = self.store.get(proposal_id)
        decision = Decision(proposal.id, "rejected", reason.strip(), self.who, utc_now(), via=self.via)
        card = card_summary(proposal_pairs(self.ws, proposal))
        return self.store.decide(
            decision, "rejected", allowed_from=(PENDING,), who=self.who, via=self.via, decision="rejected", reason=reason.strip(), card=card
        )

    def policy_refusal(self, proposal: Proposal) -> str | None:
        """The reason `[policy] refuse` refuses `proposal` (naming the rule), or None."""
        if not self.ws.config.policy.refuse:
            return None
        try:
            return refusal(self.ws.config.policy, proposal_card(self.ws, proposal))
        except Exception as exc:  # noqa: BLE001 - a card that cannot be computed refuses rather than lets through
            return f"refused by policy: its change card could not be computed ({type(exc).__name__})"

    def refuse_by_policy(self, proposal_id: str) -> Decision | None:
        """Reject a pending proposal at once when `[policy] refuse` matches its card (who: policy). Never approves."""
        proposal = self.store.get(proposal_id)
        reason = self.policy_refusal(proposal)
        if reason is None or self.store.status(proposal.id) != PENDING:
            return None
        decision = Decision(proposal.id, "rejected", reason, "policy", utc_now(), via="policy")
        card = card_summary(proposal_pairs(self.ws, proposal))
        try:
            return self.store.decide(
                decision, "rejected", allowed_from=(PENDING,), who="policy", via="policy", decision="rejected", reason=reason, card=card
            )
        except GateError:
            return None  # decided meanwhile (a person, or another process applying the same policy)

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
            self.store.decide(
                decision,
                "rolled_back",
                who=self.who,
                via=self.via,
                decision="rolled_back",
                reason=reason,
                sha256_before=current,
                sha256_after={p: sha256_bytes(d) for p, d in originals.items()},
            )
            memory = self._memory()
            if isinstance(memory.get("failed"), dict) and memory["failed"].get("proposal_id") == proposal_id:
                self._remember(failed=None)
            last = memory.get("last_rebuild")
            if isinstance(last, dict) and last.get("proposal_id") == proposal_id:
                self._remember(last_rebuild={**last, "status": "rolled_back"})
            self._sweep_stale(f"the rollback of {proposal_id}")
            return decision

    # -- direct edits -----------------------------------------------------------------------

    def _direct_paths(self) -> list[str]:
        state = self.state()
        return list(state.unapproved)

    def accept_direct(self, *, rebuild: RebuildStep, on_stage: StageCallback | None = None, command: str | None = None) -> Decision:
        """Accept the files as they are on disk: validate, rebuild, and on success make them the baseline.

        Recorded as a decision with a fresh id (agent `direct-edit`). A failed rebuild keeps the
        edits on disk (they are a person's work) and leaves the gate `failed`; `rollback(id)` then
        restores the baseline.
        """
        stage = on_stage or (lambda _stage: None)
        with self.exclusive("accept_direct"):
            self._refuse_if_tampered("accept the direct edits")
            paths = [p for p in self.ws.unapproved()]
            if not paths:
                raise GateError("there are no unapproved edits to accept")
            stage("validating")
            on_disk = {p: self.ws.read_current(p) for p in paths}
            contents: dict[str, str | None] = {}
            for path, data in on_disk.items():
                contents[path] = None if data is None else _decode(path, data)  # None: a deletion to accept
            present = {p: text for p, text in contents.items() if text is not None}
            validation = validate_contents(present, max_bytes=self.ws.config.guard.max_bytes)
            if not validation.ok:
                raise ValidationError(f"cannot accept the direct edits: {validation.summary()}")
            _check_config(present, "cannot accept the direct edits")
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

        Returns the proposals made ([] when the gate is busy: an apply in progress writes files itself).
        """
        try:
            with self.exclusive("capture"):
                made: list[Proposal] = []
                if self.forgeries():
                    return made  # never restore a baseline the audit log does not vouch for
                for path in self._direct_paths():
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
                text = _decode(path, now)
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
            started = time.monotonic()
            try:
                outcome = rebuild()
            except Exception as exc:
                outcome = RebuildOutcome(None, time.monotonic() - started, None, (), error=str(exc) or type(exc).__name__)
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
            return outcome


def _check_config(contents: Mapping[str, str], what: str) -> None:
    """A configuration file must parse before it becomes the approved configuration."""
    for path in (CONFIG_FILE, PYPROJECT_FILE):
        if contents.get(path) is not None:
            try:
                config_from_bytes(path, contents[path].encode("utf-8"))
            except ConfigError as exc:
                raise ValidationError(f"{what}: {exc}") from None


def _decode(path: str, data: bytes | None) -> str:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


__all__ = ["Gate", "GateState", "GateKind", "LastRebuild", "Holder", "FailedApply", "RebuildStep", "GATE_KINDS", "failure_reason"]
