"""DiffView under Pilot in a tiny host App: what is on screen, hunk navigation and selection, modes, themes."""

from __future__ import annotations

import pytest
from app_harness import wait_for
from conftest import SAMPLE_DEVENV_NIX
from rich.color import Color as RichColor
from rich.style import Style
from textual.app import App, ComposeResult
from textual.color import Color

from omni_tui.core.textdiff import apply_hunks
from omni_tui.ui.widgets.diff_view import CSS_PATH, DiffView

OLD = SAMPLE_DEVENV_NIX  # the `project` fixture's devenv.nix
NEW = OLD.replace("pkgs.git pkgs.jq", "pkgs.git pkgs.jq pkgs.ripgrep").replace(
    "  '';\n}\n", "  '';\n\n  services.postgres.enable = true;\n}\n"
)


def big_pair(lines: int = 5000, edits: int = 50) -> tuple[str, str]:
    old = [f"  services.svc{i}.settings.port = {10000 + i};" for i in range(lines)]
    new = list(old)
    step = lines // edits
    for k in range(edits):
        at = k * step + step // 2
        new[at] = new[at].replace("port", "listenPort")
    return "\n".join(old) + "\n", "\n".join(new) + "\n"


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selection_messages: list[tuple[frozenset[int], int]] = []

    def compose(self) -> ComposeResult:
        yield DiffView(id="dv")

    def on_diff_view_hunk_selection_changed(self, message: DiffView.HunkSelectionChanged) -> None:
        self.selection_messages.append((message.selected, message.total))


THEME_VARS = {
    "diff-added-bg": "#173523",
    "diff-removed-bg": "#3d1a20",
    "diff-added-emph-bg": "#25663c",
    "diff-removed-emph-bg": "#7a2633",
    "diff-gutter": "#6c7686",
    "diff-hunk-header": "#56b6c2",
}


class ThemedHost(Host):
    """Like the cockpit: includes diff_view.tcss and defines the `$diff-*` theme variables."""

    CSS_PATH = [CSS_PATH]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARS)


def screen_lines(dv: DiffView) -> list[str]:
    """The text of each line the widget paints, top to bottom."""
    return [dv.render_line(y).text for y in range(dv.scrollable_content_region.height)]


def line_with(dv: DiffView, needle: str) -> int:
    lines = screen_lines(dv)
    hits = [n for n, line in enumerate(lines) if needle in line]
    assert hits, f"{needle!r} not on screen:\n" + "\n".join(lines)
    return hits[0]


def style_at(dv: DiffView, y: int, needle: str) -> Style | None:
    """The style of the first character of `needle` on painted line `y`."""
    strip = dv.render_line(y)
    col = strip.text.index(needle)
    pos = 0
    for seg in strip:
        if pos <= col < pos + len(seg.text):
            return seg.style
        pos += len(seg.text)
    raise AssertionError("column not found")


def bg_of(dv: DiffView, y: int, needle: str) -> RichColor | None:
    """The background colour under the first character of `needle` on painted line `y`."""
    style = style_at(dv, y, needle)
    return style.bgcolor if style else None


async def test_unified_view_shows_numbers_markers_and_headers() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        await pilot.pause()
        lines = screen_lines(dv)
        assert "devenv.nix  ·  +3 −1  ·  2 hunks" in lines[0]
        assert "✓ @@ -3,7 +3,7 @@  hunk 1 of 2" in lines[1]
        assert any("6    -   packages = [ pkgs.git pkgs.jq ];" in line for line in lines)
        assert any("6 +   packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];" in line for line in lines)
        assert any("16 +   services.postgres.enable = true;" in line for line in lines)
        assert any("15 17   }" in line for line in lines)
        assert "postgres" in app.export_screenshot()  # really painted


async def test_split_view_shows_old_and_new_side_by_side() -> None:
    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        dv.mode = "split"
        await pilot.pause()
        y = line_with(dv, "packages = [ pkgs.git pkgs.jq ];")
        left, right = screen_lines(dv)[y].split("│")
        assert "6 -   packages = [ pkgs.git pkgs.jq ];" in left
        assert "6 +   packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];" in right
        # the added lines have filler on the old side
        y = line_with(dv, "services.postgres.enable = true;")
        left, right = screen_lines(dv)[y].split("│")
        assert set(left.strip()) == {"╱"} and "16 +" in right
        assert dv.toggle_mode() == "unified"
        await pilot.pause()
        assert "│" not in screen_lines(dv)[2]


async def test_next_and_previous_hunk_move_the_cursor_and_scroll() -> None:
    app = Host()
    old, new = big_pair(600, 6)
    async with app.run_test(size=(100, 20)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        assert dv.hunk_count == 6 and dv.current_hunk is None
        assert dv.next_hunk() and dv.current_hunk == 0
        for expected in range(1, 6):
            assert dv.next_hunk()
            await pilot.pause()
            assert dv.current_hunk == expected
            y = line_with(dv, f"hunk {expected + 1} of 6")
            assert screen_lines(dv)[y].startswith("▶✓")
        assert not dv.next_hunk() and dv.current_hunk == 5
        assert dv.previous_hunk() and dv.current_hunk == 4
        await pilot.pause()
        assert screen_lines(dv)[line_with(dv, "hunk 5 of 6")].startswith("▶")
        for _ in range(4):
            dv.previous_hunk()
        assert dv.current_hunk == 0 and not dv.previous_hunk()


async def test_toggling_a_hunk_changes_the_selection_and_marks_it() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        assert dv.selected_hunks == {0, 1}
        # the messages reach the App a moment later (the panel's count listens to them)
        await wait_for(pilot, lambda: app.selection_messages[-1:] == [(frozenset({0, 1}), 2)], what="the new diff's selection")
        dv.next_hunk()
        dv.next_hunk()
        assert dv.toggle_hunk() == 1
        assert dv.selected_hunks == {0}
        await wait_for(pilot, lambda: app.selection_messages[-1] == (frozenset({0}), 2), what="the toggled selection")
        await pilot.pause()
        lines = screen_lines(dv)
        assert "2 hunks, 1 selected" in lines[0]
        assert "✗ @@ -12,4 +12,6 @@  hunk 2 of 2  ✗ not selected" in lines[line_with(dv, "hunk 2 of 2")]
        # an unselected hunk loses its added background; a selected one keeps it
        assert bg_of(dv, line_with(dv, "services.postgres"), "services") != bg_of(dv, line_with(dv, "pkgs.ripgrep"), "packages")
        assert apply_hunks(OLD, NEW, dv.selected_hunks) == OLD.replace("pkgs.git pkgs.jq", "pkgs.git pkgs.jq pkgs.ripgrep")
        dv.cursor_down(2)  # inside the hunk's lines, not on its header
        assert dv.toggle_hunk() == 1 and dv.selected_hunks == {0, 1}
        dv.select_hunks(set())
        assert dv.selected_hunks == set()
        await wait_for(pilot, lambda: app.selection_messages[-1] == (frozenset(), 2), what="no hunk selected")
        dv.select_hunks(None)
        assert dv.selected_hunks == {0, 1}


async def test_hunks_that_are_not_choices_carry_no_marks_and_do_not_toggle() -> None:
    """The Changes panel and a decided proposal: no ✓ / ✗ promising a choice that does not exist."""
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        await pilot.pause()
        assert "✓ @@ -3,7" in screen_lines(dv)[line_with(dv, "hunk 1 of 2")]
        dv.choosable = False
        await pilot.pause()
        header = screen_lines(dv)[line_with(dv, "hunk 1 of 2")]
        assert "✓" not in header and "@@ -3,7" in header
        dv.next_hunk()
        assert dv.toggle_hunk() is None and dv.selected_hunks == {0, 1}
        await pilot.pause()
        assert not any("✗" in line for line in screen_lines(dv))


async def test_toggle_acts_on_what_is_on_screen_after_scrolling_away() -> None:
    app = Host()
    old, new = big_pair(600, 6)
    async with app.run_test(size=(100, 12)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        header = next(r for r in range(dv.row_count) if "hunk 4 of 6" in dv.row_text(r))
        dv.scroll_to(y=header, animate=False, immediate=True)  # as the mouse wheel would
        await pilot.pause()
        assert dv.cursor_row == 0  # far above, off screen
        assert dv.toggle_hunk() == 3
        assert dv.cursor_row == header and dv.selected_hunks == {0, 1, 2, 4, 5}


async def test_keys_and_clicks_move_the_cursor() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        dv.focus()
        await pilot.pause()
        await pilot.press("down", "down", "down")
        await wait_for(pilot, lambda: dv.cursor_row == 3 and screen_lines(dv)[3].startswith("▶"), what="the cursor 3 down")
        await pilot.press("up")
        await wait_for(pilot, lambda: dv.cursor_row == 2, what="the cursor 1 up")
        await pilot.press("end")
        await wait_for(pilot, lambda: dv.cursor_row == dv.row_count - 1, what="the cursor at the end")
        await pilot.click(DiffView, offset=(10, 1))
        await wait_for(pilot, lambda: dv.cursor_row == 1 and dv.current_hunk == 0, what="the cursor on the clicked row")


async def test_a_big_diff_works_out_its_highlighting_while_idle_so_end_does_not_wait(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from omni_tui.core.highlight import Highlighter
    from omni_tui.ui.widgets import diff_view

    steps: list[tuple[int, int]] = []  # (lines whose state was known before a step, after it)
    advance = Highlighter.advance

    def counted(self: Highlighter, lines: int) -> bool:
        before = len(self._stacks)
        done = advance(self, lines)
        steps.append((before, len(self._stacks)))
        return done

    monkeypatch.setattr(Highlighter, "advance", counted)
    app = Host()
    old, new = big_pair()
    async with app.run_test(size=(120, 34)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        dv.mode = "split"
        await wait_for(pilot, lambda: "listenPort" in "\n".join(screen_lines(dv)), what="the diff on screen")
        # while nothing else happens, both files' lexer states are worked out, a step at a time
        await wait_for(
            pilot,
            lambda: all(h.lexed_to == len(h.text) for h in dv._highlighters.values()) and len(dv._highlighters) == 2,
            what="every line's lexer state, both sides",
        )
        assert len(steps) >= 5 and all(after - before <= diff_view.WARM_LINES for before, after in steps)
        dv.focus()
        await pilot.press("end")
        await wait_for(pilot, lambda: screen_lines(dv)[-1].startswith("▶"), what="the last row")
        assert "4954     services.svc4953.settings.port = 14953;" in screen_lines(dv)[-1]  # the last hunk's last line


async def test_five_thousand_line_diff_mounts_and_scrolls_to_the_end() -> None:
    app = Host()
    old, new = big_pair()
    async with app.run_test(size=(120, 34)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        dv.mode = "split"
        await pilot.pause()
        assert dv.hunk_count == 50
        assert "listenPort" in "\n".join(screen_lines(dv))
        dv.focus()
        await pilot.press("end")
        await pilot.pause()
        lines = screen_lines(dv)
        # the cursor is on the last row: the last context line of the last hunk, both sides
        assert lines[-1].startswith("▶")
        left, right = lines[-1].split("│")
        assert "4954     services.svc4953.settings.port = 14953;" in left
        assert "4954     services.svc4953.settings.port = 14953;" in right
        assert "svc4950.settings.listenPort = 14950;" in "\n".join(lines)


async def test_empty_new_and_deleted_files() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, OLD)
        await pilot.pause()
        lines = screen_lines(dv)
        assert "No changes against the baseline" in lines[1] and dv.hunk_count == 0
        assert dv.next_hunk() is False and dv.toggle_hunk() is None
        dv.set_diff("devenv.local.nix", None, "{ }\n")
        await pilot.pause()
        lines = screen_lines(dv)
        assert "devenv.local.nix  ·  new file  ·  +1 −0  ·  1 hunk" in lines[0]
        assert "@@ -0,0 +1 @@" in lines[1] and "      1 + { }" in lines[2]
        dv.set_diff("devenv.local.nix", "{ }\n", None)
        await pilot.pause()
        lines = screen_lines(dv)
        assert "deleted file  ·  +0 −1" in lines[0] and "   1    - { }" in lines[2]
        dv.set_diff(".envrc", None, "")
        await pilot.pause()
        assert "Empty file" in screen_lines(dv)[1]


async def test_live_update_keeps_position_and_identical_update_is_a_no_op() -> None:
    app = Host()
    old, new = big_pair(600, 6)
    async with app.run_test(size=(100, 15)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        for _ in range(3):
            dv.next_hunk()
        await pilot.pause()
        y, cursor, count = dv.scroll_offset.y, dv.cursor_row, len(app.selection_messages)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        assert len(app.selection_messages) == count  # nothing changed, nothing posted
        dv.set_diff("devenv.nix", old, new.replace("svc520.settings.port", "svc520.settings.host"))
        await pilot.pause()
        assert dv.hunk_count == 7 and dv.scroll_offset.y == y and dv.cursor_row == cursor
        assert "svc0" not in "\n".join(screen_lines(dv))
        dv.set_diff("devenv.yaml", "a: 1\n", "a: 2\n")  # another file starts at the top
        await pilot.pause()
        assert dv.scroll_offset.y == 0 and dv.cursor_row == 0


async def test_mode_switch_keeps_the_cursor_on_the_same_line() -> None:
    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        await pilot.pause()
        dv.next_hunk()
        dv.next_hunk()
        dv.cursor_down(5)  # the added "services.postgres" line
        assert "services.postgres" in dv.row_text(dv.cursor_row)
        dv.mode = "split"
        await pilot.pause()
        assert "services.postgres" in dv.row_text(dv.cursor_row)


async def test_theme_variables_restyle_the_diff() -> None:
    app = ThemedHost()
    async with app.run_test(size=(100, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        await pilot.pause()
        added = bg_of(dv, line_with(dv, "pkgs.ripgrep"), "packages")
        removed = bg_of(dv, line_with(dv, "pkgs.jq ];"), "packages")
        emph = bg_of(dv, line_with(dv, "pkgs.ripgrep"), "ripgrep")
        assert added is not None and Color.from_rich_color(added).hex.lower() == THEME_VARS["diff-added-bg"]
        assert removed is not None and Color.from_rich_color(removed).hex.lower() == THEME_VARS["diff-removed-bg"]
        assert emph is not None and Color.from_rich_color(emph).hex.lower() == THEME_VARS["diff-added-emph-bg"]


async def test_default_styles_distinguish_added_removed_and_emphasis() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        await pilot.pause()
        added = bg_of(dv, line_with(dv, "pkgs.ripgrep"), "packages")
        emph = bg_of(dv, line_with(dv, "pkgs.ripgrep"), "ripgrep")
        removed = bg_of(dv, line_with(dv, "pkgs.jq ];"), "packages")
        context = bg_of(dv, line_with(dv, "env.GREET"), "env")
        assert len({added, emph, removed, context}) == 4
        before = dv.render_line(line_with(dv, "pkgs.ripgrep"))
        app.theme = "textual-light"
        await pilot.pause()
        assert dv.render_line(line_with(dv, "pkgs.ripgrep")) != before  # cache dropped, new colours


async def test_long_lines_scroll_sideways_under_a_fixed_gutter() -> None:
    app = Host()
    long_old = "x = 1;\n" + "y = " + "a" * 150 + "END;\n"
    long_new = "x = 2;\n" + "y = " + "a" * 150 + "END;\n"
    async with app.run_test(size=(60, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("f.nix", long_old, long_new)
        await pilot.pause()
        assert dv.virtual_size.width > 60
        assert "END;" not in "\n".join(screen_lines(dv))
        assert screen_lines(dv)[line_with(dv, "y = aaa")].endswith("›")  # it goes on past the edge
        dv.scroll_to(x=dv.max_scroll_x, animate=False, immediate=True)
        await pilot.pause()
        y = line_with(dv, "END;")
        assert screen_lines(dv)[y].startswith("   2  2   ")  # numbers stay put
        assert not screen_lines(dv)[y].endswith("›")


async def test_a_change_off_the_edge_of_a_long_line_is_marked_at_that_edge() -> None:
    """A change an agent put at the end of a long line is not missed for being off-screen: the `›` the
    line ends in takes the change's emphasis colour; scrolled sideways past a change, a `‹` does."""
    app = Host()
    many = " ".join(f"pkgs.tool{n}" for n in range(20))
    old = f"  packages = [ {many} ];\n  env.A = 1;\n"
    new = f"  packages = [ {many} pkgs.evil ];\n  env.A = 1;\n" + "  long = [ " + "pkgs.same " * 20 + "];\n"
    async with app.run_test(size=(60, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        removed, added = line_with(dv, "- " + "  packages"), line_with(dv, "+ " + "  packages")
        unchanged = line_with(dv, "long = [")  # a new line with no partner: no change to point at
        assert "pkgs.evil" not in "\n".join(screen_lines(dv))
        for y in (removed, added, unchanged):
            assert screen_lines(dv)[y].endswith("›")
        emph = bg_of(dv, added, "›")
        assert emph != bg_of(dv, added, "packages")  # the change is past this edge
        assert bg_of(dv, removed, "›") == bg_of(dv, removed, "packages")  # nothing removed: plain
        assert bg_of(dv, unchanged, "›") == bg_of(dv, unchanged, "long")

        dv.scroll_to(x=dv.max_scroll_x, animate=False, immediate=True)
        await pilot.pause()
        y = line_with(dv, "pkgs.evil")
        assert bg_of(dv, y, "pkgs.evil") == emph and not screen_lines(dv)[y].endswith("›")
        assert "‹" not in screen_lines(dv)[y]  # the change is on screen

        dv.set_diff("devenv.nix", "  x = 1; " + "# note " * 20 + "\n", "  x = 2; " + "# note " * 20 + "\n")
        await pilot.pause()
        dv.scroll_to(x=40, animate=False, immediate=True)
        await pilot.pause()
        y = line_with(dv, "+ ")
        text = screen_lines(dv)[y]
        assert text.split("+ ", 1)[1].startswith("‹") and "2" not in text.split("+ ", 1)[1]
        assert bg_of(dv, y, "‹") != bg_of(dv, y, "note")  # in the change's emphasis colour

        # Wide characters take two cells: a change at character 37 is past a 60-column edge here.
        wide = "  名 = " + "漢字 " * 10
        dv.set_diff("wide.nix", wide + "old;\n", wide + "new;\n")
        await pilot.pause()
        dv.scroll_to(x=0, animate=False, immediate=True)  # (it opened at the change: see the test below)
        await pilot.pause()
        y = line_with(dv, "+ ")
        assert "new" not in screen_lines(dv)[y] and screen_lines(dv)[y].endswith("›")
        assert bg_of(dv, y, "›") != bg_of(dv, y, "名")


@pytest.mark.parametrize("mode", ["unified", "split"])
async def test_a_diff_whose_changes_are_all_past_the_right_edge_opens_scrolled_to_them(mode: str) -> None:
    """At 80 columns an agent's change at the end of a long line (the host of a URL) was off-screen, behind
    a `›`: the diff opens scrolled sideways to the first change, from a little before it, numbers in place.
    A change the view shows from its left edge (a line added whole among them) keeps it at the start."""
    app = Host()
    url = '  env.DATABASE_URL = "postgresql://app:secret@db.internal.example.com:5432/shop?sslmode=require&host='
    old = f'{{\n{url}db.internal";\n  env.B = 1;\n}}\n'
    new = old.replace('host=db.internal"', 'host=evil.example"')
    async with app.run_test(size=(80, 12)) as pilot:
        dv = app.query_one(DiffView)
        dv.mode = mode
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        assert dv.scroll_offset.x > 0
        lines = screen_lines(dv)
        y = line_with(dv, "evil.example")
        assert bg_of(dv, y, "evil.example") != bg_of(dv, y, "host=")  # the change, in its emphasis
        # the numbers and markers stay put; the removed side shows what was there
        if mode == "unified":
            assert lines[y].startswith("      2 + ") and lines[y - 1].startswith("   2    - ") and 'host=db.internal"' in lines[y - 1]
        else:
            assert lines[y].startswith("   2 - ") and "│ 2 + " in lines[y] and 'host=db.internal"' in lines[y]
        # Scrolled back by the person, the view stays there when the terminal is resized.
        dv.scroll_to(x=0, animate=False, immediate=True)
        await pilot.pause()
        await pilot.resize_terminal(80, 14)
        await pilot.pause()
        assert dv.scroll_offset.x == 0
        dv.set_diff("other.nix", old, new + "  added.whole = true;\n")
        await pilot.pause()
        assert dv.scroll_offset.x == 0  # a line changed from its first cell is in view: at the start

        # Moving from hunk to hunk goes sideways by the same rule.
        filler = "".join(f"  opt{i} = {i};\n" for i in range(30))
        two = f'  env.A = 1;\n{filler}{url}db.internal";\n'
        dv.set_diff("two.nix", two, two.replace("env.A = 1", "env.A = 2").replace('host=db.internal"', 'host=evil.example"'))
        await pilot.pause()
        assert dv.scroll_offset.x == 0 and dv.hunk_count == 2
        assert dv.next_hunk()  # (the cockpit's `n`): the first hunk's header
        await pilot.pause()
        assert dv.scroll_offset.x == 0
        assert dv.next_hunk()
        await pilot.pause()
        assert dv.scroll_offset.x > 0 and "evil.example" in "\n".join(screen_lines(dv))
        assert dv.previous_hunk()
        await pilot.pause()
        assert dv.scroll_offset.x == 0 and "env.A = 2" in "\n".join(screen_lines(dv))


async def test_a_diff_too_short_to_show_its_first_change_from_the_top_opens_at_that_change() -> None:
    """At 80x24 a proposal's diff gets three rows: from the top they held the headers and context, and
    the change was off-screen. It opens one line above its first change then; with the room, at its top.
    Once the person has scrolled, a resize leaves the view where they put it."""
    app = Host()
    old = "".join(f"  opt{i} = {i};\n" for i in range(12))
    new = old.replace("  opt6 = 6;", "  opt6 = 60;")
    async with app.run_test(size=(80, 4)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        lines = screen_lines(dv)
        assert any("-   opt6 = 6;" in line for line in lines), lines
        assert "opt5 = 5;" in lines[0]  # the line above the change, then the change
        await pilot.resize_terminal(80, 20)
        await wait_for(pilot, lambda: "devenv.nix" in screen_lines(dv)[0], what="the diff from its top")
        assert any("+   opt6 = 60;" in line for line in screen_lines(dv))

        long_old = "".join(f"  opt{i} = {i};\n" for i in range(60))
        long_new = "".join(f"  opt{i} = {i * 10 if i % 8 == 6 else i};\n" for i in range(60))
        dv.set_diff("other.nix", long_old, long_new)
        await pilot.pause()
        assert "other.nix" in screen_lines(dv)[0]  # its first change fits: from the top
        dv.scroll_to(y=3, animate=False, immediate=True)
        await pilot.pause()
        await pilot.resize_terminal(80, 4)
        await pilot.pause()
        assert int(dv.scroll_offset.y) == 3  # scrolled by the person: left there


async def test_control_characters_and_missing_final_newline_are_visible() -> None:
    app = Host()
    async with app.run_test(size=(100, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("f.nix", "a\x1b[31m = 1;\n", "a\x1b[31m = 2;")
        await pilot.pause()
        text = "\n".join(screen_lines(dv))
        assert "\x1b" not in text and "␛[31m = 2;" in text
        assert "= 2;  \\ No newline at end of file" in text
        dv.set_diff("f.nix", "{\n\tx = 1;\n}\n", "{\n\tx = 2;\n}\n")
        await pilot.pause()
        text = "\n".join(screen_lines(dv))
        assert "\t" not in text and "-     x = 1;" in text and "+     x = 2;" in text


async def test_hunk_header_names_the_enclosing_block() -> None:
    app = Host()
    old = "{\n  services.postgres = {\n    enable = true;\n    port = 5432;\n    a = 1;\n    b = 2;\n  };\n}\n"
    async with app.run_test(size=(100, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, old.replace("5432", "5433"))
        await pilot.pause()
        assert "@@ -1,7 +1,7 @@  hunk 1 of 1  services.postgres = {" in screen_lines(dv)[1]


def fg_of(dv: DiffView, y: int, needle: str) -> RichColor | None:
    """The colour of the first character of `needle` on painted line `y`."""
    style = style_at(dv, y, needle)
    return style.color if style else None


async def test_lines_inside_a_multi_line_string_are_highlighted_as_string_on_both_sides() -> None:
    app = Host()
    head = "".join(f"  opt{i} = {i};\n" for i in range(40))
    old = "{\n" + head + "  enterShell = ''\n    first = 1\n    removed = 2\n    last = 3\n  '';\n  after = 4;\n}\n"
    new = old.replace("    removed = 2\n", "    added = 5\n")
    async with app.run_test(size=(120, 20)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        dv.mode = "split"
        await pilot.pause()
        string = dv.get_component_rich_style("diff-view--tok-string", partial=True).color
        attribute = dv.get_component_rich_style("diff-view--tok-attribute", partial=True).color
        assert string != attribute
        y = line_with(dv, "removed = 2")
        assert fg_of(dv, y, "removed") == string  # old side, inside the '' string
        assert fg_of(dv, y, "added") == string  # new side
        assert fg_of(dv, line_with(dv, "after = 4"), "after") == attribute  # after the string: code again


async def test_a_letter_that_passes_for_another_is_marked_where_it_stands() -> None:
    """The Cyrillic і in `gіthub.com` is drawn reversed in the error colour on the added line; the
    ASCII letters beside it, the same line's old version and a comment in Russian are drawn plainly."""
    app = Host()
    old = '  env.DOCS = "https://github.com/tools";\n  # Привет\n'
    new = '  env.DOCS = "https://g\u0456thub.com/tools";\n  # Привет мир\n'
    async with app.run_test(size=(100, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        added, removed, comment = line_with(dv, "+   env.DOCS"), line_with(dv, "-   env.DOCS"), line_with(dv, "мир")
        mark = style_at(dv, added, "\u0456")
        assert mark is not None and mark.reverse and mark.bold, mark
        assert not (style_at(dv, added, "thub") or Style()).reverse
        assert not (style_at(dv, removed, "github") or Style()).reverse
        assert not (style_at(dv, comment, "мир") or Style()).reverse
