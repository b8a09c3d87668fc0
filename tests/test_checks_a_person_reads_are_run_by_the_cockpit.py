"""A check result an agent wrote into the state folder is never what a person is shown.

The content checks (Nix parses? UTF-8? size?) are remembered by content hash in
`<state>/cache/validation/`, which an agent running as the person can write. The cockpit and `status`
as text run the checks themselves; only `status --json` (what agents read) reuses entries from disk,
and a check run for a person writes the truth back over a forged entry.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from app_harness import SIZE, cli, cockpit, open_workspace, screen_text, wait_for

from omni_tui.core import validate as validate_module
from omni_tui.core.gate import Gate
from omni_tui.core.proposals import Proposal, ProposalStore
from omni_tui.core.validate import ValidationCache
from omni_tui.core.workspace import Workspace

BROKEN = "{ pkgs, ... }: {\n  packages = [ pkgs.jq\n}\n"  # the list is never closed


def forge(ws: Workspace, proposal: Proposal, *, ok: bool) -> None:
    """Write, as an agent could, the cache entry of each of the proposal's files: all good, or a Nix error."""
    folder = ws.paths.state / "cache" / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    for change in proposal.changes:
        key = ValidationCache.key(change.path, change.new_content, ws.config.guard.max_bytes, True)
        issues = [] if ok else [{"path": change.path, "kind": "nix", "message": "forged: syntax error", "line": 1, "column": 1}]
        (folder / f"{key}.json").write_text(json.dumps({"issues": issues, "nix_checked": True, "notes": []}))
    validate_module._CACHES.clear()  # as a new process finds it: only what is on disk


def proposal_of(ws: Workspace, text: str, title: str = "Broken list") -> Proposal:
    store = ProposalStore(ws)
    return store.get(store.create({"devenv.nix": text}, title=title, rationale="r", agent="agent").id)


def test_a_forged_pass_is_not_what_the_person_gets_and_is_written_over(project: Path, need_nix: None) -> None:
    ws = open_workspace(project)
    proposal = proposal_of(ws, BROKEN)
    forge(ws, proposal, ok=True)

    for_person = Gate(ws).validate(proposal)
    assert not for_person.ok and [i.kind for i in for_person.issues] == ["nix"]
    assert "forged" not in for_person.summary()

    validate_module._CACHES.clear()  # the next process, reading for an agent, finds the truth on disk now
    for_agents = Gate(Workspace.open(project)).validate_cached(proposal, shared=True)
    assert for_agents is not None and [i.kind for i in for_agents.issues] == ["nix"]


def test_a_forged_failure_does_not_make_a_good_proposal_look_broken(project: Path, need_nix: None) -> None:
    ws = open_workspace(project)
    good = (project / "devenv.nix").read_text().replace("pkgs.jq", "pkgs.jq pkgs.ripgrep", 1)
    proposal = proposal_of(ws, good, title="Ripgrep")
    forge(ws, proposal, ok=False)

    assert Gate(ws).validate_cached(proposal) is None  # nothing this process ran: not known
    checked = Gate(ws).validate(proposal)
    assert checked.ok and checked.nix_checked


def test_an_entry_this_cache_would_not_write_is_checked_again(project: Path) -> None:
    ws = open_workspace(project)
    proposal = proposal_of(ws, BROKEN)
    forge(ws, proposal, ok=True)
    change = proposal.changes[0]
    key = ValidationCache.key(change.path, change.new_content, ws.config.guard.max_bytes, True)
    entry = ws.paths.state / "cache" / "validation" / f"{key}.json"
    for issue in (
        {"path": "devenv.nix", "kind": "\x1b]0;pwned\x07", "message": "m", "line": 1, "column": 1},
        {"path": "devenv.nix", "kind": "nix", "message": "m", "line": [1] * 1000, "column": 1},
    ):
        entry.write_text(json.dumps({"issues": [issue], "nix_checked": True, "notes": []}))
        validate_module._CACHES.clear()
        assert Gate(ws).validate_cached(proposal, shared=True) is None


def test_status_as_text_runs_the_checks_itself(project: Path, need_nix: None) -> None:
    ws = open_workspace(project)
    proposal = proposal_of(ws, BROKEN)
    forge(ws, proposal, ok=True)

    text = subprocess.run(cli("status", "-C", str(project)), capture_output=True, text=True, timeout=60, check=True).stdout
    line = next(ln for ln in text.splitlines() if proposal.id in ln)
    assert "[devenv.nix]  nix: " in line and "forged" not in line
    # ...and wrote the truth back: what agents read next says the same
    doc = json.loads(
        subprocess.run(cli("status", "-C", str(project), "--json"), capture_output=True, text=True, timeout=60, check=True).stdout
    )
    (item,) = [p for p in doc["pending"] if p["id"] == proposal.id]
    assert [i["kind"] for i in item["validation"]["issues"]] == ["nix"]


async def test_the_cockpit_never_shows_a_forged_pass(project: Path, need_nix: None) -> None:
    ws = open_workspace(project)
    proposal = proposal_of(ws, BROKEN)
    forge(ws, proposal, ok=True)
    app = cockpit(ws)
    recorded: list[object] = []
    record = app.review.record_check

    def spy(key, check):  # type: ignore[no-untyped-def]
        recorded.append(check)
        return record(key, check)

    app.review.record_check = spy  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "✗ nix" in screen_text(app), what="the queue's badge from the cockpit's own check")
        await wait_for(pilot, lambda: "✗ Nix" in screen_text(app), what="the detail's Nix check")
        assert "✓ Nix parses" not in screen_text(app) and "✓ ok" not in screen_text(app)
        assert recorded and all(c.validation is None or not c.validation.ok for c in recorded)  # type: ignore[attr-defined]
