"""The wording the cockpit shows: decided proposals, paths, the queue's rows."""

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from omni_tui.core.proposals import Quarantined
from omni_tui.core.validate import Validation
from omni_tui.ui.presenters import QUARANTINE_SHOWN, decision_note, project_path, queue_rows, validation_checks


def _entry(**decision) -> SimpleNamespace:
    base = dict(status="applied", who="alice", reason="", exit_code=None, duration_s=None)
    return SimpleNamespace(decision=SimpleNamespace(**{**base, **decision}))


def test_a_failed_rebuild_names_its_exit_code_once() -> None:
    note = decision_note(_entry(status="rolled_back", reason="rebuild failed: exit 1", exit_code=1, duration_s=0.2))
    assert note == "rebuild failed (exit 1, 0.2 s) — rolled back automatically"
    assert note.count("exit 1") == 1 and note.count("failed") == 1


def test_an_exit_code_the_reason_does_not_mention_is_shown() -> None:
    note = decision_note(_entry(status="applied", exit_code=0, duration_s=8.43))
    assert note == "applied by alice (exit 0, 8.4 s)"


def test_a_pending_proposal_has_no_note() -> None:
    assert decision_note(SimpleNamespace(decision=None)) == ""


def test_paths_inside_the_project_are_shown_relative_to_it() -> None:
    root = "/home/alice/shop"
    assert project_path(root, "/home/alice/shop/.devenv/omni/logs/rebuild-1.log") == ".devenv/omni/logs/rebuild-1.log"
    assert project_path(root, "/var/tmp/devenv/omni/logs/rebuild-1.log") == "/var/tmp/devenv/omni/logs/rebuild-1.log"


def test_the_queue_shows_the_newest_invalid_files_and_pending_first() -> None:
    bad = [Quarantined(Path(f"/p/.devenv/omni/quarantine/bad-{i}.json"), "invalid JSON") for i in range(8)]
    rows = queue_rows([], bad, {}, datetime(2026, 11, 26, tzinfo=UTC))
    assert [row.title for row in rows] == [f"bad-{i}.json" for i in range(QUARANTINE_SHOWN)]
    assert all(row.state == "invalid" for row in rows)


def test_a_change_without_nix_files_does_not_claim_nix_parses() -> None:
    texts = [check.text for check in validation_checks(Validation(nix_checked=True), paths=["devenv.yaml", ".envrc"])]
    assert texts[0] == "no .nix file to parse" and "Nix parses" not in texts
    assert validation_checks(Validation(nix_checked=True), paths=["devenv.nix"])[0].text == "Nix parses"


def test_a_decision_made_in_a_browser_says_so() -> None:
    assert decision_note(_entry(status="applied", who="bob", via="web")) == "applied by bob (web)"
    assert decision_note(_entry(status="rejected", who="bob", via="terminal")) == "rejected by bob"
