"""The shared process model: `ProcessInfo`, `ProcessSnapshot`, normalised states, and the backend interface."""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol

STATES: tuple[str, ...] = ("starting", "running", "ready", "stopping", "stopped", "exited", "failed")

# The states in which a process is alive (it has, or is about to have, a pid).
ALIVE_STATES = frozenset({"starting", "running", "ready", "stopping"})

NATIVE_PHASES: dict[str, str] = {
    "not_started": "stopped",
    "stopped": "stopped",
    "waiting": "starting",
    "starting": "starting",
    "ready": "ready",
    "stopping": "stopping",
    "exited": "exited",
    "gave_up": "failed",
}


def native_state(phase: str) -> str:
    """devenv native `phase` → normalised state (unknown phases count as running: the manager knows it)."""
    return NATIVE_PHASES.get(phase, "running")


def compose_state(status: str, is_ready: str | None) -> str:
    """process-compose `status` (+ `is_ready`) → normalised state."""
    s = status.strip().lower()
    if s in ("running", "launched", "foreground", "watching"):
        return "ready" if (is_ready or "").strip().lower() == "ready" else "running"
    if s in ("pending", "launching", "restarting", "scheduled"):
        return "starting"
    if s == "terminating":
        return "stopping"
    if s == "completed":  # also what a stop leaves (exit code -1 after a signal): the code stays in exit_code
        return "exited"
    if s == "error":
        return "failed"
    if s in ("disabled", "skipped"):
        return "stopped"
    return "running"


@dataclass(frozen=True, slots=True)
class PortCheck:
    """One listening port and whether it accepted a TCP connection when probed (None: not probed)."""

    port: int
    accepting: bool | None = None
    host: str = "127.0.0.1"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One supervised process as a person sees it, whichever backend reported it.

    `cpu_percent` and `rss` cover the process and its descendants; `cpu_percent` is None until a
    second sample exists. `ports` lists listening TCP ports; `port_checks` says which accept.
    """

    name: str
    backend: str
    state: str
    raw_state: str
    pid: int | None = None
    cpu_percent: float | None = None
    rss: int | None = None
    uptime_s: float | None = None
    restarts: int = 0
    ports: tuple[int, ...] = ()
    ready: bool | None = None
    port_checks: tuple[PortCheck, ...] = ()
    service: str | None = None
    command: str = ""
    exit_code: int | None = None

    @property
    def alive(self) -> bool:
        return self.state in ALIVE_STATES

    def to_dict(self) -> dict[str, object]:
        """The stable JSON form (documented in docs/processes.md)."""
        d = asdict(self)
        d["ports"] = list(self.ports)
        d["port_checks"] = [asdict(c) for c in self.port_checks]
        if d["cpu_percent"] is not None:
            d["cpu_percent"] = round(d["cpu_percent"], 1)
        if d["uptime_s"] is not None:
            d["uptime_s"] = round(d["uptime_s"], 1)
        return d


class ProcessBackend(Protocol):
    """What every backend offers. Actions raise `BackendError` with a one-line reason."""

    name: str
    actions: frozenset[str]  # the subset of {"restart", "stop", "start"} this backend can do

    def list(self) -> list[ProcessInfo]: ...
    def logs(self, name: str, lines: int = 200) -> builtins.list[str]: ...
    def follow(self, name: str, stop: threading.Event, poll_s: float = 0.5) -> Iterator[str]: ...
    def restart(self, name: str) -> None: ...
    def stop(self, name: str) -> None: ...
    def start(self, name: str) -> None: ...


@dataclass(frozen=True)
class ProcessSnapshot:
    """The result of one refresh: which backend answered, its processes, and why others did not."""

    backend: str | None
    processes: tuple[ProcessInfo, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()
    taken_at: float = field(default_factory=time.time)
    control: ProcessBackend | None = field(default=None, compare=False, repr=False)

    def get(self, name: str) -> ProcessInfo | None:
        for p in self.processes:
            if p.name == name:
                return p
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "processes": [p.to_dict() for p in self.processes],
            "error": self.error,
            "notes": list(self.notes),
        }
