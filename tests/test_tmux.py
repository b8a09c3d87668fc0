"""The installed `omni-tui` as a person runs it: in tmux, keys sent with send-keys, the screen read with
capture-pane. An agent proposes with `omni-tui propose --wait`; the person approves with `a` and `y`;
the rebuild runs; the agent's `--wait` exits 0; `q` quits and the pane's process is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

OMNI_TUI = Path(sys.executable).with_name("omni-tui")
REBUILD = "echo 'building the shell'; sleep 0.3; echo 'rebuild done'"


def _command() -> list[str]:
    return [str(OMNI_TUI)] if OMNI_TUI.exists() else [sys.executable, "-m", "omni_tui"]


class Pane:
    """One private tmux server (its own socket, so a person's tmux is never touched) with one pane."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, argv: list[str], env: dict[str, str], cwd: Path, status_file: Path) -> None:
        """Run `argv` in a clean environment; the pane's shell writes its exit status to `status_file`.

        (The shell reaps it: tmux's own `pane_dead_status` can lag behind for a long time.)
        """
        program = " ".join(_quote(a) for a in ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv])
        command = f"{program}; echo $? > {_quote(str(status_file))}"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "cockpit", "-x", "120", "-y", "34", "-c", str(cwd), command)
        # Keep the pane after its shell exits, so the end can be seen.
        self.tmux("set-option", "-t", "cockpit", "remain-on-exit", "on")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "cockpit")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "cockpit", *keys)

    def pane(self, field: str) -> str:
        return self.tmux("display-message", "-p", "-t", "cockpit", f"#{{{field}}}").strip()

    def wait_for(self, needle: str, timeout_s: float = 90.0) -> str:
        screen = ""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            screen = self.screen()
            if needle in screen:
                return screen
            if self.pane("pane_dead") == "1":
                break
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} did not appear within {timeout_s:g} s; the screen:\n{screen}")

    def kill(self) -> None:
        self.tmux("kill-server", check=False)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 90.0, pane: Pane | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    screen = f"; the screen:\n{pane.screen()}" if pane is not None else ""
    raise AssertionError(f"timed out waiting for {what}{screen}")


def test_a_person_approves_a_proposal_in_the_installed_cockpit(need_tmux: None, project: Path, tmp_path: Path) -> None:
    (project / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "{REBUILD}"\n')
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    pane = Pane(f"omni-tui-test-{uuid.uuid4().hex[:8]}")
    agent: subprocess.Popen[str] | None = None
    try:
        status_file = tmp_path / "cockpit.status"
        pane.start([*_command(), str(project)], env, project, status_file)
        pane.wait_for("CLEAN")

        original = (project / "devenv.nix").read_text()
        new_content = original.replace("pkgs.jq ]", "pkgs.jq pkgs.redis ]")
        assert new_content != original
        proposed = tmp_path / "devenv.nix.new"
        proposed.write_text(new_content)
        agent = subprocess.Popen(
            [
                *_command(),
                "propose",
                "-C",
                str(project),
                "devenv.nix",
                "--new-content",
                str(proposed),
                "--title",
                "Add redis for the cache",
                "--why",
                "the web process needs a cache",
                "--agent",
                "claude",
                "--wait",
                "--timeout",
                "180",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        screen = pane.wait_for("Add redis for the cache")
        pane.wait_for("1 PENDING")

        pane.keys("a")
        screen = pane.wait_for("Approve: Add redis for the cache")
        assert "devenv.nix" in screen and "+1 -1" in screen
        assert "then rebuild:" in screen and "echo 'building the shell'" in screen
        pane.keys("y")

        pane.wait_for("rebuild done")
        out, err = agent.communicate(timeout=120)
        assert agent.returncode == 0, f"propose --wait exited {agent.returncode}: {out} {err}"
        proposal_id = out.splitlines()[0].strip()
        assert "applied" in out

        decision = json.loads((project / ".devenv" / "omni" / "decisions" / f"{proposal_id}.json").read_text())
        assert decision["status"] == "applied"
        assert decision["exit_code"] == 0
        assert (project / "devenv.nix").read_text() == new_content
        pane.wait_for("CLEAN")

        pane.keys("q")
        _wait(lambda: status_file.exists() and status_file.read_text().strip() != "", "the cockpit to exit after q", 60, pane)
        assert status_file.read_text().strip() == "0", f"the cockpit exited with {status_file.read_text().strip()}"
        _wait(lambda: pane.pane("pane_dead") == "1", "the pane to close", 30, pane)
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(timeout=10)
        pane.kill()
