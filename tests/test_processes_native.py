"""The devenv native manager client against the stand-in over a real Unix socket, and the fallback to psutil."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from omni_tui.core.errors import BackendError
from omni_tui.core.processes import DevenvPaths, ProcessMonitor
from omni_tui.core.processes.native import NativeClient
from tests.standins.native_server import NativeProcess, NativeServer


@pytest.fixture
def runtime(tmp_path: Path) -> Path:
    # Short: Unix socket paths are limited to 108 bytes.
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"omni-rt-{os.getpid()}-{tmp_path.name[-12:]}"


@pytest.fixture
def env(project: Path, runtime: Path) -> dict[str, str]:
    return {"DEVENV_ROOT": str(project), "DEVENV_RUNTIME": str(runtime)}


@pytest.fixture
def server(project: Path, env: dict[str, str], runtime: Path) -> Iterator[NativeServer]:
    paths = DevenvPaths.for_root(project, env)
    procs = [
        NativeProcess("web", phase="ready", ports={"http": 8000}, stdout=["GET / 200", "GET /x 404"], stderr=["warn"]),
        NativeProcess("worker", phase="starting", restart_count=2, stdout=["tick"]),
        NativeProcess("db", phase="gave_up", restart_count=5),
        NativeProcess("once", phase="not_started"),
    ]
    with NativeServer(paths.native_socket, procs, runtime=runtime) as srv:
        yield srv
    import shutil

    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def client(project: Path, env: dict[str, str]) -> NativeClient:
    return NativeClient(DevenvPaths.for_root(project, env), timeout_s=0.5)


def test_list_normalises_phases(client: NativeClient, server: NativeServer) -> None:
    procs = {p.name: p for p in client.list()}
    assert [(n, p.state, p.raw_state) for n, p in procs.items()] == [
        ("web", "ready", "ready"),
        ("worker", "starting", "starting"),
        ("db", "failed", "gave_up"),
        ("once", "stopped", "not_started"),
    ]
    assert procs["web"].ports == (8000,) and procs["web"].ready is True
    assert procs["worker"].restarts == 2 and procs["db"].restarts == 5
    assert server.requests[-1] == {"command": "list"}


def test_every_request_type(client: NativeClient, server: NativeServer) -> None:
    assert client.status("worker").state == "starting"
    assert client.manager_logs("web", 1) == ("GET /x 404\n", "warn\n")
    client.restart("worker")
    assert client.status("worker").restarts == 3 and client.status("worker").state == "ready"
    client.stop("web")
    assert client.status("web").state == "stopped"
    client.start("web")
    assert client.status("web").state == "ready"
    assert client.port_allocations() == {"web": {"http": 8000}}
    client.wait()
    assert client.mode() == "daemon"
    assert [r["command"] for r in server.requests] == [
        "status",
        "logs",
        "restart",
        "status",
        "status",
        "stop",
        "status",
        "start",
        "status",
        "ports",
        "wait",
        "mode",
    ]
    assert server.requests[1] == {"command": "logs", "name": "web", "lines": 1}
    assert server.requests[7] == {"command": "start", "names": ["web"]}


def test_attach_streams_snapshot_then_status_events(client: NativeClient, server: NativeServer) -> None:
    stop = threading.Event()
    events: list[dict[str, object]] = []

    def run() -> None:
        for ev in client.attach(stop, poll_s=0.1):
            events.append(ev)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not events and time.monotonic() < deadline:
        time.sleep(0.05)
    client.restart("web")
    server.emit_log("web", "GET /new 200")
    while len(events) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    t.join(5)
    assert events[0]["event"] == "snapshot" and len(events[0]["processes"]) == 4
    assert events[1] == {"event": "status", "info": {"name": "web", "phase": "ready", "restart_count": 1, "ports": ["http:8000"]}}
    assert events[2] == {"event": "log", "name": "web", "stream": "stdout", "line": "GET /new 200"}


def test_error_answers_become_one_line_errors(client: NativeClient, server: NativeServer) -> None:
    with pytest.raises(BackendError, match=r"^native manager: no such process: nope$"):
        client.restart("nope")
    with pytest.raises(BackendError, match="no such process: nope"):
        client.start("nope")


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("hang", r"native manager at .*native\.sock: no answer to 'list' within 0\.5 s"),
        ("trickle", r"native manager at .*native\.sock: no answer to 'list' within 0\.5 s"),
        ("close_mid_line", r"native manager at .*native\.sock: closed the connection mid-answer to 'list'"),
        ("garbage", r"native manager at .*native\.sock: answered 'list' with garbage: "),
        ("no_status", r"answered 'list' without a status"),
        ("wrong_status", r"expected 'process_list' for 'list', got 'mode'"),
    ],
)
def test_misbehaving_manager(client: NativeClient, server: NativeServer, mode: str, message: str) -> None:
    server.misbehave = mode
    with pytest.raises(BackendError, match=message) as err:
        client.list()
    assert "\n" not in str(err.value)


def test_absent_socket(client: NativeClient) -> None:
    assert not client.available()
    with pytest.raises(BackendError, match="native manager at .*: no socket"):
        client.list()


def test_logs_are_read_from_the_log_files(client: NativeClient, server: NativeServer, runtime: Path) -> None:
    assert client.logs("web") == ["GET / 200", "GET /x 404", "[stderr] warn"]
    log = runtime / "processes" / "logs" / "web.stdout.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    assert client.logs("web", 3) == ["line 998", "line 999", "[stderr] warn"][-3:]
    stop = threading.Event()
    seen: list[str] = []
    t = threading.Thread(target=lambda: seen.extend(client.follow("web", stop, poll_s=0.05)), daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while len(seen) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.emit_log("web", "fresh line")
    server.emit_log("web", "bad thing", stream="stderr")
    while "[stderr] bad thing" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    t.join(5)
    assert seen[-2:] == ["fresh line", "[stderr] bad thing"]
    assert seen[199] == "[stderr] warn" and len(seen) == 202


def test_collect_uses_native_and_joins_a_real_process_by_port(project: Path, env: dict[str, str], server: NativeServer) -> None:
    code = (
        "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        "print(s.getsockname()[1], flush=True); time.sleep(300)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=project, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        port = int(proc.stdout.readline())
        server.processes["web"].ports = {"http": port}
        mon = ProcessMonitor(project, env, timeout_s=0.5)
        deadline = time.monotonic() + 30
        while True:
            snap = mon.collect()
            web = snap.get("web")
            if web and web.pid == proc.pid or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert snap.backend == "native" and snap.error is None
        assert [p.name for p in snap.processes] == ["web", "worker", "db", "once"]
        assert web.pid == proc.pid and web.rss and web.port_checks[0].accepting is True
        assert snap.get("worker").pid is None  # nothing in the scan matches it
        mon.restart("worker")
        # The first poll starts the event stream in a thread (`mode`, then `attach`, each on its own
        # connection), so the daemon may see those before or after the restart: the order is not the contract.
        assert server.requests.count({"command": "restart", "name": "worker"}) == 1
        # Whichever order it came in, the list shows the restart (from the stream's snapshot or event, or a poll).
        while (worker := mon.collect().get("worker")) is None or worker.restarts != 3:
            assert time.monotonic() < deadline, worker
            time.sleep(0.05)
        assert worker.state == "ready"
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


@pytest.mark.parametrize("mode", ["hang", "close_mid_line", "garbage"])
def test_broken_manager_falls_back_to_psutil_and_says_why(project: Path, env: dict[str, str], server: NativeServer, mode: str) -> None:
    server.misbehave = mode
    snap = ProcessMonitor(project, env, timeout_s=0.5).collect()
    assert snap.backend == "psutil"
    assert snap.error is not None and "native manager at" in snap.error
    assert any(n.startswith("native: ") and "trying the next backend" in n for n in snap.notes)


def test_absent_socket_falls_back_quietly(project: Path, env: dict[str, str]) -> None:
    snap = ProcessMonitor(project, env).collect()
    assert snap.backend == "psutil" and snap.error is None
    assert any("native: no socket at" in n for n in snap.notes)
    assert any("process-compose: no socket at" in n for n in snap.notes)


def test_a_failed_manager_is_not_asked_again_for_a_while(project: Path, env: dict[str, str], server: NativeServer) -> None:
    server.misbehave = "hang"
    mon = ProcessMonitor(project, env, timeout_s=0.5)
    mon.retry_after_s = 3.0
    first = mon.collect()
    asked = len(server.requests)
    second = mon.collect()
    assert len(server.requests) == asked  # the hung socket costs one timeout, not one per refresh
    assert second.backend == "psutil" and second.error == first.error
    assert any(n.startswith("native: not asked again for") for n in second.notes)
    server.misbehave = None
    server.release.set()
    deadline = time.monotonic() + 30
    while (snap := mon.collect()).backend != "native":
        assert time.monotonic() < deadline, snap.notes
        time.sleep(0.2)
    assert snap.error is None and len(server.requests) > asked
