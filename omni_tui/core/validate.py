"""Content validation before anything is applied: UTF-8, size limit, `nix-instantiate --parse`.

`Validation` is what the proposal view shows and what `status --json` reports: a tuple of
`Issue`s (empty = ok), and whether Nix was actually checked. Parse errors carry line and column.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from omni_tui.core.rebuild_mark import REBUILD_MARK

NIX_TIMEOUT_S = 30.0
_POSITION = re.compile(r"at «stdin»:(\d+):(\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

KINDS = ("stale", "encoding", "size", "nix")  # docs/protocol.md: `pending[].validation.issues[].kind`


# NamedTuples, not a frozen dataclass: immutable and compared, shown and hashed the same, without
# compiling six methods each at import (every agent command imports this module; docs/performance.md).
class Issue(NamedTuple):
    path: str
    kind: str  # one of KINDS
    message: str
    line: int | None = None
    column: int | None = None

    def describe(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}:{self.column}"
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "message": self.message, "line": self.line, "column": self.column}


class Validation(NamedTuple):
    issues: tuple[Issue, ...] = ()
    nix_checked: bool = False  # nix-instantiate ran on every .nix file
    notes: tuple[str, ...] = ()  # e.g. "nix-instantiate not found: Nix syntax not checked"

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def stale(self) -> bool:
        return any(issue.kind == "stale" for issue in self.issues)

    def summary(self) -> str:
        """One line: `ok`, `ok (Nix not checked)`, or the first issue (+ how many more)."""
        if self.ok:
            return "ok" if self.nix_checked or not self.notes else "ok (Nix syntax not checked)"
        first = self.issues[0].describe()
        more = len(self.issues) - 1
        return first + (f" (+{more} more)" if more else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "nix_checked": self.nix_checked,
            "issues": [issue.to_json() for issue in self.issues],
            "notes": list(self.notes),
        }


def nix_available() -> bool:
    import shutil  # here, not at the top: `propose` and `status` import this module; most calls hit the cache

    return shutil.which("nix-instantiate") is not None


def over_size(size: int, max_bytes: int) -> str:
    """The size problem, worded once for every check that refuses content over `[guard] max_bytes`."""
    return f"{size} bytes is over the size limit of {max_bytes} bytes ([guard] max_bytes)"


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """The encoding problem, worded once: which byte, at which offset."""
    return f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"


def check_bytes(path: str, data: bytes, max_bytes: int) -> list[Issue]:
    """Size and encoding of raw content (e.g. what an agent handed in)."""
    issues = []
    if len(data) > max_bytes:
        issues.append(Issue(path, "size", over_size(len(data), max_bytes)))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        issues.append(Issue(path, "encoding", not_utf8(data, exc)))
    nul = data.find(b"\0")
    if nul >= 0:  # Nix ends a string at NUL: it would read something else than the diff shows
        issues.append(Issue(path, "encoding", f"contains a NUL byte (at offset {nul}): not a text file"))
    return issues


def check_text(path: str, text: str, max_bytes: int) -> list[Issue]:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a sloppy JSON writer
        return [Issue(path, "encoding", f"not valid UTF-8 (unpaired surrogate at character {exc.start})")]
    return check_bytes(path, data, max_bytes)


def nix_parse(path: str, text: str) -> tuple[Issue | None, str | None]:
    """Parse `text` with `nix-instantiate --parse -`: (syntax issue or None, note when Nix could not run)."""
    import shutil  # here, not at the top: `propose` and `status` import this module; most calls hit the cache
    import subprocess

    exe = shutil.which("nix-instantiate")
    if exe is None:
        return None, "nix-instantiate not found: Nix syntax not checked"
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", **{REBUILD_MARK: "1"})
    try:
        result = subprocess.run(
            [exe, "--parse", "-"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=NIX_TIMEOUT_S,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return None, f"nix-instantiate --parse took over {NIX_TIMEOUT_S:g} s: Nix syntax not checked"
    except OSError as exc:
        return None, f"cannot run nix-instantiate: {exc.strerror or exc}: Nix syntax not checked"
    if result.returncode == 0:
        return None, None
    err = _ANSI.sub("", result.stderr.decode("utf-8", "replace"))
    first = next((ln.strip() for ln in err.splitlines() if ln.strip()), f"nix-instantiate exited {result.returncode}")
    message = first.removeprefix("error:").strip()
    match = _POSITION.search(err)
    if match is None:
        # Not a located parse error: Nix itself failed (store not writable, ...). Do not block on it.
        return None, f"nix-instantiate failed ({message}): Nix syntax not checked"
    return Issue(path, "nix", message, int(match.group(1)), int(match.group(2))), None


def validate_contents(
    contents: Mapping[str, str],
    *,
    max_bytes: int,
    nix: bool = True,
    current_hashes: Mapping[str, str | None] | None = None,
    base_hashes: Mapping[str, str | None] | None = None,
) -> Validation:
    """Validate new contents per path; with both hash maps, also flag paths whose base is no longer current."""
    issues: list[Issue] = []
    notes: list[str] = []
    nix_checked = True
    if current_hashes is not None and base_hashes is not None:
        for path, base in base_hashes.items():
            if current_hashes.get(path) != base:
                what = "created" if base is None else ("deleted" if current_hashes.get(path) is None else "changed")
                issues.append(Issue(path, "stale", f"{what} on disk since the proposal was made (base no longer current)"))
    for path, text in contents.items():
        content_issues = check_text(path, text, max_bytes)
        issues.extend(content_issues)
        if path.endswith(".nix"):
            if not nix or content_issues:
                nix_checked = False
                continue
            issue, note = nix_parse(path, text)
            if issue is not None:
                issues.append(issue)
            if note is not None:
                nix_checked = False
                if note not in notes:
                    notes.append(note)
    return Validation(tuple(issues), nix_checked, tuple(notes))


DELETION_NOTE = " would be deleted"  # "devenv.nix would be deleted": a file removed on disk, shown as its own check


def validate_on_disk(files: Mapping[str, bytes | None], *, max_bytes: int, nix: bool = True) -> Validation:
    """Validate files as they are on disk (direct edits about to be accepted): raw size and UTF-8, Nix parse.

    A file that no longer exists (None) is neither parsed nor "ok": it gets the note
    `<path> would be deleted`, and Nix counts as checked only when some `.nix` file was parsed.
    """
    contents: dict[str, str] = {}
    issues: list[Issue] = []
    deleted: list[str] = []
    for path, data in files.items():
        if data is None:
            deleted.append(path)
            continue
        raw = check_bytes(path, data, max_bytes)
        if raw:
            issues.extend(raw)
        else:
            contents[path] = data.decode("utf-8")
    checked = validate_contents(contents, max_bytes=max_bytes, nix=nix)
    notes = tuple(f"{path}{DELETION_NOTE}" for path in deleted) + checked.notes
    nix_checked = checked.nix_checked and not issues and any(p.endswith(".nix") for p in contents)
    return Validation(tuple(issues) + checked.issues, nix_checked, notes)


# -- content checks remembered by content hash --------------------------------------------------


class ValidationCache:
    """The content checks of a file (UTF-8, size, Nix parse) remembered by the hash of its path and bytes.

    In memory, and on disk (`<state>/cache/validation/<hash>.json`, written atomically) so that every
    process — the cockpit's workers, `status --json`, the next cockpit — shares what one computed:
    10,000 pending proposals are parsed by `nix-instantiate` once, not once per look. Only definite
    results are kept (Nix ran, or the content failed before Nix); "Nix could not run" is asked again.
    Whether the base is stale depends on the disk now, so it is never cached (`Gate.validate`).

    Anything that can write the state directory (an agent running as the person can) can write an
    entry, so disk entries are read only when the caller says the result is for agents (`shared=True`:
    `status --json`). What a person reads — the cockpit's badges and checks, `status` as text — comes
    from checks run in this process (`shared=False`), which are still written for the others to share.
    """

    VERSION = 2  # 2: a NUL byte is an encoding issue

    def __init__(self, directory: Path | None, *, max_memory: int = 20_000) -> None:
        self.directory = directory
        self.max_memory = max_memory
        # key → (issues, nix_checked, notes), and whether this process ran that check (else read from disk)
        self._memory: dict[str, tuple[tuple[tuple[Issue, ...], bool, tuple[str, ...]], bool]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(path: str, text: str, max_bytes: int, nix: bool) -> str:
        h = hashlib.sha256(f"v{ValidationCache.VERSION}\0{path}\0{max_bytes}\0{int(nix)}\0".encode("utf-8", "surrogatepass"))
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def peek(self, path: str, text: str, *, max_bytes: int, nix: bool = True, shared: bool = True) -> Validation | None:
        """The remembered checks of this content, or None (nothing is run). `shared=False`: only checks
        this process ran count (not entries read from disk, which anything can write)."""
        if not nix:  # UTF-8 and size only: cheaper than a lookup
            return validate_contents({path: text}, max_bytes=max_bytes, nix=False)
        key = self.key(path, text, max_bytes, nix)
        with self._lock:
            hit = self._memory.get(key)
        if hit is not None and (shared or hit[1]):
            return Validation(*hit[0])
        if shared and hit is None and self.directory is not None:
            value = self._read(key)
            if value is not None:
                self._keep(key, value, ran_here=False)
                return Validation(*value)
        return None

    def check(self, path: str, text: str, *, max_bytes: int, nix: bool = True, shared: bool = True) -> Validation:
        """The checks of one file's content: remembered, or run now (and remembered when definite)."""
        found = self.peek(path, text, max_bytes=max_bytes, nix=nix, shared=shared)
        if found is not None:
            return found
        result = validate_contents({path: text}, max_bytes=max_bytes, nix=nix)
        definite = result.nix_checked or any(i.kind in ("encoding", "size") for i in result.issues) or not path.endswith(".nix")
        if definite and nix:
            value = (result.issues, result.nix_checked, result.notes)
            key = self.key(path, text, max_bytes, nix)
            self._keep(key, value, ran_here=True)
            self._write(key, value)
        return result

    def _keep(self, key: str, value: tuple[tuple[Issue, ...], bool, tuple[str, ...]], *, ran_here: bool) -> None:
        with self._lock:
            if key in self._memory:
                ran_here = ran_here or self._memory[key][1]  # a check run here stays this process's own
            elif len(self._memory) >= self.max_memory:
                self._memory.pop(next(iter(self._memory)))
            self._memory[key] = (value, ran_here)

    def _read(self, key: str) -> tuple[tuple[Issue, ...], bool, tuple[str, ...]] | None:
        assert self.directory is not None
        try:
            from omni_tui.core.safefs import read_regular

            doc = json.loads(read_regular(self.directory / f"{key}.json", limit=1024 * 1024))  # never a FIFO
            issues = tuple(Issue(str(i["path"]), str(i["kind"]), str(i["message"]), i.get("line"), i.get("column")) for i in doc["issues"])
            if any(i.kind not in KINDS or not all(n is None or type(n) is int for n in (i.line, i.column)) for i in issues):
                return None  # not what this class writes: checked again rather than passed on to agents
            return issues, bool(doc["nix_checked"]), tuple(str(n) for n in doc["notes"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None  # absent, or a damaged entry: checked again

    def _write(self, key: str, value: tuple[tuple[Issue, ...], bool, tuple[str, ...]]) -> None:
        if self.directory is None:
            return
        from omni_tui.core.safefs import atomic_write

        issues, nix_checked, notes = value
        doc = {"issues": [i.to_json() for i in issues], "nix_checked": nix_checked, "notes": list(notes)}
        try:
            atomic_write(self.directory / f"{key}.json", json.dumps(doc).encode("utf-8"))
        except OSError:
            pass  # a cache: a full or read-only disk only means checking again next time


def combine(parts: list[Validation], stale: list[Issue]) -> Validation:
    """Per-file content checks and the stale issues → one `Validation` (stale issues first)."""
    issues = tuple(stale) + tuple(i for part in parts for i in part.issues)
    notes: list[str] = []
    for part in parts:
        notes.extend(n for n in part.notes if n not in notes)
    nix_checked = all(part.nix_checked for part in parts) if parts else True
    return Validation(issues, nix_checked, tuple(notes))


def stale_issues(current_hashes: Mapping[str, str | None], base_hashes: Mapping[str, str | None]) -> list[Issue]:
    """The paths whose bytes on disk are no longer the ones a proposal was built on."""
    issues = []
    for path, base in base_hashes.items():
        if current_hashes.get(path) != base:
            what = "created" if base is None else ("deleted" if current_hashes.get(path) is None else "changed")
            issues.append(Issue(path, "stale", f"{what} on disk since the proposal was made (base no longer current)"))
    return issues


_CACHES: dict[Path, ValidationCache] = {}
_CACHES_LOCK = threading.Lock()


def cache_for(directory: Path) -> ValidationCache:
    """The one `ValidationCache` of a state directory's `cache/validation/` in this process."""
    with _CACHES_LOCK:
        cache = _CACHES.get(directory)
        if cache is None:
            cache = _CACHES[directory] = ValidationCache(directory)
        return cache
