"""When the only `[rebuild] command` is an unapproved edit of omni-tui.toml (an agent's, say), it is not used —
and the message says the *approved* configuration has none, instead of claiming the file does not set one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    env["PATH"] = "/usr/bin:/bin"  # no devenv
    return subprocess.run([sys.executable, "-m", "omni_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_an_unapproved_rebuild_command_is_not_run_and_the_message_says_approved(project: Path) -> None:
    assert cli("status", cwd=project).returncode == 0  # the baseline: no omni-tui.toml
    marker = project.parent / "ran"
    (project / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "touch {marker}"\n')
    done = cli("rebuild", cwd=project)
    assert done.returncode == 2 and not marker.exists()
    assert done.stderr.splitlines() == [
        "omni-tui: no rebuild command: devenv is not on PATH and `[rebuild] command` is not set in the approved omni-tui.toml"
    ]


def test_a_configuration_approved_in_this_process_is_in_force_at_once(project: Path) -> None:
    """The cockpit that accepts an edit of omni-tui.toml reads the configuration right after: its audit
    log reader had last read the log before the entry vouching for the new copy, judged that copy
    forged, and kept the old configuration in force (a rebuild command accepted, still "none")."""
    from omni_tui.core.workspace import Workspace

    (project / "omni-tui.toml").write_text('[rebuild]\ncommand = "echo old"\n')
    ws = Workspace.open(project, env={}, cwd=project)
    ws.init_baseline("test")
    assert ws.config.rebuild.command == "echo old"  # read once: the reader has read the log
    ws.record_baselines({"omni-tui.toml": b'[rebuild]\ncommand = "echo new"\n'}, who="test")
    assert ws.config.rebuild.command == "echo new"
