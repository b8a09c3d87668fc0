"""Reading one process's facts: /proc on Linux (one read each, no psutil), psutil elsewhere.

Its stat (name, state, parent, start, CPU, memory), command line, environment (`DEVENV_ROOT`,
REBUILD_MARK, named variables) and cwd; each reader answers None or empty when the process is gone.
"""

from __future__ import annotations

import os
from pathlib import Path

from omni_tui.core.rebuild_mark import REBUILD_MARK

HAS_PROC = Path("/proc/self/stat").exists()

if HAS_PROC:
    _CLK_TCK = os.sysconf("SC_CLK_TCK")
    _PAGE = os.sysconf("SC_PAGE_SIZE")
    _BOOT = next(
        (float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")), 0.0
    )  # what psutil.boot_time() reads, without importing psutil
_LETTERS = {
    "running": "R",
    "sleeping": "S",
    "disk-sleep": "D",
    "zombie": "Z",
    "stopped": "T",
    "idle": "I",
    "dead": "X",
    "tracing-stop": "t",
}


def parse_stat(data: bytes) -> tuple[str, str, int, float, float, int] | None:
    lpar, rpar = data.find(b"("), data.rfind(b")")
    f = data[rpar + 2 :].split(None, 22)
    if len(f) < 22:
        return None
    return (
        data[lpar + 1 : rpar].decode("utf-8", "replace"),
        f[0].decode(),
        int(f[1]),
        _BOOT + int(f[19]) / _CLK_TCK,
        (int(f[11]) + int(f[12])) / _CLK_TCK,
        int(f[21]) * _PAGE,
    )


def exec_mark(data: bytes) -> bytes:
    """Where the kernel put a process's arguments and environment (stat fields 48–51), from its stat bytes.

    Every exec sets them anew (a new stack, randomised): a process that exec'd another program with the
    same name (`python` → `python other.py`) reads differently, so what was read about it is read again.
    Zeros for another user's process or a zombie (no memory left)."""
    return b" ".join(data.rsplit(None, 5)[1:5])


def threads(data: bytes) -> int:
    """The number of threads (stat field 20) in a process's stat bytes; 0 when unreadable."""
    fields = data[data.rfind(b")") + 2 :].split(None, 18)
    return int(fields[17]) if len(fields) > 17 and fields[17].isdigit() else 0


def run_time(pid: int) -> int | None:
    """Nanoseconds the process's main thread has run (/proc/<pid>/schedstat); None when unreadable."""
    if not HAS_PROC:
        return None
    try:
        fd = os.open(f"/proc/{pid}/schedstat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 128)
    except OSError:
        return None
    finally:
        os.close(fd)
    first = data.split(None, 1)[:1]
    return int(first[0]) if first and first[0].isdigit() else None


def read_stat_bytes(pid: int) -> bytes | None:
    """/proc/<pid>/stat as bytes (None when the process is gone); Linux only."""
    # os.open/os.read: a refresh reads every new process's stat, and a file object costs 40 % more.
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_stat(pid: int) -> tuple[str, str, int, float, float, int] | None:
    """(comm, state letter, ppid, start epoch, CPU seconds, rss bytes): one read of /proc/<pid>/stat on Linux."""
    if HAS_PROC:
        data = read_stat_bytes(pid)
        return parse_stat(data) if data else None
    import psutil  # elsewhere than Linux only: status and the cockpit start faster without it

    try:
        p = psutil.Process(pid)
        with p.oneshot():
            t = p.cpu_times()
            return (p.name(), _LETTERS.get(p.status(), "S"), p.ppid(), p.create_time(), t.user + t.system, p.memory_info().rss)
    except psutil.Error:
        return None


def read_cmdline(pid: int) -> list[str]:
    if HAS_PROC:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return [a.decode("utf-8", "replace") for a in fh.read().split(b"\0") if a]
        except OSError:
            return []
    import psutil

    try:
        return [str(a) for a in psutil.Process(pid).cmdline()]
    except (OSError, psutil.Error):
        return []


def environ(pid: int) -> bytes | None:
    """A process's environment as NUL-separated `NAME=value` bytes; None when unreadable (gone), b"" for a zombie."""
    if HAS_PROC:
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                return fh.read()
        except OSError:
            return None
    import psutil

    try:
        return b"\0".join(f"{k}={v}".encode() for k, v in psutil.Process(pid).environ().items())
    except psutil.Error:
        return None


def rebuild_marked(pid: int) -> bool | None:
    """Whether the process's environment carries REBUILD_MARK (None when unreadable: gone, or a zombie)."""
    data = environ(pid)
    # A zombie's environment reads as empty: it cannot say.
    return b"\0" + REBUILD_MARK.encode() + b"=" in b"\0" + data if data else None


def environ_root(pid: int) -> str | None:
    """The DEVENV_ROOT in a process's environment (None when absent or unreadable)."""
    data = environ(pid)
    if not data:
        return None
    i = data.find(b"DEVENV_ROOT=")
    while i > 0 and data[i - 1] != 0:
        i = data.find(b"DEVENV_ROOT=", i + 1)
    if i < 0:
        return None
    end = data.find(b"\0", i)
    return data[i + 12 : end if end >= 0 else None].decode("utf-8", "replace")


def env_vars(pid: int, names: tuple[str, ...]) -> dict[str, str]:
    """The named variables of a process's environment (those present and readable)."""
    data = environ(pid)
    out: dict[str, str] = {}
    for item in data.split(b"\0") if data else ():
        key, eq, value = item.partition(b"=")
        if eq and key.decode("utf-8", "replace") in names:
            out[key.decode()] = value.decode("utf-8", "replace")
    return out


def read_cwd(pid: int) -> str | None:
    if HAS_PROC:
        try:
            return os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return None
    import psutil

    try:
        return str(psutil.Process(pid).cwd())
    except (OSError, psutil.Error):
        return None


STATUS_NAMES = {
    "R": "running",
    "S": "sleeping",
    "D": "disk-sleep",
    "Z": "zombie",
    "T": "stopped",
    "t": "tracing-stop",
    "X": "dead",
    "I": "idle",
    "W": "waking",
    "P": "parked",
}


def self_and_ancestors() -> set[int]:
    """The cockpit's own pid and its ancestors' (never the project's processes)."""
    if HAS_PROC:
        found, pid = set(), os.getpid()
        while pid > 0 and pid not in found:
            found.add(pid)
            st = read_stat(pid)
            pid = st[2] if st is not None else 0
        return found
    import psutil

    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.parents())}
