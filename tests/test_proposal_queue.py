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
