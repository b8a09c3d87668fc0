"""The approved configuration is read by several threads (the watcher, the workers, the UI): a reader
that started before a configuration was accepted must not store the old one over the new one a later
reader already took. Seen as an accepted `[rebuild] command` that did not take (the cockpit said
"applied" and never "rebuild command now"), once in a full run on a loaded machine."""

from __future__ import annotations

import threading
from pathlib import Path

from omni_tui.core.gate import Gate
from omni_tui.core.workspace import Workspace


def test_a_slow_reader_of_the_old_configuration_does_not_win_over_the_new_one(project: Path) -> None:
    (project / "omni-tui.toml").write_text("[processes]\npoll_interval_s = 2.0\n")
    ws = Workspace.open(project)
    Gate(ws).state()  # the baseline: the configuration as it is now is the approved one
    assert ws.config.processes.poll_interval_s == 2.0

    old_read = threading.Event()
    newer_done = threading.Event()
    real = ws._approved_config

    def approved_config():  # type: ignore[no-untyped-def]
        config = real()
        if threading.current_thread() is slow_thread:
            old_read.set()
            # Hold the old configuration until the newer reader is done, or (when readers take turns,
            # as they must) until it has had its chance to go first.
            newer_done.wait(0.5)
        return config

    ws._approved_config = approved_config  # type: ignore[method-assign]
    ws._config_checked, ws._config_key = 0.0, None  # the next reader reads the baseline again
    slow_thread = threading.Thread(target=lambda: ws.config)
    slow_thread.start()
    assert old_read.wait(30)

    # The person accepts a new configuration meanwhile; another reader takes it up.
    (project / "omni-tui.toml").write_text("[processes]\npoll_interval_s = 5.0\n")
    Gate(Workspace.open(project)).accept_direct(rebuild=None)
    ws._config_checked = 0.0  # (as write_baseline does in the process that accepts)
    seen: list[float] = []
    reader = threading.Thread(target=lambda: (seen.append(ws.config.processes.poll_interval_s), newer_done.set()))
    reader.start()
    slow_thread.join(30)
    reader.join(30)
    assert seen == [5.0]
    assert ws.config.processes.poll_interval_s == 5.0  # not the old reader's 2.0, stored last
