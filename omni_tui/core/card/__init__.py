"""The change card: what a change does to a devenv environment (packages, services, hooks, inputs, …) and its risks.

`compute_card` / `cached_card` (diff.py) compare two versions of a project's files; `nixparse` and
`yamlfacts` read them statically; `secrets` masks; `render` turns a card into text lines; `policy`
matches `[policy] refuse/confirm`; `project` builds the card of a proposal or of the files on disk.
Pure domain: no Textual.
"""

from omni_tui.core.card.categories import CATEGORIES, RISKS, SEVERITY
from omni_tui.core.card.diff import Card, FilePair, cached_card, compute_card

__all__ = ["CATEGORIES", "RISKS", "SEVERITY", "Card", "FilePair", "cached_card", "compute_card"]
