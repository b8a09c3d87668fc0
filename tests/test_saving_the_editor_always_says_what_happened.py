"""Saving the built-in editor (`e`, then ctrl+s) always tells the person what became of it.

Before, two saves closed the editor and did nothing, without a word: a save with nothing changed (the
person expected the approve step) and a save after the agent withdrew the proposal meanwhile (the
person's edit was dropped silently)."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from app_harness import SIZE, cockpit, notices, open_workspace, propose_now, ready, screen_text, wait_for
from textual.widgets import TextArea

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui import decisions
from omni_tui.ui.screens import ApproveScreen, EditScreen, HelpScreen

ADD_JQ_AND_RIPGREP = ("pkgs.jq", "pkgs.jq pkgs.ripgrep")


def proposed(project: Path) -> str:
    old, new = ADD_JQ_AND_RIPGREP
    return (project / "devenv.nix").read_text().replace(old, new, 1)


async def open_editor(pilot, app, title: str) -> None:
    await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == title, what="the proposal selected")
    await pilot.press("e")
    await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")


async def test_saving_without_a_change_says_the_proposal_stays_as_proposed(project: Path, builtin_editor: None) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        propose_now(project, "devenv.nix", proposed(project), title="Add ripgrep")
        await open_editor(pilot, app, "Add ripgrep")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: notices(app, "Saved without changes"), what="the notice that nothing changed")
        assert not isinstance(app.screen, (EditScreen, ApproveScreen))
        assert any("the proposal stays as the agent wrote it" in str(n.message) for n in app._notifications)


async def test_saving_an_edit_of_a_proposal_withdrawn_meanwhile_says_it_was_not_applied(project: Path, builtin_editor: None) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pid = propose_now(project, "devenv.nix", proposed(project), title="Add ripgrep")
        await open_editor(pilot, app, "Add ripgrep")
        app.screen.query_one(TextArea).insert("# reviewed by a person\n", (0, 0))
        ProposalStore(ws).withdraw(pid, who="test-agent")
        await wait_for(pilot, lambda: app.review.pending(pid) is None, what="the cockpit to see the withdrawal")
        before = (project / "devenv.nix").read_text()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: notices(app, "your edit was not applied"), what="the notice that the edit went nowhere")
        assert any("withdrawn" in str(n.message) for n in app._notifications if "your edit" in str(n.message))
        assert not isinstance(app.screen, ApproveScreen)
        assert (project / "devenv.nix").read_text() == before
        assert "Add ripgrep" in screen_text(app)


async def test_an_editor_that_fails_says_the_edit_is_discarded_and_nothing_else(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    monkeypatch.setenv("EDITOR", "my-editor")
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # the headless test terminal cannot be handed over
    ran: list[list[str]] = []
    real_run = subprocess.run

    def failing_editor(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        if args[0] != "my-editor":
            return real_run(args, **kwargs)  # the checks' nix-instantiate
        ran.append(args)
        return subprocess.CompletedProcess(args, 1)

    monkeypatch.setattr(decisions.subprocess, "run", failing_editor)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        propose_now(project, "devenv.nix", proposed(project), title="Add ripgrep")
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == "Add ripgrep", what="the proposal selected")
        await pilot.press("e")
        await wait_for(pilot, lambda: notices(app, "$EDITOR exited with 1; the edit is discarded"), what="the editor's failure")
        assert len(ran) == 1
        # Anything the failed edit posted is handled before a key pressed after it: then nothing else was said.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help screen")
        assert notices(app, "Saved without changes") == 0
        assert not any(isinstance(screen, (EditScreen, ApproveScreen)) for screen in app.screen_stack)
