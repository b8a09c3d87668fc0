"""Decided proposals in the cockpit show the change that was applied (before → written), from the backups.

The real `CockpitApp` under Pilot on a real workspace: approvals driven by keys with a real rebuild
command, or made beforehand by the real gate (as another cockpit would have).
"""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

from app_harness import SIZE, approve_selected, cockpit, open_workspace, propose_now, screen_text, wait_for

from omni_tui.core.gate import Gate
from omni_tui.core.history import applied_label
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.ui.workers import HistoryCache, read_proposals

OLD = "{ pkgs, ... }:\n{\n  packages = [\n" + "".join(f"    pkgs.p{i}\n" for i in range(1, 31)) + "  ];\n}\n"
NEW = OLD.replace("pkgs.p3\n", "pkgs.three\n").replace("pkgs.p27\n", "pkgs.twenty-seven\n")


def start(project: Path, **kwargs):
    (project / "devenv.nix").write_text(OLD)
    ws = open_workspace(project, **kwargs)
    ws.write_baseline("devenv.nix", OLD.encode())
    return ws


def decision_status(ws, pid: str) -> str | None:
    decision = ProposalStore(ws).decision(pid)
    return decision.status if decision else None


def ok_step() -> RebuildOutcome:
    return RebuildOutcome(0, 0.01, None, ("built",))


async def select(pilot, app, title: str) -> None:
    await wait_for(pilot, lambda: title in screen_text(app), what=f"{title!r} in the queue")
    await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == title, what="the proposal selected")


async def test_an_approved_proposal_shows_the_diff_that_was_applied(project: Path) -> None:
    ws = start(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", NEW, title="Two edits")
        await select(pilot, app, "Two edits")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: decision_status(ws, pid) == "applied", what="the approval")
        await wait_for(pilot, lambda: "Applied: before → after, from the backup" in screen_text(app), what="the history label")
        text = screen_text(app)
        assert "pkgs.three" in text and "hunk 1 of 2" in text  # the change itself, not 'the file has it now'
        assert "Applied: the file has this proposal's content now" not in text
        # its hunks are what was applied, not choices: space says so and changes nothing
        app.detail.diff.focus()
        await pilot.press("space")
        await pilot.pause()
        assert "✗@@" not in screen_text(app)


async def test_a_partial_approval_shows_only_the_chosen_hunk(project: Path) -> None:
    ws = start(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", NEW, title="Two edits")
        await select(pilot, app, "Two edits")
        await pilot.press("enter", "n", "space")  # into the diff, first hunk, leave it out
        await wait_for(pilot, lambda: app.detail.diff.selected_hunks == {1}, what="hunk 0 left out")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: decision_status(ws, pid) == "applied", what="the approval")
        # The label, the diff's title and the diff land in the detail a frame or two apart.
        shown = ("chosen hunks only", "Applied: before → after", "pkgs.twenty-seven", "hunk 1 of 1")
        await wait_for(pilot, lambda: all(part in screen_text(app) for part in shown), what="the applied hunk, labelled")
        text = screen_text(app)
        assert "pkgs.three" not in text  # left out: not part of what was applied
        assert "✗@@" not in text  # the hunk chosen before approving does not mark the applied diff


async def test_edited_and_rolled_back_decisions_made_elsewhere_show_what_was_written(project: Path) -> None:
    ws = start(project, command="exit 1")
    store = ProposalStore(ws)
    edited = store.create({"devenv.nix": NEW}, title="Edited by a person", rationale="r", agent="claude")
    Gate(ws).approve(edited.id, rebuild=ok_step, edited={"devenv.nix": OLD.replace("pkgs.p1\n", "pkgs.reviewed\n")})
    (project / "devenv.nix").write_text(OLD)  # later changes do not alter the history
    ws.record_baselines({"devenv.nix": OLD.encode()}, who="alice")
    tried = store.create({"devenv.nix": NEW}, title="Broke the build", rationale="r", agent="claude")
    failing = lambda: RebuildOutcome(1, 0.01, None, ("error: boom",))  # noqa: E731
    assert Gate(ws).approve(tried.id, rebuild=failing, hunks={"devenv.nix": {1}}).status == "rolled_back"
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        app.queue.select_key(edited.id)
        await wait_for(pilot, lambda: "edited before approval" in screen_text(app), what="the edited history")
        assert "pkgs.reviewed" in screen_text(app) and "pkgs.three" not in screen_text(app)
        app.queue.select_key(tried.id)
        await wait_for(pilot, lambda: "Rolled back: this change was tried and undone" in screen_text(app), what="the rollback label")
        text = screen_text(app)
        assert "pkgs.twenty-seven" in text and "pkgs.three" not in text


async def test_without_backups_the_panel_says_so_and_compares_the_file_now_with_the_proposal(project: Path) -> None:
    ws = start(project)
    proposal = ProposalStore(ws).create({"devenv.nix": NEW}, title="Old approval", rationale="r", agent="claude")
    Gate(ws).approve(proposal.id, rebuild=ok_step)
    shutil.rmtree(ws.paths.backups)  # e.g. removed by hand
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        app.queue.select_key(proposal.id)
        await wait_for(
            pilot, lambda: "No backup of this change: the file now → the proposal" in screen_text(app), what="the fallback label"
        )
        assert "Applied: the file has this proposal's content now" in screen_text(app)  # the file now = the proposal


def test_the_history_cache_reads_a_decided_proposal_once(project: Path) -> None:
    ws = start(project)
    store = ProposalStore(ws)
    proposal = store.create({"devenv.nix": NEW}, title="Once", rationale="r", agent="claude")
    _entries, _quarantined, history = read_proposals(store)
    assert history == {}  # pending: nothing written yet
    Gate(ws, store=store).approve(proposal.id, rebuild=ok_step)
    assert read_proposals(store)[2] == {proposal.id: {"devenv.nix": (OLD, NEW)}}
    shutil.rmtree(ws.paths.backups / applied_label(proposal.id))
    shutil.rmtree(ws.paths.backups / proposal.id)
    assert read_proposals(store)[2] == {proposal.id: {"devenv.nix": (OLD, NEW)}}  # not read again
    assert HistoryCache().read(ws, store.entries()) == {proposal.id: None}  # a fresh read finds no backups


def test_which_proposals_show_history_and_what_the_label_says(project: Path) -> None:
    from datetime import datetime

    from omni_tui.core.proposals import AppliedFile, Decision, ProposalEntry
    from omni_tui.ui import presenters

    ws = start(project)
    proposal = ProposalStore(ws).create({"devenv.nix": NEW}, title="t", rationale="r", agent="claude")
    now = datetime.now(UTC)
    change = {"devenv.nix": (OLD, NEW)}

    def view(status: str, history, mode: str = "proposed"):
        decision = Decision(
            proposal.id, status, None, "alice", "2026-01-01T00:00:00Z", files=(AppliedFile("devenv.nix", None, None, mode),)
        )
        entry = ProposalEntry(proposal, status, None if status == "pending" else decision)
        return presenters.proposal_view(entry, {"devenv.nix": OLD + "# now\n"}, None, None, {}, now, history)

    applied = view("applied", change, "hunks")
    assert applied.history and applied.files[0].current == OLD and applied.files[0].proposed == NEW
    assert applied.diff_label == "Applied: before → after, from the backup · chosen hunks only"
    assert view("rolled_back", change, "edited").diff_label.endswith("· edited before approval")
    pending = view("pending", change)  # a pending proposal's diff stays the file now → the proposal
    assert not pending.history and pending.diff_label == "" and pending.files[0].current == OLD + "# now\n"
    missing = view("applied", None)
    assert not missing.history and missing.diff_label == presenters.NO_HISTORY
    assert view("applying", None).diff_label == ""  # still backing up: no alarm
