"""Change cards for the cockpit: computed in a worker thread, once per content hash, never on the UI thread.

`CardBook.get(pairs)` answers at once — the card when it is known, else `None` and a note
("computing…") after starting a worker; the worker posts `CardReady`, the app hands it to
`CardBook.landed` and redraws what shows cards (the detail, the Changes panel, the approve modal).
A policy refusal (`[policy] refuse`) of a proposal that reached the queue without going through
`omni-tui propose` / MCP / a hook (e.g. a file written straight into proposals/) also runs here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import partial
from typing import Any

from textual.app import App
from textual.message import Message

from omni_tui.core.card import Card, FilePair, cached_card
from omni_tui.core.card.diff import card_key

COMPUTING = "computing…"
_KEEP = 128


class CardReady(Message):
    """A change card was computed (or could not be: `error`) for the contents hashing to `key`."""

    # A hand-written __init__, as the cockpit's other messages: a dataclass costs ≈ 0.5 ms to create
    # (its methods compiled at import), before the first frame.
    def __init__(self, key: bytes, card: Card | None, error: str | None = None) -> None:
        super().__init__()
        self.key = key
        self.card = card
        self.error = error


def compute_card(app: App[Any], key: bytes, pairs: tuple[FilePair, ...]) -> None:
    """Worker: the card of `pairs` (cached per content hash in core as well), posted to the app."""
    try:
        card = cached_card(pairs)
    except Exception as exc:  # noqa: BLE001 - hostile bytes must never take the cockpit down
        app.post_message(CardReady(key, None, f"{type(exc).__name__}: {exc}"[:200]))
    else:
        app.post_message(CardReady(key, card))


def refuse_by_policy(app: App[Any], gate: Any, proposal_id: str) -> None:
    """Worker: reject a pending proposal at once when `[policy] refuse` matches its card (never approves)."""
    try:
        decision = gate.refuse_by_policy(proposal_id)
    except Exception:  # noqa: BLE001 - the proposal stays pending for the person; approve re-checks the policy
        return
    if decision is not None:
        app.call_from_thread(
            app.notify, decision.reason or "refused by policy", title=f"Refused by policy: {proposal_id}", severity="warning"
        )


def pairs_of(files: Sequence[tuple[str, str | None, str | None]]) -> tuple[FilePair, ...]:
    """(path, before text, after text) → the card's input (texts as the cockpit read them, UTF-8)."""
    return tuple(
        FilePair(path, before.encode("utf-8") if before is not None else None, after.encode("utf-8") if after is not None else None)
        for path, before, after in files
    )


class CardBook:
    """The cards the cockpit has, and the ones being computed (see the module docstring)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.cards: OrderedDict[bytes, Card | str] = OrderedDict()  # str: why it could not be computed
        self.running: set[bytes] = set()
        self.refusing: set[str] = set()  # proposal ids already handed to the policy worker

    def get(self, pairs: tuple[FilePair, ...]) -> tuple[Card | None, str]:
        """(card, "") when known; (None, note) otherwise — a worker is started when none runs for it."""
        key = card_key(pairs)
        known = self.cards.get(key)
        if isinstance(known, Card):
            return known, ""
        if isinstance(known, str):
            return None, f"could not be computed ({known})"
        if key not in self.running:
            self.running.add(key)
            # Started once the screen has been refreshed: the worker holds the GIL for most of its
            # 10-80 ms, and the frame that asked for the card (a write's new diff) comes first.
            work = partial(compute_card, self.app, key, pairs)
            self.app.call_after_refresh(self.app.run_worker, work, thread=True, group="card", exit_on_error=False)
        return None, COMPUTING

    def landed(self, message: CardReady) -> None:
        self.running.discard(message.key)
        self.cards[message.key] = message.card if message.card is not None else (message.error or "unknown error")
        while len(self.cards) > _KEEP:
            self.cards.popitem(last=False)

    def refuse(self, gate: Any, proposal_id: str) -> None:
        """Apply `[policy] refuse` to a pending proposal once, in a worker."""
        if proposal_id in self.refusing:
            return
        self.refusing.add(proposal_id)
        self.app.run_worker(partial(refuse_by_policy, self.app, gate, proposal_id), thread=True, group="policy", exit_on_error=False)
