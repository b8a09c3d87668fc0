"""Live process lists from the managers' event streams, with polling wherever a stream is not offered.

- devenv native manager (2.2+): `{"command": "attach"}` streams `snapshot`, `status` and `log` events.
  The stream is tried after `mode` answers; a 2.1 daemon (no `attach`: it answers an error) is polled
  with `list` as before.
- process-compose (v1.110+): the WebSocket `/process/states/ws` sends `{"snapshot": bool, "state": ...}`
  frames. `version` from `/project/state` says whether it exists; older versions are polled with
  `GET /processes`. `X-PC-Token-Key` goes with it when `PC_API_TOKEN` is set.

A stream runs in a daemon thread started after a successful poll, so a refresh never waits for a probe.
When it breaks, the list is polled again and the stream is tried again a little later. `on_change` is
called on every state change the stream brings (not on log lines), so a poller can refresh at once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

from omni_tui.core.errors import BackendError
from omni_tui.core.processes.compose import ComposeClient, _NoWebSocket, info_from_compose
from omni_tui.core.processes.model import ProcessInfo
from omni_tui.core.processes.native import NativeClient, info_from_native

# `list` is a method of the classes below: their annotations say `_Infos`.
_Infos = list[ProcessInfo]
# After a stream broke (manager restarted, socket gone), poll this long before trying it again.
RETRY_S = 5.0
# The oldest process-compose with `/process/states/ws`.
COMPOSE_STATES_WS = (1, 110, 0)


class _Client(Protocol):
    name: str

    def list(self) -> _Infos: ...


def parse_version(text: object) -> tuple[int, ...] | None:
    """`"v1.122.0"` → (1, 122, 0); None when it is not a version."""
    if not isinstance(text, str):
        return None
    core = text.strip().lstrip("vV").split("-")[0].split("+")[0]
    parts = core.split(".")
    if not parts or not all(p.isdigit() for p in parts[:3]):
        return None
    return tuple(int(p) for p in parts[:3])


class LiveList:
    """The process list of one backend: the stream's copy while it runs, else the backend's own answer."""

    def __init__(self, client: _Client, on_change: Callable[[], None] | None = None) -> None:
        self.client = client
        self.name = client.name
        self.on_change = on_change or (lambda: None)
        self.mode = "polling"  # "streaming" while a stream feeds the list; "unsupported" when the manager has none
        self.why: str | None = None  # why the last stream attempt ended (for notes)
        self._lock = threading.Lock()
        self._procs: dict[str, tuple[ProcessInfo, float]] | None = None  # name → (info, monotonic time received)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._retry_at = 0.0
        self._identity: object = None  # what the stream was opened against (socket inode): a new manager is probed again

    @property
    def streaming(self) -> bool:
        return self.mode == "streaming" and self._procs is not None

    def list(self) -> _Infos:
        """Processes as the stream last described them, or polled (and a stream started when offered)."""
        with self._lock:
            path = getattr(self.client, "socket_path", None)
            # A manager that went away takes its socket with it: poll (and fail) rather than show the past.
            if self.mode == "streaming" and self._procs is not None and (not path or os.path.exists(path)):
                now = time.monotonic()
                # An uptime the manager reported ages with the clock until its next frame.
                return [
                    info if info.uptime_s is None else info._replace(uptime_s=info.uptime_s + now - at) for info, at in self._procs.values()
                ]
        polled = self.client.list()
        self._maybe_start(polled)
        return polled

    def close(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ stream thread

    def _maybe_start(self, polled: _Infos) -> None:
        identity = self._current_identity()
        if self.mode == "unsupported" and identity == self._identity:
            return
        if self._thread is not None and self._thread.is_alive():
            return
        if time.monotonic() < self._retry_at and identity == self._identity:
            return
        self._identity = identity
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(polled, self._stop), name=f"omni-{self.name}-stream", daemon=True)
        self._thread.start()

    def _current_identity(self) -> object:
        path = getattr(self.client, "socket_path", None)
        if not path:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _run(self, polled: _Infos, stop: threading.Event) -> None:
        try:
            self._stream(polled, stop)
        except _Unsupported as exc:
            with self._lock:
                self.mode, self.why, self._procs = "unsupported", str(exc), None
            return
        except BackendError as exc:
            self.why = str(exc)
        except Exception as exc:  # a stream bug must not kill anything: poll instead
            self.why = f"{type(exc).__name__}: {exc}"
        with self._lock:
            if self.mode == "streaming":
                self.mode = "polling"
            self._procs = None
            self._retry_at = time.monotonic() + RETRY_S
        if not stop.is_set():
            self.on_change()  # the next refresh polls: let it come now

    def _stream(self, polled: _Infos, stop: threading.Event) -> None:
        raise NotImplementedError

    def _publish(self, procs: dict[str, tuple[ProcessInfo, float]]) -> None:
        with self._lock:
            self._procs = procs
            self.mode = "streaming"
        self.on_change()


class _Unsupported(Exception):
    """The manager offers no stream (an older version): poll it."""


class LiveNative(LiveList):
    """devenv's native manager: `attach` after `mode` answered."""

    client: NativeClient

    def _stream(self, polled: _Infos, stop: threading.Event) -> None:
        try:
            self.client.mode()
        except BackendError as exc:
            if str(exc).startswith("native manager:"):  # an error answer: a daemon from before `mode`/`attach`
                raise _Unsupported(str(exc)) from None
            raise
        procs: dict[str, tuple[ProcessInfo, float]] | None = None
        for event in self.client.attach(stop, poll_s=0.2):
            kind = event.get("event")
            if kind is None:
                if event.get("status") == "error":  # 2.1: no `attach`
                    raise _Unsupported(str(event.get("message") or "attach refused"))
                continue
            if kind == "snapshot":
                items = event.get("processes")
                if isinstance(items, list):
                    now = time.monotonic()
                    procs = {str(p["name"]): (info_from_native(p), now) for p in items if isinstance(p, dict) and "name" in p}
                    self._publish(dict(procs))
            elif kind == "status" and procs is not None:
                info = event.get("info")
                if isinstance(info, dict) and "name" in info:
                    procs[str(info["name"])] = (info_from_native(info), time.monotonic())
                    self._publish(dict(procs))
            # "log" events: the log view reads the log files; nothing to refresh here.
        if not stop.is_set():
            raise BackendError(f"native manager at {self.client.socket_path}: the event stream ended")


class LiveCompose(LiveList):
    """process-compose: `/process/states/ws` when `/project/state` says v1.110 or later."""

    client: ComposeClient

    def _stream(self, polled: _Infos, stop: threading.Event) -> None:
        state = self.client.project_state()
        version = parse_version(state.get("version"))
        if version is None or version < COMPOSE_STATES_WS:
            raise _Unsupported(f"process-compose {state.get('version')!s} has no /process/states/ws")
        try:
            ws = self.client._open_ws("/process/states/ws")
        except _NoWebSocket:
            raise _Unsupported("process-compose refused /process/states/ws") from None
        at = time.monotonic()
        procs = {p.name: (p, at) for p in polled}
        with ws:
            self._publish(dict(procs))
            for message in ws.messages(stop, 0.2):
                try:
                    frame = json.loads(message)
                except ValueError:
                    continue
                st = frame.get("state") if isinstance(frame, dict) else None
                if isinstance(st, dict) and "name" in st:
                    info = info_from_compose(st)
                    known = procs.get(info.name)
                    if known is None or known[0] != info:
                        procs[info.name] = (info, time.monotonic())
                        self._publish(dict(procs))
        if not stop.is_set():
            raise BackendError(f"{self.client.where}: the state stream ended")
