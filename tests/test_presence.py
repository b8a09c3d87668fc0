"""Who has a cockpit open on the project: each cockpit announces itself in `<state>/presence/`, the
others are read by a worker and shown in the header (`also open: bob (web)`), so a pair sees each
other; cockpits that are gone (killed, pid reused) are not shown; names are hostile text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import cockpit, open_workspace, screen_text, wait_for

from omni_tui.core.presence import announce, leave, presence_dir, present
from omni_tui.core.workspace import Workspace


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing in for another person's cockpit (its pid is what the registry checks)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc
    proc.kill()
    proc.wait()


def test_announced_cockpits_are_present_until_they_leave(tmp_path: Path, other_process: subprocess.Popen[bytes]) -> None:
    announce(tmp_path, "alice", "terminal")
    theirs = announce(tmp_path, "bob", "web", pid=other_process.pid)
    assert [(p.who, p.via) for p in present(tmp_path)] == [("alice", "terminal"), ("bob", "web")]
    assert [p.who for p in present(tmp_path, exclude_pid=os.getpid())] == ["bob"]
    leave(theirs)
    assert [p.who for p in present(tmp_path)] == ["alice"]


def test_a_cockpit_that_was_killed_is_not_shown_and_its_file_is_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = announce(tmp_path, "ghost", "web", pid=dead.pid)
    assert present(tmp_path) == []
    assert not path.exists()


def test_a_reused_pid_is_not_taken_for_the_cockpit_that_wrote_the_file(tmp_path: Path, other_process: subprocess.Popen[bytes]) -> None:
    path = announce(tmp_path, "old", "terminal", pid=other_process.pid)
    doc = json.loads(path.read_text())
    doc["started"] = doc["started"] - 3600  # the file's cockpit started an hour before this process
    path.write_text(json.dumps(doc))
    assert present(tmp_path) == []


def test_junk_in_the_registry_is_ignored(tmp_path: Path, other_process: subprocess.Popen[bytes]) -> None:
    folder = presence_dir(tmp_path)
    folder.mkdir(parents=True)
    pid = other_process.pid
    (folder / f"{pid}.json").write_text("not json")
    (folder / "notes.txt").write_text("hi")
    (folder / "0.json").write_text(json.dumps({"pid": 0, "who": "x", "via": "web", "since": "t"}))
    (folder / "1.json").write_text(json.dumps({"pid": 1, "who": "x", "via": "carrier pigeon", "since": "t"}))
    assert present(tmp_path) == []


async def test_the_header_shows_who_else_has_a_cockpit_open_with_names_made_inert(
    project: Path, other_process: subprocess.Popen[bytes]
) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, who="alice")
    async with app.run_test(size=(120, 34)) as pilot:
        mine = presence_dir(ws.paths.state) / f"{os.getpid()}.json"
        await wait_for(pilot, mine.exists, what="this cockpit's presence file")
        assert json.loads(mine.read_text())["who"] == "alice"
        theirs = announce(ws.paths.state, "bob\x1b[2J\u202e", "web", pid=other_process.pid)
        await wait_for(pilot, lambda: "also open: bob\\x1b[2J\\u202e (web)" in screen_text(app), what="bob in the header")
        assert "alice (" not in screen_text(app).splitlines()[0]  # not itself
        other_process.kill()
        other_process.wait()
        await wait_for(pilot, lambda: "also open" not in screen_text(app), what="bob gone from the header")
        assert not theirs.exists()
    assert not mine.exists()  # left when it quit


def test_two_cockpits_on_one_project_see_each_other(project: Path, tmp_path: Path) -> None:
    """Through the registry only: a terminal cockpit and a browser session's (`OMNI_TUI_VIA=web`)."""
    ws = Workspace.open(project)
    code = (
        "import sys, time; from pathlib import Path; from omni_tui.core.presence import announce;"
        "announce(Path(sys.argv[1]), sys.argv[2], sys.argv[3]); print('ready', flush=True); time.sleep(600)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(ws.paths.state), who, via], stdout=subprocess.PIPE)
        for who, via in (("alice", "terminal"), ("bob", "web"))
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        seen_by_alice = present(ws.paths.state, exclude_pid=procs[0].pid)
        seen_by_bob = present(ws.paths.state, exclude_pid=procs[1].pid)
        assert [(p.who, p.via) for p in seen_by_alice] == [("bob", "web")]
        assert [(p.who, p.via) for p in seen_by_bob] == [("alice", "terminal")]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
