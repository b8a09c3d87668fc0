"""Atomic writes, backups, path confinement and file locks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from omni_tui.core import safefs
from omni_tui.core.errors import PathError
from omni_tui.core.safefs import atomic_write, confine, escape_name, file_lock, is_locked, read_backup, restore, unescape_name, write_backup


def test_atomic_write_replaces_content_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "devenv.nix"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["devenv.nix"]  # no temp file left
    fresh = tmp_path / "sub" / "new.nix"
    atomic_write(fresh, b"x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_bytes_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "devenv.nix"
    target.write_bytes(b"precious")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safefs.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, b"half")
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["devenv.nix"]


def test_restore_none_removes_the_file(tmp_path: Path) -> None:
    target = tmp_path / ".envrc"
    target.write_text("x")
    restore(target, None)
    assert not target.exists()
    restore(target, None)  # already gone: fine
    restore(target, b"back")
    assert target.read_bytes() == b"back"


def test_backups_round_trip_content_and_absence(tmp_path: Path) -> None:
    write_backup(tmp_path, "p1", "nix/devenv.nix", b"\x00binary\xff")
    write_backup(tmp_path, "p1", ".envrc", None)
    assert read_backup(tmp_path, "p1", "nix/devenv.nix") == (True, b"\x00binary\xff")
    assert read_backup(tmp_path, "p1", ".envrc") == (True, None)
    assert read_backup(tmp_path, "p1", "devenv.yaml") == (False, None)
    assert unescape_name(escape_name("a/b%c.nix")) == "a/b%c.nix" and "/" not in escape_name("a/b")


def test_confine(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "out").mkdir()
    (root / "esc").symlink_to(tmp_path / "out")
    (root / "inner").symlink_to(root / "sub")
    assert confine(root, "sub/devenv.nix") == root.resolve() / "sub" / "devenv.nix"
    assert confine(root, "./devenv.nix") == root.resolve() / "devenv.nix"
    for bad, message in [
        ("../x", "leaves the project root"),
        ("sub/../../x", "leaves the project root"),
        ("/etc/x", "absolute paths are not allowed"),
        ("esc/x", "path goes through a symlink"),
        ("inner/x", "path goes through a symlink"),
        ("a\x00b", "NUL byte"),
        (".", "not a file path"),
    ]:
        with pytest.raises(PathError, match=message):
            confine(root, bad)


HOLDER = """
import sys, time
from pathlib import Path
from omni_tui.core.safefs import file_lock
with file_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_file_lock_is_exclusive_across_processes(tmp_path: Path) -> None:
    lock = tmp_path / "gate.lock"
    assert not is_locked(lock)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"locked\n"
        assert is_locked(lock)
        with file_lock(lock, blocking=False) as fd:
            assert fd is None
    finally:
        assert proc.stdin is not None
        proc.stdin.write(b"\n")
        proc.stdin.close()
        proc.wait(timeout=60)
    assert not is_locked(lock)
    with file_lock(lock, blocking=False) as fd:
        assert fd is not None and is_locked(lock)
