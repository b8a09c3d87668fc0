"""The append-only, hash-chained audit log (`audit.jsonl`) and its verifier.

Each line is one compact JSON object with the fields of `FIELDS`; `prev` is the sha256 (hex) of the
previous line's bytes without its newline (the first line: 64 zeros). Appends happen under an
exclusive `flock` on the log. A small side file `audit.jsonl.head` records the newest line's seq
and hash, so changing or removing the *last* line is detected too.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from stat import S_ISREG
from typing import Any, NamedTuple

from omni_tui.core.errors import AuditError
from omni_tui.core.safefs import open_regular, read_regular

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "time",
    "who",
    "event",
    "proposal_id",
    "decision",
    "reason",
    "sha256_before",
    "sha256_after",
    "command",
    "exit_code",
    "duration_s",
    "log_path",
    "prev",
)
# Entries written since `via` existed carry it (where a person decided: terminal, web, cli, agent);
# older ones do not, and both verify.
# `state` (since the gate checks state files against the chain): the sha256 of every state file the
# entry vouches for — `decisions/<id>.json` (a sha, a list of the shas it may hold, or null: no file)
# and `baseline/<path>` (the approved bytes' sha, or null: the approved state is "no such file").
# `card` (since the change card): a decision's card summary — {"categories": {name: count}, "risks": [names]},
# never the values (docs/protocol.md).
OPTIONAL_FIELDS = ("via", "state", "card")
_TAIL_CHUNK = 64 * 1024


def utc_now() -> str:
    """ISO 8601 UTC with milliseconds, e.g. `2026-11-26T11:30:00.123Z`."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


# A NamedTuple, not a frozen dataclass: immutable and compared, shown and hashed the same, without
# compiling six methods at import (every agent command imports this module; docs/performance.md).
class Verification(NamedTuple):
    ok: bool
    entries: int
    bad_line: int | None = None  # 1-based line number of the first problem
    problem: str | None = None  # "changed", "removed", "reordered"
    detail: str | None = None

    def describe(self, path: Path | str) -> str:
        if self.ok:
            return f"{path}: {self.entries} entries, hash chain intact"
        return f"{path} line {self.bad_line}: {self.problem} — {self.detail}"


class AuditLog:
    def __init__(self, path: Path, external_head: Path | None = None) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        # A copy of the head outside the project (`$XDG_STATE_HOME/omni-tui/heads/…`): a log deleted
        # or truncated together with its `.head` still disagrees with it.
        self.external_head = Path(external_head) if external_head is not None else None

    def append(
        self,
        event: str,
        *,
        who: str,
        via: str = "terminal",
        proposal_id: str | None = None,
        decision: str | None = None,
        reason: str | None = None,
        sha256_before: Mapping[str, str | None] | None = None,
        sha256_after: Mapping[str, str | None] | None = None,
        command: str | None = None,
        exit_code: int | None = None,
        duration_s: float | None = None,
        log_path: str | None = None,
        state: Mapping[str, Any] | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append one entry (under flock) and return it as written.

        `state` vouches for state files (see OPTIONAL_FIELDS); the entry is written before the
        files it vouches for (write ahead), so a reader never finds a file the chain does not know.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc.strerror or exc}") from None
        try:
            if not S_ISREG(os.fstat(fd).st_mode):  # a FIFO: reading its last line would block forever
                raise AuditError(f"the audit log {self.path} is not a regular file (a FIFO, device or socket)")
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _last_line(fd)
            if last is None:
                seq, prev = 1, GENESIS
            else:
                try:
                    seq = int(json.loads(last)["seq"]) + 1
                except (ValueError, KeyError, TypeError, RecursionError):
                    raise AuditError(f"the last line of {self.path} is not an audit entry; run `omni-tui audit --verify`") from None
                prev = _line_hash(last)
            entry = {
                "seq": seq,
                "time": utc_now(),
                "who": who,
                "via": via,
                "event": event,
                "proposal_id": proposal_id,
                "decision": decision,
                "reason": reason,
                "sha256_before": dict(sha256_before) if sha256_before is not None else None,
                "sha256_after": dict(sha256_after) if sha256_after is not None else None,
                "command": command,
                "exit_code": exit_code,
                "duration_s": round(duration_s, 3) if duration_s is not None else None,
                "log_path": log_path,
                "prev": prev,
            }
            if state:
                entry["state"] = dict(state)
            if card is not None:
                entry["card"] = dict(card)
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            os.write(fd, line + b"\n")
            os.fsync(fd)
            digest = _line_hash(line)
            _write_head(self.head_path, seq, digest)
            if self.external_head is not None:
                _advance_external_head(self.external_head, seq, prev, digest, self.path)
            return entry
        finally:
            os.close(fd)  # closing releases the flock

    def entries(self) -> list[dict[str, Any]]:
        """Every parseable entry, in file order (use `verify` to check integrity)."""
        out = []
        for raw in self._lines():
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: `[[[[…` nested too deeply
                continue
            if isinstance(value, dict):
                out.append(value)
        return out

    def _lines(self) -> list[bytes]:
        try:
            _regular(self.path)  # names a FIFO for what it is; open_regular also refuses one swapped in after
            with open_regular(self.path) as handle:
                data = handle.read()
            if data and not data.endswith(b"\n"):
                data = self._settled(data)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {self.path}: {exc.strerror or exc}") from None
        return [raw for raw in data.split(b"\n") if raw.strip()]

    def _settled(self, data: bytes) -> bytes:
        """The log as read when its last line is unfinished. An append is one write under the exclusive
        lock, but a reader can see part of it: while a writer holds the lock, that line is not an entry
        yet (the lines before it are the log; a line cut short for good is caught by the heads, which are
        written after it). No writer: read again under a shared lock (not waiting for one: an agent could
        hold the lock forever), and what is there then is what the log holds, unfinished line and all."""
        with open_regular(self.path) as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return data[: data.rfind(b"\n") + 1]
            return handle.read()  # (the lock goes with the file)

    def verify(self) -> Verification:
        """Check the chain: the first line whose content, position or predecessor does not fit, and why."""
        # The heads first: an append writes its line before them, so lines read after them are never behind.
        head = _read_head(self.head_path)
        outside = read_external_head(self.external_head, self.path) if self.external_head is not None else None
        lines = list(self._lines())
        parsed: list[dict[str, Any] | None] = []
        for raw in lines:
            try:
                value = json.loads(raw)
                parsed.append(value if isinstance(value, dict) and isinstance(value.get("seq"), int) else None)
            except (ValueError, RecursionError):
                parsed.append(None)
        seqs = [p["seq"] if p else None for p in parsed]
        prev_hash = GENESIS
        for index, (raw, entry) in enumerate(zip(lines, parsed)):
            number = index + 1
            expected_seq = number
            if entry is None:
                return Verification(False, len(lines), number, "changed", "not a valid audit entry (JSON object with seq)")
            if set(entry) - set(OPTIONAL_FIELDS) != set(FIELDS) or not set(FIELDS) <= set(entry):
                return Verification(False, len(lines), number, "changed", "fields were added or removed")
            if entry["seq"] != expected_seq:
                if expected_seq in seqs[index + 1 :] or entry["seq"] < expected_seq:
                    return Verification(
                        False, len(lines), number, "reordered", f"entry seq {entry['seq']} where seq {expected_seq} belongs"
                    )
                return Verification(
                    False, len(lines), number, "removed", f"entries {expected_seq}..{entry['seq'] - 1} are missing before this line"
                )
            if entry["prev"] != prev_hash:
                if index == 0:
                    return Verification(False, len(lines), number, "changed", "the first entry must chain from the genesis hash")
                if isinstance(entry["prev"], str) and _line_hash(lines[index - 1]) != entry["prev"]:
                    return Verification(
                        False, len(lines), number - 1, "changed", f"its hash no longer matches the `prev` recorded by line {number}"
                    )
                return Verification(False, len(lines), number, "changed", "`prev` does not match the previous line")
            prev_hash = _line_hash(raw)
        if head is not None:
            head_seq, head_hash = head
            if head_seq > len(lines):
                return Verification(
                    False, len(lines), len(lines) + 1, "removed", f"the log ends at seq {len(lines)} but {head_seq} entries were written"
                )
            if head_seq == len(lines) and head_hash != prev_hash:
                return Verification(False, len(lines), len(lines), "changed", "the newest entry no longer matches its recorded hash")
        if outside is not None:
            out_seq, out_hash = outside
            where = f"the head kept outside the project ({self.external_head})"
            if out_seq > len(lines):
                if not lines:
                    return Verification(False, 0, 1, "removed", f"the log is missing or empty but {where} records {out_seq} entries")
                return Verification(
                    False, len(lines), len(lines) + 1, "removed", f"the log ends at seq {len(lines)} but {where} records {out_seq} entries"
                )
            if out_seq >= 1 and _line_hash(lines[out_seq - 1]) != out_hash:
                return Verification(False, len(lines), out_seq, "changed", f"entry {out_seq} does not match {where}: the log was rewritten")
        return Verification(True, len(lines))


def _last_line(fd: int) -> bytes | None:
    """The last non-empty line of the open file, read backwards in chunks."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    buf = b""
    pos = size
    while pos > 0:
        step = min(_TAIL_CHUNK, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf
        stripped = buf.rstrip(b"\n")
        cut = stripped.rfind(b"\n")
        if cut >= 0:
            return stripped[cut + 1 :]
        if not stripped and pos == 0:
            return None
    stripped = buf.rstrip(b"\n")
    return stripped or None


def _write_head(path: Path, seq: int, digest: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"seq": seq, "sha256": digest}) + "\n")
    os.replace(tmp, path)


def read_external_head(path: Path, log: Path | None = None) -> tuple[int, str] | None:
    """The head kept outside the project: (seq, sha256), or None. With `log`: None when that copy follows
    another state directory of the same project (`$DEVENV_DOTFILE` elsewhere), which it cannot judge."""
    if log is not None:
        try:
            kept = json.loads(read_regular(path, limit=64 * 1024)).get("log")
        except (OSError, ValueError, AttributeError, RecursionError):
            kept = None
        if isinstance(kept, str) and kept != str(log):
            return None
    return _read_head(path)


def _advance_external_head(path: Path, seq: int, prev: str, digest: str, log: Path) -> None:
    """Move the outside copy of the head to `seq`, but never over evidence of a cut.

    It follows the log when the new entry chains from the head it knows (or from a head it never saw:
    a process with another `$XDG_STATE_HOME` appended meanwhile). A copy at or beyond `seq`, or one
    whose hash the new entry does not chain from, is what a deleted, truncated or rewritten log left
    behind: it stays as it is until a person resolves it (`Gate.resolve_tampered`).
    """
    known = read_external_head(path, log)
    if known is not None:
        known_seq, known_hash = known
        if known_seq >= seq or (known_seq == seq - 1 and known_hash != prev):
            return
    write_external_head(path, seq, digest, log)


def write_external_head(path: Path, seq: int, digest: str, log: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"seq": seq, "sha256": digest, "log": str(log)}) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home must not stop the gate; `audit --verify` then has less to compare


def _regular(path: Path) -> None:
    """AuditError unless `path` is a regular file or absent: a FIFO an agent put there would block a reader forever."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not S_ISREG(mode):
        raise AuditError(f"the audit log {path} is not a regular file (a FIFO, device or socket)")


def _read_head(path: Path) -> tuple[int, str] | None:
    try:
        # a FIFO put in its place must not block every check of the chain (removing it is no different)
        value = json.loads(read_regular(path, limit=64 * 1024))
        return int(value["seq"]), str(value["sha256"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
