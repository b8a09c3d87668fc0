"""The cockpit's compact change card names risks in words a person reads ("network service", not the
JSON key network_service), after "What it does" with one space, as "What it does no risks" is."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, edited, open_workspace, propose_now, screen_text, wait_for


async def test_the_card_summary_names_a_risk_in_words_with_one_space(project: Path) -> None:
    ws = open_workspace(project)
    propose_now(project, "devenv.nix", edited(project, "packages = [", "services.redis.enable = true;\n  packages = ["))
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "What it does" in screen_text(app), what="the change card")
        await wait_for(pilot, lambda: "What it does network service" in screen_text(app), what="the risk in words")
        assert "network_service" not in screen_text(app)
