"""`[policy]`: categories or risks that refuse a proposal outright, or that need a typed confirmation.

Never an approval: a refusal rejects at once (naming the rule), a confirmation only makes the
person's approval harder. Rules name a card category (`inputs`) or a risk (`runs_on_shell_entry`).
"""

from __future__ import annotations

from omni_tui.core.card.categories import CATEGORIES, RISKS
from omni_tui.core.card.diff import Card
from omni_tui.core.config import PolicyConfig

RULE_NAMES = (*CATEGORIES, *RISKS)
__all__ = ["PolicyConfig", "RULE_NAMES", "confirmations", "refusal"]


def _hits(rules: tuple[str, ...], card: Card) -> list[str]:
    present = set(card.categories()) | set(card.risk_names())
    return [r for r in rules if r in present]


def refusal(policy: PolicyConfig, card: Card) -> str | None:
    """The reason a proposal is refused by `[policy] refuse`, naming the rule; None when none matches."""
    hits = _hits(policy.refuse, card)
    if not hits:
        return None
    what = ", ".join(hits)
    return (
        f"refused by policy: [policy] refuse = {what!r} matches this change ({_why(hits, card)})"
        if len(hits) == 1
        else (f"refused by policy: [policy] refuse matches {what} ({_why(hits, card)})")
    )


def _why(hits: list[str], card: Card) -> str:
    parts = []
    for h in hits[:3]:
        if h in card.counts():
            parts.append(f"{h}: {card.counts()[h]} change(s)")
        else:
            causes: list[dict[str, object]] = next((r["causes"] for r in card.risks if r["risk"] == h), [])
            parts.append(f"{h}: {causes[0]['why']}" if causes else h)
    return "; ".join(parts)


def confirmations(policy: PolicyConfig, card: Card) -> list[str]:
    """Rule names the person must type before this proposal can be approved (in card order)."""
    return _hits(policy.confirm, card)
