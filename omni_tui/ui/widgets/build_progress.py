"""BuildProgressLine: one row above the rebuild log — phase, N of M, what builds, elapsed, exit status.

It receives `BuildProgress` snapshots and the final status as plain values; the clock is injectable
so snapshot tests can freeze the elapsed time.
"""

from __future__ import annotations

import time
from typing import Callable

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from omni_tui.core.buildlog import BuildProgress, format_elapsed


class BuildProgressLine(Widget):
    """`⟳ building 2/5 · hello-2.12 · 0:07`, then `✓ exit 0 · done 5/5 · 0:12` (or ✗ / cancelled)."""

    COMPONENT_CLASSES = {
        "build-progress--idle",
        "build-progress--running",
        "build-progress--ok",
        "build-progress--failed",
        "build-progress--stopped",
        "build-progress--title",
    }
    DEFAULT_CSS = """
    BuildProgressLine {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $boost;
    }
    BuildProgressLine > .build-progress--idle { color: $text-muted; }
    BuildProgressLine > .build-progress--running { color: $accent; text-style: bold; }
    BuildProgressLine > .build-progress--ok { color: $success; text-style: bold; }
    BuildProgressLine > .build-progress--failed { color: $error; text-style: bold; }
    BuildProgressLine > .build-progress--stopped { color: $warning; text-style: bold; }
    BuildProgressLine > .build-progress--title { color: $text-muted; }
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._clock = clock
        self.progress: BuildProgress | None = None
        self.title: str | None = None
        self.started_at: float | None = None
        self.elapsed_final: float | None = None
        self.status: str | None = None  # None while idle or running; else the final status text
        self.status_kind = "idle"
        self._ticker: Timer | None = None

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.status is None

    @property
    def elapsed_s(self) -> float | None:
        if self.elapsed_final is not None:
            return self.elapsed_final
        if self.started_at is None:
            return None
        return max(0.0, self._clock() - self.started_at)

    def start(self, title: str | None = None) -> None:
        """A rebuild began now."""
        self.title = title
        self.progress = BuildProgress()
        self.started_at = self._clock()
        self.elapsed_final = None
        self.status = None
        self.status_kind = "running"
        if self._ticker is None and self.is_mounted:
            self._ticker = self.set_interval(1.0, self.refresh)
        self.refresh()

    def update_progress(self, progress: BuildProgress | None) -> None:
        if progress is None:
            return
        if self.started_at is None:
            self.start(self.title)
        self.progress = progress
        self.refresh()

    def finish(
        self,
        exit_code: int | None,
        *,
        cancelled: bool = False,
        timed_out: bool = False,
        error: str | None = None,
        duration_s: float | None = None,
    ) -> None:
        """The rebuild ended: show how."""
        if self.started_at is None:
            self.started_at = self._clock()
        self.elapsed_final = duration_s if duration_s is not None else self.elapsed_s
        if cancelled:
            self.status, self.status_kind = "■ cancelled", "stopped"
        elif timed_out:
            self.status, self.status_kind = "■ timed out", "stopped"
        elif exit_code == 0:
            self.status, self.status_kind = "✓ exit 0", "ok"
        elif exit_code is None:
            self.status, self.status_kind = f"✗ {error or 'did not run'}", "failed"
        else:
            self.status, self.status_kind = f"✗ exit {exit_code}", "failed"
        self._stop_ticker()
        self.refresh()

    def reset(self) -> None:
        self.progress = None
        self.title = None
        self.started_at = None
        self.elapsed_final = None
        self.status = None
        self.status_kind = "idle"
        self._stop_ticker()
        self.refresh()

    def on_mount(self) -> None:
        if self.running and self._ticker is None:
            self._ticker = self.set_interval(1.0, self.refresh)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def plain_text(self) -> str:
        return self.render().plain

    def render(self) -> Text:
        kind = self.status_kind
        style = self.get_component_rich_style(f"build-progress--{kind}", partial=True) if self.is_mounted else None
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.started_at is None:
            text.append("no rebuild yet", style or "")
            return text
        if self.title:
            title_style = self.get_component_rich_style("build-progress--title", partial=True) if self.is_mounted else ""
            text.append(f"{self.title} — ", title_style)
        elapsed = self.elapsed_s
        progress = self.progress or BuildProgress()
        if self.status is None:
            text.append("⟳ ", style or "")
            text.append(progress.summary(elapsed), style or "")
        else:
            text.append(self.status, style or "")
            summary = progress.summary()
            if summary and summary != "evaluating":
                text.append(f" · {summary}")
            if elapsed is not None:
                text.append(f" · {format_elapsed(elapsed)}")
        return text
