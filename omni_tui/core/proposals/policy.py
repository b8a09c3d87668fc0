"""`[policy] refuse` applied to a proposal, and a rejection recorded with the change card it refused.

Used by the store (a submitted proposal the policy refuses is rejected at once, who and via
`policy`) and by the gate (a person's reject; approve refuses what the policy refuses). It reads
the proposal documents, the change card and the configuration, and is handed the store it records
in (`Recorder`), so the arrows go one way: gate → store → policy → card, config.
Nothing here approves anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from omni_tui.core.audit import utc_now
from omni_tui.core.errors import GateError
from omni_tui.core.proposals.documents import PENDING, Decision, Proposal

if TYPE_CHECKING:
    from omni_tui.core.workspace import Workspace


class Recorder(Protocol):
    """What a rejection needs of the store (`ProposalStore`): its workspace, a proposal, its status, a decision recorded."""

    @property
    def ws(self) -> Workspace: ...

    def get(self, proposal_id: str) -> Proposal: ...

    def status(self, proposal_id: str) -> str: ...

    def record(self, decision: Decision, *, allowed_from: Iterable[str] | None = None, **audit: Any) -> Decision: ...


def policy_refusal(ws: Workspace, proposal: Proposal) -> str | None:
    """The reason `[policy] refuse` refuses `proposal` (naming the rule), or None."""
    if not ws.config.policy.refuse:
        return None
    try:
        # The card is imported only when a policy asks for it: `propose` without `[policy]` never needs it.
        from omni_tui.core.card.policy import refusal
        from omni_tui.core.card.project import proposal_card

        return refusal(ws.config.policy, proposal_card(ws, proposal))
    except Exception as exc:  # noqa: BLE001 - a card that cannot be computed refuses rather than lets through
        return f"refused by policy: its change card could not be computed ({type(exc).__name__})"


def record_rejection(store: Recorder, proposal: Proposal, reason: str, *, who: str, via: str) -> Decision:
    """Record `rejected` (only from pending), with the change card the audit keeps of what was refused."""
    decision = Decision(proposal.id, "rejected", reason, who, utc_now(), via=via)
    from omni_tui.core.card.project import card_summary, proposal_pairs

    card = card_summary(proposal_pairs(store.ws, proposal))
    return store.record(decision, allowed_from=(PENDING,), card=card)


def refuse_by_policy(store: Recorder, proposal_id: str) -> Decision | None:
    """Reject a pending proposal at once when `[policy] refuse` matches its card (who: policy). Never approves."""
    proposal = store.get(proposal_id)
    reason = policy_refusal(store.ws, proposal)
    if reason is None or store.status(proposal.id) != PENDING:
        return None
    try:
        return record_rejection(store, proposal, reason, who="policy", via="policy")
    except GateError:
        return None  # decided meanwhile (a person, or another process applying the same policy)
