"""A stand-in for devenv's native process manager: NDJSON over a Unix socket, one answer per request line.

`NativeServer(socket_path, processes)` serves `list`, `status`, `logs`, `restart`, `start`, `stop`,
`ports`, `wait`, `mode` and `attach` (snapshot, then status and log events as processes change);
`version="2.1"` is a daemon from before `attach` (it answers an error, as to any unknown command). Set
`misbehave` to "hang", "trickle" (one byte every 0.2 s), "close_mid_line", "garbage", "no_status" or
"wrong_status" to break it; requests are recorded in `requests`. Run it by hand: `python -m tests.standins.native_server SOCKET [RUNTIME_DIR]`.
"""

from __future__ import annotations

import json
import socketserver
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class NativeProcess:
    name: str
    phase: str = "ready"
    restart_count: int = 0
    ports: dict[str, int] = field(default_factory=dict)  # port name → port
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def info(self) -> dict[str, object]:
        return {
            "name": self.name,
            "phase": self.phase,
            "restart_count": self.restart_count,
            "ports": [f"{k}:{v}" for k, v in self.ports.items()],
        }


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        owner = self.server.owner
        for raw in self.rfile:
            if not raw.strip():
                continue
            try:
                req = json.loads(raw)
            except ValueError:
                self._send({"status": "error", "message": "invalid request: not JSON"})
                continue
            owner.requests.append(req)
            mode = owner.misbehave
            if mode == "hang":
                owner.release.wait(30)
                return
            if mode == "close_mid_line":
                self.wfile.write(b'{"status": "process_list", "processes": [{"na')
                self.wfile.flush()
                return
            if mode == "trickle":
                for byte in b'{"status": "process_list", "processes": []}\n':
                    if owner.release.wait(0.2):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                continue
            if mode == "garbage":
                self.wfile.write(b"\x00\xffthis is not json at all\n")
                self.wfile.flush()
                continue
            if mode == "no_status":
                self._send({"processes": []})
                continue
            if mode == "wrong_status":
                self._send({"status": "mode", "mode": "daemon"})
                continue
            if req.get("command") == "attach" and owner.version != "2.1":
                self._attach()
                return
            self._send(owner.answer(req))

    def _send(self, obj: dict[str, object]) -> None:
        self.wfile.write(json.dumps(obj).encode() + b"\n")
        self.wfile.flush()

    def _attach(self) -> None:
        owner = self.server.owner
        q: list[dict[str, object]] = []
        cond = threading.Condition()
        with owner.lock:
            owner.watchers.append((q, cond))
            snapshot = {"event": "snapshot", "processes": [p.info() for p in owner.processes.values()]}
        try:
            self._send(snapshot)
            while not owner.stopping.is_set():
                with cond:
                    cond.wait_for(lambda: q or owner.stopping.is_set(), timeout=0.2)
                    events, q[:] = list(q), []
                for ev in events:
                    self._send(ev)
        except OSError:
            pass
        finally:
            with owner.lock:
                owner.watchers.remove((q, cond))


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: NativeServer


class NativeServer:
    """Serves on `socket_path` in a background thread; use as a context manager."""

    def __init__(
        self,
        socket_path: Path | str,
        processes: list[NativeProcess] | None = None,
        *,
        runtime: Path | None = None,
        mode: str = "daemon",
        version: str = "2.2",
    ) -> None:
        self.socket_path = Path(socket_path)
        self.version = version
        self.processes = {p.name: p for p in processes or []}
        self.runtime = runtime
        self.mode = mode
        self.misbehave: str | None = None
        self.requests: list[dict[str, object]] = []
        self.lock = threading.Lock()
        self.watchers: list[tuple[list[dict[str, object]], threading.Condition]] = []
        self.release = threading.Event()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> NativeServer:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        self._server = _Server(str(self.socket_path), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.write_logs()
        return self

    def close(self) -> None:
        self.stopping.set()
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.socket_path.exists():
            self.socket_path.unlink()

    def __enter__(self) -> NativeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ behaviour

    def write_logs(self) -> None:
        """Write each process's lines where devenv keeps them: `$DEVENV_RUNTIME/processes/logs/`."""
        if self.runtime is None:
            return
        logs = self.runtime / "processes" / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for p in self.processes.values():
            (logs / f"{p.name}.stdout.log").write_text("".join(f"{ln}\n" for ln in p.stdout))
            (logs / f"{p.name}.stderr.log").write_text("".join(f"{ln}\n" for ln in p.stderr))

    def _changed(self, p: NativeProcess) -> None:
        for q, cond in self.watchers:
            with cond:
                q.append({"event": "status", "info": p.info()})
                cond.notify()

    def set_phase(self, name: str, phase: str, *, restarted: bool = False) -> None:
        """Change a process as the manager would on its own (a crash, a restart); attached clients see it."""
        with self.lock:
            p = self.processes[name]
            p.phase = phase
            if restarted:
                p.restart_count += 1
            self._changed(p)

    def emit_log(self, name: str, line: str, stream: str = "stdout") -> None:
        """Append a line to a process's log (file and attached watchers)."""
        with self.lock:
            p = self.processes[name]
            (p.stdout if stream == "stdout" else p.stderr).append(line)
            if self.runtime is not None:
                with open(self.runtime / "processes" / "logs" / f"{name}.{stream}.log", "a") as fh:
                    fh.write(line + "\n")
            for q, cond in self.watchers:
                with cond:
                    q.append({"event": "log", "name": name, "stream": stream, "line": line})
                    cond.notify()

    def answer(self, req: dict[str, object]) -> dict[str, object]:
        cmd = req.get("command")
        with self.lock:
            if cmd == "list":
                return {"status": "process_list", "processes": [p.info() for p in self.processes.values()]}
            if cmd == "ports":
                return {
                    "status": "port_allocations",
                    "ports": [
                        {"process_name": p.name, "port_name": k, "port": v} for p in self.processes.values() for k, v in p.ports.items()
                    ],
                }
            if cmd == "mode":
                return {"status": "mode", "mode": self.mode}
            if cmd == "wait":
                return {"status": "ready"}
            if cmd == "start":
                names = req.get("names")
                if not isinstance(names, list):
                    return {"status": "error", "message": "start needs a list of names"}
                outcome: dict[str, list[str]] = {"scheduled": [], "skipped": [], "unknown": [], "failed": []}
                for n in names:
                    p = self.processes.get(str(n))
                    if p is None:
                        outcome["unknown"].append(str(n))
                    elif p.phase in ("ready", "starting", "waiting"):
                        outcome["skipped"].append(p.name)
                    else:
                        p.phase = "ready"
                        outcome["scheduled"].append(p.name)
                        self._changed(p)
                return {"status": "start", "outcome": outcome}
            if cmd in ("status", "logs", "restart", "stop"):
                name = req.get("name")
                p = self.processes.get(str(name))
                if p is None:
                    return {"status": "error", "message": f"no such process: {name}"}
                if cmd == "status":
                    return {"status": "process_detail", "info": p.info()}
                if cmd == "logs":
                    n = req.get("lines") if isinstance(req.get("lines"), int) else 100
                    return {
                        "status": "process_logs",
                        "stdout": "".join(f"{ln}\n" for ln in p.stdout[-n:]),
                        "stderr": "".join(f"{ln}\n" for ln in p.stderr[-n:]),
                    }
                if cmd == "restart":
                    p.restart_count += 1
                    p.phase = "ready"
                else:
                    p.phase = "stopped"
                self._changed(p)
                return {"status": "ok"}
            return {"status": "error", "message": f"unknown command: {cmd}"}


def main(argv: list[str]) -> int:
    sock = Path(argv[0])
    runtime = Path(argv[1]) if len(argv) > 1 else None
    procs = [
        NativeProcess("web", ports={"http": 8000}, stdout=["serving on 8000"]),
        NativeProcess("worker", phase="starting", stdout=["tick"]),
    ]
    with NativeServer(sock, procs, runtime=runtime):
        print(f"native stand-in on {sock}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
