"""The wording the cockpit shows: decided proposals, paths."""

from types import SimpleNamespace

from omni_tui.ui.presenters import decision_note, project_path


def _entry(**decision) -> SimpleNamespace:
    base = dict(status="applied", who="alice", reason="", exit_code=None, duration_s=None)
    return SimpleNamespace(decision=SimpleNamespace(**{**base, **decision}))


def test_a_failed_rebuild_names_its_exit_code_once() -> None:
    note = decision_note(_entry(status="rolled_back", reason="rebuild failed: exit 1", exit_code=1, duration_s=0.2))
    assert note == "rolled back by alice · reason: rebuild failed: exit 1 · 0.2 s"


def test_an_exit_code_the_reason_does_not_mention_is_shown() -> None:
    note = decision_note(_entry(status="applied", exit_code=0, duration_s=8.43))
    assert note == "applied by alice · exit 0 · 8.4 s"


def test_a_pending_proposal_has_no_note() -> None:
    assert decision_note(SimpleNamespace(decision=None)) == ""


def test_paths_inside_the_project_are_shown_relative_to_it() -> None:
    root = "/home/alice/shop"
    assert project_path(root, "/home/alice/shop/.devenv/omni/logs/rebuild-1.log") == ".devenv/omni/logs/rebuild-1.log"
    assert project_path(root, "/var/tmp/devenv/omni/logs/rebuild-1.log") == "/var/tmp/devenv/omni/logs/rebuild-1.log"
