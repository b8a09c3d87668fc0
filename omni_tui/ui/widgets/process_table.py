"""The Processes table: one row per process (name, state, ports, pid, CPU%, memory, uptime, restarts, backend).

`update(snapshot)` adds and removes rows and rewrites only the cells whose text changed (no clear,
no flicker); the cursor stays on the same process. `ProcessTable.Selected` is posted whenever the
highlighted process changes.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets.data_table import ColumnKey

from omni_tui.core.terminal import inert
from omni_tui.ui.keys import default_bindings
from omni_tui.ui.widgets.colours import theme_colour
from omni_tui.ui.widgets.keyed_table import KeyedTable

# Ports right after the state: "is it up, and where" fits a narrow panel; the figures may scroll.
COLUMNS = (
    ("name", "Name"),
    ("state", "State"),
    ("ports", "Ports"),
    ("pid", "PID"),
    ("cpu", "CPU%"),
    ("mem", "Mem"),
    ("uptime", "Up"),
    ("restarts", "Rst"),
    ("backend", "Via"),
)

# state → theme variable for its colour
STATE_COLOURS = {
    "ready": "success",
    "running": "success",
    "starting": "warning",
    "stopping": "warning",
    "stopped": "foreground-muted",
    "exited": "secondary",
    "failed": "error",
}


@lru_cache(maxsize=4096)  # every row's memory and uptime every second: mostly the same numbers again
def human_bytes(n: int | None) -> str:
    if n is None:
        return "–"
    for unit in ("B", "K", "M", "G"):
        if n < 1024 or unit == "G":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f}T"


def human_duration(s: float | None) -> str:
    return "–" if s is None else _duration(int(s))


@lru_cache(maxsize=4096)
def _duration(s: int) -> str:
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


_KEYS = tuple(key for key, _label in COLUMNS)


_UPTIME = _KEYS.index("uptime")


def _raw_facts(p: Any) -> tuple[object, ...]:
    """What a row shows except its uptime, as the process reports it: the same → only the uptime may differ.

    Cheaper than `_cell_values` (no formatting): most rows of a refresh differ from the last one only by a
    second of uptime."""
    return (
        p.state,
        p.pid,
        p.cpu_percent,
        p.rss,
        p.restarts,
        p.ports,
        getattr(p, "port_checks", ()),
        getattr(p, "service", None),
        getattr(p, "exit_code", None),
        p.backend,
    )


def _uptime(p: Any, now: float) -> float | None:
    """Its uptime at `now`: the scan gives a start time (`started_at`), a manager an uptime."""
    started = getattr(p, "started_at", None)
    return p.uptime_s if started is None else max(0.0, now - started)


def _cell_values(p: Any, now: float) -> tuple[tuple[object, ...], ...]:
    """The plain facts behind each cell, in column order: a cell is rewritten only when its facts change."""
    ports: tuple[object, ...] = ()
    if p.ports:
        checks = {c.port: c.accepting for c in getattr(p, "port_checks", ())}
        ports = tuple((port, checks.get(port)) for port in p.ports)
    cpu = p.cpu_percent
    return (
        (p.name, getattr(p, "service", None)),
        (p.state, getattr(p, "exit_code", None)),
        ports,
        (p.pid,),
        (None if cpu is None else round(cpu, 1),),
        (human_bytes(p.rss),),
        (human_duration(_uptime(p, now)),),
        (p.restarts,),
        (p.backend,),
    )


class ProcessTable(KeyedTable):
    """A row-cursor table of processes keyed by name."""

    class Selected(Message):
        """The highlighted process changed; `name` is None when the table is empty."""

        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    class ActionRequested(Message):
        """R / x / l on the selected process: `action` is the cockpit action id (the app asks first)."""

        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    # An empty table's header is a legend under the note that says why it is empty: a scrollbar along
    # it would offer to scroll sideways to columns of nothing.
    DEFAULT_CSS = """
    ProcessTable.-empty { overflow-x: hidden; }
    """

    COLUMNS = COLUMNS
    # R/x/l (keys.ACTIONS, owner "processes"; remappable by id); the app decides whether they apply.
    BINDINGS: ClassVar[list[BindingType]] = default_bindings("processes")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("restart_process", "stop_process", "process_log"):
            return self.app.check_action(action, parameters)
        return super().check_action(action, parameters)

    def action_restart_process(self) -> None:
        self.post_message(self.ActionRequested("restart_process"))

    def action_stop_process(self) -> None:
        self.post_message(self.ActionRequested("stop_process"))

    def action_process_log(self) -> None:
        self.post_message(self.ActionRequested("process_log"))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.add_class("-empty")  # no rows until a snapshot has some: no sideways scrollbar over nothing
        self._values: dict[str, tuple[tuple[object, ...], ...]] = {}
        self._raw: dict[str, tuple[object, ...]] = {}  # each row's `_raw_facts` as last shown
        self._shown: dict[str, object] = {}  # each row's process as last shown: the same object → the same facts
        self._behind: set[str] = set()  # rows off screen whose uptime cell is older than their facts
        # Theme variable → Rich colour, for the theme shown: parsing and blending a colour per cell
        # cost more than the rest of an update (300 uptimes a second). Cleared when the theme changes.
        self._colours: dict[str, str] = {}

    @property
    def selected_name(self) -> str | None:
        return self._selected

    # ------------------------------------------------------------ rendering

    def _colour(self, variable: str) -> str:
        colour = self._colours.get(variable)
        if colour is None:
            colour = self._colours[variable] = theme_colour(self.app, variable)
        return colour

    def _mark_lookalikes(self, text: Text) -> None:
        """Letters that pass for others (`pоstgres` with a Cyrillic о, posing as the service) reversed in
        the error colour, as the diff marks them."""
        from omni_tui.core.card.lookalikes import suspect_spans

        for start, end in suspect_spans(text.plain):
            text.stylize(f"bold reverse {self._colour('error')}", start, end)

    def _render(self, column: str, facts: tuple[object, ...]) -> Text:
        if column == "uptime" or column == "mem":  # the cells rewritten every refresh: the shortest way
            return Text(str(facts[0]), justify="right")
        if column == "name":
            name, service = facts
            text = Text(inert(name))  # a process name is whatever the process says it is
            if service and service != name:
                text.append(f" {inert(service)}", style=self._colour("foreground-muted"))
            if not text.plain.isascii():
                self._mark_lookalikes(text)
            return text
        if column == "state":
            state, code = facts
            label = f"{state} {code}" if code not in (None, 0) else str(state)
            return Text(label, style=f"bold {self._colour(STATE_COLOURS.get(str(state), 'foreground'))}")
        if column == "ports":
            text = Text()
            for i, (port, accepting) in enumerate(facts):  # type: ignore[misc]
                if i:
                    text.append(",")
                colour = {True: "success", False: "error"}.get(accepting, "foreground-muted")
                text.append(str(port) + {True: "✓", False: "✗"}.get(accepting, ""), style=self._colour(colour))
            return text
        if column == "cpu":
            return Text("–" if facts[0] is None else f"{facts[0]:.1f}", justify="right")
        if column == "pid":
            return Text("–" if facts[0] is None else str(facts[0]), justify="right")
        if column == "restarts":
            return Text(str(facts[0]), justify="right", style=self._colour("warning") if facts[0] else "")
        if column == "backend":
            return Text(str(facts[0]), style=self._colour("foreground-muted"))
        return Text(str(facts[0]), justify="right")

    # ------------------------------------------------------------ updates

    def update(self, snapshot: Any) -> None:
        """Show `snapshot.processes`: new rows added, gone rows removed, changed cells rewritten."""
        processes = getattr(snapshot, "processes", ()) or ()
        latest = {p.name: p for p in processes}
        now = getattr(snapshot, "taken_at", None) or time.time()  # uptimes as of the refresh (fixed in tests)
        shown = self._shown
        keep = self._selected
        values = self._values
        raw = self._raw
        for name in [n for n in values if n not in latest]:
            self.remove_row(name)
            del values[name]
            raw.pop(name, None)
            shown.pop(name, None)
            self._behind.discard(name)
        render = self._render
        changed: list[tuple[str, str, Text]] = []
        # Uptimes tick for every row every second: those of rows off screen are drawn when they scroll
        # into view (`_catch_up`), not rebuilt each second for nobody (a wider one is drawn at once, so
        # the column grows now).
        window = self._window()
        behind = self._behind
        up_column = self.columns.get(ColumnKey("uptime"))
        up_width = up_column.content_width if up_column is not None else 0
        for name, p in latest.items():
            if shown.get(name) is p:  # the scan's unchanged process: the same object as last refresh
                facts = raw[name]
            else:
                facts = _raw_facts(p)
                shown[name] = p
            if raw.get(name) == facts:
                # The common refresh: nothing but the uptime can differ (no cell facts built, one cell at most).
                up = human_duration(_uptime(p, now))
                cells = values[name]
                if cells[_UPTIME][0] != up:
                    values[name] = (*cells[:_UPTIME], (up,), *cells[_UPTIME + 1 :])
                    if window is None or name in window or len(up) > up_width:
                        changed.append((name, "uptime", render("uptime", (up,))))
                        behind.discard(name)
                    else:
                        behind.add(name)
                continue
            raw[name] = facts
            behind.discard(name)  # its cells are compared with the facts below and rewritten where they differ
            cells = _cell_values(p, now)
            old = values.get(name)
            if old is None:
                self.add_row(*(render(c, facts) for c, facts in zip(_KEYS, cells)), key=name)
            elif old != cells:
                for column, was, facts in zip(_KEYS, old, cells):
                    if was != facts or column == "uptime":  # an uptime cell may be behind its facts
                        changed.append((name, column, render(column, facts)))
            values[name] = cells
        self.rewrite_cells(changed)  # one repaint for every uptime that ticked
        self.set_class(not values, "-empty")
        if keep is not None and keep in self._values:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False)
        self._announce()

    def _window(self) -> set[str] | None:
        """Names of the rows on screen (and a couple beyond); None when every row may be (or no size yet)."""
        height = self.size.height
        count = self.row_count
        if height <= 0 or count <= height:
            return None
        top = int(self.scroll_y)
        return {
            self.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value or "" for i in range(max(0, top - 2), min(count, top + height + 2))
        }

    def _catch_up(self) -> None:
        """Draw the uptimes of rows that came into view since their last tick."""
        if not self._behind:
            return
        window = self._window()
        names = self._behind if window is None else self._behind & window
        if names:
            self.rewrite_cells([(n, "uptime", self._render("uptime", self._values[n][_UPTIME])) for n in names if n in self._values])
            self._behind -= names

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._catch_up()

    def on_resize(self) -> None:
        self.call_after_refresh(self._catch_up)  # the new height is laid out

    def select_name(self, name: str) -> None:
        """Move the cursor to a process (no-op when absent)."""
        if name in self._values:
            self.move_cursor(row=self.get_row_index(name), animate=False)

    def _restyle(self) -> None:
        self._colours.clear()
        self._behind.clear()  # every cell is rendered again from its facts
        for name, cells in self._values.items():
            for column, facts in zip(_KEYS, cells):
                self.update_cell(name, column, self._render(column, facts))

    def _selection(self, key: str | None) -> Message:
        return self.Selected(key)
