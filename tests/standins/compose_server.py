"""A stand-in for process-compose's REST API (v1.122 OpenAPI spec) over a Unix socket.

Serves `GET /live`, `/processes`, `/process/{name}`, `/process/ports/{name}`,
`/process/logs/{name}/{endOffset}/{limit}`, `/project/state`, `POST /process/restart|start/{name}`,
`PATCH /process/stop/{name}`, and the WebSockets `/process/logs/ws` and `/process/states/ws`
(`no_ws=True` answers 404 on both; a `version` before v1.110 answers 404 on `/process/states/ws`, which
those versions lack). The states stream sends `{"snapshot": true, "state": ...}` per process, then
`{"snapshot": false, "state": ...}` whenever a process's state changes, until the client hangs up. A `token` makes every request need
`X-PC-Token-Key`. `misbehave` = "hang", "trickle" (a byte every 0.2 s), "close_mid_line", "garbage",
"no_answer" or "error" breaks it. Requests are recorded as (method, path, headers). Run by hand: `python -m tests.standins.compose_server SOCKET`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socketserver
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class ComposeProcess:
    name: str
    status: str = "Running"
    is_ready: str = "-"
    has_ready_probe: bool = False
    restarts: int = 0
    exit_code: int = 0
    pid: int = 0
    mem: int = 0
    cpu: float = 0.0
    age_s: float = 1.0
    tcp_ports: list[int] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def state(self) -> dict[str, object]:
        running = self.status in ("Running", "Launched", "Foreground", "Restarting", "Terminating")
        return {
            "name": self.name,
            "namespace": ["default"],
            "status": self.status,
            "is_running": running,
            "is_ready": self.is_ready,
            "has_ready_probe": self.has_ready_probe,
            "restarts": self.restarts,
            "exit_code": self.exit_code,
            "pid": self.pid if running else 0,
            "mem": self.mem if running else 0,
            "cpu": self.cpu if running else 0.0,
            "age": int(self.age_s * 1e9) if running else 0,
            "system_time": "",
            "is_elevated": False,
            "password_provided": False,
            "process_start_time": "2026-11-26T10:00:00Z",
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server | _TCPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def address_string(self) -> str:
        return "unix"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        owner.requests.append((method, self.path, dict(self.headers.items())))
        mode = owner.misbehave
        if mode == "hang":
            owner.release.wait(30)
            self.close_connection = True
            return
        if mode == "trickle":
            for byte in b'HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{"data": []}':
                if owner.release.wait(0.2):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            self.close_connection = True
            return
        if mode == "no_answer":
            self.close_connection = True
            return
        if mode == "garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2 not http\r\n\r\n")
            self.close_connection = True
            return
        if mode == "close_mid_line":
            self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"data": [{"na')
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "error":
            self._json(500, {"error": "internal error: project is shutting down"})
            return
        if owner.token and self.headers.get("X-PC-Token-Key") != owner.token:
            self._json(401, {"error": "invalid or missing token"})
            return
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if method == "GET" and url.path in ("/process/logs/ws", "/process/states/ws"):
            if owner.no_ws or (url.path == "/process/states/ws" and not owner.has_states_ws()):
                self._text(404, "404 page not found")
                return
            self._websocket(url.path, parse_qs(url.query))
            return
        code, body = owner.route(method, parts)
        self._json(code, body)

    def _json(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _text(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # ------------------------------------------------------------ WebSocket (server side)

    def _websocket(self, path: str, query: dict[str, list[str]]) -> None:
        owner = self.server.owner
        key = self.headers.get("Sec-WebSocket-Key")
        if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self._json(400, {"error": "expected a WebSocket upgrade"})
            return
        names = [n for n in ",".join(query.get("name", [])).split(",") if n]
        if path == "/process/logs/ws" and (not names or any(n not in owner.processes for n in names)):
            self._json(400, {"error": f"process {','.join(names) or '(none)'} does not exist"})
            return
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            if path == "/process/logs/ws":
                self._stream_logs(names, int((query.get("offset") or ["0"])[0]), (query.get("follow") or ["false"])[0] == "true")
            else:
                self._stream_states(names)
        except OSError:
            pass

    def _stream_states(self, names: list[str]) -> None:
        owner = self.server.owner
        sent: dict[str, dict[str, object]] = {}
        with owner.lock:
            for p in owner.processes.values():
                if not names or p.name in names:
                    sent[p.name] = p.state()
                    self._frame(json.dumps({"snapshot": True, "state": sent[p.name]}).encode())
        if owner.ws_drop_after_snapshot:
            return
        while not owner.stopping.is_set():
            with owner.changed:
                owner.changed.wait(timeout=0.1)
                changed = [p.state() for p in owner.processes.values() if (not names or p.name in names) and sent.get(p.name) != p.state()]
            for state in changed:
                sent[str(state["name"])] = state
                self._frame(json.dumps({"snapshot": False, "state": state}).encode())
        self._frame(b"", opcode=0x8)

    def _stream_logs(self, names: list[str], offset: int, follow: bool) -> None:
        owner = self.server.owner
        sent: dict[str, int] = {}
        with owner.lock:
            for n in names:
                lines = owner.processes[n].logs
                for line in lines[max(0, len(lines) - offset) :] if offset > 0 else []:
                    self._frame(json.dumps({"message": line, "process_name": n}).encode())
                sent[n] = len(lines)
        if owner.ws_drop_after_snapshot:
            return
        while follow and not owner.stopping.is_set():
            with owner.changed:
                owner.changed.wait(timeout=0.1)
                pending = [(n, owner.processes[n].logs[sent[n] :]) for n in names]
                for n, new in pending:
                    sent[n] += len(new)
            for n, new in pending:
                for line in new:
                    self._frame(json.dumps({"message": line, "process_name": n}).encode())
            if owner.ws_ping:
                self._frame(b"keep-alive", opcode=0x9)
        self._frame(b"", opcode=0x8)

    def _frame(self, payload: bytes, opcode: int = 0x1) -> None:
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, n])
        elif n < 1 << 16:
            head = bytes([0x80 | opcode, 126]) + struct.pack("!H", n)
        else:
            head = bytes([0x80 | opcode, 127]) + struct.pack("!Q", n)
        self.wfile.write(head + payload)
        self.wfile.flush()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    owner: ComposeServer

    def get_request(self):  # type: ignore[no-untyped-def]
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ComposeServer


class ComposeServer:
    """Serves on `socket_path` (or TCP 127.0.0.1:`tcp_port` when `socket_path` is None; 0 = any free port)
    in a background thread; use as a context manager. `port` is the TCP port once started."""

    def __init__(
        self,
        socket_path: Path | str | None,
        processes: list[ComposeProcess] | None = None,
        *,
        token: str | None = None,
        no_ws: bool = False,
        version: str = "v1.122.0",
        tcp_port: int = 0,
    ) -> None:
        self.socket_path = Path(socket_path) if socket_path is not None else None
        self.tcp_port = tcp_port
        self.port: int | None = None
        self.processes = {p.name: p for p in processes or []}
        self.token = token
        self.no_ws = no_ws
        self.version = version
        self.misbehave: str | None = None
        self.ws_drop_after_snapshot = False
        self.ws_ping = False
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.release = threading.Event()
        self.stopping = threading.Event()
        self._server: _Server | None = None

    def start(self) -> ComposeServer:
        if self.socket_path is None:
            self._server = _TCPServer(("127.0.0.1", self.tcp_port), _Handler)  # type: ignore[assignment]
            self.port = self._server.server_address[1]
        else:
            self.socket_path.parent.mkdir(parents=True, exist_ok=True)
            if self.socket_path.exists():
                self.socket_path.unlink()
            self._server = _Server(str(self.socket_path), _Handler)
        self._server.owner = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def close(self) -> None:
        self.stopping.set()
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.socket_path is not None and self.socket_path.exists():
            self.socket_path.unlink()

    def __enter__(self) -> ComposeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has_states_ws(self) -> bool:
        """`/process/states/ws` exists from v1.110 on."""
        digits = [int(x) for x in self.version.lstrip("v").split("-")[0].split(".")[:3] if x.isdigit()]
        return tuple(digits) >= (1, 110, 0)

    def set_status(self, name: str, status: str, **changes: object) -> None:
        """Change a process as process-compose would on its own (a crash, a restart); streams see it."""
        with self.changed:
            p = self.processes[name]
            p.status = status
            for key, value in changes.items():
                setattr(p, key, value)
            self.changed.notify_all()

    def emit_log(self, name: str, line: str) -> None:
        with self.changed:
            self.processes[name].logs.append(line)
            self.changed.notify_all()

    def route(self, method: str, parts: list[str]) -> tuple[int, object]:
        with self.changed:
            if method == "GET" and parts == ["live"]:
                return 200, {"status": "alive"}
            if method == "GET" and parts == ["processes"]:
                return 200, {"data": [p.state() for p in self.processes.values()]}
            if method == "GET" and parts == ["project", "state"]:
                running = sum(1 for p in self.processes.values() if p.state()["is_running"])
                return 200, {
                    "projectName": "standin",
                    "processNum": len(self.processes),
                    "runningProcessNum": running,
                    "startTime": "2026-11-26T10:00:00Z",
                    "upTime": 60_000_000_000,
                    "userName": "root",
                    "version": self.version,
                    "fileNames": ["process-compose.yml"],
                    "memoryState": None,
                }
            name = parts[-1] if parts else ""
            if method == "GET" and len(parts) == 5 and parts[:2] == ["process", "logs"]:
                name = parts[2]
            p = self.processes.get(name)
            if p is None:
                return 400, {"error": f"process {name} does not exist"}
            if method == "GET" and parts == ["process", name]:
                return 200, p.state()
            if method == "GET" and parts == ["process", "ports", name]:
                return 200, {"name": name, "tcp_ports": p.tcp_ports, "udp_ports": []}
            if method == "GET" and len(parts) == 5 and parts[:2] == ["process", "logs"]:
                try:
                    end, limit = int(parts[3]), int(parts[4])
                except ValueError:
                    return 400, {"error": "endOffset and limit must be integers"}
                lines = p.logs[: len(p.logs) - end] if end > 0 else list(p.logs)
                return 200, {"logs": lines[-limit:] if limit > 0 else lines}
            if method == "POST" and parts == ["process", "restart", name]:
                p.restarts += 1
                p.status = "Running"
                self.changed.notify_all()
                return 200, {"name": name}
            if method == "POST" and parts == ["process", "start", name]:
                if p.status in ("Running", "Pending"):
                    return 400, {"error": f"process {name} is already running"}
                p.status = "Running"
                self.changed.notify_all()
                return 200, {"name": name}
            if method == "PATCH" and parts == ["process", "stop", name]:
                if p.status not in ("Running", "Launched", "Foreground"):
                    return 400, {"error": f"process {name} is not running"}
                p.status, p.exit_code = "Completed", -1
                self.changed.notify_all()
                return 200, {"name": name}
            return 404, {"error": "404 page not found"}


def main(argv: list[str]) -> int:
    sock = Path(argv[0])
    procs = [
        ComposeProcess("web", is_ready="Ready", has_ready_probe=True, logs=["listening on 8000"]),
        ComposeProcess("worker", logs=["tick"]),
    ]
    with ComposeServer(sock, procs):
        print(f"process-compose stand-in on {sock}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
