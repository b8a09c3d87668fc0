"""Split a process manager's captured output (honcho's `HH:MM:SS name.1 | line` format) per process.

Besides the lines, honcho's own `system` lines tell which pid each process got and its exit code,
which lets the psutil backend name processes and report how they ended.
"""

from __future__ import annotations

import os
import re
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

from omni_tui.core.errors import BackendError
from omni_tui.core.safefs import open_regular

_Patterns = tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]
_patterns: _Patterns | None = None


def _compiled() -> _Patterns:
    """(ANSI colour, prefixed line, `started`, `stopped`), compiled when a captured log is first read:
    the scan imports this module for every `status`, which mostly has no manager log to read."""
    global _patterns
    if _patterns is None:
        _patterns = (
            re.compile(r"\x1b\[[0-9;]*m"),
            re.compile(r"^(\d\d:\d\d:\d\d) (\S+?) *\| ?(.*)$"),
            re.compile(r"^(\S+) started \(pid=(\d+)\)$"),
            re.compile(r"^(\S+) stopped \(rc=(-?\d+)\)$"),
        )
    return _patterns


SYSTEM = "system"
# Enough for the pid/start lines at the head of a long log, and a generous tail.
_HEAD_BYTES = 1 << 20
_TAIL_BYTES = 8 << 20


def parse_line(line: str) -> tuple[str, str] | None:
    """`12:00:01 web.1  | GET /` → ("web.1", "GET /"); None when the line has no honcho prefix."""
    ansi, prefixed, _, _ = _patterns or _compiled()
    m = prefixed.match(ansi.sub("", line.rstrip("\r\n")) if "\x1b" in line[:24] else line.rstrip("\r\n"))
    if m is None:
        return None
    return m.group(2), m.group(3)


def short_name(name: str, names: set[str] | frozenset[str]) -> str:
    """honcho calls a single instance `web.1`; show it as `web`, as in devenv.nix, unless `web.2` exists too."""
    base, dot, num = name.rpartition(".")
    if dot and num == "1" and base and f"{base}.2" not in names:
        return base
    return name


class CapturedOutput:
    """Incremental reader of one captured-output file; survives truncation and replacement."""

    # A plain class, not a dataclass: the scan imports this module for every `status` (docs/performance.md).
    def __init__(self, path: Path, keep: int = 2000) -> None:
        self.path = path
        self.keep = keep
        self.pids: dict[int, str] = {}  # pid → honcho name, from "started (pid=N)"
        self.exit_codes: dict[str, int] = {}  # honcho name → rc of its last stop
        self.names: set[str] = set()
        self._lines: dict[str, deque[str]] = {}
        self._offset = 0
        self._inode: int | None = None
        self._partial = b""

    def __repr__(self) -> str:
        return f"CapturedOutput(path={self.path!r}, keep={self.keep!r})"

    def refresh(self) -> list[tuple[str, str]]:
        """Read what was appended since the last call; returns the new (name, text) pairs."""
        try:
            st = os.stat(self.path)
        except OSError:
            return []
        if st.st_ino != self._inode or st.st_size < self._offset:
            self._reset(st.st_ino)
        if st.st_size == self._offset:
            return []
        new: list[tuple[str, str]] = []
        with open_regular(self.path) as fh:  # never a FIFO put in its place
            if self._offset == 0 and st.st_size > _HEAD_BYTES + _TAIL_BYTES:
                self._feed(fh.read(_HEAD_BYTES).rpartition(b"\n")[0] + b"\n", new)
                fh.seek(st.st_size - _TAIL_BYTES)
                fh.readline()  # skip the partial line where the tail starts
                self._feed(fh.read(), new)
            else:
                fh.seek(self._offset)
                self._feed(fh.read(), new)
            self._offset = fh.tell()
        return new

    def lines(self, name: str, n: int = 200) -> list[str] | None:
        """The last `n` lines of process `name` (honcho name or short name); None when never seen."""
        key = self.resolve(name)
        if key is None:
            return None
        buf = self._lines.get(key, deque())
        return list(buf)[-n:] if n > 0 else list(buf)

    def resolve(self, name: str) -> str | None:
        if name in self.names:
            return name
        for full in self.names:
            if short_name(full, self.names) == name:
                return full
        return None

    def _reset(self, inode: int) -> None:
        self._inode, self._offset, self._partial = inode, 0, b""
        self._lines.clear()

    def _feed(self, data: bytes, new: list[tuple[str, str]]) -> None:
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        for raw in complete:
            parsed = parse_line(raw.decode("utf-8", "replace"))
            if parsed is None:
                continue
            name, text = parsed
            if name == SYSTEM:
                self._system(text)
                continue
            self.names.add(name)
            self._lines.setdefault(name, deque(maxlen=self.keep)).append(text)
            new.append((name, text))

    def _system(self, text: str) -> None:
        _, _, started, stopped = _patterns or _compiled()
        if m := started.match(text):
            self.names.add(m.group(1))
            self.pids[int(m.group(2))] = m.group(1)
            self.exit_codes.pop(m.group(1), None)
        elif m := stopped.match(text):
            self.exit_codes[m.group(1)] = int(m.group(2))


def tail_lines(path: Path, lines: int, chunk: int = 1 << 18) -> list[str] | None:
    """The last `lines` lines of a text file (reading at most `chunk` bytes from its end); None when unreadable."""
    try:
        with open_regular(path) as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - chunk))
            data = fh.read()
    except OSError:
        return None
    text = data.decode("utf-8", "replace").splitlines()
    if size > chunk and text:
        text = text[1:]  # the first line read may be cut
    return text[-lines:] if lines > 0 else text


def _unavailable(name: str, paths: Sequence[Path]) -> BackendError:
    where = ", ".join(str(p) for p in paths)
    return BackendError(f"logs of '{name}' are unavailable: no captured manager output names it ({where})")


def captured_lines(captured: Sequence[CapturedOutput], name: str, lines: int, *, listed: bool, manager: bool) -> list[str]:
    """The last `lines` of `name` in the managers' captured output. A manager's own output is the whole
    file (its system lines and every process's); one a manager started (`listed`) that has not written
    yet has none."""
    for cap in captured:
        cap.refresh()
        got = cap.lines(name, lines)
        if got is not None:
            return got
    if manager:
        for cap in captured:
            whole = tail_lines(cap.path, lines)
            if whole is not None:
                return whole
    if listed and captured:
        return []
    raise _unavailable(name, [c.path for c in captured])


def follow_captured(paths: Sequence[Path], name: str, stop: threading.Event, poll_s: float, lines: int, *, listed: bool) -> Iterator[str]:
    """The last lines of `name`, then each new one as the captured output grows, until `stop` is set.
    One a manager started (`listed`) that has not written yet is followed from its first line."""
    readers = [CapturedOutput(path) for path in paths]
    known = False
    for reader in readers:
        reader.refresh()
        got = reader.lines(name, lines)
        if got is not None:
            known = True
            yield from got
    if not known and not (readers and listed):
        raise _unavailable(name, paths)
    while not stop.wait(poll_s):
        for reader in readers:
            for n, text in reader.refresh():
                if n == name or short_name(n, reader.names) == name:
                    yield text
