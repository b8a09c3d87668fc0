"""Safe file operations: path confinement to the project root, atomic writes, backups, file locks.

Every write of a guarded file or of a state document goes through `atomic_write`, so a reader
(or a crash) only ever sees the old bytes or the new bytes, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote, unquote

from omni_tui.core.errors import PathError

TMP_PREFIX = ".omni-tmp-"


def sha256_bytes(data: bytes | None) -> str | None:
    """Hex sha256 of `data`; None stays None (a file that does not exist)."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def confine(root: Path, rel: str) -> Path:
    """The absolute path of `rel` inside `root`; PathError for absolute paths, `..`, symlinks or escapes."""
    if not isinstance(rel, str) or not rel.strip():
        raise PathError("empty path")
    if "\x00" in rel:
        raise PathError(f"{rel!r}: path contains a NUL byte")
    if rel.startswith("/") or PurePosixPath(rel).is_absolute():
        raise PathError(f"{rel}: absolute paths are not allowed; give a path relative to the project root {root}")
    parts = PurePosixPath(rel).parts
    if any(part == ".." for part in parts):
        raise PathError(f"{rel}: path leaves the project root {root} (`..`)")
    parts = tuple(part for part in parts if part != ".")
    if not parts:
        raise PathError(f"{rel}: not a file path")
    root = _resolved_root(str(root))
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            target = os.readlink(current)
            raise PathError(f"{rel}: path goes through a symlink ({current.relative_to(root)} -> {target}); refusing to follow it")
    # No `..`, no symlink on the way down from a resolved root: the path cannot leave it (so no
    # resolve() of the whole path, which costs a stat per component — this runs for every
    # proposal a listing reads).
    return current


@functools.lru_cache(maxsize=64)
def _resolved_root(root: str) -> Path:
    """A project root resolved once per process (it is the root the workspace was opened on)."""
    return Path(root).resolve()


def normalise_rel(rel: str) -> str:
    """`./a//b` → `a/b` (a canonical form for comparing relative paths)."""
    return str(PurePosixPath(*[p for p in PurePosixPath(rel).parts if p != "."]))


def escape_name(rel: str) -> str:
    """A relative path as one flat file name (`sub/devenv.nix` → `sub%2Fdevenv.nix`), reversible."""
    return quote(rel, safe="")


def unescape_name(name: str) -> str:
    return unquote(name)


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories; the rename already happened
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


class ChangedMeanwhile(OSError):
    """`atomic_write(check=...)`: the target was no longer what the caller expected, so it was not replaced."""


def atomic_write(
    path: Path, data: bytes, *, mode: int | None = None, check: Callable[[], bool] | None = None, keep_inode: bool = False
) -> None:
    """Write `data` to `path`: temp file in the same directory, fsync, rename over, fsync the directory.

    `keep_inode`: an existing regular file is rewritten in place instead (after the temp file is
    complete and `check` passed), so it stays the same file — what `omni-tui run`'s read-only bind of
    it inside a sandbox stays attached to (a rename over it would detach that bind).

    An existing file keeps its permission bits unless `mode` is given; a new file gets 0o644.
    `check` runs right before the rename (after the slow fsync): False → ChangedMeanwhile, nothing
    replaced — the gate re-checks a guarded file's bytes there, so an edit saved meanwhile is never
    written over.
    """
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    tmp = directory / f"{TMP_PREFIX}{path.name}.{os.urandom(4).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if check is not None and not check():
            raise ChangedMeanwhile(errno.EAGAIN, "changed on disk meanwhile; not replaced", str(path))
        if keep_inode and path.is_file() and not path.is_symlink():
            with open(path, "r+b") as handle:
                handle.write(data)
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(path, mode)
            os.unlink(tmp)
            return
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def restore(path: Path, data: bytes | None, *, keep_inode: bool = False) -> None:
    """Put `path` back to `data` atomically (`keep_inode`: see `atomic_write`); None means the file did not exist, so remove it."""
    if data is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        fsync_dir(path.parent)
    else:
        atomic_write(path, data, keep_inode=keep_inode)


def read_bytes(path: Path) -> bytes | None:
    """The bytes of a regular file (None when absent). A FIFO, device or socket an agent put in its place is
    refused, never read: opening and reading one would block every reader (status, the cockpit's watch) forever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise PathError(f"{path}: is a directory, not a file") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise PathError(f"{path}: is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise PathError(f"{path}: not a regular file (a FIFO, device or socket)")
        with os.fdopen(fd, "rb", closefd=True) as file:
            fd = -1
            return file.read()
    finally:
        if fd >= 0:
            os.close(fd)


def open_regular(path: Path | str, *, limit: int | None = None) -> BinaryIO:
    """Open a file for reading that an agent may have replaced (the state folder, devenv's runtime
    files): a FIFO, device or socket in its place raises OSError instead of blocking the reader (and the
    cockpit or command waiting on it) forever, and so does a file over `limit` bytes. Absent: the
    usual FileNotFoundError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, device, socket or directory)", str(path))
        if limit is not None and st.st_size > limit:
            raise OSError(errno.EFBIG, f"over {limit} bytes", str(path))
        handle = os.fdopen(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    return handle


def read_regular(path: Path | str, *, limit: int | None = None) -> bytes:
    """The bytes of a regular file an agent may have replaced (see `open_regular`); at most `limit`
    bytes are read even if it grows meanwhile (OSError when it has more)."""
    with open_regular(path, limit=limit) as handle:
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise OSError(errno.EFBIG, f"over {limit} bytes", str(path))
    return data


def write_backup(backups_dir: Path, label: str, rel: str, data: bytes | None) -> Path:
    """Save `data` (None = the file did not exist) as backups/<label>/<escaped rel>[.absent]; returns the path."""
    folder = backups_dir / label
    folder.mkdir(parents=True, exist_ok=True)
    name = escape_name(rel)
    if data is None:
        marker = folder / f"{name}.absent"
        atomic_write(marker, b"")
        return marker
    target = folder / name
    atomic_write(target, data)
    return target


def read_backup(backups_dir: Path, label: str, rel: str) -> tuple[bool, bytes | None]:
    """(found, data) of a backup written by `write_backup`; data None means the file did not exist."""
    folder = backups_dir / label
    name = escape_name(rel)
    data = read_bytes(folder / name)
    if data is not None:
        return True, data
    if (folder / f"{name}.absent").exists():
        return True, None
    return False, None


@contextlib.contextmanager
def file_lock(path: Path, *, blocking: bool = True, shared: bool = False) -> Iterator[int | None]:
    """`flock` on `path` (created if missing) for the duration of the block.

    Yields the open file descriptor, or None when `blocking=False` and someone else holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        if not blocking:
            flags |= fcntl.LOCK_NB
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            yield None
            return
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_locked(path: Path) -> bool:
    """Someone (this process included, through another descriptor) holds an exclusive flock on `path`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO put in its place must not block the open
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
