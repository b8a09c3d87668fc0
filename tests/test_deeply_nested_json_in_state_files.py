"""A same-user agent writes deeply nested JSON (`[[[[…`, 100,000 levels) into the files of the state directory.
Python's json raises RecursionError (not ValueError) on it: every reader treats it as the unreadable file it is,
and `status`, `status --json`, `audit` and `audit --verify` answer without a traceback and without claiming
approval. Written the way the attacker works: plain file writes and `omni-tui` subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TIMEOUT = 120
NESTED = "[" * 100_000


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    return subprocess.run([sys.executable, "-m", "omni_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def proposes(project: Path) -> str:
    source = project.parent / "new.nix"
    source.write_text((project / "devenv.nix").read_text().replace("hello", "hi"))
    done = cli("propose", "devenv.nix", "--new-content", str(source), "--title", "t", "--why", "w", cwd=project)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def assert_answers(project: Path) -> dict[str, object]:
    for args in (("status",), ("audit",)):
        done = cli(*args, cwd=project)
        assert "Traceback" not in done.stderr and done.returncode in (0, 1), (args, done.stderr[-2000:])
    done = cli("audit", "--verify", cwd=project)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    done = cli("status", "--json", cwd=project)
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr[-2000:]
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict) and doc["gate"] != "clean"
    return doc


def test_a_deeply_nested_proposal_file_is_invalid_not_a_crash(project: Path) -> None:
    proposal_id = proposes(project)
    proposals = project / ".devenv" / "omni" / "proposals"
    (proposals / "20261204T113602Z-cccccc.json").write_text(NESTED)
    doc = assert_answers(project)
    assert [p["id"] for p in doc["pending"]] == [proposal_id]


def test_a_deeply_nested_decision_file_is_never_an_approval(project: Path) -> None:
    proposal_id = proposes(project)
    (project / ".devenv" / "omni" / "decisions" / f"{proposal_id}.json").write_text(NESTED)
    doc = assert_answers(project)
    assert doc["gate"] != "clean"


def test_a_deeply_nested_audit_line_or_gate_memory_breaks_the_chain_not_the_cli(project: Path) -> None:
    proposes(project)
    state = project / ".devenv" / "omni"
    (state / "gate.json").write_text(NESTED)
    with (state / "audit.jsonl").open("a") as log:
        log.write(NESTED + "\n")
    assert_answers(project)
    verify = cli("audit", "--verify", cwd=project)
    assert verify.returncode != 0 and "Traceback" not in verify.stderr


def test_a_deeply_nested_omni_tui_toml_is_an_unapproved_invalid_edit_not_a_crash(project: Path) -> None:
    proposes(project)  # the baseline (no omni-tui.toml) is approved
    (project / "omni-tui.toml").write_text("[rebuild]\ncommand = " + "[" * 100_000 + "\n")
    doc = assert_answers(project)
    assert "omni-tui.toml" in doc["unapproved"]  # type: ignore[operator]
    explain = cli("explain", "--current", cwd=project)
    assert "Traceback" not in explain.stderr, explain.stderr[-2000:]
