"""What the third QA pass found using the cockpit as its users do, each pinned by a test that failed before the fix.

Every test runs the real `CockpitApp` under Pilot on a real temp workspace, with the real
`omni-tui propose` as the agent.
"""

from __future__ import annotations

from pathlib import Path

from textual import events

from app_harness import SIZE, open_workspace, propose_now, wait_for
from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import RejectScreen


def edited(project: Path, old: str, new: str) -> str:
    text = (project / "devenv.nix").read_text()
    assert old in text
    return text.replace(old, new, 1)


def burst(app: CockpitApp, keys: str, *, then: str | None = None) -> None:
    """Keys as the terminal driver delivers a burst (tmux send-keys, a paste, a fast typist): every key
    posted to the app before any is handled."""
    for char in keys:
        app.post_message(events.Key("space" if char == " " else char, char))
    if then is not None:
        app.post_message(events.Key(then, "\r" if then == "enter" else None))


async def test_r_then_the_reason_and_enter_at_once_rejects_with_that_reason(project: Path) -> None:
    """`r` opens the modal only once it is handled; the reason typed right behind it (with a `q`, the quit
    key, and a space, the hunk key) must land in the modal, not vanish or act on the cockpit."""
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "rquite risky", then="enter")
        await wait_for(pilot, lambda: ProposalStore(ws).decision(pid) is not None, what="the rejection")
        assert ProposalStore(ws).decision(pid).reason == "quite risky"
        assert app.is_running and not isinstance(app.screen, RejectScreen)


async def test_r_then_the_reason_at_once_fills_the_modal(project: Path) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "rpin it")
        await wait_for(pilot, lambda: isinstance(app.screen, RejectScreen) and app.screen.reason == "pin it",
                       what="the reason typed into the modal")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RejectScreen), what="the modal closed")
        assert ProposalStore(ws).status(pid) == "pending"
