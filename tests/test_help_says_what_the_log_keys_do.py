"""The help screen says what the Rebuild log's home and end keys do — it read "home  Start" and
"end  End", which names the key twice and says nothing of following the log."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, open_workspace, ready, wait_for

from omni_tui.ui.screens import HelpScreen


async def test_help_says_what_the_log_keys_do(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help screen")
        log = next(section for section in app.screen.sections if section.title == "Rebuild log")
        described = {entry.key: entry.description for entry in log.entries}
        assert described["home"] == "Jump to the start of the log (stops following the end)"
        assert described["end"] == "Jump to the end of the log and follow it"
