"""Starting and stopping the demo's processes. Every process the demo starts (honcho and its
children, the scripted agent, the rebuild's nix-build) inherits `OMNI_TUI_DEMO_ROOT=<root>`; `sweep`
finds them all by that mark and ends them (SIGTERM, then SIGKILL), so none outlives the demo."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import psutil

MARK = "OMNI_TUI_DEMO_ROOT"


def spawn(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], output: IO[bytes] | int = subprocess.DEVNULL) -> subprocess.Popen:
    """Start a process in its own session (so its whole group can be signalled), stdin closed."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _protected() -> set[int]:
    """This process and its ancestors: never signalled, whatever their environment says."""
    pids = {os.getpid()}
    try:
        pids.update(p.pid for p in psutil.Process().parents())
    except psutil.Error:
        pass
    return pids


def marked(root: Path) -> list[psutil.Process]:
    """Live processes carrying the demo mark for `root` (readable environments only: our own user's)."""
    wanted = str(root)
    protected = _protected()
    found = []
    for proc in psutil.process_iter():
        if proc.pid in protected:
            continue
        try:
            if proc.environ().get(MARK) == wanted and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def end_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM the process group `proc` leads, SIGKILL it after `grace_s`, and reap `proc`."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def sweep(root: Path, grace_s: float = 5.0) -> list[int]:
    """End every marked process for `root`; returns the pids it had to signal."""
    procs = marked(root)
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5.0)
    return [p.pid for p in procs]


def wait_until_gone(root: Path, timeout_s: float) -> list[psutil.Process]:
    """Poll until no marked process is left (or the timeout passes); returns what is still there."""
    deadline = time.monotonic() + timeout_s
    left = marked(root)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = marked(root)
    return left
