"""A change card's risk badges read as words a person knows: a file the card could not read in full (a
syntax error, a computed name) is "not fully read", not the JSON key "unparsed" — the key stays in JSON."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, edited, open_workspace, propose_now, screen_text, wait_for

from omni_tui.core.card.diff import FilePair, compute_card


async def test_a_proposal_with_a_syntax_error_is_badged_not_fully_read(project: Path) -> None:
    ws = open_workspace(project)
    broken = edited(project, "pkgs.jq", "pkgs.jq (")
    assert compute_card([FilePair("devenv.nix", (project / "devenv.nix").read_bytes(), broken.encode())]).risk_names() == ["unparsed"]
    propose_now(project, "devenv.nix", broken, title="Broken")
    app = cockpit(ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "not fully read" in screen_text(app), what="the badge on the proposal's card")
        assert "unparsed" not in screen_text(app)
