"""A long queue stays cheap: 10,000 pending proposal files (written as an agent writes them) make
`status --json` complete, correct and quick; a listing reads each file once and checks a path once;
content checks (the Nix parse) are remembered by content hash and shared between processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omni_tui.core import validate as validate_module
from omni_tui.core.audit import utc_now
from omni_tui.core.gate import Gate
from omni_tui.core.proposals import FileChange, Proposal, ProposalStore, new_id
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace

N = 10_000


def _flood(ws: Workspace, n: int) -> list[str]:
    """`n` distinct pending proposals written straight into proposals/ (the file protocol agents use)."""
    original = (ws.root / "devenv.nix").read_text()
    base = sha256_bytes(original.encode())
    ids = []
    stamp = utc_now()
    for i in range(n):
        text = original.replace("pkgs.jq ]", f"pkgs.jq pkgs.tool{i} ]")
        pid = new_id()
        while (ws.paths.proposals / f"{pid}.json").exists():  # ids are a second + 24 random bits: 10,000 in a few seconds can meet
            pid = new_id()
        proposal = Proposal(pid, f"agent{i % 7}", f"Add tool{i}", "flood", stamp, (FileChange("devenv.nix", base, text),))
        (ws.paths.proposals / f"{proposal.id}.json").write_text(json.dumps(proposal.to_json()))
        ids.append(proposal.id)
    return ids


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEVENV_ROOT", "DEVENV_DOTFILE")}
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", "-C", str(project), *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_status_json_on_ten_thousand_pending_proposals_is_complete_and_correct(project: Path) -> None:
    ws = Workspace.open(project)
    ids = _flood(ws, N)
    started = time.monotonic()
    done = _cli(project, "status", "--json", "--no-nix")
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["gate"] == "pending"
    assert sorted(p["id"] for p in doc["pending"]) == sorted(ids)
    assert all(p["validation"] is not None and p["validation"]["ok"] for p in doc["pending"])  # size/UTF-8 need no Nix
    assert elapsed < 60, f"status --json took {elapsed:.1f} s on {N} proposals (4 min 25 s before)"  # generous: bench/ has the figure
    plain = _cli(project, "status", "--no-nix")
    assert f"pending:   {N}" in plain.stdout


def test_status_reports_unchecked_proposals_as_null_and_checks_more_each_time(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from omni_tui.cli import status as cli

    ws = Workspace.open(project)
    _flood(ws, 50)
    parsed: list[str] = []

    def slow_parse(path: str, text: str):  # type: ignore[no-untyped-def]
        parsed.append(text)
        time.sleep(0.05)
        return None, None  # parses

    monkeypatch.setattr(validate_module, "nix_parse", slow_parse)
    monkeypatch.setattr(cli, "STATUS_BUDGET_S", 0.3)
    first = cli.status_document(Workspace.open(project))
    checked = [p for p in first["pending"] if p["validation"] is not None]
    assert 0 < len(checked) < 50  # the budget ran out: the rest says null, nothing is made up
    assert all(p["validation"]["nix_checked"] for p in checked)
    second = cli.status_document(Workspace.open(project))
    assert len([p for p in second["pending"] if p["validation"] is not None]) > len(checked)
    assert len(parsed) == len(set(parsed))  # nothing parsed twice


def test_a_listing_reads_each_proposal_once_and_checks_its_path_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import omni_tui.core.proposals.store as proposals_module

    ws = Workspace.open(project)
    _flood(ws, 300)
    store = ProposalStore(ws)
    relative_calls = 0
    real_relative = Workspace.relative

    def counting_relative(self: Workspace, path):  # type: ignore[no-untyped-def]
        nonlocal relative_calls
        relative_calls += 1
        return real_relative(self, path)

    monkeypatch.setattr(Workspace, "relative", counting_relative)
    assert len(store.entries()) == 300
    assert relative_calls == 1  # one guarded path named 300 times: checked once per listing
    parses = 0
    real_parse = proposals_module.parse_proposal

    def counting_parse(doc, ws):  # type: ignore[no-untyped-def]
        nonlocal parses
        parses += 1
        return real_parse(doc, ws)

    monkeypatch.setattr(proposals_module, "parse_proposal", counting_parse)
    assert len(store.entries()) == 300
    assert parses == 0  # unchanged files are not read again


def test_the_nix_parse_of_a_content_runs_once_across_gates_and_processes(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.open(project)
    (pid,) = _flood(ws, 1)
    calls: list[str] = []

    def counting_parse(path: str, text: str):  # type: ignore[no-untyped-def]
        calls.append(path)
        return None, None

    monkeypatch.setattr(validate_module, "nix_parse", counting_parse)
    proposal = ProposalStore(ws).get(pid)
    assert Gate(ws).validate(proposal).ok and Gate(ws).validate(proposal).ok
    assert calls == ["devenv.nix"]
    validate_module._CACHES.clear()  # a new process: only the disk cache is left, read back for agents
    assert Gate(Workspace.open(project)).validate_cached(proposal, shared=True) is not None
    assert Gate(Workspace.open(project)).validate(proposal, shared=True).nix_checked
    assert calls == ["devenv.nix"]
    # the stale check is never cached: it reads the disk every time
    (project / "devenv.nix").write_text("{ }\n")
    assert Gate(ws).validate(proposal).stale
