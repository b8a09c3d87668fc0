"""The psutil backend against real processes: a honcho Procfile with a real HTTP server and a worker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psutil
import pytest
from conftest import DOCUMENTED_PROCESS_KEYS

from omni_tui.core.errors import BackendError
from omni_tui.core.processes import ProcessMonitor, ProcessSnapshot
from omni_tui.core.processes.scan import ProjectScanner

T = TypeVar("T")
HONCHO = str(Path(sys.executable).parent / "honcho")
PY = sys.executable

WORKER = """import itertools, sys, time
for i in itertools.count():
    print(f"worker line {i}", flush=True)
    time.sleep(0.2)
"""


def wait_for(fn: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class Honcho:
    def __init__(self, root: Path, procfile: str) -> None:
        self.root = root
        (root / "Procfile").write_text(procfile)
        (root / "worker.py").write_text(WORKER)
        (root / ".devenv").mkdir(exist_ok=True)
        self.log = root / ".devenv" / "processes.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_"))}
        env["DEVENV_ROOT"] = str(root)
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([HONCHO, "start"], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def child_pids(self) -> list[int]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [int(p) for p in re.findall(r"started \(pid=(\d+)\)", text)]

    def close(self) -> None:
        pids = self.child_pids()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for pid in [self.proc.pid, *pids]:
            _kill_group(pid)
        self.proc.wait(10)


@pytest.fixture
def honcho(project: Path) -> Iterator[Callable[[str], Honcho]]:
    started: list[Honcho] = []

    def start(procfile: str) -> Honcho:
        h = Honcho(project, procfile)
        started.append(h)
        return h

    yield start
    for h in started:
        h.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def run(args: list[str], *, cwd: Path, env_root: Path | None = None) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
        if env_root is not None:
            env["DEVENV_ROOT"] = str(env_root)
        p = subprocess.Popen(args, cwd=cwd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    yield run
    for p in procs:
        _kill_group(p.pid)
        p.wait(10)


WEB = f"web: {PY} -m http.server 0 --bind 127.0.0.1\n"
WORKER_LINE = f"worker: sleep 300 & {PY} -u worker.py\n"


def _ready(mon: ProcessMonitor, *names: str) -> Callable[[], ProcessSnapshot | None]:
    def check() -> ProcessSnapshot | None:
        snap = mon.collect()
        procs = {p.name: p for p in snap.processes}
        if all(n in procs and procs[n].alive for n in names) and ("web" not in names or procs["web"].ports):
            return snap
        return None

    return check


def test_honcho_web_and_worker_found_with_pids_port_uptime_and_logs(project: Path, honcho) -> None:
    h = honcho(WEB + WORKER_LINE)
    mon = ProcessMonitor(project, {})
    snap = wait_for(_ready(mon, "web", "worker"), what="web with a port and worker")
    assert snap.backend == "psutil" and snap.error is None
    procs = {p.name: p for p in snap.processes}
    web, worker = procs["web"], procs["worker"]
    assert {web.pid, worker.pid} <= set(h.child_pids())
    served = wait_for(lambda: re.search(r"port (\d+)", h.log.read_text()), what="the server's banner")
    assert web.ports == (int(served.group(1)),)
    assert web.port_checks[0].accepting is True and web.state == "ready" and web.ready is True
    assert worker.state == "running" and worker.ports == ()
    up = web.uptime_at(snap.taken_at)
    assert up is not None and up >= 0 and web.rss and web.rss > 0
    assert "honcho" in procs and procs["honcho"].raw_state.startswith("manager")
    time.sleep(0.3)
    later = mon.collect()
    again = {p.name: p for p in later.processes}
    assert again["worker"].cpu_percent is not None  # a second sample gives real figures
    assert again["worker"].uptime_at(later.taken_at) >= worker.uptime_at(snap.taken_at)  # type: ignore[operator]
    lines = wait_for(lambda: len(got := mon.logs("worker", 5)) == 5 and got, what="worker lines")
    assert all(re.fullmatch(r"worker line \d+", ln) for ln in lines)
    assert not any("worker line" in ln for ln in mon.logs("web", 50))


def test_unrelated_process_is_not_listed_and_cwd_inside_root_is(project: Path, tmp_path: Path, honcho, spawn) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stranger = spawn([PY, "-c", "import time; time.sleep(300)"], cwd=elsewhere)
    (project / "sub").mkdir()
    inside = spawn([PY, "-c", "import time; time.sleep(300)"], cwd=project / "sub")
    mon = ProcessMonitor(project, {}, unmanaged_after_s=0)
    snap = wait_for(
        lambda: (s := mon.collect()) and any(p.pid == inside.pid for p in s.processes) and s,
        what="the process whose cwd is inside the root",
    )
    pids = {p.pid for p in snap.processes}
    assert stranger.pid not in pids
    assert os.getpid() not in pids
    with pytest.raises(BackendError, match=f"pid {stranger.pid} does not belong to"):
        mon.scanner.stop_pid(stranger.pid)
    assert stranger.poll() is None


def test_cockpit_and_its_ancestors_are_never_listed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("DEVENV_ROOT", str(project))
    snap = ProcessMonitor(project, {}).collect()
    pids = {p.pid for p in snap.processes}
    assert os.getpid() not in pids and os.getppid() not in pids


def test_stop_ends_the_process_group(project: Path, honcho) -> None:
    h = honcho(WEB + WORKER_LINE)
    mon = ProcessMonitor(project, {})
    snap = wait_for(_ready(mon, "web", "worker"), what="web and worker")
    worker = snap.get("worker")
    assert worker is not None and worker.pid is not None
    group = os.getpgid(worker.pid)
    members = [int(p) for p in subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.split()]
    assert len(members) >= 2  # sh, the sleep it backgrounded, python
    mon.stop("worker")
    wait_for(lambda: not _group_exists(group), what="the worker's group to be gone (reaped)")
    after = wait_for(lambda: (p := mon.collect().get("worker")) and p.state == "exited" and p, what="worker exited")
    assert after.pid == worker.pid
    with pytest.raises(BackendError, match="'worker' is not running"):
        mon.stop("worker")
    with pytest.raises(BackendError, match="no process named 'nope'"):
        mon.stop("nope")
    assert h.proc.wait(30) is not None  # honcho shuts down once one of its processes ends


def test_crashing_process_shows_as_exited_with_its_code(project: Path, honcho) -> None:
    # it crashes when the test says so (a file appears), once it has been seen running: on a loaded
    # machine a fixed 1.5 s of life could end before honcho had started it and the scan had seen it
    go = project / "crash-now"
    wait_go = f"[time.sleep(0.05) for _ in iter(lambda: os.path.exists({str(go)!r}), True)]"
    honcho(WEB + f'crash: {PY} -c "import os, time; {wait_go}; raise SystemExit(3)"\n')
    mon = ProcessMonitor(project, {})
    wait_for(_ready(mon, "web", "crash"), what="web and crash running")
    go.touch()
    crash = wait_for(lambda: (p := mon.collect().get("crash")) and p.state == "exited" and p, what="crash exited")
    assert crash.cpu_percent is None and crash.rss is None and crash.ports == ()
    assert "raise SystemExit(3)" in crash.command  # what it was running is kept
    # honcho logs the exit code a moment after the process is gone.
    crash = wait_for(lambda: (p := mon.collect().get("crash")) and p.exit_code is not None and p, what="its code")
    assert crash.exit_code == 3 and crash.raw_state == "gone (rc=3)" and crash.state == "exited"


def test_restart_and_start_are_refused_in_one_line(project: Path, honcho) -> None:
    honcho(WEB)
    mon = ProcessMonitor(project, {})
    wait_for(_ready(mon, "web"), what="web")
    with pytest.raises(BackendError) as err:
        mon.restart("web")
    assert "cannot restart 'web'" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(BackendError, match="cannot start"):
        mon.start("web")


def test_logs_unavailable_without_captured_output(project: Path, spawn) -> None:
    p = spawn([PY, "-c", "import time; time.sleep(300)"], cwd=project)
    mon = ProcessMonitor(project, {}, unmanaged_after_s=0)
    snap = wait_for(lambda: (s := mon.collect()) and any(x.pid == p.pid for x in s.processes) and s, what="process")
    name = next(x.name for x in snap.processes if x.pid == p.pid)
    with pytest.raises(BackendError, match=f"logs of '{name}' are unavailable"):
        mon.logs(name)


def test_known_service_shows_port_and_accepting(project: Path, tmp_path: Path, spawn) -> None:
    exe = tmp_path / "bin" / "redis-server"
    exe.parent.mkdir()
    exe.symlink_to(os.path.realpath(PY))
    server = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); time.sleep(300)"
    p = spawn([str(exe), "-c", server], cwd=project)
    mon = ProcessMonitor(project, {})
    info = wait_for(lambda: next((x for x in mon.collect().processes if x.pid == p.pid and x.ports), None), what="redis-server with a port")
    assert info.name == "redis-server" and info.service == "redis"
    assert info.port_checks[0].accepting is True and info.state == "ready"


def test_status_json_lists_the_processes(project: Path, honcho) -> None:
    honcho(WEB + WORKER_LINE)
    wait_for(_ready(ProcessMonitor(project, {}), "web", "worker"), what="web and worker")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_"))}
    out = subprocess.run(
        [PY, "-m", "omni_tui", "status", "--json", "-C", str(project)], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["processes_backend"] == "psutil"
    by_name = {p["name"]: p for p in doc["processes"]}
    assert {"web", "worker"} <= set(by_name)
    assert by_name["web"]["ports"] and by_name["web"]["pid"] > 0 and by_name["web"]["state"] == "ready"
    # Every entry has the documented keys in the documented order (docs/processes.md), as when
    # ProcessInfo was a dataclass: agents may read the text, not only the parsed JSON.
    for entry in doc["processes"]:
        assert tuple(entry) == DOCUMENTED_PROCESS_KEYS
    assert list(by_name["web"]["port_checks"][0]) == ["port", "accepting", "host", "name"]


def test_scanner_follow_yields_new_worker_lines(project: Path, honcho) -> None:
    import threading

    honcho(WORKER_LINE)
    mon = ProcessMonitor(project, {})
    wait_for(_ready(mon, "worker"), what="worker")
    stop = threading.Event()
    seen: list[str] = []
    it = mon.scanner.follow("worker", stop, poll_s=0.1)
    t = threading.Thread(target=lambda: seen.extend(it), daemon=True)
    t.start()
    wait_for(lambda: len(seen) >= 3 and seen, what="followed lines")
    first = len(seen)
    wait_for(lambda: len(seen) > first + 2, what="more followed lines")
    stop.set()
    t.join(5)
    nums = [int(s.split()[-1]) for s in seen]
    assert nums == sorted(nums) and len(set(nums)) == len(nums)


def test_scanner_is_reused_between_refreshes(project: Path) -> None:
    scanner = ProjectScanner(project)
    assert scanner.scan() == [] and scanner.scan() == []


def test_stop_kills_what_ignores_sigterm_after_the_grace_period(project: Path, spawn) -> None:
    stubborn = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "child = subprocess.Popen(['sleep', '300']); print('up', flush=True); time.sleep(300)"
    )
    p = spawn([PY, "-c", stubborn], cwd=project, env_root=project)
    mon = ProcessMonitor(project, {}, unmanaged_after_s=0)
    mon.scanner.grace_s = 1.0
    info = wait_for(lambda: next((x for x in mon.collect().processes if x.pid == p.pid), None), what="stubborn")
    group = os.getpgid(p.pid)
    wait_for(
        lambda: len(subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.split()) >= 2,
        what="the child in the group",
    )
    mon.stop(info.name)
    assert p.wait(10) == -signal.SIGKILL
    wait_for(lambda: not _group_exists(group), what="the group to be gone")


def test_the_manager_in_processes_pid_belongs_even_from_elsewhere(project: Path, tmp_path: Path, spawn) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    manager = spawn([PY, "-c", "import subprocess; subprocess.Popen(['sleep', '300']).wait()"], cwd=elsewhere)
    mon = ProcessMonitor(project, {})
    assert all(x.pid != manager.pid for x in mon.collect().processes)
    (project / ".devenv").mkdir()
    (project / ".devenv" / "processes.pid").write_text(f"{manager.pid}\n")
    # Its figures are read afresh in the refresh it joins (test_process_joining_rows_read_fresh.py); waited
    # for all the same, as a look within its exec may find no memory yet.
    wait_for(
        lambda: (s := mon.collect()) and any(x.pid == manager.pid and x.rss for x in s.processes),
        what="the recorded manager, with its memory",
    )


RESTARTING_MANAGER = """import datetime, subprocess, sys, time
log = open(sys.argv[1], "a", buffering=1)
def say(text):
    log.write(datetime.datetime.now().strftime("%H:%M:%S") + " system   | " + text + "\\n")
while True:
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    say(f"web.1 started (pid={child.pid})")
    say(f"web.1 stopped (rc={child.wait()})")
"""


def test_a_manager_restarting_a_process_counts_restarts(project: Path, tmp_path: Path, spawn) -> None:
    # A manager that restarts what dies (as overmind or process-compose do), logging in honcho's format.
    exe = tmp_path / "bin" / "hivemind"
    exe.parent.mkdir()
    exe.symlink_to(os.path.realpath(PY))
    (project / ".devenv").mkdir()
    log = project / ".devenv" / "processes.log"
    manager = spawn([str(exe), "-c", RESTARTING_MANAGER, str(log)], cwd=project, env_root=project)
    try:
        mon = ProcessMonitor(project, {})
        first = wait_for(lambda: (p := mon.collect().get("web")) and p.alive and p, what="web")
        assert first.restarts == 0 and mon.collect().get("hivemind").pid == manager.pid
        os.kill(first.pid, signal.SIGKILL)
        again = wait_for(lambda: (p := mon.collect().get("web")) and p.alive and p.pid != first.pid and p, what="web restarted")
        assert again.restarts == 1
    finally:
        _kill_group(manager.pid)
        manager.wait(10)
        for pid in re.findall(r"pid=(\d+)", log.read_text()):
            _kill_group(int(pid))


def test_other_omni_tui_processes_are_see_through(project: Path, tmp_path: Path, spawn) -> None:
    exe = tmp_path / "bin" / "omni-tui"
    exe.parent.mkdir()
    exe.symlink_to(os.path.realpath(PY))
    cockpit = spawn([str(exe), "-c", "import subprocess; subprocess.Popen(['sleep', '300']).wait()"], cwd=project)
    mon = ProcessMonitor(project, {}, unmanaged_after_s=0)
    snap = wait_for(lambda: (s := mon.collect()) and s.get("sleep") and s, what="the cockpit's child")
    assert all(p.pid != cockpit.pid for p in snap.processes)
    assert snap.get("sleep").pid != cockpit.pid


def test_a_known_process_that_starts_and_stops_listening_shows_its_port_then_none(project: Path, spawn) -> None:
    # The scan reads a known process's sockets again only when a new listening socket appears anywhere.
    script = (
        "import os, socket, time\n"
        "while not os.path.exists('listen'): time.sleep(0.05)\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "open('port.tmp', 'w').write(str(s.getsockname()[1])); os.rename('port.tmp', 'port')\n"
        "while not os.path.exists('close'): time.sleep(0.05)\n"
        "s.close(); time.sleep(300)\n"
    )
    p = spawn([PY, "-c", script], cwd=project)
    scanner = ProjectScanner(project, unmanaged_after_s=0)
    first = wait_for(lambda: next((x for x in scanner.scan() if x.pid == p.pid), None), what="the process")
    assert first.ports == ()
    (project / "listen").write_text("")
    port = int(wait_for(lambda: (project / "port").exists() and (project / "port").read_text(), what="its port"))
    info = wait_for(lambda: next((x for x in scanner.scan() if x.pid == p.pid and x.ports), None), what="the port")
    assert info.ports == (port,)
    (project / "close").write_text("")
    wait_for(lambda: next((x for x in scanner.scan() if x.pid == p.pid and not x.ports), None), what="no port")


def test_a_rebuild_run_by_any_omni_tui_command_is_not_a_project_process(project: Path, spawn) -> None:
    """`omni-tui rebuild`, a cockpit's approve and the Nix checks all go through RebuildRunner/validate:
    what they start in the project directory is omni-tui's work, not one of the project's processes."""
    import threading

    from omni_tui.core.rebuild import RebuildRunner

    marker = "omni-rebuild-child-marker"
    runner = RebuildRunner(f"{PY} -c 'import time; time.sleep(60)' {marker}", cwd=project, logs_dir=project / ".devenv" / "logs")
    thread = threading.Thread(target=runner.run_sync, args=(lambda line: None,), daemon=True)
    thread.start()
    try:
        project_proc = spawn(["sleep", "300"], cwd=project)
        mon = ProcessMonitor(project, {}, unmanaged_after_s=0)
        snap = wait_for(
            lambda: (s := mon.collect()) and any(p.pid == project_proc.pid for p in s.processes) and s, what="the project's own process"
        )
        rebuild_child = wait_for(
            lambda: next((p for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])), None),
            what="the rebuild's child running",
        )
        listed = {p.pid for p in snap.processes}
        assert rebuild_child.pid not in listed
        assert all(marker not in (p.command or "") for p in snap.processes)
    finally:
        runner.cancel()
        thread.join(10)


def test_a_rebuild_child_that_exits_mid_scan_is_not_listed(project: Path, tmp_path: Path) -> None:
    """A rebuild's short-lived child (`sleep 0.5` in a build loop) found alive by a scan and gone (a zombie,
    its environment unreadable) a moment later is still the rebuild's: it must not appear as an exited
    project process."""
    from omni_tui.core.rebuild_mark import REBUILD_MARK

    pid_file = tmp_path / "child.pid"
    parent_code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen(['sleep', '300'])\n"
        "open(sys.argv[1], 'w').write(str(p.pid))\n"
        "time.sleep(300)\n"
    )  # never reaps: the killed child stays a zombie
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    env[REBUILD_MARK] = "1"
    parent = subprocess.Popen([PY, "-c", parent_code, str(pid_file)], cwd=project, env=env, start_new_session=True)
    try:
        child = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the rebuild's child"))

        def stat(pid: int) -> str:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]

        class ChildExitsMidScan(ProjectScanner):
            def _refresh_table(self) -> None:
                super()._refresh_table()
                if child in self._procs and stat(child) != "Z":
                    os.kill(child, signal.SIGKILL)
                    wait_for(lambda: stat(child) == "Z", what="the child a zombie")

        scanner = ChildExitsMidScan(project)
        rows = scanner.scan() + scanner.scan()
        assert [r for r in rows if r.pid in (child, parent.pid)] == []
    finally:
        _kill_group(parent.pid)
        parent.wait(10)


def test_a_command_line_read_mid_exec_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Just after a spawn the kernel shows an empty command line for a moment: that is not cached."""
    from omni_tui.core.processes import process_tree

    reads = iter([[], ["python", "-c", "import time; time.sleep(300)"]])
    monkeypatch.setattr(process_tree, "read_cmdline", lambda pid: next(reads))
    proc = process_tree.Proc(4242, 0.0, "python", 1, "S", True, 0.0, 0, 0.0)
    assert proc.cmdline() == []
    assert proc.cmdline() == ["python", "-c", "import time; time.sleep(300)"]
    assert proc.cmdline() == ["python", "-c", "import time; time.sleep(300)"]  # now kept: no third read


QUIET = "import os, time\nwhile not os.path.exists('go'): time.sleep(0.05)\nfor i in range(3): print(f'late {i}', flush=True)\ntime.sleep(300)\n"


def test_following_a_process_that_has_not_written_yet_gets_its_first_lines(project: Path, honcho) -> None:
    import threading

    (project / "quiet.py").write_text(QUIET)
    honcho(f"quiet: {PY} -u quiet.py\n")
    mon = ProcessMonitor(project, {}, unmanaged_after_s=0)
    wait_for(_ready(mon, "quiet"), what="the quiet process listed")
    stop = threading.Event()
    seen: list[str] = []
    failed: list[BaseException] = []

    def follow() -> None:
        try:
            seen.extend(mon.scanner.follow("quiet", stop, poll_s=0.05))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failed.append(exc)

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    (project / "go").touch()  # only now does it write
    wait_for(lambda: failed or len(seen) >= 3, what="its first lines")
    stop.set()
    t.join(5)
    assert failed == [] and seen == ["late 0", "late 1", "late 2"]
