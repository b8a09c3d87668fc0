"""Proposals and decisions: the two JSON documents of the agent protocol, and the store that holds them.

- `documents.py`: `Proposal`, `Decision` and their parts, statuses, exit codes, ids, strict parsing.
- `content.py`: an agent's new content (raw bytes or a unified diff) → the text to propose.
- `store.py`: `ProposalStore`, the files on disk (submit, list, quarantine, decide, withdraw, wait).
- `policy.py`: `[policy] refuse` applied to a proposal; a rejection recorded with its change card.

The status of a proposal is its decision's status, else `pending`; a decision the audit chain does
not vouch for reads as `tampered`, never as the outcome it claims.
"""

from omni_tui.core.proposals.content import decode_content, patch_onto, patched_content
from omni_tui.core.proposals.documents import (
    DECISION_SCHEMA,
    EXIT_CODES,
    EXIT_INVALID,
    EXIT_TIMEOUT,
    FINAL,
    ID_PATTERN,
    IN_PROGRESS,
    MAX_AGENT,
    MAX_RATIONALE,
    MAX_TITLE,
    PENDING,
    POLL_S,
    PROPOSAL_SCHEMA,
    SETTLE_S,
    SHA_PATTERN,
    STATUSES,
    TAMPERED,
    WITHDRAW_SUFFIX,
    WITHDRAW_WAIT_S,
    AppliedFile,
    Decision,
    FileChange,
    Proposal,
    ProposalEntry,
    Quarantined,
    Status,
    check_id,
    new_id,
    parse_decision,
    parse_proposal,
)
from omni_tui.core.proposals.store import ProposalStore

__all__ = [
    "DECISION_SCHEMA",
    "EXIT_CODES",
    "EXIT_INVALID",
    "EXIT_TIMEOUT",
    "FINAL",
    "ID_PATTERN",
    "IN_PROGRESS",
    "MAX_AGENT",
    "MAX_RATIONALE",
    "MAX_TITLE",
    "PENDING",
    "POLL_S",
    "PROPOSAL_SCHEMA",
    "SETTLE_S",
    "SHA_PATTERN",
    "STATUSES",
    "TAMPERED",
    "WITHDRAW_SUFFIX",
    "WITHDRAW_WAIT_S",
    "AppliedFile",
    "Decision",
    "FileChange",
    "Proposal",
    "ProposalEntry",
    "ProposalStore",
    "Quarantined",
    "Status",
    "check_id",
    "decode_content",
    "new_id",
    "parse_decision",
    "parse_proposal",
    "patch_onto",
    "patched_content",
]
