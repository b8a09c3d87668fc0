"""What the rebuild log's progress row says — title, phase, N of M, what builds, elapsed, exit status.

`ProgressModel` receives `BuildProgress` snapshots and the final status as plain values and gives the
row's pieces, fitted to a width; `LogView` draws them. The clock is injectable so snapshot tests can
freeze the elapsed time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

from omni_tui.core.terminal import inert

if TYPE_CHECKING:
    from omni_tui.core.buildlog import BuildProgress


class ProgressModel:
    """The state behind `LogView`'s progress row."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        # With an injected clock (snapshot tests) every elapsed figure comes from it, so a frozen
        # clock freezes the row; with the real one, a run's measured duration wins at the end.
        self.clock = clock or time.monotonic
        self.injected_clock = clock is not None
        self.progress: BuildProgress | None = None
        self.title: str | None = None
        self.started_at: float | None = None
        self.elapsed_final: float | None = None
        self.status: str | None = None  # None while idle or running; else the final status text
        self.kind = "idle"  # idle | running | ok | failed | stopped
        self.title_room: tuple[int, int] | None = None  # (row width, columns the title had) while it runs

    @property
    def active(self) -> bool:
        return self.started_at is not None

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.status is None

    @property
    def elapsed_s(self) -> float | None:
        if self.elapsed_final is not None:
            return self.elapsed_final
        if self.started_at is None:
            return None
        return max(0.0, self.clock() - self.started_at)

    def start(self, title: str | None = None) -> None:
        from omni_tui.core.buildlog import BuildProgress  # with the first rebuild, not before the first frame

        self.title = title
        self.title_room = None
        self.progress = BuildProgress()
        self.started_at = self.clock()
        self.elapsed_final = None
        self.status = None
        self.kind = "running"

    def update(self, progress: BuildProgress | None) -> None:
        if progress is None:
            return
        if self.started_at is None or self.status is not None:
            if self.status is not None:  # progress after the end of a run: keep the final picture
                self.progress = progress
                return
            self.start(self.title)
        self.progress = progress

    def finish(
        self,
        exit_code: int | None,
        *,
        cancelled: bool = False,
        timed_out: bool = False,
        error: str | None = None,
        duration_s: float | None = None,
    ) -> None:
        if self.started_at is None:
            self.started_at = self.clock()
        self.elapsed_final = duration_s if duration_s is not None and not self.injected_clock else self.elapsed_s
        if cancelled:
            self.status, self.kind = "■ cancelled", "stopped"
        elif timed_out:
            self.status, self.kind = "■ timed out", "stopped"
        elif exit_code == 0:
            # A good build can still carry a problem (a failed restart command): say it, keep the ✓.
            self.status, self.kind = ("✓ exit 0" + (f" · ⚠ {error}" if error else "")), "ok"
        elif exit_code is None:
            self.status, self.kind = f"✗ {error or 'did not run'}", "failed"
        else:
            self.status, self.kind = f"✗ exit {exit_code}", "failed"

    def reset(self) -> None:
        self.__init__(self.clock if self.injected_clock else None)  # type: ignore[misc]

    def parts(self) -> list[tuple[str, str]]:
        """(text, kind) pieces; kind picks the style: title, idle, running, ok, failed, stopped, plain."""
        if self.started_at is None:
            return [("no rebuild yet", "idle")]
        from omni_tui.core.buildlog import BuildProgress, format_elapsed

        parts: list[tuple[str, str]] = []
        if self.title:  # an agent's proposal title: made inert, it is drawn on the person's terminal
            parts.append((f"{inert(self.title)} — ", "title"))
        elapsed = self.elapsed_s
        progress = self.progress or BuildProgress()
        if self.status is None:
            parts.append(("⟳ " + progress.summary(elapsed), "running"))
            return parts
        parts.append((self.status, self.kind))
        summary = progress.summary()
        if summary and summary != "evaluating":
            parts.append((f" · {summary}", "plain"))
        if elapsed is not None:
            # A finished run under a minute reads better as seconds: "0.7 s" rather than "0:00".
            took = f"{elapsed:.1f} s" if elapsed < 60 else format_elapsed(elapsed)
            parts.append((f" · {took}", "plain"))
        return parts

    def text(self) -> str:
        return "".join(text for text, _ in self.parts())

    def fitted(self, width: int) -> list[tuple[str, str]]:
        """`parts()` in `width` columns: the title gives way (cut with "…", or left out), so how the
        build is doing and its time stay in view at 80 columns. While the build runs, what it builds
        changes length at every step; the title keeps the least room it has had at this width, so it
        does not grow back and shrink again (or vanish and come back) from one step to the next."""
        parts = self.parts()
        room = width - sum(cell_len(piece) for piece, kind in parts if kind != "title")
        if self.running:
            if self.title_room is not None and self.title_room[0] == width:
                room = min(room, self.title_room[1])
            self.title_room = (width, room)
        out: list[tuple[str, str]] = []
        for piece, kind in parts:
            if kind == "title" and cell_len(piece) > room:
                if room - 3 < 2:
                    continue
                piece = f"{_cut_title(piece.removesuffix(' — '), room - 3)} — "
            out.append((piece, kind))
        return out


def _cut_title(title: str, width: int) -> str:
    """`title` in `width` columns. A quoted name (`approve “…” (agent)`) is cut inside its quotes, so the
    closing quote and what follows stay; otherwise, or when that leaves no room, the end gives way."""
    opening, closing = title.find("“"), title.rfind("”")
    if 0 <= opening < closing:
        before, quoted, after = title[: opening + 1], title[opening + 1 : closing], title[closing:]
        inner = width - cell_len(before) - cell_len(after)
        if inner >= 2:
            name = Text(quoted)
            name.truncate(inner, overflow="ellipsis")
            return f"{before}{name.plain}{after}"
    head = Text(title)
    head.truncate(width, overflow="ellipsis")
    return head.plain
