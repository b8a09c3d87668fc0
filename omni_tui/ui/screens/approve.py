"""The approve confirmation: what will be written (files, +/- lines, hunks), the validation, what will run.

`ApproveScreen(summary)` dismisses with True (confirmed with `y`/enter) or False (`n`/escape).
While a check failed or no hunk is selected the confirm key is disabled and the reason is shown.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Footer, Label, Static

from omni_tui.ui.screens.relabel import relabel
from omni_tui.ui.screens.summaries import ApprovalCheck, ApprovalSummary, FileSummary
from omni_tui.ui.screens.yes_no import YesNoModal
from omni_tui.ui.widgets.proposal_queue import plain


def _file_line(f: FileSummary) -> Content:
    hunks = "1 hunk" if f.hunks_total == 1 and not f.partial else f"{f.hunks_selected} of {f.hunks_total} hunks"
    hunk_style = "b $warning" if f.partial else "$text-muted"
    new = " [i](new file)[/]" if f.new_file else ""
    return Content.from_markup(
        f"$path{new}  [$success]+$added[/] [$error]-$removed[/]  [{hunk_style}]$hunks[/]",
        path=f.path,
        added=str(f.added),
        removed=str(f.removed),
        hunks=hunks,
    )


def _check_line(check: ApprovalCheck) -> Content:
    mark = {True: "[$success]✓[/]", False: "[b $error]✗[/]", None: "[$text-muted]–[/]"}[check.ok]
    detail = check.detail or ("not checked" if check.ok is None else "")
    suffix = " [$text-muted]— $detail[/]" if detail else ""
    return Content.from_markup(f"{mark} $label{suffix}", label=check.label, detail=detail)


def _lines(lines: list[Content]) -> Content:
    return Content("\n").join(lines)


def _check_statics(summary: ApprovalSummary) -> list[Static]:
    lines = [_check_line(c) for c in summary.checks] or [Content.from_markup("[$text-muted]– not validated[/]")]
    return [Static(line) for line in lines]


def _blocked(reason: str) -> Content:
    return Content.from_markup("[b]Cannot approve:[/] $reason", reason=reason)


class ApproveScreen(YesNoModal):
    """Confirm an approval: dismiss(True) to apply and rebuild, dismiss(False) to go back."""

    CSS_PATH = "screens.tcss"
    YES_BUTTON = "approve-yes"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Approve", id="approve.confirm"),
        Binding("enter", "confirm", "Approve", show=False, id="approve.confirm_enter"),
        Binding("n", "cancel", "Cancel", id="approve.cancel"),
        Binding("escape", "cancel", "Cancel", show=False, id="approve.cancel_escape"),
    ]

    def __init__(self, summary: ApprovalSummary) -> None:
        super().__init__()
        self.summary = summary
        self._composed_with: ApprovalSummary | None = None  # the summary compose drew
        self._shown = False  # on_mount ran: the widgets exist and show the newest summary
        relabel(self._bindings, {"approve.confirm", "approve.confirm_enter"}, summary.action)

    def compose(self) -> ComposeResult:
        s = self._composed_with = self.summary
        with Vertical(id="dialog", classes="dialog -approve"):
            # The title and agent are an agent's words: made inert (no escape sequences to the terminal).
            yield Label(Content.from_markup("$action: [b]$title[/]", action=s.action, title=plain(s.title)), id="dialog-title")
            byline = " · ".join(part for part in (s.agent and f"by {plain(s.agent)}", s.proposal_id) if part)
            if byline or s.edited:
                edited = "  [b $warning]edited by you[/]" if s.edited else ""
                yield Static(Content.from_markup(f"[$text-muted]$byline[/]{edited}", byline=byline), id="approve-byline")
            with VerticalScroll(id="approve-body"):
                yield Static(
                    Content.from_markup(
                        "[b]Files[/]  [$success]+$added[/] [$error]-$removed[/]", added=str(s.added), removed=str(s.removed)
                    ),
                    classes="section-title",
                )
                yield Static(_lines([_file_line(f) for f in s.files]) or "(no files)", id="approve-files")
                yield Static("[b]Validation[/]", classes="section-title")
                with Vertical(id="approve-checks"):
                    yield from _check_statics(s)
                yield Static("[b]Will run[/]", classes="section-title")
                yield Static(self._will_run(), id="approve-command")
            reason = s.block_reason
            if reason is not None:
                yield Static(_blocked(reason), id="approve-blocked", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button(f"{s.action} (y)", variant="success", id="approve-yes", disabled=reason is not None)
                yield Button("Cancel (n)", id="approve-no")
        yield Footer()

    def _will_run(self) -> Content:
        s = self.summary
        lines = [Content("write the files atomically (the current content is backed up)")]
        if s.rebuild_command:
            lines.append(Content.from_markup("then rebuild:  [b]$command[/]", command=f"$ {s.rebuild_command}"))
        else:
            lines.append(
                Content.from_markup(
                    "[b $warning]no rebuild[/]: $why", why="no devenv on PATH and no [rebuild] command configured"
                )
            )
        if s.restart_command:
            lines.append(Content.from_markup("then restart:  [b]$command[/]", command=f"$ {s.restart_command}"))
        return _lines(lines)

    def on_mount(self) -> None:
        super().on_mount()
        self._shown = True
        if self.summary is not self._composed_with:  # it arrived between compose and mount
            self._show_summary()

    def update_summary(self, summary: ApprovalSummary) -> None:
        """Show new facts in place (the validation finished while the modal was open)."""
        self.summary = summary
        if self._shown:  # else compose, or on_mount, shows this summary
            self._show_summary()

    def _show_summary(self) -> None:
        summary = self.summary
        # New lines rather than Static.update: a Static whose height changed could keep its old
        # height when the update landed while the modal was still settling (seen with message delays).
        checks = self.query_one("#approve-checks", Vertical)
        checks.remove_children()
        checks.mount(*_check_statics(summary))
        reason = summary.block_reason
        blocked = self.query("#approve-blocked")
        if reason is None:
            blocked.remove()
        elif blocked:
            blocked.first(Static).update(_blocked(reason))
        else:
            line = Static(_blocked(reason), id="approve-blocked", classes="error-line")
            self.query_one("#dialog").mount(line, before=self.query_one("#dialog > .buttons"))
        self.query_one("#approve-yes", Button).disabled = reason is not None
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm" and self.summary.block_reason is not None:
            return None
        return True

