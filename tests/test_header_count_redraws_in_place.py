"""The header's pending count follows every arrival, whole and in its place: a new count is repainted
without a relayout of the screen (200 proposals arriving in 10 s relaid the whole cockpit out 200 times,
bench/bench_queue_scale.py), and a wider one ("9" → "10", "99" → "100") still moves the detail and the
workspace path along, nothing cropped or overlapping. The header is one widget drawing its row: no count,
however wide, changes the size of anything on the screen."""

from __future__ import annotations

from app_harness import screen_text, wait_for
from textual.app import App, ComposeResult

from omni_tui.ui.widgets.gate_header import GateHeader


class HeaderApp(App[None]):
    def compose(self) -> ComposeResult:
        yield GateHeader("/home/alice/project", id="gate-header")


def header_line(app: App[None]) -> str:
    return screen_text(app).splitlines()[0]


async def test_the_pending_count_is_redrawn_as_it_grows_and_the_rest_of_the_line_follows() -> None:
    app = HeaderApp()
    async with app.run_test(size=(100, 5)) as pilot:
        header = app.query_one(GateHeader)
        header.show_state("pending", 9, ["devenv.nix"])
        await wait_for(pilot, lambda: " 9 PENDING " in header_line(app), what="9 pending")
        screen, layouts = app.screen, []
        # the start's own layout done (a layout it asked for may still be pending when the text shows)
        await wait_for(pilot, lambda: not screen._layout_required, what="the first layout")
        relayout = screen._refresh_layout  # what a relayout of the screen runs (Textual's, private: counted only)
        screen._refresh_layout = lambda *args, **kwargs: (layouts.append(1), relayout(*args, **kwargs))  # type: ignore[method-assign]
        per_count = {}
        for count in (10, 11, 12, 13, 99, 100):  # 10 is one column wider than 9, 100 than 99; 11, 12, 13 as wide as 10
            layouts.clear()
            header.show_state("pending", count, ["devenv.nix"])
            await pilot.pause()  # the messages it posted handled and the frame drawn (no fixed delay)
            await wait_for(pilot, lambda: f" {count} PENDING " in header_line(app), what=f"{count} pending")  # noqa: B023
            line = header_line(app)
            assert line.index(f" {count} PENDING ") < line.index("edited: devenv.nix")  # the detail moved along, whole
            assert line.rstrip().endswith("/home/alice/project")
            per_count[count] = len(layouts)
        # no relayout, for a count as wide as the last or a wider one: the row is repainted in place
        assert all(n == 0 for n in per_count.values()), per_count
