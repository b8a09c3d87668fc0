"""While a rebuild runs, the title in the Rebuild log's progress row holds still. It took whatever room
what builds now left it, so in the demo at 80x24 it read `appr…`, then `approv…`, then was gone, then
`app…` as git, jq, python3 and redis built: a row that jumped at every step."""

from __future__ import annotations

from app_harness import screen_text, wait_for
from textual.app import App, ComposeResult

from omni_tui.core.buildlog import BuildProgress
from omni_tui.ui.widgets.log_view import LogView

# What the demo's first build builds, in order: names of different lengths.
STEPS = (
    ("curl-8.11.0", 0),
    ("git-2.47.1", 1),
    ("jq-1.7.1", 2),
    ("postgresql-16.5", 3),
    ("python3-3.11.10", 4),
    ("redis-7.2.6", 6),
    ("jq-1.7.1", 8),
)


async def test_the_title_in_the_progress_row_never_grows_back_while_the_rebuild_runs() -> None:
    class Row(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView(clock=lambda: 101.0)

    app = Row()
    async with app.run_test(size=(46, 3)) as pilot:  # the Rebuild log's width at 80x24
        row = app.query_one(LogView)
        row.start_progress("approve “Add ripgrep and a local Redis for the job queue” (demo-agent)")
        titles: list[str] = []
        for name, done in STEPS:
            row.set_progress(BuildProgress(phase="building", done=done, expected=10, current=(name,)))
            await wait_for(pilot, lambda: f"{done}/10 · {name}" in screen_text(app).splitlines()[0], what=f"{name} building")
            line = screen_text(app).splitlines()[0].strip()
            titles.append(line.split(" — ")[0] if " — " in line else "")
        widths = [len(title) for title in titles]
        assert widths == sorted(widths, reverse=True), titles  # it may give way, never come back
        row.set_progress(BuildProgress(phase="done", done=10, expected=10))
        row.finish(0)
        await wait_for(pilot, lambda: "✓ exit 0" in screen_text(app).splitlines()[0], what="the end")
        assert "approve “" in screen_text(app).splitlines()[0]  # at the end, with the shorter status, it is back
