"""Proposals arriving in a burst make one toast at a time: the first is told at once, those arriving
while its toast is up are told together when it is gone ("N new proposals") — 200 arriving in 10 s
made a column of 200 toasts, each mounted again on every screen change, and keys waited on them."""

from __future__ import annotations

import json
from pathlib import Path

from app_harness import SIZE, cockpit, notices, open_workspace, wait_for

from omni_tui.core.audit import utc_now
from omni_tui.core.proposals import FileChange, Proposal, new_id
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace


def _write(ws: Workspace, n: int) -> list[str]:
    original = (ws.root / "devenv.nix").read_text()
    ids = []
    for i in range(n):
        pid = new_id()
        while (ws.paths.proposals / f"{pid}.json").exists():
            pid = new_id()
        text = original.replace("pkgs.jq ]", f"pkgs.jq pkgs.tool{i} ]")
        proposal = Proposal(
            pid, "burst", f"Add tool{i}", "burst", utc_now(), (FileChange("devenv.nix", sha256_bytes(original.encode()), text),)
        )
        (ws.paths.proposals / f"{pid}.json").write_text(json.dumps(proposal.to_json()))
        ids.append(pid)
    return ids


async def test_proposals_arriving_while_a_toast_is_up_are_told_together_after_it(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import omni_tui.ui.workspace_view as view_module

    monkeypatch.setattr(view_module, "NEW_TOAST_S", 600.0)  # toasts stay up until this test says the first is gone
    ws = open_workspace(project)
    ids = _write(ws, 4)  # there when the cockpit opens: no toast for them (see test_app_long_queue)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: all(app.review.pending(pid) for pid in ids), what="the proposals listed")
        entries = [app.review.pending(pid) for pid in ids]
        proposals = [entry.proposal for entry in entries if entry is not None]
        view = app.workspace
        # As three listings in a row would: one, then two more while its toast is up.
        view.announce_new(proposals[:1])
        view.announce_new(proposals[1:2])
        view.announce_new(proposals[2:3])
        await wait_for(pilot, lambda: notices(app, "burst: Add tool0"), what="the first one told at once")
        assert notices(app, "new proposals") == 0  # the others wait while its toast is up
        view._announce_waiting()  # as when its toast is gone (a timer, NEW_TOAST_S after it)
        await wait_for(pilot, lambda: notices(app, "2 new proposals"), what="the two that came meanwhile, told together")
        assert notices(app, "Add tool1") == 0 and notices(app, "Add tool2") == 0  # not one toast each
        assert notices(app, "new proposals") == 1


async def test_a_proposal_gone_before_its_toast_is_not_told(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import omni_tui.ui.workspace_view as view_module

    monkeypatch.setattr(view_module, "NEW_TOAST_S", 600.0)  # its toast is up until this test says it is gone
    ws = open_workspace(project)
    ids = _write(ws, 3)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: all(app.review.pending(pid) for pid in ids), what="the proposals listed")
        proposals = [entry.proposal for pid in ids if (entry := app.review.pending(pid)) is not None]
        view = app.workspace
        view.announce_new(proposals[:1])
        view.announce_new(proposals[1:3])
        (ws.paths.proposals / f"{ids[2]}.json").unlink()  # withdrawn before the toast for it
        await wait_for(pilot, lambda: app.review.pending(ids[2]) is None, what="the withdrawn proposal gone from the review")
        view._announce_waiting()  # as when the first toast is gone
        await wait_for(pilot, lambda: notices(app, "burst: Add tool1"), what="the one still waiting, told by name")
        assert notices(app, "new proposals") == 0 and notices(app, "Add tool2") == 0


async def test_listings_in_a_burst_show_the_newest_and_lose_nothing(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import time

    import omni_tui.ui.workspace_view as view_module
    from omni_tui.core.proposals import ProposalStore

    monkeypatch.setattr(view_module, "NEW_TOAST_S", 600.0)  # the toast stays up until the test has read it
    ws = open_workspace(project)
    ids = _write(ws, 3)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.main.queue.row_count == 3, what="the proposals listed")
        entries = tuple(entry for entry in ProposalStore(ws).entries() if entry.proposal.id in ids)
        entries = tuple(sorted(entries, key=lambda entry: ids.index(entry.proposal.id)))
        view = app.workspace
        # No listing just shown, and none waiting (the watcher's own listing of the 3 may be due).
        await wait_for(pilot, lambda: time.monotonic() >= view._listing_after and view._listing_due is None, what="no listing just shown")
        view.apply_proposals(entries[:1], (), {})  # the first of a burst: shown at once
        view.apply_proposals(entries[:2], (), {})  # the next ones wait, the newest wins
        view.apply_proposals(entries, (), {})
        assert app.main.queue.row_count == 1
        await wait_for(pilot, lambda: app.main.queue.row_count == 3, what="the newest listing of the burst")
        assert all(app.review.pending(pid) for pid in ids)
        await wait_for(pilot, lambda: notices(app, "burst: Add tool1") or notices(app, "new proposals"), what="the two back told")
