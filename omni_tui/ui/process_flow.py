"""The Processes panel's flow: fresh snapshots in, restart / stop after a confirmation, a process's log.

`ProcessFlow` belongs to the app, which routes `ProcessesRefreshed` and `ProcessLogLines` here. The
snapshot and the selected process live in the review state (they decide which process actions can
run); restarting, stopping and reading logs run in workers (`omni_tui.ui.workers`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text

from omni_tui.core.review import Panel as PanelId
from omni_tui.ui.messages import ProcessesRefreshed, ProcessLogLines
from omni_tui.ui.workers import ProcessLogFollower, run_action

if TYPE_CHECKING:
    from omni_tui.ui.app import CockpitApp
    from omni_tui.ui.screens.process_log import ProcessLogScreen


class ProcessFlow:
    """What the Processes panel shows and does (see the module docstring)."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        self.log_follower: ProcessLogFollower | None = None
        self.log_screen: ProcessLogScreen | None = None

    @property
    def monitor(self) -> Any:
        """The project's process monitor (imported on first use: psutil and the socket clients)."""
        from omni_tui.core.processes import monitor_for

        return monitor_for(self.app.ws.root)

    def stop(self) -> None:
        if self.log_follower is not None:
            self.log_follower.stop_event.set()

    def refreshed(self, message: ProcessesRefreshed) -> None:
        self.app.review.processes = message.snapshot
        self.app.main.process_table.update(message.snapshot)
        self.show_note()
        self.app.bindings_may_have_changed()

    def show_note(self) -> None:
        main = self.app.main
        note = main.process_note
        snapshot = self.app.review.processes

        def say(text: str | Text) -> None:
            # Only a new text is set: every refresh (once a second) shows the note again, and an
            # update asks for a relayout of the whole screen.
            if note.content != text or type(note.content) is not type(text):
                note.update(text)
            note.display = True

        if not self.app.poll_processes:
            say("process polling is off")
            return
        if snapshot is None:
            say("looking for the project's processes…")
            return
        backend = snapshot.backend or "none"
        panel, subtitle = main.panel(PanelId.PROCESSES), f"{len(snapshot.processes)} via {backend}"
        if panel.border_subtitle != subtitle:  # setting it repaints the whole panel, every refresh (≈ 1.3 ms)
            panel.border_subtitle = subtitle
        if snapshot.error:
            say(Text(f"⚠ {snapshot.error}"))
        elif not snapshot.processes:
            say("No processes found for this project (start them with `devenv up`).")
        else:
            note.display = False

    def run(self, action: str) -> None:
        """R / x / l on the process table (the cockpit action ids)."""
        if action == "process_log":
            self.show_log()
        else:
            self.ask("restart" if action == "restart_process" else "stop")

    # -- restart / stop ------------------------------------------------------------------------------

    def ask(self, verb: str) -> None:
        """Ask before restarting / stopping the selected process."""
        from omni_tui.ui.screens import ConfirmScreen

        review = self.app.review
        name = review.selected_process
        if name is None:
            return
        question = f"{verb.capitalize()} process {name}?"
        info = review.processes.get(name) if review.processes is not None else None
        detail = f"pid {info.pid} · {info.state} · via {info.backend}" if info is not None else ""
        if verb == "stop" and self.honcho_managed(name):
            # honcho ends every process (and itself) when one exits: say so before it surprises anyone.
            detail += "\nhoncho stops all its processes when one ends: the others stop too (start them again with `devenv up`)."
        self.app.push_screen(
            ConfirmScreen(question, detail, yes_label=verb.capitalize(), danger=verb == "stop"), partial(self._confirmed, verb, name)
        )

    def honcho_managed(self, name: str) -> bool:
        """Whether `name` is one of several processes a honcho manager row runs (not the manager itself)."""
        snapshot = self.app.review.processes
        if snapshot is None:
            return False
        rows = list(snapshot.processes)
        managers = [p for p in rows if p.raw_state.startswith("manager") and p.name.startswith("honcho")]
        return bool(managers) and name not in {p.name for p in managers} and len(rows) > 2

    def _confirmed(self, verb: str, name: str, confirmed: bool | None) -> None:
        if not confirmed:
            return
        app = self.app

        def act() -> str:
            getattr(self.monitor, verb)(name)
            return f"{'Restarted' if verb == 'restart' else 'Stopped'} {name}"

        app.run_worker(partial(run_action, app, act, f"Could not {verb} {name}"), thread=True, group="process-action", exit_on_error=False)

    # -- a process's log ------------------------------------------------------------------------------

    def show_log(self) -> None:
        app = self.app
        name = app.review.selected_process
        if name is None:
            return
        follower = ProcessLogFollower(app, self.monitor, name)
        self.log_follower = follower
        backend = getattr(app.review.processes, "backend", None) or ""
        from omni_tui.ui.screens.process_log import ProcessLogScreen

        self.log_screen = ProcessLogScreen(name, f"via {backend}" if backend else "")
        app.push_screen(self.log_screen, partial(self._log_closed, follower))
        app.run_worker(follower.run, name=f"log {name}", group="process-log", thread=True, exit_on_error=False)

    def _log_closed(self, follower: ProcessLogFollower, _result: Any = None) -> None:
        follower.stop_event.set()
        if self.log_follower is follower:
            self.log_follower = None
            self.log_screen = None

    def log_lines(self, message: ProcessLogLines) -> None:
        screen = self.log_screen
        # Closed but not yet forgotten (`_log_closed` runs after the pop): its widgets are going.
        if screen is None or screen.name_shown != message.name or screen not in self.app.screen_stack:
            return
        if message.error:
            screen.show_error(message.error)
            return
        screen.sync_tail(message.lines)
