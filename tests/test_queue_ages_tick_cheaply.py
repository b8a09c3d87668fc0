"""The queue's 10 s ages tick shows a person new ages without rewriting the whole queue: the rows in view
get their new ages at once, the rows out of view soon after, a row whose age text did not change keeps
its cell, and the selection, the order, the states, the check badges and a quarantined row stay as they
were (with 10,000 proposals, rewriting every row at each tick held keys 0.2-0.5 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app_harness import SIZE, cockpit, open_workspace, screen_text, wait_for, write_proposal_file

OLD = "2026-12-04T10:00:00Z"  # two hours before START: "2h" at both ticks
YOUNG = "2026-12-04T12:00:00Z"  # "5s" at START, "25s" twenty seconds later
START = datetime(2026, 12, 4, 12, 0, 5, tzinfo=UTC)
N_YOUNG = 60  # more rows than the Proposals panel shows at this size


async def test_the_ages_tick_rewrites_only_ages_that_changed_rows_in_view_first_and_keeps_the_selection(project: Path) -> None:
    ws = open_workspace(project)
    old = [write_proposal_file(project, ws.paths.proposals, i, OLD) for i in range(3)]
    young = [write_proposal_file(project, ws.paths.proposals, 100 + i, YOUNG) for i in range(N_YOUNG)]
    (ws.paths.proposals / "broken.json").write_text("{not json")  # quarantined: a row without an age
    now = [START]
    app = cockpit(ws, clock=lambda: now[0])  # a fixed clock: no ages timer, the test ticks
    async with app.run_test(size=SIZE) as pilot:
        queue = app.main.queue

        def cell(pid: str, column: int) -> str:
            return queue.get_row(pid)[column].plain if pid in queue._rows and queue.row_count > 0 else ""

        await wait_for(pilot, lambda: all(cell(pid, 4) not in ("", "…") for pid in [*old, *young]), timeout=120, what="every row checked")
        assert [cell(pid, 2) for pid in old] == ["2h"] * 3 and {cell(pid, 2) for pid in young} == {"5s"}
        shown_young = [key for key in queue.order if key in set(young)]  # the queue's order (same age: by id)
        chosen, bottom = shown_young[2], shown_young[-1]  # a row in view, not the first; the last row
        queue.select_key(chosen)
        await wait_for(pilot, lambda: app.review.selected_key == chosen, what="the chosen proposal selected")
        await wait_for(pilot, lambda: app.main.detail.view is not None and app.main.detail.view.created == "5s ago", what="its detail")
        order = list(queue.order)
        badges = {pid: cell(pid, 4) for pid in [*old, *young]}
        quarantined = next(key for key in order if key.startswith("quarantine:"))
        quarantined_row = [c.plain for c in queue.get_row(quarantined)]
        kept_cells = {pid: queue.get_row(pid)[2] for pid in old}
        in_view = queue.keys_in_view()
        assert chosen in in_view and bottom not in in_view  # the last rows are out of view, below

        now[0] = START + timedelta(seconds=20)
        app.workspace.tick_ages()
        # At once, in the same turn of the event loop: what the person sees.
        assert all(cell(pid, 2) == "25s" for pid in in_view if pid in young)
        assert cell(bottom, 2) == "5s"  # out of view: its turn comes after the keys and the frame
        assert app.main.detail.view is not None and app.main.detail.view.created == "25s ago"
        await pilot.pause()
        title = cell(chosen, 1)
        line = next(line for line in screen_text(app).splitlines() if f"{title} " in line)  # the chosen row, drawn
        assert " 25s " in line and " 5s " not in line
        await wait_for(pilot, lambda: all(cell(pid, 2) == "25s" for pid in young), what="every young row's new age")

        assert all(queue.get_row(pid)[2] is kept_cells[pid] for pid in old)  # "2h" still: the same cell, not rewritten
        assert [cell(pid, 2) for pid in old] == ["2h"] * 3
        assert queue.selected_key == chosen and app.review.selected_key == chosen
        assert list(queue.order) == order
        assert {pid: cell(pid, 4) for pid in [*old, *young]} == badges
        assert all(cell(pid, 3) == "pending" for pid in [*old, *young])
        assert [c.plain for c in queue.get_row(quarantined)] == quarantined_row

        # A proposal arriving: the listing writes its row; every other row keeps its cells as they are.
        cells_before = {pid: list(queue.get_row(pid)) for pid in [*old, *young]}
        arrived = write_proposal_file(project, ws.paths.proposals, 999, YOUNG)
        await wait_for(pilot, lambda: cell(arrived, 1) == "Add tool999", timeout=60, what="the proposal that arrived")
        assert all(all(a is b for a, b in zip(queue.get_row(pid), cells_before[pid])) for pid in [*old, *young])
        assert queue.selected_key == chosen


async def test_rows_scrolled_into_view_show_the_ages_of_the_last_tick(project: Path) -> None:
    ws = open_workspace(project)
    young = [write_proposal_file(project, ws.paths.proposals, i, YOUNG) for i in range(N_YOUNG)]
    now = [START]
    app = cockpit(ws, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        queue = app.main.queue
        await wait_for(pilot, lambda: queue.row_count == N_YOUNG, what="every proposal listed")
        now[0] = START + timedelta(minutes=3)
        app.workspace.tick_ages()
        queue.focus()
        queue.select_key(young[-1])  # the bottom row: the table scrolls to it
        await wait_for(pilot, lambda: young[-1] in queue.keys_in_view(), what="the bottom rows in view")
        await wait_for(pilot, lambda: "3m" in screen_text(app) and " 5s " not in screen_text(app), what="the bottom rows' new ages drawn")
        # The rows out of view move a chunk per turn of the event loop: all of them, soon after.
        await wait_for(pilot, lambda: {queue.get_row(pid)[2].plain for pid in young} == {"3m"}, what="every row's age moved on")


async def test_the_detail_says_the_age_its_queue_row_says(project: Path) -> None:
    """Between two ticks the clock moves on, and the detail used it: "12s ago" beside a row saying 5s."""
    ws = open_workspace(project)
    ids = [write_proposal_file(project, ws.paths.proposals, i, YOUNG) for i in range(2)]
    now = [START]
    app = cockpit(ws, clock=lambda: now[0], watch=False)  # no watcher: no listing moves the ages on meanwhile
    async with app.run_test(size=SIZE) as pilot:
        queue = app.main.queue

        def checked(pid: str) -> bool:
            return pid in queue._rows and queue.row_count > 0 and queue.get_row(pid)[4].plain not in ("", "…")

        await wait_for(pilot, lambda: app.review.selected_key in ids and all(checked(pid) for pid in ids), what="the rows, checked")
        now[0] = START + timedelta(seconds=7)  # no tick yet: the queue still says 5s
        other = next(pid for pid in ids if pid != app.review.selected_key)
        queue.select_key(other)
        await wait_for(pilot, lambda: app.main.detail.view is not None and app.main.detail.view.key == other, what="its detail")
        assert queue.get_row(other)[2].plain == "5s"
        assert app.main.detail.view.created == "5s ago"
        now[0] = START + timedelta(seconds=20)
        app.workspace.tick_ages()
        assert queue.get_row(other)[2].plain == "25s" and app.main.detail.view.created == "25s ago"
