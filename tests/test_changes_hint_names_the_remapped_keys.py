"""The Changes panel's hint for an unapproved direct edit names the keys as mapped in `[keys]`: it said
`A accept · u revert` whatever `accept_direct` and `revert_direct` were, while the footer followed."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, open_workspace, wait_for

from omni_tui.core.review import Panel
from omni_tui.ui.app import CockpitApp


def changes_subtitle(app: CockpitApp) -> str:
    return str(app.main.panel(Panel.CHANGES).border_subtitle or "")


async def test_an_unapproved_edit_names_the_remapped_accept_and_revert_keys(project: Path) -> None:
    ws = open_workspace(project, extra='[keys]\naccept_direct = "y"\nrevert_direct = "U"\n')
    app = cockpit(ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "no changes against the baseline" in changes_subtitle(app), what="the Changes panel")
        (project / "devenv.nix").write_text((project / "devenv.nix").read_text() + "# by hand\n")
        await wait_for(pilot, lambda: "UNAPPROVED" in changes_subtitle(app), what="the direct edit")
        assert changes_subtitle(app) == "UNAPPROVED · y accept · U revert"
