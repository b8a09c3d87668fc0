"""Two versions of a devenv project's files → the change card (a JSON-ready `Card`).

Pure: bytes in, card out. Facts come from `nixparse` (devenv.nix, devenv.local.nix, any guarded
*.nix) and `yamlfacts` (devenv.yaml); `.envrc` is compared line by line. Every string in the card has
been through `secrets` (masked, control characters escaped), so the card may be printed, logged,
sent to an agent or drawn as it is. This module owns `Card`, which file is read how, and the cache of
cards by content; the comparing is `compare`'s, the filling `builder`'s.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from omni_tui.core.card.categories import AGENT_FILES, CATEGORIES
from omni_tui.core.card.digest import content_digest

# The readers (tree-sitter, the secret patterns, difflib, YAML) are imported by `compute_card`, in the
# worker that first needs a card: the gate, the config and the cockpit import this module for `Card`
# and `FilePair` at every start (≈ 15 ms less before the first frame; docs/performance.md).


# NamedTuples, not a frozen dataclass: immutable and compared, shown and hashed the same, without
# compiling six methods each at import (the gate, `status` and the cockpit import this module; docs/performance.md).
class Card(NamedTuple):
    """`data` is the JSON object (schema omni-tui/card@1): one key per category, `risks`, `files_compared`."""

    data: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)

    @property
    def risks(self) -> list[dict[str, Any]]:
        return list(self.data.get("risks", []))

    def risk_names(self) -> list[str]:
        return [r["risk"] for r in self.data.get("risks", [])]

    def counts(self) -> dict[str, int]:
        """Entries per non-empty category: what the audit log keeps (never the values)."""
        out: dict[str, int] = {}
        for cat in CATEGORIES:
            groups = self.data.get(cat, {})
            n = sum(len(v) for v in groups.values())
            if n:
                out[cat] = n
        return out

    def categories(self) -> list[str]:
        return list(self.counts())

    @property
    def empty(self) -> bool:
        return not self.counts() and not self.data.get("risks")

    def summary(self) -> dict[str, Any]:
        """For the audit entry of a decision: the categories (with counts) and the risks, not the values."""
        return {"categories": self.counts(), "risks": self.risk_names()}


class FilePair(NamedTuple):
    path: str
    before: bytes | None
    after: bytes | None


_EMPTY: dict[str, Any] = {}


def _is_module(path: str) -> bool:
    return path.endswith(".nix")


def compute_card(files: Sequence[FilePair]) -> Card:
    """The card of a change to `files` (each: the path, the bytes before, the bytes after; None = absent)."""
    from omni_tui.core.card.builder import CardBuilder, make_entry
    from omni_tui.core.card.compare import diff_envrc, diff_fetchers, diff_module, note_added_reads, note_guard_changes, note_unparsed
    from omni_tui.core.card.lookalikes import note_lookalikes
    from omni_tui.core.card.nixfacts import Facts
    from omni_tui.core.card.nixparse import parse_module
    from omni_tui.core.card.secrets import inert
    from omni_tui.core.card.yamlfacts import YamlFacts, parse_yaml

    # One empty module each, shared (its grouping is cached with it, as for any parsed module).
    empty_nix = _EMPTY.get("nix") or _EMPTY.setdefault("nix", Facts())
    empty_yaml = _EMPTY.get("yaml") or _EMPTY.setdefault("yaml", YamlFacts())
    b = CardBuilder()
    in_change = {pair.path for pair in files}
    compared: list[dict[str, Any]] = []
    for pair in files:
        if pair.before == pair.after:
            continue
        path = pair.path
        change = "added" if pair.before is None else "removed" if pair.after is None else "modified"
        compared.append({"path": inert(path, 200), "change": change})
        name = path.rsplit("/", 1)[-1]
        shown = inert(path, 200)
        if _is_module(path):
            old = parse_module(pair.before) if pair.before is not None else empty_nix
            new = parse_module(pair.after, pair.before) if pair.after is not None else empty_nix
            if not new.syntax_error:
                diff_module(shown, old, new, b, yaml=False)
                diff_fetchers(shown, old, new, b)
                if pair.after is not None:
                    note_added_reads(path, shown, pair.before, pair.after, in_change, b)
            # else: what a parser recovered from a syntax error is a guess: only `unparsed` is said, with its lines
            note_unparsed(shown, new.unparsed, b)
            if name != "devenv.nix":
                b.add("files", change if change != "modified" else "changed", make_entry(shown, shown, None, None, runs_on_cd=[]))
        elif name in ("devenv.yaml", "devenv.yml"):
            oy = parse_yaml(pair.before) if pair.before is not None else empty_yaml
            ny = parse_yaml(pair.after) if pair.after is not None else empty_yaml
            if not ny.unparsed or ny.values:
                diff_module(shown, oy, ny, b, yaml=True)
            note_unparsed(shown, ny.unparsed, b)
        elif name == ".envrc":
            diff_envrc(shown, pair.before, pair.after, b)
        else:
            b.add("files", change if change != "modified" else "changed", make_entry(shown, shown, None, None, runs_on_cd=[]))
        note_lookalikes(shown, pair.before, pair.after, b)
        if path.startswith(AGENT_FILES):
            b.add(
                "agent_settings",
                change if change != "modified" else "changed",
                make_entry(shown, shown, None, None, before=None, after=None),
            )
            b.risk("agent_permissions", shown, None, f"{shown} configures an AI agent")
        if path == "omni-tui.toml":  # the gate's own leash: which files are guarded, what a rebuild runs, the policy
            b.risk("agent_permissions", shown, None, f"{shown} configures the gate itself (guarded files, rebuild command, policy)")
            note_guard_changes(shown, pair.before, pair.after, b)
    return Card(b.build(compared))


# ---- once per content hash ----------------------------------------------------------------------
_CARDS: OrderedDict[bytes, Card] = OrderedDict()
_CARDS_LOCK = threading.Lock()


def clear_caches() -> None:
    """Forget every cached card and parse (benchmarks)."""
    from omni_tui.core.card import nixparse

    nixparse.clear_caches()
    with _CARDS_LOCK:
        _CARDS.clear()


def card_key(files: Sequence[FilePair]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for pair in files:
        for part in (pair.path.encode(), pair.before, pair.after):
            h.update(b"\x00" if part is None else content_digest(part))
    return h.digest()


def cached_card(files: Sequence[FilePair]) -> Card:
    """`compute_card`, remembered by the contents' hashes (the same proposal is never analysed twice)."""
    key = card_key(files)
    with _CARDS_LOCK:
        hit = _CARDS.get(key)
        if hit is not None:
            _CARDS.move_to_end(key)
            return hit
    card = compute_card(files)
    with _CARDS_LOCK:
        _CARDS[key] = card
        while len(_CARDS) > 128:
            _CARDS.popitem(last=False)
    return card
