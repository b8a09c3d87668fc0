"""The review state's rules (omni_tui.core.review), without a terminal: which action can run where and
why not, hunk choices and edits stored once, checks keyed by what they check, superseded runs dropped."""

from __future__ import annotations

from omni_tui.core.gate import FailedApply, GateState, Holder
from omni_tui.core.processes.model import ProcessSnapshot
from omni_tui.core.proposals import FileChange, Proposal, ProposalEntry
from omni_tui.core.review import DIRECT_EDITS, NO_CHECK, Check, CheckKey, CheckKind, Focus, Panel, Review
from omni_tui.core.validate import Issue, Validation

OLD = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"
NEW = "A\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\n"  # two hunks: line 1 and line 12


def entry(pid: str = "p1", status: str = "pending", created: str = "2026-01-01T00:00:00Z", title: str = "Add jq") -> ProposalEntry:
    proposal = Proposal(pid, "agent", title, "why", created, (FileChange("devenv.nix", None, NEW),))
    return ProposalEntry(proposal, status, None)


def gate(
    kind: str = "clean", unapproved: tuple[str, ...] = (), holder: Holder | None = None, failed: FailedApply | None = None
) -> GateState:
    return GateState(kind, (), unapproved, holder, failed)


def review_with(*entries: ProposalEntry, selected: str | None = "p1", **kwargs: object) -> Review:
    review = Review(**kwargs)  # type: ignore[arg-type]
    review.set_entries(entries, (), initial=True)
    review.selected_key = selected
    review.gate = review.gate or gate()
    return review


PROPOSALS = Focus(panel=Panel.PROPOSALS, diff=True, shown_path="devenv.nix", files=1)
CHANGES = Focus(panel=Panel.CHANGES, diff=True, files=1)
PROCESSES = Focus(panel=Panel.PROCESSES)


def test_approve_reject_edit_need_a_pending_proposal() -> None:
    assert review_with(selected=None).why_unavailable("approve", PROPOSALS) == "No proposal selected: pick one in the Proposals panel"
    quarantined = review_with(selected="quarantine:bad.json")
    assert quarantined.why_unavailable("reject", PROPOSALS) == "That is an invalid (quarantined) file, not a proposal"
    decided = review_with(entry(status="rejected"))
    assert decided.why_unavailable("edit", PROPOSALS) == "This proposal is rejected, no longer pending"
    review = review_with(entry())
    assert [review.why_unavailable(a, PROPOSALS) for a in ("approve", "reject", "edit")] == [None, None, None]


def test_a_rebuild_or_a_missing_rebuild_command_blocks_approving_but_not_rejecting() -> None:
    review = review_with(entry(), rebuilding_here=True)
    assert review.why_unavailable("approve", PROPOSALS) == "A rebuild is running; wait for it or cancel it (c)"
    assert review.why_unavailable("reject", PROPOSALS) is None
    review = review_with(entry(), rebuild_problem="no rebuild command: devenv not found")
    assert review.why_unavailable("approve", PROPOSALS) == "no rebuild command: devenv not found"
    assert review.why_unavailable("reject", PROPOSALS) is None


def test_another_cockpits_rebuild_is_named_by_the_proposals_title() -> None:
    holder = Holder(pid=999_999_999, action="approve", proposal_id="p1", who="bob", since=None)
    review = review_with(entry(), gate=gate("rebuilding", holder=holder))
    assert review.rebuilding and review.remote_holder() == holder
    assert review.why_unavailable("approve", PROPOSALS) == (
        "The gate is busy: approve of “Add jq” by bob (pid 999999999) is running in another cockpit; wait for it to finish"
    )


def test_hunks_are_chosen_in_a_pending_proposals_diff_unless_the_file_was_edited() -> None:
    review = review_with(entry())
    assert review.why_unavailable("toggle_hunk", CHANGES) == "Hunks are chosen in a proposal's diff: move to the Proposals panel (tab)"
    assert review.why_unavailable("toggle_hunk", PROPOSALS) is None
    review.set_edit("p1", "devenv.nix", "edited\n")
    assert review.why_unavailable("toggle_hunk", PROPOSALS) == "You edited this file; the edited text is applied whole"
    assert review_with(entry(status="applied")).why_unavailable("toggle_hunk", PROPOSALS) == "Select a pending proposal to choose its hunks"


def test_diff_actions_need_a_diff_and_next_file_two_files() -> None:
    review = review_with(entry())
    assert review.why_unavailable("next_hunk", PROCESSES) == "Move to the Changes panel or a proposal's diff first (tab)"
    assert review.why_unavailable("toggle_split", CHANGES) is None
    assert review.why_unavailable("next_file", CHANGES) == "Only one file differs here"
    assert review.why_unavailable("next_file", Focus(panel=Panel.CHANGES, diff=True, files=2)) is None


def test_direct_edit_actions_and_rollback_follow_the_gate() -> None:
    review = review_with(entry())
    assert review.why_unavailable("accept_direct", CHANGES) == "No unapproved direct edits"
    review.gate = gate("unapproved_edits", unapproved=("devenv.nix",))
    assert review.why_unavailable("accept_direct", CHANGES) is None and review.why_unavailable("revert_direct", PROCESSES) is None
    assert review.why_unavailable("rollback", CHANGES) == "Nothing to roll back: no failed rebuild"
    review.gate = gate("failed", failed=FailedApply("p1", ("devenv.nix",), "exit 1", 1))
    assert review.failed_proposal() == "p1" and review.why_unavailable("rollback", CHANGES) is None
    assert review.why_unavailable("cancel_rebuild", CHANGES) == "No rebuild is running in this cockpit"


def test_while_tampered_what_the_gate_refuses_is_unavailable_before_any_modal_opens() -> None:
    review = review_with(entry())
    review.gate = gate("tampered", unapproved=("devenv.nix",))
    tampered = "The gate is TAMPERED: files or records changed behind its back; resolve that first (T)"
    assert review.why_unavailable("approve", PROPOSALS) == tampered
    assert review.why_unavailable("edit", PROPOSALS) == tampered
    assert review.why_unavailable("accept_direct", CHANGES) == tampered
    assert review.why_unavailable("revert_direct", CHANGES) == tampered
    assert review.why_unavailable("reject", PROPOSALS) is None  # rejecting writes no guarded file
    review.gate = gate("unapproved_edits", unapproved=("devenv.nix",))
    assert review.why_unavailable("accept_direct", CHANGES) is None and review.why_unavailable("approve", PROPOSALS) is None


def test_a_reason_names_the_key_as_keys_mapped_it() -> None:
    review = review_with(entry())
    review.keys = {"resolve_tampered": "R", "cancel_rebuild": "k"}  # as the App reads them after `[keys]`
    review.gate = gate("tampered")
    assert review.why_unavailable("approve", PROPOSALS).endswith("resolve that first (R)")  # type: ignore[union-attr]
    review.gate, review.rebuilding_here = gate(), True
    assert review.why_unavailable("approve", PROPOSALS) == "A rebuild is running; wait for it or cancel it (k)"


def test_process_actions_need_the_processes_panel_a_process_and_a_backend_that_can() -> None:
    class CannotStop:
        name = "honcho"
        actions = frozenset({"restart"})

    review = review_with(entry())
    assert review.why_unavailable("process_log", CHANGES) == "Process actions work in the Processes panel: move there with tab"
    assert review.why_unavailable("process_log", PROCESSES) == "No process selected"
    review.selected_process = "web"
    review.processes = ProcessSnapshot("honcho", control=CannotStop())  # type: ignore[arg-type]
    assert review.why_unavailable("restart_process", PROCESSES) is None
    assert review.why_unavailable("stop_process", PROCESSES) == "The honcho backend cannot stop processes"


def test_the_footer_hides_other_panels_actions_and_rare_ones_and_greys_the_rest() -> None:
    review = review_with(entry(), rebuild_problem="no rebuild command")
    assert review.footer_state("approve", PROPOSALS) is None  # greyed, still shown
    assert review.footer_state("reject", PROPOSALS) is True
    assert review.footer_state("restart_process", PROPOSALS) is False  # another panel's
    assert review.footer_state("cancel_rebuild", PROPOSALS) is False  # only while a rebuild runs
    review.gate = gate("rebuilding")
    assert review.footer_state("accept_direct", CHANGES) is None
    assert review.footer_state("accept_direct", CHANGES, narrow=True) is False
    assert review.footer_state("next_panel", PROPOSALS) is True
    assert review.footer_state("next_panel", Focus(modal=True)) is False


def test_a_hunk_choice_is_stored_once_and_all_hunks_means_as_proposed() -> None:
    review = review_with(entry())
    review.choose_hunks("p1", "devenv.nix", {1}, 2)
    assert review.chosen_hunks("p1", "devenv.nix") == {1}
    pending = review.pending("p1")
    assert pending is not None and review.differs_from_proposal(pending)
    assert review.final_texts(pending, {"devenv.nix": OLD}) == {"devenv.nix": "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\n"}
    assert review.approved_hunks(pending) == {"devenv.nix": {1}}
    review.choose_hunks("p1", "devenv.nix", {0, 1}, 2)
    assert review.chosen_hunks("p1", "devenv.nix") is None and not review.differs_from_proposal(pending)


def test_an_edit_replaces_the_hunk_choice_and_an_edit_back_to_the_proposal_is_forgotten() -> None:
    review = review_with(entry())
    review.choose_hunks("p1", "devenv.nix", {0}, 2)
    assert review.set_edit("p1", "devenv.nix", "mine\n") is True
    assert review.chosen_hunks("p1", "devenv.nix") is None and review.edited == {"p1": {"devenv.nix": "mine\n"}}
    change = entry().proposal.changes[0]
    assert review.final_content("p1", change) == ("mine\n", None)
    assert review.set_edit("p1", "devenv.nix", NEW) is False and review.edited == {}
    review.set_edit("p1", "devenv.nix", "mine\n")
    review.set_entries([entry(status="applied")], ())
    review.forget_decided()
    assert review.edited == {}


def test_checks_are_keyed_by_what_they_check_and_older_runs_are_dropped() -> None:
    review = review_with(entry())
    assert review.needs_check("p1")
    first = review.start_check(CheckKey.proposal("p1"))
    second = review.start_check(CheckKey.proposal("p1"))
    assert not review.needs_check("p1")
    assert not review.is_current(CheckKey.proposal("p1"), first) and review.is_current(CheckKey.proposal("p1"), second)
    assert CheckKey.final("p1") != CheckKey.proposal("p1") and DIRECT_EDITS.kind is CheckKind.DIRECT
    ok = Check(Validation(), None)
    review.record_check(CheckKey.proposal("p1"), ok)
    assert review.check_of("p1") == ok and review.check_of("p2") == NO_CHECK
    assert review.stale_checks({"devenv.nix"}) == ["p1"] and review.check_of("p1") == NO_CHECK


def test_approving_a_partly_chosen_proposal_shows_the_final_check_plus_the_stale_base() -> None:
    review = review_with(entry())
    pending = review.pending("p1")
    assert pending is not None
    stale = Issue("devenv.nix", "stale", "changed since proposed")
    review.record_check(CheckKey.proposal("p1"), Check(Validation((stale,)), None))
    assert review.approval_check(pending).validation == Validation((stale,))  # as proposed: its own check
    review.choose_hunks("p1", "devenv.nix", {0}, 2)
    review.start_check(CheckKey.final("p1"))
    assert review.approval_check(pending) == NO_CHECK  # still running
    nix = Issue("devenv.nix", "nix", "syntax error")
    review.record_check(CheckKey.final("p1"), Check(Validation((nix,), nix_checked=True), None))
    assert review.approval_check(pending) == Check(Validation((stale, nix), nix_checked=True), None)


def test_new_pending_proposals_are_reported_once_and_the_oldest_is_next() -> None:
    review = Review()
    assert review.set_entries([entry("p1", created="2026-01-02T00:00:00Z")], (), initial=True) == []
    new = review.set_entries([entry("p1", created="2026-01-02T00:00:00Z"), entry("p0", created="2026-01-01T00:00:00Z")], ())
    assert [p.id for p in new] == ["p0"]
    assert review.oldest_pending() == "p0"
    assert review.set_entries([entry("p1"), entry("p0")], ()) == []


def test_stop_is_not_offered_for_a_process_that_has_exited() -> None:
    from omni_tui.core.processes.model import ProcessInfo

    class Backend:
        name, actions = "native", frozenset({"restart", "stop", "start"})

    snapshot = ProcessSnapshot(
        "native", (ProcessInfo("web", "native", "ready", "ready"), ProcessInfo("migrate", "native", "exited", "exited")), control=Backend()
    )  # type: ignore[arg-type]
    review = review_with(processes=snapshot, selected_process="migrate")
    assert review.why_unavailable("stop_process", PROCESSES) == "migrate is not running (exited): nothing to stop"
    assert review.why_unavailable("restart_process", PROCESSES) is None  # a manager can start it again
    review.selected_process = "web"
    assert review.why_unavailable("stop_process", PROCESSES) is None


def test_the_last_rebuild_is_typed_and_odd_json_reads_as_missing_fields() -> None:
    from omni_tui.core.gate import LastRebuild

    doc = {"kind": "approve", "proposal_id": "p1", "status": "applied", "ok": True, "exit_code": 0, "duration_s": 1.25, "who": "bob"}
    last = gate("clean").__class__("clean", (), (), last_rebuild=doc).last_build
    assert last == LastRebuild("approve", "p1", "applied", True, exit_code=0, duration_s=1.25, who="bob")
    odd = LastRebuild.from_json({"status": "failed", "exit_code": "1", "duration_s": "x", "who": 3})
    assert (odd.exit_code, odd.duration_s, odd.who, odd.ok) == (None, None, None, False)
    assert gate().last_build is None
