"""Linux inotify on whole directories, reporting the moments a file's content is complete.

The cockpit's workspace watcher uses it for the guarded files and the proposal state: events are
close-write (a writer closed the file), moved-to / moved-from (an editor's write-and-rename, a file
renamed away), create and delete. A write reaches the reader as soon as the writer closes the file;
only a sequence not yet whole (a file created or moved away, as an editor's save starts) waits up to
`settle_s` (a few ms) for the rest, so the save arrives in one wake-up. `DirectoryWatch` raises
`OSError` where inotify is missing or its limits are reached; the caller falls back to polling.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import struct
import sys
import threading

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, name length (then the name, NUL-padded)


def available() -> bool:
    """Whether this system has inotify (Linux)."""
    return sys.platform.startswith("linux")


class Overflow(Exception):
    """The kernel's event queue overflowed: events were lost, so anything may have changed."""


class DirectoryWatch:
    """An inotify instance watching `dirs` (not recursively). Close it when done (or use `with`)."""

    def __init__(self, dirs: list[str]) -> None:
        if not available():
            raise OSError("inotify is only available on Linux")
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        self.fd: int | None = fd
        self._dirs: dict[int, str] = {}
        self._wake_r = self._wake_w = -1
        self._wake_lock = threading.Lock()  # an interrupt never writes to a descriptor closed (and reused) meanwhile
        try:
            # `interrupt` writes here: a `wait` in another thread returns at once (a cockpit quitting
            # does not wait out the select's timeout)
            self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            for d in dirs:
                wd = libc.inotify_add_watch(fd, os.fsencode(d), MASK)
                if wd < 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"inotify_add_watch {d}: {os.strerror(err)}")
                self._dirs[wd] = d
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> DirectoryWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        with self._wake_lock:
            for end in ("_wake_r", "_wake_w"):
                fd = getattr(self, end)
                setattr(self, end, -1)
                if fd >= 0:
                    os.close(fd)

    def interrupt(self) -> None:
        """Make a `wait` (now or next) return [] at once (thread-safe)."""
        with self._wake_lock:
            if self._wake_w < 0:
                return  # closed: nothing waits
            with contextlib.suppress(BlockingIOError):  # already woken: the pipe is full
                os.write(self._wake_w, b"x")

    def wait(self, timeout_s: float, settle_s: float = 0.003) -> list[str]:
        """Paths that changed (in event order, may repeat); [] when `timeout_s` passed without any.

        Returned at once when every path's last event completes its content (closed after a write,
        renamed in: what a person or an agent saves); otherwise — a file created, deleted or renamed
        away, as an editor's save begins — events arriving within `settle_s` of the last one are taken
        too, so the save is seen whole. Raises `Overflow` when the kernel dropped events.
        """
        if self.fd is None:
            raise OSError("the watch is closed")
        ready = select.select([self.fd, self._wake_r], [], [], timeout_s)[0]
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 64)
            return []
        if not ready:
            return []
        events = self._read_events()
        while not _complete(events) and select.select([self.fd], [], [], settle_s)[0]:
            events += self._read_events()
        return [path for path, _mask in events]

    def _read_events(self) -> list[tuple[str, int]]:
        assert self.fd is not None
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return []
        out: list[tuple[str, int]] = []
        off = 0
        while off + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, off)
            name = data[off + _EVENT.size : off + _EVENT.size + length].rstrip(b"\0")
            off += _EVENT.size + length
            if mask & IN_Q_OVERFLOW:
                raise Overflow("inotify queue overflow")
            base = self._dirs.get(wd)
            if base is None:
                continue
            out.append((os.path.join(base, os.fsdecode(name)) if name else base, mask))
        return out


def _complete(events: list[tuple[str, int]]) -> bool:
    """Whether each path's last event leaves it whole (written and closed, or renamed into place)."""
    last: dict[str, int] = {}
    for path, mask in events:
        last[path] = mask
    return bool(last) and all(mask & (IN_CLOSE_WRITE | IN_MOVED_TO) for mask in last.values())
