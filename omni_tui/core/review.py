"""What the person is deciding in a cockpit: the pure, Textual-free review state.

`Review` owns the facts an approval depends on and the person's choices about them, each stored
once: the proposals and the gate state as last read, the selected proposal and process, the hunks
chosen per proposal file, the edited texts, the checks (validations) and which run of each check is
current. It also answers "can this action run now, and if not why" (`why_unavailable`) from those
facts and a `Focus` — where the person is, read from the screen when the question is asked — so the
rules are unit-tested without a terminal. Widgets render what it holds; they never own a choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from omni_tui.core.gate import GateState, Holder
from omni_tui.core.gate.writes import config_only
from omni_tui.core.proposals import FileChange, Proposal, ProposalEntry
from omni_tui.core.validate import Validation

if TYPE_CHECKING:
    from omni_tui.core.processes.model import ProcessSnapshot  # the first scan loads it, after the first frame


class CheckKind(StrEnum):
    """What a check (a `Validation` run in a worker) is about."""

    PROPOSAL = "proposal"  # a pending proposal, as proposed
    FINAL = "final"  # what approving an edited / partly chosen proposal would write
    DIRECT = "direct"  # the unapproved direct edits (the accept modal)


class CheckKey(NamedTuple):  # not a dataclass: ≈ 1 ms less to import before the first frame
    """Which check a result answers (instead of string prefixes such as "final:"+id)."""

    kind: CheckKind
    proposal_id: str = ""

    @classmethod
    def proposal(cls, proposal_id: str) -> CheckKey:
        return cls(CheckKind.PROPOSAL, proposal_id)

    @classmethod
    def final(cls, proposal_id: str) -> CheckKey:
        return cls(CheckKind.FINAL, proposal_id)


DIRECT_EDITS = CheckKey(CheckKind.DIRECT)


class Check(NamedTuple):
    """A finished check: the validation, or the one-line error that stopped it."""

    validation: Validation | None
    error: str | None


NO_CHECK = Check(None, None)


class Panel(StrEnum):
    """The cockpit's four panels, by their widget ids."""

    CHANGES = "changes-panel"
    PROPOSALS = "proposals-panel"
    PROCESSES = "processes-panel"
    REBUILD = "rebuild-panel"


class Focus(NamedTuple):  # not a dataclass: ≈ 1 ms less to import before the first frame
    """Where the person is, as far as actions care (read from the screen when an action is asked about)."""

    panel: Panel | None = None
    diff: bool = False  # the focused panel shows a diff (the Changes diff, or a proposal's file)
    shown_path: str | None = None  # the proposal file the Proposals panel shows
    files: int = 0  # how many files the focused panel's file tabs list
    modal: bool = False  # a modal screen is on top: cockpit actions do not apply


# Actions hidden (not just greyed) in the footer outside their panel: pressing them still says why.
CONTEXT_ACTIONS = frozenset(
    {"toggle_hunk", "next_hunk", "previous_hunk", "toggle_split", "next_file", "restart_process", "stop_process", "process_log"}
)
# What the gate refuses while it is tampered (`Gate._refuse_if_tampered`): greyed, and the reason given
# before a modal is opened.
TAMPER_REFUSED = frozenset({"approve", "edit", "accept_direct", "revert_direct", "guard_unguarded"})
# Rare, state-bound actions: shown only in their state (a rebuild running, a failed rebuild).
STATE_ACTIONS = frozenset({"cancel_rebuild", "rollback", "guard_unguarded"})
# Shown greyed only at full width: at 80 columns dimmed keys would push q Quit and ^p off the footer.
WIDE_ONLY_ACTIONS = frozenset({"accept_direct", "revert_direct"})
# Under 100 columns these show greyed only in their own panel: with all of them, q Quit and ^p would
# fall off the footer's end.
NARROW_HOME = {
    "approve": Panel.PROPOSALS,
    "reject": Panel.PROPOSALS,
    "edit": Panel.PROPOSALS,
    "accept_direct": Panel.CHANGES,
    "revert_direct": Panel.CHANGES,
}


class Review:
    """The review state of one cockpit (see the module docstring).

    A plain class, not a dataclass: the cockpit imports this module before its first frame and a dataclass
    costs ≈ 1 ms to create (Python 3.11 compiles each generated method); nothing compares or prints it."""

    def __init__(
        self,
        *,
        entries: dict[str, ProposalEntry] | None = None,
        quarantined: frozenset[str] = frozenset(),
        gate: GateState | None = None,
        rebuilding_here: bool = False,
        rebuild_problem: str | None = None,
        selected_key: str | None = None,
        processes: ProcessSnapshot | None = None,
        selected_process: str | None = None,
        hunks: dict[tuple[str, str], frozenset[int]] | None = None,
        edited: dict[str, dict[str, str]] | None = None,
        validations: dict[str, Check] | None = None,
        final_checks: dict[str, Check] | None = None,
        known_pending: set[str] | None = None,
    ) -> None:
        self.entries: dict[str, ProposalEntry] = {} if entries is None else entries
        self.quarantined = quarantined  # the queue keys of invalid proposal files
        self.gate = gate
        self.rebuilding_here = rebuilding_here  # this cockpit runs a rebuild now
        self.rebuild_problem = rebuild_problem  # why approving cannot rebuild (no rebuild command), if so
        # action id → its key as the footer shows it after `[keys]` (the App sets it): reasons name keys
        self.keys: Mapping[str, str] = {}
        self.selected_key = selected_key  # the queue row: a proposal id or a quarantined file's key
        self.processes = processes
        self.selected_process = selected_process
        # (proposal id, path) → the hunks chosen; absent = all of them (approve as proposed)
        self.hunks: dict[tuple[str, str], frozenset[int]] = {} if hunks is None else hunks
        # proposal id → path → the person's edited text (applied whole: hunk choices do not apply to it)
        self.edited: dict[str, dict[str, str]] = {} if edited is None else edited
        self.validations: dict[str, Check] = {} if validations is None else validations  # proposal id → its check as proposed
        # proposal id → the check of what approval writes
        self.final_checks: dict[str, Check] = {} if final_checks is None else final_checks
        self.known_pending = known_pending  # pending ids at the last listing (None before the first)
        # files the environment reads that the gate does not guard and could (inside the project, not
        # left so on purpose): what the Guard action adds to `[guard] files`
        self.guardable: tuple[str, ...] = ()
        self._generations: dict[CheckKey, int] = {}

    # -- proposals ---------------------------------------------------------------------------------

    def set_entries(self, entries: Iterable[ProposalEntry], quarantined: Iterable[str], *, initial: bool = False) -> list[Proposal]:
        """Take a new listing; returns the proposals that became pending since the last one (none at first)."""
        self.entries = {entry.proposal.id: entry for entry in entries}
        self.quarantined = frozenset(quarantined)
        pending = self.pending_ids()
        new: list[Proposal] = []
        if self.known_pending is not None and not initial:
            new = [self.entries[pid].proposal for pid in pending - self.known_pending]
        self.known_pending = pending
        return new

    def pending_ids(self) -> set[str]:
        return {pid for pid, entry in self.entries.items() if entry.status == "pending"}

    def oldest_pending(self) -> str | None:
        pending = self.pending_ids()
        return min(pending, key=lambda pid: self.entries[pid].proposal.created_at) if pending else None

    def selected_entry(self) -> ProposalEntry | None:
        key = self.selected_key
        return self.entries.get(key) if key else None

    def selected_pending(self) -> ProposalEntry | None:
        entry = self.selected_entry()
        return entry if entry is not None and entry.status == "pending" else None

    def pending(self, pid: str) -> ProposalEntry | None:
        entry = self.entries.get(pid)
        return entry if entry is not None and entry.status == "pending" else None

    # -- checks ------------------------------------------------------------------------------------

    def needs_check(self, pid: str) -> bool:
        """A pending proposal never checked (nor being checked)."""
        return pid not in self.validations and CheckKey.proposal(pid) not in self._generations

    def start_check(self, key: CheckKey) -> int:
        """A new run of `key`'s check begins: its generation (results of older runs are then dropped)."""
        generation = self._generations.get(key, 0) + 1
        self._generations[key] = generation
        if key.kind is CheckKind.FINAL:
            self.final_checks.pop(key.proposal_id, None)
        return generation

    def is_current(self, key: CheckKey, generation: int) -> bool:
        return self._generations.get(key) == generation

    def record_check(self, key: CheckKey, check: Check) -> None:
        if key.kind is CheckKind.PROPOSAL:
            self.validations[key.proposal_id] = check
        elif key.kind is CheckKind.FINAL:
            self.final_checks[key.proposal_id] = check

    def stale_checks(self, paths: set[str]) -> list[str]:
        """A guarded file changed: the pending proposals touching it, whose checks are dropped (to run again)."""
        stale = [pid for pid, entry in self.entries.items() if entry.status == "pending" and paths & set(entry.proposal.paths)]
        for pid in stale:
            self.validations.pop(pid, None)
        return stale

    def check_of(self, pid: str) -> Check:
        return self.validations.get(pid, NO_CHECK)

    # -- the person's choices: hunks and edits -------------------------------------------------------

    def choose_hunks(self, pid: str, path: str, selected: Iterable[int], total: int) -> None:
        """The hunks chosen for one file of a pending proposal; all of them = approve it as proposed."""
        chosen = frozenset(selected)
        if len(chosen) == total:
            self.hunks.pop((pid, path), None)
        else:
            self.hunks[(pid, path)] = chosen

    def chosen_hunks(self, pid: str, path: str) -> frozenset[int] | None:
        """The hunks chosen for a file (None = all, as proposed)."""
        return self.hunks.get((pid, path))

    def final_content(self, pid: str, change: FileChange) -> tuple[str | None, frozenset[int] | None]:
        """What approval would write for one file of a proposal, and the chosen hunks (None = all / edited)."""
        edits = self.edited.get(pid, {})
        if change.path in edits:
            return edits[change.path], None
        return change.new_content, self.hunks.get((pid, change.path))

    def differs_from_proposal(self, entry: ProposalEntry) -> bool:
        """Whether approving would write something else than proposed (edited, or some hunks left out)."""
        pid = entry.proposal.id
        return bool(self.edited.get(pid)) or any((pid, c.path) in self.hunks for c in entry.proposal.changes)

    def final_texts(self, entry: ProposalEntry, current: Mapping[str, str | None]) -> dict[str, str]:
        """Exactly what approving would write, per path (edited text, or the chosen hunks applied)."""
        from omni_tui.core.textdiff import apply_hunks

        texts = {}
        for change in entry.proposal.changes:
            content, chosen = self.final_content(entry.proposal.id, change)
            if chosen is not None:
                content = apply_hunks(current.get(change.path) or "", change.new_content, set(chosen))
            texts[change.path] = content or ""
        return texts

    def approved_hunks(self, entry: ProposalEntry) -> dict[str, set[int]]:
        """The hunk choices an approval records (edited files are applied whole)."""
        pid = entry.proposal.id
        edits = self.edited.get(pid, {})
        return {
            change.path: set(chosen)
            for change in entry.proposal.changes
            if change.path not in edits and (chosen := self.hunks.get((pid, change.path))) is not None
        }

    def set_edit(self, pid: str, path: str, text: str) -> bool:
        """Keep the person's edit of one file (its hunk choice no longer applies); True when it differs
        from the proposal (an edit back to the proposed text is forgotten)."""
        entry = self.entries.get(pid)
        original = entry.proposal.change(path).new_content if entry is not None else None
        edits = self.edited.setdefault(pid, {})
        if text == original:
            edits.pop(path, None)
        else:
            edits[path] = text
            self.hunks.pop((pid, path), None)
        if not edits:
            self.edited.pop(pid, None)
        return text != original

    def forget_decided(self) -> None:
        """Forget edits of proposals that are no longer pending."""
        for pid in list(self.edited):
            if self.pending(pid) is None:
                self.edited.pop(pid, None)

    def approval_check(self, entry: ProposalEntry) -> Check:
        """The proposal's check, or, when it was edited / partly chosen, the check of what will be written
        (plus the proposal's stale base, which still holds)."""
        pid = entry.proposal.id
        check = self.check_of(pid)
        if check.error is not None or not self.differs_from_proposal(entry):
            return check
        final = self.final_checks.get(pid)
        if final is None or final.error is not None or final.validation is None:
            return final if final is not None else NO_CHECK
        validation = check.validation
        stale = tuple(issue for issue in (validation.issues if validation is not None else ()) if issue.kind == "stale")
        return Check(Validation(stale + tuple(final.validation.issues), final.validation.nix_checked, final.validation.notes), None)

    # -- the gate ----------------------------------------------------------------------------------

    def unapproved(self) -> list[str]:
        return list(self.gate.unapproved) if self.gate is not None else []

    @property
    def rebuilding(self) -> bool:
        return self.rebuilding_here or (self.gate is not None and self.gate.kind == "rebuilding")

    def remote_holder(self) -> Holder | None:
        """The gate's holder when it is another process (this cockpit's own rebuild is `rebuilding_here`)."""
        holder = self.gate.holder if self.gate is not None else None
        if holder is None or self.rebuilding_here or holder.pid == os.getpid():
            return None
        return holder

    def failed_proposal(self) -> str | None:
        gate = self.gate
        if gate is None or gate.kind != "failed":
            return None
        return gate.failed.proposal_id if gate.failed is not None else None

    def describe_holder(self, holder: Holder) -> str:
        """Who holds the gate, naming the proposal by its title (people know titles, not ids).

        Raw agent text (titles, names): the UI makes it inert where it shows it."""
        entry = self.entries.get(holder.proposal_id) if holder.proposal_id else None
        if entry is None:
            return holder.describe()
        by = f" by {holder.who}" if holder.who else ""
        pid = f" (pid {holder.pid})" if holder.pid else ""
        return f"{holder.action} of “{entry.proposal.title}”{by}{pid}"

    def busy_reason(self) -> str:
        remote = self.remote_holder()
        if remote is not None:
            return f"The gate is busy: {self.describe_holder(remote)} is running in another cockpit; wait for it to finish"
        return f"A rebuild is running; wait for it or cancel it ({self.keys.get('cancel_rebuild', 'c')})"

    # -- what each action needs --------------------------------------------------------------------

    def why_unavailable(self, action: str, focus: Focus) -> str | None:
        """None when `action` can run now, else one line saying why not (what the footer greys out)."""
        if action in TAMPER_REFUSED and self.gate is not None and (self.gate.kind == "tampered" or self.gate.tampered):
            # the gate refuses these until a person resolves it: say so before the modal, not after it
            return f"The gate is TAMPERED: files or records changed behind its back; resolve that first ({self.keys.get('resolve_tampered', 'T')})"
        if action in ("approve", "reject", "edit"):
            entry = self.selected_entry()
            if entry is None:
                if not self.selected_key:
                    return "No proposal selected: pick one in the Proposals panel"
                return "That is an invalid (quarantined) file, not a proposal"
            if entry.status != "pending":
                return f"This proposal is {entry.status}, no longer pending"
            if action != "reject" and self.rebuilding:
                return self.busy_reason()
            if action != "reject" and self.rebuild_problem:
                return self.rebuild_problem
            return None
        if action == "toggle_hunk":
            if focus.panel is not Panel.PROPOSALS:
                return "Hunks are chosen in a proposal's diff: move to the Proposals panel (tab)"
            if self.selected_pending() is None:
                return "Select a pending proposal to choose its hunks"
            if self.selected_key in self.edited and focus.shown_path in self.edited[self.selected_key]:
                return "You edited this file; the edited text is applied whole"
            return None
        if action in ("next_hunk", "previous_hunk", "toggle_split", "next_file"):
            if not focus.diff:
                return "Move to the Changes panel or a proposal's diff first (tab)"
            if action == "next_file" and focus.files < 2:
                return "Only one file differs here"
            return None
        if action in ("accept_direct", "revert_direct"):
            if not self.unapproved():
                return "No unapproved direct edits"
            if self.rebuilding:
                return self.busy_reason()
            if action == "accept_direct" and self.rebuild_problem and not config_only(self.unapproved()):
                return self.rebuild_problem  # (omni-tui's configuration alone is accepted without a rebuild)
            return None
        if action == "guard_unguarded":
            if not self.guardable:
                return "No unguarded file to guard: the environment reads only guarded files (or ones left so on purpose)"
            if self.unapproved():
                return f"Accept ({self.keys.get('accept_direct', 'A')}) or revert ({self.keys.get('revert_direct', 'u')}) the unapproved edits first"
            if self.rebuilding:
                return self.busy_reason()
            return None
        if action == "cancel_rebuild":
            return None if self.rebuilding_here else "No rebuild is running in this cockpit"
        if action == "rollback":
            if self.rebuilding:
                return self.busy_reason()
            return None if self.failed_proposal() else "Nothing to roll back: no failed rebuild"
        if action in ("restart_process", "stop_process", "process_log"):
            if focus.panel is not Panel.PROCESSES:
                return "Process actions work in the Processes panel: move there with tab"
            if self.selected_process is None:
                return "No process selected"
            if action != "process_log":
                verb = "restart" if action == "restart_process" else "stop"
                control = self.processes.control if self.processes is not None else None
                if control is not None and verb not in getattr(control, "actions", frozenset({verb})):
                    # A backend that is not a process manager says how it found the process (`found_by`):
                    # the name of a library is no answer to "why can't I restart it?"
                    found_by = getattr(control, "found_by", None)
                    if found_by:
                        can = " and ".join(sorted(control.actions))
                        return (
                            f"Cannot {verb} {self.selected_process} from here: it was {found_by}, which can {can} one"
                            f" but not {verb} it; {verb} it through the process manager that started it"
                        )
                    return f"The {getattr(control, 'name', 'current')} backend cannot {verb} processes"
                info = self.processes.get(self.selected_process) if self.processes is not None else None
                if verb == "stop" and info is not None and not info.alive:
                    return f"{self.selected_process} is not running ({info.state}): nothing to stop"
            return None
        return None

    def in_context(self, action: str, focus: Focus) -> bool:
        """Whether a panel-bound action belongs to where the person is (else the footer hides it)."""
        if action == "next_file":
            return focus.files > 1
        if action == "toggle_hunk":
            return focus.panel is Panel.PROPOSALS and self.selected_pending() is not None
        if action in ("next_hunk", "previous_hunk", "toggle_split"):
            return focus.diff
        return focus.panel is Panel.PROCESSES

    def footer_state(self, action: str, focus: Focus, *, narrow: bool = False) -> bool | None:
        """Textual's check_action answer for a cockpit action: True (shown), None (shown greyed), False (hidden)."""
        if action in ("next_panel", "previous_panel"):
            return not focus.modal
        if self.why_unavailable(action, focus) is None:
            return True  # (False would also stop the key: Textual skips a hidden binding)
        if narrow and action in NARROW_HOME and focus.panel is not NARROW_HOME[action]:
            return False
        if action in CONTEXT_ACTIONS and not self.in_context(action, focus):
            return False  # hidden: it belongs to another panel (pressing it still says why)
        if action in STATE_ACTIONS:
            return False
        if action in WIDE_ONLY_ACTIONS and narrow:
            return False
        return None
