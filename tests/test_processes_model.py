"""DEVENV_RUNTIME as devenv computes it, state normalisation, honcho output splitting, port probes."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest
from conftest import DOCUMENTED_PROCESS_KEYS

from omni_tui.core.processes import STATES, DevenvPaths, ProcessInfo, ProcessSnapshot, runtime_dir
from omni_tui.core.processes.honcho_logs import CapturedOutput, parse_line, short_name
from omni_tui.core.processes.model import NATIVE_PHASES, PortCheck, compose_state
from omni_tui.core.processes.services import PortProber, accepts, listening_ports, listening_sockets


def _digest(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:7]


@pytest.mark.parametrize("dotfile", ["/home/me/proj/.devenv", "/srv/a b/.devenv", "/tmp/x/.devenv-custom"])
@pytest.mark.parametrize(
    ("env", "base"),
    [
        ({"XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000"),
        ({}, "/tmp"),
        ({"XDG_RUNTIME_DIR": ""}, "/tmp"),
    ],
    ids=["xdg-set", "xdg-unset", "xdg-empty"],
)
def test_runtime_dir_follows_devenvs_rule(dotfile: str, env: dict[str, str], base: str) -> None:
    assert runtime_dir(dotfile, env) == Path(base) / f"devenv-{_digest(dotfile)}"


def test_known_digest() -> None:
    # printf '%s' /home/me/proj/.devenv | sha256sum → 2d9843c…
    assert runtime_dir("/home/me/proj/.devenv", {}) == Path("/tmp/devenv-2d9843c")
    assert runtime_dir("/home/me/proj/.devenv", {"XDG_RUNTIME_DIR": "/run/user/1000"}) == Path("/run/user/1000/devenv-2d9843c")


def test_paths_for_a_root(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    paths = DevenvPaths.for_root(root, {"XDG_RUNTIME_DIR": "/run/user/7"})
    assert paths.dotfile == root / ".devenv" and paths.state == root / ".devenv" / "state"
    assert paths.runtime == Path("/run/user/7") / f"devenv-{_digest(str(root / '.devenv'))}"
    assert paths.native_socket == paths.runtime / "processes" / "native.sock"
    assert paths.native_log("web", "stderr") == paths.runtime / "processes" / "logs" / "web.stderr.log"
    assert paths.compose_socket == paths.runtime / "pc.sock"
    assert paths.compose_log == root / ".devenv" / "state" / "process-compose" / "process-compose.log"
    assert paths.manager_pid_file == root / ".devenv" / "processes.pid"
    # DEVENV_* of this root are honoured; those of another project are not.
    mine = DevenvPaths.for_root(root, {"DEVENV_ROOT": str(root), "DEVENV_DOTFILE": "/d", "DEVENV_RUNTIME": "/r"})
    assert (mine.dotfile, mine.state, mine.runtime) == (Path("/d"), Path("/d/state"), Path("/r"))
    other = DevenvPaths.for_root(root, {"DEVENV_ROOT": "/elsewhere", "DEVENV_RUNTIME": "/r"})
    assert other.runtime != Path("/r") and other.dotfile == root / ".devenv"


def test_native_phases_map_to_the_normalised_states() -> None:
    assert NATIVE_PHASES == {
        "not_started": "stopped",
        "stopped": "stopped",
        "waiting": "starting",
        "starting": "starting",
        "ready": "ready",
        "stopping": "stopping",
        "exited": "exited",
        "gave_up": "failed",
    }
    assert set(NATIVE_PHASES.values()) <= set(STATES)


@pytest.mark.parametrize(
    ("status", "ready", "state"),
    [
        ("Running", "Ready", "ready"),
        ("Running", "Not Ready", "running"),
        ("Running", "-", "running"),
        ("Launched", "-", "running"),
        ("Foreground", "-", "running"),
        ("Pending", "-", "starting"),
        ("Launching", "-", "starting"),
        ("Restarting", "-", "starting"),
        ("Scheduled", "-", "starting"),
        ("Terminating", "-", "stopping"),
        ("Completed", "-", "exited"),
        ("Error", "-", "failed"),
        ("Disabled", "-", "stopped"),
        ("Skipped", "-", "stopped"),
        ("Watching", "-", "running"),
    ],
)
def test_compose_statuses(status: str, ready: str, state: str) -> None:
    assert compose_state(status, ready) == state


def test_process_info_json_is_stable() -> None:
    info = ProcessInfo(
        name="web",
        backend="psutil",
        state="ready",
        raw_state="sleeping",
        pid=42,
        cpu_percent=1.234,
        rss=2048,
        uptime_s=3.14159,
        restarts=0,
        ports=(8000,),
        ready=True,
        port_checks=(PortCheck(8000, True),),
        service=None,
        command="python -m http.server",
    )
    doc = json.loads(json.dumps(ProcessSnapshot("psutil", (info,)).to_dict()))
    assert doc == {
        "backend": "psutil",
        "error": None,
        "notes": [],
        "processes": [
            {
                "name": "web",
                "backend": "psutil",
                "state": "ready",
                "raw_state": "sleeping",
                "pid": 42,
                "cpu_percent": 1.2,
                "rss": 2048,
                "uptime_s": 3.1,
                "restarts": 0,
                "ports": [8000],
                "ready": True,
                "port_checks": [{"port": 8000, "accepting": True, "host": "127.0.0.1", "name": None}],
                "service": None,
                "command": "python -m http.server",
                "exit_code": None,
            }
        ],
    }
    assert tuple(doc["processes"][0]) == DOCUMENTED_PROCESS_KEYS  # as `asdict` gave it when ProcessInfo was a dataclass


def test_a_process_info_is_an_immutable_record_equal_by_value() -> None:
    """ProcessInfo is a NamedTuple (no `dataclasses` import for `status`): it keeps what the frozen dataclass
    gave — immutable, equal and hashed by value, a changed copy leaves the original alone — and `started_at`
    stays out of the JSON while the uptime is reckoned from it."""
    info = ProcessInfo("web", "psutil", "running", "sleeping", pid=42, rss=1024, started_at=1000.0)
    with pytest.raises(AttributeError):
        info.pid = 43  # type: ignore[misc]
    same = ProcessInfo("web", "psutil", "running", "sleeping", pid=42, rss=1024, started_at=1000.0)
    assert info == same and hash(info) == hash(same) and len({info, same}) == 1
    stopped = info._replace(state="exited", pid=None)
    assert (stopped.state, stopped.pid, stopped.rss) == ("exited", None, 1024) and info.state == "running"
    assert info.alive and not stopped.alive
    assert info != stopped
    doc = info.to_dict(1012.34)
    assert "started_at" not in doc and doc["uptime_s"] == 12.3
    assert repr(info).startswith("ProcessInfo(name='web', backend='psutil', state='running'")


def test_a_snapshot_is_equal_by_what_it_reports_not_by_the_backend_object_that_answered() -> None:
    """`ProcessSnapshot` is a plain class (cheaper to import than a dataclass): the same equality as before."""
    info = ProcessInfo("web", "psutil", "ready", "sleeping")
    one = ProcessSnapshot("psutil", (info,), taken_at=5.0, control=object())  # type: ignore[arg-type]
    other = ProcessSnapshot("psutil", (info,), taken_at=5.0, control=None)
    assert one == other and not (one != other)
    assert one != ProcessSnapshot("psutil", (info,), taken_at=6.0)
    assert one != ProcessSnapshot("native", (info,), taken_at=5.0)
    assert ProcessSnapshot("psutil").taken_at > 0  # stamped when taken
    with pytest.raises(TypeError):
        hash(one)  # mutable by type, as the dataclass was: not usable as a key
    assert "control" not in repr(one) and "web" in repr(one)


def test_honcho_lines_are_split_per_process() -> None:
    assert parse_line("12:00:01 web.1    | GET / 200\n") == ("web.1", "GET / 200")
    assert parse_line("\x1b[0m\x1b[36m12:00:01 worker.1 | \x1b[0mtick | tock") == ("worker.1", "tick | tock")
    assert parse_line("12:00:01 web.1 | ") == ("web.1", "")
    assert parse_line("Traceback (most recent call last):") is None
    assert short_name("web.1", {"web.1"}) == "web"
    assert short_name("web.1", {"web.1", "web.2"}) == "web.1"
    assert short_name("api.v2", {"api.v2"}) == "api.v2"


def test_captured_output_is_read_incrementally_and_survives_truncation(tmp_path: Path) -> None:
    log = tmp_path / "processes.log"
    log.write_text("10:00:00 system   | web.1 started (pid=100)\n10:00:00 web.1    | one\n10:00:01 web.1    | tw")
    cap = CapturedOutput(log)
    assert cap.refresh() == [("web.1", "one")]
    assert cap.pids == {100: "web.1"} and cap.lines("web") == ["one"]
    with open(log, "a") as fh:
        fh.write("o\n10:00:02 worker.1 | tick\n10:00:03 system   | web.1 stopped (rc=3)\n")
    assert cap.refresh() == [("web.1", "two"), ("worker.1", "tick")]
    assert cap.exit_codes == {"web.1": 3} and cap.lines("web.1", 1) == ["two"]
    assert cap.lines("nope") is None
    log.write_text("11:00:00 system   | web.1 started (pid=200)\n")
    cap.refresh()
    assert cap.pids[200] == "web.1" and cap.lines("web") == [] and cap.exit_codes == {}


def test_port_listing_and_probes() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        import os

        assert ("127.0.0.1", port) in listening_ports(os.getpid(), listening_sockets())
        assert ("127.0.0.1", port) in listening_ports(os.getpid(), None)  # psutil's own way
        assert accepts("127.0.0.1", port)
        prober = PortProber(every_s=60)
        assert prober.check("0.0.0.0", port) == PortCheck(port, True, "127.0.0.1")
    assert not accepts("127.0.0.1", port)
    assert prober.check("0.0.0.0", port, now=10**9).accepting is False  # re-probed once stale


def test_listening_sockets_from_netlink_match_proc_net(monkeypatch: pytest.MonkeyPatch) -> None:
    import omni_tui.core.processes.services as services

    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp on this system")
    with socket.socket() as v4, socket.socket(socket.AF_INET6) as v6, socket.socket() as idle:
        v4.bind(("127.0.0.1", 0))
        v4.listen()
        v6.bind(("::1", 0))
        v6.listen()
        idle.bind(("127.0.0.1", 0))  # bound, not listening: in neither table
        ours = {v4.getsockname()[1], v6.getsockname()[1], idle.getsockname()[1]}
        fast = services.listening_sockets()
        monkeypatch.setattr(services, "_netlink_works", False)
        slow = services.listening_sockets()
        assert fast is not None and slow is not None
        # Other processes on the machine may open or close sockets between the two reads: compare ours.
        assert {i: v for i, v in fast.items() if v[1] in ours} == {i: v for i, v in slow.items() if v[1] in ours}
        assert ("127.0.0.1", v4.getsockname()[1]) in fast.values() and ("::1", v6.getsockname()[1]) in fast.values()
        assert idle.getsockname()[1] not in {port for _addr, port in fast.values()}
