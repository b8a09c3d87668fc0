"""`[notify] command` hears what happens in a real cockpit session: a new proposal (with its change
card), a rebuild that finished and one that failed, a proposal gone stale, forged state (tampered) —
each as one JSON object on the command's stdin. The cockpit runs under Pilot on a real workspace; the
agent is the real CLI; the command is a real process writing what it read to a file."""

from __future__ import annotations

import json
from pathlib import Path

from app_harness import SIZE, approve_selected, cockpit, decision_of, open_workspace, propose_now, screen_text, wait_for
from test_app_tampered import forge_approval
from test_notify_events import lines, recorder

from omni_tui.core.proposals import ProposalStore

# Fails when the file holds the marker: one rebuild of the session succeeds, one fails.
REBUILD = "if grep -q FAILME devenv.nix; then echo 'error: build failed'; exit 1; fi; echo built"


def edited(project: Path, old: str, new: str) -> str:
    text = (project / "devenv.nix").read_text()
    assert old in text
    return text.replace(old, new, 1)


async def test_a_notify_command_hears_every_kind_of_event_of_a_cockpit_session(project: Path, tmp_path: Path) -> None:
    command, out = recorder(tmp_path)
    ws = open_workspace(project, command=REBUILD, extra=f"\n[notify]\ncommand = {json.dumps(command)}\n")
    app = cockpit(ws, who="alice")

    def events() -> list[tuple[object, object]]:
        return [(doc["event"], doc["proposal_id"]) for doc in lines(out)]

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the clean gate")
        good = propose_now(
            project, "devenv.nix", edited(project, "pkgs.jq ]", "pkgs.jq pkgs.ripgrep ]"), title="add ripgrep", agent="claude"
        )
        other = propose_now(project, "devenv.nix", edited(project, "pkgs.git ", "pkgs.git pkgs.fd "), title="add fd", agent="codex")
        await wait_for(pilot, lambda: events() == [("proposal", good), ("proposal", other)], what="two proposal events")

        await wait_for(pilot, lambda: app.review.selected_key == good, what="the first proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: ("rebuild_finished", good) in events(), what="rebuild_finished")
        await wait_for(pilot, lambda: ("stale", other) in events(), what="the other proposal gone stale")

        bad = propose_now(project, "devenv.nix", edited(project, "{ pkgs", "# FAILME\n{ pkgs"), title="break it", agent="claude")
        await wait_for(pilot, lambda: app.review.selected_key == bad, what="the failing proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: ("rebuild_failed", bad) in events(), what="rebuild_failed")
        assert decision_of(ws, bad).status == "rolled_back"  # type: ignore[union-attr]

        content = edited(project, "pkgs.jq", "pkgs.jq pkgs.backdoor")
        forged = ProposalStore(ws).create({"devenv.nix": content}, title="a tool", rationale="r", agent="mallory")
        await wait_for(pilot, lambda: ("proposal", forged.id) in events(), what="the last proposal's event")
        forge_approval(ws, forged.id, content)
        await wait_for(pilot, lambda: ("tampered", None) in events(), what="tampered")

    received = lines(out)
    assert sorted({doc["event"] for doc in received}) == ["proposal", "rebuild_failed", "rebuild_finished", "stale", "tampered"]
    first = received[0]
    assert (first["title"], first["agent"], first["project"]) == ("add ripgrep", "claude", str(ws.root))
    assert isinstance(first["card"], dict)  # the change card, built for the command
    assert all(set(doc) >= {"event", "project", "proposal_id", "title", "agent", "card"} for doc in received)
    assert len([doc for doc in received if doc["event"] == "tampered"]) == 1  # once, not on every refresh
