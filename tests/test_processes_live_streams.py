"""Process changes arrive from the managers' event streams (native `attach`, process-compose
`/process/states/ws`) instead of a poll, and managers without a stream are still polled."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omni_tui.core.processes import DevenvPaths, ProcessMonitor
from omni_tui.core.processes.live import parse_version
from tests.standins.compose_server import ComposeProcess, ComposeServer
from tests.standins.native_server import NativeProcess, NativeServer


def until(cond: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def short_dir(tmp_path: Path) -> Iterator[Path]:
    # Unix socket paths are limited to 108 bytes.
    d = Path("/tmp") / f"omni-live-{os.getpid()}-{tmp_path.name[-12:]}"
    d.mkdir(parents=True, exist_ok=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _native(project: Path, runtime: Path, version: str) -> tuple[NativeServer, dict[str, str]]:
    env = {"DEVENV_ROOT": str(project), "DEVENV_RUNTIME": str(runtime)}
    procs = [NativeProcess("web", phase="ready", ports={"http": 8000}), NativeProcess("worker", phase="ready")]
    return NativeServer(DevenvPaths.for_root(project, env).native_socket, procs, version=version), env


def _lists(srv: NativeServer) -> int:
    return sum(1 for r in srv.requests if r.get("command") == "list")


def test_native_changes_come_from_attach_without_polling(project: Path, short_dir: Path) -> None:
    srv, env = _native(project, short_dir, "2.2")
    with srv:
        mon = ProcessMonitor(project, env, timeout_s=2.0)
        assert mon.collect().backend == "native"
        live = mon.live(mon.native)
        until(lambda: live.streaming, what="the attach stream")
        assert [r.get("command") for r in srv.requests][:3] == ["list", "mode", "attach"]
        polled = _lists(srv)
        mon.changed.clear()
        srv.set_phase("worker", "exited")
        assert mon.wait_for_change(10), "the stream's change must wake a waiting poller"
        snap = mon.collect()
        assert snap.get("worker").state == "exited"
        srv.set_phase("worker", "ready", restarted=True)
        until(lambda: (w := mon.collect().get("worker")) and w.state == "ready" and w.restarts == 1, what="restart")
        assert _lists(srv) == polled, "while attached, nothing is polled"
    mon.close()


def test_a_native_21_daemon_without_attach_is_polled(project: Path, short_dir: Path) -> None:
    srv, env = _native(project, short_dir, "2.1")
    with srv:
        mon = ProcessMonitor(project, env, timeout_s=2.0)
        assert mon.collect().backend == "native"
        live = mon.live(mon.native)
        until(lambda: live.mode == "unsupported", what="the probe to give up on attach")
        srv.set_phase("worker", "exited")
        snap = mon.collect()
        assert snap.backend == "native" and snap.get("worker").state == "exited"
        before = _lists(srv)
        mon.collect()
        assert _lists(srv) == before + 1  # polled, and not probed again
        assert sum(1 for r in srv.requests if r.get("command") == "attach") == 1


def _compose(sock: Path, version: str, token: str | None = None) -> ComposeServer:
    return ComposeServer(
        sock,
        [ComposeProcess("web", is_ready="Ready", has_ready_probe=True, age_s=90), ComposeProcess("worker")],
        version=version,
        token=token,
    )


def _gets(srv: ComposeServer, path: str) -> int:
    return sum(1 for method, p, _h in srv.requests if method == "GET" and p.split("?")[0] == path)


def test_compose_changes_come_from_the_states_websocket_with_the_token(project: Path, short_dir: Path) -> None:
    with _compose(short_dir / "pc.sock", "v1.122.0", token="s3cret") as srv:
        env = {"PC_SOCKET_PATH": str(srv.socket_path), "PC_API_TOKEN": "s3cret"}
        mon = ProcessMonitor(project, env, timeout_s=2.0)
        assert mon.collect().backend == "process-compose"
        live = mon.live(mon.compose)
        until(lambda: live.streaming, what="the state stream")
        ws = [h for method, p, h in srv.requests if p.startswith("/process/states/ws")]
        assert len(ws) == 1 and ws[0].get("X-PC-Token-Key") == "s3cret"
        assert _gets(srv, "/project/state") == 1
        polled = _gets(srv, "/processes")
        mon.changed.clear()
        srv.set_status("worker", "Error", exit_code=3)
        assert mon.wait_for_change(10)
        until(lambda: mon.collect().get("worker").state == "failed", what="worker failed")
        assert mon.collect().get("worker").exit_code == 3
        assert _gets(srv, "/processes") == polled, "while streaming, nothing is polled"
        web = mon.collect().get("web")
        assert web.uptime_s is not None and web.uptime_s >= 90
    mon.close()


def test_compose_before_1_110_is_polled_and_never_asked_for_the_stream(project: Path, short_dir: Path) -> None:
    with _compose(short_dir / "pc.sock", "v1.94.0") as srv:
        mon = ProcessMonitor(project, {"PC_SOCKET_PATH": str(srv.socket_path)}, timeout_s=2.0)
        mon.collect()
        live = mon.live(mon.compose)
        until(lambda: live.mode == "unsupported", what="the version check")
        srv.set_status("worker", "Completed", exit_code=0)
        assert mon.collect().get("worker").state == "exited"
        assert _gets(srv, "/process/states/ws") == 0


def test_a_dropped_compose_stream_falls_back_to_polling(project: Path, short_dir: Path) -> None:
    with _compose(short_dir / "pc.sock", "v1.122.0") as srv:
        srv.ws_drop_after_snapshot = True
        mon = ProcessMonitor(project, {"PC_SOCKET_PATH": str(srv.socket_path)}, timeout_s=2.0)
        mon.collect()
        live = mon.live(mon.compose)
        until(lambda: _gets(srv, "/process/states/ws") >= 1 and not live.streaming and live.why, what="the drop")
        srv.set_status("worker", "Error", exit_code=2)
        until(lambda: mon.collect().get("worker").state == "failed", what="the change, polled")


def test_versions_are_read_as_process_compose_writes_them() -> None:
    assert parse_version("v1.122.0") == (1, 122, 0) and parse_version("1.110.0-rc1") == (1, 110, 0)
    assert parse_version("dev") is None and parse_version(None) is None
