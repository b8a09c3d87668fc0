"""What happened to a proposal, in one line: the one presenter the cockpit, the CLI and the agents share.

`decision_line(decision)` → e.g.

    applied by alice (exit 0, 1.5 s)
    applied by alice (hunks 1, 3 of 4 of devenv.nix; exit 0, 1.5 s)
    rebuild failed (exit 1, 0.1 s) — rolled back automatically
    rebuild cancelled (0.4 s) — rolled back by alice
    rebuild failed (exit 1, 0.1 s) — approved by alice, not rolled back
    rejected by alice: use the pinned version
    withdrawn by codex: superseded
    applied (devenv.nix edited directly, accepted by alice; exit 0, 1.5 s)   (`direct=True`: `A`)

Each fact appears once: a reason that only repeats the status or the exit code (`rebuild failed:
exit 1`, `rolled back by alice after: rebuild failed: exit 1`) is not repeated. Hunks are numbered
from 1, as the cockpit shows them. Agent text in reasons is made inert by the caller that shows it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni_tui.core.proposals import AppliedFile, Decision

APPLY_FAILED = "apply failed:"  # core/gate/decisions.py: a failed write (e.g. no space left), not a failed rebuild
_ROLLED_BACK_BY = re.compile(r"^rolled back by (?P<who>.+?)(?: after: (?P<cause>.*))?$", re.DOTALL)
_REDUNDANT = re.compile(r"^rebuild failed(?:: exit -?\d+)?$")


def hunks_text(applied: AppliedFile) -> str:
    """`hunks 1, 3 of 4 of devenv.nix` (1-based, as the cockpit numbers them), or "" when not partial."""
    if applied.applied != "hunks" or applied.hunks is None:
        return ""
    chosen = ", ".join(str(index + 1) for index in sorted(applied.hunks)) or "none"
    total = f" of {applied.hunks_total}" if applied.hunks_total is not None else ""
    word = "hunk" if len(applied.hunks) == 1 else "hunks"
    return f"{word} {chosen}{total} of {applied.path}"


def _figures(decision: Decision) -> list[str]:
    figures = []
    if decision.exit_code is not None:
        figures.append(f"exit {decision.exit_code}")
    if decision.duration_s is not None:
        figures.append(f"{decision.duration_s:.1f} s")
    return figures


def _by(who: str | None, via: str | None = None) -> str:
    if not who:
        return ""
    return f" by {who}" + (" (web)" if via == "web" else "")


def _rebuild_headline(cause: str) -> str:
    if cause.startswith("rebuild cancelled"):
        return "rebuild cancelled"
    if cause.startswith("rebuild timed out"):
        return "rebuild timed out"
    return "rebuild failed"


def _cause_beyond(cause: str, headline: str) -> str:
    """The part of a failure reason the headline and figures do not already say."""
    cause = cause.strip()
    if not cause or _REDUNDANT.match(cause) or cause == headline or cause.startswith(("rebuild cancelled", "rebuild timed out")):
        return ""
    return cause.removeprefix("rebuild failed: ")


def decision_line(decision: Decision, *, direct: bool = False) -> str:
    """One line for a person (or an agent) saying what happened to the proposal; see the module docstring.

    `direct`: the decision accepted direct edits (`A`), no proposal: its files were edited directly
    and a person accepted them — not "edited before approval", nor "approved"."""
    status = decision.status
    reason = (decision.reason or "").strip()
    figures = _figures(decision)
    by = _by(decision.who, getattr(decision, "via", None))
    files = getattr(decision, "files", ())
    if direct and status == "applied":
        edited = ", ".join(f.path for f in files) or "the direct edits"
        details = (
            [f"{edited} edited directly, accepted{by}", ", ".join(figures)] if figures else [f"{edited} edited directly, accepted{by}"]
        )
        return "applied (" + "; ".join(details) + ")" + (f": {reason}" if reason else "")
    if direct:  # the other outcomes read as for a proposal, the person's act named as what it was
        return decision_line(decision).replace(f"approved{by}", f"accepted{by}")
    if status == "applied":
        details = [text for text in (hunks_text(f) for f in files) if text]
        details += [f"{f.path} edited before approval" for f in files if f.applied == "edited"]
        inside = "; ".join([*details, ", ".join(figures)] if figures else details)
        return f"applied{by}" + (f" ({inside})" if inside else "") + (f": {reason}" if reason else "")
    if status in ("rejected", "withdrawn"):
        return f"{status}{by}" + (f": {reason}" if reason else "")
    if status == "stale":
        return "stale: the file changed before the decision" + (f" ({reason})" if reason else "")
    if status == "tampered":
        return "tampered: not a person's decision" + (f" ({reason})" if reason else "")
    if status in ("applying", "rebuilding"):
        return f"{status} (approved{by})"
    in_brackets = f" ({', '.join(figures)})" if figures else ""
    if status == "failed":
        if reason.startswith(APPLY_FAILED):
            return f"not applied: {reason.removeprefix(APPLY_FAILED).strip()} — approved{by}"
        headline = _rebuild_headline(reason)
        extra = _cause_beyond(reason, headline)
        return f"{headline}{in_brackets}" + (f": {extra}" if extra else "") + f" — approved{by}, not rolled back"
    if status == "rolled_back":
        match = _ROLLED_BACK_BY.match(reason)
        if match:  # a person rolled it back: who, after what
            cause, rolled = (match.group("cause") or "").strip(), f" by {match.group('who')}"
        else:  # rolled back automatically by the gate ([rebuild] auto_rollback)
            cause, rolled = reason, " automatically"
        if cause.startswith("interrupted"):
            return f"{cause} — rolled back{rolled}"
        headline = _rebuild_headline(cause)
        extra = _cause_beyond(cause, headline)
        return f"{headline}{in_brackets}" + (f": {extra}" if extra else "") + f" — rolled back{rolled}"
    return status.replace("_", " ") + by + (f": {reason}" if reason else "")
