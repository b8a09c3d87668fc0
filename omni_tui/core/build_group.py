"""The running build's process group, recorded in `<state>/build.json`: record, forget, find an orphan, stop it.

A rebuild runs in its own process group (core/rebuild.py). While it runs, the group is recorded
in `<state>/build.json`, and every process of it carries `OMNI_TUI_REBUILD` and
`OMNI_TUI_BUILD_STATE` in its environment. A group still alive when nobody holds the gate lock was
left by a process that died: `find_orphan` finds it and `stop_orphan` ends it (the gate does, under
its lock, before any apply, rebuild or rollback).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any, NamedTuple

from omni_tui.core.rebuild_mark import REBUILD_MARK
from omni_tui.core.safefs import read_regular

BUILD_FILE = "build.json"  # <state>/build.json: the process group of the build running now (see record_group)


# A NamedTuple, not a frozen dataclass: immutable and compared, shown and hashed the same, without
# compiling six methods at import (`status` imports this module; docs/performance.md).
class OrphanBuild(NamedTuple):
    """A build whose process group outlived the process that started it (e.g. a cockpit killed by SIGKILL)."""

    pgid: int
    command: str
    owner_pid: int | None
    started_at: str | None

    def describe(self) -> str:
        by = f" by pid {self.owner_pid}" if self.owner_pid else ""
        return f"`{self.command}` (process group {self.pgid}, started {self.started_at or '?'}{by})"


def record_group(group_file: Path, *, pgid: int | None, command: str, run_id: str) -> None:
    """Remember the build's process group while it runs, so whoever holds the gate next can find it
    (None: not spawned yet, see `record_starting`)."""
    from omni_tui.core.safefs import atomic_write

    info = {
        "pgid": pgid,
        "command": command,
        "owner_pid": os.getpid(),
        "run_id": run_id,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    atomic_write(group_file, (json.dumps(info) + "\n").encode())


def record_starting(group_file: Path, *, command: str, run_id: str) -> None:
    """Before a build is spawned: `build.json` says one may be running (no group yet), so a crash between
    the spawn and `record_group` still leaves a trace. `find_orphan` looks through the processes only
    when this file exists: without it no build of this state directory can be running."""
    record_group(group_file, pgid=None, command=command, run_id=run_id)


def forget_group(group_file: Path, pgid: int | None) -> None:
    """The group is gone (or stopped), or never started (None): forget it, unless the file already names
    another build (another group, or another process's start)."""
    try:
        info = json.loads(read_regular(group_file, limit=64 * 1024))
    except (OSError, ValueError):
        return
    if isinstance(info, dict) and (info.get("pgid") == pgid or (info.get("pgid") is None and info.get("owner_pid") == os.getpid())):
        with contextlib.suppress(FileNotFoundError):
            group_file.unlink()


BUILD_STATE_VAR = "OMNI_TUI_BUILD_STATE"  # in a recorded build's environment: the state directory it belongs to


def _members(pgid: int | None = None, state_dir: str | None = None) -> dict[int, str]:
    """Live processes carrying the rebuild mark: {pgid: command line}; only group `pgid`, or only builds of `state_dir`."""
    proc_dir = Path("/proc")
    found: dict[int, str] = {}
    if not proc_dir.is_dir():
        return {pgid: "?"} if pgid is not None and group_alive(pgid) else {}
    mark = f"{REBUILD_MARK}=".encode()
    owner = f"{BUILD_STATE_VAR}={state_dir}".encode() if state_dir is not None else None
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) < 3 or fields[0] == "Z" or (pgid is not None and fields[2] != str(pgid)):
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            if not any(item.startswith(mark) for item in environ) or (owner is not None and owner not in environ):
                continue
            group = int(fields[2])
            if group not in found or int(entry.name) == group:  # the group leader's command line is the build's
                found[group] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            continue
    return found


def _marked_member(pgid: int) -> bool:
    """Some live process of group `pgid` carries the rebuild mark (so a recycled group id is never taken for ours)."""
    return bool(_members(pgid))


def _exists(target: int, kill: Any) -> bool:
    """Signal 0 to a process (`os.kill`) or group (`os.killpg`): it exists and is ours to signal."""
    try:
        kill(target, 0)
    except (ProcessLookupError, PermissionError):
        return False
    except OSError:
        return True  # cannot tell: look closer
    return True


def find_orphan(group_file: Path) -> OrphanBuild | None:
    """A build of this state directory still running: the one recorded in `group_file`, or any process
    whose environment says it is one of this state directory's builds (set at exec, so a build killed
    before its group was recorded is found too). None otherwise.

    No `group_file`: no build can be running (`record_starting` writes it before each spawn, and it is
    removed once the build's group is gone), so the processes are not read at all — `status`, which
    agents poll, used to read every process's environment here. Only while the file is there are the
    processes looked through; the file is removed once that finds nothing and its writer is gone.

    Only meaningful to whoever holds the gate lock, or while nobody does: a build runs only while
    a process holding the lock runs it, so a build alive with the lock free is an orphan.
    """
    info: Any = None
    try:
        info = json.loads(read_regular(group_file, limit=64 * 1024))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            group_file.unlink()
    if isinstance(info, dict) and isinstance(info.get("pgid"), int) and info["pgid"] > 1:
        pgid = int(info["pgid"])
        if _exists(pgid, os.killpg) and _marked_member(pgid):
            owner = info.get("owner_pid")
            return OrphanBuild(
                pgid,
                str(info.get("command") or "?"),
                owner if isinstance(owner, int) else None,
                info.get("started_at") if isinstance(info.get("started_at"), str) else None,
            )
        forget_group(group_file, pgid)
    running = _members(state_dir=str(group_file.parent))
    if not running:
        owner = info.get("owner_pid") if isinstance(info, dict) else None
        if isinstance(info, dict) and info.get("pgid") is None and not (isinstance(owner, int) and _exists(owner, os.kill)):
            forget_group(group_file, None)  # a start that never recorded its group, by a process now gone
        return None
    pgid, command = sorted(running.items())[0]
    return OrphanBuild(pgid, command or "?", None, None)


def stop_orphan(group_file: Path, orphan: OrphanBuild, grace_s: float = 3.0) -> bool:
    """SIGINT the orphan's group, SIGKILL it after `grace_s`; True when it is gone (and forgotten)."""
    if signal_group(orphan.pgid, signal.SIGINT):
        end = time.monotonic() + grace_s
        while time.monotonic() < end and _marked_member(orphan.pgid):
            time.sleep(0.05)
        if _marked_member(orphan.pgid):
            signal_group(orphan.pgid, signal.SIGKILL)
            end = time.monotonic() + 5.0
            while time.monotonic() < end and _marked_member(orphan.pgid):
                time.sleep(0.05)
    gone = not _marked_member(orphan.pgid)
    if gone:
        forget_group(group_file, orphan.pgid)
    return gone


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def group_alive(pgid: int) -> bool:
    """Some non-zombie process is still in the group (a build's, or a process tree being stopped).

    Signal 0 alone is not the answer: it succeeds for a group whose members are all zombies waiting to
    be reaped (already gone for every purpose here: a rebuild would wait on them, a stop would SIGKILL
    them for nothing), and a group we may not signal (PermissionError) is one we cannot stop either.
    """
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # kill(0) also succeeds for zombies waiting to be reaped by init; look closer on Linux.
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return True
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False
