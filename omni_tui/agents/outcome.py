"""What a decision means for the agent that proposed: one message per final status, and a JSON-able summary.

Shared by the Claude Code hook (which turns the message into a `permissionDecisionReason`)
and the MCP server (which returns it with the decision's fields), so every agent reads
the same words for the same outcome.
"""

from __future__ import annotations

from typing import Any

from omni_tui.core.decision_line import APPLY_FAILED, decision_line, hunks_text
from omni_tui.core.proposals import Decision

LAST_LINES_SHOWN = 8


def _build_tail(decision: Decision) -> str:
    lines = [line for line in (decision.last_lines or ()) if line.strip()][-LAST_LINES_SHOWN:]
    return (" Last build lines: " + " | ".join(line.strip() for line in lines)) if lines else ""


def _exit(decision: Decision) -> str:
    return "no exit code" if decision.exit_code is None else f"exit {decision.exit_code}"


def _by(decision: Decision) -> str:
    return f" by {decision.who}" if decision.who else ""


def _because(decision: Decision) -> str:
    return f": {decision.reason}" if decision.reason else ""


def explain(decision: Decision, paths: str) -> str:
    """One paragraph telling the agent what happened to its proposal and what to do next.

    `paths` names the proposal's files (e.g. "devenv.nix") for the message.
    """
    pid = decision.proposal_id
    status = decision.status
    if status == "applied":
        return (
            f"omni-tui: proposal {pid} was approved{_by(decision)} and the cockpit already applied it to "
            f"{paths} and rebuilt the environment ({_exit(decision)}). Do not apply this change again; "
            f"{_what_was_applied(decision, paths)}{_note(decision)}"
        )
    if status == "rejected":
        reason = decision.reason or "no reason given"
        return f"omni-tui: proposal {pid} was rejected{_by(decision)}: {reason}. {paths} is unchanged."
    if status == "rolled_back":
        return (
            f"omni-tui: proposal {pid} was approved{_by(decision)} but the rebuild failed ({_exit(decision)}), "
            f"so the change was rolled back and {paths} is as before.{_build_tail(decision)}"
        )
    if status == "failed" and (decision.reason or "").startswith(APPLY_FAILED):
        return (
            f"omni-tui: proposal {pid} was approved{_by(decision)} but could not be written{_because(decision)}. "
            f"Nothing was rebuilt and {paths} is unchanged; propose it again once the cause is fixed."
        )
    if status == "failed":
        return (
            f"omni-tui: proposal {pid} was approved{_by(decision)} and applied to {paths}, but the rebuild "
            f"failed ({_exit(decision)}); the change stays in place until the person rolls it back or fixes "
            f"it.{_build_tail(decision)}"
        )
    if status == "stale":
        return (
            f"omni-tui: proposal {pid} went stale: {paths} changed before the person decided{_because(decision)}. "
            f"Re-read {paths} and propose again against its current content."
        )
    if status == "withdrawn":
        return f"omni-tui: proposal {pid} was withdrawn{_because(decision)}. {paths} is unchanged."
    if status == "tampered":
        return (
            f"omni-tui: the decision file of proposal {pid} is not backed by the audit log, so it is not a "
            f"person's decision and does not count as approved{_because(decision)}. A person must resolve it in "
            f"the cockpit; do not edit {paths} or the state directory."
        )
    return f"omni-tui: proposal {pid} is {status}{_because(decision)}."


def _what_was_applied(decision: Decision, paths: str) -> str:
    partial = [hunks_text(f) or f.path for f in decision.files if f.applied == "hunks"]
    edited = [f.path for f in decision.files if f.applied == "edited"]
    if not partial and not edited:
        return f"re-read {paths} if you need its content."
    parts = []
    if partial:
        parts.append(f"only {', '.join(partial)}")
    if edited:
        parts.append(f"an edited version of {', '.join(edited)}")
    return f"the person approved {' and '.join(parts)}, so re-read {paths} to see exactly what was applied."


def _note(decision: Decision) -> str:
    return f" Note from the person: {decision.reason}" if decision.reason else ""


def pending_message(proposal_id: str, paths: str, waited_s: float) -> str:
    """The message for a proposal nobody decided on within `waited_s` seconds."""
    return (
        f"omni-tui: no decision on proposal {proposal_id} for {paths} within {waited_s:g} s; it stays pending "
        f"in the cockpit. Check it later (MCP proposal_status, or `omni-tui wait {proposal_id}`) and do not "
        f"edit {paths} directly."
    )


def decision_summary(decision: Decision, paths: str) -> dict[str, Any]:
    """The decision as plain JSON data, plus the `message` above."""
    return {
        "id": decision.proposal_id,
        "status": decision.status,
        "reason": decision.reason,
        "who": decision.who,
        "decided_at": decision.decided_at,
        "exit_code": decision.exit_code,
        "duration_s": decision.duration_s,
        "log_path": decision.log_path,
        "last_lines": list(decision.last_lines or ()),
        "summary": decision_line(decision),  # the one line the cockpit and `omni-tui wait` show too
        "message": explain(decision, paths),
    }


def card_note(card: Any) -> str:
    """The change card in one sentence for an agent: what the person sees before deciding (values masked)."""
    from omni_tui.core.card import render

    if card is None or card.empty:
        return " Change card: no change to the environment's configuration."
    lines = ["; ".join(" ".join(line.split()) for line in render.compact(card))]
    risks = card.risk_names()
    text = " Change card the person sees: " + (lines[0] or "no configuration change") + "."
    if risks:
        text += " Risks: " + ", ".join(risks) + "."
    return text
