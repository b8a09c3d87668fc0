"""Notifications where the person is, the pure part: the event model and its JSON, OSC 9 / OSC 777
desktop notifications through the terminal (tmux passthrough), which terminals say they show them,
and the rate limit of `[notify] command`.

Running the command (a subprocess with a timeout, off the UI thread) is `omni_tui.ui.notifier`'s job;
writing the bytes to the terminal is the app's. Agent text (titles, agent names) is plain data in the
JSON; in a terminal notification it is cut down to printable characters first, so no escape sequence,
control or bidi character an agent wrote ever reaches the person's terminal.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omni_tui.core.config import NOTIFY_EVENTS as EVENTS
from omni_tui.core.terminal import inert

# The words a notification opens with; the JSON keeps the identifiers above.
EVENT_TITLES = {
    "proposal": "omni-tui: proposal waiting",
    "rebuild_finished": "omni-tui: rebuild finished",
    "rebuild_failed": "omni-tui: rebuild FAILED",
    "stale": "omni-tui: proposal stale",
    "tampered": "omni-tui: TAMPERED",
}
# A notification bubble shows a line or two; a title an agent made 10 kB long is cut here.
TITLE_LIMIT = 60
BODY_LIMIT = 180

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"

# Terminals that show OSC 9 and/or OSC 777 as desktop notifications (and say who they are).
_OSC_TERM_PROGRAMS = frozenset({"iTerm.app", "WezTerm", "ghostty"})
_OSC_TERMS = frozenset({"xterm-kitty", "foot", "foot-extra", "xterm-ghostty", "wezterm"})
_OSC_HINTS = ("WT_SESSION", "KITTY_WINDOW_ID", "WEZTERM_PANE", "GHOSTTY_RESOURCES_DIR", "ITERM_SESSION_ID")


@dataclass(frozen=True)
class NotifyEvent:
    """One thing worth telling the person about. `card` is the change card's JSON when known."""

    event: str
    project: str
    proposal_id: str | None = None
    title: str | None = None
    agent: str | None = None
    card: Any = None

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise ValueError(f"unknown notification event {self.event!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "project": self.project,
            "proposal_id": self.proposal_id,
            "title": self.title,
            "agent": self.agent,
            "card": self.card,
        }

    def json_line(self) -> bytes:
        """The one JSON object a `[notify] command` reads on stdin (agent text as data, escaped by JSON)."""
        return (json.dumps(self.to_json(), ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")

    def headline(self) -> str:
        return EVENT_TITLES[self.event]

    def body(self) -> str:
        """`agent: title` (or what there is), for a desktop notification; not yet made inert."""
        parts = [p for p in (self.agent, self.title) if p]
        text = ": ".join(parts) if parts else (self.proposal_id or "")
        return f"{text} ({self.project})" if text else self.project


def printable(text: str, limit: int) -> str:
    """Agent text made inert for a terminal: `terminal.inert` shows every control and invisible format
    character escaped (ESC as `\\x1b`, bidi controls as `\\u202e`), line breaks become spaces, anything
    still not printable is dropped, `;` (the OSC field separator) replaced, cut to `limit` characters
    with an ellipsis."""
    out = []
    for ch in inert(" ".join(text.splitlines())):
        if ch in "\r\n\t":
            out.append(" ")
        elif ch == ";":
            out.append(",")
        elif ch.isprintable():
            out.append(ch)
    clean = " ".join("".join(out).split())
    if len(clean) > limit:
        clean = clean[: max(0, limit - 1)].rstrip() + "…"
    return clean


def osc9(body: str) -> str:
    """iTerm2's notification (also WezTerm, kitty, Ghostty, Windows Terminal): ESC ] 9 ; text ST."""
    return f"{ESC}]9;{printable(body, TITLE_LIMIT + BODY_LIMIT)}{ST}"


def osc777(title: str, body: str) -> str:
    """rxvt-unicode's notify extension (foot, WezTerm, Ghostty, kitty): ESC ] 777 ; notify ; title ; body ST."""
    return f"{ESC}]777;notify;{printable(title, TITLE_LIMIT)};{printable(body, BODY_LIMIT)}{ST}"


def tmux_passthrough(sequence: str) -> str:
    """Wrap an escape sequence so tmux hands it to the outer terminal: every ESC inside doubled
    (`allow-passthrough on` is needed in tmux ≥ 3.3)."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def terminal_sequences(event: NotifyEvent, env: Mapping[str, str]) -> str:
    """The bytes (as text) that raise a desktop notification for `event`: OSC 9 then OSC 777, each
    wrapped for tmux when $TMUX is set."""
    title = event.headline()
    body = event.body()
    sequences = [osc9(f"{title}: {printable(body, BODY_LIMIT)}"), osc777(title, body)]
    if env.get("TMUX"):
        sequences = [tmux_passthrough(seq) for seq in sequences]
    return "".join(sequences)


def terminal_supports_osc(env: Mapping[str, str]) -> bool:
    """Whether the terminal says it shows OSC 9 / 777 notifications. Inside tmux the variables of the
    outer terminal are often kept (TERM_PROGRAM, WT_SESSION, KITTY_WINDOW_ID); tmux's own TERM is not."""
    if env.get("TERM_PROGRAM") in _OSC_TERM_PROGRAMS:
        return True
    if env.get("TERM") in _OSC_TERMS:
        return True
    # iTerm2's LC_TERMINAL also crosses ssh (AcceptEnv LC_*): agents on a remote box still reach it.
    if env.get("LC_TERMINAL") == "iTerm2":
        return True
    # Windows Terminal, kitty, WezTerm, Ghostty and iTerm2 set these in every shell they start.
    return any(env.get(var) for var in _OSC_HINTS)


def osc_enabled(setting: str, env: Mapping[str, str]) -> bool:
    """`[notify] terminal`: "auto" (when the terminal says it can), "on", "off"."""
    if setting == "on":
        return True
    if setting == "off":
        return False
    return terminal_supports_osc(env)


@dataclass
class RateLimiter:
    """At most `limit` events in any `window_s` seconds; the rest are counted as dropped and the count
    is handed to the next event let through (so the person learns some were skipped)."""

    limit: int
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _times: deque[float] = field(default_factory=deque)
    dropped: int = 0

    def allow(self) -> tuple[bool, int]:
        """(let this one through?, how many were dropped since the last one let through)."""
        now = self.clock()
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()
        if self.limit <= 0 or len(self._times) >= self.limit:
            self.dropped += 1
            return False, 0
        self._times.append(now)
        dropped, self.dropped = self.dropped, 0
        return True, dropped


# -- one command run per event, however many cockpits are open -------------------------------------

CLAIMS_KEPT = 500  # more claim files than this: the ones older than a day are removed
_DAY_S = 86400.0


def event_key(event: NotifyEvent, now: float) -> str | None:
    """What makes two cockpits' events the same event: the proposal's id for `proposal` and `stale`;
    for `tampered` (no id) the ten minutes it happened in. None: only this cockpit sees it (its own
    rebuild), nothing to share."""
    if event.event in ("proposal", "stale") and event.proposal_id:
        return f"{event.event}:{event.proposal_id}"
    if event.event == "tampered":
        return f"tampered:{int(now // 600)}"
    return None


def claim(folder: Path, key: str, now: float) -> bool:
    """True for the first cockpit to claim `key` (an exclusive create in `folder`), False for the rest.
    When the folder cannot be written, True: a duplicate notification beats a missed one."""
    name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    except OSError:
        return True
    os.close(fd)
    _prune(folder, now)
    return True


def _prune(folder: Path, now: float) -> None:
    try:
        names = os.listdir(folder)
        if len(names) <= CLAIMS_KEPT:
            return
        for name in names:
            path = folder / name
            if now - path.stat().st_mtime > _DAY_S:
                path.unlink()
    except OSError:
        pass
