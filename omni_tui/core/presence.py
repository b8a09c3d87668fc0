"""Who has a cockpit open on this project: one file per cockpit process in `<state>/presence/<pid>.json`
(`who`, `via`: terminal or web, `since`), written when a cockpit starts and removed when it ends.

Readers ignore files whose process is gone (a cockpit killed with -9 leaves its file behind) or whose
pid now belongs to another process (the start time recorded is checked), and remove them. Anything in a
file is untrusted text: callers make names inert before they reach a screen.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import NamedTuple

from omni_tui.core.audit import utc_now
from omni_tui.core.safefs import atomic_write, read_regular

_NAME = re.compile(r"^([1-9][0-9]{0,9})\.json$")
MAX_SHOWN = 32  # a directory full of files (an agent's joke) is cut here
NAME_LIMIT = 64


class Presence(NamedTuple):  # not a dataclass: cheaper to create before the cockpit's first frame
    pid: int
    who: str
    via: str
    since: str


def presence_dir(state: Path) -> Path:
    return state / "presence"


def _start_time(pid: int) -> float | None:
    """The process's start time (to tell a reused pid from the cockpit that wrote the file)."""
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:  # noqa: BLE001 — gone, not permitted, or no psutil: the pid check alone decides
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def announce(state: Path, who: str, via: str, pid: int | None = None) -> Path:
    """Record this cockpit as open; returns the file to pass to `leave`."""
    pid = os.getpid() if pid is None else pid
    folder = presence_dir(state)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{pid}.json"
    doc = {"pid": pid, "who": who[:NAME_LIMIT], "via": via, "since": utc_now(), "started": _start_time(pid)}
    atomic_write(path, (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def leave(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def present(state: Path, *, exclude_pid: int | None = None) -> list[Presence]:
    """Every live cockpit on the project (oldest first), except `exclude_pid` (usually this one)."""
    folder = presence_dir(state)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found: list[Presence] = []
    for name in names:
        match = _NAME.match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == exclude_pid:
            continue
        path = folder / name
        try:
            doc = json.loads(read_regular(path, limit=4096).decode("utf-8"))  # never a FIFO an agent put here
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(doc, dict) or doc.get("pid") != pid:
            continue
        who, via, since = doc.get("who"), doc.get("via"), doc.get("since")
        if not isinstance(who, str) or via not in ("terminal", "web") or not isinstance(since, str):
            continue
        started = doc.get("started")
        actual = _start_time(pid)
        if not _alive(pid) or (isinstance(started, (int, float)) and actual is not None and abs(actual - started) > 1.0):
            leave(path)  # left behind by a cockpit that was killed
            continue
        found.append(Presence(pid, who[:NAME_LIMIT], via, since))
        if len(found) >= MAX_SHOWN:
            break
    return sorted(found, key=lambda p: (p.since, p.pid))
