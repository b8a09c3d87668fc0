"""What a process refresh keeps from the last one, and what makes it read a process again.

A refresh reads only the project's /proc stats (the same bytes: nothing to do); command lines, cwd,
environment and sockets are read for a process first seen, or again when something says they may
have changed: an exec (even of a program with the same name), a new listening socket anywhere, a
process of the project starting, ending or changing parent. Processes elsewhere on the machine coming
and going do not make it work the project's tree out again, but never hide a new process of the project.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from conftest import DOCUMENTED_PROCESS_KEYS, ScanClock  # (ScanClock: the `scan_clock` fixture's type)

from omni_tui.core.processes.procfs import HAS_PROC, run_time
from omni_tui.core.processes.scan import ProjectScanner

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="the scanner's caching rules are about /proc")

T = TypeVar("T")
PY = sys.executable


def wait_for(fn: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def run(args: list[str], *, cwd: Path, **kw: object) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
        p = subprocess.Popen(args, cwd=cwd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
        procs.append(p)
        return p

    yield run
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        p.wait(10)


def _by_pid(scanner: ProjectScanner, pid: int) -> object:
    return next((x for x in scanner.scan() if x.pid == pid), None)


def test_a_process_that_execs_a_program_of_the_same_name_shows_its_new_command(project: Path, spawn) -> None:
    """python → exec python with other arguments: same pid, same name, same start; the command is read again."""
    script = (
        "import os, sys, time\n"
        "while not os.path.exists('go'): time.sleep(0.05)\n"
        "os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', sys.argv[1].replace('before', 'after')])\n"
    )
    p = spawn([PY, "-c", script, "before-the-exec"], cwd=project)
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    first = wait_for(lambda: _by_pid(scanner, p.pid), what="the process")
    assert "before-the-exec" in first.command  # type: ignore[attr-defined]
    for _ in range(3):
        scanner.scan()  # steady refreshes: the command is not read again while nothing changes
    (project / "go").write_text("")
    after = wait_for(
        lambda: (x := _by_pid(scanner, p.pid)) and "after-the-exec" in x.command and x,  # type: ignore[attr-defined]
        what="the command after the exec",
    )
    assert "before-the-exec" not in after.command  # type: ignore[attr-defined]


def test_a_new_process_of_the_project_is_found_while_processes_elsewhere_come_and_go(project: Path, tmp_path: Path, spawn) -> None:
    """A manager's new child that belongs only through the tree (its cwd and environment are elsewhere)
    is listed, while unrelated processes elsewhere start and end at every refresh."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    exe = tmp_path / "bin" / "honcho"
    exe.parent.mkdir()
    exe.symlink_to(os.path.realpath(PY))
    manager_script = (
        "import os, subprocess, time\n"
        f"while not os.path.exists('go'): time.sleep(0.05)\n"
        f"child = subprocess.Popen(['sleep', '300'], cwd={str(elsewhere)!r}, env={{'PATH': os.environ['PATH']}})\n"
        "open('child.tmp', 'w').write(str(child.pid)); os.rename('child.tmp', 'child')\n"
        "time.sleep(300)\n"
    )
    manager = spawn([str(exe), "-c", manager_script], cwd=project)
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    wait_for(lambda: _by_pid(scanner, manager.pid), what="the manager")
    churn = []
    for _ in range(3):  # processes elsewhere start and end: the tree is not worked out again for them
        churn.append(subprocess.Popen(["sleep", "0.05"], cwd=elsewhere))
        assert _by_pid(scanner, manager.pid) is not None
    for c in churn:
        c.wait(10)
    (project / "go").write_text("")
    child = int(wait_for(lambda: (project / "child").exists() and (project / "child").read_text(), what="the child's pid"))
    row = wait_for(lambda: _by_pid(scanner, child), what="the manager's new child")
    assert row.name == "sleep"  # type: ignore[attr-defined]


def test_a_process_that_leaves_the_project_tree_is_no_longer_listed(project: Path, tmp_path: Path, spawn) -> None:
    """A child that belongs only as its project parent's descendant is no longer a live row when that
    parent ends (it is reparented away from the project), though it goes on running."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    exe = tmp_path / "bin" / "honcho"
    exe.parent.mkdir()
    exe.symlink_to(os.path.realpath(PY))
    script = (
        "import os, subprocess, time\n"
        f"child = subprocess.Popen(['sleep', '300'], cwd={str(elsewhere)!r}, env={{'PATH': os.environ['PATH']}}, start_new_session=True)\n"
        "open('child.tmp', 'w').write(str(child.pid)); os.rename('child.tmp', 'child')\n"
        "while not os.path.exists('go'): time.sleep(0.05)\n"
    )
    manager = spawn([str(exe), "-c", script], cwd=project)
    child = int(wait_for(lambda: (project / "child").exists() and (project / "child").read_text(), what="the child's pid"))
    try:
        scanner = ProjectScanner(project, unmanaged_after_s=0)
        wait_for(lambda: _by_pid(scanner, child), what="the child as the manager's")
        (project / "go").write_text("")
        manager.wait(10)
        # (What its manager started may linger as `exited` for a while; it is no longer a live row.)
        wait_for(lambda: (x := _by_pid(scanner, child)) is None or not x.alive, what="the orphan to leave the list")  # type: ignore[attr-defined]
        os.kill(child, 0)  # still running
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_new_process_gets_its_ports_though_no_new_socket_appeared(project: Path, tmp_path: Path, spawn) -> None:
    """A process outside the project hands its listening socket to a new process in the project: the set
    of listening sockets is the same, but the new pid's sockets are read on first sight."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import os, socket, subprocess, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "open('port.tmp', 'w').write(str(s.getsockname()[1])); os.rename('port.tmp', 'port')\n"
        "while not os.path.exists('go'): time.sleep(0.05)\n"
        f"subprocess.Popen(['sleep', '300'], cwd={project.as_posix()!r}, pass_fds=(s.fileno(),))\n"
        "s.close(); time.sleep(300)\n"
    )
    spawn([PY, "-c", script], cwd=elsewhere)
    port = int(wait_for(lambda: (elsewhere / "port").exists() and (elsewhere / "port").read_text(), what="the port"))
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    for _ in range(2):
        scanner.scan()  # the listening socket is known before the new process appears
    (elsewhere / "go").write_text("")
    row = wait_for(lambda: next((x for x in scanner.scan() if x.ports), None), what="the new process with its port")
    assert row.ports == (port,) and row.name == "sleep"


def test_the_scan_builds_process_infos_in_the_models_field_order() -> None:
    """The scan builds `ProcessInfo`s positionally (a keyword call costs a third more):
    a field moved in the model must move there too."""
    from omni_tui.core.processes.model import ProcessInfo

    assert ProcessInfo._fields == (*DOCUMENTED_PROCESS_KEYS, "started_at")


def test_an_unchanged_process_is_the_same_row_object_while_its_uptime_grows(project: Path, spawn) -> None:
    """A sleeping process's figures do not change: the scan hands back last refresh's `ProcessInfo` (not
    rebuilt 300 times a second only to age it), and its uptime is reckoned from its start where it is
    read — `status --json` still says how long it has been up, as of each refresh."""
    p = spawn(["sleep", "300"], cwd=project)
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    wait_for(lambda: _by_pid(scanner, p.pid), what="the process")
    first = wait_for(lambda: (a := _by_pid(scanner, p.pid)) and a is _by_pid(scanner, p.pid) and a, what="two refreshes alike")
    assert first.uptime_s is None and first.started_at is not None  # type: ignore[attr-defined]
    up_now = first.to_dict(first.started_at + 5.0)["uptime_s"]  # type: ignore[attr-defined]
    up_later = first.to_dict(first.started_at + 65.0)["uptime_s"]  # type: ignore[attr-defined]
    assert (up_now, up_later) == (5.0, 65.0)
    assert "started_at" not in first.to_dict()  # type: ignore[attr-defined]  # the JSON keeps its keys


def test_a_known_process_whose_other_thread_starts_listening_shows_the_port(project: Path, spawn, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new listening socket anywhere makes the scan look again at the fds of processes that ran since
    their last look; the run time it compares is the main thread's, so a process with threads is always
    looked at: here a worker thread listens while the main thread sleeps."""
    script = (
        "import os, socket, threading, time\n"
        "def serve():\n"
        "    while not os.path.exists('listen'): time.sleep(0.05)\n"
        "    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "    open('port.tmp', 'w').write(str(s.getsockname()[1])); os.rename('port.tmp', 'port')\n"
        "    time.sleep(300)\n"
        "threading.Thread(target=serve, daemon=True).start()\n"
        "open('ready', 'w').close()\n"
        "time.sleep(300)\n"
    )
    import omni_tui.core.processes.scan as scan_module

    monkeypatch.setattr(scan_module, "_SOCKETS_REFRESH_S", 3600.0)  # no periodic look during the test
    p = spawn([PY, "-c", script], cwd=project)
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    first = wait_for(lambda: _by_pid(scanner, p.pid), what="the process")
    assert first.ports == ()  # type: ignore[attr-defined]
    wait_for(lambda: (project / "ready").exists(), what="the process to settle")
    import socket

    with socket.socket() as elsewhere:  # a socket of another process: the scan looks at what ran since
        elsewhere.bind(("127.0.0.1", 0))
        elsewhere.listen()
        scanner.scan()  # the process's fds read once more, after its start-up: its main thread sleeps from now on
    (project / "listen").write_text("")
    port = int(wait_for(lambda: (project / "port").exists() and (project / "port").read_text(), what="its port"))
    info = wait_for(lambda: (x := _by_pid(scanner, p.pid)) and x.ports and x, timeout=10, what="the port")  # type: ignore[attr-defined]
    assert info.ports == (port,)  # type: ignore[attr-defined]


def _in_its_sleep(pid: int) -> bool:
    """`sleep` inside its sleep call (not exec'ing or loading): it will not run again."""
    proc = Path(f"/proc/{pid}")
    try:
        if "nanosleep" in (proc / "wchan").read_text():
            return True
        return (proc / "syscall").read_text().split()[0] in ("35", "230")  # nanosleep, clock_nanosleep on x86-64
    except (OSError, IndexError):
        return False


def test_sleeping_processes_are_not_looked_at_again_when_a_socket_appears_elsewhere(project: Path, tmp_path: Path, spawn) -> None:
    """A listening socket opened by a process elsewhere does not make the scan read the fds of project
    processes that have not run since (single-threaded, their run time unchanged)."""
    import omni_tui.core.processes.scan as scan_module

    sleeper = spawn(["sleep", "300"], cwd=project)
    # Under load `sleep` may still be starting (exec, the loader) when first seen, and run once more
    # after its fds were read — then it did run since, and reading them again is right. So the scanner
    # first sees it once it is in its sleep call, when it has stopped running.
    wait_for(lambda: _in_its_sleep(sleeper.pid), what="the sleeper asleep")
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    wait_for(lambda: _by_pid(scanner, sleeper.pid), what="the sleeper")
    scanner.scan()
    scanner.scan()
    looked: list[int] = []
    real = scan_module.socket_inodes

    def counting(pid: int) -> set[int]:
        looked.append(pid)
        return real(pid)

    scan_module.socket_inodes = counting  # type: ignore[assignment]
    try:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        server = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); open('up', 'w').close(); time.sleep(300)"
        spawn([PY, "-c", server], cwd=elsewhere)
        wait_for(lambda: (elsewhere / "up").exists(), what="the server elsewhere")
        assert _by_pid(scanner, sleeper.pid) is not None
        assert scanner._rescan_sockets  # the new socket was seen
        assert sleeper.pid not in looked
    finally:
        scan_module.socket_inodes = real  # type: ignore[assignment]


def test_a_sleeping_process_that_starts_working_shows_its_cpu(project: Path, spawn) -> None:
    """A sleeping process's stat is not read again while its schedstat says it has not run; once it
    runs, the next refresh reads it and shows the CPU it uses."""
    p = spawn([PY, "-c", "import sys\nsys.stdin.buffer.read(1)\nwhile True: pass\n"], cwd=project, stdin=subprocess.PIPE)
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    wait_for(lambda: _by_pid(scanner, p.pid), what="the process")
    for _ in range(3):
        scanner.scan()  # blocked on its stdin: its files are open and its schedstat stays the same
    assert p.stdin is not None
    p.stdin.write(b"x")
    p.stdin.flush()
    wait_for(lambda: (x := _by_pid(scanner, p.pid)) and (x.cpu_percent or 0) > 20, what="its CPU")  # type: ignore[attr-defined]


def test_the_scanner_keeps_proc_files_open_up_to_half_the_open_file_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each project process keeps its stat and schedstat open (two files): a fixed cap of 512 left 50 of
    300 processes opened afresh every refresh (≈ 1 ms) where the limit on open files allowed them all.
    The cap is half the soft limit, never under the old 512 nor over 4,096."""
    import resource

    budgets = {}
    for soft in (1024, 3000, 100_000, resource.RLIM_INFINITY):
        monkeypatch.setattr(resource, "getrlimit", lambda _which, soft=soft: (soft, resource.RLIM_INFINITY))
        budgets[soft] = ProjectScanner(tmp_path)._fds_max
    assert budgets == {1024: 512, 3000: 1500, 100_000: 4096, resource.RLIM_INFINITY: 4096}


def test_processes_beyond_the_open_file_budget_are_still_listed_with_their_figures(project: Path, spawn) -> None:
    """Past the budget a process's stat is read afresh each refresh: it is listed, ends and leaves as the others."""
    procs = [spawn(["sleep", "300"], cwd=project) for _ in range(4)]
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    scanner._fds_max = 4  # two processes' stat + schedstat
    pids = {p.pid for p in procs}
    wait_for(lambda: pids <= {x.pid for x in scanner.scan() if x.cpu_percent is not None}, what="all four with a CPU figure")
    assert scanner._fds <= 4
    open_ = {pid for pid, p in scanner._procs.items() if p.fd is not None}
    assert len(open_ & pids) == 2
    beyond = next(p for p in procs if p.pid not in open_)
    os.killpg(beyond.pid, signal.SIGKILL)
    beyond.wait(10)
    wait_for(lambda: beyond.pid not in {x.pid for x in scanner.scan()}, what="the ended process to leave")
    assert pids - {beyond.pid} <= {x.pid for x in scanner.scan()}
    scanner.close()


def test_processes_elsewhere_are_looked_at_again_a_slice_each_refresh_all_within_five_seconds(
    tmp_path: Path, scan_clock: ScanClock
) -> None:
    """The machine's other processes are read again every 5 s (a reused pid may now be the project's), each
    in its pid's slot: one refresh a second reads a fifth of them, never the whole machine at once (every
    fifth refresh did, the p95 of a 300-process refresh)."""
    scanner = ProjectScanner(tmp_path)
    scanner.scan()
    known = set(scanner._procs)
    per_refresh: list[set[int]] = []
    for _ in range(5):
        scan_clock.at += 1.0
        scanner.scan()
        # A process read this refresh (afresh or through its kept-open file) is sampled now.
        per_refresh.append({pid for pid in known if pid in scanner._procs and scanner._procs[pid].sampled == scan_clock.at})
    alive = known & set(scanner._procs)
    assert len({pid % 10 for pid in alive}) > 4  # enough processes on any machine to tell slices apart
    assert all(len({pid % 10 for pid in got}) <= 2 for got in per_refresh), [sorted({p % 10 for p in got}) for got in per_refresh]
    assert alive <= set().union(*per_refresh)
    scanner.close()


def test_processes_elsewhere_keep_their_stat_open_in_a_quarter_of_the_budget_the_projects_keep_theirs(
    project: Path, tmp_path: Path, spawn, scan_clock: ScanClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process elsewhere is re-read every 5 s through its kept-open stat (one pread, not open/read/close);
    such files take at most a quarter of the budget, so the project's processes always find room, and
    the file of a process that ends is closed."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = spawn(["sleep", "300"], cwd=elsewhere)
    mine = [spawn(["sleep", "300"], cwd=project) for _ in range(2)]

    def refresh(scanner: ProjectScanner) -> None:
        scan_clock.at += 5.0  # every process elsewhere due again
        scanner.scan()

    small = ProjectScanner(project, unmanaged_after_s=0)
    small._fds_max = 8
    for _ in range(3):
        refresh(small)
    assert all(small._procs[p.pid].fd is not None and small._procs[p.pid].sched_fd is not None for p in mine)
    assert sum(1 for pid, p in small._procs.items() if p.fd is not None and pid not in small._last_members) <= 2
    small.close()

    scanner = ProjectScanner(project, unmanaged_after_s=0)
    for _ in range(3):
        refresh(scanner)
    assert scanner._procs[other.pid].fd is not None and other.pid not in scanner._last_members
    ended = scanner._procs[other.pid]
    closed: list[object] = []
    close_fd = scanner._close_fd
    monkeypatch.setattr(scanner, "_close_fd", lambda p: (closed.append(p), close_fd(p)))
    os.killpg(other.pid, signal.SIGKILL)
    other.wait(10)
    refresh(scanner)
    # Its file is closed and no longer counted (the count itself moves with the machine's other processes).
    assert other.pid not in scanner._procs and ended in closed and ended.fd is None
    assert scanner._fds == sum((p.fd is not None) + (p.sched_fd is not None) for p in scanner._procs.values())
    assert {p.pid for p in mine} <= {x.pid for x in scanner.scan()}
    scanner.close()


def test_the_periodic_look_at_sockets_reads_only_processes_that_ran_since(
    project: Path, spawn, scan_clock: ScanClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every 30 s each process's sockets come due again; a single-threaded process that has not run since
    its last look cannot have changed its fd table, so its fds are not read (its next look is simply due
    30 s later), while one that woke up meanwhile is read."""
    import omni_tui.core.processes.scan as scan_module

    sleeper = spawn(["sleep", "300"], cwd=project)
    ticker = spawn([PY, "-c", "import time\nwhile True: time.sleep(0.01)"], cwd=project)
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    wait_for(lambda: {sleeper.pid, ticker.pid} <= {x.pid for x in scanner.scan()}, what="both processes")
    wait_for(
        lambda: (
            scanner.scan() is not None
            and scanner._procs[ticker.pid].sched_fd is not None
            and scanner._procs[ticker.pid].sockets is not None
        ),
        what="the ticker read once",
    )
    # The sleeper settled in its sleep (its command line read, state S), then looked at afresh: its run
    # time at that look stays; the ticker's moves on (it wakes every 10 ms).
    wait_for(
        lambda: (
            Path(f"/proc/{sleeper.pid}/cmdline").read_bytes().startswith(b"sleep")
            and Path(f"/proc/{sleeper.pid}/stat").read_text().rpartition(")")[2].split()[0] == "S"
        ),
        what="the sleeper asleep",
    )
    scanner._procs[sleeper.pid].sockets = None
    scanner.scan()
    wait_for(lambda: run_time(ticker.pid) != scanner._procs[ticker.pid].sockets_ran, what="the ticker to run since its look")
    looked: list[int] = []
    real = scan_module.socket_inodes
    monkeypatch.setattr(scan_module, "socket_inodes", lambda pid: looked.append(pid) or real(pid))
    scan_clock.at += 31.0  # every process's sockets due
    scanner.scan()
    assert ticker.pid in looked and sleeper.pid not in looked
    assert scanner._procs[sleeper.pid].sockets_due > scan_clock.at  # due again in 30 s, not read every refresh
    scanner.close()
