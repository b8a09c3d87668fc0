"""Helpers for the cockpit's Pilot tests: a real workspace, the real CLI as the agent, screen text, polling."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from omni_tui.core.proposals import Decision, FileChange, Proposal, ProposalStore, new_id
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace

FAST_REBUILD = "echo building; sleep 0.2; echo done"
SIZE = (120, 34)


def open_workspace(root: Path, *, command: str | None = FAST_REBUILD, extra: str = "") -> Workspace:
    """Write an omni-tui.toml (a fast real rebuild command unless None) and open the workspace."""
    text = f"[rebuild]\ncommand = {json.dumps(command)}\n" if command is not None else ""
    (root / "omni-tui.toml").write_text(text + extra)
    return Workspace.open(root)


def screen_strips(app) -> list:
    """The terminal's lines now (the active screen, a modal's dimmed background screens included), as Strips.

    Rendered as Textual renders a frame: with the screens under a modal in its context. Without them a
    modal's background renders blank, and that blank stays in the modal's line cache: a screenshot taken
    after it showed the modal over an empty screen (a snapshot failed so under OMNI_TUI_JITTER)."""
    from textual._context import visible_screen_stack

    token = visible_screen_stack.set(list(app._background_screens))
    try:
        return app.screen._compositor.render_strips()
    finally:
        visible_screen_stack.reset(token)


def screen_text(app) -> str:
    """What the terminal shows now (the active screen), as plain text lines."""
    return "\n".join(strip.text for strip in screen_strips(app))


def region_rows(app, region) -> list[str]:
    """The screen's rows inside one widget's region (the proposal detail, not the Changes panel beside it)."""
    return [line[region.x : region.right] for line in screen_text(app).splitlines()[region.y : region.bottom]]


def region_text(app, region) -> str:
    return "\n".join(region_rows(app, region))


def ready(app, screen_type: type) -> bool:
    """The active screen is a `screen_type` a person can read and type into: pushed is not enough (it
    composes, mounts, takes focus and draws its footer a few frames later, later still on a loaded machine)."""
    from omni_tui.ui.widgets.key_bar import KeyBar

    screen = app.screen
    if not isinstance(screen, screen_type) or not screen._is_mounted or not screen_text(app).strip():
        return False
    if screen.query("Input, TextArea") and screen.focused is None:  # where the person types, once focused
        return False
    for bar in screen.query(KeyBar):
        if not bar.entries or not bar.region.width:  # its keys read, and laid out: drawn
            return False
    return True


async def approve_selected(pilot) -> None:
    """`a` on the selected proposal, then `y` once the approve modal offers it."""
    await press_when_offered(pilot, "a", "approve")
    await confirm_when_offered(pilot)


async def confirm_when_offered(pilot) -> None:
    """`y` in the approve (or accept) modal once it offers it: while a check or the change card is still
    coming, the dialog says so on its error line and `y` does nothing, as a person sees."""
    from omni_tui.ui.screens import ApproveScreen

    app = pilot.app
    await wait_for(pilot, lambda: ready(app, ApproveScreen) and app.screen.check_action("confirm", ()) is True, what="y offered")
    await pilot.press("y")


async def reject_selected(pilot, reason: str) -> None:
    """`r` on the selected proposal, then the reason typed and entered once the reject modal is open."""
    from omni_tui.ui.screens import RejectScreen

    await pilot.press("r")
    await wait_for(pilot, lambda: ready(pilot.app, RejectScreen), what="the reject modal")
    await pilot.press(*reason, "enter")


async def press_when_offered(pilot, key: str, action: str) -> None:
    """Press `key` once the footer offers `action` (a person presses what the footer shows live, not greyed):
    right after a proposal lands its check, the gate's state or a rebuild may still be settling."""
    app = pilot.app
    await wait_for(pilot, lambda: app.screen is app.main and app.why_unavailable(action) is None, what=f"{action} offered")
    await pilot.press(key)


def notices(app, text: str) -> int:
    """How many toasts containing `text` the app holds. `App.notify` posts a message, so a toast lands a
    moment after the code that raised it: wait for it (`wait_for(pilot, lambda: notices(...))`), never assert at once."""
    return sum(text in n.message for n in app._notifications)


async def wait_for(pilot, condition: Callable[[], object], timeout: float = 30.0, what: str = "condition"):
    """Poll `condition` while the app runs; fail with `what` after `timeout` seconds (generous: loaded CI)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            toasts = [str(n.message) for n in pilot.app._notifications]
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\ntoasts: {toasts}\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "omni_tui", *args]


def propose(
    root: Path,
    path: str,
    content: str,
    *,
    title: str = "Add ripgrep",
    why: str = "faster search",
    agent: str = "test-agent",
    wait: bool = False,
) -> subprocess.Popen[str]:
    """Submit a proposal through the real CLI, as an agent would (returns the running process)."""
    source = root.parent / f"proposed-{time.monotonic_ns()}.txt"
    source.write_text(content)
    args = ["propose", "-C", str(root), path, "--new-content", str(source), "--title", title, "--why", why, "--agent", agent]
    if wait:
        args += ["--wait", "--timeout", "120"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    return subprocess.Popen(cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def propose_now(root: Path, path: str, content: str, **kwargs) -> str:
    """Submit and return the proposal id (the CLI prints it)."""
    proc = propose(root, path, content, **kwargs)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.strip().splitlines()[0]


async def wait_exit(proc: subprocess.Popen[str], timeout: float = 60.0) -> int:
    """Wait for a subprocess without blocking the app's event loop."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the agent process did not exit")
        await asyncio.sleep(0.05)
    return proc.returncode


def edited(project: Path, old: str, new: str) -> str:
    """The project's devenv.nix with `old` (which must be there) replaced once by `new`."""
    text = (project / "devenv.nix").read_text()
    assert old in text
    return text.replace(old, new, 1)


def decision_of(ws: Workspace, proposal_id: str) -> Decision | None:
    return ProposalStore(ws).decision(proposal_id)


def cockpit(ws: Workspace, **options: object):
    """The cockpit as most tests want it: process polling off unless asked (`poll_processes=True`)."""
    from omni_tui.ui.app import CockpitApp

    return CockpitApp(ws, **{"poll_processes": False, **options})  # type: ignore[arg-type]


def write_proposal_file(root: Path, proposals: Path, i: int, created: str) -> str:
    """A proposal file put straight into proposals/ (as an agent may, without the CLI), adding `pkgs.tool{i}`
    to devenv.nix, made at `created` (its age on a fixed clock); returns its id."""
    original = (root / "devenv.nix").read_text()
    text = original.replace("pkgs.jq ]", f"pkgs.jq pkgs.tool{i} ]")
    pid = new_id()
    while (proposals / f"{pid}.json").exists():
        pid = new_id()
    proposal = Proposal(pid, "agent", f"Add tool{i}", "why", created, (FileChange("devenv.nix", sha256_bytes(original.encode()), text),))
    (proposals / f"{pid}.json").write_text(json.dumps(proposal.to_json()))
    return pid
