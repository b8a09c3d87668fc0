"""Per-instance footer labels: a confirm key reads "Restart" or "Accept edits" rather than a generic "Yes"."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import BindingsMap


def relabel(bindings: BindingsMap, ids: set[str], description: str) -> None:
    """Give the bindings with these ids a new description, in place (the map is the node's own copy)."""
    for key, key_bindings in bindings.key_to_bindings.items():
        bindings.key_to_bindings[key] = [
            replace(binding, description=description) if binding.id in ids else binding for binding in key_bindings
        ]
