"""The process log (`l`) names the process as the table does, inert: any process in the project folder
picks its own name (`exec -a`, its file name), and the log's title and its "unavailable" line sent
that name's escape sequences and bidi override to the terminal raw (the table beside it escaped it)."""

from __future__ import annotations

import re

from app_harness import ready, screen_text, wait_for
from textual.app import App

from omni_tui.core.terminal import FORMAT_CHARS
from omni_tui.ui.screens import ProcessLogScreen

RAW = re.compile(f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f{FORMAT_CHARS}]")
NAME = "evil\x1b[31m\u202erev"


class Host(App[None]):
    def on_mount(self) -> None:
        self.push_screen(ProcessLogScreen(NAME, "via psutil\x1b]0;pwned\x07"))


async def test_a_process_log_shows_a_hostile_process_name_and_its_error_inert() -> None:
    app = Host()
    async with app.run_test(size=(120, 12)) as pilot:
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen), what="the log screen")
        app.screen.show_error(f"logs of '{NAME}' are unavailable: no captured manager output names it")
        await wait_for(pilot, lambda: "are unavailable" in screen_text(app), what="the error line")
        text = screen_text(app)
        assert RAW.findall(text) == [], text
        assert "Log: evil\\x1b[31m\\u202erev · via psutil\\x1b]0;pwned\\x07" in text, text
        assert "logs of 'evil\\x1b[31m\\u202erev' are unavailable" in text, text


async def test_a_process_logs_lines_are_shown_inert() -> None:
    app = Host()
    async with app.run_test(size=(120, 12)) as pilot:
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen), what="the log screen")
        app.screen.append_lines(["served \x1b]0;pwned\x07 \u202eevil\u202c ok"])
        await wait_for(pilot, lambda: "served" in screen_text(app), what="the line")
        text = screen_text(app)
        assert RAW.findall(text) == [], text


def test_the_log_screen_still_knows_the_process_by_its_real_name() -> None:
    # The cockpit routes a process's log lines to the open screen by the name the backends report.
    assert ProcessLogScreen(NAME).name_shown == NAME
