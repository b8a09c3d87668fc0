"""The process-compose client: its REST API over a Unix socket (`Host: unix`) or TCP, and log follow.

Log follow uses `/process/logs/ws` (a minimal RFC 6455 client, text frames only) and falls back to
polling `/process/logs/{name}/{endOffset}/{limit}` on versions without it. Every socket call has a
timeout; anything unexpected becomes a `BackendError` naming where process-compose was reached.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from omni_tui.core.errors import BackendError
from omni_tui.core.processes.model import ProcessInfo, compose_state
from omni_tui.core.processes.runtime import DevenvPaths

if TYPE_CHECKING:
    import http.client
    import socket

# socket, base64 and struct are imported where process-compose is talked to: `status` and the cockpit
# import this module to look for it, and most projects run no process-compose.

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_BODY = 64 << 20


def _unix_connection(path: str, timeout: float) -> http.client.HTTPConnection:
    """HTTP/1.1 over a Unix socket; the Host header is `unix`, as process-compose's own client sends.

    http.client (and the email package under it) is imported only when process-compose is asked:
    `omni-tui status` and the cockpit's start do not pay for it otherwise.
    """
    import http.client
    import socket

    class _UnixHTTPConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            try:
                s.connect(path)
            except BaseException:
                s.close()
                raise
            self.sock = s

    return _UnixHTTPConnection("unix", timeout=timeout)


def info_from_compose(obj: Mapping[str, object]) -> ProcessInfo:
    status = str(obj.get("status", ""))
    exit_value = obj.get("exit_code")
    exit_code = exit_value if isinstance(exit_value, int) else None
    is_ready = str(obj.get("is_ready", "-"))
    state = compose_state(status, is_ready)
    pid_value = obj.get("pid")
    pid = pid_value if isinstance(pid_value, int) and pid_value else None
    age = obj.get("age")
    running = bool(obj.get("is_running"))
    ready: bool | None = None
    if obj.get("has_ready_probe"):
        ready = is_ready == "Ready"
    cpu, mem, restarts = obj.get("cpu"), obj.get("mem"), obj.get("restarts")
    return ProcessInfo(
        name=str(obj["name"]),
        backend="process-compose",
        state=state,
        raw_state=status,
        pid=pid if running or state in ("starting", "running", "ready", "stopping") else None,
        cpu_percent=float(cpu) if isinstance(cpu, (int, float)) and running else None,
        rss=int(mem) if isinstance(mem, int) and running else None,
        uptime_s=age / 1e9 if isinstance(age, (int, float)) and running else None,
        restarts=restarts if isinstance(restarts, int) else 0,
        ready=ready,
        exit_code=exit_code if state in ("exited", "failed") else None,
    )


class ComposeClient:
    """Talks to process-compose; `name = "process-compose"` is what snapshots report."""

    name = "process-compose"
    actions = frozenset({"restart", "stop", "start"})

    def __init__(
        self,
        *,
        socket_path: Path | str | None = None,
        host: str | None = None,
        port: int | None = None,
        token: str | None = None,
        timeout_s: float = 2.0,
    ) -> None:
        self.socket_path = str(socket_path) if socket_path else None
        self.host, self.port = host or "localhost", port or 8080
        self.token = token or None
        self.timeout_s = timeout_s

    @classmethod
    def from_env(cls, paths: DevenvPaths, env: Mapping[str, str], *, timeout_s: float = 2.0) -> ComposeClient:
        """`$PC_SOCKET_PATH`, else devenv's `$DEVENV_RUNTIME/pc.sock`; TCP when `PC_PORT_NUM` is set instead."""
        token = env.get("PC_API_TOKEN") or None
        if env.get("PC_SOCKET_PATH"):
            return cls(socket_path=env["PC_SOCKET_PATH"], token=token, timeout_s=timeout_s)
        if env.get("PC_PORT_NUM") and not paths.compose_socket.exists():
            port = env["PC_PORT_NUM"]
            return cls(
                host=env.get("PC_ADDRESS") or "localhost", port=int(port) if port.isdigit() else 8080, token=token, timeout_s=timeout_s
            )
        return cls(socket_path=paths.compose_socket, token=token, timeout_s=timeout_s)

    @property
    def where(self) -> str:
        return f"process-compose at {self.socket_path}" if self.socket_path else f"process-compose at {self.host}:{self.port}"

    def available(self) -> bool:
        return os.path.exists(self.socket_path) if self.socket_path else True

    # ------------------------------------------------------------ HTTP

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.socket_path:
            return _unix_connection(self.socket_path, timeout)
        import http.client

        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/json"}
        if self.token:
            h["X-PC-Token-Key"] = self.token
        return h

    def request(self, method: str, path: str) -> object:
        """One HTTP request; returns the decoded JSON body (None when empty)."""
        conn = self._connection(self.timeout_s)
        what = f"{method} {path}"
        # Socket timeouts bound each read; the watchdog bounds the whole exchange (a trickling server).
        expired = threading.Event()

        def expire() -> None:
            import socket

            expired.set()
            if conn.sock is not None:
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(self.timeout_s, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            resp, body = self._exchange(conn, method, path, what)
        except BackendError:
            if expired.is_set():
                raise BackendError(f"{self.where}: no answer to {what} within {self.timeout_s:g} s") from None
            raise
        finally:
            watchdog.cancel()
            conn.close()
        data: object = None
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                if resp.status < 400:
                    raise BackendError(f"{self.where}: answered {what} with garbage: {_clip(body)}") from None
        if resp.status in (401, 403):
            raise BackendError(f"{self.where}: refused {what} (HTTP {resp.status}: check PC_API_TOKEN)")
        if resp.status >= 400:
            msg = _error_message(data) or _clip(body) or resp.reason
            raise BackendError(f"process-compose: {msg} (HTTP {resp.status} for {what})")
        return data

    def _exchange(self, conn: http.client.HTTPConnection, method: str, path: str, what: str) -> tuple[http.client.HTTPResponse, bytes]:
        import http.client

        try:
            conn.request(method, path, headers=self._headers())
            resp = conn.getresponse()
            if (resp.length or 0) > _MAX_BODY:
                raise BackendError(f"{self.where}: answer to {what} is larger than {_MAX_BODY} bytes")
            return resp, resp.read()
        except FileNotFoundError:
            raise BackendError(f"{self.where}: no socket") from None
        except ConnectionRefusedError:
            raise BackendError(f"{self.where}: connection refused") from None
        except TimeoutError:
            raise BackendError(f"{self.where}: no answer to {what} within {self.timeout_s:g} s") from None
        except http.client.RemoteDisconnected:
            raise BackendError(f"{self.where}: closed the connection without answering {what}") from None
        except http.client.IncompleteRead:
            raise BackendError(f"{self.where}: closed the connection mid-answer to {what}") from None
        except http.client.HTTPException as exc:
            raise BackendError(f"{self.where}: answered {what} with garbage ({type(exc).__name__})") from None
        except OSError as exc:
            raise BackendError(f"{self.where}: {what} failed ({exc.strerror or exc})") from None

    # ------------------------------------------------------------ calls

    def list(self) -> list[ProcessInfo]:
        data = self.request("GET", "/processes")
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(p, dict) and "name" in p for p in items):
            raise BackendError(f"{self.where}: malformed answer to GET /processes")
        return [info_from_compose(p) for p in items]

    def status(self, name: str) -> ProcessInfo:
        data = self.request("GET", f"/process/{_seg(name)}")
        if not isinstance(data, dict) or "name" not in data:
            raise BackendError(f"{self.where}: malformed answer to GET /process/{name}")
        return info_from_compose(data)

    def project_state(self) -> dict[str, object]:
        data = self.request("GET", "/project/state")
        if not isinstance(data, dict):
            raise BackendError(f"{self.where}: malformed answer to GET /project/state")
        return data

    def live(self) -> bool:
        self.request("GET", "/live")
        return True

    def ports(self, name: str) -> tuple[int, ...]:
        data = self.request("GET", f"/process/ports/{_seg(name)}")
        tcp = data.get("tcp_ports") if isinstance(data, dict) else None
        return tuple(p for p in tcp or [] if isinstance(p, int))

    def restart(self, name: str) -> None:
        self.request("POST", f"/process/restart/{_seg(name)}")

    def start(self, name: str) -> None:
        self.request("POST", f"/process/start/{_seg(name)}")

    def stop(self, name: str) -> None:
        self.request("PATCH", f"/process/stop/{_seg(name)}")

    def logs(self, name: str, lines: int = 200) -> builtins.list[str]:
        """The last `lines` lines (endOffset 0 = up to the end; limit 0 = all)."""
        data = self.request("GET", f"/process/logs/{_seg(name)}/0/{max(0, lines)}")
        logs = data.get("logs") if isinstance(data, dict) else None
        if not isinstance(logs, list):
            raise BackendError(f"{self.where}: malformed answer to the logs of '{name}'")
        return [str(x) for x in logs]

    # ------------------------------------------------------------ follow

    def follow(self, name: str, stop: threading.Event, poll_s: float = 0.5, lines: int = 200) -> Iterator[str]:
        """The last `lines` lines, then new ones: over the WebSocket when offered, else by polling."""
        try:
            ws = self._open_ws(f"/process/logs/ws?{urlencode({'name': name, 'offset': lines, 'follow': 'true'})}")
        except _NoWebSocket:
            ws = None
        if ws is not None:
            with ws:
                try:
                    for msg in ws.messages(stop, poll_s):
                        try:
                            frame = json.loads(msg)
                        except ValueError:
                            continue
                        if isinstance(frame, dict) and frame.get("process_name", name) == name:
                            yield str(frame.get("message", ""))
                    return
                except BackendError:
                    if stop.is_set():
                        return
            # The stream broke: carry on by polling from what is there now.
        yield from self._poll(name, stop, poll_s, lines if ws is None else 0)

    def _poll(self, name: str, stop: threading.Event, poll_s: float, first: int) -> Iterator[str]:
        prev = self.logs(name, 0)
        yield from (prev[-first:] if first > 0 else [])
        while not stop.wait(poll_s):
            try:
                cur = self.logs(name, 0)
            except BackendError:
                continue
            yield from cur[_overlap(prev, cur) :]
            prev = cur

    def _open_ws(self, target: str) -> _WebSocket:
        import base64
        import socket

        key = base64.b64encode(os.urandom(16)).decode()
        try:
            if self.socket_path:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(self.timeout_s)
                s.connect(self.socket_path)
                host = "unix"
            else:
                s = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
                host = f"{self.host}:{self.port}"
        except OSError:
            raise _NoWebSocket() from None
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.token:
            lines.append(f"X-PC-Token-Key: {self.token}")
        try:
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            head, rest = _read_head(s)
        except (OSError, BackendError):
            s.close()
            raise _NoWebSocket() from None
        status_line, *header_lines = head.split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        parts = status_line.split()
        expected = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        if len(parts) < 2 or parts[1] != "101" or headers.get("sec-websocket-accept") != expected:
            s.close()
            raise _NoWebSocket()
        return _WebSocket(s, rest, self.where)


class _NoWebSocket(Exception):
    """The server does not offer the WebSocket endpoint (older process-compose): poll instead."""


class _WebSocket:
    """Client side of RFC 6455 for text messages: unmasked frames in, masked control frames out."""

    def __init__(self, sock: socket.socket, buffered: bytes, where: str) -> None:
        self.sock, self.buf, self.where = sock, bytearray(buffered), where

    def __enter__(self) -> _WebSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._send(0x8, b"")
        except OSError:
            pass
        self.sock.close()

    def messages(self, stop: threading.Event, poll_s: float) -> Iterator[str]:
        self.sock.settimeout(poll_s)
        parts: list[bytes] = []
        while not stop.is_set():
            frame = self._frame(stop)
            if frame is None:
                return
            fin, opcode, payload = frame
            if opcode == 0x8:
                return
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode in (0x1, 0x2, 0x0):
                parts.append(payload)
                if fin:
                    yield b"".join(parts).decode("utf-8", "replace")
                    parts = []

    def _frame(self, stop: threading.Event) -> tuple[bool, int, bytes] | None:
        import struct

        head = self._exactly(2, stop)
        if head is None:
            return None
        fin, opcode, masked, n = bool(head[0] & 0x80), head[0] & 0x0F, bool(head[1] & 0x80), head[1] & 0x7F
        if n == 126:
            raw = self._exactly(2, stop)
            n = struct.unpack("!H", raw)[0] if raw else 0
        elif n == 127:
            raw = self._exactly(8, stop)
            n = struct.unpack("!Q", raw)[0] if raw else 0
        if n > _MAX_BODY:
            raise BackendError(f"{self.where}: WebSocket frame larger than {_MAX_BODY} bytes")
        mask = self._exactly(4, stop) if masked else None
        payload = self._exactly(n, stop) if n else b""
        if payload is None or (masked and mask is None):
            return None
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return fin, opcode, payload

    def _exactly(self, n: int, stop: threading.Event) -> bytes | None:
        while len(self.buf) < n:
            if stop.is_set():
                return None
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as exc:
                raise BackendError(f"{self.where}: log stream failed ({exc.strerror or exc})") from None
            if not chunk:
                raise BackendError(f"{self.where}: closed the log stream")
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


def _read_head(s: socket.socket) -> tuple[str, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk or len(data) > 65536:
            raise BackendError("bad WebSocket handshake")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def _overlap(prev: list[str], cur: list[str]) -> int:
    """How many leading lines of `cur` were already seen in `prev` (the new lines start after them).

    While the server's log buffer grows, `cur` extends `prev`; once it rotates, the longest suffix of
    `prev` that starts `cur` is taken (identical repeated lines may then be under-reported).
    """
    if len(cur) >= len(prev) and cur[: len(prev)] == prev:
        return len(prev)
    for k in range(min(len(prev), len(cur)), 0, -1):
        if prev[-k:] == cur[:k]:
            return k
    return 0


def _seg(name: str) -> str:
    return quote(name, safe="")


def _error_message(data: object) -> str | None:
    if isinstance(data, dict):
        for key in ("error", "message"):
            value = data.get(key)
            if isinstance(value, str):
                return value
        if data:
            return "; ".join(f"{k}: {v}" for k, v in data.items())
    return None


def _clip(body: bytes, n: int = 60) -> str:
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")
    return repr(text if len(text) <= n else text[:n] + "…")
