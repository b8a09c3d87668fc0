"""The two JSON documents of the agent protocol: `Proposal` (`omni-tui/proposal@1`) and `Decision`
(`omni-tui/decision@1`), their statuses and exit codes, ids, and the strict parsing of both.

Parsing names the first problem (ProposalError/PathError) and never trusts a field it did not
check: an unknown field, a wrong type or a multi-line title is refused.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from omni_tui.core.errors import ProposalError
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
    # os.urandom(n).hex() is what secrets.token_hex(n) does; importing secrets (hmac, random, base64)
    # cost every agent command ≈ 1-2 ms (here, in safefs, the store and the rebuild runner).
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + os.urandom(3).hex()


def check_id(proposal_id: str) -> str:
    if not isinstance(proposal_id, str) or not ID_PATTERN.match(proposal_id):
        raise ProposalError(f"{proposal_id!r} is not a valid proposal id (letters, digits, '.', '_', '-'; at most 128)")
    return proposal_id


# NamedTuples, not frozen dataclasses: immutable and compared, shown and hashed the same, without
# compiling six methods each at import (every agent command imports this module, and with these
# `propose` imports no dataclasses and no inspect at all; docs/performance.md). A changed copy:
# `proposal._replace(id=...)`.


class FileChange(NamedTuple):
    path: str
    base_sha256: str | None  # None: the file does not exist yet
    new_content: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "base_sha256": self.base_sha256, "new_content": self.new_content}


class Proposal(NamedTuple):
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


class AppliedFile(NamedTuple):
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


class Decision(NamedTuple):
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


class ProposalEntry(NamedTuple):
    proposal: Proposal
    status: str
    decision: Decision | None


# A decision file moved to quarantine/ is named `decisions-<proposal id>[.<random>].json` there.
QUARANTINED_DECISION_PREFIX = "decisions-"


class Quarantined(NamedTuple):
    """A file moved to `quarantine/`: a proposal file that is not one, or a decision file the cockpit did not write."""

    path: Path
    error: str

    @property
    def decision_for(self) -> str | None:
        """The proposal id when this was a decision file, else None."""
        name = self.path.name
        return name.removeprefix(QUARANTINED_DECISION_PREFIX).split(".")[0] if name.startswith(QUARANTINED_DECISION_PREFIX) else None


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


def dump_document(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
