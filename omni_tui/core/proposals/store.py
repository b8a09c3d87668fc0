"""`ProposalStore`: proposals and decisions on disk, shared by every process working on the workspace.

`proposals/<id>.json` is written by agents (atomically); `decisions/<id>.json` only by the gate,
each one vouched for by the audit entry appended just before it (`decide`). A decision file the
chain does not account for is read as status `tampered`. A malformed proposal file is moved to
`quarantine/` with a sibling `<name>.error.txt` holding its one-line error; listing never raises.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from hashlib import sha256
from pathlib import Path
from stat import S_ISLNK, S_ISREG
from typing import TYPE_CHECKING, Any

from omni_tui.core.audit import utc_now
from omni_tui.core.errors import GateError, OmniError, PathError, ProposalError
from omni_tui.core.ledger import decision_key
from omni_tui.core.proposals.documents import (
    ID_PATTERN,
    IN_PROGRESS,
    PENDING,
    POLL_S,
    QUARANTINED_DECISION_PREFIX,
    SETTLE_S,
    TAMPERED,
    WITHDRAW_SUFFIX,
    WITHDRAW_WAIT_S,
    Decision,
    FileChange,
    Proposal,
    ProposalEntry,
    Quarantined,
    check_id,
    dump_document,
    new_id,
    parse_decision,
    parse_proposal,
)
from omni_tui.core.proposals.policy import refuse_by_policy
from omni_tui.core.safefs import atomic_write, file_lock, read_bytes, read_regular, sha256_bytes

if TYPE_CHECKING:
    from omni_tui.core.workspace import Workspace


class _UnfinishedJSON(ProposalError):
    """The bytes are not (yet) a JSON document: a file caught half-written looks like this."""


class _ListingView:
    """The workspace as `parse_proposal` sees it during one listing: `relative()` answered once per path.

    Checking a proposal's path (inside the root, no symlink, a guarded file) reads the disk and the
    configuration; 10,000 proposals naming `devenv.nix` need that answer once per listing.
    """

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._relative: dict[str, tuple[str | None, OmniError | None]] = {}

    def relative(self, path: str) -> str:
        known = self._relative.get(path)
        if known is None:
            try:
                known = (self._ws.relative(path), None)
            except OmniError as exc:
                known = (None, exc)
            self._relative[path] = known
        if known[1] is not None:
            raise known[1]
        assert known[0] is not None
        return known[0]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


# A quarantined file's name, in bytes: with `.error.txt`, a duplicate's tag and `atomic_write`'s temporary
# prefix and tag it stays within the file system's 255. An agent may name a proposal file up to 255 bytes.
QUARANTINE_NAME_MAX = 200


def _short_name(name: str, suffix: str) -> str:
    """`name`, or its start and a digest of the whole when it is longer than `QUARANTINE_NAME_MAX` bytes."""
    raw = os.fsencode(name)
    if len(raw) <= QUARANTINE_NAME_MAX:
        return name
    keep = QUARANTINE_NAME_MAX - len(os.fsencode(suffix)) - 13
    return f"{os.fsdecode(raw[:keep])}.{sha256(raw).hexdigest()[:12]}{suffix}"


class ProposalStore:
    """Proposals and decisions on disk, shared by every process working on the workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.paths = ws.paths
        self._cache: dict[str, tuple[tuple[int, int, int], Proposal]] = {}
        self._decisions: dict[str, tuple[tuple[int, int, int], Decision, str | None]] = {}

    # -- creating ---------------------------------------------------------------------------

    def build(self, contents: Mapping[str, str], *, title: str, rationale: str, agent: str) -> Proposal:
        """A new proposal for `{path: new content}`; bases are the files' current hashes. Not yet submitted."""
        if not contents:
            raise ProposalError("a proposal needs at least one file")
        changes = []
        unchanged = []
        for given, text in contents.items():
            rel = self.ws.relative(given)
            current = self.ws.read_current(rel)
            if current is not None and current == text.encode("utf-8", "surrogatepass"):
                unchanged.append(rel)
            changes.append(FileChange(rel, sha256_bytes(current), text))
        if len(unchanged) == len(changes):
            raise ProposalError(f"the proposal changes nothing: {', '.join(unchanged)} already has this content")
        doc = Proposal(new_id(), agent, title, rationale, utc_now(), tuple(changes)).to_json()
        return parse_proposal(doc, self.ws)

    def create(self, contents: Mapping[str, str], *, title: str, rationale: str, agent: str) -> Proposal:
        return self.submit(self.build(contents, title=title, rationale=rationale, agent=agent))

    def submit(self, proposal: Proposal) -> Proposal:
        """Validate strictly and write `proposals/<id>.json` atomically; audits `proposed`."""
        proposal = parse_proposal(proposal.to_json(), self.ws)
        self.paths.ensure()  # a long-lived writer (the MCP server) re-checks: proposals/ may be a link by now
        target = self.paths.proposals / f"{proposal.id}.json"
        if target.exists():
            raise ProposalError(f"a proposal with id {proposal.id} already exists")
        atomic_write(target, dump_document(proposal.to_json()))
        if self.ws.env.get("OMNI_TUI_SANDBOX"):
            return proposal  # the audit log is read-only in `omni-tui run`: its launcher audits `proposed`
        self.record_proposed(proposal)
        self._apply_policy(proposal)
        return proposal

    def record_proposed(self, proposal: Proposal) -> None:
        """The `proposed` audit entry: who proposed which change (by hash). `submit` writes it, and the
        launcher of `omni-tui run` for the proposals made inside its sandbox."""
        self.ws.audit.append(
            "proposed",
            who=proposal.agent,
            via="agent",
            proposal_id=proposal.id,
            reason=proposal.title,
            sha256_before={c.path: c.base_sha256 for c in proposal.changes},
            sha256_after={c.path: sha256_bytes(c.new_content.encode("utf-8")) for c in proposal.changes},
        )

    def _apply_policy(self, proposal: Proposal) -> None:
        """`[policy] refuse` rejects a matching proposal at once (who: policy); it never approves anything."""
        if self.ws.config.policy.refuse:
            refuse_by_policy(self, proposal.id)

    # -- reading ----------------------------------------------------------------------------

    def _load(self, file: Path, ws: Any = None) -> Proposal:
        stat = os.lstat(file)  # one system call: not a symlink, then lstat is stat (10,000 files per listing)
        if S_ISLNK(stat.st_mode):
            raise ProposalError("a proposal must be a regular file, not a symlink")
        if not S_ISREG(stat.st_mode):  # a FIFO would block the read below (and every reader) forever
            raise ProposalError("a proposal must be a regular file, not a FIFO, device, socket or directory")
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = self._cache.get(file.name)
        if cached and cached[0] == key:
            return cached[1]
        raw = file.read_bytes()
        try:
            doc = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise _UnfinishedJSON("not valid UTF-8") from None
        except RecursionError:  # `[[[[…` deeper than Python's stack: json raises this, not ValueError
            raise ProposalError("invalid JSON: nested too deeply") from None
        except ValueError as exc:
            raise _UnfinishedJSON(f"invalid JSON: {exc}") from None
        proposal = parse_proposal(doc, ws if ws is not None else self.ws)
        if proposal.id != file.stem:
            raise ProposalError(f"id {proposal.id!r} does not match the file name {file.name}")
        self._cache[file.name] = (key, proposal)
        return proposal

    def _load_settled(self, file: Path, ws: Any = None) -> Proposal:
        """`_load`, but a file that is not (yet) JSON and changed less than `SETTLE_S` ago gets until then."""
        deadline = time.monotonic() + SETTLE_S  # bounded even when the file's mtime is in the future
        while True:
            try:
                return self._load(file, ws)
            except _UnfinishedJSON:
                if time.time() - file.stat().st_mtime >= SETTLE_S or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def get(self, proposal_id: str) -> Proposal:
        check_id(proposal_id)
        file = self.paths.proposals / f"{proposal_id}.json"
        try:
            return self._load(file)
        except FileNotFoundError:
            raise ProposalError(f"no proposal with id {proposal_id}") from None
        except (ProposalError, PathError) as exc:
            self.quarantine(file, str(exc))
            raise ProposalError(f"proposal {proposal_id} is malformed and was quarantined: {exc}") from None

    def exists(self, proposal_id: str) -> bool:
        return ID_PATTERN.match(proposal_id or "") is not None and (self.paths.proposals / f"{proposal_id}.json").exists()

    def decision(self, proposal_id: str, *, listed: frozenset[str] | None = None) -> Decision | None:
        """The decision on disk, checked against the audit chain: one it does not vouch for reads as `tampered`.

        `listed`: the names in `decisions/` read once by a listing (`entries`); a proposal with no file
        there is not looked up again (10,000 pending proposals: 10,000 stats of absent files). The second
        look, when the chain says a decision should be there, reads the disk whatever `listed` says."""
        if listed is not None and f"{proposal_id}.json" not in listed:
            self._decisions.pop(proposal_id, None)
            found = None
        else:
            found = self.recorded_decision(proposal_id)
        digest = self._decisions[proposal_id][2] if found is not None and proposal_id in self._decisions else None
        in_progress = found is not None and found.status in IN_PROGRESS
        ledger = self.ws.ledger
        ledger.loaded()  # a missing file is judged by what the log vouches for
        problem = ledger.problem(decision_key(proposal_id), digest, in_progress=in_progress)
        if problem is not None:
            # A second look: a genuine entry may have been appended, and its file written, since the first.
            ledger.refresh()
            found = self.recorded_decision(proposal_id)
            digest = self._decisions[proposal_id][2] if found is not None and proposal_id in self._decisions else None
            in_progress = found is not None and found.status in IN_PROGRESS
            problem = ledger.problem(decision_key(proposal_id), digest, in_progress=in_progress)
        if problem is None:
            return found
        claim = f" (it claims {found.status!r} by {found.who})" if found is not None else ""
        return Decision(
            proposal_id,
            TAMPERED,
            f"decisions/{proposal_id}.json: {problem}{claim}",
            "omni-tui",
            found.decided_at if found is not None else utc_now(),
            via="check",
        )

    def recorded_decision(self, proposal_id: str) -> Decision | None:
        """The decision file as written, unchecked (what a forged one claims; `decision` is the checked one)."""
        check_id(proposal_id)
        file = self.paths.decisions / f"{proposal_id}.json"
        try:
            stat = file.stat()
        except FileNotFoundError:
            self._decisions.pop(proposal_id, None)
            return None
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)  # atomic writes replace the inode
        cached = self._decisions.get(proposal_id)
        if cached and cached[0] == key:
            return cached[1]
        data = read_bytes(file)
        if data is None:
            return None
        try:
            decision = parse_decision(json.loads(data.decode("utf-8")))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: `[[[[…` nested too deeply
            raise ProposalError(f"decision for {proposal_id} is unreadable: {exc}") from None
        self._decisions[proposal_id] = (key, decision, sha256_bytes(data))
        return decision

    def status(self, proposal_id: str) -> str:
        decision = self.decision(proposal_id)
        return decision.status if decision else PENDING

    def entries(self) -> list[ProposalEntry]:
        """Every readable proposal with its status, oldest first; bad files are quarantined, never raised."""
        out: list[ProposalEntry] = []
        self.ws.ledger.refresh()  # once per listing: every decision below is checked against it
        folder = self.paths.proposals
        try:
            # scandir: names and types without a stat per file; sorted by name (Path comparisons cost a
            # second for 10,000). Real directories are skipped; a symlink is quarantined by `_load`.
            with os.scandir(folder) as scan:
                names = sorted(
                    e.name for e in scan if not e.name.startswith(".") and e.name.endswith(".json") and not e.is_dir(follow_symlinks=False)
                )
        except FileNotFoundError:
            return []
        decided = self._decision_names()  # after the ledger's refresh: a decision missing from it gets a second look
        listing = _ListingView(self.ws)  # one look at the guarded paths for the whole listing, not one per file
        folder_name, cache = os.fspath(folder), self._cache
        for name in names:
            # A file read before and unchanged since (`_load`'s own test, on a plain string path: a `Path`
            # per file was a third of a warm listing of 10,000, ≈ 25 ms, and a long queue is listed several times in its first seconds).
            known = cache.get(name)
            if known is not None:
                try:
                    stat = os.lstat(os.path.join(folder_name, name))
                except FileNotFoundError:
                    continue
                except OSError:
                    stat = None  # `_load` says what it is
                if stat is not None and S_ISREG(stat.st_mode) and known[0] == (stat.st_mtime_ns, stat.st_size, stat.st_ino):
                    self._append_entry(out, known[1], decided)
                    continue
            file = folder / name
            try:
                proposal = self._load_settled(file, listing)
            except FileNotFoundError:
                continue
            except (OmniError, OSError) as exc:
                self.quarantine(file, str(exc))
                continue
            self._append_entry(out, proposal, decided)
        out.sort(key=lambda e: (e.proposal.created_at, e.proposal.id))
        return out

    def _append_entry(self, out: list[ProposalEntry], proposal: Proposal, decided: frozenset[str] | None) -> None:
        """A listed proposal with its decision (one the chain does not vouch for is quarantined)."""
        try:
            decision = self.decision(proposal.id, listed=decided)
        except OmniError as exc:
            self.quarantine(self.paths.decisions / f"{proposal.id}.json", str(exc))
            decision = None
        out.append(ProposalEntry(proposal, decision.status if decision else PENDING, decision))

    def _decision_names(self) -> frozenset[str] | None:
        """The names in `decisions/` now (None when it cannot be listed: each decision is then looked up)."""
        try:
            return frozenset(os.listdir(self.paths.decisions))
        except FileNotFoundError:
            return frozenset()
        except OSError:
            return None

    def pending(self) -> list[ProposalEntry]:
        return [entry for entry in self.entries() if entry.status == PENDING]

    # -- quarantine -------------------------------------------------------------------------

    def quarantine(self, file: Path, error: str) -> Path | None:
        """Move a bad file to `quarantine/` with `<name>.error.txt`; None if it vanished meanwhile."""
        self.paths.quarantine.mkdir(parents=True, exist_ok=True)
        name = file.name if file.parent == self.paths.proposals else f"{QUARANTINED_DECISION_PREFIX}{file.name}"
        target = self.paths.quarantine / _short_name(name, file.suffix)
        if target.exists():  # a second bad file of that name: beside the first, its kind kept in the name
            target = self.paths.quarantine / f"{target.stem}.{os.urandom(3).hex()}{file.suffix}"
        one_line = " ".join(str(error).split())
        # The error may quote the file's name, which need not be UTF-8 (a lone surrogate is kept as `\udcff`).
        atomic_write(target.with_name(target.name + ".error.txt"), (one_line + "\n").encode("utf-8", "backslashreplace"))
        try:
            os.replace(file, target)
        except FileNotFoundError:
            # Another listing (the watcher's, the first one's) moved it there first and wrote the same
            # error file: it stays. Removed only when the file is gone for good (withdrawn meanwhile).
            if not target.exists():
                target.with_name(target.name + ".error.txt").unlink(missing_ok=True)
            return None
        self._cache.pop(file.name, None)
        return target

    def quarantined(self) -> list[Quarantined]:
        """The malformed files moved aside, newest first."""
        out = []
        try:
            files = list(self.paths.quarantine.iterdir())
        except FileNotFoundError:
            return []
        stamped = []
        for file in files:
            if file.name.endswith(".error.txt") or file.name.startswith("."):
                continue
            try:
                stamped.append((file.lstat().st_mtime_ns, file.name, file))
            except FileNotFoundError:
                continue
        for _mtime, _name, file in sorted(stamped, key=lambda item: (-item[0], item[1])):
            error_file = file.with_name(file.name + ".error.txt")
            try:
                error = read_regular(error_file, limit=64 * 1024).decode("utf-8", errors="replace").strip()
            except FileNotFoundError:
                error = "(no error recorded)"
            except OSError:  # a FIFO or a huge file put in its place
                error = "(its error file is not a readable regular file)"
            out.append(Quarantined(file, error))
        return out

    # -- decisions --------------------------------------------------------------------------

    def write_decision(self, decision: Decision) -> Decision:
        """Write the file only: callers append the audit entry vouching for it first (see `decide`)."""
        atomic_write(self.paths.decisions / f"{decision.proposal_id}.json", dump_document(decision.to_json()))
        return decision

    def vouch(self, decision: Decision, *later: Decision) -> dict[str, Any]:
        """The audit entry's `state` for `decision` (and decisions the same entry allows next, e.g. `rebuilding`)."""
        digests = [self.ws.ledger.keep(dump_document(d.to_json())) for d in (decision, *later)]
        return {decision_key(decision.proposal_id): digests[0] if len(digests) == 1 else digests}

    def decide(
        self,
        new: Decision,
        event: str,
        /,
        *,
        allowed_from: Iterable[str] | None = None,
        later: Iterable[Decision] = (),
        state: Mapping[str, Any] | None = None,
        **audit: Any,
    ) -> Decision:
        """Append the audit entry `event` vouching for `new`, then write it (write ahead).

        With `allowed_from`, only when the current status is one of them (checked under the
        decisions lock, across processes). `audit` are the entry's other fields.
        """
        vouched = {**self.vouch(new, *later), **(state or {})}
        with file_lock(self.paths.decisions_lock):
            self.paths.ensure()  # never write through a state folder replaced by a link since the workspace opened
            if allowed_from is not None:
                allowed = tuple(allowed_from)
                current = self.status(new.proposal_id)
                if current not in allowed:
                    raise GateError(f"proposal {new.proposal_id} is {current}, not {' or '.join(allowed)}")
            self.ws.audit.append(event, proposal_id=new.proposal_id, state=vouched, **audit)
            return self.write_decision(new)

    def transition(self, proposal_id: str, allowed_from: Iterable[str], decision: Decision) -> Decision:
        """Write `decision` only if the current status is in `allowed_from` (atomic across processes).

        Recorded like every decision: an audit entry named after its status vouches for it (`decide`).
        """
        if decision.proposal_id != proposal_id:
            raise GateError(f"decision for {decision.proposal_id} given for proposal {proposal_id}")
        return self.record(decision, allowed_from=allowed_from)

    def record(self, decision: Decision, *, allowed_from: Iterable[str] | None = None, **audit: Any) -> Decision:
        """`decide` for a decision that speaks for itself: the audit entry is named after its status and
        says its who, via and reason; `audit` are the entry's other fields (hashes, command, card)."""
        return self.decide(
            decision,
            decision.status,
            allowed_from=allowed_from,
            who=decision.who,
            via=decision.via,
            decision=decision.status,
            reason=decision.reason,
            **audit,
        )

    def withdraw(self, proposal_id: str, *, who: str, reason: str | None = None) -> Decision:
        """The agent takes back a pending proposal; GateError when it is no longer pending."""
        proposal = self.get(proposal_id)
        if self.ws.env.get("OMNI_TUI_SANDBOX"):
            return self._withdraw_through_launcher(proposal, who, reason)
        decision = Decision(proposal.id, "withdrawn", reason or "withdrawn by the agent", who, utc_now(), via="agent")
        return self.record(decision, allowed_from=(PENDING,))

    def _withdraw_through_launcher(self, proposal: Proposal, who: str, reason: str | None) -> Decision:
        """In `omni-tui run` decisions are read-only: ask the launcher (`proposals/<id>.withdraw`) and wait for it."""
        if self.status(proposal.id) != PENDING:
            raise GateError(f"proposal {proposal.id} is {self.status(proposal.id)}, not pending")
        request = self.paths.proposals / f"{proposal.id}{WITHDRAW_SUFFIX}"
        atomic_write(request, (json.dumps({"who": who, "reason": reason}) + "\n").encode("utf-8"))
        deadline = time.monotonic() + WITHDRAW_WAIT_S
        while time.monotonic() < deadline:
            decision = self.decision(proposal.id)
            if decision is not None and decision.final:
                if decision.status != "withdrawn":
                    raise GateError(f"proposal {proposal.id} is {decision.status}, not pending")
                return decision
            time.sleep(POLL_S)
        raise GateError(
            f"proposal {proposal.id} was not withdrawn within {WITHDRAW_WAIT_S:g} s: the `omni-tui run` "
            "that started this sandbox withdraws it, and it did not answer"
        )

    def wait(
        self, proposal_id: str, timeout_s: float | None = None, *, poll_s: float = POLL_S, sleep: Callable[[float], None] = time.sleep
    ) -> Decision | None:
        """Poll until the proposal has a final decision; None when `timeout_s` passes first (None = forever).
        `sleep` waits between polls (a hook's also notices a stop signal)."""
        if not self.exists(proposal_id):
            self.get(proposal_id)  # raises the right error (unknown id / quarantined)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            self.ws.ledger.refresh()  # a stat: a deleted decision the log vouches for is seen at once
            decision = self.decision(proposal_id)
            if decision is not None and (decision.final or decision.status == TAMPERED):
                return decision  # tampered: never reported as the outcome it claims (exit 14)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sleep(min(poll_s, left))
            else:
                sleep(poll_s)
