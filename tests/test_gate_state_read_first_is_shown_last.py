"""Several threads read the gate (the watcher, a decision's worker, a reject): a state whose reading began
earlier but was posted later must not replace a newer one — the header once said `1 PENDING` while
another cockpit's rebuild streamed into the log."""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import SIZE, cockpit, open_workspace, screen_text, wait_for

from omni_tui.ui.messages import GateChanged


async def test_an_older_reading_posted_late_does_not_replace_the_newer_state(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, watch=False)  # only the states this test posts after the first one
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app).splitlines()[0], what="the first state")
        state = app.gate.state()
        newer = state._replace(kind="rebuilding")  # what the later reading found
        app.post_message(GateChanged(newer, time.monotonic()))
        app.post_message(GateChanged(state, time.monotonic() - 5))  # read before it, posted after it
        await wait_for(pilot, lambda: "REBUILDING" in screen_text(app).splitlines()[0], what="the newer state")
        await pilot.pause()
        await pilot.pause()
        assert "REBUILDING" in screen_text(app).splitlines()[0]
        app.post_message(GateChanged(state, time.monotonic()))  # a reading after it: shown
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app).splitlines()[0], what="the newest state")
