"""Process backends behind one interface: devenv native, process-compose, psutil scan.

`collect(root)` returns a `ProcessSnapshot` from the first backend that answers; keep a
`ProcessMonitor` (or call `collect` repeatedly: monitors are shared per root) so CPU % has two samples.

The backends load on first use (PEP 562): importing `omni_tui.core.processes.model` — as the review
state does for `ProcessSnapshot` — does not pull in the scanner, the clients and their sockets before
the cockpit's first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omni_tui.core.processes.model import STATES, PortCheck, ProcessBackend, ProcessInfo, ProcessSnapshot
from omni_tui.core.processes.runtime import DevenvPaths, runtime_dir

if TYPE_CHECKING:
    from omni_tui.core.processes.detect import ProcessMonitor, as_status_json, collect, monitor_for

_DETECT = frozenset({"ProcessMonitor", "as_status_json", "collect", "monitor_for"})


def __getattr__(name: str) -> Any:
    if name in _DETECT:
        from omni_tui.core.processes import detect

        return getattr(detect, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "STATES",
    "DevenvPaths",
    "PortCheck",
    "ProcessBackend",
    "ProcessInfo",
    "ProcessMonitor",
    "ProcessSnapshot",
    "as_status_json",
    "collect",
    "monitor_for",
    "runtime_dir",
]
