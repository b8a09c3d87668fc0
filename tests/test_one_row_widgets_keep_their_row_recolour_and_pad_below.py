"""The one-row widgets (`OneRow`: the gate header, the key bar) as a person sees them: their row is drawn
once and kept while it shows the same thing, a theme switch recolours it, and given more than one line
they show their background below the row, never a copy of it."""

from __future__ import annotations

from app_harness import screen_strips, screen_text, wait_for
from textual.app import App, ComposeResult

from omni_tui.ui.widgets.gate_header import GateHeader
from omni_tui.ui.widgets.key_bar import KeyBar


class Host(App[None]):
    CSS = "GateHeader { height: 3; background: $panel; } KeyBar { height: 2; }"
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield GateHeader("/tmp/one-row/proj", id="gate-header")
        yield KeyBar()


def style_at(line, column: int):  # type: ignore[no-untyped-def]
    x = 0
    for segment in line:
        if x <= column < x + len(segment.text):
            return segment.style
        x += len(segment.text)
    raise AssertionError(f"nothing drawn at column {column}")


async def test_the_header_row_is_kept_while_it_shows_the_same_and_drawn_again_when_it_changes() -> None:
    app = Host()
    async with app.run_test(size=(80, 8)) as pilot:
        header = app.query_one(GateHeader)
        header.show_state("pending", 2)
        await wait_for(pilot, lambda: "2 PENDING" in screen_text(app), what="the header")
        drawn = header.row()
        header.show_state("pending", 2)  # the gate read again, nothing new
        assert header.row() is drawn
        header.show_state("pending", 3)
        assert header.row() is not drawn
        await wait_for(pilot, lambda: "3 PENDING" in screen_text(app).splitlines()[0], what="the new count")


async def test_a_theme_switch_recolours_the_header() -> None:
    app = Host()
    app.theme = "textual-dark"
    async with app.run_test(size=(80, 8)) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the header")
        column = screen_text(app).splitlines()[0].index("CLEAN")
        dark = style_at(screen_strips(app)[0], column)
        app.theme = "textual-light"
        await wait_for(pilot, lambda: style_at(screen_strips(app)[0], column) != dark, what="the header in the light theme's colours")


async def test_lines_below_the_row_show_the_background_only() -> None:
    app = Host()
    async with app.run_test(size=(80, 8)) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app) and "q Quit" in screen_text(app), what="the header and the keys")
        header, bar = app.query_one(GateHeader), app.query_one(KeyBar)
        lines, strips = screen_text(app).splitlines(), screen_strips(app)
        for widget in (header, bar):
            top, height = widget.region.y, widget.region.height
            assert lines[top].strip(), f"{type(widget).__name__}: its row"
            for y in range(top + 1, top + height):
                assert not lines[y].strip(), f"{type(widget).__name__}: line {y - top} is blank"
                assert {segment.style.bgcolor for segment in strips[y]} == {widget.rich_style.bgcolor}
