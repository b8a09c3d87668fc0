"""Keys typed faster than a modal opens (a paste, tmux send-keys, a fast typist) all reach it, in order."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, decision_of, edited, open_workspace, propose_now, ready, screen_text, wait_for
from textual import events

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import ApproveScreen, EditScreen, RejectScreen


async def test_a_reason_typed_and_entered_at_once_is_the_reason_recorded(project: Path) -> None:
    """Keys arriving in one burst (tmux send-keys, a paste, a fast typist): enter must not overtake the text."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        reason = "no mysql please"
        # As the terminal driver delivers them: every key posted to the app before any is handled.
        for char in reason:
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("enter", "\r"))
        await wait_for(pilot, lambda: decision_of(ws, pid) is not None, what="the rejection")
        assert decision_of(ws, pid).reason == reason
        assert not isinstance(app.screen, RejectScreen)


async def test_text_typed_and_saved_at_once_in_the_editor_is_what_is_approved(project: Path, builtin_editor: None) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.press("e")
        await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")
        for char in "# ok":
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("ctrl+s", None))
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal after saving")
        assert app.review.edited[pid]["devenv.nix"].startswith("# ok")


def burst(app: CockpitApp, keys: str, *, then: str | None = None) -> None:
    """Keys as the terminal driver delivers a burst (tmux send-keys, a paste, a fast typist): every key
    posted to the app before any is handled."""
    for char in keys:
        app.post_message(events.Key("space" if char == " " else char, char))
    if then is not None:
        app.post_message(events.Key(then, {"enter": "\r", "ctrl+s": "\x13"}.get(then)))


async def test_r_then_the_reason_and_enter_at_once_rejects_with_that_reason(project: Path) -> None:
    """`r` opens the modal only once it is handled; the reason typed right behind it (with a `q`, the quit
    key, and a space, the hunk key) must land in the modal, not vanish or act on the cockpit."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "rquite risky", then="enter")
        await wait_for(pilot, lambda: ProposalStore(ws).decision(pid) is not None, what="the rejection")
        assert ProposalStore(ws).decision(pid).reason == "quite risky"
        assert app.is_running and not isinstance(app.screen, RejectScreen)


async def test_r_then_the_reason_at_once_fills_the_modal(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "rpin it")
        await wait_for(pilot, lambda: ready(app, RejectScreen) and app.screen.reason == "pin it", what="the reason typed into the modal")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RejectScreen), what="the modal closed")
        assert ProposalStore(ws).status(pid) == "pending"


async def test_e_then_typing_and_save_at_once_keeps_every_key(project: Path, builtin_editor: None) -> None:
    """The built-in editor opens only once `e` is handled: what is typed behind it, and ctrl+s, still land."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        proposed = edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57")
        pid = propose_now(project, "devenv.nix", proposed, title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "e# ok", then="enter")
        burst(app, "", then="ctrl+s")
        await wait_for(pilot, lambda: pid in app.review.edited, what="the edit kept")
        assert app.review.edited[pid]["devenv.nix"] == "# ok\n" + proposed
        assert not isinstance(app.screen, EditScreen)
        await wait_for(pilot, lambda: "edited by you" in screen_text(app), what="the proposal marked as edited")
