"""Proposals and decisions: the two JSON documents of the agent protocol, and the store that holds them.

`proposals/<id>.json` (schema `omni-tui/proposal@1`) is written by agents (atomically);
`decisions/<id>.json` (schema `omni-tui/decision@1`) only by the gate, each one vouched for by the
audit entry appended just before it (`decide`). A decision file the chain does not account for is
read as status `tampered` (never as the outcome it claims). The status of a proposal is
its decision's status, else `pending`. A malformed proposal file is moved to `quarantine/` with a
sibling `<name>.error.txt` holding its one-line error; listing never raises for a bad file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, Literal

from omni_tui.core.audit import utc_now
from omni_tui.core.errors import GateError, OmniError, PatchError, PathError, ProposalError
from omni_tui.core.ledger import decision_key
from omni_tui.core.safefs import atomic_write, file_lock, read_bytes, sha256_bytes
from omni_tui.core.textdiff import apply_patch
from omni_tui.core.validate import check_text

if TYPE_CHECKING:
    from omni_tui.core.workspace import Workspace

PROPOSAL_SCHEMA = "omni-tui/proposal@1"
DECISION_SCHEMA = "omni-tui/decision@1"

PENDING = "pending"
IN_PROGRESS = ("applying", "rebuilding")
FINAL = ("applied", "failed", "rolled_back", "rejected", "stale", "withdrawn")
STATUSES = (PENDING, *IN_PROGRESS, *FINAL)
# Never written: what a decision file the audit chain does not vouch for reads as (until a person resolves it).
TAMPERED = "tampered"
# A proposal's status: pending, in progress, final, or tampered (read, never written).
Status = Literal["pending", "applying", "rebuilding", "applied", "failed", "rolled_back", "rejected", "stale", "withdrawn", "tampered"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SHA_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# `omni-tui propose --wait` / `omni-tui wait` exit codes per final status (the agent protocol).
EXIT_CODES = {"applied": 0, "rejected": 10, "failed": 11, "rolled_back": 11, "stale": 12, "withdrawn": 13, TAMPERED: 14}
EXIT_INVALID = 2
EXIT_TIMEOUT = 124

MAX_TITLE = 200
MAX_AGENT = 100
MAX_RATIONALE = 64 * 1024
POLL_S = 0.2
# Inside `omni-tui run` (read-only decisions) a withdrawal is asked for with `proposals/<id>.withdraw`.
WITHDRAW_SUFFIX = ".withdraw"
WITHDRAW_WAIT_S = 10.0
# A proposal file that does not parse and was written this recently may still be being written by
# an agent that does not write atomically: it is re-read until it parses or stays unchanged this long.
SETTLE_S = 1.0


def new_id() -> str:
    """Sortable and unique: `20261126T113000Z-3f9a1c` (UTC time + random hex)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def check_id(proposal_id: str) -> str:
    if not isinstance(proposal_id, str) or not ID_PATTERN.match(proposal_id):
        raise ProposalError(f"{proposal_id!r} is not a valid proposal id (letters, digits, '.', '_', '-'; at most 128)")
    return proposal_id


@dataclass(frozen=True)
class FileChange:
    path: str
    base_sha256: str | None  # None: the file does not exist yet
    new_content: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "base_sha256": self.base_sha256, "new_content": self.new_content}


@dataclass(frozen=True)
class Proposal:
    id: str
    agent: str
    title: str
    rationale: str
    created_at: str
    changes: tuple[FileChange, ...]

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.changes]

    def change(self, path: str) -> FileChange:
        for change in self.changes:
            if change.path == path:
                return change
        raise ProposalError(f"proposal {self.id} does not change {path}")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": PROPOSAL_SCHEMA,
            "id": self.id,
            "agent": self.agent,
            "title": self.title,
            "rationale": self.rationale,
            "created_at": self.created_at,
            "changes": [change.to_json() for change in self.changes],
        }


@dataclass(frozen=True)
class AppliedFile:
    """What the gate did to one path: hashes before and after (after = the applied content's hash)."""

    path: str
    sha256_before: str | None
    sha256_after: str | None
    applied: str = "proposed"  # "proposed" (as proposed), "hunks" (a subset of hunks), "edited" (edited by the person)
    hunks: tuple[int, ...] | None = None  # 0-based here; numbered from 1 in the JSON, as the cockpit shows them
    hunks_total: int | None = None  # how many hunks the diff had (for "hunks 1, 3 of 4")

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "path": self.path,
            "sha256_before": self.sha256_before,
            "sha256_after": self.sha256_after,
            "applied": self.applied,
            "hunks": [index + 1 for index in self.hunks] if self.hunks is not None else None,
        }
        if self.hunks is not None and self.hunks_total is not None:
            doc["hunks_total"] = self.hunks_total
        return doc


@dataclass(frozen=True)
class Decision:
    proposal_id: str
    status: str
    reason: str | None
    who: str
    decided_at: str
    exit_code: int | None = None
    duration_s: float | None = None
    log_path: str | None = None
    last_lines: tuple[str, ...] = ()
    files: tuple[AppliedFile, ...] = ()
    via: str = "terminal"  # where the person decided: terminal, web (`omni-tui serve`), cli, agent

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": DECISION_SCHEMA,
            "proposal_id": self.proposal_id,
            "status": self.status,
            "reason": self.reason,
            "who": self.who,
            "via": self.via,
            "decided_at": self.decided_at,
            "exit_code": self.exit_code,
            "duration_s": self.duration_s,
            "log_path": self.log_path,
            "last_lines": list(self.last_lines),
            "files": [f.to_json() for f in self.files],
        }


@dataclass(frozen=True)
class ProposalEntry:
    proposal: Proposal
    status: str
    decision: Decision | None


@dataclass(frozen=True)
class Quarantined:
    path: Path
    error: str


class _UnfinishedJSON(ProposalError):
    """The bytes are not (yet) a JSON document: a file caught half-written looks like this."""


def decode_content(data: bytes, source: str, max_bytes: int) -> str:
    """Raw new content from an agent → text; ProposalError naming `source` when not UTF-8 or too big."""
    if len(data) > max_bytes:
        raise ProposalError(f"{source}: {len(data)} bytes is over the size limit of {max_bytes} bytes ([guard] max_bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProposalError(f"{source}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def patched_content(ws: Workspace, rel: str, patch_text: str) -> str:
    """The current content of `rel` with a unified diff applied; PatchError naming the path and hunk."""
    current = ws.read_current(rel)
    try:
        old = "" if current is None else current.decode("utf-8")
    except UnicodeDecodeError:
        raise ProposalError(f"{rel}: the current file is not valid UTF-8; a patch cannot apply to it") from None
    try:
        return apply_patch(old, patch_text, rel)
    except PatchError as exc:
        raise PatchError(f"patch does not apply to {rel}: {exc}") from None


# -- strict parsing ---------------------------------------------------------------------------------


def _require(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str, *, nullable: bool = False) -> Any:
    if key not in doc:
        raise ProposalError(f"missing field `{key}`")
    value = doc[key]
    if value is None and nullable:
        return None
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ProposalError(f"field `{key}` must be {what}, not a boolean")
    if not isinstance(value, kind):
        raise ProposalError(f"field `{key}` must be {what}, not {type(value).__name__}")
    return value


def _check_fields(doc: Any, allowed: tuple[str, ...], where: str) -> None:
    if not isinstance(doc, dict):
        raise ProposalError(f"{where} must be a JSON object")
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise ProposalError(f"unknown field `{unknown[0]}` in {where}")


def _one_line(value: str, key: str, limit: int) -> str:
    if not value.strip():
        raise ProposalError(f"`{key}` must not be empty")
    if "\n" in value or "\r" in value:
        raise ProposalError(f"`{key}` must be a single line")
    if len(value) > limit:
        raise ProposalError(f"`{key}` is {len(value)} characters; the limit is {limit}")
    return value.strip()


def parse_proposal(doc: Any, ws: Workspace) -> Proposal:
    """A proposal document → `Proposal`, or ProposalError/PathError naming the first problem."""
    if not isinstance(doc, dict):
        raise ProposalError("a proposal must be a JSON object")
    schema = doc.get("schema")
    if schema != PROPOSAL_SCHEMA:
        raise ProposalError(f"unknown schema {schema!r} (expected {PROPOSAL_SCHEMA!r})")
    _check_fields(doc, ("schema", "id", "agent", "title", "rationale", "created_at", "changes"), "the proposal")
    proposal_id = check_id(_require(doc, "id", str, "a string"))
    agent = _one_line(_require(doc, "agent", str, "a string"), "agent", MAX_AGENT)
    title = _one_line(_require(doc, "title", str, "a string"), "title", MAX_TITLE)
    rationale = _require(doc, "rationale", str, "a string")
    if len(rationale) > MAX_RATIONALE:
        raise ProposalError(f"`rationale` is {len(rationale)} characters; the limit is {MAX_RATIONALE}")
    created_at = _require(doc, "created_at", str, "a string")
    if not created_at.strip():
        raise ProposalError("`created_at` must not be empty")
    raw_changes = _require(doc, "changes", list, "a list")
    if not raw_changes:
        raise ProposalError("`changes` must list at least one file")
    changes: list[FileChange] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_changes):
        where = f"changes[{index}]"
        _check_fields(raw, ("path", "base_sha256", "new_content"), where)
        try:
            path = ws.relative(_require(raw, "path", str, "a string"))
            base = _require(raw, "base_sha256", str, "a sha256 hex string or null", nullable=True)
            if base is not None and not SHA_PATTERN.match(base):
                raise ProposalError("field `base_sha256` must be 64 lowercase hex digits or null")
            new_content = _require(raw, "new_content", str, "a string")
        except ProposalError as exc:
            raise ProposalError(f"{where}: {exc}") from None
        if path in seen:
            raise ProposalError(f"{where}: {path} appears twice")
        seen.add(path)
        problems = check_text(path, new_content, ws.config.guard.max_bytes)
        if problems:
            raise ProposalError(problems[0].describe())
        changes.append(FileChange(path, base, new_content))
    return Proposal(proposal_id, agent, title, rationale, created_at, tuple(changes))


def parse_decision(doc: Any) -> Decision:
    if not isinstance(doc, dict):
        raise ProposalError("a decision must be a JSON object")
    if doc.get("schema") != DECISION_SCHEMA:
        raise ProposalError(f"unknown schema {doc.get('schema')!r} (expected {DECISION_SCHEMA!r})")
    _check_fields(
        doc,
        (
            "schema",
            "proposal_id",
            "status",
            "reason",
            "who",
            "via",
            "decided_at",
            "exit_code",
            "duration_s",
            "log_path",
            "last_lines",
            "files",
        ),
        "the decision",
    )
    status = _require(doc, "status", str, "a string")
    if status not in STATUSES or status == PENDING:
        raise ProposalError(f"unknown decision status {status!r}")
    files = []
    for raw in _require(doc, "files", list, "a list"):
        _check_fields(raw, ("path", "sha256_before", "sha256_after", "applied", "hunks", "hunks_total"), "a decision file")
        hunks = raw.get("hunks")
        total = raw.get("hunks_total")
        if hunks is not None and (not isinstance(hunks, list) or not all(type(i) is int for i in hunks)):
            raise ProposalError("`hunks` in a decision file must be a list of hunk numbers")
        if total is not None and type(total) is not int:
            raise ProposalError("`hunks_total` in a decision file must be a number")
        if hunks is not None and total is not None:  # numbered from 1 (files written before hunks_total: from 0)
            hunks = [index - 1 for index in hunks]
        files.append(
            AppliedFile(
                raw["path"],
                raw.get("sha256_before"),
                raw.get("sha256_after"),
                raw.get("applied", "proposed"),
                tuple(hunks) if hunks is not None else None,
                total if isinstance(total, int) else None,
            )
        )
    duration = _require(doc, "duration_s", (int, float), "a number", nullable=True)
    return Decision(
        proposal_id=check_id(_require(doc, "proposal_id", str, "a string")),
        status=status,
        reason=_require(doc, "reason", str, "a string", nullable=True),
        who=_require(doc, "who", str, "a string"),
        decided_at=_require(doc, "decided_at", str, "a string"),
        exit_code=_require(doc, "exit_code", int, "an integer", nullable=True),
        duration_s=float(duration) if duration is not None else None,
        log_path=_require(doc, "log_path", str, "a string", nullable=True),
        last_lines=tuple(str(line) for line in _require(doc, "last_lines", list, "a list")),
        files=tuple(files),
        via=_require(doc, "via", str, "a string") if "via" in doc else "terminal",
    )


def _dump(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# -- the store --------------------------------------------------------------------------------------


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
        target = self.paths.proposals / f"{proposal.id}.json"
        if target.exists():
            raise ProposalError(f"a proposal with id {proposal.id} already exists")
        atomic_write(target, _dump(proposal.to_json()))
        if self.ws.env.get("OMNI_TUI_SANDBOX"):
            return proposal  # the audit log is read-only in `omni-tui run`: its launcher audits `proposed`
        self.ws.audit.append(
            "proposed",
            who=proposal.agent,
            via="agent",
            proposal_id=proposal.id,
            reason=proposal.title,
            sha256_before={c.path: c.base_sha256 for c in proposal.changes},
            sha256_after={c.path: sha256_bytes(c.new_content.encode("utf-8")) for c in proposal.changes},
        )
        self._apply_policy(proposal)
        return proposal

    def _apply_policy(self, proposal: Proposal) -> None:
        """`[policy] refuse` rejects a matching proposal at once (who: policy); it never approves anything."""
        if not self.ws.config.policy.refuse:
            return
        from omni_tui.core.gate import Gate  # the gate builds on the store

        Gate(self.ws, store=self).refuse_by_policy(proposal.id)

    # -- reading ----------------------------------------------------------------------------

    def _load(self, file: Path, ws: Any = None) -> Proposal:
        if file.is_symlink():
            raise ProposalError("a proposal must be a regular file, not a symlink")
        stat = file.stat()
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

    def decision(self, proposal_id: str) -> Decision | None:
        """The decision on disk, checked against the audit chain: one it does not vouch for reads as `tampered`."""
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
        try:
            files = sorted(self.paths.proposals.iterdir())
        except FileNotFoundError:
            return []
        listing = _ListingView(self.ws)  # one look at the guarded paths for the whole listing, not one per file
        for file in files:
            if file.name.startswith(".") or file.suffix != ".json" or (file.is_dir() and not file.is_symlink()):
                continue
            try:
                proposal = self._load_settled(file, listing)
            except FileNotFoundError:
                continue
            except (OmniError, OSError) as exc:
                self.quarantine(file, str(exc))
                continue
            try:
                decision = self.decision(proposal.id)
            except OmniError as exc:
                self.quarantine(self.paths.decisions / f"{proposal.id}.json", str(exc))
                decision = None
            out.append(ProposalEntry(proposal, decision.status if decision else PENDING, decision))
        out.sort(key=lambda e: (e.proposal.created_at, e.proposal.id))
        return out

    def pending(self) -> list[ProposalEntry]:
        return [entry for entry in self.entries() if entry.status == PENDING]

    # -- quarantine -------------------------------------------------------------------------

    def quarantine(self, file: Path, error: str) -> Path | None:
        """Move a bad file to `quarantine/` with `<name>.error.txt`; None if it vanished meanwhile."""
        self.paths.quarantine.mkdir(parents=True, exist_ok=True)
        name = file.name if file.parent == self.paths.proposals else f"{file.parent.name}-{file.name}"
        target = self.paths.quarantine / name
        if target.exists():
            target = self.paths.quarantine / f"{file.stem}.{secrets.token_hex(3)}{file.suffix}"
        one_line = " ".join(str(error).split())
        atomic_write(target.with_name(target.name + ".error.txt"), (one_line + "\n").encode("utf-8"))
        try:
            os.replace(file, target)
        except FileNotFoundError:
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
                error = error_file.read_text(encoding="utf-8", errors="replace").strip()
            except FileNotFoundError:
                error = "(no error recorded)"
            out.append(Quarantined(file, error))
        return out

    # -- decisions --------------------------------------------------------------------------

    def write_decision(self, decision: Decision) -> Decision:
        """Write the file only: callers append the audit entry vouching for it first (see `decide`)."""
        atomic_write(self.paths.decisions / f"{decision.proposal_id}.json", _dump(decision.to_json()))
        return decision

    def vouch(self, decision: Decision, *later: Decision) -> dict[str, Any]:
        """The audit entry's `state` for `decision` (and decisions the same entry allows next, e.g. `rebuilding`)."""
        digests = [self.ws.ledger.keep(_dump(d.to_json())) for d in (decision, *later)]
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
        return self.decide(
            decision,
            decision.status,
            allowed_from=allowed_from,
            who=decision.who,
            via=decision.via,
            decision=decision.status,
            reason=decision.reason,
        )

    def withdraw(self, proposal_id: str, *, who: str, reason: str | None = None) -> Decision:
        """The agent takes back a pending proposal; GateError when it is no longer pending."""
        proposal = self.get(proposal_id)
        if self.ws.env.get("OMNI_TUI_SANDBOX"):
            return self._withdraw_through_launcher(proposal, who, reason)
        decision = Decision(proposal.id, "withdrawn", reason or "withdrawn by the agent", who, utc_now(), via="agent")
        return self.decide(
            decision, "withdrawn", allowed_from=(PENDING,), who=who, via="agent", decision="withdrawn", reason=decision.reason
        )

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

    def wait(self, proposal_id: str, timeout_s: float | None = None, *, poll_s: float = POLL_S) -> Decision | None:
        """Poll until the proposal has a final decision; None when `timeout_s` passes first (None = forever)."""
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
                time.sleep(min(poll_s, left))
            else:
                time.sleep(poll_s)
