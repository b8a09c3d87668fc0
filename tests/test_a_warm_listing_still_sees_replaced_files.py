"""A listing answers from what it read before only for a proposal file that is the very same regular file,
unchanged: a file swapped for a symbolic link or a FIFO after it was read is quarantined, one rewritten
is read again, one removed is gone — exactly as on the first listing."""

from __future__ import annotations

import json
import os
from pathlib import Path

from omni_tui.core.audit import utc_now
from omni_tui.core.proposals import FileChange, Proposal, ProposalStore, new_id
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace


def _write(ws: Workspace, i: int, title: str | None = None, pid: str | None = None) -> str:
    original = (ws.root / "devenv.nix").read_text()
    pid = pid or new_id()
    text = original.replace("pkgs.jq ]", f"pkgs.jq pkgs.tool{i} ]")
    proposal = Proposal(
        pid, "agent", title or f"Add tool{i}", "why", utc_now(), (FileChange("devenv.nix", sha256_bytes(original.encode()), text),)
    )
    (ws.paths.proposals / f"{pid}.json").write_text(json.dumps(proposal.to_json()))
    return pid


def test_files_replaced_after_a_listing_are_judged_again(project: Path) -> None:
    ws = Workspace.open(project, env={}, cwd=project)
    ids = []
    for i in range(5):
        pid = _write(ws, i)
        while pid in ids:  # ids are a second + 24 random bits
            pid = _write(ws, i)
        ids.append(pid)
    store = ProposalStore(ws)
    assert sorted(e.proposal.id for e in store.entries()) == sorted(ids)  # every file read once: the cache is warm
    linked, fifo, rewritten, removed, kept = ids
    folder = ws.paths.proposals
    outside = project / "elsewhere.json"
    os.replace(folder / f"{linked}.json", outside)
    (folder / f"{linked}.json").symlink_to(outside)  # the same bytes, through a link
    (folder / f"{fifo}.json").unlink()
    os.mkfifo(folder / f"{fifo}.json")
    _write(ws, 2, title="Rewritten title", pid=rewritten)
    (folder / f"{removed}.json").unlink()

    listed = {e.proposal.id: e.proposal for e in store.entries()}
    assert sorted(listed) == sorted([rewritten, kept])
    assert listed[rewritten].title == "Rewritten title"
    quarantined = {item.path.name for item in store.quarantined()}
    assert {f"{linked}.json", f"{fifo}.json"} <= quarantined
    assert not (folder / f"{linked}.json").exists() and not (folder / f"{fifo}.json").exists()
