"""`omni-tui demo` as a person runs it: under tmux, with a clean HOME and TMPDIR, driven by keys and
read from the screen. Approve the first proposal, see the rebuild finish and the decision on disk,
reject the next with a reason, quit with `q`: no demo process is left and the workspace is gone."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from omni_tui.demo import procs, script

pytestmark = [pytest.mark.tmux, pytest.mark.nix]

OMNI_TUI = Path(sys.executable).with_name("omni-tui")


class Tmux:
    """One private tmux server (its own socket) running one 120x34 pane."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-t", "demo")  # -J: wrapped lines joined

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "demo", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "demo", "-l", text)

    def wait_for(self, needle: str, timeout_s: float = 90.0) -> str:
        deadline = time.monotonic() + timeout_s
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if needle in screen:
                return screen
            time.sleep(0.25)
        raise AssertionError(f"{needle!r} did not appear within {timeout_s:g} s; the screen:\n{screen}")


def wait_for(condition, timeout_s: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def mentioning(root: Path) -> list[str]:
    """Command lines of live processes that name the workspace (honcho, the agent, the reaper, ...)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(root) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found


def decision_for(root: Path, title: str) -> dict | None:
    """The decision document of the proposal with this title, once it is final."""
    state = root / ".devenv" / "omni"
    for proposal_file in (state / "proposals").glob("*.json"):
        proposal = json.loads(proposal_file.read_text())
        if proposal["title"] != title:
            continue
        decision_file = state / "decisions" / proposal_file.name
        if decision_file.is_file():
            decision = json.loads(decision_file.read_text())
            if decision["status"] not in ("applying", "rebuilding"):
                return decision
    return None


def test_demo_under_tmux_approve_reject_quit_leaves_nothing_behind(need_tmux: None, need_nix: None, tmp_path: Path) -> None:
    home, tmpdir = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmpdir.mkdir()
    tmux = Tmux(f"omni-demo-test-{uuid.uuid4().hex[:8]}")
    env = {
        "HOME": str(home),
        "TMPDIR": str(tmpdir),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PATH": os.environ["PATH"],
        "OMNI_TUI_DEMO_PACE": "1",
        "OMNI_TUI_DEMO_BUILD_DELAY": "0.05",
    }
    command = f"{OMNI_TUI} demo; echo DEMO-EXITED $?; sleep 600"
    args = ["new-session", "-d", "-x", "120", "-y", "34", "-s", "demo"]
    for name, value in env.items():
        args += ["-e", f"{name}={value}"]
    root: Path | None = None
    try:
        tmux.run(*args, "env", "-i", *[f"{k}={v}" for k, v in env.items()], "sh", "-c", command)
        root = wait_for(lambda: next(iter(tmpdir.glob("omni-tui-demo-*")), None), what="the demo workspace")

        first, second = script.STEPS[0].title, script.STEPS[1].title
        # The header says it is the demo, and where (a long temporary path keeps its end: the folder's name,
        # once the header has fitted it to the width).
        wait_for(
            lambda: "DEMO · " in (top := (tmux.screen().splitlines() or [""])[0]) and root.name in top,
            what="the header naming the demo and its folder",
        )
        tmux.wait_for(first)
        tmux.keys("a")
        # The confirmation modal: what the change does first (the card), its button in view.
        tmux.wait_for(f"Approve: {first}")
        tmux.wait_for("What it does")
        tmux.wait_for("Approve (y)")
        tmux.keys("y")
        decision = wait_for(lambda: decision_for(root, first), what="the first proposal's decision on disk")
        assert decision["status"] == "applied" and decision["exit_code"] == 0
        tmux.wait_for(f"✓ applied by {getpass.getuser()} (exit 0")  # the decision line, in the rebuild log
        assert "pkgs.ripgrep" in (root / "devenv.nix").read_text()

        tmux.wait_for(second)
        # The cockpit selects the proposal that arrived after the decision: its reasoning is shown.
        tmux.wait_for(script.STEPS[1].why[:40])
        tmux.keys("r")
        tmux.wait_for("The agent reads this reason")
        reason = "no MySQL 5.7 please, the import can use a dump"
        tmux.type(reason)
        tmux.wait_for(reason)
        tmux.keys("Enter")
        decision = wait_for(lambda: decision_for(root, second), what="the second proposal's decision on disk")
        assert decision["status"] == "rejected"
        assert decision["reason"] == reason
        assert "pkgs.mysql57" not in (root / "devenv.nix").read_text()

        tmux.keys("q")
        screen = tmux.wait_for("DEMO-EXITED", timeout_s=60)
        assert "DEMO-EXITED 0" in screen
        assert f"workspace {root} removed" in screen
        assert procs.marked(root) == []
        assert mentioning(root) == []  # nor the reaper, nor anything else started for this workspace
        assert not root.exists()
        assert list(tmpdir.glob("omni-tui-demo-*")) == []
    finally:
        tmux.run("kill-server", check=False)
        if root is not None:
            procs.sweep(root)
            if root.exists():
                shutil.rmtree(root, ignore_errors=True)
