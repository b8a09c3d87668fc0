"""What the queue and the detail say about a proposal as it moves on: selection after a decision, applied, rejected, failed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_harness import (
    SIZE,
    approve_selected,
    cockpit,
    confirm_when_offered,
    decision_of,
    edited,
    notices,
    open_workspace,
    press_when_offered,
    propose_now,
    ready,
    region_text,
    reject_selected,
    screen_text,
    wait_for,
)

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.screens import RejectScreen

# What must never reach the person's terminal from an agent's text: C0/C1 controls (ESC starts
# escape sequences that recolour, retitle or write the clipboard).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


async def test_a_proposal_arriving_after_a_decision_is_selected(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        first = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="First")
        await wait_for(pilot, lambda: app.review.selected_key == first, what="the first proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: getattr(decision_of(ws, first), "status", None) == "applied", what="the approval")
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the rebuild's end")
        # Nothing is pending now; the agent sends its next proposal.
        second = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.fd"), title="Second")
        await wait_for(pilot, lambda: app.review.selected_key == second, what="the new proposal selected")
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == "Second", what="its detail")
        # `r` now acts on the new one, not on the applied one.
        await press_when_offered(pilot, "r", "reject")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        assert app.screen.proposal_title == "Second"


@pytest.mark.parametrize("how", ["key", "click"])
async def test_a_proposal_arriving_leaves_a_decided_one_the_person_went_to_read(project: Path, how: str) -> None:
    """The person moved onto a decided proposal to read it: one arriving is announced, and the selection
    (the detail, what `a` and `r` would act on) stays where the person put it."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        first = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.uv"), title="First")
        await wait_for(pilot, lambda: app.review.selected_key == first, what="the first proposal selected")
        await reject_selected(pilot, "not now")
        await wait_for(pilot, lambda: "rejected by" in screen_text(app), what="the rejection shown")
        second = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.fd"), title="Second")
        await wait_for(pilot, lambda: app.review.selected_key == second, what="the second selected: nothing was being read")
        await reject_selected(pilot, "later")
        await wait_for(pilot, lambda: getattr(decision_of(ws, second), "status", None) == "rejected", what="the second rejected")
        # Nothing pending; the person goes down to the first, decided one, and reads it.
        if how == "key":
            app.queue.focus()
            await pilot.press("down")
        else:  # rows: the header, Second, First
            await pilot.click(app.queue, offset=(3, 2))
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.key == first, what="the first one's detail")
        third = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Third")
        await wait_for(pilot, lambda: "Third" in region_text(app, app.queue.region), what="the third listed")
        await wait_for(pilot, lambda: notices(app, "Third"), what="its toast")
        assert app.review.selected_key == first and app.detail.view.key == first
        assert "pkgs.uv" in region_text(app, app.detail.region)
        # The person moves to it when they choose to.
        await pilot.press("ctrl+home")
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.key == third, what="the third one's detail")


async def test_an_applied_proposal_says_it_is_applied_not_that_there_is_nothing_to_apply(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the rebuild's end")
        # the change that was applied, from the backups (tests/test_app_history.py: without them)
        await wait_for(pilot, lambda: "Applied: before → after, from the backup" in screen_text(app), what="the detail saying so")
        assert "pkgs.ripgrep" in screen_text(app)
        assert "Nothing to apply" not in screen_text(app)


async def test_a_rejected_proposal_shows_what_it_proposed_not_an_undo_of_later_edits(project: Path) -> None:
    """After a rejection the file moves on (a direct edit); the rejected proposal's diff must not grow a hunk
    that reverts that edit: it shows its own change against the file it was proposed on."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        rejected = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.uv"), title="Add uv")
        await wait_for(pilot, lambda: app.review.selected_key == rejected, what="the proposal selected")
        await reject_selected(pilot, "not now")
        await wait_for(pilot, lambda: "rejected by" in screen_text(app), what="the rejection shown")
        assert app.detail.diff.hunk_count == 1
        other = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.fd"), title="Add fd")
        await wait_for(pilot, lambda: app.review.selected_key == other, what="the new proposal selected")
        # Someone edits the file directly, elsewhere in it; then the person looks at the rejected one again.
        text = (project / "devenv.nix").read_text()
        first = text.splitlines()[0]
        (project / "devenv.nix").write_text(text.replace(first, first + "  # edited", 1))
        await wait_for(pilot, lambda: "UNAPPROVED" in screen_text(app), what="the direct edit seen")
        app.queue.focus()
        await pilot.press("down")
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.key == rejected, what="the rejected one")
        shown = region_text(app, app.detail.region)
        assert "# edited" not in shown, shown  # the rejected proposal's diff does not undo the later edit
        assert app.detail.diff.hunk_count == 1
        assert "pkgs.uv" in shown


async def test_states_read_as_words_after_a_failed_rebuild(project: Path) -> None:
    """The queue, the detail and the rebuild log name states as people read them, not as JSON identifiers."""
    ws = open_workspace(project, command="echo building; echo 'error: no such package' >&2; exit 1")
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.nope"), title="Nope")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: getattr(ProposalStore(ws).decision(pid), "status", None) == "rolled_back", what="the rollback")
        await wait_for(
            pilot, lambda: "· rolled" in screen_text(app) and "rolled back automatically" in screen_text(app), what="the end shown"
        )
        shown = screen_text(app)
        assert "rolled_back" not in shown and "rolling_back" not in shown, shown
        # The queue row follows the decision on its own refresh.
        await wait_for(
            pilot,
            lambda: "Nope" in region_text(app, app.queue.region) and "rolled back" in region_text(app, app.queue.region),
            what="the queue row rolled back",
        )


async def test_a_failure_rolled_back_by_another_process_stops_asking_for_a_rollback(project: Path) -> None:
    """The Rebuild log's `press b to roll back` goes once no failed change waits, whoever rolled it back."""
    from omni_tui.core.gate import Gate
    from omni_tui.core.workspace import Workspace

    ws = open_workspace(project, command="echo 'error: boom' >&2; exit 1")
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.fd"))
        await wait_for(pilot, lambda: "UNAPPROVED" in screen_text(app), what="the direct edit")
        await press_when_offered(pilot, "A", "accept_direct")
        await confirm_when_offered(pilot)
        await wait_for(pilot, lambda: "rebuild FAILED — press b to roll back" in screen_text(app), what="the failure")
        failed = app.review.failed_proposal()
        assert failed is not None
        Gate(Workspace.open(project), who="someone").rollback(failed)  # another cockpit, or `omni-tui` elsewhere
        await wait_for(pilot, lambda: "the failed change was resolved elsewhere" in screen_text(app), what="the panel saying so")
        assert "press b to roll back" not in screen_text(app)
