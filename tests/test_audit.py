"""The hash-chained audit log: entries, concurrent appends, and the verifier's diagnoses."""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from omni_tui.core.audit import FIELDS, GENESIS, AuditLog
from omni_tui.core.errors import AuditError


def make_log(tmp_path: Path, count: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    for index in range(count):
        log.append(
            "proposed",
            who=f"agent-{index}",
            proposal_id=f"p{index}",
            reason=f"change {index}",
            sha256_before={"devenv.nix": None},
            sha256_after={"devenv.nix": "ab" * 32},
        )
    return log


def lines_of(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines(keepends=True)


def test_entries_carry_every_field_and_chain(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    raw = log.path.read_bytes().splitlines()
    entries = [json.loads(line) for line in raw]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert all(tuple(k for k in e if k != "via") == FIELDS for e in entries)
    assert all(e["via"] == "terminal" for e in entries)
    assert entries[0]["prev"] == GENESIS
    assert entries[1]["prev"] == hashlib.sha256(raw[0]).hexdigest()
    assert entries[2]["prev"] == hashlib.sha256(raw[1]).hexdigest()
    assert entries[2]["time"].endswith("Z") and entries[2]["who"] == "agent-2"
    assert log.verify().ok and log.verify().entries == 3
    assert log.entries() == entries


def test_changed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    lines = lines_of(log)
    lines[2] = lines[2].replace("change 2", "change 9")
    log.path.write_text("".join(lines))
    result = log.verify()
    assert not result.ok and result.bad_line == 3 and result.problem == "changed"
    assert "line 3: changed" in result.describe(log.path)


def test_changed_last_line_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    lines = lines_of(log)
    lines[-1] = lines[-1].replace("agent-4", "agent-x")
    log.path.write_text("".join(lines))
    result = log.verify()
    assert (result.ok, result.bad_line, result.problem) == (False, 5, "changed")


def test_removed_line_is_reported(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    lines = lines_of(log)
    del lines[1]
    log.path.write_text("".join(lines))
    result = log.verify()
    assert (result.ok, result.bad_line, result.problem) == (False, 2, "removed")


def test_removed_last_line_is_reported(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    log.path.write_text("".join(lines_of(log)[:-1]))
    result = log.verify()
    assert (result.ok, result.problem) == (False, "removed")


def test_reordered_lines_are_reported(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    lines = lines_of(log)
    lines[1], lines[2] = lines[2], lines[1]
    log.path.write_text("".join(lines))
    result = log.verify()
    assert (result.ok, result.bad_line, result.problem) == (False, 2, "reordered")


def test_garbage_line_is_reported_as_changed(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    lines = lines_of(log)
    lines[0] = "not json\n"
    log.path.write_text("".join(lines))
    result = log.verify()
    assert (result.ok, result.bad_line, result.problem) == (False, 1, "changed")


def test_append_after_a_corrupt_last_line_refuses(tmp_path: Path) -> None:
    log = make_log(tmp_path, 1)
    with log.path.open("a") as handle:
        handle.write("garbage\n")
    with pytest.raises(AuditError, match="not an audit entry"):
        log.append("x", who="y")


def test_a_line_being_appended_is_not_read_as_a_changed_entry(tmp_path: Path) -> None:
    """A reader (a cockpit, an agent's `status`) can see part of an append: while the writer holds the
    lock, that unfinished last line is not an entry yet; the log before it verifies."""
    log = make_log(tmp_path, 3)
    whole = log.path.read_bytes()
    with log.path.open("ab") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)  # as `append` holds it
        writer.write(b'{"seq":4,"time":"2026-12-')
        writer.flush()
        assert log.verify().ok and log.verify().entries == 3
        assert [e["seq"] for e in log.entries()] == [1, 2, 3]
    assert log.path.read_bytes().startswith(whole)


def test_an_unfinished_last_line_no_writer_is_adding_to_is_reported(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    with log.path.open("ab") as handle:
        handle.write(b'{"seq":4,"time":"2026-12-')
    result = log.verify()
    assert (result.ok, result.bad_line, result.problem) == (False, 4, "changed")


APPENDER = """
import sys
from omni_tui.core.audit import AuditLog
log = AuditLog(sys.argv[1])
for i in range(40):
    log.append("tick", who=sys.argv[2], reason=str(i))
"""


def test_concurrent_appends_from_several_processes_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(path), f"w{i}"]) for i in range(4)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    log = AuditLog(path)
    result = log.verify()
    assert result.ok, result.describe(path)
    assert result.entries == 160
    assert [e["seq"] for e in log.entries()] == list(range(1, 161))
