"""Process backends behind one interface: devenv native, process-compose, psutil scan.

`collect(root)` returns a `ProcessSnapshot` from the first backend that answers; keep a
`ProcessMonitor` (or call `collect` repeatedly: monitors are shared per root) so CPU % has two samples.
"""

from omni_tui.core.processes.detect import ProcessMonitor, as_status_json, collect, monitor_for
from omni_tui.core.processes.model import STATES, PortCheck, ProcessBackend, ProcessInfo, ProcessSnapshot
from omni_tui.core.processes.runtime import DevenvPaths, runtime_dir

__all__ = [
    "STATES", "DevenvPaths", "PortCheck", "ProcessBackend", "ProcessInfo", "ProcessMonitor", "ProcessSnapshot",
    "as_status_json", "collect", "monitor_for", "runtime_dir",
]
