"""The Rebuild log's hints name the keys as mapped in `[keys]`: a rebuild running says which key cancels
it, a failed one which key rolls it back. They said `c cancel` and `press b to roll back` whatever
`[keys] cancel_rebuild` and `rollback` were, while the footer, the palette and the help followed."""

from __future__ import annotations

from pathlib import Path

from app_harness import approve_selected, cockpit, edited, open_workspace, propose_now, screen_text, wait_for

from omni_tui.core.review import Panel
from omni_tui.ui.app import CockpitApp

HELD = "while [ ! -e go ]; do sleep 0.05; done; echo broken; exit 1"  # runs until the test lets it fail
KEYS = '[keys]\ncancel_rebuild = "k"\nrollback = "B"\n'


def rebuild_subtitle(app: CockpitApp) -> str:
    return str(app.main.panel(Panel.REBUILD).border_subtitle or "")


async def test_a_running_and_a_failed_rebuild_name_the_remapped_keys(project: Path) -> None:
    ws = open_workspace(project, command=HELD, extra="auto_rollback = false\n" + KEYS)
    app = cockpit(ws)
    async with app.run_test(size=(120, 34)) as pilot:
        propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Add ripgrep")
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == "Add ripgrep", what="the proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "REBUILDING" in rebuild_subtitle(app), what="the rebuild running")
        assert rebuild_subtitle(app) == "REBUILDING · k cancel"
        # ...and so does the reason an action is unavailable meanwhile (shown when its key is pressed)
        assert app.why_unavailable("rollback") == "A rebuild is running; wait for it or cancel it (k)"
        (project / "go").touch()
        await wait_for(pilot, lambda: "FAILED" in rebuild_subtitle(app), what="the failed rebuild")
        assert rebuild_subtitle(app) == "rebuild FAILED — press B to roll back"
        outcome = next(line for line in app.log_view.lines if line.startswith("✗ "))
        assert outcome.endswith("— press B to roll back"), outcome
        assert "press b " not in screen_text(app)
