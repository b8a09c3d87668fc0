"""A process's log, full screen over the cockpit: the app feeds lines, the view follows the tail.

`ProcessLogScreen(name, source)` never reads a file or a socket itself: the app's worker calls
`append_lines` with new lines as they stream, or `sync_tail` with the latest "last N lines"
snapshot a backend returns (only the lines not shown yet are added). Escape or `q` closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from omni_tui.core.terminal import inert
from omni_tui.ui.widgets.key_bar import KeyBar
from omni_tui.ui.widgets.log_view import LogView

GAP_MARKER = "… (more lines arrived than one refresh returns; some may be missing here)"


def new_tail(shown: Sequence[str], snapshot: Sequence[str]) -> tuple[list[str], bool]:
    """The lines of `snapshot` not yet at the end of `shown`, and whether the two did not overlap.

    `snapshot` is a backend's "last N lines": the largest suffix of `shown` that is a prefix of
    `snapshot` is what was already displayed.
    """
    if not shown:
        return list(snapshot), False
    limit = min(len(shown), len(snapshot))
    for k in range(limit, 0, -1):
        if shown[len(shown) - k] == snapshot[0] and list(shown[len(shown) - k :]) == list(snapshot[:k]):
            return list(snapshot[k:]), False
    return list(snapshot), bool(snapshot)


class ProcessLogScreen(ModalScreen[None]):
    """The log of one process; `source` says where it comes from (a backend, a file path)."""

    CSS_PATH = "screens.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="process_log.close"),
        Binding("q", "close", "Close", show=False, id="process_log.close_q"),
    ]

    def __init__(self, name: str, source: str = "", *, max_lines: int = 100_000) -> None:
        super().__init__()
        self.name_shown = name  # the process's name as the backends report it (log lines are matched by it)
        self.source = source
        self.max_lines = max_lines
        self._error: str | None = None
        # Lines that arrive before the screen is mounted wait here (a refresh can beat compose).
        self._pending: list[str] | None = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog -log"):
            source = " [$text-muted]· $source[/]" if self.source else ""
            yield Label(
                # A process names itself (`exec -a`, its file name): shown inert, as the table shows it.
                Content.from_markup(f"Log: [b]$name[/]{source}", name=inert(self.name_shown), source=inert(self.source)),
                id="dialog-title",
            )
            yield LogView(max_lines=self.max_lines, id="process-log")
            yield Static("", id="log-status")
        yield KeyBar()

    def on_mount(self) -> None:
        pending, self._pending = self._pending or [], None
        view = self.query_one(LogView)
        view.focus()
        if pending:
            view.write_lines(pending)
        self._show_status()

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    def append_lines(self, lines: list[str]) -> None:
        """Add newly streamed lines at the end."""
        if not lines:
            return
        self._error = None
        if self._pending is not None:
            self._pending.extend(lines)
            return
        self.log_view.write_lines(lines)
        self._show_status()

    def sync_tail(self, snapshot: Sequence[str]) -> None:
        """Show the latest "last N lines" snapshot, adding only what is new since the previous one."""
        shown = self._pending if self._pending is not None else self.log_view.lines
        added, gap = new_tail(shown, snapshot)
        if gap:
            added.insert(0, GAP_MARKER)
        self.append_lines(added)

    def show_error(self, message: str) -> None:
        """The log cannot be read now (the backend said why); shown in the status line."""
        self._error = inert(message)  # a backend's words may quote the process's name
        if self._pending is None:
            self._show_status()

    def _show_status(self) -> None:
        view = self.log_view
        total = view.total_lines
        lines = f"{total:,} line{'s' if total != 1 else ''}"
        if self._error:
            status = Content.from_markup("[b $text-error]$error[/]  [$text-muted]$lines[/]", error=self._error, lines=lines)
        elif view.follow:
            status = Content.from_markup("following the end  [$text-muted]$lines[/]", lines=lines)
        else:
            status = Content.from_markup("[b $warning]paused[/] (f follows the end again)  [$text-muted]$lines[/]", lines=lines)
        self.query_one("#log-status", Static).update(status)

    def on_log_view_follow_changed(self, event: LogView.FollowChanged) -> None:
        self._show_status()

    def action_close(self) -> None:
        self.dismiss(None)
