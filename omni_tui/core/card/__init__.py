"""The change card: what a change does to a devenv environment (packages, services, hooks, inputs, …) and its risks.

`compute_card` / `cached_card` (diff.py) compare two versions of a project's files; `nixparse` and
`yamlfacts` read them statically; `secrets` masks; `render` turns a card into text lines; `policy`
matches `[policy] refuse/confirm`; `project` builds the card of a proposal or of the files on disk.
Pure domain: no Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omni_tui.core.card.categories import CATEGORIES, RISKS, SEVERITY
    from omni_tui.core.card.diff import Card, FilePair, cached_card, compute_card

__all__ = ["CATEGORIES", "RISKS", "SEVERITY", "Card", "FilePair", "cached_card", "compute_card"]

# Loaded on first use (PEP 562): the cockpit's start needs `Card` and `FilePair` at most, never the
# readers behind a card (tree-sitter, the secret patterns, YAML), which load with the first card.
_LAZY = {
    "CATEGORIES": "categories",
    "RISKS": "categories",
    "SEVERITY": "categories",
    "Card": "diff",
    "FilePair": "diff",
    "cached_card": "diff",
    "compute_card": "diff",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
