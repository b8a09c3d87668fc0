"""What the workspace holds, shown: the guarded files (the Changes panel) and the proposals (the queue,
the detail, its diff's hunk choices), kept up to date from the workers' messages.

`WorkspaceView` belongs to the app, which routes `FileChanged`, `ProposalsChanged`, `ValidationReady`,
the queue's selection and the diff's hunk toggles here. It keeps what was read to show it (files,
quarantined proposal files, decided proposals' applied changes); what the person decides goes to
the review state (`omni_tui.core.review`), and the widgets render from both, one way.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

from omni_tui.core.gate import GateState
from omni_tui.core.proposals import ProposalEntry, Quarantined
from omni_tui.core.review import CheckKey, CheckKind
from omni_tui.core.review import Panel as PanelId
from omni_tui.core.terminal import inert
from omni_tui.ui import presenters
from omni_tui.ui.cards import CardBook, CardReady, pairs_of
from omni_tui.ui.messages import GuardedFile, ValidationReady
from omni_tui.ui.textual_compat import app_is_closing
from omni_tui.ui.widgets.diff_view import DiffView
from omni_tui.ui.widgets.file_tabs import FileTabs
from omni_tui.ui.workers import read_proposals, validate_proposal, validate_proposals

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from omni_tui.ui.app import CockpitApp

QUEUE_REFRESH_S = 0.1  # validations landing refresh the queue at most this often (bench/bench_queue_scale.py)
LISTING_GAP_S = 0.25  # listings arriving faster are shown at most this often, the newest (apply_proposals)
NEW_TOAST_S = 5.0  # a "new proposal" toast is up this long; what arrives meanwhile is told in one toast after it
VALIDATE_ONE_BY_ONE = 32  # more pending proposals to check than this: one worker checks them in turn
AGES_CHUNK = 500  # the ages of the rows out of view are worked out this many rows per turn of the event loop
AGES_PAUSE_S = 0.02  # between two such chunks: keys and repaints go first
AGES_STEP_S = 1.0  # a listing moves the ages on when this much time has passed (they count whole seconds)


SYNC_QUEUE = 500  # up to this many proposal files are read before the first frame; more are read in a worker


def _subtitle(panel: Any, text: str) -> None:
    """Set a panel's subtitle when it differs: Textual repaints the whole panel (border and all) on every
    assignment, and the Changes panel's is set on every write to a guarded file (the write→diff path)."""
    if panel.border_subtitle != text:
        panel.border_subtitle = text


def settle_heap() -> None:
    """Move every object alive now out of reach of Python's full garbage collections (`gc.freeze`).

    The cockpit freezes what its first frame needed (`Background.start`); a long queue arrives after it. A
    full collection walks every tracked object while it holds the GIL, from whichever thread's allocations
    trigger it: with 10,000 proposals and their rows (≈ 350,000 objects) each took 90-110 ms, the longest
    pauses of the keys while a long queue filled in (bench/bench_queue_scale.py). Called when a long queue
    is listed and when its rows are all in the table. What is frozen is still freed when its last reference
    goes (refcounting); only a reference cycle among the objects alive at that moment would stay."""
    import gc

    gc.freeze()


def _queue_size(store: Any) -> int:
    """How many files wait in proposals/ (one directory read, no file opened)."""
    try:
        return sum(1 for _ in os.scandir(store.paths.proposals))
    except OSError:
        return 0


class WorkspaceView:
    """The Changes and Proposals panels' content (see the module docstring)."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        self.files: dict[str, GuardedFile] = {}
        self.changes_path: str | None = None  # the file the Changes panel shows
        self.quarantined: dict[str, Quarantined] = {}  # queue key → invalid proposal file
        self.history: dict[str, Any] = {}  # proposal id → the change the gate wrote (core.history), or None
        self.first_listed = False  # the first listing of the proposals is shown (see list_first_queue)
        self._first_listing_waiters: list[Callable[[], object]] = []  # see after_first_listing
        self.cards = CardBook(app)  # change cards, computed in workers once per content hash
        self._queue_due = False  # a queue refresh is scheduled (validations landing are coalesced)
        self._queue_cost_s = 0.0  # how long the last queue refresh took (a long queue refreshes less often)
        self._ages_at: datetime | None = None  # the time the queue's ages were last worked out for
        self._ages_due: deque[str] = deque()  # rows whose ages are not yet worked out for `_ages_at` (out of view)
        self._ages_chunk_due = False  # a timer will work out the next AGES_CHUNK of them
        self._row_cache: dict[str, Any] = {}  # presenters.queue_rows' rows of the last refresh, by proposal id
        self._landed: set[str] = set()  # proposals whose checks landed since the queue was last shown
        self._toast_until = 0.0  # monotonic time the last "new proposal" toast is up until
        self._listing_after = 0.0  # monotonic time before which a new listing waits (see apply_proposals)
        self._listing_due: tuple[Any, Any, Any] | None = None  # the newest listing waiting to be shown
        self._checks: deque[tuple[Any, int]] = deque()  # checks asked for one by one, run in turn (validate)
        self._checks_lock = threading.Lock()
        self._checking = False  # a worker runs the checks in `_checks`
        self._unannounced: list[Any] = []  # proposals arrived while that toast was up (one toast for them later)

    # -- the first picture -------------------------------------------------------------------------

    def list_first_queue(self) -> None:
        """The proposals before the first frame (small reads); a long queue (10,000 files) is read in a
        worker instead, so the first frame and the keys do not wait for it."""
        app = self.app
        if _queue_size(app.store) <= SYNC_QUEUE:
            self.show_first_queue(*read_proposals(app.store), app.gate.state())
        else:
            app.run_worker(self._read_first_queue, thread=True, group="refresh", exit_on_error=False)

    def _read_first_queue(self) -> None:
        app = self.app
        try:
            entries, quarantined, history = read_proposals(app.store)
            state = app.gate.state()
        except BaseException:
            if app.is_running:  # the reads waiting for this one go ahead: the watcher's listing is the first
                app.call_from_thread(self._after_first_listing)
            raise
        app.call_from_thread(self.show_first_queue, entries, quarantined, history, state)

    def after_first_listing(self, callback: Callable[[], object]) -> None:
        """Run `callback` once the first listing is shown (at once when it is). The watcher's catch-up read
        waits for it: started while a long queue's first read was still going, it parsed the same 10,000
        files side by side with it, two threads taking the GIL from the keys for a second or two."""
        if self.first_listed:
            callback()
        else:
            self._first_listing_waiters.append(callback)

    def _after_first_listing(self) -> None:
        waiting, self._first_listing_waiters = self._first_listing_waiters, []
        for callback in waiting:
            callback()

    def show_first_queue(self, entries: Any, quarantined: Any, history: Any, state: GateState | None) -> None:
        if self.first_listed:
            return  # a watcher's listing got here first
        self.first_listed = True
        self.app.call_later(self._after_first_listing)  # after this listing is shown
        if len(entries) > SYNC_QUEUE:
            settle_heap()  # the long queue's proposals live as long as the cockpit (its rows: `queue_filled`)
        self.app.where.seed(entries)  # what is already there when the cockpit opens rings no bell
        self.apply_proposals(entries, quarantined, history, initial=True)
        if state is not None:  # else the GateChanged that follows the watcher's listing brings it
            self.apply_gate(state)

    def queue_filled(self) -> None:
        """A long queue's rows are all in the table: they live as long as the cockpit."""
        settle_heap()

    def current_texts(self) -> dict[str, str | None]:
        return {path: f.current for path, f in self.files.items()}

    # -- the Changes panel ---------------------------------------------------------------------------

    def apply_files(self, files: tuple[GuardedFile, ...]) -> None:
        changed_paths = {f.path for f in files if self.files.get(f.path) != f}
        for f in files:
            was = self.files.get(f.path)
            if f.problem and (was is None or was.problem != f.problem):
                self.app.notify(
                    f"{f.path} is {f.problem}: the diff shows � for those bytes, and it cannot be accepted until fixed",
                    title="Not UTF-8",
                    severity="warning",
                    timeout=8,
                )
        self.files = {f.path: f for f in files}
        differing = [f.path for f in files if f.differs]
        if self.changes_path not in differing:
            self.changes_path = differing[0] if differing else (files[0].path if files else None)
        self.show_changes()
        if changed_paths:
            self.revalidate(changed_paths)
            self.app.decisions.files_changed()
        self.app.bindings_may_have_changed()

    def show_changes(self) -> None:
        main = self.app.main
        differing = [path for path, f in self.files.items() if f.differs]
        main.changes_tabs.set_files(differing, self.changes_path)
        panel = main.panel(PanelId.CHANGES)
        path = self.changes_path
        if path is None:
            _subtitle(panel, "no guarded files")
            return
        shown = self.files[path]
        card, note = (
            self.cards.get(pairs_of([(p, self.files[p].baseline, self.files[p].current) for p in differing])) if differing else (None, "")
        )
        main.changes_card.show(card, note)
        main.changes_diff.set_diff(path, shown.baseline, shown.current, absent_before="new file" if shown.recorded else "newly guarded")
        if not differing:
            unguarded = len(self.app.unguarded.reads)
            # Short: at 80x24 the panel's subtitle has ≈ 26 cells (security.md: files the environment reads).
            _subtitle(panel, f"no changes · {unguarded} unguarded" if unguarded else "no changes against the baseline")
        else:
            unapproved = set(self.app.review.unapproved())
            keys = self.app.review.keys  # as mapped by `[keys]`: the subtitle names the keys that work
            if path not in unapproved:
                what = "applied, not yet built"
            elif not shown.recorded:  # nothing approved to revert to: its whole content waits for the person
                what = f"NEWLY GUARDED · {keys.get('accept_direct', 'A')} accept its content"
            else:
                what = f"UNAPPROVED · {keys.get('accept_direct', 'A')} accept · {keys.get('revert_direct', 'u')} revert"
            if shown.problem:
                what = f"⚠ not UTF-8, shown with � · {what}"
            # The file's name is on the tabs line above the diff: at 80 columns the subtitle keeps the keys.
            _subtitle(panel, what if len(differing) == 1 else f"{len(differing)} files · {what}")

    def file_selected(self, message: FileTabs.FileSelected) -> None:
        self.show_file(message.tabs, message.path)

    def show_file(self, tabs: FileTabs, path: str) -> None:
        """Show `path` in the panel whose file tabs these are (Changes, or the proposal's detail)."""
        if tabs.id == "changes-files":
            self.changes_path = path
            self.show_changes()
        else:
            self.show_detail(path=path)

    def apply_gate(self, state: GateState) -> None:
        """A new gate state: the header, the follow of another cockpit's rebuild, the Changes panel."""
        app = self.app
        app.where.gate_kind(state.kind)
        app.review.gate = state
        kind = state.kind
        if app.review.rebuilding_here:
            kind = "rebuilding"
        note = ""
        if state.holder is not None and not app.review.rebuilding_here:
            note = inert(app.review.describe_holder(state.holder))
        elif state.failed is not None:
            note = f"{state.failed.proposal_id}: {state.failed.reason}"
        if state.kind == "tampered":  # what and where, whatever else is going on
            from omni_tui.ui.tamper import header_note

            kind, note = "tampered", inert(header_note(state, app.ws.paths.state))
        app.main.header.show_state(kind, len(state.pending), state.unapproved, note, state.sandboxed)
        app.rebuilds.follow_remote(state.holder)
        app.rebuilds.failure_still_open(state.failed is not None)
        self.show_changes()
        app.bindings_may_have_changed()

    # -- the Proposals panel -------------------------------------------------------------------------

    def apply_proposals(
        self, entries: tuple[ProposalEntry, ...], quarantined: tuple[Quarantined, ...], history: dict[str, Any], initial: bool = False
    ) -> None:
        """A new listing of the proposals. Listings in a burst (200 proposals arriving in 10 s) are shown at
        most every LISTING_GAP_S (longer when showing one takes long), the newest of them: each one shown
        costs the screen a new layout, and keys waited behind them (bench/bench_queue_scale.py). The first
        of a burst is shown at once."""
        now = time.monotonic()
        if not initial and (self._listing_due or now < self._listing_after):
            if not self._listing_due:
                self.app.set_timer(self._listing_after - now, self._apply_waiting_listing)
            self._listing_due = (entries, quarantined, history)
            return
        started = time.perf_counter()
        self._apply_proposals(entries, quarantined, history, initial)
        cost = time.perf_counter() - started
        self._listing_after = time.monotonic() + max(LISTING_GAP_S, 2 * cost)

    def _apply_waiting_listing(self) -> None:
        waiting, self._listing_due = self._listing_due, None
        if waiting is not None and not app_is_closing(self.app):  # not while the cockpit quits (its widgets go)
            self._listing_after = 0.0
            self.apply_proposals(*waiting)

    def _apply_proposals(
        self, entries: tuple[ProposalEntry, ...], quarantined: tuple[Quarantined, ...], history: dict[str, Any], initial: bool
    ) -> None:
        app, review = self.app, self.app.review
        was_pending = review.selected_key is not None and review.selected_key in (review.known_pending or ())
        self.history = history
        self.quarantined = {presenters.quarantine_key(item): item for item in quarantined}
        new = review.set_entries(entries, self.quarantined, initial=initial)
        if new:
            if app.ws.config.notify.bell:  # [notify] bell = false keeps the terminal quiet
                app.bell()
            self.announce_new(new)
        pending = review.known_pending if review.known_pending is not None else review.pending_ids()  # just counted
        if initial and len(entries) > SYNC_QUEUE:
            # A long queue's first listing: its rows are shown in this turn, its policy and checks start in
            # the next (≈ 30 ms of the UI thread for 10,000: a key typed meanwhile goes first).
            app.call_later(self._police_and_check, list(pending))
        else:
            self._police_and_check(list(pending))
        self.show_queue()
        oldest = review.oldest_pending()
        queue = app.main.queue
        reading = queue.chosen is not None and queue.chosen == review.selected_key  # a decided one the person went to
        if oldest is not None and review.selected_key not in pending and (was_pending or (new and not reading)):
            # The selected proposal was just decided, or one arrived while nothing pending was selected
            # (and the person is not reading a decided one: its toast says it came): move on to the one
            # waiting (the oldest; a new one when it is alone).
            queue.select_key(oldest)

    def announce_new(self, new: list[Any]) -> None:
        """A toast for proposals that arrived: at once when no "new proposal" toast is up, else one toast
        for all that arrived meanwhile once it is gone — 200 arriving in 10 s make three toasts, not a
        column of 200 (each a widget mounted again on every screen change: keys waited on them)."""
        app = self.app
        self._unannounced.extend(new)
        now = time.monotonic()
        if now < self._toast_until:
            if len(self._unannounced) == len(new):  # the first to wait: say them when the toast is gone
                app.set_timer(self._toast_until - now, self._announce_waiting)
            return
        self._announce_waiting()

    def _announce_waiting(self) -> None:
        waiting, self._unannounced = self._unannounced, []
        waiting = [proposal for proposal in waiting if self.app.review.pending(proposal.id) is not None]  # still waiting
        if not waiting or app_is_closing(self.app):
            return
        if len(waiting) == 1:
            self.app.notify(f"{waiting[0].agent}: {waiting[0].title}", title="New proposal", timeout=NEW_TOAST_S)
        else:
            self.app.notify(f"{len(waiting)} new proposals", title="New proposals", timeout=NEW_TOAST_S)
        self._toast_until = time.monotonic() + NEW_TOAST_S

    def schedule_queue(self) -> None:
        """Refresh the queue soon, once for everything that landed meanwhile (10,000 validations landing
        must not rebuild 10,000 rows 10,000 times): at most every 100 ms, less often when a refresh is slow."""
        if self._queue_due:
            return
        self._queue_due = True
        self.app.set_timer(max(QUEUE_REFRESH_S, 4 * self._queue_cost_s), self._refresh_queue)

    def _refresh_queue(self) -> None:
        self._queue_due = False
        if app_is_closing(self.app):  # not while the cockpit quits (its widgets go)
            return
        review = self.app.review
        landed, self._landed = self._landed, set()
        if self._ages_at is None or review.selected_key in landed:
            self.show_queue(ages_kept=True)
            return
        # Only the rows whose checks landed (their place in the queue does not depend on a check): a
        # refresh of all 10,000 rows for each batch of results held keys ~0.1-0.3 s at a time.
        started = time.perf_counter()
        entries = [review.entries[pid] for pid in landed if pid in review.entries]
        self.app.main.queue.update_rows(presenters.landed_rows(entries, review.validations, self._ages_at, self._row_cache))
        self._queue_cost_s = time.perf_counter() - started

    def show_queue(self, *, ages_kept: bool = False) -> None:
        """Show the queue as the review state has it: rows new or changed (states, badges) written at once,
        each other row keeping the age it shows; then, unless `ages_kept` (check results landing), the ages
        move on to now as the ages tick moves them (`tick_ages`). So a listing rewrites what changed in it,
        not the age of each of 10,000 young rows."""
        if app_is_closing(self.app):  # an app timer firing while the cockpit quits: the queue is gone
            return
        started = time.perf_counter()
        self._show_queue(ages_kept)
        self._queue_cost_s = time.perf_counter() - started

    def _show_queue(self, ages_kept: bool = False) -> None:
        app, review = self.app, self.app.review
        queue = app.main.queue
        now = app.clock()
        first = self._ages_at is None
        if first:
            self._ages_at = now
        self._landed.clear()  # every row shown as it is now
        # The rows as they are, each unchanged one with the age it shows: the listing's diff costs what
        # changed in it; the ages move after, the rows in view at once (`_move_ages`).
        rows = presenters.queue_rows(
            review.entries.values(), self.quarantined.values(), review.validations, self._ages_at or now, self._row_cache, keep_ages=True
        )
        queue.show_rows(rows)
        if not ages_kept and not first and self._ages_at is not None and (now - self._ages_at).total_seconds() >= AGES_STEP_S:
            self._move_ages(now)  # (not for each listing of a burst: each would start the sweep over)
        review.selected_key = queue.selected_key
        self.show_detail()
        app.bindings_may_have_changed()

    def tick_ages(self) -> None:
        """The 10 s ages tick: the queue's ages (and the detail's "created … ago") as of now. Only the rows
        whose age text changed are rewritten, those in view at once, the rest a chunk per turn of the event
        loop — 10,000 young rows rewritten at once held keys 0.2-0.5 s (bench/bench_queue_scale.py)."""
        if app_is_closing(self.app) or self._ages_at is None:  # quitting, or nothing listed yet
            return
        self._move_ages(self.app.clock())
        self.show_detail()

    def _move_ages(self, now: datetime) -> None:
        """Work the queue's ages out for `now`: the rows a person sees at once, the others soon after."""
        self._ages_at = now
        queue = self.app.main.queue
        in_view = queue.keys_in_view()
        self._age_rows(in_view)
        seen = set(in_view)
        self._ages_due = deque(key for key in queue.order if key not in seen)
        if self._ages_due and not self._ages_chunk_due:
            self._ages_chunk_due = True
            self.app.set_timer(AGES_PAUSE_S, self._age_chunk)

    def _age_rows(self, keys: Iterable[str]) -> None:
        """Rewrite these rows' ages for `_ages_at` where their text changed (a row whose age reads the same
        is the same row object: nothing written)."""
        review = self.app.review
        entries = [review.entries[key] for key in keys if key in review.entries]  # (quarantined rows have no age)
        if entries and self._ages_at is not None:
            self.app.main.queue.update_rows(presenters.landed_rows(entries, review.validations, self._ages_at, self._row_cache))

    def _age_chunk(self) -> None:
        self._ages_chunk_due = False
        if app_is_closing(self.app):
            return
        due = self._ages_due
        self._age_rows([due.popleft() for _ in range(min(AGES_CHUNK, len(due)))])
        if due:
            self._ages_chunk_due = True
            self.app.set_timer(AGES_PAUSE_S, self._age_chunk)

    def queue_selected(self, key: str | None) -> None:
        self.app.review.selected_key = key
        self.show_detail()
        self.app.bindings_may_have_changed()

    def queue_entered(self) -> None:
        # enter on a proposal: into its diff, to scroll it line by line (tab moves on to the next panel)
        detail = self.app.main.detail
        if detail.view is not None and detail.shown_path is not None:
            detail.diff.focus()

    def show_detail(self, path: str | None = None) -> None:
        app, review = self.app, self.app.review
        key = review.selected_key
        detail = app.main.detail
        entry = review.entries.get(key) if key is not None and key not in self.quarantined else None
        detail.show_card(*(self.proposal_card(entry) if entry is not None and entry.status == "pending" else (None, "")))
        if key is None:
            detail.show(None)
            return
        if key in self.quarantined:
            detail.show(presenters.quarantine_view(self.quarantined[key]))
            return
        if entry is None:
            detail.show(None)
            return
        validation, error = review.check_of(key)
        view = presenters.proposal_view(
            entry,
            self.current_texts(),
            validation,
            error,
            review.edited.get(key, {}),
            self._ages_at or app.clock(),  # the age the queue's row shows: both move on the 10 s tick
            self.history.get(key),
            {path: f.baseline for path, f in self.files.items()},
        )
        same = detail.view is not None and detail.view == view and path in (None, detail.shown_path)
        if same:
            return
        detail.show(view, path or (detail.shown_path if detail.view and detail.view.key == key else None))
        self._show_hunk_choice()

    def _show_hunk_choice(self) -> None:
        """The shown proposal file's diff shows the hunks chosen in the review state (a new diff shows all)."""
        detail = self.app.main.detail
        if detail.view is None or detail.shown_path is None or detail.view.state != "pending":
            return  # a decided proposal's diff is what was applied: no choice to show
        chosen = self.app.review.chosen_hunks(detail.view.key, detail.shown_path)
        if chosen is not None:
            detail.diff.select_hunks(set(chosen))

    def hunks_changed(self, message: DiffView.HunkSelectionChanged) -> None:
        """The person toggled a hunk in a pending proposal's diff: the choice is the review state's."""
        detail = self.app.main.detail
        if message.control is not detail.diff or detail.view is None or detail.shown_path is None:
            return
        if detail.view.state != "pending":
            return  # the diff of a decided proposal: its hunks are not choices
        # What the diff shows now (a newer change may be queued behind this message): the latest choice.
        self.app.review.choose_hunks(detail.view.key, detail.shown_path, detail.diff.selected_hunks, detail.diff.hunk_count)

    # -- change cards --------------------------------------------------------------------------------

    def proposal_card(self, entry: ProposalEntry, contents: dict[str, str] | None = None) -> tuple[Any, str]:
        """The card of a pending proposal against the files as read (`contents`: what will be written, when
        the person edited it or chose hunks); (None, note) while a worker computes it."""
        current = self.current_texts()
        written = contents if contents is not None else {c.path: c.new_content for c in entry.proposal.changes}
        return self.cards.get(pairs_of([(path, current.get(path), text) for path, text in written.items()]))

    def direct_card(self) -> tuple[Any, str]:
        """The card of the direct edits: the approved baseline → the files on disk."""
        paths = self.app.review.unapproved()
        return self.cards.get(pairs_of([(p, self.files[p].baseline, self.files[p].current) for p in paths if p in self.files]))

    def card_ready(self, message: CardReady) -> None:
        self.cards.landed(message)
        self.show_changes()
        self.show_detail()
        self.app.decisions.card_landed()

    def _police_and_check(self, pids: list[str]) -> None:
        """`[policy] refuse` on these pending proposals, then check those never checked."""
        if app_is_closing(self.app):
            return
        self.apply_policy(pids)
        review = self.app.review
        self.validate_all([pid for pid in pids if review.needs_check(pid)])

    def apply_policy(self, pids: list[str]) -> None:
        """`[policy] refuse`: a pending proposal that matches is rejected at once, in a worker (who: policy)."""
        if self.app.ws.config.policy.refuse:
            for pid in pids:
                self.cards.refuse(self.app.gate, pid)

    # -- checks --------------------------------------------------------------------------------------

    def validate_all(self, pids: list[str]) -> None:
        """Check these pending proposals: one worker each for a few, one worker in turn for a long queue
        (10,000 thread workers would only queue up; results are cached by content hash anyway)."""
        if len(pids) <= VALIDATE_ONE_BY_ONE:
            for pid in pids:
                self.validate(pid)
            return
        app = self.app
        jobs = []
        for pid in pids:
            entry = app.review.pending(pid)
            if entry is not None:
                jobs.append((entry.proposal, app.review.start_check(CheckKey.proposal(pid))))
        app.run_worker(
            partial(validate_proposals, app, app.gate, jobs),
            thread=True,
            group="validate",
            exit_on_error=False,
            description=f"checks of {len(jobs)} proposals",  # Textual's default, repr() of 10,000 proposals, took 30-60 ms
        )

    def validate(self, pid: str) -> None:
        """Check one pending proposal: in turn with the others asked for, in one worker. 200 proposals
        arriving in 10 s ran 200 `nix-instantiate` side by side on two cores, and keys waited for a CPU."""
        app = self.app
        entry = app.review.pending(pid)
        if entry is None:
            return
        generation = app.review.start_check(CheckKey.proposal(pid))
        with self._checks_lock:
            self._checks.append((entry.proposal, generation))
        self._start_checks()

    def _start_checks(self) -> None:
        with self._checks_lock:
            if self._checking or not self._checks:
                return
            self._checking = True
        self.app.run_worker(self._run_checks, thread=True, group="validate", exit_on_error=False)

    def _run_checks(self) -> None:
        """The checks asked for one by one, oldest first, until none is left (a thread worker)."""
        app = self.app
        while True:
            with self._checks_lock:
                if not self._checks or not app.is_running:
                    self._checking = False  # under the lock: a check asked for now starts a new worker
                    return
                proposal, generation = self._checks.popleft()
            try:
                validate_proposal(app, app.gate, proposal, generation)
            except BaseException:
                with self._checks_lock:
                    self._checking = False
                if app.is_running:
                    app.call_from_thread(self._start_checks)  # the others go on in a new worker
                raise  # this one fails as its own worker did (Background says so)

    def revalidate(self, paths: set[str]) -> None:
        """A guarded file changed: every pending proposal touching it is checked again (base may be stale now)."""
        for pid in self.app.review.stale_checks(paths):
            self.validate(pid)

    def validation_ready(self, message: ValidationReady) -> None:
        review = self.app.review
        if not review.is_current(message.key, message.generation):
            return  # an older run finished after a newer one started
        review.record_check(message.key, message.check)
        if message.key.kind is CheckKind.PROPOSAL:
            if message.key == CheckKey.proposal(review.selected_key or ""):
                self.show_queue(ages_kept=True)  # the one the person looks at: at once
            else:
                self._landed.add(message.key.proposal_id)
                self.schedule_queue()
        self.app.decisions.check_landed(message.key, message.check)
