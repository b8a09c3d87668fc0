"""The proposal queue under Pilot: a row whose state changes stays whole, and the title gives way."""

from __future__ import annotations

from textual.app import App, ComposeResult

from omni_tui.ui.widgets.proposal_queue import ProposalQueue, QueueRow


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield ProposalQueue(id="queue")


def _shown(queue: ProposalQueue) -> list[str]:
    """The queue as drawn (header first)."""
    return ["".join(segment.text for segment in queue.render_line(y)) for y in range(queue.row_count + 1)]


def _row(state: str, badge: str = "") -> QueueRow:
    return QueueRow("p1", "claude", "Add redis for the session cache and a worker", "5m", state, badge, "ok" if badge else "none")


async def test_a_state_that_grows_and_shrinks_keeps_every_column_whole() -> None:
    app = Harness()
    async with app.run_test(size=(60, 8)) as pilot:
        queue = app.query_one(ProposalQueue)
        for state, badge in (("pending", "✓ ok"), ("rebuilding", ""), ("rolled_back", ""), ("applied", "")):
            queue.show_rows([_row(state, badge)])
            await pilot.pause()  # a frame between updates, as when the gate reports each stage
            header, row = _shown(queue)
            assert header.rstrip().endswith("Check"), (state, header)
            shown = state.replace("_", " ")  # states read as words: rolled_back → rolled back
            assert f" {shown} " in row or row.rstrip().endswith(shown), (state, row)
            assert "Add redis" in row and "…" in row  # the title is what gives way


def _pending(n: int, *, badge: str = "…", age: str = "1s") -> list[QueueRow]:
    return [QueueRow(f"p{i:03d}", "agent", f"Add tool{i}", age, "pending", badge) for i in range(n)]


async def test_a_proposal_arriving_keeps_the_cursor_on_its_proposal_and_lands_in_its_place() -> None:
    app = Harness()
    async with app.run_test(size=(60, 12)) as pilot:
        queue = app.query_one(ProposalQueue)
        rows = _pending(30)
        queue.show_rows(rows)
        queue.select_key("p020")
        await pilot.pause()
        arrived = QueueRow("p015b", "agent", "Add the new one", "0s", "pending", "…")
        decided = QueueRow("p999", "agent", "Old decision", "1h", "rejected", "")
        queue.show_rows([*rows[:16], arrived, *rows[16:], decided])  # one in the middle, one at the end
        await pilot.pause()
        assert queue.selected_key == "p020"  # the person's row, wherever it is now
        assert queue.row_count == 32
        keys = [queue.coordinate_to_cell_key((i, 0)).row_key.value for i in range(queue.row_count)]
        assert keys == [*(r.key for r in rows[:16]), "p015b", *(r.key for r in rows[16:]), "p999"]
        assert "Add the new one" in queue.get_row("p015b")[1].plain


async def test_the_selected_proposal_gone_moves_the_cursor_to_the_top_row() -> None:
    app = Harness()
    async with app.run_test(size=(60, 12)) as pilot:
        queue = app.query_one(ProposalQueue)
        rows = _pending(10)
        queue.show_rows(rows)
        queue.select_key("p005")
        await pilot.pause()
        queue.show_rows([r for r in rows if r.key != "p005"])
        assert queue.selected_key == "p000"  # known at once: the cockpit reads it right after
        await pilot.pause()
        assert queue.row_count == 9 and queue.cursor_row == 0


async def test_only_changed_cells_are_rewritten_and_every_row_shows_its_news() -> None:
    app = Harness()
    async with app.run_test(size=(60, 12)) as pilot:
        queue = app.query_one(ProposalQueue)
        rows = _pending(5)
        queue.show_rows(rows)
        await pilot.pause()
        checked = [
            QueueRow(r.key, r.agent, r.title, "2s", r.state, "✓ ok" if i % 2 else "…", "ok" if i % 2 else "none")
            for i, r in enumerate(rows)
        ]
        queue.show_rows(checked)
        await pilot.pause()
        for row in checked:
            cells = queue.get_row(row.key)
            assert cells[2].plain == "2s" and cells[4].plain == row.badge
        shown = _shown(queue)
        assert "✓ ok" in shown[2] and "✓ ok" not in shown[1]  # p001 is checked, p000 not yet


async def test_the_title_column_gives_back_the_room_of_a_longest_title_that_went_or_got_shorter() -> None:
    from textual.widgets.data_table import ColumnKey

    app = Harness()
    async with app.run_test(size=(120, 10)) as pilot:
        queue = app.query_one(ProposalQueue)
        title = lambda: queue.columns[ColumnKey("title")].width  # noqa: E731

        def row(key: str, text: str) -> QueueRow:
            return QueueRow(key, "agent", text, "1s", "pending", "…")

        long, short = row("p1", "Add redis for the session cache and a worker pool"), row("p2", "Add jq")
        queue.show_rows([long, short, row("p3", "Add ripgrep and fd")])
        await pilot.pause()
        assert title() == len(long.title)
        queue.show_rows([row("p1", "Add redis"), short, row("p3", "Add ripgrep and fd")])  # the longest got shorter
        await pilot.pause()
        assert title() == len("Add ripgrep and fd")
        queue.show_rows([row("p1", "Add redis"), short, row("p3", "Add ripgrep and fd, then bat and eza")])  # grew
        await pilot.pause()
        assert title() == len("Add ripgrep and fd, then bat and eza")
        queue.show_rows([row("p1", "Add redis"), short])  # the longest went
        await pilot.pause()
        assert title() == len("Add redis")
        assert "Add redis" in _shown(queue)[1]


async def test_rows_whose_checks_landed_are_rewritten_alone_even_while_a_long_queue_fills_in() -> None:
    from app_harness import wait_for

    from omni_tui.ui.widgets import proposal_queue as module

    app = Harness()
    async with app.run_test(size=(100, 12)) as pilot:
        queue = app.query_one(ProposalQueue)
        rows = _pending(module.CHUNK_ROWS + 50)
        queue.show_rows(rows)  # the first chunk now, the rest on a timer
        listed, waiting = rows[1], rows[-1]
        assert queue.row_count == module.CHUNK_ROWS
        landed = [
            QueueRow(listed.key, listed.agent, listed.title, listed.age, "pending", "✓ ok", "ok"),
            QueueRow(waiting.key, waiting.agent, waiting.title, waiting.age, "pending", "✗ nix", "bad"),
            QueueRow("gone", "agent", "Not listed", "1s", "pending", "✓ ok", "ok"),  # ignored
        ]
        queue.update_rows(landed)
        assert queue.get_row(listed.key)[4].plain == "✓ ok"
        assert queue.get_row(rows[0].key)[4].plain == "…"
        await wait_for(pilot, lambda: queue.row_count == len(rows), what="every row in the queue")
        assert queue.get_row(waiting.key)[4].plain == "✗ nix"  # added with the check that landed meanwhile
        assert queue.row_count == len(rows)
