"""The Processes panel lists the project's services, not every command run in the project folder.

Real processes throughout: honcho started by hand (named from its Procfile, `-f` or its cwd's), a
stand-in mprocs (its mprocs.yaml `procs:` names), and one-off commands an agent would run.
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

from omni_tui.core.config import load_config
from omni_tui.core.processes import ProcessMonitor
from omni_tui.core.processes.procfile import Entry, config_path, match, parse_mprocs, parse_procfile
from omni_tui.core.processes.scan import ProjectScanner

T = TypeVar("T")
PY = sys.executable
HONCHO = str(Path(PY).parent / "honcho")
SLEEPER = f"{PY} -c 'import time; time.sleep(300)'"


def wait_for(fn: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _clean_env(root: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_", "PORT"))}
    if root is not None:
        env["DEVENV_ROOT"] = str(root)
    return env


@pytest.fixture
def start() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            args, cwd=cwd, env=env or _clean_env(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        procs.append(p)
        return p

    yield run
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)


def _names(mon: ProcessMonitor) -> dict[str, object]:
    return {p.name: p for p in mon.collect().processes}


# ------------------------------------------------------------------ naming from the manager's config


def test_honcho_started_by_hand_with_f_names_rows_from_that_procfile(project: Path, start) -> None:
    (project / "Procfile.dev").write_text(f"api: {SLEEPER}\nqueue: sleep 300 & {SLEEPER}\n")
    honcho = start([HONCHO, "start", "-f", "Procfile.dev"], cwd=project)
    mon = ProcessMonitor(project, {})
    procs = wait_for(lambda: (n := _names(mon)) and {"api", "queue"} <= set(n) and n, what="api and queue")
    assert procs["honcho"].pid == honcho.pid  # type: ignore[attr-defined]
    assert not any(n.startswith(("python", "sh", "sleep")) for n in procs), sorted(procs)


def test_honcho_without_f_reads_the_procfile_in_its_working_directory(project: Path, start) -> None:
    (project / "Procfile").write_text(f"web: {PY} -m http.server 0 --bind 127.0.0.1\nclock: {SLEEPER}\n")
    start([HONCHO, "start"], cwd=project)
    mon = ProcessMonitor(project, {})
    procs = wait_for(
        lambda: (n := _names(mon)) and {"web", "clock"} <= set(n) and n["web"].ports and n,  # type: ignore[attr-defined]
        what="web (listening) and clock",
    )
    assert procs["web"].state == "ready"  # type: ignore[attr-defined]


def test_mprocs_children_are_named_from_mprocs_yaml(project: Path, tmp_path: Path, start) -> None:
    # A stand-in mprocs: a program named mprocs that runs each `procs:` entry as mprocs does (`sh -c` for
    # `shell:`, the argv itself for `cmd:`); the scan reads the names from its mprocs.yaml.
    exe = tmp_path / "bin" / "mprocs"
    exe.parent.mkdir()
    exe.write_text(
        f"#!{PY}\n"
        "import subprocess, time\n"
        f"subprocess.Popen(['/bin/sh', '-c', {SLEEPER!r} + ' ; true'])\n"
        f"subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(300)'])\n"
        "time.sleep(300)\n"
    )
    exe.chmod(0o755)
    (project / "mprocs.yaml").write_text(
        f'procs:\n  server:\n    shell: "{SLEEPER} ; true"\n  jobs:\n    cmd: ["{PY}", "-c", "import time; time.sleep(300)"]\n'
    )
    start([str(exe)], cwd=project)
    mon = ProcessMonitor(project, {})
    procs = wait_for(lambda: (n := _names(mon)) and {"server", "jobs"} <= set(n) and n, what="server and jobs")
    assert "mprocs" in procs


def test_procfile_and_mprocs_parsing_and_the_config_each_manager_reads(tmp_path: Path) -> None:
    assert parse_procfile("# c\nweb: python -m http.server\n\nbad line\nworker:  sleep 1  \n") == [
        Entry("web", shell="python -m http.server"),
        Entry("worker", shell="sleep 1"),
    ]
    assert parse_mprocs("procs:\n  a: {shell: 'x y'}\n  b: {cmd: [p, q]}\n  c: 'z'\n") == [
        Entry("a", shell="x y"),
        Entry("b", argv=("p", "q")),
        Entry("c", shell="z"),
    ]
    assert parse_mprocs("procs: [") == [] and parse_mprocs("- just a list") == []
    cwd = str(tmp_path)
    assert config_path("honcho", ["python3", "/v/bin/honcho", "start", "-f", "P.dev"], cwd) == tmp_path / "P.dev"
    assert config_path("honcho", ["honcho", "start"], cwd) == tmp_path / "Procfile"
    assert config_path("overmind", ["overmind", "start", "--procfile=/x/Pf"], cwd) == Path("/x/Pf")
    assert config_path("overmind", ["overmind", "s"], cwd, {"OVERMIND_PROCFILE": "Pf.o"}) == tmp_path / "Pf.o"
    assert config_path("hivemind", ["hivemind", "--port", "3000", "Procfile.h"], cwd) == tmp_path / "Procfile.h"
    assert config_path("mprocs", ["mprocs"], cwd) == tmp_path / "mprocs.yaml"
    assert config_path("mprocs", ["mprocs", "-c", "m.yaml"], cwd) == tmp_path / "m.yaml"
    entries = parse_procfile("web: python -m http.server 8000\nworker: sleep 1 & python w.py\n")
    assert match(["/bin/sh", "-c", "sleep 1 & python w.py"], entries) == entries[1]
    assert match(["/usr/bin/python", "-m", "http.server", "8000"], entries) == entries[0]
    assert match(["python", "-m", "http.server", "9000"], entries) is None


# ------------------------------------------------------------------ one-off commands in the project folder


def test_short_commands_run_in_the_project_never_become_rows(project: Path, start) -> None:
    mon = ProcessMonitor(project, {})
    mon.collect()
    for _ in range(3):  # an agent's `sleep`, `head`, `python3 -c`: each lives a moment
        p = start(["sleep", "2"], cwd=project)
        seen = mon.collect()
        assert all(x.pid != p.pid for x in seen.processes)
        assert p.wait(10) == 0
    after = mon.collect()
    assert [x.name for x in after.processes] == []


def test_a_project_process_shows_once_it_has_lived_long_enough_and_leaves_when_it_ends(project: Path, start) -> None:
    # The threshold is an hour for the first look (however slow the machine, the process is younger), then
    # half a second: the same process, now older than that, comes in.
    mon = ProcessMonitor(project, {}, unmanaged_after_s=3600.0)
    p = start([PY, "-c", "import time; time.sleep(300)"], cwd=project)
    assert all(x.pid != p.pid for x in mon.collect().processes)  # young and not listening: not yet
    mon.scanner.unmanaged_after_s = 0.5
    info = wait_for(lambda: next((x for x in mon.collect().processes if x.pid == p.pid), None), what="the process")
    assert info.alive
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(10)
    gone = mon.collect()
    assert all(x.name != info.name for x in gone.processes), "an ended one-off process must leave at once"


def test_a_young_process_listening_on_a_port_is_shown_at_once(project: Path, start) -> None:
    server = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); open('up', 'w').close(); time.sleep(300)"
    p = start([PY, "-c", server], cwd=project)
    wait_for(lambda: (project / "up").exists(), what="the server listening")
    mon = ProcessMonitor(project, {})  # default: 30 s for processes that do not listen
    info = wait_for(lambda: next((x for x in mon.collect().processes if x.pid == p.pid), None), what="the server")
    assert info.ports and info.state == "ready"


def test_another_process_with_the_same_name_is_not_a_restart(project: Path, start) -> None:
    mon = ProcessMonitor(project, {}, unmanaged_after_s=0)
    first = start(["sleep", "300"], cwd=project)
    one = wait_for(lambda: next((x for x in mon.collect().processes if x.pid == first.pid), None), what="first sleep")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    second = start(["sleep", "300"], cwd=project)
    two = wait_for(lambda: next((x for x in mon.collect().processes if x.pid == second.pid), None), what="second sleep")
    assert one.restarts == 0 and two.restarts == 0
    assert two.state != "exited"
    assert not any(x.state == "exited" for x in mon.collect().processes)


def test_unmanaged_after_s_is_read_from_the_processes_table(tmp_path: Path) -> None:
    (tmp_path / "omni-tui.toml").write_text("[processes]\nunmanaged_after_s = 5\n")
    assert load_config(tmp_path).processes.unmanaged_after_s == 5.0
    (tmp_path / "omni-tui.toml").write_text("[processes]\nunmanaged_after_s = -1\n")
    with pytest.raises(Exception, match="unmanaged_after_s must be at least 0"):
        load_config(tmp_path)
    assert ProjectScanner(tmp_path).unmanaged_after_s == 30.0
