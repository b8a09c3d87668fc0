"""The person's decisions, as dialogs: approve (with its checks), reject, edit before approving,
accept or revert the unapproved direct edits, and guard the files the environment reads unguarded.

`DecisionFlow` belongs to the app. It reads and records choices in the review state
(`omni_tui.core.review`), opens the modals, and hands a confirmed decision to the gate — in a worker,
or as a rebuild through `RebuildFlow`. Nothing here approves without the person's confirmation in
a modal.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SuspendNotSupported

from omni_tui.core.config import CONFIG_FILE
from omni_tui.core.errors import OmniError
from omni_tui.core.gate.writes import config_only
from omni_tui.core.proposals import Proposal, ProposalEntry
from omni_tui.core.review import DIRECT_EDITS, Check, CheckKey
from omni_tui.core.terminal import inert
from omni_tui.ui import presenters
from omni_tui.ui.rebuild_flow import DIRECT_RUN
from omni_tui.ui.workers import post_workspace, run_action, validate_direct_edits, validate_texts

if TYPE_CHECKING:
    from omni_tui.ui.app import CockpitApp
    from omni_tui.ui.screens.summaries import ApprovalSummary

NO_REBUILD_NEEDED = "only omni-tui's own configuration changes, nothing in the environment (no rebuild command is needed)"


def screens() -> Any:
    """The modal screens, imported on first use: the first frame does not need them (start-up time)."""
    import omni_tui.ui.screens as module

    return module


class DecisionFlow:
    """Approve / reject / edit a proposal; accept / revert direct edits (see the module docstring)."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        # The open approve / accept modal (updated in place when its check lands): (its check, screen).
        self.approve_screen: tuple[CheckKey, Any] | None = None
        self.direct_check: Check | None = None  # the accept modal's last check (redrawn when its card lands)

    @property
    def review(self) -> Any:
        return self.app.review

    # -- the approve / accept modal's checks ---------------------------------------------------------

    def check_landed(self, key: CheckKey, check: Check) -> None:
        """A check finished: the open approve / accept modal it belongs to shows it."""
        if key == DIRECT_EDITS:
            self.direct_check = check
            self._update_approve_screen(key, self.direct_summary(check))
            return
        # Only the open modal of this proposal is redrawn: after `y` the file already holds the chosen
        # hunks, and a summary built against it would describe something nobody is deciding.
        if self.approve_screen is None or self.approve_screen[0].proposal_id != key.proposal_id:
            return
        entry = self.review.pending(key.proposal_id)
        if entry is not None:
            self._update_approve_screen(key, self.approval_summary(entry))

    def files_changed(self) -> None:
        """The guarded files were read again: an open accept modal counts the edits as they are now."""
        if self.approve_screen is not None and self.approve_screen[0] == DIRECT_EDITS:
            self._update_approve_screen(DIRECT_EDITS, self.direct_summary(self.direct_check))

    def card_landed(self) -> None:
        """A change card was computed: the open approve / accept modal shows it (and what the policy asks)."""
        if self.approve_screen is None:
            return
        key, _screen = self.approve_screen
        if key == DIRECT_EDITS:
            self._update_approve_screen(key, self.direct_summary(self.direct_check))
            return
        entry = self.review.pending(key.proposal_id)
        if entry is not None:
            self._update_approve_screen(key, self.approval_summary(entry))

    def _card_fields(self, card: Any, note: str) -> dict[str, Any]:
        """The approve modal's card, and the names `[policy] confirm` makes the person type (none until it is known)."""
        from omni_tui.core.card.policy import confirmations

        policy = self.app.ws.config.policy
        return {
            "card": card,
            "card_note": note,
            "confirm": tuple(confirmations(policy, card)) if card is not None else (),
            "confirm_waiting": card is None and bool(policy.confirm) and not note.startswith("could not"),
        }

    def _update_approve_screen(self, key: CheckKey, summary: ApprovalSummary) -> None:
        if self.approve_screen is None:
            return
        shown, screen = self.approve_screen
        if shown.proposal_id == key.proposal_id and (shown == DIRECT_EDITS) == (key == DIRECT_EDITS):
            # Pushed but not mounted yet (a card or check that lands at once, or under load): the modal
            # composes, or mounts, with this summary. Dropped then, the modal kept the card of before.
            if (screen.is_attached and screen in self.app.screen_stack) or not screen.is_mounted:
                screen.update_summary(summary)

    def approval_summary(self, entry: ProposalEntry) -> ApprovalSummary:
        app, review = self.app, self.review
        pid = entry.proposal.id
        current = app.workspace.current_texts()
        pairs = []
        for change in entry.proposal.changes:
            content, chosen = review.final_content(pid, change)
            pairs.append((change.path, current.get(change.path), content, set(chosen) if chosen is not None else None))
        validation, error = review.approval_check(entry)
        cfg = app.ws.config.rebuild
        # The card of exactly what approving writes (edited text, chosen hunks), against the files as read.
        card, note = app.workspace.proposal_card(entry, review.final_texts(entry, current))
        summary: ApprovalSummary = screens().ApprovalSummary(
            title=entry.proposal.title,
            files=presenters.files_summary(pairs),
            checks=presenters.approval_checks(validation, error, paths=entry.proposal.paths),  # "validating…" while it runs
            rebuild_command=app.rebuild_command,
            restart_command=cfg.restart_command if cfg.restart_after else None,
            agent=entry.proposal.agent,
            proposal_id=pid,
            rationale=entry.proposal.rationale,
            edited=bool(review.edited.get(pid)),
            **self._card_fields(card, note),
        )
        return summary

    # -- approve -------------------------------------------------------------------------------------

    def approve(self) -> None:
        app, review = self.app, self.review
        entry = review.selected_pending()
        if entry is None:
            return
        pid = entry.proposal.id
        key = CheckKey.final(pid)
        generation = review.start_check(key)  # also forgets the previous final check
        if review.differs_from_proposal(entry):
            texts = review.final_texts(entry, app.workspace.current_texts())
            max_bytes = app.ws.config.guard.max_bytes
            app.run_worker(
                partial(validate_texts, app, key, texts, max_bytes, generation), thread=True, group="validate", exit_on_error=False
            )
        screen = screens().ApproveScreen(self.approval_summary(entry))
        self.approve_screen = (key, screen)
        # What the modal summarises is what the gate may apply: it refuses a proposal rewritten since.
        app.push_screen(screen, partial(self._approve_confirmed, pid, entry.proposal))

    def _approve_confirmed(self, pid: str, shown: Proposal, confirmed: bool | None) -> None:
        app, review = self.app, self.review
        self.approve_screen = None
        if not confirmed:
            return
        entry = review.pending(pid)
        if entry is None:
            app.notify("The proposal is no longer pending", severity="warning")
            return
        if entry.proposal != shown:  # rewritten on disk while the modal was up (the gate checks again, under its lock)
            app.notify(
                "The proposal was rewritten on disk while you were approving it: nothing was applied. Look at it again.",
                title="Not approved",
                severity="error",
            )
            return
        edited = dict(review.edited.get(pid, {}))
        hunks = review.approved_hunks(entry)
        title = f"approve “{inert(entry.proposal.title)}” ({inert(entry.proposal.agent)})"

        def operation(step: Callable[[], Any], on_stage: Callable[[str], None]) -> Any:
            return app.gate.approve(
                pid,
                rebuild=step,
                hunks=hunks or None,
                edited=edited or None,
                on_stage=on_stage,
                command=app.rebuild_command,
                as_reviewed=shown,
            )

        name = entry.proposal.title
        app.rebuilds.start(title, operation, run_id=pid, short=f"approve “{name if len(name) <= 24 else name[:23] + '…'}”")

    # -- reject --------------------------------------------------------------------------------------

    def reject(self) -> None:
        entry = self.review.selected_pending()
        if entry is None:
            return
        pid = entry.proposal.id
        self.app.push_screen(screens().RejectScreen(entry.proposal.title), partial(self._reject_confirmed, pid))

    def _reject_confirmed(self, pid: str, reason: str | None) -> None:
        app = self.app
        if not reason:
            return

        def reject() -> str:
            decision = app.gate.reject(pid, reason)
            post_workspace(app, app.ws, app.gate, app.store)
            return f"Rejected: {decision.reason}"

        app.run_worker(partial(run_action, app, reject, "Reject failed"), thread=True, group="gate", exit_on_error=False)

    # -- edit before approving -------------------------------------------------------------------------

    def edit(self) -> None:
        app, review = self.app, self.review
        entry = review.selected_pending()
        if entry is None:
            return
        pid = entry.proposal.id
        detail = app.main.detail
        path = detail.shown_path if detail.view and detail.view.key == pid else None
        change = next((c for c in entry.proposal.changes if c.path == path), entry.proposal.changes[0])
        content, chosen = review.final_content(pid, change)
        if chosen is not None:
            # Some hunks are left out: edit what approving would write, not the whole proposal.
            from omni_tui.core.textdiff import apply_hunks

            current = app.workspace.files[change.path].current if change.path in app.workspace.files else None
            content = apply_hunks(current or "", change.new_content, set(chosen))
        content = content or ""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if editor:
            edited = self._edit_externally(editor, change.path, content)
            if isinstance(edited, str):
                self._edit_done(pid, change.path, edited)
            if edited is not None:
                return
        app.push_screen(screens().EditScreen(change.path, content), partial(self._edit_done, pid, change.path))

    def _edit_externally(self, editor: str, path: str, content: str) -> str | bool | None:
        """Run $EDITOR on a temp copy with the terminal handed over: the edited text; False when it failed
        (the edit is discarded, and a notice says so); None when it cannot run here."""
        app = self.app
        suffix = Path(path).suffix or ".txt"
        with tempfile.TemporaryDirectory(prefix="omni-tui-edit-") as tmp:
            target = Path(tmp) / f"proposed{suffix}"
            target.write_text(content, encoding="utf-8")
            try:
                with app.suspend():
                    result = subprocess.run([*shlex.split(editor), str(target)])
            except SuspendNotSupported:
                return None
            except OSError as exc:
                app.notify(f"$EDITOR ({editor}) did not start: {exc}; using the built-in editor", severity="warning")
                return None
            if result.returncode != 0:
                app.notify(f"$EDITOR exited with {result.returncode}; the edit is discarded", severity="warning")
                return False
            return target.read_text(encoding="utf-8", errors="replace")

    def _edit_done(self, pid: str, path: str, text: str | None) -> None:
        app, review = self.app, self.review
        if text is None:
            return
        if review.pending(pid) is None:
            # Decided, withdrawn or gone stale while the person edited: say so, or the edit just vanishes.
            entry = review.entries.get(pid)
            state = entry.status if entry is not None else "gone"
            app.notify(f"The proposal is {state} now: your edit was not applied.", title="Not approved", severity="warning")
            return
        differs = review.set_edit(pid, path, text)
        app.workspace.show_detail(path=path)
        app.bindings_may_have_changed()
        if differs:
            self.approve()
        else:
            app.notify(f"Saved without changes to {path}: the proposal stays as the agent wrote it.")

    # -- direct edits --------------------------------------------------------------------------------

    def direct_summary(self, check: Check | None = None) -> ApprovalSummary:
        """The accept modal's summary: the direct edits against the baseline, and their check (None: running)."""
        app = self.app
        validation, error = check if check is not None else (None, None)
        paths = self.review.unapproved()
        files = app.workspace.files
        pairs = [
            (path, files[path].baseline if path in files else None, files[path].current if path in files else None, None) for path in paths
        ]
        cfg = app.ws.config.rebuild
        summary: ApprovalSummary = screens().ApprovalSummary(
            title=", ".join(paths) if paths else "the direct edits",
            files=presenters.files_summary(pairs),
            checks=presenters.approval_checks(validation, error, base=False, paths=paths),
            rebuild_command=app.rebuild_command,
            no_rebuild=NO_REBUILD_NEEDED if app.rebuild_command is None and config_only(paths) else "",
            restart_command=cfg.restart_command if cfg.restart_after else None,
            agent="direct edit",
            action="Accept edits",
            **self._card_fields(*app.workspace.direct_card()),
        )
        return summary

    def accept_direct(self) -> None:
        app = self.app
        paths = self.review.unapproved()
        if not paths:
            return
        self.direct_check = None
        generation = self.review.start_check(DIRECT_EDITS)
        app.run_worker(partial(validate_direct_edits, app, app.ws, paths, generation), thread=True, group="validate", exit_on_error=False)
        screen = screens().ApproveScreen(self.direct_summary())
        self.approve_screen = (DIRECT_EDITS, screen)
        app.push_screen(screen, self._accept_confirmed)

    def _accept_confirmed(self, confirmed: bool | None) -> None:
        app = self.app
        self.approve_screen = None
        if not confirmed:
            return
        # The modal counts the edits as they are read (`files_changed`): what it showed when `y` was pressed
        # is what may become the baseline. The gate refuses files that changed on disk since.
        files = app.workspace.files
        shown = {path: files[path].current if path in files else None for path in self.review.unapproved()}
        # omni-tui's configuration alone, and no rebuild command: kept without a rebuild (how a project
        # without devenv gets its `[rebuild] command`); the gate refuses anything else without one
        builds = app.rebuild_command is not None or not config_only(shown)

        def operation(step: Callable[[], Any], on_stage: Callable[[str], None]) -> Any:
            return app.gate.accept_direct(
                rebuild=step if builds else None, on_stage=on_stage, command=app.rebuild_command, as_reviewed=shown
            )

        app.rebuilds.start("accept direct edits", operation, run_id=DIRECT_RUN, short="accept edits", builds=builds)

    def guard_unguarded(self) -> None:
        """Add the files the environment reads unguarded to `[guard] files` and accept that, once confirmed."""
        app = self.app
        add = list(self.review.guardable)
        if not add:
            return
        config = app.workspace.files.get(CONFIG_FILE)
        shown = None if config is None or config.current is None else config.current.encode("utf-8")
        try:
            _data, files = app.gate.guarded_config(add, shown)  # the gate's own refusals, before the question
        except OmniError as exc:
            app.notify(inert(str(exc)), title="Not guarded: add them by hand", severity="warning")
            return
        accept = self.review.keys.get("accept_direct", "A")
        detail = "\n".join(
            [
                f"Adds these to [guard] files in {CONFIG_FILE} and accepts that change (omni-tui's own configuration: no rebuild):",
                *(f"  • {inert(path)}" for path in add),
                "",
                f"The list becomes: {', '.join(inert(f) for f in files)}.",
                f"None of their content is approved by this: each then shows under Changes as NEWLY GUARDED, its whole "
                f"content, until you accept it ({accept}).",
            ]
        )

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def operation(_step: Callable[[], Any], on_stage: Callable[[str], None]) -> Any:
                return app.gate.guard_files(add, shown=shown, on_stage=on_stage)

            app.rebuilds.start("guard files", operation, run_id=DIRECT_RUN, short="guard files", builds=False)

        app.push_screen(screens().ConfirmScreen("Guard these files?", detail, yes_label="Guard"), confirmed)

    def revert_direct(self) -> None:
        unapproved = self.review.unapproved()
        if not unapproved:
            return
        files = self.app.workspace.files
        # A newly guarded file has no approved content to go back to: the gate leaves it (never deletes it).
        newly = [p for p in unapproved if p in files and not files[p].recorded]
        paths = [p for p in unapproved if p not in newly]
        if not paths:
            self.app.notify(
                f"{', '.join(inert(p) for p in newly)}: newly guarded, nothing of it approved yet to go back to. "
                f"Accept its content ({self.review.keys.get('accept_direct', 'A')}) or take it out of [guard] files.",
                title="Nothing to revert",
                severity="warning",
            )
            return
        # Nothing is lost: the gate backs the edited bytes up first (the audit entry names the folder too).
        kept = presenters.project_path(self.app.ws.root, self.app.ws.paths.backups / "revert@<time>")
        detail = (
            "Restores " + ", ".join(inert(p) for p in paths) + " to the last approved content. "
            f"Your edits leave the working tree; a copy is kept in {kept}/ (the audit log names the folder)."
        )
        if newly:
            detail += f" {', '.join(inert(p) for p in newly)} stays as it is: newly guarded, nothing of it approved yet to go back to."
        self.app.push_screen(
            screens().ConfirmScreen("Revert the direct edits?", detail, yes_label="Revert", danger=True), self._revert_confirmed
        )

    def _revert_confirmed(self, confirmed: bool | None) -> None:
        app = self.app
        if not confirmed:
            return

        def revert() -> str:
            reverted = app.gate.revert_direct()
            post_workspace(app, app.ws, app.gate, app.store)
            if not reverted:
                return "Nothing to revert"
            # The newest revert@<id> folder is this one (ids sort by time): say where the edits went.
            folders = sorted(p.name for p in app.ws.paths.backups.glob("revert@*"))
            where = presenters.project_path(app.ws.root, app.ws.paths.backups / folders[-1]) if folders else ""
            kept = f"; your edits are kept in {where}/" if where else ""
            return "Reverted to the baseline: " + ", ".join(reverted) + kept

        app.run_worker(partial(run_action, app, revert, "Revert failed"), thread=True, group="gate", exit_on_error=False)
