"""Nix syntax for Textual's TextArea: the tree-sitter-nix grammar and its highlight query, when installed.

Loaded once and cached; `nix_language()` returns None when tree-sitter or the grammar is missing,
and the editor then shows plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class TextAreaLanguage:
    """What `TextArea.register_language` needs: a name, a tree-sitter Language, a highlight query."""

    name: str
    language: Any
    highlight_query: str


# py-tree-sitter 0.26 crashes (memory corruption) compiling the grammar's `(#is-not? local)`
# predicates; without them a shadowed builtin is merely coloured as a builtin.
_UNSUPPORTED_PREDICATE = re.compile(r"\s*\(#is-not\? local\)")


@cache
def nix_language() -> TextAreaLanguage | None:
    try:
        import tree_sitter_nix
        from tree_sitter import Language

        query = files("tree_sitter_nix").joinpath("queries/highlights.scm").read_text(encoding="utf-8")
        query = _UNSUPPORTED_PREDICATE.sub("", query)
        return TextAreaLanguage("nix", Language(tree_sitter_nix.language()), query)
    except (ImportError, OSError, ValueError):
        return None
