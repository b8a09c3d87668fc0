"""Plain data the modal screens show: what an approval will do, and the key list for help.

The app builds these from the core types; the screens only display them, so a screen never
needs a workspace, a store or a gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileSummary:
    """One file of an approval: lines added/removed by what will be applied, and hunks chosen of all."""

    path: str
    added: int
    removed: int
    hunks_selected: int
    hunks_total: int
    new_file: bool = False

    @property
    def partial(self) -> bool:
        return self.hunks_selected < self.hunks_total


@dataclass(frozen=True)
class ApprovalCheck:
    """One validation result: `ok` True passed, False failed (blocks approval), None not checked."""

    label: str
    ok: bool | None
    detail: str = ""


@dataclass(frozen=True)
class ApprovalSummary:
    """Everything the approve modal shows; `rebuild_command` None means nothing will be rebuilt."""

    title: str
    files: tuple[FileSummary, ...]
    checks: tuple[ApprovalCheck, ...] = ()
    rebuild_command: str | None = None
    restart_command: str | None = None
    no_rebuild: str = ""  # why nothing is rebuilt and that is fine (omni-tui's configuration alone); "" otherwise
    agent: str = ""
    proposal_id: str = ""
    rationale: str = ""  # the agent's "why", in its own words (shown inert, wrapped, in full)
    action: str = "Approve"  # the verb on the confirm key: "Approve", "Accept edits", ...
    edited: bool = False  # the person edited the proposed content before approving
    card: Any = None  # the change card of what will be written (core.card.Card), None while computed
    card_note: str = ""  # why there is no card yet ("computing…", "could not be computed (…)")
    confirm: tuple[str, ...] = ()  # `[policy] confirm` names this change matches: the person types them to approve
    confirm_waiting: bool = False  # a confirm policy exists and the card is not known yet: approving waits for it

    @property
    def failed_checks(self) -> tuple[ApprovalCheck, ...]:
        return tuple(check for check in self.checks if check.ok is False)

    @property
    def block_reason(self) -> str | None:
        """Why approving cannot go ahead (a failed check, nothing selected), or None."""
        failed = self.failed_checks
        if failed:
            return "; ".join(f"{c.label}: {c.detail}" if c.detail else f"{c.label} failed" for c in failed)
        if self.confirm_waiting:
            return "the change card is still being computed ([policy] confirm may ask you to type a risk's name)"
        if sum(f.hunks_selected for f in self.files) == 0:
            return "nothing to apply: no hunk is selected"
        return None

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


@dataclass(frozen=True)
class HelpEntry:
    """One key of the help screen: the key as shown, and what it does."""

    key: str
    description: str


@dataclass(frozen=True)
class HelpSection:
    """The keys of one panel (or of the whole cockpit), in binding order."""

    title: str
    entries: tuple[HelpEntry, ...]
