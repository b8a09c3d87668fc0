"""The devenv native process manager client: NDJSON over `$DEVENV_RUNTIME/processes/native.sock`.

One connection per request: write one JSON line, read one JSON line. Every socket call has a
timeout; anything unexpected becomes a `BackendError` naming the socket. Logs are read from the
manager's log files directly (`processes/logs/<name>.{stdout,stderr}.log`).
"""

from __future__ import annotations

import builtins
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket  # imported by the calls that connect: `status` imports this module to look for the manager

from omni_tui.core.errors import BackendError
from omni_tui.core.processes.model import ProcessInfo, native_state
from omni_tui.core.processes.runtime import DevenvPaths
from omni_tui.core.safefs import open_regular

_MAX_LINE = 16 << 20


def _ports(raw: object) -> tuple[int, ...]:
    """`["http:8000", "8001"]` → (8000, 8001); entries without a port number are skipped."""
    out: list[int] = []
    for item in raw if isinstance(raw, list) else []:
        tail = str(item).rpartition(":")[2]
        if tail.isdigit():
            out.append(int(tail))
    return tuple(out)


def info_from_native(obj: dict[str, object]) -> ProcessInfo:
    phase = str(obj.get("phase", ""))
    state = native_state(phase)
    restarts = obj.get("restart_count", 0)
    return ProcessInfo(
        name=str(obj["name"]),
        backend="native",
        state=state,
        raw_state=phase,
        restarts=restarts if isinstance(restarts, int) else 0,
        ports=_ports(obj.get("ports")),
        ready=(phase == "ready") if state in ("starting", "running", "ready") else None,
    )


class NativeClient:
    """Talks to devenv's native manager; `name = "native"` is what snapshots report."""

    name = "native"
    actions = frozenset({"restart", "stop", "start"})

    def __init__(self, paths: DevenvPaths, *, timeout_s: float = 2.0) -> None:
        self.paths = paths
        self.socket_path = paths.native_socket
        self.timeout_s = timeout_s

    def available(self) -> bool:
        return self.socket_path.exists()

    # ------------------------------------------------------------ protocol

    def request(self, payload: dict[str, object]) -> dict[str, object]:
        """Send one request and return its answer; error answers raise `BackendError` with their message."""
        import socket

        where = f"native manager at {self.socket_path}"
        cmd = payload.get("command")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(self.timeout_s)
            try:
                s.connect(str(self.socket_path))
            except FileNotFoundError:
                raise BackendError(f"{where}: no socket") from None
            except TimeoutError:
                raise BackendError(f"{where}: connect timed out after {self.timeout_s:g} s") from None
            except OSError as exc:
                raise BackendError(f"{where}: cannot connect ({exc.strerror or exc})") from None
            try:
                s.sendall(json.dumps(payload).encode() + b"\n")
                line = self._read_line(s, where, cmd)
            except TimeoutError:
                raise BackendError(f"{where}: no answer to '{cmd}' within {self.timeout_s:g} s") from None
            except OSError as exc:
                raise BackendError(f"{where}: connection failed during '{cmd}' ({exc.strerror or exc})") from None
        try:
            answer = json.loads(line)
        except ValueError:
            raise BackendError(f"{where}: answered '{cmd}' with garbage: {_clip(line)}") from None
        if not isinstance(answer, dict) or "status" not in answer:
            raise BackendError(f"{where}: answered '{cmd}' without a status: {_clip(line)}")
        if answer["status"] == "error":
            raise BackendError(f"native manager: {answer.get('message') or 'error without a message'}")
        return answer

    def _read_line(self, s: socket.socket, where: str, cmd: object) -> str:
        # A whole-answer deadline too: a server trickling bytes must not hold a refresh for long.
        deadline = time.monotonic() + self.timeout_s
        buf = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError()
            s.settimeout(remaining)
            chunk = s.recv(65536)
            if not chunk:
                if buf:
                    raise BackendError(f"{where}: closed the connection mid-answer to '{cmd}'")
                raise BackendError(f"{where}: closed the connection without answering '{cmd}'")
            nl = chunk.find(b"\n")
            if nl >= 0:
                buf += chunk[:nl]
                return buf.decode("utf-8", "replace")
            buf += chunk
            if len(buf) > _MAX_LINE:
                raise BackendError(f"{where}: answer to '{cmd}' exceeds {_MAX_LINE} bytes")

    def _expect(self, answer: dict[str, object], status: str, cmd: str) -> dict[str, object]:
        if answer.get("status") != status:
            raise BackendError(f"native manager at {self.socket_path}: expected '{status}' for '{cmd}', got '{answer.get('status')}'")
        return answer

    # ------------------------------------------------------------ requests

    def list(self) -> list[ProcessInfo]:
        answer = self._expect(self.request({"command": "list"}), "process_list", "list")
        procs = answer.get("processes")
        if not isinstance(procs, list) or not all(isinstance(p, dict) and "name" in p for p in procs):
            raise BackendError(f"native manager at {self.socket_path}: malformed process list")
        return [info_from_native(p) for p in procs]

    def status(self, name: str) -> ProcessInfo:
        answer = self._expect(self.request({"command": "status", "name": name}), "process_detail", "status")
        info = answer.get("info")
        if not isinstance(info, dict) or "name" not in info:
            raise BackendError(f"native manager at {self.socket_path}: malformed process detail")
        return info_from_native(info)

    def port_allocations(self) -> dict[str, dict[str, int]]:
        """process name → {port name: port}."""
        answer = self._expect(self.request({"command": "ports"}), "port_allocations", "ports")
        out: dict[str, dict[str, int]] = {}
        ports = answer.get("ports")
        for a in ports if isinstance(ports, list) else []:
            if isinstance(a, dict) and isinstance(a.get("port"), int):
                out.setdefault(str(a.get("process_name")), {})[str(a.get("port_name"))] = a["port"]
        return out

    def mode(self) -> str:
        return str(self._expect(self.request({"command": "mode"}), "mode", "mode").get("mode"))

    def wait(self) -> None:
        self._expect(self.request({"command": "wait"}), "ready", "wait")

    def restart(self, name: str) -> None:
        self._expect(self.request({"command": "restart", "name": name}), "ok", "restart")

    def stop(self, name: str) -> None:
        self._expect(self.request({"command": "stop", "name": name}), "ok", "stop")

    def start(self, name: str) -> None:
        answer = self._expect(self.request({"command": "start", "names": [name]}), "start", "start")
        found = answer.get("outcome")
        outcome: dict[str, Any] = found if isinstance(found, dict) else {}
        if name in (outcome.get("unknown") or []):
            raise BackendError(f"native manager: no such process: {name}")
        if name in (outcome.get("failed") or []):
            raise BackendError(f"native manager: failed to start {name}")

    def manager_logs(self, name: str, lines: int = 200) -> tuple[str, str]:
        """The `logs` request: (stdout, stderr) text as the manager returns it."""
        answer = self._expect(self.request({"command": "logs", "name": name, "lines": lines}), "process_logs", "logs")
        return str(answer.get("stdout") or ""), str(answer.get("stderr") or "")

    def attach(self, stop: threading.Event, poll_s: float = 0.5) -> Iterator[dict[str, object]]:
        """Stream the manager's events (`snapshot`, `status`, `log`) until `stop` is set or it hangs up."""
        import socket

        where = f"native manager at {self.socket_path}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(self.timeout_s)
            try:
                s.connect(str(self.socket_path))
                s.sendall(b'{"command": "attach"}\n')
            except OSError as exc:
                raise BackendError(f"{where}: cannot attach ({exc.strerror or exc})") from None
            s.settimeout(poll_s)
            buf = bytearray()
            while not stop.is_set():
                try:
                    chunk = s.recv(65536)
                except TimeoutError:
                    continue
                except OSError as exc:
                    raise BackendError(f"{where}: event stream failed ({exc.strerror or exc})") from None
                if not chunk:
                    return
                buf += chunk
                while (nl := buf.find(b"\n")) >= 0:
                    line, buf = bytes(buf[:nl]), buf[nl + 1 :]
                    try:
                        event = json.loads(line)
                    except ValueError:
                        raise BackendError(f"{where}: sent garbage on the event stream: {_clip(line.decode('utf-8', 'replace'))}") from None
                    if isinstance(event, dict):
                        yield event

    # ------------------------------------------------------------ logs (files)

    def logs(self, name: str, lines: int = 200) -> builtins.list[str]:
        """The last `lines` lines of stdout then stderr, read from the log files; the socket when they are absent."""
        files = [self.paths.native_log(name, s) for s in ("stdout", "stderr")]
        if not any(f.exists() for f in files):
            out, err = self.manager_logs(name, lines)
            return (out.splitlines() + [f"[stderr] {ln}" for ln in err.splitlines()])[-lines:]
        got: list[str] = []
        for f, prefix in zip(files, ("", "[stderr] ")):
            got.extend(prefix + ln for ln in tail_lines(f, lines))
        return got[-lines:] if lines > 0 else got

    def follow(self, name: str, stop: threading.Event, poll_s: float = 0.5) -> Iterator[str]:
        """The last lines, then new lines as the log files grow (truncation and replacement survive)."""
        yield from self.logs(name)
        tails = [_FileTail(self.paths.native_log(name, s), prefix) for s, prefix in (("stdout", ""), ("stderr", "[stderr] "))]
        for t in tails:
            t.skip_to_end()
        while not stop.wait(poll_s):
            for t in tails:
                yield from t.read_new()


def tail_lines(path: Path, n: int) -> list[str]:
    """Last `n` lines of a file without reading all of it (n <= 0: all lines)."""
    try:
        with open_regular(path) as fh:  # never a FIFO put in its place
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            block, data = 65536, b""
            pos = size
            while pos > 0 and (n <= 0 or data.count(b"\n") <= n):
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                data = fh.read(step) + data
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    if pos > 0:
        lines = lines[1:]
    return lines[-n:] if n > 0 else lines


class _FileTail:
    def __init__(self, path: Path, prefix: str) -> None:
        self.path, self.prefix = path, prefix
        self.offset: int = 0
        self.inode: int | None = None
        self.partial = b""

    def skip_to_end(self) -> None:
        try:
            st = os.stat(self.path)
        except OSError:
            return
        self.offset, self.inode = st.st_size, st.st_ino

    def read_new(self) -> list[str]:
        try:
            st = os.stat(self.path)
        except OSError:
            return []
        if st.st_ino != self.inode or st.st_size < self.offset:
            self.offset, self.inode, self.partial = 0, st.st_ino, b""
        if st.st_size == self.offset:
            return []
        with open_regular(self.path) as fh:
            fh.seek(self.offset)
            data = self.partial + fh.read()
            self.offset = fh.tell()
        *done, self.partial = data.split(b"\n")
        return [self.prefix + d.decode("utf-8", "replace") for d in done]


def _clip(text: str, n: int = 60) -> str:
    text = text.strip().replace("\n", " ")
    return repr(text if len(text) <= n else text[:n] + "…")
