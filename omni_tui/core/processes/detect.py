"""Backend detection: `collect(root)` asks native → process-compose → psutil and joins figures by pid."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from omni_tui.core.errors import BackendError
from omni_tui.core.processes.compose import ComposeClient
from omni_tui.core.processes.model import ProcessBackend, ProcessInfo, ProcessSnapshot
from omni_tui.core.processes.native import NativeClient
from omni_tui.core.processes.runtime import DevenvPaths
from omni_tui.core.processes.scan import ProjectScanner

if TYPE_CHECKING:
    from omni_tui.core.processes.live import LiveList

_ENV_KEYS = (
    "DEVENV_ROOT",
    "DEVENV_DOTFILE",
    "DEVENV_STATE",
    "DEVENV_RUNTIME",
    "XDG_RUNTIME_DIR",
    "PC_SOCKET_PATH",
    "PC_API_TOKEN",
    "PC_PORT_NUM",
    "PC_ADDRESS",
)


class ProcessMonitor:
    """Keeps the backends of one project between refreshes (CPU % needs two samples)."""

    def __init__(
        self, root: Path | str, env: Mapping[str, str] | None = None, *, timeout_s: float = 2.0, unmanaged_after_s: float = 30.0
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        self.root = Path(root)
        self.paths = DevenvPaths.for_root(self.root, self.env)
        self.timeout_s = timeout_s
        self.scanner = ProjectScanner(self.root, self.paths, unmanaged_after_s=unmanaged_after_s)
        self.native = NativeClient(self.paths, timeout_s=timeout_s)
        self.compose = ComposeClient.from_env(self.paths, self.env, timeout_s=timeout_s)
        self._last: ProcessBackend = self.scanner
        self._lock = threading.Lock()
        # A backend that failed is not asked again for a while, so a hung socket cannot slow every refresh.
        self.retry_after_s = 10.0
        self._failed: dict[str, tuple[float, str]] = {}
        # Set whenever a manager's event stream brings a change: a poller waiting on it refreshes at once.
        self.changed = threading.Event()
        self._live: dict[str, LiveList] = {}

    def live(self, client: NativeClient | ComposeClient) -> LiveList:
        """The stream-or-poll list of one backend client (kept per backend and address)."""
        key = f"{client.name} {getattr(client, 'where', '')} {getattr(client, 'socket_path', '')}"
        found = self._live.get(key)
        if found is None:
            # Loaded only once a manager's socket is there: `status` in a project without one never needs it.
            from omni_tui.core.processes.live import LiveCompose, LiveNative

            cls = LiveNative if isinstance(client, NativeClient) else LiveCompose
            found = self._live[key] = cls(client, self.changed.set)
        return found

    def wait_for_change(self, timeout_s: float, stop: threading.Event | None = None) -> bool:
        """Wait until a stream reports a change (True), `timeout_s` passes or `stop` is set (False)."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                return False
            if self.changed.wait(min(left, 0.1)):
                self.changed.clear()
                return True

    def close(self) -> None:
        """Stop the event streams (their threads end within a fraction of a second)."""
        for live in self._live.values():
            live.close()

    @property
    def backend(self) -> ProcessBackend:
        """The backend that answered the last `collect()` (psutil before the first)."""
        return self._last

    def collect(self) -> ProcessSnapshot:
        """Ask native, then process-compose, then fall back to the psutil scan; say why in `notes`."""
        with self._lock:
            notes: list[str] = []
            failures: list[str] = []
            try:
                rows = self.scanner.scan()
            except OSError as exc:
                rows = []
                failures.append(f"process scan failed: {exc}")
            for client in self._candidates(rows, notes):
                until, why = self._failed.get(client.name, (0.0, ""))
                if time.monotonic() < until:
                    failures.append(why)
                    notes.append(f"{client.name}: not asked again for {until - time.monotonic():.0f} s after: {why}")
                    continue
                try:
                    listed = self.live(client).list()
                except BackendError as exc:
                    self._failed[client.name] = (time.monotonic() + self.retry_after_s, str(exc))
                    failures.append(str(exc))
                    notes.append(f"{client.name}: {exc}; trying the next backend")
                    continue
                self._failed.pop(client.name, None)
                self._last = client
                return ProcessSnapshot(
                    backend=client.name,
                    processes=tuple(join(listed, rows, self.scanner)),
                    error="; ".join(failures) or None,
                    notes=tuple(notes),
                    control=client,
                )
            self._last = self.scanner
            return ProcessSnapshot(
                backend=self.scanner.name,
                processes=tuple(rows),
                error="; ".join(failures) or None,
                notes=tuple(notes),
                control=self.scanner,
            )

    def _candidates(self, rows: list[ProcessInfo], notes: list[str]) -> list[NativeClient | ComposeClient]:
        found: list[NativeClient | ComposeClient] = []
        if self.native.available():
            found.append(self.native)
        else:
            notes.append(f"native: no socket at {self.native.socket_path}")
        if self.compose.available():
            found.append(self.compose)
        elif any(r.name.split(":")[0].startswith("process-compos") and r.alive for r in rows):
            # process-compose runs for this project without a socket: its default TCP port.
            found.append(
                ComposeClient(
                    port=int(self.env.get("PC_PORT_NUM", "8080") or 8080), token=self.env.get("PC_API_TOKEN"), timeout_s=self.timeout_s
                )
            )
        else:
            notes.append(f"process-compose: no socket at {self.compose.socket_path}")
        return found

    # Actions and logs go to whichever backend answered last.
    def logs(self, name: str, lines: int = 200) -> list[str]:
        return self._last.logs(name, lines)

    def restart(self, name: str) -> None:
        self._last.restart(name)

    def stop(self, name: str) -> None:
        self._last.stop(name)

    def start(self, name: str) -> None:
        self._last.start(name)

    def follow(self, name: str, stop: threading.Event, poll_s: float = 0.5) -> Iterator[str]:
        """The last lines of `name`, then new ones as they come, until `stop` is set (run it in a thread)."""
        return self._last.follow(name, stop, poll_s)


def join(listed: list[ProcessInfo], rows: list[ProcessInfo], scanner: ProjectScanner) -> list[ProcessInfo]:
    """Add psutil figures (pid, CPU, memory, uptime, ports, port checks) to a manager's answer.

    process-compose gives pids; devenv's native manager does not, so its processes are matched by a
    port it allocated, then by name.
    """
    # What a manager started may be young and quiet enough for the scan to leave it out: join it too.
    live = [r for r in rows if r.alive and r.pid] + scanner.hidden()
    by_pid = {r.pid: r for r in live}
    by_port = {port: r for r in live for port in r.ports}
    by_name = {r.name: r for r in live}
    out: list[ProcessInfo] = []
    for info in listed:
        row = None
        if info.alive:
            row = by_pid.get(info.pid) if info.pid else None
            if row is None and info.pid is None:
                row = next((by_port[p] for p in info.ports if p in by_port), None) or by_name.get(info.name)
        if row is not None:
            info = info._replace(
                pid=row.pid,
                cpu_percent=row.cpu_percent,
                rss=row.rss,
                uptime_s=info.uptime_s if info.uptime_s is not None else row.uptime_s,
                started_at=row.started_at if info.uptime_s is None else None,
                ports=tuple(dict.fromkeys(info.ports + row.ports)),
                service=row.service,
                command=row.command,
            )
        if info.alive and info.ports:
            info = info._replace(port_checks=scanner.check_ports(info.ports, known=row.port_checks if row else ()))
        out.append(info)
    return out


_monitors: dict[tuple[str, tuple[str | None, ...]], ProcessMonitor] = {}
_monitors_lock = threading.Lock()


def monitor_for(root: Path | str, env: Mapping[str, str] | None = None, *, unmanaged_after_s: float | None = None) -> ProcessMonitor:
    """The shared monitor of `root` (one per root and relevant environment); `unmanaged_after_s` from `[processes]`."""
    env = os.environ if env is None else env
    key = (str(Path(root)), tuple(env.get(k) for k in _ENV_KEYS))
    with _monitors_lock:
        mon = _monitors.get(key)
        if mon is None:
            mon = _monitors[key] = ProcessMonitor(root, env)
        if unmanaged_after_s is not None:
            mon.scanner.unmanaged_after_s = unmanaged_after_s
        return mon


def collect(root: Path | str, env: Mapping[str, str] | None = None, *, unmanaged_after_s: float | None = None) -> ProcessSnapshot:
    """One refresh of `root`'s processes from the first backend that answers."""
    return monitor_for(root, env, unmanaged_after_s=unmanaged_after_s).collect()


def as_status_json(snapshot: ProcessSnapshot) -> tuple[list[dict[str, object]], str | None]:
    """(`processes`, `processes_backend`) as `omni-tui status --json` prints them."""
    return [p.to_dict(snapshot.taken_at) for p in snapshot.processes], snapshot.backend


__all__ = ["ProcessInfo", "ProcessMonitor", "ProcessSnapshot", "as_status_json", "collect", "monitor_for"]
