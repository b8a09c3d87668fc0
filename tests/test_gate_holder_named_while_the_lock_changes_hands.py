"""Who holds the gate, read at the instants the lock is taken or let go.

A holder writes its name into the lock file just after taking the lock, and clears it just before
letting go. Read in between, the lock was held by "nobody known": a cockpit then showed its own
approval's rebuild as "rebuild — in another cockpit; following its log (read-only)" (seen in a full
run of the suite). The lock file is in the state folder, which an agent running as the person can
write: whatever is in it names no holder it cannot be, and crashes nothing."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from omni_tui.core.gate import Gate
from omni_tui.core.workspace import Workspace


@pytest.fixture
def gate(project: Path) -> Gate:
    return Gate(Workspace.open(project), who="alice")


def hold(lock: Path) -> int:
    """Take the gate lock from another descriptor, as another process would, writing nothing yet."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def after_first_read(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """Run `then` (the other process's next step) right after the gate's first look at the lock file."""
    from omni_tui.core.gate import lock

    read = lock._lock_info
    calls = []

    def once(path: Path) -> dict[str, object]:
        info = read(path)
        calls.append(path)
        if len(calls) == 1:
            then()
        return info

    monkeypatch.setattr(lock, "_lock_info", once)


def test_a_holder_that_writes_its_name_just_after_taking_the_lock_is_named(gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    fd = hold(gate.ws.paths.lock)
    info = {"pid": 4242, "action": "approve", "proposal_id": "p-1", "who": "bob", "since": "2026-12-04T22:40:00Z"}
    after_first_read(monkeypatch, lambda: os.pwrite(fd, json.dumps(info).encode(), 0) and None)
    try:
        holder = gate.holder()
    finally:
        os.close(fd)
    assert holder is not None
    assert (holder.pid, holder.action, holder.proposal_id, holder.who) == (4242, "approve", "p-1", "bob")
    assert holder.describe() == "approve of p-1 by bob (pid 4242)"


def test_a_lock_let_go_while_it_is_read_has_no_holder(gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    fd = hold(gate.ws.paths.lock)  # held, and already cleared: the holder is letting go
    after_first_read(monkeypatch, lambda: os.close(fd))
    assert gate.holder() is None


def test_a_lock_held_with_nothing_written_is_an_unknown_holder(gate: Gate) -> None:
    fd = hold(gate.ws.paths.lock)
    try:
        holder = gate.holder()
    finally:
        os.close(fd)
    assert holder is not None and holder.pid is None and holder.describe() == "rebuild"
    assert gate.holder() is None  # let go: nobody


@pytest.mark.parametrize(
    "content",
    [
        b"[1, 2, 3]",
        b'"approve"',
        b'{"pid": "4242", "action": 7, "proposal_id": ["x"], "who": {"a": 1}, "since": 3}',
        b'{"pid": true, "action": "approve"}',
        b"\xff\xfe not json",
        b"[" * 100_000,
    ],
    ids=["a list", "a string", "wrong types", "a boolean pid", "not text", "nested deeply"],
)
def test_whatever_an_agent_writes_into_the_lock_file_names_no_holder_it_cannot_be(gate: Gate, content: bytes) -> None:
    fd = hold(gate.ws.paths.lock)
    try:
        os.pwrite(fd, content, 0)
        holder = gate.holder()
        state = gate.state()
    finally:
        os.close(fd)
    assert holder is not None and holder.pid is None and holder.proposal_id is None and holder.who is None
    assert isinstance(holder.action, str) and isinstance(holder.describe(), str)
    assert state.kind == "rebuilding" and state.holder == holder
