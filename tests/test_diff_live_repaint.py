"""A live edit of a guarded file repaints the Changes diff from a cache of painted lines (by what each line
shows): the picture after an edit is exactly the picture a fresh view of the same diff paints, including
unchanged lines whose highlighting the edit changed (a string opened above them)."""

from __future__ import annotations

from app_harness import screen_strips
from textual.app import App, ComposeResult

from omni_tui.ui.widgets.diff_view import DiffView


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffView(id="live")
        yield DiffView(id="fresh")


def _painted(dv: DiffView) -> list[tuple[str, list[object]]]:
    return [(strip.text, [seg.style for seg in strip]) for strip in (dv.render_line(y) for y in range(dv.scrollable_content_region.height))]


def _on_screen(app: App[None], dv: DiffView) -> list[tuple[str, list[object]]]:
    """The widget's lines as the screen shows them (composited: what a terminal gets)."""
    region = dv.content_region
    lines = screen_strips(app)[region.y : region.bottom]
    return [(c.text, [seg.style for seg in c]) for c in (line.crop(region.x, region.right) for line in lines)]


OLD = "{\n" + "".join(f"  opt{i} = {i};\n" for i in range(8)) + "  after = 4;\n}\n"


async def test_each_edit_paints_what_a_fresh_view_of_the_same_diff_paints() -> None:
    edits = [
        OLD.replace("  opt3 = 3;\n", "  opt3 = 33;\n"),  # one line changed
        OLD.replace("  opt3 = 3;\n", "  opt3 = 34;\n"),  # the same line, another value: unchanged lines reused
        OLD.replace("  opt1 = 1;\n", "  opt1 = ''\n"),  # a string opened: every line below is now inside it
        OLD.replace("  opt6 = 6;\n", "  opt6 = 6;\n  extra = true;\n"),  # a line added: numbers below shift
    ]
    app = Host()
    async with app.run_test(size=(70, 60)) as pilot:
        live, fresh = app.query_one("#live", DiffView), app.query_one("#fresh", DiffView)
        live.set_diff("devenv.nix", OLD, OLD)
        await pilot.pause()
        for new in edits:
            live.set_diff("devenv.nix", OLD, new)
            await pilot.pause()
            fresh.set_diff("other.nix", "", "")  # forget everything the fresh view painted
            fresh.set_diff("devenv.nix", OLD, new)
            await pilot.pause()
            assert _painted(live) == _painted(fresh), new
            assert _on_screen(app, live) == _on_screen(app, fresh), new  # only changed lines were repainted


async def test_a_string_opened_above_recolours_an_unchanged_line() -> None:
    app = Host()
    async with app.run_test(size=(70, 40)) as pilot:
        live = app.query_one("#live", DiffView)
        first = OLD.replace("  opt7 = 7;\n", "  opt7 = 77;\n")
        live.set_diff("devenv.nix", OLD, first)
        await pilot.pause()
        await pilot.pause()  # highlighting is ready
        y = next(i for i, line in enumerate(live.render_line(i).text for i in range(30)) if "opt6 = 6" in line)
        before = [seg.style for seg in live.render_line(y)]
        live.set_diff("devenv.nix", OLD, first.replace("  opt5 = 5;\n", "  opt5 = ''\n"))
        await pilot.pause()
        y = next(i for i, line in enumerate(live.render_line(i).text for i in range(30)) if "opt6 = 6" in line)
        assert [seg.style for seg in live.render_line(y)] != before  # now inside the string
