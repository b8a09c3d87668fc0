"""A FIFO (or a huge file) an agent puts where omni-tui reads its own files never hangs a reader.

Opening a FIFO for reading blocks until someone opens its other end: an agent running as the person
could plant one in the state folder (caches, registries, the orphaned build's record, presence files,
the quarantine's error notes), in devenv's runtime files or at the audit chain's head kept outside the
project, and every `status`, every hook and the cockpit would wait forever. Each reader opens without
blocking, reads only regular files, and caps what it reads; what it cannot read counts as absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from app_harness import SIZE, cli, cockpit, open_workspace, screen_text, wait_for

from omni_tui.core.card.project import proposal_pairs
from omni_tui.core.card.stored import entry_name
from omni_tui.core.presence import announce, presence_dir
from omni_tui.core.proposals import Proposal, ProposalStore
from omni_tui.core.safefs import read_regular
from omni_tui.core.validate import ValidationCache
from omni_tui.core.workspace import Workspace


def pending(ws: Workspace) -> Proposal:
    text = (ws.root / "devenv.nix").read_text().replace("pkgs.jq", "pkgs.jq pkgs.ripgrep", 1)
    store = ProposalStore(ws)
    return store.get(store.create({"devenv.nix": text}, title="Ripgrep", rationale="search", agent="agent").id)


def planted_paths(ws: Workspace, proposal: Proposal) -> dict[str, Path]:
    """Where each reader looks, by what it reads."""
    state = ws.paths.state
    change = proposal.changes[0]
    key = ValidationCache.key(change.path, change.new_content, ws.config.guard.max_bytes, True)
    quarantined = ws.paths.quarantine / "20260101T000000Z-bad.json"
    quarantined.parent.mkdir(parents=True, exist_ok=True)
    quarantined.write_text("{ not json")
    assert ws.audit.external_head is not None
    return {
        "validation cache": state / "cache" / "validation" / f"{key}.json",
        "card cache": state / "cache" / "cards" / entry_name(proposal_pairs(ws, proposal)),
        "presence": presence_dir(state) / "4242.json",
        "sandbox registry": state / "sandbox-4242.json",
        "orphaned build record": state / "build.json",
        "quarantine error note": quarantined.with_name(quarantined.name + ".error.txt"),
        "devenv's manager pid file": ws.root / ".devenv" / "processes.pid",
        "audit head kept outside": ws.audit.external_head,
    }


def plant_fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def status(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli("status", "-C", str(project), *args), capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "where",
    [
        "validation cache",
        "card cache",
        "sandbox registry",
        "orphaned build record",
        "quarantine error note",
        "devenv's manager pid file",
        "audit head kept outside",
    ],
)
def test_status_answers_with_a_fifo_planted(project: Path, where: str) -> None:
    ws = open_workspace(project)
    proposal = pending(ws)
    plant_fifo(planted_paths(ws, proposal)[where])

    done = status(project, "--json")  # on the old code: blocked until the 60 s timeout
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [p["id"] for p in doc["pending"]] == [proposal.id]
    text = status(project)
    assert text.returncode == 0 and proposal.id in text.stdout


async def test_the_cockpit_opens_and_quits_with_every_fifo_planted(project: Path) -> None:
    ws = open_workspace(project)
    proposal = pending(ws)
    for path in planted_paths(ws, proposal).values():
        plant_fifo(path)
    app = cockpit(ws, poll_processes=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: "Ripgrep" in screen_text(app) and app.review.validations.get(proposal.id), what="the proposal, checked"
        )
        await wait_for(pilot, lambda: app.review.processes is not None, what="a process scan")
    # leaving run_test means every worker stopped: none is stuck on a FIFO


async def test_the_header_still_shows_who_else_is_here_with_a_fifo_among_the_presence_files(project: Path) -> None:
    """Only the cockpit reads the presence files (a thread, every few seconds): on the old code it blocked there for good."""
    ws = open_workspace(project)
    plant_fifo(presence_dir(ws.paths.state) / "1.json")  # read first: names sort before any other pid's
    bob = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        announce(ws.paths.state, "bob", "web", pid=bob.pid)
        app = cockpit(ws, who="alice")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "also open: bob (web)" in screen_text(app), what="bob in the header")
    finally:
        bob.kill()
        bob.wait()


def test_reading_a_regular_file_is_capped_and_a_fifo_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 2048)
    assert read_regular(big, limit=2048) == b"x" * 2048
    with pytest.raises(OSError, match="over 1024 bytes"):
        read_regular(big, limit=1024)
    plant_fifo(tmp_path / "fifo")
    with pytest.raises(OSError, match="not a regular file"):
        read_regular(tmp_path / "fifo")
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "absent")
