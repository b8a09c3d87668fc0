"""The approve confirmation: what the change does (its change card), what will be written (files, +/- lines,
hunks), the validation, what will run.

`ApproveScreen(summary)` dismisses with True (confirmed with `y`/enter) or False (`n`/escape).
While a check failed or no hunk is selected the confirm key is disabled and the reason is shown.
When `[policy] confirm` matches the card, approving also needs the matched names typed in the box
(`enter` there confirms); the card landing later (a worker computes it) updates the modal in place.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from omni_tui.core.terminal import inert
from omni_tui.ui.screens.relabel import relabel
from omni_tui.ui.screens.summaries import ApprovalCheck, ApprovalSummary, FileSummary
from omni_tui.ui.screens.yes_no import YesNoModal
from omni_tui.ui.textual_compat import bindings_of
from omni_tui.ui.widgets.change_card import CardDetails
from omni_tui.ui.widgets.key_bar import KeyBar


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


def _blocked(summary: ApprovalSummary, reason: str) -> Content:
    """`Cannot approve: …` / `Cannot accept: …`, in the modal's own verb."""
    verb = (summary.action.split() or ["approve"])[0].lower()
    return Content.from_markup("[b]Cannot $verb:[/] $reason", verb=verb, reason=reason)


def _why(rationale: str) -> Static:
    """The agent's rationale in full, wrapped (an agent's words: made inert, line breaks kept)."""
    text = inert(rationale, multiline=True).strip() if rationale.strip() else ""
    if not text:
        return Static(Content.from_markup("[$text-muted](the agent gave no reason)[/]"), id="approve-why")
    return Static(Content(text), id="approve-why")


class ConfirmInput(Input):
    """The box for `[policy] confirm`: it takes the printable keys (y and n too), so the footer shows
    what still works while typing: enter approves (once the names are right), escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Approve", id="approve.confirm_typed"),
        Binding("escape", "screen.cancel", "Cancel", id="approve.cancel_typed"),
    ]


class ApproveScreen(YesNoModal):
    """Confirm an approval: dismiss(True) to apply and rebuild, dismiss(False) to go back."""

    CSS_PATH = "screens.tcss"
    YES_BUTTON = "approve-yes"
    # The body takes the keys (up/down, pageup/pagedown, home/end scroll it: a long rationale or card is read
    # in full at 80x24); the [policy] confirm box, when there, takes the focus instead.
    AUTO_FOCUS = "#approve-confirm, #approve-body"

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
        relabel(bindings_of(self), {"approve.confirm", "approve.confirm_enter"}, summary.action)

    def compose(self) -> ComposeResult:
        s = self._composed_with = self.summary
        with Vertical(id="dialog", classes="dialog -approve"):
            # The title and agent are an agent's words: made inert (no escape sequences to the terminal).
            yield Label(Content.from_markup("$action: [b]$title[/]", action=s.action, title=inert(s.title)), id="dialog-title")
            byline = " · ".join(part for part in (s.agent and f"by {inert(s.agent)}", s.proposal_id) if part)
            if byline or s.edited:
                edited = "  [b $warning]edited by you[/]" if s.edited else ""
                yield Static(Content.from_markup(f"[$text-muted]$byline[/]{edited}", byline=byline), id="approve-byline")
            with VerticalScroll(id="approve-body"):
                yield Static("[b]What it does[/]", classes="section-title", id="approve-card-title")
                yield CardDetails(id="approve-card")
                yield Static(_files_title(s), classes="section-title", id="approve-files-title")
                yield Static(_files_text(s), id="approve-files")
                yield Static("[b]Validation[/]", classes="section-title")
                with Vertical(id="approve-checks"):
                    yield from _check_statics(s)
                yield Static("[b]Will run[/]", classes="section-title")
                yield Static(self._will_run(), id="approve-command")
                # The agent's argument after the facts (the card, the files, the checks, what will run); scrolled to when long.
                if s.proposal_id:  # an agent's proposal (direct edits have no agent to say why)
                    yield Static("[b]Why[/] [$text-muted](the agent's words)[/]", classes="section-title")
                    yield _why(s.rationale)
            yield Vertical(id="approve-confirm-box")  # the typed confirmation, when [policy] confirm matches
            reason = s.block_reason
            if reason is not None:
                yield Static(_blocked(s, reason), id="approve-blocked", classes="error-line")
            with Horizontal(classes="buttons"):
                # Blocked: no live-looking confirm button at all (the line above says why); untyped
                # [policy] confirm names: the button is there, disabled, until they are typed.
                yes = Button(f"{s.action} (y)", variant="success", id="approve-yes", disabled=reason is not None or bool(s.confirm))
                yes.display = reason is None
                yield yes
                yield Button("Cancel (n)", id="approve-no")
        yield KeyBar()

    def _will_run(self) -> Content:
        s = self.summary
        if s.action.startswith("Accept"):  # the files are already on disk: accepting writes nothing back
            then = "they become the baseline" if s.no_rebuild else "once rebuilt, they become the baseline"
            lines = [Content(f"validate the files as they are now (nothing is rewritten); {then}")]
        else:
            lines = [Content("write the files atomically (the current content is backed up)")]
        if s.rebuild_command:
            lines.append(Content.from_markup("then rebuild:  [b]$command[/]", command=f"$ {s.rebuild_command}"))
        elif s.no_rebuild:
            lines.append(Content.from_markup("[b]no rebuild[/]: $why", why=s.no_rebuild))
        else:
            lines.append(
                Content.from_markup("[b $warning]no rebuild[/]: $why", why="no devenv on PATH and no [rebuild] command configured")
            )
        if s.restart_command:
            lines.append(Content.from_markup("then restart:  [b]$command[/]", command=f"$ {s.restart_command}"))
        return _lines(lines)

    def on_mount(self) -> None:
        super().on_mount()
        self._shown = True
        self._fit()
        self._show_card()
        if self.summary is not self._composed_with:  # it arrived between compose and mount
            self._show_summary()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # Under 30 rows (80x24) the body keeps to half the screen so the buttons stay; taller, it shows
        # more (the change card, the agent's why, the files, the checks and the command) before scrolling.
        self.set_class(self.app.size.height < 30, "-short")
        self.call_after_refresh(self._keep_buttons)

    def _keep_buttons(self, tries: int = 20) -> None:
        """Give the body fewer rows when the rest of the dialog needs them: an agent's title and name
        (up to 200 and 100 characters, wide ones taking two cells) otherwise pushed the buttons out.

        The body's limit is the stylesheet's (60vh, 50vh when short) or the rows left, whichever is
        less — set whatever the body holds now: the change card fills it in later."""
        if not self.is_attached or tries <= 0:
            return
        try:
            dialog = self.query_one("#dialog")
            body = self.query_one("#approve-body")
        except NoMatches:  # answered meanwhile: the dialog's widgets go before the screen does
            return
        if not dialog.content_size.width:  # not laid out yet: measure once it is
            self.call_after_refresh(self._keep_buttons, tries - 1)
            return
        others = sum(_asked_height(child, self.size) for child in dialog.children if child is not body and child.display)
        # The dialog's max-height is 90% of the screen above the key bar (docked at the bottom).
        bars = sum(bar.outer_size.height for bar in self.query(KeyBar))
        room = max(int((self.size.height - bars) * 0.9) - dialog.styles.gutter.height - others, 3)
        css = body.styles.base.max_height
        limit = int(css.resolve(self.size, self.size)) if css is not None else None
        wanted = room if limit is None or room < limit else None
        now = body.styles.inline.max_height
        if (None if now is None else int(now.value)) != wanted:
            body.styles.max_height = wanted
            dialog.refresh(layout=True)

    # -- the change card and [policy] confirm ---------------------------------------------------------

    def _show_card(self) -> None:
        s = self.summary
        # No card and no note (a summary built without one): no section at all.
        self.query_one("#approve-card-title", Static).display = s.card is not None or bool(s.card_note)
        self.query_one("#approve-card", CardDetails).show(s.card, s.card_note)
        box = self.query_one("#approve-confirm-box", Vertical)
        box.display = bool(s.confirm)
        self.query_one("#dialog").set_class(bool(s.confirm), "-confirming")  # the body gives the box its rows
        if not s.confirm:
            box.remove_children()
        else:
            why = Content.from_markup(
                "[b $warning]\\[policy] confirm:[/] this change matches [b]$names[/]: type it to approve", names=" ".join(s.confirm)
            )
            if box.query("#approve-confirm"):
                box.query_one("#approve-confirm-why", Static).update(why)
            else:
                field = ConfirmInput(id="approve-confirm", placeholder="the name(s) above, then enter")
                box.mount(Static(why, id="approve-confirm-why"), field)
                field.focus()
        self._sync_yes()

    def typed_ok(self) -> bool:
        """The names `[policy] confirm` asks for are typed (any order, spaces or commas between)."""
        wanted = set(self.summary.confirm)
        if not wanted:
            return True
        fields = self.query("#approve-confirm")
        if not fields:
            return False  # not composed yet
        typed = set(fields.first(Input).value.replace(",", " ").split())
        return typed == wanted

    def _sync_yes(self) -> None:
        blocked = self.summary.block_reason is not None
        yes = self.query_one("#approve-yes", Button)
        yes.disabled = blocked or not self.typed_ok()
        yes.display = not blocked
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "approve-confirm":
            self._sync_yes()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "approve-confirm" and self.check_action("confirm", ()) is True:
            self.action_confirm()

    def action_confirm(self) -> None:
        # The button and enter reach here too: nothing approves while a check blocks or a name is untyped.
        if self.summary.block_reason is None and self.typed_ok():
            super().action_confirm()

    def update_summary(self, summary: ApprovalSummary) -> None:
        """Show new facts in place (the validation finished while the modal was open)."""
        self.summary = summary
        if self._shown:  # else compose, or on_mount, shows this summary
            self._show_summary()

    def _show_summary(self) -> None:
        summary = self.summary
        # New lines rather than Static.update: a Static whose height changed could keep its old
        # height when the update landed while the modal was still settling (seen with message delays).
        # The files as they are now (an accept modal opened before the watcher's read of the edit).
        self.query_one("#approve-files-title", Static).update(_files_title(summary))
        self.query_one("#approve-files", Static).update(_files_text(summary))
        checks = self.query_one("#approve-checks", Vertical)
        checks.remove_children()
        checks.mount(*_check_statics(summary))
        reason = summary.block_reason
        blocked = self.query("#approve-blocked")
        if reason is None:
            blocked.remove()
        elif blocked:
            blocked.first(Static).update(_blocked(summary, reason))
        else:
            line = Static(_blocked(summary, reason), id="approve-blocked", classes="error-line")
            self.query_one("#dialog").mount(line, before=self.query_one("#dialog > .buttons"))
        self._show_card()
        self.call_after_refresh(self._keep_buttons)  # an error line may have come: the buttons keep their rows

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            if self.summary.block_reason is not None:
                return False  # not offered at all: the error line says why
            if not self.typed_ok():
                return None  # shown dimmed: typing the names makes it work
        return True


def _asked_height(widget: Widget, viewport: Size) -> int:
    """The rows `widget` asks for, margins included — not the rows drawn: below an overflowing body
    the parts of the dialog are drawn cut."""
    styles = widget.styles
    shown = [child for child in widget.children if child.display]
    if shown:
        heights = [_asked_height(child, viewport) for child in shown]
        inner = max(heights) if styles.layout is not None and styles.layout.name == "horizontal" else sum(heights)
    else:
        width = widget.content_size.width
        inner = widget.get_content_height(viewport, viewport, width) if width else widget.outer_size.height
    return inner + styles.gutter.height + styles.margin.top + styles.margin.bottom


def _files_title(s: ApprovalSummary) -> Content:
    return Content.from_markup("[b]Files[/]  [$success]+$added[/] [$error]-$removed[/]", added=str(s.added), removed=str(s.removed))


def _files_text(s: ApprovalSummary) -> Content | str:
    return _lines([_file_line(f) for f in s.files]) or "(no files)"
