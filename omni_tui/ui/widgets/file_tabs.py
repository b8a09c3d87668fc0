"""A one-line file selector above a diff: the names of the files that differ, the shown one highlighted.

Hidden while there is at most one file. Click a name to show it; the app's `next_file` action cycles.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from omni_tui.ui.widgets.colours import theme_colour


class FileTabs(Widget):
    """`set_files(paths, active)` in, `FileTabs.FileSelected(path)` out when a name is clicked."""

    DEFAULT_CSS = """
    FileTabs { height: 1; width: 1fr; }
    FileTabs.-single { display: none; }
    """

    class FileSelected(Message):
        def __init__(self, tabs: FileTabs, path: str) -> None:
            super().__init__()
            self.tabs = tabs
            self.path = path

        @property
        def control(self) -> FileTabs:
            return self.tabs

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # -single from the start (in the constructor's classes: `add_class` here styled the widget
        # once before it was mounted, and mounting styles it again).
        super().__init__(id=id, classes=f"-single {classes}" if classes else "-single")
        self.paths: tuple[str, ...] = ()
        self.active: str | None = None

    def set_files(self, paths: Sequence[str], active: str | None) -> None:
        """Show these names; `active` (one of them) is highlighted."""
        self.paths = tuple(paths)
        self.active = active if active in self.paths else (self.paths[0] if self.paths else None)
        self.set_class(len(self.paths) <= 1, "-single")
        self.refresh()

    def next_path(self, step: int = 1) -> str | None:
        """The file after (or before) the active one, cycling; None without files."""
        if not self.paths:
            return None
        index = self.paths.index(self.active) if self.active in self.paths else -1
        return self.paths[(index + step) % len(self.paths)]

    def _spans(self) -> list[tuple[int, int, str]]:
        spans, x = [], 0
        for path in self.paths:
            label = f" {path} "
            spans.append((x, x + len(label), path))
            x += len(label) + 1
        return spans

    def render(self) -> Text:
        muted = theme_colour(self.app, "foreground-muted")
        active = f"bold {theme_colour(self.app, 'foreground')} on {theme_colour(self.app, 'accent-muted')}"
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, path in enumerate(self.paths):
            if index:
                text.append("│", style=muted)
            text.append(f" {path} ", style=active if path == self.active else muted)
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, path in self._spans():
            if start <= event.x < end:
                self.post_message(self.FileSelected(self, path))
                return
