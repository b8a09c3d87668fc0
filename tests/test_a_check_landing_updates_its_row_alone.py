"""A check result landing in a long queue rewrites its own row's badge, not the age of every row (the
ages follow on the next full refresh: the ages timer, or a proposal arriving, which shows at once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app_harness import SIZE, cockpit, open_workspace, wait_for, write_proposal_file

from omni_tui.core.review import Check, CheckKey
from omni_tui.ui.messages import ValidationReady

CREATED = "2026-12-04T12:00:00Z"
START = datetime(2026, 12, 4, 12, 0, 5, tzinfo=UTC)


async def test_a_check_landing_rewrites_its_badge_and_a_proposal_arriving_shows_with_fresh_ages(project: Path) -> None:
    ws = open_workspace(project)
    ids = [write_proposal_file(project, ws.paths.proposals, i, CREATED) for i in range(3)]
    now = [START]
    app = cockpit(ws, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        queue = app.main.queue

        def cell(pid: str, column: int) -> str:
            return queue.get_row(pid)[column].plain if pid in queue._rows and queue.row_count > 0 else ""

        await wait_for(pilot, lambda: all(cell(pid, 4) not in ("", "…") for pid in ids), timeout=60, what="every row checked")
        assert [cell(pid, 2) for pid in ids] == ["5s"] * 3
        # The selected proposal's check lands (shown at once, in the same turn of the event loop: no
        # other refresh comes between), then another's (coalesced into a refresh soon after).
        await wait_for(pilot, lambda: app.review.selected_key in ids, what="a proposal selected")
        selected = app.review.selected_key
        now[0] = START + timedelta(seconds=20)
        key = CheckKey.proposal(selected)
        app.workspace.validation_ready(ValidationReady(key, Check(None, "the check stopped"), app.review.start_check(key)))
        assert cell(selected, 4) == "✗ error"
        assert [cell(pid, 2) for pid in ids] == ["5s"] * 3  # no age rewritten for a badge
        other = next(pid for pid in ids if pid != selected)
        key = CheckKey.proposal(other)
        app.post_message(ValidationReady(key, Check(None, "the check stopped"), app.review.start_check(key)))
        await wait_for(pilot, lambda: cell(other, 4) == "✗ error", what="another landed check's badge on its row")

        arrived = write_proposal_file(project, ws.paths.proposals, 99, CREATED)
        await wait_for(pilot, lambda: cell(arrived, 1) == "Add tool99", timeout=60, what="the proposal that arrived")
        await wait_for(pilot, lambda: [cell(pid, 2) for pid in ids] == ["25s"] * 3, what="the ages worked out again")
        assert cell(other, 4) == "✗ error" and cell(selected, 4) == "✗ error"
