"""Stopping a process tree: SIGTERM its group (when its leader is being stopped) and pids, SIGKILL what is left.

Zombies count as gone (reaping them is their parent's business); the cockpit's own group is never signalled.
"""

from __future__ import annotations

import os
import signal
import time

from omni_tui.core.build_group import group_alive
from omni_tui.core.processes.procfs import read_stat


def terminate(head: int, tree: list[int], grace_s: float) -> None:
    """Stop `head` and its `tree` of pids: SIGTERM, then SIGKILL what still runs after `grace_s`."""
    try:
        pgid = os.getpgid(head)
    except ProcessLookupError:
        return
    # Signal the whole group only when its leader is part of what is being stopped (never ours).
    group = pgid if pgid != os.getpgrp() and pgid in tree else None
    targets = [pid for pid in tree if _running(pid)]
    _signal(group, targets, signal.SIGTERM)
    left = _wait_gone(targets, grace_s)
    if left or (group is not None and group_alive(group)):
        _signal(group, left, signal.SIGKILL)
        _wait_gone(left, 2.0)


def _running(pid: int) -> bool:
    """Alive and not a zombie (zombies are never reaped here: that is their parent's business)."""
    st = read_stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def _wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """Poll until every pid has ended; returns those still running at the deadline."""
    deadline = time.monotonic() + timeout_s
    left = [p for p in pids if _running(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if _running(p)]
    return left


def _signal(pgid: int | None, pids: list[int], sig: int) -> None:
    if pgid is not None:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
