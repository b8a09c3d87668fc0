"""Races and crashes lose nothing: an edit saved while an approve validates is never written over (the
proposal goes stale, the edit stays); a build left running by a process killed mid-rebuild is found,
stopped and reported before another one starts; an apply that fails for lack of space is a failed
apply with its cause, audited; a rollback of an interrupted apply keeps the cause."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from omni_tui.core.gate import Gate
from omni_tui.core.proposals import EXIT_CODES, ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.safefs import is_locked
from omni_tui.core.workspace import Workspace


@pytest.fixture
def ws(project: Path) -> Workspace:
    return Workspace.open(project)


def ok_step() -> RebuildOutcome:
    return RebuildOutcome(0, 0.01, None, ("built",))


def _propose(ws: Workspace, title: str = "Add ripgrep") -> str:
    text = (ws.root / "devenv.nix").read_text().replace("pkgs.jq ]", "pkgs.jq pkgs.ripgrep ]")
    return ProposalStore(ws).create({"devenv.nix": text}, title=title, rationale="search", agent="claude").id


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def _wait(condition, what: str, timeout_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# -- an edit saved while the approval validates ------------------------------------------------------


def test_an_edit_saved_as_soon_as_the_lock_is_held_is_never_written_over(tmp_path: Path, project: Path) -> None:
    original = (project / "devenv.nix").read_text()
    for run in range(8):
        root = tmp_path / f"run{run}"
        root.mkdir()
        (root / "devenv.nix").write_text(original)
        ws = Workspace.open(root)
        proposal_id = _propose(ws)
        mine = original.replace("hello", f"hello from my editor, run {run}")
        started = threading.Event()

        def save_when_locked(started: threading.Event, lock: Path, target: Path, mine: str) -> None:
            started.set()
            deadline = time.monotonic() + 30
            while not is_locked(lock) and time.monotonic() < deadline:
                pass
            target.write_text(mine)  # a person's editor saving, as soon as the approve holds the lock

        writer = threading.Thread(target=save_when_locked, args=(started, ws.paths.lock, root / "devenv.nix", mine))
        writer.start()
        started.wait()
        decision = Gate(ws, who="alice").approve(proposal_id, rebuild=ok_step)
        writer.join()
        assert (root / "devenv.nix").read_text() == mine, f"run {run}: the edit saved meanwhile was lost ({decision.status})"
        if decision.status == "stale":
            assert "devenv.nix changed" in (decision.reason or "")
            assert any(e.get("event") == "stale" and e.get("proposal_id") == proposal_id for e in ws.audit.entries())
        else:  # saved after the rename: the edit wins on disk and is an unapproved edit a person sees
            assert decision.status == "applied"
            assert Gate(ws).state().unapproved == ("devenv.nix",)


# -- no space left on device -------------------------------------------------------------------------


@pytest.mark.parametrize("seam", ["atomic_write", "write_backup"])
def test_an_apply_that_runs_out_of_space_is_a_failed_apply_with_its_cause(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, seam: str
) -> None:
    import omni_tui.core.gate.decisions as gate_module
    from omni_tui.agents.outcome import explain

    proposal_id = _propose(ws)
    before = (ws.root / "devenv.nix").read_bytes()
    real = getattr(gate_module, seam)

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        target = str(args[0])
        if seam == "write_backup" or target.endswith("devenv.nix"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
        return real(*args, **kwargs)

    monkeypatch.setattr(gate_module, seam, full)
    decision = Gate(ws, who="alice").approve(proposal_id, rebuild=ok_step)
    monkeypatch.setattr(gate_module, seam, real)
    assert decision.status == "failed"
    assert decision.reason is not None and decision.reason.startswith("apply failed:"), decision.reason
    assert "No space left on device" in decision.reason and "rebuild" not in decision.reason
    assert (ws.root / "devenv.nix").read_bytes() == before
    assert ProposalStore(ws).decision(proposal_id).status == "failed"  # not stuck in `applying`
    entry = [e for e in ws.audit.entries() if e.get("proposal_id") == proposal_id][-1]
    assert entry["event"] == "failed" and "No space left on device" in entry["reason"]
    assert Gate(ws).state().failed is None  # nothing was changed: no rollback to offer
    message = explain(decision, "devenv.nix")
    assert "could not be written" in message and "rebuild failed" not in message
    assert EXIT_CODES[decision.status] == 11


# -- a process killed mid-rebuild ----------------------------------------------------------------------


# The first build sleeps; a later one records whether the first still ran beside it (a zombie does not run).
SLEEPER = (
    "if [ -f first.pid ]; then p=$(cat first.pid); "
    "if [ -r /proc/$p/stat ] && [ \"$(cut -d' ' -f3 /proc/$p/stat)\" != Z ]; then echo beside > beside.txt; fi; "
    "echo second > second.txt; else echo $$ > first.pid; exec sleep 120; fi"
)


def _cli(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "omni_tui", "-C", str(project), *args]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DEVENV_ROOT", "DEVENV_DOTFILE")}


@pytest.fixture
def sleeper_project(project: Path):  # type: ignore[no-untyped-def]
    (project / "omni-tui.toml").write_text(f"[rebuild]\ncommand = {json.dumps(SLEEPER)}\n")
    Workspace.open(project)
    yield project
    pid_file = project / "first.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)


def test_a_headless_rebuild_killed_mid_build_leaves_no_second_build_beside_its_orphan(sleeper_project: Path) -> None:
    project = sleeper_project
    first = subprocess.Popen(_cli(project, "rebuild"), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(lambda: (project / "first.pid").exists() and (project / "first.pid").read_text().strip() != "", "the first build to start")
    build_pid = int((project / "first.pid").read_text())
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert _alive(build_pid)  # the build outlives the process that started it

    status = subprocess.run(_cli(project, "status", "--json", "--no-nix"), env=_env(), capture_output=True, text=True, timeout=60)
    orphan = json.loads(status.stdout)["orphan"]
    assert orphan is not None and orphan["pgid"] == build_pid

    second = subprocess.run(_cli(project, "rebuild"), env=_env(), capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "stopped an orphaned rebuild" in second.stderr and f"process group {build_pid}" in second.stderr
    assert (project / "second.txt").exists()
    assert not (project / "beside.txt").exists(), "a second build ran beside the orphaned one"
    assert not _alive(build_pid)
    assert any(e["event"] == "orphan_stopped" for e in Workspace.open(project).audit.entries())


APPROVER = textwrap.dedent("""
    import sys
    from omni_tui.core.gate import Gate
    from omni_tui.core.rebuild import runner_for
    from omni_tui.core.workspace import Workspace
    ws = Workspace.open(sys.argv[1])
    Gate(ws, who="alice").approve(sys.argv[2], rebuild=lambda: runner_for(ws).run_sync(lambda line: None))
""")


def test_a_rollback_after_a_cockpit_died_mid_rebuild_stops_the_orphan_and_keeps_the_cause(sleeper_project: Path) -> None:
    project = sleeper_project
    ws = Workspace.open(project)
    original = (project / "devenv.nix").read_bytes()
    proposal_id = _propose(ws)
    cockpit = subprocess.Popen([sys.executable, "-c", APPROVER, str(project), proposal_id], env=_env())
    _wait(lambda: (project / "first.pid").exists() and (project / "first.pid").read_text().strip() != "", "the build to start")
    build_pid = int((project / "first.pid").read_text())
    cockpit.send_signal(signal.SIGKILL)  # the cockpit's process, mid-rebuild
    cockpit.wait(timeout=30)

    gate = Gate(ws, who="bob")
    state = gate.state()
    assert state.failed is not None and state.failed.interrupted
    assert gate.orphan() is not None
    decision = gate.rollback(proposal_id)
    assert not _alive(build_pid)
    assert "interrupted while rebuilding" in (decision.reason or "")
    assert "orphaned build" in (decision.reason or "") and str(build_pid) in (decision.reason or "")
    assert (project / "devenv.nix").read_bytes() == original
    assert any("stopped an orphaned rebuild" in n for n in gate.notices)
