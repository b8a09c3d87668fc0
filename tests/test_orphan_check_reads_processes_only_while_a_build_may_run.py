"""`status` (what agents poll) used to read every process's environment looking for an orphaned build.
Now `<state>/build.json` says whether a build may be running: without it nothing under /proc is read;
it is written before each spawn (so a build killed before its group was recorded is still found), and
it is gone after a build, a failed spawn, or once a dead writer's start is looked through and found empty."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from omni_tui.core import build_group
from omni_tui.core.build_group import BUILD_STATE_VAR, find_orphan, record_starting
from omni_tui.core.rebuild import RebuildRunner
from omni_tui.core.rebuild_mark import REBUILD_MARK


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_no_build_file_means_no_process_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_scan(*_args: object, **_kwargs: object) -> dict[int, str]:
        raise AssertionError("the processes were read although no build was recorded")

    monkeypatch.setattr(build_group, "_members", no_scan)
    assert find_orphan(tmp_path / "build.json") is None


def test_a_build_killed_before_its_group_was_recorded_is_still_found(tmp_path: Path) -> None:
    group_file = tmp_path / "build.json"
    record_starting(group_file, command="sleep 60", run_id="t")
    info = json.loads(group_file.read_text())
    group_file.write_text(json.dumps({**info, "owner_pid": _dead_pid()}))  # its writer died right after the spawn
    env = {**os.environ, REBUILD_MARK: "1", BUILD_STATE_VAR: str(tmp_path)}
    build = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    try:
        orphan = find_orphan(group_file)
        assert orphan is not None and orphan.pgid == build.pid and "sleep 60" in orphan.command
    finally:
        os.killpg(build.pid, signal.SIGKILL)
        build.wait()
    assert find_orphan(group_file) is None
    assert not group_file.exists()  # looked through, nothing found, its writer gone: forgotten


def test_a_live_writers_start_is_kept(tmp_path: Path) -> None:
    group_file = tmp_path / "build.json"
    record_starting(group_file, command="true", run_id="t")  # written by this (live) process
    assert find_orphan(group_file) is None
    assert group_file.exists()


def test_the_runner_leaves_no_build_file_after_a_build_or_a_failed_spawn(tmp_path: Path) -> None:
    group_file = tmp_path / "state" / "build.json"
    group_file.parent.mkdir()
    seen = tmp_path / "seen.json"
    runner = RebuildRunner(f"cat {group_file} > {seen}", cwd=tmp_path, logs_dir=tmp_path / "logs", group_file=group_file)
    assert runner.run_sync().ok
    assert json.loads(seen.read_text())["command"].startswith("cat ")  # recorded while it ran
    assert not group_file.exists()

    broken = RebuildRunner("true", cwd=tmp_path / "missing", logs_dir=tmp_path / "logs", group_file=group_file)
    outcome = broken.run_sync()
    assert not outcome.ok and outcome.exit_code is None
    assert not group_file.exists()
