"""What the audit chain vouches for: the state files (decisions, baselines) it recorded, and checks against it.

Every entry that writes a decision or a baseline carries `state`: the sha256 of the bytes it writes
(see `audit.OPTIONAL_FIELDS`), and is appended *before* the file is written. The `Ledger` folds
those entries into "the latest vouched-for hash of each state file" and answers, for bytes found on
disk, whether the chain accounts for them. It reads the log incrementally (only the bytes appended
since the last look; the whole log again only when it shrank or was replaced), so checking on every
poll costs a `stat`. It also follows the chain while reading, so a log rewritten in place or cut
short (against the head kept outside the project) is noticed by the same cheap refresh.

A vouched-for copy of each state file's bytes is kept content-addressed in `objects/<sha256>`, so a
person resolving a forgery can put the vouched-for bytes back (a copy whose hash does not match is
useless to a forger: it is never used).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from stat import S_ISREG
from typing import Any, NamedTuple

from omni_tui.core.audit import GENESIS, AuditLog, read_external_head
from omni_tui.core.safefs import atomic_write, open_regular, read_bytes, sha256_bytes

DECISION_PREFIX = "decisions/"
BASELINE_PREFIX = "baseline/"
# A state file may lag its (write-ahead) entry by this long: the writer appended, then writes the file.
GRACE_S = 5.0
BUILD_EVENTS = frozenset({"applied", "rolled_back", "failed", "rebuild"})
_BUILD_MARKS = re.compile(rb'"event":"(?:applied|rolled_back|failed|rebuild)"')


def _seq_and_prev(raw: bytes) -> tuple[int, str] | None:
    """(seq, prev) read from a compact audit line without parsing it; None when it is not one."""
    if not raw.startswith(b'{"seq":') or not raw.endswith(b"}"):
        return None
    comma = raw.find(b",", 7)
    at = raw.rfind(b'"prev":"')
    if comma < 0 or at < 0 or raw[at + 72 : at + 73] != b'"':
        return None
    try:
        return int(raw[7:comma]), raw[at + 8 : at + 72].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None


_UNSET = object()


def decision_key(proposal_id: str) -> str:
    return f"{DECISION_PREFIX}{proposal_id}.json"


def baseline_key(rel: str) -> str:
    return f"{BASELINE_PREFIX}{rel}"


# A NamedTuple, not a frozen dataclass: immutable and compared, shown and hashed the same, without
# compiling six methods at import (every agent command imports this module; docs/performance.md).
class Forgery(NamedTuple):
    """A state file (or the log itself) that the audit chain does not account for."""

    kind: str  # "decision", "baseline", "audit"
    path: str  # the file, as a path a person can open
    detail: str  # one line: what is wrong and what the file claims

    def describe(self) -> str:
        return f"{self.path}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "detail": self.detail}


class _Vouch(NamedTuple):  # replaced whole, never changed in place
    latest: frozenset[str | None]  # the hashes the newest entry allows (None: no such file)
    previous: frozenset[str | None]  # what the entry before it allowed (a write-ahead lag may still show it)
    every: set[str | None]  # every hash ever vouched for
    at: float  # epoch seconds of the newest entry


def _timegm(y: int, mo: int, d: int, h: int, mi: int, sec: int) -> int:
    """`calendar.timegm` (UTC, proleptic Gregorian, days past a month's end carry over) without importing
    calendar and datetime into every agent command: days from the civil date (H. Hinnant's algorithm)."""
    if y < 1:
        raise ValueError(y)  # as datetime.date, which calendar.timegm uses
    y -= mo <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return ((days * 24 + h) * 60 + mi) * 60 + sec


def _epoch(stamp: Any) -> float:
    # Parsed by hand: time.strptime imports _strptime (≈ 13 ms, with locale and calendar) into every
    # `omni-tui propose` and `status`.
    try:
        text = str(stamp)
        if len(text) < 19 or text[4] != "-" or text[7] != "-" or text[10] != "T" or text[13] != ":" or text[16] != ":":
            raise ValueError(text)
        parts = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19])
        if not all(p.isdigit() and p.isascii() for p in parts):
            raise ValueError(text)
        y, mo, d, h, mi, sec = (int(p) for p in parts)
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and sec <= 61):
            raise ValueError(text)
        return _timegm(y, mo, d, h, mi, sec) + float("0" + text[19:].rstrip("Z") or 0)
    except (ValueError, TypeError):
        return 0.0


def _as_set(value: Any) -> frozenset[str | None]:
    if isinstance(value, list):
        return frozenset(v if isinstance(v, str) else None for v in value)
    return frozenset([value if isinstance(value, str) else None])


class Ledger:
    """The chain's view of the state files, kept current by cheap incremental reads of the log."""

    def __init__(self, audit: AuditLog, objects: Path, busy: Callable[[], bool] | None = None) -> None:
        self.audit = audit
        self.objects = objects
        # Is a writer between its entry and its file right now (one of the gate's locks held)? Only then
        # may a file still show the bytes vouched for just before.
        self._busy = busy
        # One ledger serves the cockpit's poller, its decision thread and its workers at once: two
        # refreshes reading the same bytes would each take the same lines and see the chain "broken".
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._key: tuple[int, int, int] | None = None
        self._offset = 0
        self._hashes: list[str] = []  # line hash per seq (index seq-1)
        self._vouches: dict[str, _Vouch] = {}
        self._broken: str | None = None
        self._partial = b""
        self.last_build: dict[str, Any] | None = None  # the newest applied / rolled_back / failed / rebuild entry

    # -- reading the log --------------------------------------------------------------------

    def refresh(self) -> None:
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        try:
            st = os.stat(self.audit.path)
        except FileNotFoundError:
            if self._key is not None or self._hashes:
                self._reset()
            return
        if not S_ISREG(st.st_mode):  # a FIFO would block the read below (and every reader) forever
            self._broken = "the audit log is not a regular file (a FIFO, device or socket)"
            return
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if key == self._key:
            return
        if self._key is None or st.st_ino != self._key[0] or st.st_size < self._offset:
            self._reset()
        try:
            with open_regular(self.audit.path) as handle:  # not a FIFO swapped in since the stat above
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return
        self._key = key
        data = self._partial + data
        self._offset += len(data) - len(self._partial)
        cut = data.rfind(b"\n")
        complete, self._partial = (data[: cut + 1], data[cut + 1 :]) if cut >= 0 else (b"", data)
        for raw in complete.split(b"\n"):
            if raw.strip():
                self._take(raw)

    def _take(self, raw: bytes) -> None:
        if self._broken is not None:
            return
        number = len(self._hashes) + 1
        prev = self._hashes[-1] if self._hashes else GENESIS
        # Most entries (proposals, rejections without state...) need only their seq and prev: read
        # those two without parsing the line (AuditLog writes compact JSON, `seq` first; inside a
        # JSON string a quote is escaped, so `"prev":"` unescaped is only ever the key).
        quick = _seq_and_prev(raw)
        if quick is not None and (b'"state":' not in raw) and not _BUILD_MARKS.search(raw):
            if quick != (number, prev):
                self._broken = f"line {number} does not continue the hash chain (changed, removed or reordered)"
                return
            self._hashes.append(hashlib.sha256(raw).hexdigest())
            return
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: `[[[[…` nested too deeply
            entry = None
        if not isinstance(entry, dict) or entry.get("seq") != number or entry.get("prev") != prev:
            self._broken = f"line {number} does not continue the hash chain (changed, removed or reordered)"
            return
        self._hashes.append(hashlib.sha256(raw).hexdigest())
        if entry.get("event") in BUILD_EVENTS:
            self.last_build = {"proposal_id": entry.get("proposal_id"), "who": entry.get("who"), "event": entry.get("event")}
        state = entry.get("state")
        if not isinstance(state, dict):
            return
        at = _epoch(entry.get("time"))
        for name, value in state.items():
            allowed = _as_set(value)
            old = self._vouches.get(name)
            if old is None:
                self._vouches[name] = _Vouch(allowed, frozenset([None]), set(allowed), at)
            else:
                self._vouches[name] = _Vouch(allowed, old.latest, old.every | allowed, at)

    def loaded(self) -> None:
        """Read the log if this ledger never has (later answers may lag by one refresh)."""
        with self._lock:
            if self._key is None and not self._hashes:
                self._refresh()

    # -- answers ----------------------------------------------------------------------------

    @property
    def entries(self) -> int:
        return len(self._hashes)

    @property
    def vouches_anything(self) -> bool:
        return bool(self._vouches)

    def vouched(self, name: str) -> bool:
        return name in self._vouches

    def latest(self, name: str) -> frozenset[str | None] | None:
        vouch = self._vouches.get(name)
        return vouch.latest if vouch else None

    def problem(self, name: str, digest: str | None, *, in_progress: bool = False, now: float | None = None) -> str | None:
        """Why `digest` (None: no file) is not what the chain vouches for `name`; None when it is."""
        with self._lock:
            vouch = self._vouches.get(name)
        if vouch is None:
            return None if digest is None else "no audit entry vouches for it"
        if digest in vouch.latest:
            return None
        now = time.time() if now is None else now
        if digest in vouch.previous and now - vouch.at < GRACE_S and (self._busy is None or self._busy()):
            return None  # the write-ahead entry is appended, the file not written yet (its writer holds a lock)
        if in_progress and digest in vouch.every:
            return None  # an apply that died between its entry and its file: shown as interrupted
        if digest is None:
            return "it was deleted, but the audit log records it"
        return "its bytes are not the ones the audit log records"

    def chain_problem(self, *, state_exists: bool) -> str | None:
        """A log rewritten, cut short or removed (checked against the head kept outside the project)."""
        # The head first, then the log: an append writes its line before the head, so the log read
        # afterwards is never behind the head it is compared with.
        outside = read_external_head(self.audit.external_head, self.audit.path) if self.audit.external_head is not None else None
        with self._lock:
            self._refresh()
            broken, count = self._broken, len(self._hashes)
            at_head = self._hashes[outside[0] - 1] if outside is not None and 1 <= outside[0] <= count else None
        if broken is not None:
            return broken
        if outside is not None:
            seq, digest = outside
            if seq > count:
                if count == 0:
                    return f"the log is missing or empty, but the head kept outside the project records {seq} entries"
                return f"the log ends at entry {count}, but the head kept outside the project records {seq} entries"
            if seq >= 1 and at_head != digest:
                return f"entry {seq} is not the one the head kept outside the project records: the log was rewritten"
        if count == 0 and state_exists:
            return "the log is missing or empty, but the state directory has decisions or baselines"
        return None

    # -- vouched-for copies -------------------------------------------------------------------

    def keep(self, data: bytes | None) -> str | None:
        """Keep a content-addressed copy of `data`; returns its sha256 (None for None)."""
        digest = sha256_bytes(data)
        if data is not None and digest is not None:
            target = self.objects / digest
            if not target.exists():
                atomic_write(target, data)
        return digest

    def recover(self, digest: str) -> bytes | None:
        """The kept bytes with this sha256, or None when missing or not matching."""
        data = read_bytes(self.objects / digest)
        if data is None or sha256_bytes(data) != digest:
            return None
        return data


__all__ = ["Ledger", "Forgery", "decision_key", "baseline_key", "GRACE_S"]
