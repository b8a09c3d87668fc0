"""A guarded file edited into bytes that are not UTF-8 says so the moment it is drawn: the diff can only
show � for those bytes, and the edit cannot be accepted. Before, the Changes panel showed the �
without a word until the person pressed A."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, notices, open_workspace, screen_text, wait_for

from omni_tui.core.review import Panel
from omni_tui.ui.app import CockpitApp


def changes_subtitle(app: CockpitApp) -> str:
    return str(app.main.panel(Panel.CHANGES).border_subtitle or "")


async def test_bytes_that_are_not_utf8_are_named_in_a_toast_and_the_changes_panel(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=(120, 34), notifications=True) as pilot:
        await wait_for(pilot, lambda: "no changes against the baseline" in changes_subtitle(app), what="the Changes panel")
        nix = project / "devenv.nix"
        nix.write_bytes(nix.read_bytes() + b"# caf\xe9\n")
        await wait_for(pilot, lambda: "UNAPPROVED" in changes_subtitle(app), what="the direct edit")
        assert changes_subtitle(app) == "⚠ not UTF-8, shown with � · UNAPPROVED · A accept · u revert"
        await wait_for(pilot, lambda: notices(app, "is not valid UTF-8") == 1, what="the toast")
        (toast,) = [n for n in app._notifications if "UTF-8" in str(n.message)]
        offset = len(nix.read_bytes()) - 2
        assert str(toast.message) == (
            f"devenv.nix is not valid UTF-8 (byte 0xe9 at offset {offset}): "
            "the diff shows � for those bytes, and it cannot be accepted until fixed"
        )
        nix.write_bytes(nix.read_bytes() + b"# more\n")  # edited again, the same bytes still wrong: not said again
        await wait_for(pilot, lambda: "# more" in (app.workspace.files["devenv.nix"].current or ""), what="the second edit")
        await pilot.pause()
        assert notices(app, "is not valid UTF-8") == 1
        app.main.changes_diff.focus()
        await pilot.press("A")  # what the toast said: the accept dialog offers only Cancel
        await wait_for(pilot, lambda: "Cannot accept: devenv.nix: not valid UTF-8" in screen_text(app), what="the refusal")
        await pilot.press("n")
        nix.write_text(nix.read_text(encoding="latin-1").replace("caf\xe9", "cafe"))  # fixed by hand
        await wait_for(pilot, lambda: "not UTF-8" not in changes_subtitle(app), what="the warning gone once the bytes are fixed")
        assert changes_subtitle(app) == "UNAPPROVED · A accept · u revert"
