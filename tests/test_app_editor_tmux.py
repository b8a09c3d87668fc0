"""`e` with $EDITOR set: the real cockpit in tmux hands the terminal to the editor (App.suspend) and approves its text."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from app_harness import FAST_REBUILD, open_workspace, propose

from omni_tui.core.proposals import ProposalStore

GOOD_SUFFIX = "\n# (end)\n"


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def wait_screen(session: str, needle: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = capture(session)
        if needle in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared on the tmux screen:\n{capture(session)}")


def test_edit_with_editor_runs_it_in_the_terminal_and_approves_the_edited_text(project: Path, need_tmux: None, tmp_path: Path) -> None:
    ws = open_workspace(project, command=FAST_REBUILD)
    # A non-interactive "editor": it inserts a first line into the file it is given, as a person would.
    editor = "sed -i '1i # checked in $EDITOR'"
    session = f"omni-edit-{os.getpid()}"
    env_args = ["env", f"EDITOR={editor}", f"HOME={tmp_path}", "TERM=xterm-256color"]
    command = " ".join(shlex.quote(part) for part in [*env_args, sys.executable, "-m", "omni_tui", str(project)])
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "34", command], check=True)
    try:
        wait_screen(session, "CLEAN")
        content = (project / "devenv.nix").read_text() + GOOD_SUFFIX
        agent = propose(project, "devenv.nix", content, title="Mark the end", wait=True)
        wait_screen(session, "Mark the end")
        wait_screen(session, "✓ ok")
        subprocess.run(["tmux", "send-keys", "-t", session, "e"], check=True)
        wait_screen(session, "Approve: Mark the end")
        subprocess.run(["tmux", "send-keys", "-t", session, "y"], check=True)
        assert agent.wait(timeout=60) == 0
        assert (project / "devenv.nix").read_text() == "# checked in $EDITOR\n" + content
        entry = ProposalStore(ws).entries()[0]
        assert entry.status == "applied" and entry.decision.files[0].applied == "edited"
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the cockpit did not exit on q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
