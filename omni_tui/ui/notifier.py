"""Telling the person about events (a new proposal, a rebuild finished or failed, stale, tampered)
wherever they are: the bell, a desktop notification through the terminal (OSC 9 / OSC 777, through
tmux), and `[notify] command` with the event's JSON on stdin.

The app calls `Notifier.event(...)` on its own thread; nothing here blocks it. The command runs on one
worker thread, one event at a time, with a timeout (its process group is killed when it overruns);
events over the rate limit are dropped and counted; a failing command is reported once as a toast
(and again only after it has worked in between). The pure parts are `omni_tui.core.notify`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from omni_tui.core.config import NotifyConfig
from omni_tui.core.notify import NotifyEvent, RateLimiter, osc_enabled, terminal_sequences

QUEUE_LIMIT = 32


def run_notify_command(command: str, event: NotifyEvent, *, cwd: Path, timeout_s: float, dropped: int = 0) -> str | None:
    """Run `command` (a shell command line) with the event's JSON on stdin; None when it worked, else
    one line saying why not. A command still running after `timeout_s` is killed with its children."""
    payload = event.to_json()
    if dropped:
        payload["dropped_before"] = dropped
    data = (json.dumps(payload, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
    env = dict(os.environ)
    env["OMNI_TUI_EVENT"] = event.event
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        return f"cannot start it: {exc.strerror or exc}"
    try:
        _, err = proc.communicate(data, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        return f"still running after {timeout_s:g} s; stopped"
    if proc.returncode != 0:
        first = next((line for line in err.decode("utf-8", "replace").splitlines() if line.strip()), "")
        return f"exit {proc.returncode}" + (f": {first[:200]}" if first else "")
    return None


class Notifier:
    """One cockpit's notifications. `write_terminal` writes escape sequences to the real terminal;
    `report` shows a one-line problem to the person (from any thread)."""

    def __init__(
        self,
        config: NotifyConfig,
        *,
        root: Path,
        env: Mapping[str, str],
        via: str,
        ring_bell: Callable[[], None],
        write_terminal: Callable[[str], None],
        report: Callable[[str], None],
        claim: Callable[[NotifyEvent], bool] | None = None,
    ) -> None:
        self.config = config
        self.root = root
        self.env = dict(env)
        self.ring_bell = ring_bell
        self.write_terminal = write_terminal
        self.report = report
        # Several cockpits on one project see the same proposal: only the first to claim it runs the command.
        self.claim = claim
        # In a browser (xterm.js) OSC notifications go nowhere: only "on" forces them there.
        self.osc = osc_enabled(config.terminal, env) and (via != "web" or config.terminal == "on")
        self.limiter = RateLimiter(config.max_per_minute, 60.0)
        self._queue: queue.Queue[tuple[NotifyEvent, int, Callable[[], Any] | None] | None] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._thread: threading.Thread | None = None
        self._failing = False
        self.sent: list[dict[str, Any]] = []  # what went out (tests and `status`), newest last, capped

    def event(self, event: NotifyEvent, *, bell: bool = True, card: Callable[[], Any] | None = None) -> None:
        """`card` builds the change card's JSON for the command, on the command's thread (only then)."""
        if event.event not in self.config.events:
            return
        if bell and self.config.bell:
            self.ring_bell()
        allowed, dropped = self.limiter.allow()
        if not allowed:
            return
        if self.osc:
            self.write_terminal(terminal_sequences(event, self.env))
        if self.config.command:
            self._start()
            try:
                self._queue.put_nowait((event, dropped, card))
            except queue.Full:
                pass
        self.sent.append(event.to_json())
        del self.sent[:-50]

    def stop(self) -> None:
        if self._thread is not None:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="omni-tui notify command", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        command = self.config.command
        assert command is not None
        while True:
            item = self._queue.get()
            if item is None:
                return
            event, dropped, card = item
            if self.claim is not None and not self.claim(event):
                continue
            if card is not None and event.card is None:
                try:
                    event = dataclasses.replace(event, card=card())
                except Exception:  # noqa: BLE001 — the event goes out without its card rather than not at all
                    pass
            problem = run_notify_command(command, event, cwd=self.root, timeout_s=self.config.timeout_s, dropped=dropped)
            if problem is None:
                self._failing = False
            elif not self._failing:
                self._failing = True
                self.report(f"[notify] command failed ({problem}); further failures are not shown until it works again")
