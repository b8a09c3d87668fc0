"""Core data → what the widgets show: queue rows, ages, validation checks, approval summaries.

Pure functions (no Textual, no disk), so the cockpit's wording is tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from os import PathLike
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from omni_tui.core.history import HISTORY_STATUSES
from omni_tui.core.safefs import sha256_text
from omni_tui.core.textdiff import diff_texts
from omni_tui.core.validate import DELETION_NOTE
from omni_tui.ui.widgets.proposal_detail import Check, DetailFile, ProposalView
from omni_tui.ui.widgets.proposal_queue import QueueRow

if TYPE_CHECKING:
    from omni_tui.ui.screens.summaries import ApprovalCheck, FileSummary

IN_FLIGHT = ("applying", "rebuilding")
# How many decided proposals the queue keeps showing under the pending ones.
DECIDED_SHOWN = 30
# How many quarantined (invalid) files it shows: the newest; all stay in `.devenv/omni/quarantine/`.
QUARANTINE_SHOWN = 5


def project_path(root: str | PathLike[str], path: str | PathLike[str]) -> str:
    """`path` as the person reads it: relative to the project root when inside it, else as given."""
    try:
        return str(PurePath(path).relative_to(root))
    except ValueError:
        return str(path)


def parse_time(stamp: str) -> datetime | None:
    """An ISO-8601 time as the store writes it (`...Z` or with an offset); None when unreadable."""
    return _parse_time(stamp) if isinstance(stamp, str) else None


@lru_cache(maxsize=32768)
def _parse_time(stamp: str) -> datetime | None:
    # Cached: the queue computes the age of every row (10,000) on each refresh, from stamps that never change.
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


@lru_cache(maxsize=32768)
def _stamp_us(stamp: str) -> int | None:
    """A store's stamp as microseconds since the epoch, exactly (None when unreadable); cached like `_parse_time`."""
    when = _parse_time(stamp)
    return None if when is None else _micros(when)


def _micros(when: datetime) -> int:
    return ((when if when.tzinfo else when.replace(tzinfo=UTC)) - _EPOCH) // _MICRO


def format_age(stamp: str, now: datetime) -> str:
    """`12s`, `4m`, `3h`, `2d` since `stamp`; `?` when unreadable; a time in the future counts as now."""
    return _age_text(stamp, _micros(now))


def _age_text(stamp: str, now_us: int) -> str:
    """`format_age` with `now` in microseconds since the epoch (the queue works out 10,000 ages per refresh:
    whole microseconds, exactly as the datetimes count them, and `now` converted once)."""
    when = _stamp_us(stamp) if isinstance(stamp, str) else None
    if when is None:
        return "?"
    seconds = max(0, (now_us - when) // 1_000_000)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def validation_checks(
    validation: Any, error: str | None = None, *, base: bool = True, paths: Iterable[str] | None = None
) -> tuple[Check, ...]:
    """The three questions a person asks before approving: does Nix parse, is the base current, size/encoding ok.

    `base=False` for the direct edits: they are what is on disk, there is no base to be stale.
    `paths`: the files it writes; with no `.nix` among them there is no Nix to parse, and it says so.
    """
    if error is not None:
        return (Check(False, f"validation failed: {error}"),)
    if validation is None:
        return (Check(None, "validating…: Nix parse, size and UTF-8"),)
    issues = tuple(validation.issues)

    def of(*kinds: str) -> list[Any]:
        return [issue for issue in issues if issue.kind in kinds]

    checks: list[Check] = []
    # A deleted file is neither parsed nor "ok": it is said as it is ("devenv.nix would be deleted").
    deletions = [note for note in validation.notes if note.endswith(DELETION_NOTE)]
    gone = {note.removesuffix(DELETION_NOTE) for note in deletions}
    if paths is not None:
        paths = [path for path in paths if path not in gone]
    checks.extend(Check(None, note) for note in deletions)
    nix = of("nix")
    if nix:
        checks.append(Check(False, "Nix: " + nix[0].describe()))
    elif paths is not None and not any(path.endswith(".nix") for path in paths):
        checks.append(Check(True, "no .nix file to parse"))
    elif validation.nix_checked:
        checks.append(Check(True, "Nix parses"))
    else:
        why = "; ".join(note.removesuffix(": Nix syntax not checked") for note in validation.notes if note not in deletions)
        why = why or "the content is not valid UTF-8 or too large"
        checks.append(Check(None, f"Nix not checked: {why}"))
    stale = of("stale")
    if base or stale:
        checks.append(Check(False, "stale: " + stale[0].message) if stale else Check(True, "base current"))
    sized = of("size", "encoding")
    checks.append(Check(False, sized[0].describe()) if sized else Check(True, "size/encoding ok"))
    for issue in of("path"):
        checks.append(Check(False, issue.describe()))
    return tuple(checks)


def approval_checks(
    validation: Any, error: str | None = None, *, base: bool = True, paths: Iterable[str] | None = None
) -> tuple[ApprovalCheck, ...]:
    """The same checks in the approve modal's terms."""
    from omni_tui.ui.screens.summaries import ApprovalCheck

    out = []
    for check in validation_checks(validation, error, base=base, paths=paths):
        label, _, detail = check.text.partition(": ")
        out.append(ApprovalCheck(label, check.ok, detail))
    return tuple(out)


def badge(status: str, validation: Any, error: str | None = None) -> tuple[str, str]:
    """The queue's Check column: (text, kind ok|bad|warn|none)."""
    if status != "pending":
        return ("", "none")
    if error is not None:
        return ("✗ error", "bad")
    if validation is None:
        return ("…", "none")
    if validation.ok:
        return ("✓ ok", "ok") if validation.nix_checked else ("✓ ok*", "warn")
    kinds = {issue.kind for issue in validation.issues}
    if "stale" in kinds:
        return ("✗ stale", "bad")
    if "nix" in kinds:
        return ("✗ nix", "bad")
    return ("✗ " + sorted(kinds)[0], "bad")


def quarantine_key(item: Any) -> str:
    return f"quarantine:{item.path.name}"


def queue_rows(
    entries: Iterable[Any],
    quarantined: Iterable[Any],
    validations: Mapping[str, tuple[Any, str | None]],
    now: datetime,
    cache: dict[str, tuple[Any, Any, str, QueueRow]] | None = None,
    *,
    keep_ages: bool = False,
) -> list[QueueRow]:
    """Pending (oldest first), then in flight, then the newest invalid files, then the latest decided (newest first).

    `cache` (the caller's, kept between calls): a row built from the very same entry and check objects
    (both immutable) at the same age is the row of the last call, the same object — 10,000 rows are not
    built again for a few that changed, and the queue tells an unchanged row by identity.
    `keep_ages`: a cached row whose entry and check are unchanged is kept with the age it shows (its age
    is not worked out again: the caller moves ages on its own, `landed_rows` at the new time); rows new
    or changed get their age at `now`."""
    pending, flying, decided = _queue_groups(entries)
    rows: list[QueueRow] = []
    now_us = _micros(now)
    built: dict[str, tuple[Any, Any, str, QueueRow]] = {}
    old = cache if cache is not None else {}
    for entry in [*pending, *flying]:
        rows.append(_entry_row(entry, validations, now_us, old, built, keep_ages))
    for item in list(quarantined)[:QUARANTINE_SHOWN]:  # the store lists them newest first
        rows.append(QueueRow(quarantine_key(item), "?", item.path.name, "", "invalid", "✗ invalid", "bad"))
    for entry in decided:
        rows.append(_entry_row(entry, validations, now_us, old, built, keep_ages))
    if cache is not None:
        cache.clear()
        cache.update(built)
    return rows


def landed_rows(
    entries: Iterable[Any],
    validations: Mapping[str, tuple[Any, str | None]],
    now: datetime,
    cache: dict[str, tuple[Any, Any, str, QueueRow]],
) -> list[QueueRow]:
    """The rows of these entries alone (their checks just landed), kept in `queue_rows`' cache."""
    now_us = _micros(now)
    return [_entry_row(entry, validations, now_us, cache, cache) for entry in entries]


def _queue_groups(entries: Iterable[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """(pending oldest first, in flight, the latest `DECIDED_SHOWN` decided newest first)."""
    entries = list(entries)
    pending = sorted((e for e in entries if e.status == "pending"), key=lambda e: e.proposal.created_at)
    flying = [e for e in entries if e.status in IN_FLIGHT]
    decided = sorted(
        (e for e in entries if e.status not in IN_FLIGHT and e.status != "pending"),
        key=lambda e: e.decision.decided_at if e.decision else e.proposal.created_at,
        reverse=True,
    )[:DECIDED_SHOWN]
    return pending, flying, decided


def shown_entries(entries: Iterable[Any]) -> list[Any]:
    """The entries the queue shows, in its order (the worker reads history only for these)."""
    pending, flying, decided = _queue_groups(entries)
    return [*pending, *flying, *decided]


def _entry_row(
    entry: Any,
    validations: Mapping[str, tuple[Any, str | None]],
    now_us: int,
    old: Mapping[str, tuple[Any, Any, str, QueueRow]],
    built: dict[str, tuple[Any, Any, str, QueueRow]],
    keep_age: bool = False,
) -> QueueRow:
    proposal = entry.proposal
    check = validations.get(proposal.id)
    known = old.get(proposal.id)
    # The same entry: each listing brings new entry tuples, of the store's same proposal objects (a
    # cheap equality), and a row rebuilt for each of 10,000 entries at every listing held keys.
    same = known is not None and known[1] is check and (known[0] is entry or known[0] == entry)
    if same and keep_age:
        built[proposal.id] = known
        return known[3]
    age = _age_text(proposal.created_at, now_us)
    if same and known[2] == age:
        built[proposal.id] = known
        return known[3]
    validation, error = check if check is not None else (None, None)
    text, kind = badge(entry.status, validation, error)
    row = QueueRow(proposal.id, proposal.agent, proposal.title, age, entry.status, text, kind)
    built[proposal.id] = (entry, check, age, row)
    return row


def decision_note(entry: Any) -> str:
    """One line about what happened to a decided proposal (`core.decision_line`, shared with the CLI and agents)."""
    from omni_tui.core.decision_line import decision_line

    decision = entry.decision
    if decision is None:
        return ""
    return decision_line(decision)  # says "(web)" for a decision made in a browser session of `omni-tui serve`


# Proposals the gate wrote (`HISTORY_STATUSES`) show the change applied (from the backups), not today's file.
HISTORY_LABELS = {
    "applying": "Being applied: before → after, from the backup",
    "rebuilding": "Rebuilding with it: before → after, from the backup",
    "applied": "Applied: before → after, from the backup",
    "failed": "Failed: before → what was written; the rebuild failed",
    "rolled_back": "Rolled back: this change was tried and undone",
}
# How an approval differed from the proposal (per `AppliedFile.applied`), added to the label.
HOW_APPLIED = {"hunks": "chosen hunks only", "edited": "edited before approval"}
NO_HISTORY = "No backup of this change: the file now → the proposal"
# A proposal that was not applied (rejected, stale, withdrawn) shows its change against the file it was
# made on (today's file, the baseline or a backup holding those bytes); never against a later file.
NOT_AT_BASE = "No diff for {paths}: the file it was proposed against is kept nowhere (not on disk, in the baseline or a backup)"


def history_label(entry: Any) -> str:
    """What the decided proposal's diff shows: which change, and how it differed from the proposal."""
    label = HISTORY_LABELS[entry.status]
    files = entry.decision.files if entry.decision is not None else ()
    how = [HOW_APPLIED[mode] for mode in ("hunks", "edited") if any(f.applied == mode for f in files)]
    return " · ".join([label, *how])


def proposal_view(
    entry: Any,
    current: Mapping[str, str | None],
    validation: Any,
    error: str | None,
    edited: Mapping[str, str],
    now: datetime,
    history: Mapping[str, tuple[str | None, str | None]] | None = None,
    baselines: Mapping[str, str | None] | None = None,
) -> ProposalView:
    """The detail panel's view of a proposal: current files against what would be written (edited wins);
    for one the gate wrote, `history` (path → before, written; from `core.history`) when it is known;
    for one not applied, its change against the file it was made on (today's, the `baselines` text, or the
    text a backup kept, passed as `history`: path → base text), or no diff and a label saying its base is gone."""
    proposal = entry.proposal
    label = ""
    shows_history = entry.status in HISTORY_STATUSES and history is not None
    if shows_history:
        files = tuple(DetailFile(path, before, after) for path, (before, after) in history.items())
        label = history_label(entry)
    elif entry.status in NOT_APPLIED:
        # `history` here: path → base text found only in a backup (workers.HistoryCache, core.history.kept_bases).
        kept: Mapping[str, str | None] = history or {}  # type: ignore[assignment]
        bases = [_base_text(change, current, baselines or {}, kept) for change in proposal.changes]
        files = tuple(DetailFile(c.path, text, c.new_content) for c, (text, found) in zip(proposal.changes, bases) if found)
        missing = [c.path for c, (_text, found) in zip(proposal.changes, bases) if not found]
        if missing:
            label = NOT_AT_BASE.format(paths=", ".join(missing))
    else:
        files = tuple(
            DetailFile(change.path, current.get(change.path), edited.get(change.path, change.new_content)) for change in proposal.changes
        )
        if entry.status in HISTORY_STATUSES and entry.status not in IN_FLIGHT:  # (in flight: still backing up)
            label = NO_HISTORY
    checks = validation_checks(validation, error, paths=entry.proposal.paths) if entry.status == "pending" else ()
    note = decision_note(entry)
    if edited:
        note = (note + " · " if note else "") + "edited by you: " + ", ".join(sorted(edited)) + " (the edited text is what approval writes)"
    return ProposalView(
        key=proposal.id,
        title=proposal.title,
        agent=proposal.agent,
        state=entry.status,
        created=f"{format_age(proposal.created_at, now)} ago",
        rationale=proposal.rationale,
        checks=checks,
        files=files,
        note=note,
        diff_label=label,
        history=shows_history,
    )


# Decided without writing anything: the diff is the change as proposed, not an undo of what came later.
NOT_APPLIED = ("rejected", "stale", "withdrawn")


def _base_text(
    change: Any, current: Mapping[str, str | None], baselines: Mapping[str, str | None], kept: Mapping[str, str | None]
) -> tuple[str | None, bool]:
    """(the text `change` was proposed against, found): today's file or the baseline when one still hashes to
    its base_sha256 (None = the file did not exist), else the text a backup kept (`kept`); else (None, False)."""
    for text in (current.get(change.path), baselines.get(change.path)):
        if (None if text is None else sha256_text(text)) == change.base_sha256:
            return text, True
    if change.path in kept:
        return kept[change.path], True
    return None, False


def quarantine_view(item: Any) -> ProposalView:
    """A file moved to `quarantine/`: a proposal file that is not one, or a decision file the cockpit did not write."""
    name = item.path.name
    proposal_id = item.decision_for
    if proposal_id is not None:
        # Only the cockpit writes decisions, always well-formed: this one was written behind the gate's back.
        heading = (
            f"A decision file for {proposal_id} that the cockpit did not write, moved aside "
            "(the proposal stays undecided until you decide it here): "
        )
        return ProposalView(key=quarantine_key(item), title=name, agent="?", state="invalid", error=item.error, error_heading=heading)
    return ProposalView(key=quarantine_key(item), title=name, agent="?", state="invalid", error=item.error)


def file_summary(path: str, old: str | None, new: str | None, selected: set[int] | None) -> FileSummary:
    """+/- lines and hunks chosen for one file; `selected` None = every hunk."""
    from omni_tui.ui.screens.summaries import FileSummary

    diff = diff_texts(old or "", new or "")
    total = len(diff.hunks)
    chosen = set(range(total)) if selected is None else {i for i in selected if 0 <= i < total}
    added = sum(diff.hunks[i].added for i in chosen)
    removed = sum(diff.hunks[i].removed for i in chosen)
    return FileSummary(path, added, removed, len(chosen), total, new_file=old is None)


def files_summary(pairs: Sequence[tuple[str, str | None, str | None, set[int] | None]]) -> tuple[FileSummary, ...]:
    return tuple(file_summary(*pair) for pair in pairs)
