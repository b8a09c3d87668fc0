"""A decision file that is not one (something other than the cockpit wrote `decisions/<id>.json`) is
moved aside, and the cockpit says what it was: a decision it did not write, for which proposal, and
that the proposal stays undecided — not "Invalid proposal file", which sent the person looking for a
broken proposal. A well-formed forgery makes the gate TAMPERED (tests/test_app_tampered.py)."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, edited, open_workspace, propose_now, screen_text, wait_for

from omni_tui.core.proposals import ProposalStore


async def test_a_garbled_decision_file_is_named_as_a_decision_the_cockpit_did_not_write(project: Path) -> None:
    ws = open_workspace(project)
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), title="Add htop")
    ws.paths.decisions.mkdir(parents=True, exist_ok=True)
    (ws.paths.decisions / f"{pid}.json").write_text('{"status": "applied", "who": "alice\\u001b[2J"}')
    app = cockpit(ws)
    async with app.run_test(size=(120, 34)) as pilot:
        name = f"decisions-{pid}.json"
        await wait_for(pilot, lambda: "? decisions-2" in " ".join(screen_text(app).split()), what="the moved-aside decision's row")
        assert app.review.entries[pid].status == "pending"  # still the person's to decide
        app.queue.focus()
        while app.review.selected_key != f"quarantine:{name}":
            await pilot.press("down")
            await wait_for(pilot, lambda: app.review.selected_key is not None, what="a selection")
        await wait_for(pilot, lambda: "that the cockpit did not" in screen_text(app), what="the detail of the moved-aside file")
        text = str(app.query_one("#detail-rationale").content)  # as drawn, before the panel wraps it
        assert f"A decision file for {pid} that the cockpit did not write, moved aside" in text
        assert "Invalid proposal file" not in text
    (moved,) = ProposalStore(ws).quarantined()
    assert moved.decision_for == pid


def test_a_second_bad_decision_for_the_same_proposal_keeps_its_kind(project: Path) -> None:
    ws = open_workspace(project)
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
    store = ProposalStore(ws)
    ws.paths.decisions.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        (ws.paths.decisions / f"{pid}.json").write_text("not json")
        assert [e.status for e in ProposalStore(ws).entries()] == ["pending"]
    assert sorted(q.decision_for for q in store.quarantined()) == [pid, pid]
