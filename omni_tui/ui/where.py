"""Where the person is, for the cockpit: who else has a cockpit open on the project (the presence
registry, polled by a worker thread → `PresenceChanged`) and the notifications the app's events raise
(`Notifier`: bell, OSC 9/777, `[notify] command`).

The app owns one `WhereThePersonIs`: it calls `start()` once the first frame is drawn, `stop()` when it
unmounts, `seed` with the first read of the proposals and `proposals_changed` with every later one
(new and stale proposals), `rebuild_ended` and `gate_kind` (tampered).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.message import Message

# The notifier (its rate limiter, queue and command thread) and the presence registry are first used
# after the cockpit's first frame (an event, `start()`): imported then (≈ 3 ms of the start-up).
if TYPE_CHECKING:
    from omni_tui.core.notify import NotifyEvent
    from omni_tui.core.presence import Presence
    from omni_tui.ui.notifier import Notifier

POLL_S = 1.0


class PresenceChanged(Message):
    """The other cockpits open on the project changed (oldest first)."""

    def __init__(self, others: tuple[Presence, ...]) -> None:
        super().__init__()
        self.others = others


def card_of(ws: Any, proposal: Any) -> Any:
    """The change card's JSON for a proposal (None when it cannot be built: the event still goes out)."""
    from omni_tui.core.card.project import proposal_card

    try:
        return proposal_card(ws, proposal).to_json()
    except Exception:  # noqa: BLE001 — a notification never fails for want of a card
        return None


class WhereThePersonIs:
    def __init__(self, app: App[Any], ws: Any, *, who: str, via: str, env: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.ws = ws
        self.who = who
        self.via = via
        self.stop_event = threading.Event()
        self._presence_file: Path | None = None
        self._last: tuple[Presence, ...] = ()  # nobody else: nothing to post
        self._thread: threading.Thread | None = None
        self._tampered = False
        self._statuses: dict[str, str] | None = None
        self._env = dict(os.environ if env is None else env)  # as the cockpit started, for the notifier

    @cached_property
    def notifier(self) -> Notifier:
        """Bell, OSC 9/777 and the `[notify] command`: made by the first event (or a look)."""
        from omni_tui.ui.notifier import Notifier

        return Notifier(
            self.ws.config.notify,
            root=self.ws.root,
            env=self._env,
            via=self.via,
            ring_bell=self.app.bell,
            write_terminal=self._write_terminal,
            report=self._report,
            claim=self._claim,
        )

    # -- presence -------------------------------------------------------------------------------

    def start(self) -> None:
        from omni_tui.core.presence import announce

        try:
            self._presence_file = announce(self.ws.paths.state, self.who, self.via)
        except OSError:
            self._presence_file = None  # a read-only state dir: others just do not see this cockpit
        # A plain daemon thread rather than a Textual worker: it lives as long as the cockpit, and a
        # worker that never ends would read as "busy" to everything waiting for the app to settle.
        self._thread = threading.Thread(target=self._poll, name="omni-tui presence", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if "notifier" in self.__dict__:  # made (cached_property): a notifier never made has nothing to stop
            self.notifier.stop()
        if self._presence_file is not None:
            from omni_tui.core.presence import leave

            leave(self._presence_file)
            self._presence_file = None

    def _poll(self) -> None:
        from omni_tui.core.presence import present

        me = os.getpid()
        while not self.stop_event.is_set():
            try:
                others = tuple(present(self.ws.paths.state, exclude_pid=me))
            except OSError:
                others = ()
            if others != self._last:
                self._last = others
                self.app.post_message(PresenceChanged(others))  # thread-safe in Textual
            self.stop_event.wait(POLL_S)

    # -- events ---------------------------------------------------------------------------------

    def _event(self, event: str, proposal: Any = None, *, bell: bool = True) -> None:
        from omni_tui.core.notify import NotifyEvent

        self.notifier.event(
            NotifyEvent(
                event,
                str(self.ws.root),
                proposal_id=getattr(proposal, "id", None),
                title=getattr(proposal, "title", None),
                agent=getattr(proposal, "agent", None),
            ),
            bell=bell,
            # Built on the command's thread, only when there is a command (a card can take a while).
            card=partial(card_of, self.ws, proposal) if getattr(proposal, "changes", None) else None,
        )

    def seed(self, entries: Iterable[Any]) -> None:
        """The proposals as the cockpit first read them: nothing in them is news."""
        self._statuses = {entry.proposal.id: entry.status for entry in entries}

    def proposals_changed(self, entries: Iterable[Any]) -> None:
        """A new read of the proposals (`ProposalEntry`s): a proposal not seen before and pending, or one
        that went stale since the last read, is an event."""
        entries = list(entries)
        before = self._statuses
        self._statuses = {entry.proposal.id: entry.status for entry in entries}
        if before is None:
            return
        for entry in entries:
            previous = before.get(entry.proposal.id)
            if entry.status == "pending" and previous is None:
                # The cockpit rings the bell for a new proposal itself (with its toast).
                self._event("proposal", entry.proposal, bell=False)
            elif entry.status == "stale" and previous not in (None, "stale"):
                self._event("stale", entry.proposal, bell=False)

    def rebuild_ended(self, ok: bool, proposal: Any = None) -> None:
        self._event("rebuild_finished" if ok else "rebuild_failed", proposal, bell=not ok)

    def gate_kind(self, kind: str) -> None:
        tampered = kind == "tampered"
        if tampered and not self._tampered:
            self._event("tampered", bell=True)
        self._tampered = tampered

    # -- output ---------------------------------------------------------------------------------

    def _write_terminal(self, sequences: str) -> None:
        driver = getattr(self.app, "_driver", None)
        if driver is None or self.app.is_headless:
            return
        driver.write(sequences)
        driver.flush()

    def _claim(self, event: NotifyEvent) -> bool:
        """Run on the command's thread: is this cockpit the one to run the command for `event`?"""
        from omni_tui.core.notify import claim, event_key

        now = time.time()
        key = event_key(event, now)
        return key is None or claim(self.ws.paths.state / "notified", key, now)

    def _report(self, text: str) -> None:
        try:
            self.app.call_from_thread(self.app.notify, text, severity="warning", timeout=10)
        except RuntimeError:  # the cockpit is closing: nobody left to tell
            pass
