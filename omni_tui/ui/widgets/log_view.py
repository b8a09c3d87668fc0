"""LogView: the rebuild log — a bounded line ring, lazily sanitised, following the tail like `tail -f`.

Ingest is cheap on purpose (`write_lines` only appends raw strings): sanitising and styling happen
per *rendered* line through `core.terminal`, with a cache. Colours carry from one line to the next
as in a terminal: the SGR state at a line's start comes from the nearest earlier line holding an
escape (looked up within `SGR_LOOKBACK` lines). When the ring is full the oldest lines drop out and
a banner row says how many, and where the full log is. Once a rebuild reports progress, the top row
stays fixed as the progress line (phase, N of M, running derivation, elapsed, exit status).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from omni_tui.core.terminal import DEFAULT_STATE, SgrState, end_state, needs_sanitizing, sanitize_with_state
from omni_tui.ui.textual_compat import update_scrollbars
from omni_tui.ui.widgets.build_progress import ProgressModel

if TYPE_CHECKING:
    from omni_tui.core.buildlog import BuildProgress  # the parser's module loads with the first rebuild

DEFAULT_MAX_LINES = 200_000
SGR_LOOKBACK = 500


def _has_escape(line: str) -> bool:
    return "\x1b" in line or "\x9b" in line


class LogView(ScrollView, can_focus=True):
    """Shows lines written with `write_lines`; keeps at most `max_lines` of them."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "log-view--banner",
        "log-view--progress",
        "log-view--progress-title",
        "log-view--progress-running",
        "log-view--progress-ok",
        "log-view--progress-failed",
        "log-view--progress-stopped",
    }
    BINDINGS = [
        Binding("f", "toggle_follow", "Follow", id="log_view.follow", tooltip="Follow the end of the log (tail -f)"),
        Binding("end", "follow", "End", show=False, id="log_view.end", tooltip="Jump to the end of the log and follow it"),
        Binding(
            "home", "scroll_home", "Start", show=False, id="log_view.home", tooltip="Jump to the start of the log (stops following the end)"
        ),
    ]
    DEFAULT_CSS = """
    LogView {
        background: $surface;
        color: $text;
        overflow: auto;
    }
    LogView > .log-view--banner {
        color: $text-muted;
        background: $boost;
        text-style: italic;
    }
    LogView > .log-view--progress { background: $boost; }
    LogView > .log-view--progress-title { color: $text-muted; background: $boost; }
    LogView > .log-view--progress-running { color: $accent; background: $boost; text-style: bold; }
    LogView > .log-view--progress-ok { color: $success; background: $boost; text-style: bold; }
    LogView > .log-view--progress-failed { color: $error; background: $boost; text-style: bold; }
    LogView > .log-view--progress-stopped { color: $warning; background: $boost; text-style: bold; }
    """

    class FollowChanged(Message):
        """The view started or stopped following the end of the log."""

        def __init__(self, log_view: LogView, follow: bool) -> None:
            super().__init__()
            self.log_view = log_view
            self.follow = follow

        @property
        def control(self) -> LogView:
            return self.log_view

    def __init__(
        self,
        *,
        max_lines: int = DEFAULT_MAX_LINES,
        log_path: str | None = None,
        clock: Callable[[], float] | None = None,  # injected: a frozen clock freezes the progress row
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.max_lines = max_lines
        self.log_path = log_path
        self._lines: list[str] = []
        self._dropped = 0  # lines that fell out of the ring since the last clear()
        self._width = 0
        self._follow = True
        self._catching_up = False  # a scroll to the end is scheduled (see render_line)
        self._scrolling_to_end = False
        self._strips: LRUCache[int, Strip] = LRUCache(2048)
        self._end_states: dict[int, SgrState] = {}
        self._styles: dict[str, Style] = {}
        self.progress_model = ProgressModel(clock)
        self._ticker: Timer | None = None
        self._render_base: Style | None = None  # the base style while `render_lines` runs

    # -- data in ---------------------------------------------------------------------------------

    @property
    def held_lines(self) -> int:
        """How many lines the ring holds now."""
        return len(self._lines)

    @property
    def dropped_lines(self) -> int:
        """How many older lines dropped out of the ring (they are in the log file)."""
        return self._dropped

    @property
    def total_lines(self) -> int:
        return self._dropped + len(self._lines)

    @property
    def lines(self) -> Sequence[str]:
        """The raw lines held (read only)."""
        return self._lines

    @property
    def follow(self) -> bool:
        """True while the view sticks to the end of the log."""
        return self._follow

    def write_line(self, line: str) -> None:
        self.write_lines((line,))

    def write_lines(self, lines: Iterable[str]) -> None:
        """Append lines (one per item, raw text; escapes are dealt with when shown)."""
        batch = lines if isinstance(lines, (list, tuple)) else list(lines)  # a rebuild batch's tuple: not copied
        if not batch:
            return
        held = self._lines
        before = len(held)
        held.extend(batch)
        width = max(map(len, batch))
        if width > self._width:
            self._width = width
        excess = len(held) - self.max_lines
        had_banner = self._dropped > 0
        if excess > 0:
            del held[:excess]
            self._dropped += excess
            if len(self._end_states) > 4 * SGR_LOOKBACK:
                floor = self._dropped
                self._end_states = {k: v for k, v in self._end_states.items() if k >= floor}
        banner_added = self._dropped > 0 and not had_banner
        self._update_virtual_size()
        if self._follow:
            self._scroll_to_end()
            if excess > 0:
                # The ring is full: the end stays at the same scroll offset while the lines under it
                # change, so scrolling alone repaints nothing.
                self.refresh()
        else:
            # Keep the lines the person is reading in place while older ones drop out above them.
            shift = max(0, excess) - (1 if banner_added else 0)
            if shift > 0:
                self.scroll_to(y=max(0, self.scroll_y - shift), animate=False, immediate=True)
                self.refresh()
            elif before - self.scroll_offset.y < self.size.height:
                self.refresh()

    def clear(self) -> None:
        """Forget every line (a new rebuild starts)."""
        self._lines = []
        self._dropped = 0
        self._width = 0
        self._strips.clear()
        self._end_states.clear()
        self.progress_model.reset()
        self._stop_ticker()
        self._update_virtual_size()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._set_follow(True)
        self.refresh()

    def _update_virtual_size(self) -> None:
        extra = (1 if self._dropped else 0) + self._header_rows
        self._set_virtual_size(Size(self._width, len(self._lines) + extra))

    def _set_virtual_size(self, size: Size) -> None:
        """Set the scrollable size; a full layout of the screen only when the view's own box depends on it.

        `virtual_size` is a layout reactive: set plainly, every batch of a streaming rebuild reflowed
        the whole cockpit. The view's box is fixed (`1fr`, or filling its container) unless its
        height or width is `auto`; the scrollbars are updated here, and one appearing or going still
        asks for a layout (their own reactives do).
        """
        if size == self.virtual_size:
            return
        styles = self.styles
        if (
            not self.is_mounted
            or (styles.height is not None and styles.height.is_auto)
            or (styles.width is not None and styles.width.is_auto)
        ):
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        update_scrollbars(self, size)
        self.refresh()

    @property
    def _header_rows(self) -> int:
        return 1 if self.progress_model.active else 0

    # -- the progress row ------------------------------------------------------------------------

    def start_progress(self, title: str | None = None) -> None:
        """A rebuild began now: show the progress row and start its clock."""
        self.progress_model.start(title)
        self._progress_changed()

    def set_progress(self, progress: BuildProgress | None) -> None:
        """The latest build progress (the row appears, and its clock starts, on the first call)."""
        self.progress_model.update(progress)
        self._progress_changed()

    def finish(
        self,
        exit_code: int | None,
        *,
        cancelled: bool = False,
        timed_out: bool = False,
        error: str | None = None,
        duration_s: float | None = None,
    ) -> None:
        """The rebuild ended: the row shows ✓ exit 0 / ✗ exit N / ■ cancelled and stops its clock."""
        self.progress_model.finish(exit_code, cancelled=cancelled, timed_out=timed_out, error=error, duration_s=duration_s)
        self._stop_ticker()
        self._progress_changed()

    def progress_text(self) -> str:
        """The progress row as text ("" while no rebuild ran since the last clear)."""
        return self.progress_model.text() if self.progress_model.active else ""

    def _progress_changed(self) -> None:
        if self.virtual_size.height != len(self._lines) + (1 if self._dropped else 0) + self._header_rows:
            self._update_virtual_size()
            if self._follow:
                self._scroll_to_end()
        if self.progress_model.running and self._ticker is None and self.is_mounted:
            self._ticker = self.set_interval(1.0, self._tick)
        self.refresh_line(self.scroll_offset.y)

    def _tick(self) -> None:
        if not self.progress_model.running:
            self._stop_ticker()
        self.refresh_line(self.scroll_offset.y)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def on_mount(self) -> None:
        super().on_mount()
        if self.progress_model.running and self._ticker is None:
            self._ticker = self.set_interval(1.0, self._tick)

    def set_log_path(self, path: str | None) -> None:
        """Where the full log lives; named in the banner once older lines drop out."""
        self.log_path = str(path) if path is not None else None
        if self._dropped:
            self.refresh()

    # -- following the tail ----------------------------------------------------------------------

    def _set_follow(self, follow: bool) -> None:
        if follow != self._follow:
            self._follow = follow
            self.post_message(self.FollowChanged(self, follow))

    def _scroll_to_end(self) -> None:
        self._scrolling_to_end = True
        try:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        finally:
            self._scrolling_to_end = False

    def _catch_up(self) -> None:
        self._catching_up = False
        if self._follow:
            self._scroll_to_end()
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._scrolling_to_end:
            return
        if new_value < old_value and new_value < self.max_scroll_y:
            self._set_follow(False)
        elif new_value >= self.max_scroll_y:
            self._set_follow(True)

    def action_toggle_follow(self) -> None:
        if self._follow:
            self._set_follow(False)
        else:
            self.action_follow()

    def action_follow(self) -> None:
        self._set_follow(True)
        self._scroll_to_end()

    # -- pixels out ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()

    def banner_text(self) -> str:
        where = self.log_path or "the rebuild log file"
        count = self._dropped
        return f"1 earlier line is in {where}" if count == 1 else f"{count:,} earlier lines are in {where}"

    def render_lines(self, crop: Region) -> list[Strip]:
        # The base style is looked up once per render, not once per line (`rich_style` walks every
        # ancestor's styles: most of a line's cost while a rebuild streams).
        self._render_base = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._render_base = None

    def render_line(self, y: int) -> Strip:
        if (
            y == 0
            and not self._catching_up
            and (
                (self._follow and self.scroll_offset.y < self.max_scroll_y)
                or (self.show_vertical_scrollbar and self.vertical_scrollbar.position != self.scroll_y)
            )
        ):
            # Following, yet drawn short of the end: the room changed after the scroll (a long line
            # brought the horizontal scrollbar, which takes the bottom row). Or the vertical scrollbar
            # appeared after the scroll and shows position 0 (Textual moves it only while it is shown).
            # Put both right after this frame.
            self._catching_up = True
            self.call_later(self._catch_up)
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self._render_base if self._render_base is not None else self.rich_style
        header = self._header_rows
        if header and y == 0:
            # Fitted to what shows beside the vertical scrollbar, so the state and time are never under it.
            return self._progress_strip(width, self.scrollable_content_region.width)
        row = scroll_y + y - header
        if self._dropped:
            if row == 0:
                style = self.get_component_rich_style("log-view--banner")
                text = self.banner_text()
                return Strip([Segment(text, style)], cell_len(text)).crop_extend(scroll_x, scroll_x + width, style)
            row -= 1
        if row >= len(self._lines):
            return Strip.blank(width, base)
        strip = self._strip(row, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _progress_strip(self, width: int, visible: int) -> Strip:
        base = self.get_component_rich_style("log-view--progress")
        segments = [Segment(" ", base)]
        for text, kind in self.progress_model.fitted(visible - 1):
            style = base if kind == "plain" else self.get_component_rich_style(f"log-view--progress-{kind}")
            segments.append(Segment(text, style))
        strip = Strip(segments)
        return strip.crop_extend(0, width, base)

    def rendered_text(self, row: int) -> str:
        """The text shown for held line `row` (what reaches the screen, without styles)."""
        return self._strip(row, Style()).text

    def _strip(self, row: int, base: Style) -> Strip:
        key = self._dropped + row
        strip = self._strips.get(key)
        if strip is not None:
            return strip
        raw = self._lines[row]
        state = self._state_before(row)
        if state == DEFAULT_STATE and not needs_sanitizing(raw):
            strip = Strip([Segment(raw, base)], cell_len(raw))
        else:
            styled, end_state = sanitize_with_state(raw, state)
            if _has_escape(raw):
                self._end_states[key] = end_state
            text = styled.text
            segments: list[Segment] = []
            pos = 0
            for start, end, style in styled.spans:
                if start > pos:
                    segments.append(Segment(text[pos:start], base))
                segments.append(Segment(text[start:end], base + self._style(style)))
                pos = end
            if pos < len(text) or not segments:
                segments.append(Segment(text[pos:], base))
            strip = Strip(segments, cell_len(text))
        if strip.cell_length > self._width:
            # Raw lengths under-count wide characters; widen the scroll area when one shows up.
            self._width = strip.cell_length
            self._set_virtual_size(Size(self._width, self.virtual_size.height))
        self._strips[key] = strip
        return strip

    def _style(self, spec: str) -> Style:
        style = self._styles.get(spec)
        if style is None:
            try:
                style = Style.parse(spec)
            except Exception:  # an odd colour name must not break rendering
                style = Style()
            self._styles[spec] = style
        return style

    def _state_before(self, row: int) -> SgrState:
        """The SGR state in force at the start of held line `row`."""
        lines, dropped = self._lines, self._dropped
        floor = max(0, row - SGR_LOOKBACK)
        pending: list[int] = []
        state = DEFAULT_STATE
        j = row - 1
        while j >= floor:
            if _has_escape(lines[j]):
                cached = self._end_states.get(dropped + j)
                if cached is not None:
                    state = cached
                    break
                pending.append(j)
            j -= 1
        for j in reversed(pending):
            state = end_state(lines[j], state)  # no styled line built for lines above the view
            self._end_states[dropped + j] = state
        return state
