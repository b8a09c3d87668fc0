"""The cockpit's slow work: file and proposal watching, process polling, validation, rebuilds, process logs.

Each function here runs off the UI's hands (a Textual worker, a thread, or an awaited thread call)
and reports only through `app.post_message(...)` with plain data from `omni_tui.ui.messages`;
nothing here touches a widget.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.message import Message

from omni_tui.core.errors import OmniError
from omni_tui.core.history import HISTORY_STATUSES, bases_at_hand, entry_change, kept_bases
from omni_tui.core.review import DIRECT_EDITS, Check, CheckKey
from omni_tui.ui import presenters
from omni_tui.ui.messages import (
    ActionDone,
    FileChanged,
    GateChanged,
    GuardedFile,
    ProcessesRefreshed,
    ProcessLogLines,
    ProposalsChanged,
    RebuildFinished,
    RebuildLines,
    RebuildStage,
    RebuildStarted,
    RemoteRebuildEnded,
    RemoteRebuildLog,
    ValidationReady,
)

if TYPE_CHECKING:
    from omni_tui.core.buildlog import BuildLogParser
    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import Proposal, ProposalEntry, ProposalStore, Quarantined
    from omni_tui.core.rebuild import RebuildOutcome, RebuildRunner  # the module loads with the first rebuild
    from omni_tui.core.workspace import Workspace

# How long the watcher waits for a burst of writes to settle, and the most it groups (ms).
WATCH_STEP_MS = 15
WATCH_DEBOUNCE_MS = 60
# How often rebuild output reaches the UI.
LINE_BATCH_S = 0.05


def _decode(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


def _guarded_file(ws: Workspace, rel: str) -> GuardedFile:
    baseline, data = _decode(ws.read_baseline(rel)), ws.read_current(rel)
    recorded = baseline is not None or ws.has_baseline(rel)
    if data is None:
        return GuardedFile(rel, baseline, None, None, recorded)
    try:
        return GuardedFile(rel, baseline, data.decode("utf-8"), None, recorded)
    except UnicodeDecodeError as exc:  # shown with �, and said: it cannot be accepted as it is
        from omni_tui.core.validate import not_utf8

        return GuardedFile(rel, baseline, data.decode("utf-8", "replace"), not_utf8(data, exc), recorded)


def read_guarded(ws: Workspace) -> tuple[GuardedFile, ...]:
    """Every guarded file's baseline and current text (invalid UTF-8 decoded with replacement, and said)."""
    return tuple(_guarded_file(ws, rel) for rel in ws.guarded())


class HistoryCache:
    """The applied changes (before/after texts from the backups) of the decided proposals the queue shows.

    Read once per (proposal id, status): a decision's files never change once written, and the whole
    store is re-listed on every state change. An in-flight apply still backing up is read again next
    time; only the proposals the queue can show are kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], Any] = {}

    def read(self, ws: Workspace, entries: Iterable[ProposalEntry]) -> dict[str, Any]:
        # A proposal decided without a write (rejected, stale, withdrawn) gets the bases its files were
        # proposed against that only a backup still holds (`core.history.kept_bases`): its diff stays base → proposed.
        shown = [e for e in presenters.shown_entries(entries) if e.status in HISTORY_STATUSES or e.status in presenters.NOT_APPLIED]
        out: dict[str, Any] = {}
        with self._lock:
            known: dict[tuple[str, str], Any] = {}
            for entry in shown:
                key = (entry.proposal.id, entry.status)
                at_hand = False
                if key in self._known:
                    change = self._known[key]
                elif entry.status in HISTORY_STATUSES:
                    change = entry_change(ws, entry)
                elif bases_at_hand(ws, entry.proposal):
                    change, at_hand = {}, True  # the file or baseline has them: asked again next time, no backup read
                else:
                    change = kept_bases(ws, entry.proposal)  # the base bytes never change: read once
                if not at_hand and (change is not None or entry.status not in presenters.IN_FLIGHT):
                    known[key] = change
                out[entry.proposal.id] = change
            self._known = known
        return out


_histories: weakref.WeakKeyDictionary[ProposalStore, HistoryCache] = weakref.WeakKeyDictionary()
_histories_lock = threading.Lock()


def history_cache(store: ProposalStore) -> HistoryCache:
    """The one `HistoryCache` of a store (it lives as long as the store)."""
    with _histories_lock:
        cache = _histories.get(store)
        if cache is None:
            cache = _histories[store] = HistoryCache()
        return cache


def read_proposals(store: ProposalStore) -> tuple[tuple[ProposalEntry, ...], tuple[Quarantined, ...], dict[str, Any]]:
    """The store's entries, quarantined files (the store quarantines bad files as it lists), and the
    applied changes of the decided ones shown (`core.history.AppliedChange` or None, by proposal id)."""
    entries = tuple(store.entries())
    return entries, tuple(store.quarantined()), history_cache(store).read(store.ws, entries)


def reap_orphans(app: App, gate: Gate) -> None:
    """A starting cockpit stops a rebuild left running by a cockpit that died mid-rebuild, and says so."""
    try:
        notices = gate.reap_orphans()
    except OmniError as exc:
        notices = [str(exc)]
    for message in notices:
        app.call_from_thread(app.notify, message, title="Orphaned rebuild", severity="warning", timeout=30)


def post_workspace(app: App, ws: Workspace, gate: Gate, store: ProposalStore, *, files: bool = True, proposals: bool = True) -> None:
    """Read what changed and post it: files first (the 150 ms path), then proposals, then the gate state."""
    if files:
        app.post_message(FileChanged(read_guarded(ws)))
    if proposals:
        app.post_message(ProposalsChanged(*read_proposals(store)))
    read_at = time.monotonic()
    app.post_message(GateChanged(gate.state(), read_at))


# The longest the watcher waits for the app to draw a guarded file's change before reading the gate.
_DRAWN_WAIT_S = 0.1


class _Quiet:
    """While a guarded file's change is on its way to the screen, background refreshes wait.

    The watcher calls `hush()` before it posts the new text; the process poller waits out the window
    before its next scan, so the scan (and its GIL time) stays off the path from a write to its frame.
    """

    until = 0.0

    @classmethod
    def hush(cls, seconds: float = 0.2) -> None:
        cls.until = max(cls.until, time.monotonic() + seconds)

    @classmethod
    def wait(cls, stop: threading.Event) -> None:
        while (left := cls.until - time.monotonic()) > 0 and not stop.wait(min(left, 0.05)):
            pass


# Folders in the state directory whose changes say nothing about the proposals or the gate: content
# caches (checks, cards, history), who has a cockpit open, notifications already sent. The first check
# of a fresh workspace creates `cache/`: read as a state change, it listed a 10,000-proposal queue again
# beside the first listing (a second or two of another thread holding the GIL from the keys).
_NOT_GATE_STATE = frozenset({"cache", "presence", "notified"})


class WorkspaceWatcher:
    """Watches the guarded files and the proposal state directories: raw inotify (`core.inotify`), else watchfiles polling.

    Guarded-file or baseline writes → `FileChanged` (and, in guard mode, the edit is captured as a
    proposal and reverted); proposal, decision, quarantine or lock changes → `ProposalsChanged`;
    both → `GateChanged`.
    """

    def __init__(self, app: App, ws: Workspace, gate: Gate, store: ProposalStore) -> None:
        self.app = app
        self.ws = ws
        self.gate = gate
        self.store = store
        self.stop_event = threading.Event()
        self._watch: Any = None  # the inotify watch while it runs (`stop` interrupts its wait)
        root = ws.root
        self._guarded = {str(root / rel): rel for rel in ws.guarded()}
        paths = ws.paths
        self._state_dirs = {str(p) for p in (paths.proposals, paths.decisions, paths.quarantine)}
        # The baseline moves when any cockpit approves or accepts edits: the diffs are against it.
        self._baseline_dir = str(paths.baseline)
        self._state_dir = str(paths.state)
        dirs = {str(root), self._state_dir, self._baseline_dir, *self._state_dirs}
        dirs.update(str((root / rel).parent) for rel in ws.guarded())
        self.watched = sorted(d for d in dirs if Path(d).is_dir())

    def classify(self, path: str) -> str | None:
        """'file' for a guarded file or its baseline, 'state' for the proposal state, None for anything else."""
        if path in self._guarded:
            return "file"
        parent = str(Path(path).parent)
        if parent == self._baseline_dir:
            return "file"
        if parent in self._state_dirs:
            return "state"
        if parent == self._state_dir and not Path(path).name.startswith(".") and Path(path).name not in _NOT_GATE_STATE:
            return "state"  # the lock / gate-state files next to the directories
        return None

    def _filter(self, _change: Any, path: str) -> bool:
        return self.classify(path) is not None

    def stop(self) -> None:
        """End the watch now (thread-safe): the thread leaves its wait at once, so quitting does not wait for it."""
        self.stop_event.set()
        watch = self._watch
        if watch is not None:
            watch.interrupt()

    def run(self, *, force_polling: bool = False) -> None:
        """Watch until stopped (in a thread worker); `force_polling` for file systems without inotify (or when it ran out)."""
        from omni_tui.core import inotify

        if not force_polling and inotify.available():
            # Raw inotify on the directories (close-write, rename, create, delete): a write is handled as
            # soon as its writer closes the file, where watchfiles batches for 15 ms + 60 ms. OSError
            # (no inotify, its limits reached) ends the worker: the cockpit then watches by polling.
            with inotify.DirectoryWatch(self.watched) as watch:
                self._watch = watch
                if self.stop_event.is_set():  # stopped while the watch was being set up
                    return
                while not self.stop_event.is_set():
                    try:
                        paths = watch.wait(0.25)
                    except inotify.Overflow:
                        self.handle(True, True)  # events were lost: read everything again
                        continue
                    kinds = {self.classify(path) for path in paths}
                    if "file" in kinds or "state" in kinds:
                        self.handle("file" in kinds, "state" in kinds)
            return
        # watchfiles' blocking `watch` in our own thread rather than `awatch`: awatch needs anyio's
        # asyncio backend, whose import (≈ 17 ms) held the event loop right after the first frame.
        from watchfiles import watch

        for changes in watch(
            *self.watched,
            watch_filter=self._filter,
            step=WATCH_STEP_MS,
            debounce=WATCH_DEBOUNCE_MS,
            recursive=False,
            stop_event=self.stop_event,
            rust_timeout=1000,
            raise_interrupt=False,
            force_polling=force_polling,
            poll_delay_ms=100,
        ):
            kinds = {self.classify(path) for _change, path in changes}
            self.handle("file" in kinds, "state" in kinds)

    def handle(self, files: bool, state: bool) -> None:
        """Read and post what changed; in guard mode capture direct edits first (runs in a thread)."""
        guard = self.ws.config.guard.mode == "guard"
        if files:
            _Quiet.hush()
            drawn = None if guard else threading.Event()
            self.app.post_message(FileChanged(read_guarded(self.ws), drawn=drawn))
            if drawn is not None:
                # The new text is drawn first: the gate's state (≈ 1 ms of Python, more with many
                # proposals) is read after that frame rather than holding the GIL while it is drawn.
                # Guard mode captures the edit at once instead (the file is put back sooner).
                drawn.wait(_DRAWN_WAIT_S)
        if files and guard:
            self._capture()
        if state:
            self.app.post_message(ProposalsChanged(*read_proposals(self.store)))
        read_at = time.monotonic()
        self.app.post_message(GateChanged(self.gate.state(), read_at))

    def _capture(self) -> None:
        try:
            if self.gate.state().kind in ("rebuilding", "failed") or not self.ws.unapproved():
                return  # an approval in flight writes the file before the baseline moves: not a direct edit
            captured = self.gate.capture_direct_edits()
        except OmniError as exc:
            self.app.post_message(ActionDone(f"guard mode could not capture the direct edit: {exc}", error=True))
            return
        if captured:
            self.app.post_message(FileChanged(read_guarded(self.ws)))
            self.app.post_message(ProposalsChanged(*read_proposals(self.store)))
            self.app.post_message(ActionDone("Guard mode: the direct edit became a proposal and the file was restored to its baseline"))


class ProcessPoller:
    """Collects the project's processes every `interval_s` seconds in a thread until stopped, and at once
    whenever a manager's event stream (native `attach`, process-compose's state WebSocket) reports a change."""

    def __init__(self, app: App, root: Path, interval_s: float = 1.0, *, unmanaged_after_s: float | None = None) -> None:
        self.app = app
        self.root = root
        self.interval_s = max(0.2, interval_s)
        self.unmanaged_after_s = unmanaged_after_s
        self.stop_event = threading.Event()
        self._monitor: Any = None

    def stop(self) -> None:
        """End the polling now (thread-safe): the wait for the next refresh ends at once."""
        self.stop_event.set()
        monitor = self._monitor
        if monitor is not None:
            monitor.changed.set()  # wakes `wait_for_change`, which then sees the stop

    def run(self) -> None:
        from omni_tui.core.processes import monitor_for  # here, not at import: psutil and friends cost start-up time

        monitor = self._monitor = monitor_for(self.root, unmanaged_after_s=self.unmanaged_after_s)
        while not self.stop_event.is_set():
            _Quiet.wait(self.stop_event)  # a guarded file's change is being drawn: scan right after
            try:
                snapshot = monitor.collect()
            except Exception as exc:  # a backend bug must not kill the panel; say it and go on polling
                self.app.post_message(ActionDone(f"process scan failed: {exc}", error=True))
            else:
                self.app.post_message(ProcessesRefreshed(snapshot))
            monitor.wait_for_change(self.interval_s, self.stop_event)


def validate_proposal(app: App, gate: Gate, proposal: Proposal, generation: int = 0) -> None:
    """Run `gate.validate` (nix-instantiate, hashes, size) and post the result."""
    try:
        validation = gate.validate(proposal)
    except OmniError as exc:
        app.post_message(ValidationReady(CheckKey.proposal(proposal.id), Check(None, str(exc)), generation))
    else:
        app.post_message(ValidationReady(CheckKey.proposal(proposal.id), Check(validation, None), generation))


def validate_proposals(app: App, gate: Gate, jobs: list[tuple[Proposal, int]]) -> None:
    """A long queue's checks in turn, in one worker: each result is posted as it lands (cached by content hash)."""
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        worker = get_current_worker()
    except NoActiveWorker:
        worker = None
    for proposal, generation in jobs:
        if (worker is not None and worker.is_cancelled) or not app.is_running:
            return  # the cockpit is quitting: the rest is checked next time (the cache keeps what was done)
        validate_proposal(app, gate, proposal, generation)


def validate_direct_edits(app: App, ws: Workspace, paths: list[str], generation: int = 0) -> None:
    """Check the direct edits on disk as accepting them will (UTF-8, size, Nix parse) and post the result."""
    from omni_tui.core.validate import validate_on_disk

    try:
        validation = validate_on_disk({path: ws.read_current(path) for path in paths}, max_bytes=ws.config.guard.max_bytes)
    except OmniError as exc:
        app.post_message(ValidationReady(DIRECT_EDITS, Check(None, str(exc)), generation))
    else:
        app.post_message(ValidationReady(DIRECT_EDITS, Check(validation, None), generation))


def validate_texts(app: App, key: CheckKey, contents: dict[str, str], max_bytes: int, generation: int = 0) -> None:
    """Check texts about to be written (an edited or partly approved proposal): UTF-8, size, Nix parse."""
    from omni_tui.core.validate import validate_contents

    try:
        validation = validate_contents(contents, max_bytes=max_bytes)
    except OmniError as exc:
        app.post_message(ValidationReady(key, Check(None, str(exc)), generation))
    else:
        app.post_message(ValidationReady(key, Check(validation, None), generation))


RebuildOperation = Callable[[Callable[[], "RebuildOutcome"], Callable[[str], None]], Any]


class RebuildJob:
    """One gate operation that rebuilds (approve, accept direct edits), run in a thread worker.

    The runner's parser turns each chunk of output into display lines (`on_display`, no per-line
    call); they gather in a buffer that a flusher thread posts as `RebuildLines` every `LINE_BATCH_S`,
    so a fast build costs the UI one update per batch. The buffer holds at most `MAX_PENDING` lines:
    should the UI fall that far behind, the oldest give way to a line saying how many (all of them
    are in the log file).
    """

    MAX_PENDING = 200_000

    def __init__(
        self, app: App, ws: Workspace, title: str, operation: RebuildOperation, *, run_id: str | None = None, builds: bool = True
    ) -> None:
        self.app = app
        self.ws = ws
        self.title = title
        self.operation = operation
        self.run_id = run_id
        self.builds = builds
        self.runner: RebuildRunner | None = None
        from omni_tui.core.buildlog import BuildLogParser  # with the first rebuild, not before the first frame

        self.parser: BuildLogParser = BuildLogParser()  # the runner's own once it exists
        self._buffer: list[str] = []
        self._skipped = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._cancelled = False

    def cancel(self) -> None:
        """Stop the rebuild (thread-safe); before the command starts, it will not start."""
        self._cancelled = True
        if self.runner is not None:
            self.runner.cancel()

    def _on_display(self, display: list[str]) -> None:
        with self._lock:
            buffer = self._buffer
            buffer.extend(display)
            excess = len(buffer) - self.MAX_PENDING
            if excess > 0:
                del buffer[:excess]
                self._skipped += excess

    def _flush(self, then: Message | None = None) -> None:
        # Posting under the lock keeps the order: lines the flusher thread took are posted before a
        # stage message (or a later batch) from another thread.
        with self._lock:
            lines, self._buffer = self._buffer, []
            if self._skipped:
                where = self.runner.log_path if self.runner is not None else "the rebuild log"
                lines.insert(0, f"… {self._skipped:,} lines skipped here while the view caught up (all are in {where})")
                self._skipped = 0
            if lines:
                self.app.post_message(RebuildLines(tuple(lines), self.parser.progress))
            if then is not None:
                self.app.post_message(then)

    def _flusher(self) -> None:
        while not self._done.wait(LINE_BATCH_S):
            self._flush()

    def run(self) -> None:
        if not self.builds:  # an operation that runs no rebuild (omni-tui's configuration alone): no runner
            decision, error = None, None
            try:
                decision = self.operation(lambda: None, self._on_stage)
            except OmniError as exc:
                error = str(exc)
            except Exception as exc:  # unexpected: still end the run visibly rather than hang the panel
                error = f"{type(exc).__name__}: {exc}"
            self._flush()
            self.app.post_message(RebuildFinished(self.title, decision, error))
            return
        try:
            from omni_tui.core.rebuild import runner_for  # with the first rebuild: not before the first frame

            runner = runner_for(self.ws, run_id=self.run_id)
        except OmniError as exc:
            self.app.post_message(RebuildFinished(self.title, None, str(exc)))
            return
        self.runner = runner
        self.parser = runner.parser
        if self._cancelled:
            runner.cancel()
        self.app.post_message(RebuildStarted(self.title, runner.command))
        flusher = threading.Thread(target=self._flusher, name="omni-rebuild-lines", daemon=True)
        flusher.start()
        decision, error = None, None
        try:
            decision = self.operation(lambda: self._rebuild(runner), self._on_stage)
        except OmniError as exc:
            error = str(exc)
        except Exception as exc:  # unexpected: still end the run visibly rather than hang the panel
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._done.set()
            flusher.join()
            self._flush()
        self.app.post_message(RebuildFinished(self.title, decision, error, self.parser.progress, runner.outcome))

    def _rebuild(self, runner: RebuildRunner) -> RebuildOutcome:
        outcome = runner.run_sync(on_display=self._on_display)
        self.parser.finish(0 if outcome.ok else (outcome.exit_code if outcome.exit_code not in (None, 0) else 1))
        return outcome

    def _on_stage(self, stage: str) -> None:
        self._flush(then=RebuildStage(stage))


def run_action(app: App, what: Callable[[], str | None], failure: str) -> None:
    """Run a short core action (revert, rollback, process restart/stop) and post what happened."""
    try:
        text = what()
    except OmniError as exc:
        app.post_message(ActionDone(f"{failure}: {exc}", error=True))
    except Exception as exc:
        app.post_message(ActionDone(f"{failure}: {type(exc).__name__}: {exc}", error=True))
    else:
        if text:
            app.post_message(ActionDone(text))


class ProcessLogFollower:
    """Reads the tail of one process's log through its backend every `interval_s` and posts it."""

    def __init__(self, app: App, backend: Any, name: str, interval_s: float = 0.5, lines: int = 500) -> None:
        self.app = app
        self.backend = backend
        self.name = name
        self.interval_s = interval_s
        self.lines = lines
        self.stop_event = threading.Event()

    def run(self) -> None:
        previous: list[str] | None = None
        while not self.stop_event.is_set():
            try:
                tail = list(self.backend.logs(self.name, lines=self.lines))
            except OmniError as exc:
                self.app.post_message(ProcessLogLines(self.name, (), error=str(exc)))
            else:
                if tail != previous:
                    self.app.post_message(ProcessLogLines(self.name, tuple(tail)))
                previous = tail
            self.stop_event.wait(self.interval_s)


NOTE_PREFIX = "# omni-tui: "


class RemoteRebuildFollower:
    """Follows, read-only, the log of a rebuild that another process holding the gate runs.

    The log is the newest `rebuild-*.log` written since the lock was taken (the one named after the
    holder's proposal when there is one); its lines go through `BuildLogParser` like our own rebuild's
    and are posted as `RebuildLines`. `stop_event` is set when the holder released the gate: what is
    left is read, then `RemoteRebuildEnded` is posted.
    """

    def __init__(self, app: App, logs_dir: Path, proposal_id: str | None, since: float, interval_s: float = 0.2) -> None:
        self.app = app
        self.logs_dir = logs_dir
        self.proposal_id = proposal_id
        self.since = since
        self.interval_s = interval_s
        self.stop_event = threading.Event()
        from omni_tui.core.buildlog import BuildLogParser

        self.parser = BuildLogParser()

    def find_log(self) -> Path | None:
        found: list[tuple[bool, float, Path]] = []
        try:
            paths = list(self.logs_dir.glob("rebuild-*.log"))
        except OSError:
            return None
        for path in paths:
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if mtime >= self.since - 2:  # written since the lock was taken (clocks in whole seconds)
                named = bool(self.proposal_id) and f"-{self.proposal_id}" in path.name
                found.append((named, mtime, path))
        return max(found)[2] if found else None

    def _display(self, line: str) -> list[str]:
        if line.startswith(NOTE_PREFIX):
            note = line[len(NOTE_PREFIX) :]
            if note.startswith("exit code ") and note[10:].lstrip("-").isdigit():
                self.parser.finish(int(note[10:]))  # the phase becomes done / failed, as for our own rebuild
            return [f"· {note}"]
        from omni_tui.core.buildlog import DisplayLine

        return [event.text for event in self.parser.feed(line) if isinstance(event, DisplayLine)]

    def run(self) -> None:
        path: Path | None = None
        offset, partial = 0, b""
        while True:
            ending = self.stop_event.is_set()
            if path is None:
                path = self.find_log()
                if path is not None:
                    self.app.post_message(RemoteRebuildLog(str(path)))
            if path is not None:
                try:
                    with open(path, "rb") as fh:
                        fh.seek(offset)
                        data = fh.read()
                except OSError:
                    data = b""
                offset += len(data)
                *complete, partial = (partial + data).split(b"\n")
                if ending and partial:
                    complete.append(partial)
                lines = [text for raw in complete for text in self._display(raw.decode("utf-8", "replace"))]
                if lines:
                    self.app.post_message(RebuildLines(tuple(lines), self.parser.progress))
            if ending:
                break
            self.stop_event.wait(self.interval_s)
        self.app.post_message(RemoteRebuildEnded(str(path) if path is not None else None))
