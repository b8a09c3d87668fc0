"""LogView under Pilot: what reaches the screen, its progress row, tail following, bounded memory."""

from __future__ import annotations

import re

from app_harness import wait_for
from rich.color import Color
from textual.app import App, ComposeResult

from omni_tui.core.buildlog import BuildProgress
from omni_tui.ui.widgets.log_view import LogView

UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class LogApp(App):
    def __init__(self, max_lines: int = 200_000, clock=None) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.clock = clock or (lambda: 100.0)

    def compose(self) -> ComposeResult:
        yield LogView(max_lines=self.max_lines, clock=self.clock)


def screen_rows(view: LogView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_lines_appear_in_order() -> None:
    async with LogApp().run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines(["alpha", "beta"])
        view.write_line("gamma")
        await pilot.pause()
        assert screen_rows(view)[:4] == ["alpha", "beta", "gamma", ""]


async def test_colours_are_kept_as_styles_and_carry_across_lines() -> None:
    async with LogApp().run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines(["\x1b[31;1merror:\x1b[0m plain", "\x1b[32mgreen starts", "still green", "\x1b[0mplain again"])
        await pilot.pause()
        first = list(view.render_line(0))
        assert first[0].text == "error:" and first[0].style.color == Color.parse("red") and first[0].style.bold
        assert first[1].text == " plain" and first[1].style.color != Color.parse("red")
        carried = view.render_line(2)
        assert carried.text.rstrip() == "still green"
        assert list(carried)[0].style.color == Color.parse("green")
        assert list(view.render_line(3))[0].style.color != Color.parse("green")


async def test_hostile_sequences_never_reach_the_screen() -> None:
    hostile = [
        "a\x1b]52;c;ZWNobyBvd25lZA==\x07b",
        "\x1b]0;pwned title\x1b\\c\x1b[2J\x1b[H\x1b[10;5Hd",
        "e\x1b[200~f\x1b[201~g\x1bPq#0\x1b\\h\x9b2Ji\x85j",
        "bell\x07 \ufffd\ufffd ok",
    ]
    async with LogApp().run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines(hostile)
        await pilot.pause()
        rows = screen_rows(view)
        assert rows[:4] == ["ab", "cd", "efghij", "bell␇ \ufffd\ufffd ok"]
        for row in rows:
            assert not UNSAFE.search(row)
        shot = pilot.app.export_screenshot()
        assert "pwned" not in shot and "ZWNvd" not in shot


async def test_follows_the_tail_until_the_user_scrolls_up() -> None:
    async with LogApp().run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines([f"line {i}" for i in range(1, 1001)])
        await pilot.pause()
        assert view.follow and view.scroll_y == view.max_scroll_y
        assert "line 1000" in screen_rows(view)
        view.focus()
        await pilot.press("pageup")
        await pilot.wait_for_scheduled_animations()  # the page scrolls smoothly: read it once it has settled
        await wait_for(pilot, lambda: not view.follow and view.scroll_y == view.scroll_target_y, what="the page up settled")
        reading = screen_rows(view)
        view.write_lines([f"more {i}" for i in range(50)])
        await pilot.pause()
        assert view.max_scroll_y > view.scroll_y + 50
        assert screen_rows(view) == reading  # the person keeps reading where they were
        await pilot.press("end")
        await wait_for(pilot, lambda: view.follow and "more 49" in screen_rows(view), what="the tail after end")
        view.write_line("newest")
        await wait_for(pilot, lambda: screen_rows(view)[-1] == "newest", what="the newest line at the bottom")
        await pilot.press("f")
        await wait_for(pilot, lambda: not view.follow, what="follow off after f")
        await pilot.press("f")
        await wait_for(pilot, lambda: view.follow, what="follow on after f again")


async def test_a_million_lines_stay_bounded_and_keys_still_work() -> None:
    async with LogApp(max_lines=200_000).run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.set_log_path("/state/logs/rebuild-1.log")
        batch = 10_000
        for start in range(0, 1_000_000, batch):
            view.write_lines([f"\x1b[36mbuild\x1b[0m line {i}" if i % 7 == 0 else f"line {i}" for i in range(start, start + batch)])
            if start % 100_000 == 0:
                await pilot.pause()
        await pilot.pause()
        assert view.held_lines == 200_000 and view.dropped_lines == 800_000
        assert view.lines[0] == "line 800000"
        assert screen_rows(view)[-2:] == ["line 999998", "build line 999999"]
        view.focus()
        await pilot.press("home")
        # `home` scrolls smoothly: what the person sees once it has arrived
        await wait_for(pilot, lambda: screen_rows(view)[0].startswith("800,000 earlier"), what="the log's start after home")
        assert not view.follow
        rows = screen_rows(view)
        assert rows[0] == "800,000 earlier lines are in /state/logs/rebuild-1.log"
        assert rows[1] == "line 800000"


async def test_clear_starts_over() -> None:
    async with LogApp(max_lines=10).run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines([str(i) for i in range(25)])
        await pilot.pause()
        assert screen_rows(view)[0] == "15 earlier lines are in the rebuild log file"
        view.clear()
        view.write_line("fresh")
        await pilot.pause()
        assert screen_rows(view)[:2] == ["fresh", ""] and view.dropped_lines == 0


async def test_progress_line_shows_phase_counts_elapsed_and_exit_status() -> None:
    now = [100.0]
    async with LogApp(clock=lambda: now[0]).run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        line = view.progress_model
        assert line.text() == "no rebuild yet"
        view.start_progress()
        now[0] = 107.0
        view.set_progress(BuildProgress(phase="building", done=2, expected=5, running=1, current=("hello-2.12",)))
        await pilot.pause()
        assert line.text() == "⟳ building 2/5 · hello-2.12 · 0:07"
        view.set_progress(BuildProgress(phase="done", done=5, expected=5))
        view.finish(0, duration_s=12.4)  # an injected clock wins over the measured duration (frozen snapshots)
        assert line.text() == "✓ exit 0 · done 5/5 · 7.0 s"
        view.start_progress("approve add-redis")
        view.set_progress(BuildProgress(phase="failed", done=0, expected=1, failed=1))
        now[0] = 110.0
        view.finish(100)
        assert line.text() == "approve add-redis — ✗ exit 100 · failed · 0/1 built · 1 failed · 3.0 s"
        view.start_progress()
        view.finish(None, cancelled=True)
        assert line.text() == "■ cancelled · 0.0 s"
        view.start_progress()
        view.finish(0, error="restart command `x` failed with exit code 4", duration_s=2)
        assert line.text() == "✓ exit 0 · ⚠ restart command `x` failed with exit code 4 · 0.0 s"
        assert screen_rows(view)[0] == " " + line.text()  # the row the person sees above the log


class ClockedLogApp(App):
    def __init__(self, now: list[float]) -> None:
        super().__init__()
        self.now = now

    def compose(self) -> ComposeResult:
        yield LogView(clock=lambda: self.now[0])


async def test_log_view_progress_row_stays_on_top_while_lines_stream() -> None:
    now = [50.0]
    async with ClockedLogApp(now).run_test(size=(60, 10)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_line("▶ approve add-redis")
        view.set_progress(BuildProgress(phase="building", done=1, expected=3, running=1, current=("redis-7.2",)))
        now[0] = 55.0
        view.write_lines([f"redis-7.2> step {i}" for i in range(100)])
        await pilot.pause()
        rows = screen_rows(view)
        assert rows[0] == " ⟳ building 1/3 · redis-7.2 · 0:05"
        assert rows[-1] == "redis-7.2> step 99" and rows[1] == "redis-7.2> step 91"
        view.focus()
        await pilot.press("home")
        # (the scroll lands a frame or more after the key under load)
        await wait_for(
            pilot,
            lambda: screen_rows(view)[:2] == [" ⟳ building 1/3 · redis-7.2 · 0:05", "▶ approve add-redis"],
            what="the start of the log under the progress row",
        )
        view.set_progress(BuildProgress(phase="done", done=3, expected=3))
        now[0] = 115.0
        view.finish(0, duration_s=1.5)  # the injected clock decides: 65 s
        await wait_for(pilot, lambda: screen_rows(view)[0] == " ✓ exit 0 · done 3/3 · 1:05", what="the finished row")
        assert view.progress_text() == "✓ exit 0 · done 3/3 · 1:05"
        view.clear()
        await wait_for(pilot, lambda: screen_rows(view)[0] == "", what="the cleared view")
        assert view.progress_text() == ""


async def test_reading_position_holds_while_old_lines_drop_out() -> None:
    async with LogApp(max_lines=100).run_test(size=(60, 10)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines([f"line {i}" for i in range(150)])
        await pilot.pause()
        view.focus()
        await pilot.press("pageup")
        await pilot.wait_for_scheduled_animations()  # the page scrolls smoothly: read it once it has settled
        await wait_for(pilot, lambda: not view.follow and view.scroll_y == view.scroll_target_y, what="the page up settled")
        reading = screen_rows(view)
        assert reading[0] != "50 earlier lines are in the rebuild log file"
        view.write_lines([f"line {i}" for i in range(150, 170)])
        await pilot.pause()
        assert view.dropped_lines == 70
        assert screen_rows(view) == reading


async def test_with_the_real_clock_the_measured_duration_is_shown() -> None:
    async with App().run_test() as pilot:
        view = LogView()
        await pilot.app.mount(view)
        view.start_progress()
        view.finish(2, duration_s=12.4)
        assert view.progress_text() == "✗ exit 2 · 12.4 s"


async def test_a_long_line_that_brings_the_horizontal_scrollbar_is_still_shown_while_following() -> None:
    """The scrollbar takes the bottom row after the view scrolled to the end: the view catches up."""
    async with LogApp().run_test(size=(40, 12)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines([f"line {i}" for i in range(30)])
        await pilot.pause()
        assert screen_rows(view)[-1] == "line 29"
        view.write_line("the outcome, longer than the panel is wide: " + "x" * 40)
        for _ in range(5):
            await pilot.pause()
        assert view.follow and view.scroll_offset.y == view.max_scroll_y
        visible = [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]
        assert visible[-1].startswith("the outcome, longer") and visible[-2] == "line 29"


async def test_the_scrollbar_shows_the_end_when_it_appears_while_following() -> None:
    """The first overflowing line brings the scrollbar after the view scrolled: its thumb is at the end, not the top."""
    async with LogApp().run_test(size=(40, 12)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines([f"line {i}" for i in range(5)])
        await pilot.pause()
        assert not view.show_vertical_scrollbar
        view.write_lines([f"more {i}" for i in range(12)])
        for _ in range(5):
            await pilot.pause()
        assert view.show_vertical_scrollbar and view.scroll_offset.y == view.max_scroll_y > 0
        assert view.vertical_scrollbar.position == view.max_scroll_y


async def test_a_full_ring_still_repaints_the_tail_while_following() -> None:
    """Once old lines drop out, the end stays at the same scroll offset: the new tail must still be painted
    (frames as the terminal gets them, not render_line)."""
    import asyncio
    import time

    from textual._compositor import CompositorUpdate

    csi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
    app = LogApp(max_lines=50)
    frames: list[str] = []
    original = app._display

    def display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
        original(screen, renderable)
        if isinstance(renderable, CompositorUpdate):
            frames.append(csi.sub("", renderable.render_segments(app.console)))

    app._display = display  # type: ignore[method-assign]

    async def drawn(text: str) -> None:
        deadline = time.monotonic() + 10
        while not any(text in f for f in frames):
            assert time.monotonic() < deadline, f"{text!r} never reached the screen"
            await asyncio.sleep(0.02)

    async with app.run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines([f"first batch {i}" for i in range(60)])
        await drawn("first batch 59")
        for batch in range(3):
            view.write_lines([f"batch {batch} line {i}" for i in range(10)])
            await drawn(f"batch {batch} line 9")
        assert view.follow and view.dropped_lines == 40


async def test_batches_arriving_while_following_repaint_the_view_without_a_screen_layout() -> None:
    """A streaming rebuild posts a batch every ~50 ms: each one moves the end of the log, not the view's box,
    so none lays out the whole screen again (the cockpit has ~30 widgets); the new last line is drawn."""
    async with LogApp().run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(LogView)
        view.write_lines([f"line {i}" for i in range(100)])  # the scrollbar comes: that one lays out
        await wait_for(pilot, lambda: view.max_scroll_y > 0 and screen_rows(view)[-1] == "line 99", what="the first lines drawn")
        # What would lay the screen out is the view asking for it (its virtual size set as a layout reactive);
        # the screen itself may lay out under load for reasons of its own (focus settling), seen with
        # OMNI_TUI_JITTER, which a count of its layouts would blame on the batches.
        asked: list[object] = []
        refresh = view.refresh

        def counting(*regions: object, **kwargs: object) -> None:
            if kwargs.get("layout"):
                asked.append(kwargs)
            refresh(*regions, **kwargs)  # type: ignore[arg-type]

        view.refresh = counting  # type: ignore[method-assign]
        for batch in range(20):
            view.write_lines([f"batch {batch} line {i}" for i in range(50)])
            await pilot.pause()
        assert asked == []
        assert screen_rows(view)[-1] == "batch 19 line 49"
        assert view.follow and view.scroll_y == view.max_scroll_y
