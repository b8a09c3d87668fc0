"""The rebuild flow: running this cockpit's gate operations (approve, accept, rollback) in a worker,
following another cockpit's rebuild read-only, and showing both in the Rebuild log panel.

`RebuildFlow` belongs to the app; the app routes the rebuild messages (`RebuildStarted`,
`RebuildStage`, `RebuildLines`, `RebuildFinished`, `RemoteRebuildLog`, `RemoteRebuildEnded`) here.
It owns the running `RebuildJob` and the remote follower; the review state learns only whether a
rebuild runs (`Review.rebuilding_here`).
"""

from __future__ import annotations

import textwrap  # argparse has loaded it already
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text

from omni_tui.core.config import resolve_command
from omni_tui.core.errors import RebuildError
from omni_tui.core.gate import Holder
from omni_tui.core.review import Panel as PanelId
from omni_tui.core.terminal import inert
from omni_tui.ui import presenters
from omni_tui.ui.messages import RebuildFinished, RebuildLines, RebuildStage, RebuildStarted, RemoteRebuildEnded, RemoteRebuildLog
from omni_tui.ui.widgets.proposal_queue import state_label
from omni_tui.ui.workers import RebuildJob, RemoteRebuildFollower, post_workspace, run_action

NOTE_WIDTH = 48
"""Columns the rebuild panel's own notes are wrapped to before it has a size (its width at 120x34, less a margin)."""

if TYPE_CHECKING:
    from omni_tui.ui.app import CockpitApp

DIRECT_RUN = "direct"
"""The run id of accepting direct edits (`A`): no proposal, so its outcome line says so."""

FINAL_LABELS = {
    "applied": "applied and built",
    "failed": "rebuild FAILED — press {rollback} to roll back",  # the key as mapped: `_label`
    "rolled_back": "rolled back",
    "stale": "stale: the file changed since the proposal; nothing applied",
    "rejected": "rejected",
}


class RebuildFlow:
    """This cockpit's rebuilds and the read-only view of another's (see the module docstring)."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        self.job: RebuildJob | None = None
        self.remote: RemoteRebuildFollower | None = None  # following another process's rebuild log
        self.last_outcome = ""
        self.quit_when_idle = False  # the person quit mid-rebuild: exit when it ends
        self.quit_screen: Any = None  # the open "quit while a rebuild runs?" modal
        self._failure_shown = False  # the panel's subtitle asks for a rollback
        self._rolled_back_here = False  # set by this cockpit's rollback before the gate state it causes is posted

    @property
    def log_view(self) -> Any:
        return self.app.main.log_view

    def _panel_subtitle(self, text: str, *, asks_rollback: bool = False) -> None:
        self.app.main.panel(PanelId.REBUILD).border_subtitle = text
        self._failure_shown = asks_rollback

    def failure_still_open(self, open_: bool) -> None:
        """The gate's state says whether a failed change still waits: once it does not (rolled back here,
        or resolved by another cockpit), the panel stops asking for a rollback."""
        if open_:
            return  # (a state read before this cockpit's rollback may still come: the flag waits for the next)
        if self._failure_shown:
            self._panel_subtitle("rolled back" if self._rolled_back_here else "the failed change was resolved elsewhere")
        self._rolled_back_here = False

    def _key(self, action: str) -> str:
        """The key `action` has now (after `[keys]`), as the footer shows it."""
        return self.app.action_keys().get(action, action)

    def _label(self, status: str, default: str) -> str:
        return FINAL_LABELS.get(status, default).replace("{rollback}", self._key("rollback"))

    def resolve_command(self) -> None:
        """The rebuild command from the config; without one, approving says why (the rest still works)."""
        app = self.app
        try:
            app.rebuild_command = resolve_command(app.ws.config.rebuild)
        except RebuildError as exc:
            app.review.rebuild_problem = str(exc)
            app.notify(
                f"{exc}. Diffs, proposals and processes still work; approving needs a rebuild command.", severity="warning", timeout=10
            )
            # Wrapped to the panel: the log does not wrap its lines (build output keeps its columns),
            # and this is the first thing the panel says in a project without devenv on PATH.
            width = self.log_view.scrollable_content_region.width or NOTE_WIDTH
            note = f"omni-tui: {exc}. Diffs, proposals, rejections and processes work; approving needs a rebuild command."
            self.log_view.write_lines(textwrap.wrap(note, max(20, width)))

    def stop(self) -> None:
        """The app stops: end the follower and cancel a running rebuild."""
        if self.remote is not None:
            self.remote.stop_event.set()
        if self.job is not None:
            self.job.cancel()

    # -- this cockpit's rebuilds -------------------------------------------------------------------

    def start(self, title: str, operation: Callable[..., Any], *, run_id: str, short: str | None = None, builds: bool = True) -> None:
        """Run a gate operation in a thread worker; `builds` False: it runs no rebuild (no progress row)."""
        app = self.app
        job = RebuildJob(app, app.ws, title, operation, run_id=run_id, builds=builds)
        self.job = job
        app.review.rebuilding_here = True
        self.log_view.clear()
        if builds:  # the progress row leads with a short title, so phase, counts and time stay in view
            self.log_view.start_progress(short or title)
        self.log_view.write_lines([f"▶ {title}"])
        app.main.header.show_state("rebuilding")
        app.bindings_may_have_changed()
        app.run_worker(job.run, name=title, group="rebuild", thread=True, exit_on_error=False)

    def started(self, message: RebuildStarted) -> None:
        self.log_view.write_lines([f"$ {message.command}"])
        if self.job is not None and self.job.runner is not None:
            self.log_view.set_log_path(presenters.project_path(self.app.ws.root, self.job.runner.log_path))
        self._panel_subtitle(f"REBUILDING · {self._key('cancel_rebuild')} cancel")

    def stage(self, message: RebuildStage) -> None:
        self.log_view.write_lines([f"· {state_label(message.stage)}"])

    def lines(self, message: RebuildLines) -> None:
        self.log_view.write_lines(message.lines)
        if self.job is not None or self.remote is not None:
            self.log_view.set_progress(message.progress)

    def finished(self, message: RebuildFinished) -> None:
        app = self.app
        direct = self.job is not None and self.job.run_id == DIRECT_RUN  # accepting direct edits, not a proposal
        self.job = None
        app.review.rebuilding_here = False
        decision = message.decision
        outcome = message.outcome
        log_view = self.log_view
        if message.progress is not None:
            log_view.set_progress(message.progress)
        if outcome is not None:
            log_view.finish(
                outcome.exit_code,
                cancelled=outcome.cancelled,
                timed_out=outcome.timed_out,
                error=outcome.error,
                duration_s=decision.duration_s if decision is not None and decision.duration_s is not None else outcome.duration_s,
            )
        elif message.error:
            log_view.finish(None, error=message.error)
        if decision is None:
            text = f"✗ {message.title}: {message.error}"
            log_view.write_lines([text])
            app.notify(message.error or "failed", title="Not applied", severity="error", timeout=8)
            self._panel_subtitle("not applied")
        else:
            label = self._label(decision.status, decision.status)
            # A rebuild the person cancelled did not fail: ■ as on the progress row, and the label says so.
            cancelled = outcome is not None and outcome.cancelled
            mark = "✓" if decision.status == "applied" else ("■" if cancelled else "✗")
            if cancelled and decision.status == "failed":
                label = f"rebuild cancelled — press {self._key('rollback')} to roll back"
            # The one decision line the CLI and agents read too (core.decision_line, imported with the first
            # decision shown: not before the cockpit's first frame); agent text made inert.
            from omni_tui.core.decision_line import decision_line

            text = f"{mark} {inert(decision_line(decision, direct=direct))}"
            if decision.status == "failed":
                text += f" — press {self._key('rollback')} to roll back"
            lines = [text]
            if decision.log_path:
                lines.append(f"full log: {presenters.project_path(app.ws.root, decision.log_path)}")
            log_view.write_lines(lines)
            severity = "information" if decision.status == "applied" else ("warning" if decision.status == "rolled_back" else "error")
            app.notify(text, title=message.title, severity=severity, timeout=8)
            self._panel_subtitle(label, asks_rollback=decision.status == "failed")
        self.last_outcome = text
        if self.quit_screen is not None and app.screen is self.quit_screen:  # dismiss pops the top screen
            # The question "quit while a rebuild runs?" no longer applies: close it; q now just quits.
            self.quit_screen.dismiss(None)
            app.notify("The rebuild ended while you were asked; q quits now", timeout=6)
        if self.quit_when_idle:
            # The person quit mid-rebuild: say on the terminal what became of the change.
            app.stop_background()
            app.exit(0, message=Text(f"omni-tui: quit during a rebuild ({message.title}): {text}"))
            return
        if decision is not None and decision.status == "applied" and app.rebuild_command is None:
            self._command_from_new_config()
        app.review.forget_decided()
        app.refresh_workspace()
        app.bindings_may_have_changed()

    def _command_from_new_config(self) -> None:
        """An accepted configuration may give this cockpit the rebuild command it lacked: approving works at once."""
        app = self.app
        try:
            app.rebuild_command = resolve_command(app.ws.config.rebuild)
        except RebuildError:
            return
        app.review.rebuild_problem = None
        self.log_view.write_lines([f"rebuild command now: {inert(app.rebuild_command)}"])

    def quit(self) -> None:
        """q: quit now, or — while this cockpit's rebuild runs — ask first (cancel it, then quit)."""
        app = self.app
        if self.job is None:
            app.stop_background()
            app.exit(0)
            return
        from omni_tui.ui.screens import ConfirmScreen

        self.quit_screen = ConfirmScreen(
            "Quit while a rebuild runs?",
            "The rebuild is cancelled first, and the change handled as a failed build (rolled back when auto_rollback is on).",
            yes_label="Cancel and quit",
            danger=True,
        )
        app.push_screen(self.quit_screen, self._quit_confirmed)

    def _quit_confirmed(self, confirmed: bool | None) -> None:
        self.quit_screen = None
        if not confirmed:
            return
        if self.job is None:
            self.quit()
            return
        self.quit_when_idle = True
        self.cancel()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.log_view.write_lines(["■ cancelling: SIGINT to the rebuild's process group…"])

    def rollback(self) -> None:
        """b: read what the failed change replaced (a worker), then ask before putting it back."""
        app = self.app
        pid = app.review.failed_proposal()
        if pid is None:
            return

        def look() -> None:
            try:
                decision = app.store.decision(pid)
            except Exception:  # noqa: BLE001 - an unreadable record: the question is still asked, without the list
                decision = None
            app.call_from_thread(self._confirm_rollback, pid, decision.files if decision is not None else ())

        app.run_worker(look, thread=True, group="gate", exit_on_error=False)

    def _confirm_rollback(self, pid: str, files: tuple[Any, ...]) -> None:
        from omni_tui.ui.screens import ConfirmScreen

        app = self.app
        if app.review.failed_proposal() != pid:
            return  # resolved meanwhile (another cockpit rolled it back)
        lines = [f"  • {inert(f.path)}: {self._rolled_back_to(f)}" for f in files]
        entry = app.review.entries.get(pid)
        what = f"“{inert(entry.proposal.title)}”" if entry is not None else "the accepted direct edits"
        kept = "the proposal keeps what it wrote" if entry is not None else f"what was accepted stays in backups/{pid}@direct/"
        detail = "\n".join([f"Puts back what {what} replaced; {kept}.", *lines])
        app.push_screen(
            ConfirmScreen("Roll back the failed change?", detail, yes_label="Roll back", danger=True),
            partial(self._rollback_confirmed, pid),
        )

    def _rolled_back_to(self, file: Any) -> str:
        """What rolling back does to one file of the failed change (as `Gate.rollback` does it)."""
        if file.sha256_before is not None:
            return "back to the content approved before"
        shown = self.app.workspace.files.get(file.path)
        if shown is not None and not shown.recorded:
            return "stays as it is, not approved (newly guarded: nothing of it was approved before)"
        return "deleted: it had no approved content before"

    def _rollback_confirmed(self, pid: str, confirmed: bool | None) -> None:
        app = self.app
        if not confirmed or app.review.failed_proposal() != pid:
            return

        def rollback() -> str:
            decision = app.gate.rollback(pid)
            self._rolled_back_here = True
            post_workspace(app, app.ws, app.gate, app.store)
            return f"Rolled back: {decision.status}"

        self.log_view.write_lines([f"↺ rolling back {pid}"])
        app.run_worker(partial(run_action, app, rollback, "Rollback failed"), thread=True, group="gate", exit_on_error=False)

    # -- a rebuild run by another cockpit (or `omni-tui rebuild`) ---------------------------------

    def follow_remote(self, holder: Holder | None) -> None:
        """Stream, read-only, the log of a rebuild another process runs; end it when the gate is released."""
        app = self.app
        remote = app.review.remote_holder()
        if remote is not None and self.remote is None:
            try:
                since = datetime.fromisoformat(remote.since.replace("Z", "+00:00")).timestamp() if remote.since else time.time()
            except ValueError:
                since = time.time()
            self.remote = RemoteRebuildFollower(app, app.ws.paths.logs, remote.proposal_id, since)
            self.log_view.clear()
            entry = app.review.entries.get(remote.proposal_id) if remote.proposal_id else None
            what = f"{remote.action} “{inert(entry.proposal.title)}”" if entry is not None else remote.action
            self.log_view.start_progress(f"{what} by {inert(remote.who or 'another cockpit')}")
            described = inert(app.review.describe_holder(remote))
            self.log_view.write_lines([f"▶ {described} — in another cockpit; following its log (read-only)"])
            self._panel_subtitle("REBUILDING in another cockpit · read-only")
            app.run_worker(self.remote.run, name="follow the other rebuild", group="remote-rebuild", thread=True, exit_on_error=False)
        elif holder is None and self.remote is not None:
            self.remote.stop_event.set()

    def remote_log(self, message: RemoteRebuildLog) -> None:
        if self.remote is not None:
            self.log_view.set_log_path(message.path and presenters.project_path(self.app.ws.root, message.path))

    def remote_ended(self, message: RemoteRebuildEnded) -> None:
        app = self.app
        self.remote = None
        state = app.review.gate
        last = state.last_build if state is not None else None
        if last is not None and (message.path is None or last.log_path == message.path):
            label = self._label(last.status, "rebuilt" if last.status == "ok" else last.status)
            figures = [f"exit {last.exit_code}"] if last.exit_code is not None else []
            if last.duration_s is not None:
                figures.append(f"{last.duration_s:.1f} s")
            mark = "✓" if last.ok else "✗"
            who = f" by {last.who}" if last.who else ""
            text = f"{mark} {label}{who}" + (f" ({', '.join(figures)})" if figures else "")
            if last.reason and not last.ok:
                text += f" — {last.reason}"
            self.log_view.finish(last.exit_code, duration_s=last.duration_s)
            self._panel_subtitle(label, asks_rollback=last.status == "failed")
        else:
            text = "■ the other cockpit released the gate"
            self.log_view.finish(None, error="ended in another cockpit")
            self._panel_subtitle("ended in another cockpit")
        self.log_view.write_lines([text])
        app.refresh_workspace()
        # The gate may be held again already (a queue of approvals in the other cockpit).
        self.follow_remote(state.holder if state is not None else None)
