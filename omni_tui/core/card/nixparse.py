"""A devenv module's Nix source → flat facts `{("services", "redis", "enable"): Value}`, statically.

Parsed with tree-sitter and the tree-sitter-nix grammar. Nothing is evaluated: attribute sets are
flattened into normalised paths (so `services.redis.enable = true;`, `services = { redis.enable = true; };`
and `services.redis = { enable = true; };` give the same fact), `let … in` names and `with pkgs;` lists
are followed where the value is literal, `lib.mkIf`/`optionals`/`optionalString`/`optionalAttrs` put a
condition on what they wrap, `mkMerge`/`mkDefault`/`mkForce`/`mkOverride`/`mkBefore`/`mkAfter` are
seen through. Everything else is kept as written (kind `expr`, `ref`) and never guessed at; what
cannot even be placed (a syntax error, a computed attribute name, a module that is not an attribute
set) is listed in `Facts.unparsed`.

This module owns the parse (incremental against an earlier version of the file) and the caches of
trees, top-level bindings and modules; reading the nodes is `nixreader`'s, the facts are `nixfacts`'.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from omni_tui.core.card.nixfacts import Facts, Path, Unparsed, Value
from omni_tui.core.card.nixreader import MAX_DEPTH, Reader, Scope, collapse, named, node_text, syntax_errors
from omni_tui.core.linematch import increasing_run

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree


@lru_cache(maxsize=1)
def _parser() -> Parser:
    from tree_sitter import Language, Parser

    return Parser(Language(_nix_language()))


def _nix_language() -> object:
    """The compiled Nix grammar. tree-sitter-nix's package `__init__` imports importlib.resources (with
    tempfile, shutil, random, bz2, lzma: ≈ 4 ms of every `status` that computes a card) for query files
    read here never; so its binding is loaded by itself and registered under its own name (a later
    `import tree_sitter_nix` reuses it). The package import stays the fallback."""
    import importlib.machinery
    import importlib.util
    import sys

    name = "tree_sitter_nix._binding"
    binding = sys.modules.get(name)
    if binding is None:
        try:
            package = importlib.util.find_spec("tree_sitter_nix")  # finds, does not import
            folders = list(package.submodule_search_locations or ()) if package is not None else []
            loader = (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES)
            spec = next(
                (found for folder in folders if (found := importlib.machinery.FileFinder(folder, loader).find_spec(name)) is not None),
                None,
            )
            if spec is None or spec.loader is None:
                raise ImportError(name)
            binding = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(binding)
            sys.modules[name] = binding
        except (ImportError, OSError, ValueError):
            import tree_sitter_nix

            return tree_sitter_nix.language()
    return binding.language()


@dataclass(frozen=True)
class _Piece:
    """The facts of one top-level binding, lines relative to its first row."""

    values: tuple[tuple[Path, Value], ...]
    unparsed: tuple[Unparsed, ...]
    fetchers: tuple[tuple[str, int], ...]


class _LRU:
    """A small thread-safe LRU map (the card is computed in worker threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            hit = self.data.get(key)
            if hit is not None:
                self.data.move_to_end(key)
            return hit

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_PIECES = _LRU(50_000)  # (scope digest, binding bytes) → _Piece
_TREES = _LRU(16)  # content digest → (source, Tree): the base of an incremental re-parse
_FACTS = _LRU(64)  # content digest → Facts


def clear_caches() -> None:
    """Forget every cached tree, binding and module (benchmarks measure a cold start with it)."""
    for cache in (_PIECES, _TREES, _FACTS):
        with cache.lock:
            cache.data.clear()


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _line_starts(lines: list[bytes]) -> list[int]:
    """Byte offset of each line (and one past the last), summed in C: a line is its bytes and its "\n"."""
    return list(accumulate(map((1).__add__, map(len, lines)), initial=0))


def _edits(old: bytes, new: bytes, lines: tuple[list[bytes], list[bytes]] | None = None) -> list[tuple[int, int, int, int]]:
    """Line ranges that differ, as (old_start, old_end, new_start, new_end) line indices, in order.

    Correct, not minimal: a common prefix and suffix, then lines unique to both sides as anchors (their
    longest increasing run, as in patience diff), gaps between anchors trimmed. Linear-ish, so the
    re-parse of a proposal touching a few places re-reads only those places.
    """
    a, b = lines if lines is not None else (old.split(b"\n"), new.split(b"\n"))
    lo, ha, hb = 0, len(a), len(b)
    while lo < ha and lo < hb and a[lo] == b[lo]:
        lo += 1
    while ha > lo and hb > lo and a[ha - 1] == b[hb - 1]:
        ha, hb = ha - 1, hb - 1
    if ha - lo < 40 or hb - lo < 40:
        return [] if lo == ha == hb else [(lo, ha, lo, hb)]
    # Counted in C (Counter), the lines' last positions by one dict build: 5,000 lines each side.
    mid_a, mid_b = a[lo:ha], b[lo:hb]
    count_a, count_b = Counter(mid_a), Counter(mid_b)
    where_a = {line: i for i, line in enumerate(mid_a, lo)}
    # The longest run of anchors whose old indices increase (in new order: (new, old) pairs).
    run = increasing_run([(j, where_a[line]) for j, line in enumerate(mid_b, lo) if count_b[line] == 1 and count_a[line] == 1])
    chain = [(ia, ib) for ib, ia in run]
    out: list[tuple[int, int, int, int]] = []
    pa, pb = lo, lo
    for ia, ib in [*chain, (ha, hb)]:
        if ia < pa or ib < pb:
            continue
        s_a, s_b, e_a, e_b = pa, pb, ia, ib
        while s_a < e_a and s_b < e_b and a[s_a] == b[s_b]:
            s_a, s_b = s_a + 1, s_b + 1
        while e_a > s_a and e_b > s_b and a[e_a - 1] == b[e_b - 1]:
            e_a, e_b = e_a - 1, e_b - 1
        if s_a != e_a or s_b != e_b:
            out.append((s_a, e_a, s_b, e_b))
        pa, pb = ia, ib
        while pa < ha and pb < hb and a[pa] == b[pb]:
            pa, pb = pa + 1, pb + 1
    return out


def _parse(source: bytes, previous: bytes | None) -> Tree:
    """Parse, re-using the tree of `previous` (a version of the same file) when it is cached."""
    from tree_sitter import Point

    base = _TREES.get(_digest(previous)) if previous is not None else None
    old_tree = None
    if base is not None:
        old_src, tree = base
        old_lines, new_lines = old_src.split(b"\n"), source.split(b"\n")
        old_starts, new_starts = _line_starts(old_lines), _line_starts(new_lines)
        old_tree = tree.copy()
        # Last edit first: the positions before an edit are the same in the old and the partly edited text.
        for la, ea, lb, eb in reversed(_edits(old_src, source, (old_lines, new_lines))):
            start = old_starts[la]
            old_end = min(old_starts[ea], len(old_src))
            new_len = min(new_starts[eb], len(source)) - new_starts[lb]
            rows = eb - lb
            old_tree.edit(
                start_byte=start,
                old_end_byte=old_end,
                new_end_byte=start + new_len,
                start_point=Point(la, 0),
                old_end_point=Point(ea, 0) if old_starts[ea] <= len(old_src) else Point(ea - 1, len(old_lines[ea - 1])),
                new_end_point=Point(la + rows, 0) if new_starts[eb] <= len(source) else Point(la + rows - 1, len(new_lines[eb - 1])),
            )
    tree = _parser().parse(source, old_tree) if old_tree is not None else _parser().parse(source)
    _TREES.put(_digest(source), (source, tree))
    return tree


def _top(root: Node, reader: Reader) -> tuple[Node, Scope]:
    """Past the module's `{ pkgs, ... }:`, `let … in` and `with …;` to its body."""
    exprs = named(root)
    node = exprs[0]
    scope = Scope()
    for _ in range(MAX_DEPTH):
        if node.type == "function_expression":
            body = node.child_by_field_name("body")
            if body is None:
                break
            node = body
        elif node.type == "let_expression":
            scope = reader.let_scope(node, scope)
            body = node.child_by_field_name("body")
            if body is None:
                break
            node = body
        elif node.type == "with_expression":
            env, body = node.child_by_field_name("environment"), node.child_by_field_name("body")
            if env is None or body is None:
                break
            scope = Scope(scope, withs=(collapse(node_text(env)),))
            node = body
        elif node.type == "parenthesized_expression" and named(node):
            node = named(node)[0]
        else:
            break
    return node, scope


def _piece(binding: Node, scope: Scope, scope_key: bytes | None) -> _Piece:
    text = binding.text or b""
    key = (scope_key, binding.type, text) if scope_key is not None else None
    if key is not None:
        hit: _Piece | None = _PIECES.get(key)
        if hit is not None:
            return hit
    facts = Facts()
    reader = Reader(facts, int(binding.start_point[0]))
    if binding.type == "binding":
        reader.read_binding(binding, (), scope, None, 0)
    elif binding.type == "inherit":
        reader.read_inherit(binding, None, (), scope, None)
    elif binding.type == "inherit_from":
        reader.read_inherit(binding, binding.child_by_field_name("expression"), (), scope, None)
    reader.finish()
    piece = _Piece(tuple(facts.values.items()), tuple(facts.unparsed), tuple(facts.fetchers))
    if key is not None:
        _PIECES.put(key, piece)
    return piece


def parse_module(source: bytes, previous: bytes | None = None) -> Facts:
    """Facts of one devenv module (`devenv.nix`, `devenv.local.nix`), cached by content.

    `previous` (an earlier version of the same file, e.g. the baseline) lets tree-sitter re-parse
    incrementally; top-level bindings whose text and scope did not change reuse their facts.
    """
    digest = _digest(source)
    cached: Facts | None = _FACTS.get(digest)
    if cached is not None:
        return cached
    facts = Facts()
    tree = _parse(source, previous)
    root = tree.root_node
    if root.has_error:
        facts.syntax_error = True
        facts.unparsed.extend(syntax_errors(root))
    if not named(root):
        if source.strip() and not root.has_error:
            facts.unparsed.append(Unparsed(1, "no expression"))
        _FACTS.put(digest, facts)
        return facts
    reader = Reader(facts)
    node, scope = _top(root, reader)
    if node.type == "attrset_expression":
        # The scope is everything before the body's `{` (formals, let, with): same bytes, same meaning.
        scope_key = _digest(source[: node.start_byte]) if not root.has_error else None
        merged: dict[Path, list[tuple[Value, int]]] = {}
        for bs in node.named_children:
            if bs.type != "binding_set":
                continue
            for b in bs.named_children:
                if b.type not in ("binding", "inherit", "inherit_from"):
                    continue
                row0 = int(b.start_point[0])
                piece = _piece(b, scope, scope_key)
                for path, value in piece.values:
                    old = facts.values.get(path)
                    if old is not None and old.kind == "list" and value.kind == "list":
                        merged.setdefault(path, [(old, facts.offsets[path])]).append((value, row0))
                    facts.values[path] = value
                    facts.offsets[path] = row0
                if piece.unparsed:
                    facts.unparsed.extend(Unparsed(u.line + row0, u.why) for u in piece.unparsed)
                if piece.fetchers:
                    facts.fetchers.extend((f, line + row0) for f, line in piece.fetchers)
        for path, parts in merged.items():
            items = tuple(_shift(i, off) for v, off in parts for i in v.items)
            text = "[ " + " ".join(i.display() for i in items) + " ]"
            facts.values[path] = Value(
                "list",
                text,
                parts[0][0].line + parts[0][1],
                parts[-1][0].end_line + parts[-1][1],
                None,
                items,
                any(v.dynamic for v, _ in parts),
            )
            facts.offsets[path] = 0
    elif node.type == "rec_attrset_expression" or (node.type == "apply_expression" and reader.call(node)[0] in ("mkMerge", "mkIf")):
        reader.module_value(node, (), scope, None, 0)
        reader.finish()
    elif not root.has_error:
        facts.unparsed.append(Unparsed(node.start_point[0] + 1, f"the module is not an attribute set ({node.type.replace('_', ' ')})"))
    _FACTS.put(digest, facts)
    return facts


def _shift(v: Value, by: int) -> Value:
    return Value(v.kind, v.text, v.line + by, v.end_line + by, v.condition, tuple(_shift(i, by) for i in v.items), v.dynamic) if by else v
