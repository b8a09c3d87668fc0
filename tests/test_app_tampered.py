"""The cockpit tells the truth about forged state: TAMPERED in the header naming the files, and a person's
resolve action that shows what was forged and records an audited re-baseline (who = that person)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from app_harness import SIZE, cockpit, open_workspace, ready, screen_text, wait_for

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.screens import ConfirmScreen


def forge_approval(ws, proposal_id: str, content: str) -> None:
    """An agent's forgery with plain file writes: an `applied` decision by alice and the content as the baseline."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    forged = {
        "schema": "omni-tui/decision@1",
        "proposal_id": proposal_id,
        "status": "applied",
        "reason": None,
        "who": "alice",
        "via": "terminal",
        "decided_at": "2026-12-04T10:00:00.000Z",
        "exit_code": 0,
        "duration_s": 1.0,
        "log_path": None,
        "last_lines": [],
        "files": [{"path": "devenv.nix", "sha256_before": None, "sha256_after": digest, "applied": "proposed", "hunks": None}],
    }
    (ws.paths.decisions / f"{proposal_id}.json").write_text(json.dumps(forged))
    (ws.paths.baseline / "devenv.nix").write_text(content)
    (ws.root / "devenv.nix").write_text(content)


async def test_the_cockpit_shows_tampered_and_resolving_records_an_audited_rebaseline(project: Path) -> None:
    ws = open_workspace(project)
    original = (project / "devenv.nix").read_bytes()
    content = original.decode().replace("pkgs.jq", "pkgs.jq pkgs.backdoor")
    proposal = ProposalStore(ws).create({"devenv.nix": content}, title="Add a tool", rationale="r", agent="mallory")
    app = cockpit(ws, who="carol")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "1 PENDING" in screen_text(app), what="the proposal in the queue")
        forge_approval(ws, proposal.id, content)
        await wait_for(pilot, lambda: "TAMPERED" in screen_text(app), what="the header saying TAMPERED")
        await wait_for(
            pilot,
            lambda: "not in the audit log: decisions/" in screen_text(app).splitlines()[0],
            what="the header naming the forged decision file",
        )
        assert "applied by alice" not in screen_text(app)
        await pilot.press("T")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the resolve confirmation")
        await wait_for(pilot, lambda: f"{proposal.id}.json" in screen_text(app), what="the forged files listed")
        shown = screen_text(app)
        assert "baseline" in shown and "carol" in shown
        assert "Resolve and record" in shown  # the button says what yes does
        await pilot.press("y")
        await wait_for(pilot, lambda: "TAMPERED" not in screen_text(app).splitlines()[0], what="the gate resolved")
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the forged write shown as an edit")
    assert ws.read_baseline("devenv.nix") == original
    last = ws.audit.entries()[-1]
    assert (last["event"], last["who"], last["decision"]) == ("tamper_resolved", "carol", "rebaselined")
    assert f"{proposal.id}.json" in last["reason"]
    assert ws.audit.verify().ok


async def test_the_resolve_key_is_remappable_and_hidden_while_nothing_is_tampered(project: Path) -> None:
    ws = open_workspace(project, extra='[keys]\nresolve_tampered = "ctrl+t"\n')
    app = cockpit(ws, who="carol")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the clean gate")
        assert "Resolve" not in screen_text(app).splitlines()[-1]
        content = (project / "devenv.nix").read_text().replace("pkgs.jq", "pkgs.jq pkgs.fd")
        proposal = ProposalStore(ws).create({"devenv.nix": content}, title="t", rationale="r", agent="mallory")
        forge_approval(ws, proposal.id, content)
        await wait_for(pilot, lambda: "TAMPERED" in screen_text(app), what="the header saying TAMPERED")
        await wait_for(pilot, lambda: "Resolve" in screen_text(app).splitlines()[-1], what="the footer offering Resolve")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the resolve confirmation")
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the confirmation closed")
        assert "TAMPERED" in screen_text(app)  # nothing changes without the person's yes
