"""The process table under Pilot: rows appear, a changed CPU cell updates in place, the cursor stays put."""

from __future__ import annotations

from app_harness import screen_strips, wait_for
from textual.app import App, ComposeResult

from omni_tui.core.processes import PortCheck, ProcessInfo, ProcessSnapshot
from omni_tui.ui.widgets.process_table import ProcessTable, human_bytes, human_duration


def _info(name: str, **kw: object) -> ProcessInfo:
    base = dict(
        backend="psutil",
        state="running",
        raw_state="sleeping",
        pid=100,
        cpu_percent=None,
        rss=10 << 20,
        uptime_s=5.0,
        restarts=0,
        ports=(),
        ready=None,
    )
    base.update(kw)
    return ProcessInfo(name=name, **base)  # type: ignore[arg-type]


class Harness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield ProcessTable(id="procs")

    def on_process_table_selected(self, message: ProcessTable.Selected) -> None:
        self.selected.append(message.name)


def _cell(table: ProcessTable, row: str, column: str) -> str:
    return table.get_cell(row, column).plain


async def test_rows_appear_cells_update_in_place_and_cursor_stays() -> None:
    app = Harness()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(ProcessTable)
        web = _info("web", pid=11, state="ready", ports=(8000,), port_checks=(PortCheck(8000, True),), uptime_s=75)
        worker = _info("worker", pid=12, cpu_percent=None)
        table.update(ProcessSnapshot("psutil", (web, worker)))
        await pilot.pause()
        assert table.row_count == 2
        assert [_cell(table, "web", c) for c in ("name", "state", "pid", "cpu", "mem", "uptime", "ports", "backend")] == [
            "web",
            "ready",
            "11",
            "–",
            "10.0M",
            "1m15s",
            "8000✓",
            "psutil",
        ]
        await wait_for(pilot, lambda: app.selected == ["web"], what="web selected")  # a message: it comes when it comes

        await pilot.press("down")
        await wait_for(pilot, lambda: table.selected_name == "worker" and app.selected == ["web", "worker"], what="worker selected")

        worker_row = table.rows[next(k for k in table.rows if k.value == "worker")]
        db = _info("db", pid=9, service="postgres", ports=(5432,), port_checks=(PortCheck(5432, False),))
        table.update(ProcessSnapshot("psutil", (db, web, worker._replace(cpu_percent=12.5))))
        await pilot.pause()
        assert _cell(table, "worker", "cpu") == "12.5"
        assert table.rows[next(k for k in table.rows if k.value == "worker")] is worker_row  # not rebuilt
        assert _cell(table, "db", "ports") == "5432✗" and _cell(table, "db", "name") == "db postgres"
        assert table.selected_name == "worker"
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "worker"

        # The row above the cursor goes away: the cursor still follows the same process.
        table.update(ProcessSnapshot("psutil", (db, worker._replace(cpu_percent=3.0, state="exited", exit_code=3))))
        await pilot.pause()
        assert table.row_count == 2 and table.selected_name == "worker"
        assert _cell(table, "worker", "state") == "exited 3" and _cell(table, "worker", "cpu") == "3.0"

        table.update(ProcessSnapshot("psutil", ()))
        await wait_for(pilot, lambda: table.row_count == 0 and app.selected[-1] is None, what="nothing selected in the empty table")


def _shown(table: ProcessTable) -> list[str]:
    """The table's rows as they are drawn (header first)."""
    return ["".join(segment.text for segment in table.render_line(y)) for y in range(table.row_count + 1)]


async def test_a_cell_that_grows_is_drawn_whole() -> None:
    """Uptime passing a minute, an exit code, a second port: the column widens, nothing is cropped."""
    app = Harness()
    async with app.run_test(size=(120, 8)) as pilot:
        table = app.query_one(ProcessTable)
        web = _info("web", pid=11, uptime_s=59)
        table.update(ProcessSnapshot("psutil", (web,)))
        await pilot.pause()
        assert "59s" in _shown(table)[1]
        grown = web._replace(state="exited", exit_code=137, uptime_s=3700, ports=(8000, 8001))
        table.update(ProcessSnapshot("psutil", (grown,)))
        await pilot.pause()
        row = _shown(table)[1]
        assert "exited 137" in row and "1h01m" in row and "8000,8001" in row, row


async def test_ports_are_in_view_in_a_panel_as_narrow_as_the_cockpits() -> None:
    """At 120x34 the Processes panel is about 46 columns: name, state and ports come first."""
    app = Harness()
    async with app.run_test(size=(46, 8)) as pilot:
        table = app.query_one(ProcessTable)
        web = _info("web", pid=12345, state="ready", cpu_percent=1.5, uptime_s=4000, ports=(8000,), port_checks=(PortCheck(8000, True),))
        table.update(ProcessSnapshot("psutil", (web,)))
        await pilot.pause()
        header, row = _shown(table)[:2]
        assert "Ports" in header and "8000✓" in row, (header, row)


def test_human_formats() -> None:
    assert [human_bytes(n) for n in (None, 512, 2048, 5 << 20, 3 << 30)] == ["–", "512B", "2.0K", "5.0M", "3.0G"]
    assert [human_duration(s) for s in (None, 9.7, 61, 3700, 90000)] == ["–", "9s", "1m01s", "1h01m", "1d01h"]


async def test_muted_cells_render_in_every_theme() -> None:
    """Stopped states, unprobed ports, service labels and the backend are drawn in the theme's muted colour,
    which themes give with transparency: the table must draw them, not fail on the colour."""
    from omni_tui.ui.themes import register_themes

    app = Harness()
    async with app.run_test(size=(120, 20)) as pilot:
        register_themes(app)
        table = app.query_one(ProcessTable)
        db = _info("db", pid=9, service="postgres", state="stopped", ports=(5432,), port_checks=())
        table.update(ProcessSnapshot("psutil", (db,)))
        for theme in ("omni-dark", "omni-light", "omni-high-contrast", "textual-dark"):
            app.theme = theme
            await pilot.pause()
            text = "\n".join(strip.text for strip in screen_strips(app))
            assert "db postgres" in text and "stopped" in text and "5432" in text and "psutil" in text, theme
            # Rich itself must be able to parse every cell's style (it has no alpha channel).
            from rich.style import Style

            for column in ("name", "state", "ports", "backend"):
                cell = table.get_cell("db", column)
                for span in [*cell.spans, *([] if not cell.style else [cell.style])]:
                    Style.parse(str(getattr(span, "style", span)))


async def test_uptimes_of_rows_off_screen_are_right_once_scrolled_into_view() -> None:
    """Uptimes of rows below the fold are drawn when they come into view (not rebuilt every second for
    nobody): scrolled down, a row shows the uptime of the last refresh, not the one it was added with."""
    app = Harness()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(ProcessTable)
        rows = tuple(_info(f"p{i:02d}", pid=100 + i, uptime_s=5.0) for i in range(40))
        table.update(ProcessSnapshot("psutil", rows))
        await pilot.pause()
        for tick in (6.0, 7.0):
            table.update(ProcessSnapshot("psutil", tuple(r._replace(uptime_s=tick) for r in rows)))
            await pilot.pause()
        assert "7s" in _shown(table)[1]  # the top row is drawn at once
        table.move_cursor(row=39, animate=False)
        await pilot.pause()
        last = next(line for line in _shown(table) if "p39" in line)
        assert "7s" in last and "5s" not in last, last
        assert _cell(table, "p39", "uptime") == "7s"
        # A row whose other facts change at the same time is drawn whole, uptime included.
        table.move_cursor(row=0, animate=False)
        await pilot.pause()
        table.update(ProcessSnapshot("psutil", tuple(r._replace(uptime_s=8.0, cpu_percent=1.0 if r.name == "p38" else None) for r in rows)))
        table.move_cursor(row=38, animate=False)
        await pilot.pause()
        row = next(line for line in _shown(table) if "p38" in line)
        assert "8s" in row and "1.0" in row, row


async def test_an_empty_table_has_no_sideways_scrollbar_and_a_full_one_has() -> None:
    """Nothing found: the header stays as a legend, with no scrollbar offering to scroll along nothing.
    Rows wider than the panel bring the scrollbar back; the last row gone, it goes again."""
    app = Harness()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(ProcessTable)
        table.update(ProcessSnapshot("psutil", ()))
        await pilot.pause()
        assert "Name" in _shown(table)[0]
        assert not table.show_horizontal_scrollbar
        table.update(ProcessSnapshot("psutil", (_info("web", pid=11, ports=(8000,)),)))
        await wait_for(pilot, lambda: table.show_horizontal_scrollbar, what="the scrollbar over a row wider than the panel")
        table.update(ProcessSnapshot("psutil", ()))
        await wait_for(pilot, lambda: not table.show_horizontal_scrollbar, what="no scrollbar once the table is empty")
        assert table.row_count == 0


async def test_a_name_with_a_letter_that_passes_for_another_is_marked() -> None:
    """A process picks its own name: `pоstgres` with a Cyrillic о poses as the service. The letter is
    drawn reversed in the error colour; a plain name and a name in one script are drawn plainly."""
    app = Harness()
    async with app.run_test(size=(120, 8)) as pilot:
        table = app.query_one(ProcessTable)
        fake, real, local = "p\u043estgres", "postgres", "сервер"
        table.update(ProcessSnapshot("psutil", (_info(fake, pid=1), _info(real, pid=2), _info(local, pid=3))))
        await wait_for(pilot, lambda: table.row_count == 3, what="three rows")

        def marked(row: str) -> list[str]:
            cell = table.get_cell(row, "name")
            return [cell.plain[span.start : span.end] for span in cell.spans if "reverse" in str(span.style)]

        assert marked(fake) == ["\u043e"]
        assert marked(real) == [] and marked(local) == []
