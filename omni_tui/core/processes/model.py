"""The shared process model: `ProcessInfo`, `ProcessSnapshot`, normalised states, and the backend interface."""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Iterator
from typing import NamedTuple, Protocol

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


# PortCheck and ProcessInfo are NamedTuples and ProcessSnapshot a plain class: `status --json` imports
# this module on every call, and a frozen dataclass costs ≈ 1 ms to build at import, `dataclasses`
# itself (with inspect, ast, dis, tokenize) ≈ 5 ms more (docs/performance.md). Immutable, compared and
# hashed by value as the dataclasses were; a changed copy is `info._replace(...)`. Nothing compares a
# record with a plain tuple, and `to_dict` is the JSON form (a NamedTuple given to json.dumps would
# print as an array).
class PortCheck(NamedTuple):
    """One listening port and whether it accepted a TCP connection when probed (None: not probed)."""

    port: int
    accepting: bool | None = None
    host: str = "127.0.0.1"
    name: str | None = None


class ProcessInfo(NamedTuple):
    """One supervised process as a person sees it, whichever backend reported it.

    `cpu_percent` and `rss` cover the process and its descendants; `cpu_percent` is None until a
    second sample exists. `ports` lists listening TCP ports; `port_checks` says which accept.
    `uptime_s` is an uptime a manager reported; `started_at` (epoch seconds, not in the JSON) is the
    start time the scan read instead, so an unchanged process is the same object from one refresh to
    the next (300 rows rebuilt each second only to age them cost ≈ 3 ms): `uptime_at(now)` gives either.
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
    started_at: float | None = None

    @property
    def alive(self) -> bool:
        return self.state in ALIVE_STATES

    def uptime_at(self, now: float) -> float | None:
        """Seconds it has been up at `now` (epoch seconds), whether a manager told or the scan read its start."""
        if self.started_at is not None:
            return max(0.0, now - self.started_at)
        return self.uptime_s

    def to_dict(self, now: float | None = None) -> dict[str, object]:
        """The stable JSON form (documented in docs/processes.md), keys in field order; `uptime_s` as of `now`."""
        d: dict[str, object] = {name: getattr(self, name) for name in _INFO_FIELDS}
        d["ports"] = list(self.ports)
        d["port_checks"] = [c._asdict() for c in self.port_checks]  # a NamedTuple would print as an array
        if self.cpu_percent is not None:
            d["cpu_percent"] = round(self.cpu_percent, 1)
        uptime = self.uptime_s if self.started_at is None else self.uptime_at(time.time() if now is None else now)
        d["uptime_s"] = None if uptime is None else round(uptime, 1)
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


class ProcessSnapshot:
    """The result of one refresh: which backend answered, its processes, and why others did not.

    Read-only by convention; equal when all but `control` (the backend that answered) are equal.
    """

    __slots__ = ("backend", "control", "error", "notes", "processes", "taken_at")

    def __init__(
        self,
        backend: str | None,
        processes: tuple[ProcessInfo, ...] = (),
        error: str | None = None,
        notes: tuple[str, ...] = (),
        taken_at: float | None = None,
        control: ProcessBackend | None = None,
    ) -> None:
        self.backend = backend
        self.processes = processes
        self.error = error
        self.notes = notes
        self.taken_at = time.time() if taken_at is None else taken_at
        self.control = control

    def _key(self) -> tuple[object, ...]:
        return (self.backend, self.processes, self.error, self.notes, self.taken_at)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if type(other) is ProcessSnapshot else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal by value, yet not frozen: unhashable, as before

    def __repr__(self) -> str:
        return (
            f"ProcessSnapshot(backend={self.backend!r}, processes={self.processes!r}, error={self.error!r}, "
            f"notes={self.notes!r}, taken_at={self.taken_at!r})"
        )

    def get(self, name: str) -> ProcessInfo | None:
        for p in self.processes:
            if p.name == name:
                return p
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "processes": [p.to_dict(self.taken_at) for p in self.processes],
            "error": self.error,
            "notes": list(self.notes),
        }


# `started_at` stays out of the JSON: `uptime_s` carries it, as it always has (docs/protocol.md).
_INFO_FIELDS = tuple(f for f in ProcessInfo._fields if f != "started_at")
