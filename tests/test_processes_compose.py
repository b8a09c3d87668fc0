"""The process-compose client against the stand-in over a real Unix socket, and the fallback to psutil."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omni_tui.core.errors import BackendError
from omni_tui.core.processes import DevenvPaths, ProcessMonitor
from omni_tui.core.processes.compose import ComposeClient
from tests.standins.compose_server import ComposeProcess, ComposeServer


@pytest.fixture
def sock_dir(tmp_path: Path) -> Iterator[Path]:
    d = Path("/tmp") / f"omni-pc-{os.getpid()}-{tmp_path.name[-12:]}"
    d.mkdir(parents=True, exist_ok=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _procs() -> list[ComposeProcess]:
    return [
        ComposeProcess(
            "web",
            status="Running",
            is_ready="Ready",
            has_ready_probe=True,
            pid=0,
            mem=1024,
            cpu=2.5,
            age_s=90,
            logs=[f"web {i}" for i in range(5)],
        ),
        ComposeProcess("worker", status="Running", restarts=1, logs=["tick"]),
        ComposeProcess("migrate", status="Completed", exit_code=0),
        ComposeProcess("broken", status="Error", exit_code=1),
        ComposeProcess("later", status="Pending"),
        ComposeProcess("off", status="Disabled"),
    ]


@pytest.fixture
def server(sock_dir: Path) -> Iterator[ComposeServer]:
    with ComposeServer(sock_dir / "pc.sock", _procs()) as srv:
        yield srv


@pytest.fixture
def client(server: ComposeServer) -> ComposeClient:
    return ComposeClient(socket_path=server.socket_path, timeout_s=0.5)


def test_processes_are_normalised(client: ComposeClient, server: ComposeServer) -> None:
    procs = {p.name: p for p in client.list()}
    assert {n: (p.state, p.raw_state) for n, p in procs.items()} == {
        "web": ("ready", "Running"),
        "worker": ("running", "Running"),
        "migrate": ("exited", "Completed"),
        "broken": ("failed", "Error"),
        "later": ("starting", "Pending"),
        "off": ("stopped", "Disabled"),
    }
    web = procs["web"]
    assert web.ready is True and web.cpu_percent == 2.5 and web.rss == 1024 and web.uptime_s == pytest.approx(90)
    assert procs["worker"].ready is None and procs["worker"].restarts == 1
    assert procs["broken"].exit_code == 1 and procs["broken"].pid is None
    method, path, headers = server.requests[-1]
    assert (method, path, headers["Host"]) == ("GET", "/processes", "unix")
    assert "X-PC-Token-Key" not in headers


def test_every_request_type(client: ComposeClient, server: ComposeServer) -> None:
    assert client.live() is True
    assert client.status("web").state == "ready"
    assert client.logs("web", 2) == ["web 3", "web 4"]
    assert client.logs("web", 0) == [f"web {i}" for i in range(5)]
    assert client.ports("web") == ()
    assert client.project_state()["processNum"] == 6
    client.restart("worker")
    assert client.status("worker").restarts == 2
    client.stop("worker")
    assert client.status("worker").state == "exited"
    client.start("worker")
    assert client.status("worker").state == "running"
    calls = [(m, p) for m, p, _ in server.requests]
    assert calls == [
        ("GET", "/live"),
        ("GET", "/process/web"),
        ("GET", "/process/logs/web/0/2"),
        ("GET", "/process/logs/web/0/0"),
        ("GET", "/process/ports/web"),
        ("GET", "/project/state"),
        ("POST", "/process/restart/worker"),
        ("GET", "/process/worker"),
        ("PATCH", "/process/stop/worker"),
        ("GET", "/process/worker"),
        ("POST", "/process/start/worker"),
        ("GET", "/process/worker"),
    ]


def test_error_answers_become_one_line_errors(client: ComposeClient) -> None:
    with pytest.raises(BackendError, match=r"^process-compose: process nope does not exist \(HTTP 400 for PATCH /process/stop/nope\)$"):
        client.stop("nope")
    with pytest.raises(BackendError, match="process web is already running"):
        client.start("web")


def test_token_header_is_sent_and_required(sock_dir: Path) -> None:
    with ComposeServer(sock_dir / "pc.sock", _procs(), token="s3cret") as srv:
        with pytest.raises(BackendError, match=r"refused GET /processes \(HTTP 401: check PC_API_TOKEN\)"):
            ComposeClient(socket_path=srv.socket_path, timeout_s=0.5).list()
        assert len(ComposeClient(socket_path=srv.socket_path, token="s3cret").list()) == 6
        assert srv.requests[-1][2]["X-PC-Token-Key"] == "s3cret"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("hang", r"process-compose at .*pc\.sock: no answer to GET /processes within 0\.5 s"),
        ("trickle", r"process-compose at .*pc\.sock: no answer to GET /processes within 0\.5 s"),
        ("close_mid_line", r"process-compose at .*pc\.sock: closed the connection mid-answer to GET /processes"),
        ("garbage", r"process-compose at .*pc\.sock: answered GET /processes with garbage"),
        ("no_answer", r"process-compose at .*pc\.sock: closed the connection without answering GET /processes"),
        ("error", r"process-compose: internal error: project is shutting down \(HTTP 500 for GET /processes\)"),
    ],
)
def test_misbehaving_server(client: ComposeClient, server: ComposeServer, mode: str, message: str) -> None:
    server.misbehave = mode
    with pytest.raises(BackendError, match=message) as err:
        client.list()
    assert "\n" not in str(err.value)


def _follow(client: ComposeClient, name: str, **kw: object) -> tuple[list[str], threading.Event, threading.Thread]:
    seen: list[str] = []
    stop = threading.Event()
    t = threading.Thread(target=lambda: seen.extend(client.follow(name, stop, poll_s=0.05, **kw)), daemon=True)
    t.start()
    return seen, stop, t


def _until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("no_ws", [False, True], ids=["websocket", "polling"])
def test_follow_logs(sock_dir: Path, no_ws: bool) -> None:
    with ComposeServer(sock_dir / "pc.sock", _procs(), no_ws=no_ws) as srv:
        srv.ws_ping = True
        client = ComposeClient(socket_path=srv.socket_path, timeout_s=0.5)
        seen, stop, t = _follow(client, "web", lines=3)
        _until(lambda: len(seen) >= 3)
        srv.emit_log("web", "new 1")
        srv.emit_log("worker", "not mine")
        srv.emit_log("web", "new 2")
        _until(lambda: len(seen) >= 5)
        stop.set()
        t.join(5)
        assert seen == ["web 2", "web 3", "web 4", "new 1", "new 2"]
        ws_calls = [p for m, p, _ in srv.requests if p.startswith("/process/logs/ws")]
        assert ws_calls == ["/process/logs/ws?name=web&offset=3&follow=true"]
        polled = [p for m, p, _ in srv.requests if p.startswith("/process/logs/web/")]
        assert bool(polled) is no_ws


def test_follow_falls_back_to_polling_when_the_stream_drops(client: ComposeClient, server: ComposeServer) -> None:
    server.ws_drop_after_snapshot = True
    seen, stop, t = _follow(client, "web", lines=2)
    _until(lambda: len(seen) >= 2)
    # The stream dropped: the follower is on the polling endpoint before the next line is logged.
    _until(lambda: any(p.startswith("/process/logs/web/") for _, p, _ in server.requests))
    server.emit_log("web", "after drop")
    _until(lambda: "after drop" in seen)
    stop.set()
    t.join(5)
    assert seen == ["web 3", "web 4", "after drop"]


def test_collect_uses_process_compose_and_joins_by_pid(project: Path, sock_dir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], cwd=project, start_new_session=True)
    try:
        procs = _procs()
        procs[1].pid = proc.pid
        with ComposeServer(sock_dir / "pc.sock", procs, token="tok") as srv:
            env = {"PC_SOCKET_PATH": str(srv.socket_path), "PC_API_TOKEN": "tok"}
            mon = ProcessMonitor(project, env, timeout_s=0.5)
            snaps = [mon.collect()]
            # CPU% needs two samples of the process some time apart: collect again until it is known.
            _until(lambda: snaps.append(mon.collect()) or snaps[-1].get("worker").cpu_percent is not None)
            snap = snaps[-1]
            assert snap.backend == "process-compose" and snap.error is None
            worker = snap.get("worker")
            assert worker.pid == proc.pid and worker.rss and worker.rss != 0
            assert worker.cpu_percent is not None and worker.command.endswith("time.sleep(300)")
            assert snap.get("web").rss == 1024  # no pid to join: process-compose's own figures stay
            mon.stop("worker")
            # The state stream's `/project/state` and WebSocket requests run in a thread: they may come after the stop.
            assert [r[:2] for r in srv.requests].count(("PATCH", "/process/stop/worker")) == 1
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def test_default_socket_is_devenvs_pc_sock(project: Path) -> None:
    runtime = Path("/tmp") / f"omni-pcrt-{os.getpid()}"
    env = {"DEVENV_RUNTIME": str(runtime)}
    try:
        with ComposeServer(DevenvPaths.for_root(project, env).compose_socket, _procs()):
            snap = ProcessMonitor(project, env).collect()
        assert snap.backend == "process-compose" and len(snap.processes) == 6
        assert any("native: no socket at" in n for n in snap.notes)
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.parametrize("mode", ["hang", "garbage", "error"])
def test_broken_server_falls_back_to_psutil(project: Path, server: ComposeServer, mode: str) -> None:
    server.misbehave = mode
    snap = ProcessMonitor(project, {"PC_SOCKET_PATH": str(server.socket_path)}, timeout_s=0.5).collect()
    assert snap.backend == "psutil"
    assert snap.error is not None and "process-compose" in snap.error
    assert any(n.startswith("process-compose: ") and "trying the next backend" in n for n in snap.notes)


def test_absent_socket_falls_back(project: Path, sock_dir: Path) -> None:
    snap = ProcessMonitor(project, {"PC_SOCKET_PATH": str(sock_dir / "missing.sock")}).collect()
    assert snap.backend == "psutil" and snap.error is None
    assert any(f"process-compose: no socket at {sock_dir / 'missing.sock'}" in n for n in snap.notes)


def test_tcp_when_pc_port_num_is_set(project: Path) -> None:
    with ComposeServer(None, _procs(), token="tok") as srv:
        env = {"PC_PORT_NUM": str(srv.port), "PC_ADDRESS": "127.0.0.1", "PC_API_TOKEN": "tok"}
        mon = ProcessMonitor(project, env, timeout_s=0.5)
        assert mon.compose.where == f"process-compose at 127.0.0.1:{srv.port}"
        snap = mon.collect()
        assert snap.backend == "process-compose" and len(snap.processes) == 6
        assert srv.requests[-1][2]["Host"] == f"127.0.0.1:{srv.port}"
        seen, stop, t = _follow(mon.compose, "web", lines=1)
        _until(lambda: seen == ["web 4"])
        srv.emit_log("web", "over tcp")
        _until(lambda: "over tcp" in seen)
        stop.set()
        t.join(5)
    # The state stream notices the server is gone within a moment; then the poll says why.
    _until(lambda: mon.collect().backend == "psutil")
    snap = mon.collect()
    assert snap.backend == "psutil" and f"127.0.0.1:{srv.port}: connection refused" in snap.error
