"""`omni-tui run -- NAME` with a NAME that is not a command says so in one `omni-tui:` line and exits 2 (bad
input), before any sandbox is made — not bubblewrap's `bwrap: execvp NAME: No such file or directory`, exit 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    bwrap_dir = os.path.dirname(shutil.which("bwrap") or "/usr/bin/bwrap")
    env["PATH"] = f"{bwrap_dir}:/usr/bin:/bin"  # no omni-tui on it, as for an agent whose shell never activated the venv
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", "run", "-C", str(project), "--", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("name", ["omni-tui-not-on-path", "/nonexistent/agent", "./not-here"])
def test_a_command_that_does_not_exist_is_one_line_and_exit_2(project: Path, name: str, need_bwrap: None) -> None:
    done = run(project, name, "propose")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"omni-tui: run: no such command: {name} (not found on PATH or not executable)"]
    assert done.stdout == ""


def test_a_directory_is_not_a_command(project: Path, need_bwrap: None) -> None:
    done = run(project, str(project))
    assert done.returncode == 2 and done.stderr.startswith("omni-tui: run: no such command:"), done.stderr
