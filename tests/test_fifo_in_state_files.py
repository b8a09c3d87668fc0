"""A same-user agent puts a FIFO where omni-tui reads a file (a proposal, a decision, a guarded file): reading
it would block forever, and `status` (and the cockpit's workspace watch) with it. A file that is not a regular
file is refused like any unreadable file — never waited on. Plain file operations and `omni-tui` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TIMEOUT = 60  # an upper bound: a hang is the bug


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    return subprocess.run([sys.executable, "-m", "omni_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def proposes(project: Path) -> str:
    source = project.parent / "new.nix"
    source.write_text((project / "devenv.nix").read_text().replace("hello", "hi"))
    done = cli("propose", "devenv.nix", "--new-content", str(source), "--title", "t", "--why", "w", cwd=project)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def status_json(project: Path) -> dict[str, object]:
    done = cli("status", "--json", cwd=project)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict)
    return doc


def test_a_fifo_in_proposals_is_invalid_and_status_answers(project: Path) -> None:
    proposal_id = proposes(project)
    os.mkfifo(project / ".devenv" / "omni" / "proposals" / "20261204T120000Z-fifo00.json")
    doc = status_json(project)
    assert [p["id"] for p in doc["pending"]] == [proposal_id]  # type: ignore[index]


def test_a_fifo_as_a_decision_is_never_an_approval_and_status_answers(project: Path) -> None:
    proposal_id = proposes(project)
    os.mkfifo(project / ".devenv" / "omni" / "decisions" / f"{proposal_id}.json")
    doc = status_json(project)
    assert doc["gate"] != "clean"
    done = cli("wait", proposal_id, "--timeout", "1", cwd=project)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr


def test_a_fifo_as_the_audit_log_is_a_broken_chain_not_a_hang(project: Path) -> None:
    proposes(project)
    log = project / ".devenv" / "omni" / "audit.jsonl"
    log.unlink()
    os.mkfifo(log)
    done = cli("status", "--json", cwd=project)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode != 0 or json.loads(done.stdout)["gate"] != "clean"
    verify = cli("audit", "--verify", cwd=project)
    assert verify.returncode != 0 and "Traceback" not in verify.stderr, verify.stderr
    assert len(verify.stderr.strip().splitlines()) <= 1 and "audit" in (verify.stdout + verify.stderr)


def test_a_fifo_as_the_gate_lock_does_not_hang_status(project: Path) -> None:
    proposal_id = proposes(project)
    lock = project / ".devenv" / "omni" / "gate.lock"
    lock.unlink(missing_ok=True)
    os.mkfifo(lock)
    assert [p["id"] for p in status_json(project)["pending"]] == [proposal_id]  # type: ignore[index]
