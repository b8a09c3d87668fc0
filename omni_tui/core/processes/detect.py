"""Backend detection: `collect(root)` asks native → process-compose → psutil and joins figures by pid."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from omni_tui.core.errors import BackendError
from omni_tui.core.processes.model import ProcessBackend, ProcessInfo, ProcessSnapshot
from omni_tui.core.processes.runtime import DevenvPaths
from omni_tui.core.processes.scan import ProjectScanner

_ENV_KEYS = ("DEVENV_ROOT", "DEVENV_DOTFILE", "DEVENV_STATE", "DEVENV_RUNTIME", "XDG_RUNTIME_DIR",
             "PC_SOCKET_PATH", "PC_API_TOKEN", "PC_PORT_NUM", "PC_ADDRESS")


class ProcessMonitor:
    """Keeps the backends of one project between refreshes (CPU % needs two samples)."""

    def __init__(self, root: Path | str, env: Mapping[str, str] | None = None, *, timeout_s: float = 2.0) -> None:
        self.env = dict(os.environ if env is None else env)
        self.root = Path(root)
        self.paths = DevenvPaths.for_root(self.root, self.env)
        self.timeout_s = timeout_s
        self.scanner = ProjectScanner(self.root, self.paths)
        self._last: ProcessBackend = self.scanner
        self._lock = threading.Lock()

    @property
    def backend(self) -> ProcessBackend:
        """The backend that answered the last `collect()` (psutil before the first)."""
        return self._last

    def collect(self) -> ProcessSnapshot:
        with self._lock:
            notes: list[str] = []
            try:
                processes = self.scanner.scan()
            except (OSError, BackendError) as exc:
                return ProcessSnapshot(backend=None, error=f"process scan failed: {exc}", notes=tuple(notes))
            self._last = self.scanner
            return ProcessSnapshot(backend=self.scanner.name, processes=tuple(processes), notes=tuple(notes),
                                   control=self.scanner)

    # Actions and logs go to whichever backend answered last.
    def logs(self, name: str, lines: int = 200) -> list[str]:
        return self._last.logs(name, lines)

    def restart(self, name: str) -> None:
        self._last.restart(name)

    def stop(self, name: str) -> None:
        self._last.stop(name)

    def start(self, name: str) -> None:
        self._last.start(name)


_monitors: dict[tuple[str, tuple[str | None, ...]], ProcessMonitor] = {}
_monitors_lock = threading.Lock()


def monitor_for(root: Path | str, env: Mapping[str, str] | None = None) -> ProcessMonitor:
    """The shared monitor of `root` (one per root and relevant environment)."""
    env = os.environ if env is None else env
    key = (str(Path(root)), tuple(env.get(k) for k in _ENV_KEYS))
    with _monitors_lock:
        mon = _monitors.get(key)
        if mon is None:
            mon = _monitors[key] = ProcessMonitor(root, env)
        return mon


def collect(root: Path | str, env: Mapping[str, str] | None = None) -> ProcessSnapshot:
    """One refresh of `root`'s processes from the first backend that answers."""
    return monitor_for(root, env).collect()


def as_status_json(snapshot: ProcessSnapshot) -> tuple[list[dict[str, object]], str | None]:
    """(`processes`, `processes_backend`) as `omni-tui status --json` prints them."""
    return [p.to_dict() for p in snapshot.processes], snapshot.backend


__all__ = ["ProcessInfo", "ProcessMonitor", "ProcessSnapshot", "as_status_json", "collect", "monitor_for"]
