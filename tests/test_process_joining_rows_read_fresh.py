"""A process that joins the project's rows shows its figures of now, not those of its last look elsewhere.

The scanner reads the machine's other processes again only every 5 s (a slice at a time). A process
seen elsewhere and then made the project's — a manager named in `.devenv/processes.pid`, the children
it already had — must be read afresh in the refresh where it joins: once, its first row carried the
rss of a look mid-exec (0) and a later one the memory and CPU of seconds before.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ScanClock  # the `scan_clock` fixture's type

from omni_tui.core.processes.procfs import HAS_PROC
from omni_tui.core.processes.scan import ProjectScanner

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="the periodic re-read of processes elsewhere is the /proc scanner's")

MIB = 1 << 20
# Idle until told, then 64 MiB touched and 0.2 s of CPU burnt, then idle again (no figure moves after).
GROWS_WHEN_TOLD = """import os, sys, time
open('ready', 'w').close()
while not os.path.exists('go'): time.sleep(0.02)
held = b'x' * (64 << 20)
spent = time.process_time()
while time.process_time() - spent < 0.2: pass
open('done', 'w').close()
time.sleep(300)
"""


def wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"the process ended before writing {path.name}"
        assert time.monotonic() < deadline, f"timed out waiting for {path.name}"
        time.sleep(0.02)


@pytest.fixture
def elsewhere_process(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    folder = tmp_path / "elsewhere"
    folder.mkdir()

    def start() -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
        p = subprocess.Popen([sys.executable, "-c", GROWS_WHEN_TOLD], cwd=folder, env=env, start_new_session=True)
        started.append(p)
        wait_for_file(folder / "ready", p)
        return p

    yield start
    for p in started:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        p.wait(10)


def test_a_manager_named_in_processes_pid_shows_its_memory_and_cpu_of_now_in_its_first_row(
    project: Path, tmp_path: Path, scan_clock: ScanClock, elsewhere_process: Callable[[], subprocess.Popen[bytes]]
) -> None:
    """Seen idle as a process elsewhere, it grows by 64 MiB and burns 0.2 s of CPU, then `devenv up -d`
    records it: the refresh that lists it first reads it then, within the same 5 s slice (no periodic
    re-read is due), so its row shows the memory and the CPU it used since that look."""
    manager = elsewhere_process()
    # The start of a half-second slice of the 5 s period: the next refresh, 0.4 s on, is in the same one,
    # so no process elsewhere comes due for its periodic re-read there.
    scan_clock.at = math.floor(scan_clock.at * 2) / 2 + 0.05
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    try:
        assert all(x.pid != manager.pid for x in scanner.scan())  # seen elsewhere: not a row
        looked = scanner._procs[manager.pid]
        assert looked.rss < 64 * MIB
        (tmp_path / "elsewhere" / "go").touch()
        wait_for_file(tmp_path / "elsewhere" / "done", manager)

        (project / ".devenv").mkdir()
        (project / ".devenv" / "processes.pid").write_text(f"{manager.pid}\n")
        scan_clock.at += 0.4
        row = next((x for x in scanner.scan() if x.pid == manager.pid), None)
        assert row is not None, "the recorded manager is a row in the refresh after it is recorded"
        assert row.rss is not None and row.rss >= 64 * MIB, f"rss {row.rss}: the figure of its last look elsewhere"
        # ≥ 0.2 s of CPU over the 0.4 s since it was last sampled.
        assert row.cpu_percent is not None and row.cpu_percent >= 40, f"cpu {row.cpu_percent}: not sampled since its last look"
        assert scanner._procs[manager.pid].fd is not None  # from now on read every refresh, through its kept-open stat
    finally:
        scanner.close()


def test_a_process_that_stays_elsewhere_keeps_its_periodic_slice(
    project: Path, scan_clock: ScanClock, elsewhere_process: Callable[[], subprocess.Popen[bytes]]
) -> None:
    """Reading joiners afresh costs nothing to the rest: a process that stays elsewhere is not read
    again before its slice of the 5 s period comes, however the project's tree changes."""
    other = elsewhere_process()
    mine = subprocess.Popen(["sleep", "300"], cwd=project, start_new_session=True)
    scan_clock.at = math.floor(scan_clock.at * 2) / 2 + 0.05
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    try:
        scanner.scan()
        first = scanner._procs[other.pid].sampled
        os.killpg(mine.pid, signal.SIGKILL)  # the project's tree changes
        mine.wait(10)
        scan_clock.at += 0.4
        assert all(x.pid != mine.pid for x in scanner.scan())
        assert scanner._procs[other.pid].sampled == first
    finally:
        scanner.close()
        try:
            os.killpg(mine.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        mine.wait(10)
