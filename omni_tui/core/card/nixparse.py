"""A devenv module's Nix source → flat facts `{("services", "redis", "enable"): Value}`, statically.

Parsed with tree-sitter and the tree-sitter-nix grammar. Nothing is evaluated: attribute sets are
flattened into normalised paths (so `services.redis.enable = true;`, `services = { redis.enable = true; };`
and `services.redis = { enable = true; };` give the same fact), `let … in` names and `with pkgs;` lists
are followed where the value is literal, `lib.mkIf`/`optionals`/`optionalString`/`optionalAttrs` put a
condition on what they wrap, `mkMerge`/`mkDefault`/`mkForce`/`mkOverride`/`mkBefore`/`mkAfter` are
seen through. Everything else is kept as written (kind `expr`, `ref`) and never guessed at; what
cannot even be placed (a syntax error, a computed attribute name, a module that is not an attribute
set) is listed in `Facts.unparsed`.

This module owns the parse (incremental against an earlier version of the file), the derivation of a
new version's facts from an earlier version's (only the top-level bindings in edited places are read;
the result equals a fresh read, tests/test_card_incremental_is_cold.py) and the caches of trees,
top-level bindings and modules; reading the nodes is `nixreader`'s, the facts are `nixfacts`'.
"""

from __future__ import annotations

import re
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import accumulate, chain, compress, repeat
from operator import attrgetter, not_
from typing import TYPE_CHECKING, Any

from omni_tui.core.card.digest import content_digest
from omni_tui.core.card.nixfacts import Facts, Path, Unparsed, Value
from omni_tui.core.card.nixreader import MAX_DEPTH, Reader, Scope, collapse, named, node_text, syntax_errors

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
    paths: tuple[Path, ...]  # the paths of `values`, in order
    lists: tuple[Path, ...]  # those whose value is a list: the only definitions other bindings' merge with
    table: dict[Path, Value]  # `values` by path (read-only)
    extra: bool  # has unparsed places or fetchers


@dataclass
class _Layout:
    """A module's top-level bindings as read (each: byte range, node type, first row, facts), in order.

    What the next version of the file is read from: a binding whose bytes, type and scope are the same
    keeps its `_Piece` without being read (or even looked up) again.
    """

    scope_key: bytes  # digest of the bytes before the body's `{` (formals, let, with): every binding's scope
    starts: list[int]
    ends: list[int]
    types: list[str]
    rows: list[int]
    pieces: list[_Piece]
    index: dict[Path, list[int]] | None = None  # path → the bindings defining it (positions, in order): `_index`


def _index(layout: _Layout) -> dict[Path, list[int]]:
    """Which bindings define each path: built once per version that later ones are derived from."""
    if layout.index is None:
        index: dict[Path, list[int]] = {}
        for k, p in enumerate(layout.pieces):
            for path in p.paths:
                index.setdefault(path, []).append(k)
        layout.index = index
    return layout.index


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
_LINES = _LRU(16)  # content digest → (lines, their byte offsets): what edits between versions are found with
_BINDINGS = ("binding", "inherit", "inherit_from")


def clear_caches() -> None:
    """Forget every cached tree, binding and module (benchmarks measure a cold start with it)."""
    for cache in (_PIECES, _TREES, _FACTS, _LINES):
        with cache.lock:
            cache.data.clear()


def _digest(data: bytes) -> bytes:
    return content_digest(data)


def _line_starts(lines: list[bytes]) -> list[int]:
    """Byte offset of each line (and one past the last), summed in C: a line is its bytes and its "\n"."""
    return list(accumulate(map((1).__add__, map(len, lines)), initial=0))


def _lines(source: bytes, digest: bytes) -> tuple[list[bytes], list[int]]:
    hit: tuple[list[bytes], list[int]] | None = _LINES.get(digest)
    if hit is None:
        lines = source.split(b"\n")
        hit = (lines, _line_starts(lines))
        _LINES.put(digest, hit)
    return hit


_WINDOW = 4  # lines that must be equal to pick up the old text again after a difference


def _run(a: list[bytes], b: list[bytes], i: int, j: int, limit: int) -> int:
    """How many lines from a[i] and b[j] on are equal (at most `limit`): slices compared in C, doubling, then halving."""
    n, step, m = 0, 1, 0
    while n < limit:
        m = min(n + step, limit)
        if a[i + n : i + m] != b[j + n : j + m]:
            break
        n, step = m, step * 2
    else:
        return n
    while m - n > 1:  # equal up to n, a difference in [n, m)
        mid = (n + m) // 2
        if a[i + n : i + mid] == b[j + n : j + mid]:
            n = mid
        else:
            m = mid
    return n


def _back_run(a: list[bytes], b: list[bytes], ea: int, eb: int, limit: int) -> int:
    """How many lines before a[ea] and b[eb] are equal (at most `limit`), as `_run` backwards."""
    n, step, m = 0, 1, 0
    while n < limit:
        m = min(n + step, limit)
        if a[ea - m : ea - n] != b[eb - m : eb - n]:
            break
        n, step = m, step * 2
    else:
        return n
    while m - n > 1:
        mid = (n + m) // 2
        if a[ea - mid : ea - n] == b[eb - mid : eb - n]:
            n = mid
        else:
            m = mid
    return n


def _resync(
    old: bytes,
    new: bytes,
    a: list[bytes],
    b: list[bytes],
    a_at: list[int],
    b_at: list[int],
    i: int,
    j: int,
    ea: int,
    eb: int,
    budget: list[int],
) -> tuple[int, int] | None:
    """The first (k, l) past a difference at (i, j) where `_WINDOW` lines are equal again, searched in C.

    A few lines of the new text from l on are looked for in the old text from line i on (`bytes.find`);
    l moves on by one line, then by doubling steps. Any equal lines found give a correct alignment; the
    nearest keep the edits small. `budget`: searches left for the whole file (each may scan the rest of
    it): a change made of very many small pieces ends in one larger edit rather than in quadratic time."""
    lo, hi = a_at[i], a_at[ea]
    l, tries, step = j, 0, 1
    while l < eb and tries < 40 and budget[0] > 0:
        budget[0] -= 1
        w = min(_WINDOW, eb - l)
        needle = new[b_at[l] : b_at[l + w]]
        pos, seen = old.find(needle, lo, hi), 0
        while pos != -1 and seen < 16:
            k = bisect_left(a_at, pos, i, ea)
            if k < ea and a_at[k] == pos and k + w <= ea and a[k : k + w] == b[l : l + w]:
                return k, l
            pos, seen = old.find(needle, pos + 1, hi), seen + 1
        tries += 1
        if tries > 16:
            step *= 2
        l += step
    return None


def _edits(
    old: bytes, new: bytes, lines: tuple[list[bytes], list[int], list[bytes], list[int]] | None = None
) -> list[tuple[int, int, int, int]]:
    """Line ranges that differ, as (old_start, old_end, new_start, new_end) line indices, in order.

    Correct, not minimal: every line outside the ranges is equal to its counterpart (compared), the
    ranges cover the rest. The common prefix and suffix, then after each difference the nearest place
    where a few lines agree again (`_resync`), all compared in C: a proposal touching a few places of a
    5,000-line file costs well under a millisecond, and the re-parse re-reads only those places.
    """
    if lines is None:
        a, b = old.split(b"\n"), new.split(b"\n")
        a_at, b_at = _line_starts(a), _line_starts(b)
    else:
        a, a_at, b, b_at = lines
    na, nb = len(a), len(b)
    i = j = _run(a, b, 0, 0, min(na, nb))
    s = _back_run(a, b, na, nb, min(na, nb) - i)
    ea, eb = na - s, nb - s
    out: list[tuple[int, int, int, int]] = []
    budget = [400]
    while i < ea or j < eb:
        sync = _resync(old, new, a, b, a_at, b_at, i, j, ea, eb, budget) if i < ea and j < eb else None
        if sync is None:
            out.append((i, ea, j, eb))
            break
        k, l = sync
        out.append((i, k, j, l))
        m = _run(a, b, k, l, min(ea - k, eb - l))
        i, j = k + m, l + m
    if out and (out[-1][0] == na or out[-1][2] == nb):
        # Lines added (removed) after the last line: that line gains (loses) its "\n" too, so it is part of the edit.
        la, ea, lb, eb = out[-1]
        out[-1] = (la - 1, ea, lb - 1, eb)
    return out


Edits = list[tuple[int, int, int, int]]


def changed_bytes(old: bytes, new: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The byte ranges of the lines that differ: (in `old`, in `new`), one pair per edit, from `_edits` (the lines
    are cached by content). A side an edit has no line on is an empty range where the other side's lines go."""
    a, a_at = _lines(old, _digest(old))
    b, b_at = _lines(new, _digest(new))
    removed, added = [], []
    for la, ea, lb, eb in _edits(old, new, (a, a_at, b, b_at)):
        removed.append((min(a_at[la], len(old)), min(a_at[ea], len(old))))
        added.append((min(b_at[lb], len(new)), min(b_at[eb], len(new))))
    return removed, added


def _parse(source: bytes, digest: bytes, previous: bytes | None, prev_digest: bytes | None) -> tuple[Tree, Edits | None]:
    """Parse, re-using the tree of `previous` (a version of the same file) when it is cached; with the
    line edits from `previous` (None without one)."""
    from tree_sitter import Point

    if previous is None or prev_digest is None:
        tree = _parser().parse(source)
        _TREES.put(digest, (source, tree))
        return tree, None
    old_lines, old_starts = _lines(previous, prev_digest)
    new_lines, new_starts = _lines(source, digest)
    edits = _edits(previous, source, (old_lines, old_starts, new_lines, new_starts))
    base = _TREES.get(prev_digest)
    old_tree = None
    if base is not None:
        old_src, tree = base
        old_tree = tree.copy()
        # Last edit first: the positions before an edit are the same in the old and the partly edited text.
        for la, ea, lb, eb in reversed(edits):
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
    _TREES.put(digest, (source, tree))
    return tree, edits


def syntax_tree(source: bytes) -> Tree:
    """The parse of `source`: the cached tree when this content was parsed already."""
    digest = _digest(source)
    hit = _TREES.get(digest)
    if hit is not None and hit[0] == source:
        return hit[1]  # type: ignore[no-any-return]
    return _parse(source, digest, None, None)[0]


@lru_cache(maxsize=1)
def _path_query() -> Any:
    from tree_sitter import Language, Query

    return Query(Language(_nix_language()), "(path_expression) @path")


def path_literals(source: bytes, ranges: list[tuple[int, int]] | None = None) -> list[tuple[str, int]]:
    """The literal paths of a module (`./a.nix`, `../b`, `/c`; not `./x/${y}`), with 1-based lines, in order.

    A tree-sitter query (in C: a walk in Python of a 5,000-line module's nodes costs 40 ms), so a path
    in a comment or inside a string's text is not one and one inside `${…}` is. A path with a literal
    string after it is the file it names: `./. + "/nix/db.nix"` and `"${./.}/nix/db.nix"` are `./nix/db.nix`."""
    from tree_sitter import QueryCursor

    root = syntax_tree(source).root_node
    if ranges is None or len(ranges) > 64:
        nodes = QueryCursor(_path_query()).captures(root).get("path", [])
    else:  # the lines a change touched: the query visits those, not a 5,000-line module's every node (6 ms)
        seen: dict[int, Node] = {}
        for start, end in ranges:
            cursor = QueryCursor(_path_query())
            cursor.set_byte_range(start, end)
            for node in cursor.captures(root).get("path", []):
                if start <= node.start_byte < end:
                    seen[node.start_byte] = node
        nodes = list(seen.values())
    nodes.sort(key=attrgetter("start_byte"))
    out = []
    for node in nodes:
        if node.child_count != 1 or node.text is None:
            continue
        text = node.text.decode("utf-8", "replace")
        suffix = _literal_suffix(node)
        if suffix is not None:
            text = text.rstrip("/") + suffix if text not in (".", "./.") else "." + suffix
        out.append((text, node.start_point[0] + 1))
    return out


_SUFFIX_END = re.compile(r"[\s\"';:)]")


def _literal_suffix(path: Node) -> str | None:
    """The `/rest` a literal string appends to `path`: `path + "/rest"`, or `"${path}/rest …"`; None when none does."""
    parent = path.parent
    if parent is None:
        return None
    if parent.type == "binary_expression" and parent.child_by_field_name("left") == path:
        operator, right = parent.child_by_field_name("operator"), parent.child_by_field_name("right")
        if operator is None or operator.text != b"+" or right is None or right.type != "string_expression":
            return None
        parts = [c for c in right.children if c.type not in ('"',)]
        if len(parts) == 1 and parts[0].type == "string_fragment" and parts[0].text and parts[0].text.startswith(b"/"):
            return parts[0].text.decode("utf-8", "replace")
        return None
    if parent.type == "interpolation":
        after = parent.next_sibling
        if after is not None and after.type == "string_fragment" and after.text and after.text.startswith(b"/"):
            rest = _SUFFIX_END.split(after.text.decode("utf-8", "replace"), maxsplit=1)[0]
            return rest if len(rest) > 1 else None
    return None


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
    table = facts.values
    piece = _Piece(
        tuple(table.items()),
        tuple(facts.unparsed),
        tuple(facts.fetchers),
        tuple(table),
        tuple(p for p, v in table.items() if v.kind == "list"),
        table,
        bool(facts.unparsed or facts.fetchers),
    )
    if key is not None:
        _PIECES.put(key, piece)
    return piece


def _bindings(body: Node) -> list[Node]:
    """The top-level bindings of the module's attribute set, in order (comments left out)."""
    return [b for bs in body.named_children if bs.type == "binding_set" for b in bs.named_children if b.type in _BINDINGS]


def _assemble(facts: Facts, pieces: list[_Piece], rows: list[int]) -> None:
    """The module's facts from its top-level bindings' (`rows`: each one's first row), as the module system
    reads them: a path defined again takes the later value; lists defined in several bindings are joined.

    In C (dicts built from chained iterators) but for lists defined more than once: this runs for every
    version of a 5,000-line module (5,000 paths: a Python loop over them would cost milliseconds)."""
    facts.values = dict(chain.from_iterable(map(_VALUES, pieces)))
    facts.offsets = dict(chain.from_iterable(map(zip, map(_PATHS, pieces), map(repeat, rows))))
    lists = Counter(chain.from_iterable(map(_LISTS, pieces)))
    for path in [path for path, n in lists.items() if n > 1]:
        joined = _join(_definitions(pieces, rows, {path})[path])
        if joined is not None:
            facts.values[path], facts.item_rows[path] = joined
            facts.offsets[path] = 0
    for p, row in compress(zip(pieces, rows), map(_EXTRA, pieces)):
        facts.unparsed.extend(Unparsed(u.line + row, u.why) for u in p.unparsed)
        facts.fetchers.extend((f, line + row) for f, line in p.fetchers)


def _definitions(pieces: list[_Piece], rows: list[int], paths: set[Path]) -> dict[Path, list[tuple[Value, int]]]:
    """Every definition of `paths` (value, row of its binding), in the module's order. The bindings that
    define none are skipped in C (one `isdisjoint` each)."""
    out: dict[Path, list[tuple[Value, int]]] = {}
    for k in compress(range(len(pieces)), map(not_, map(paths.isdisjoint, map(_TABLE, pieces)))):
        table, row = pieces[k].table, rows[k]
        for path in paths.intersection(table):
            out.setdefault(path, []).append((table[path], row))
    return out


def _ordered(values: dict[Path, Value], pieces: list[_Piece]) -> list[tuple[Path, Value]]:
    """`values` in a fresh read's order (where each path was first defined)."""
    return [(path, values[path]) for path in dict.fromkeys(chain.from_iterable(map(_PATHS, pieces)))]


_VALUES, _PATHS, _LISTS, _EXTRA, _TABLE = (attrgetter(a) for a in ("values", "paths", "lists", "extra", "table"))


def _join(seq: list[tuple[Value, int]]) -> tuple[Value, tuple[int, ...]] | None:
    """The value of a list defined by several bindings (`seq`: each definition and its row, in order), and
    its items' rows; None if no two list definitions follow each other (the last definition stands).

    A list definition following a list definition is joined to it (the module system concatenates them);
    the items keep their bindings' lines, relative to the rows returned with them."""
    current, current_row = seq[0]
    parts: list[tuple[Value, int]] | None = None
    for value, row in seq[1:]:
        if current.kind == "list" and value.kind == "list":
            if parts is None:
                parts = [(current, current_row)]
            parts.append((value, row))
        current, current_row = value, row
    if parts is None:
        return None
    items = tuple(chain.from_iterable(v.items for v, _ in parts))
    value = Value(
        "list",
        "[ " + " ".join(i.display() for i in items) + " ]",
        parts[0][0].line + parts[0][1],
        parts[-1][0].end_line + parts[-1][1],
        None,
        items,
        any(v.dynamic for v, _ in parts),
    )
    return value, tuple(chain.from_iterable(repeat(row, len(v.items)) for v, row in parts))


class _Offsets(Mapping[Path, int]):
    """The offsets of facts derived from `base`'s: their own for the paths re-read (None: gone), else the
    base's moved by the rows added or removed above (`starts`: first old row of each stretch of equal
    lines, `shifts`: its row shift). Lookups only; a chain of these is cut short (`_flat`)."""

    __slots__ = ("base", "own", "starts", "shifts", "depth")

    def __init__(self, base: Mapping[Path, int], own: dict[Path, int | None], starts: list[int], shifts: list[int]) -> None:
        self.base, self.own, self.starts, self.shifts = base, own, starts, shifts
        self.depth: int = base.depth + 1 if isinstance(base, _Offsets) else 1

    def get(self, path: Path, default: Any = None) -> Any:
        if path in self.own:
            row = self.own[path]
            return default if row is None else row
        row = self.base.get(path)
        if row is None:
            return default
        return row + self.shifts[bisect_right(self.starts, row) - 1]

    def __getitem__(self, path: Path) -> int:
        row = self.get(path)
        if row is None:
            raise KeyError(path)
        return int(row)

    def __iter__(self) -> Iterator[Path]:
        return iter([p for p in dict.fromkeys(chain(self.base, self.own)) if self.get(p) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _flat(facts: Facts) -> dict[Path, int]:
    """`facts.offsets` as a plain dict, from its layout (a cold read's way)."""
    layout: _Layout = facts.layout
    offsets = dict(chain.from_iterable(map(zip, map(_PATHS, layout.pieces), map(repeat, layout.rows))))
    offsets.update(dict.fromkeys(facts.item_rows, 0))
    return offsets


def _derive(base: Facts, source: bytes, root: Node, edits: Edits, old_at: list[int], new_at: list[int]) -> Facts | None:
    """The facts of a new version of `base`'s module, re-reading only the top-level bindings that changed.

    A binding of the new tree lying in a stretch of lines the edits left alone, with the byte range
    (shifted), type and scope of one of `base`'s, has its bytes and so its facts: they are taken as they
    are (the rows shifted). The rest is read as a cold read would (`_piece`). None if the module's shape
    does not allow it (not an attribute set, a different scope): then it is read cold."""
    layout: _Layout = base.layout
    if not named(root):
        return None
    node, scope = _top(root, Reader(Facts()))
    if node.type != "attrset_expression":
        return None
    scope_key = _digest(source[: node.start_byte])
    if scope_key != layout.scope_key:
        return None
    kids = _bindings(node)
    starts = [k.start_byte for k in kids]
    ends = [k.end_byte for k in kids]
    types = [k.type for k in kids]
    n, n_old = len(kids), len(layout.starts)
    pieces: list[_Piece | None] = [None] * n
    rows = [0] * n
    kept = bytearray(n_old)  # 1: the old binding lives on in the new version
    have = bytearray(n)  # 1: the new binding is an old one
    moved: list[tuple[int, int, int]] = []  # (first, end, shift) of old positions kept: new position = old + shift
    # Stretches of equal lines between the edits (and after the last): old start/end, new start, row shift.
    gaps: list[tuple[int, int, int, int]] = []
    first_rows: list[int] = []
    shifts: list[int] = []
    pa = pb = 0
    for la, ea, lb, eb in [*edits, (len(old_at) - 1, 0, len(new_at) - 1, 0)]:
        if la > pa:
            gaps.append((old_at[pa], old_at[la], new_at[pb], lb - la))
            first_rows.append(pa)
            shifts.append(lb - la)
        pa, pb = ea, eb
    for o0, o1, n0, drow in gaps:
        d = n0 - o0
        k1 = bisect_left(starts, n0)
        k2 = bisect_right(ends, o1 + d, k1)
        j1 = bisect_left(layout.starts, o0)
        j2 = bisect_right(layout.ends, o1, j1)
        if (
            k2 - k1 == j2 - j1
            and k2 > k1
            and starts[k1:k2] == [s + d for s in layout.starts[j1:j2]]
            and ends[k1:k2] == [e + d for e in layout.ends[j1:j2]]
            and types[k1:k2] == layout.types[j1:j2]
        ):
            pieces[k1:k2] = layout.pieces[j1:j2]
            rows[k1:k2] = [r + drow for r in layout.rows[j1:j2]]
            kept[j1:j2] = have[k1:k2] = b"\x01" * (k2 - k1)
            moved.append((j1, j2, k1 - j1))
        # else the stretch parses differently now (a string or comment opened above it): read like the edited places
    touched: set[Path] = set()
    extra = any(map(_EXTRA, compress(layout.pieces, kept.translate(_NOT))))  # unparsed places or fetchers gone
    reread: dict[Path, list[int]] = {}
    for k in compress(range(n), have.translate(_NOT)):
        piece = pieces[k] = _piece(kids[k], scope, scope_key)
        rows[k] = int(kids[k].start_point[0])
        for path in piece.paths:
            reread.setdefault(path, []).append(k)
        extra = extra or piece.extra
    touched.update(reread)
    for j in compress(range(n_old), kept.translate(_NOT)):
        touched.update(layout.pieces[j].paths)
    touched.update(base.item_rows)  # joined lists: their items' rows move with any edit above them
    done: list[_Piece] = pieces  # type: ignore[assignment]  # every slot filled above
    facts = Facts()
    # The values and offsets of the paths no re-read binding defines are the base's (the offsets moved).
    facts.values = values = base.values.copy()
    own: dict[Path, int | None] = {}
    # Every definition of the touched paths: the base's that live on (at their new positions) and the re-read.
    index, firsts = _index(layout), [m[0] for m in moved]
    defs: dict[Path, list[tuple[Value, int]]] = {}
    for path in touched:
        at = [j + m[2] for j in index.get(path, ()) if kept[j] for m in (moved[bisect_right(firsts, j) - 1],)]
        at = sorted(at + reread[path]) if path in reread else at
        if at:
            defs[path] = [(done[k].table[path], rows[k]) for k in at]
    for path in touched:
        seq = defs.get(path)
        if seq is None:
            values.pop(path, None)
            own[path] = None
            continue
        values[path], own[path] = seq[-1]
        joined = _join(seq) if len(seq) > 1 else None
        if joined is not None:
            values[path], facts.item_rows[path] = joined
            own[path] = 0
    if isinstance(base.offsets, _Offsets) and base.offsets.depth >= 3:
        base.offsets = _flat(base)  # the same offsets, without a chain of lookups behind them
    facts.offsets = _Offsets(base.offsets, own, first_rows, shifts)
    if extra or base.unparsed or base.fetchers:
        for p, row in compress(zip(done, rows), map(_EXTRA, done)):
            facts.unparsed.extend(Unparsed(u.line + row, u.why) for u in p.unparsed)
            facts.fetchers.extend((f, line + row) for f, line in p.fetchers)
    facts.layout = _Layout(scope_key, starts, ends, types, rows, done)
    facts.reorder = partial(_ordered, values, done)  # new paths were added at the end: a fresh read's order
    facts.basis = (weakref.ref(base), frozenset(touched))
    return facts


_NOT = bytes([1]) + bytes(255)  # translate table: 0 → 1, anything else → 0


def parse_module(source: bytes, previous: bytes | None = None) -> Facts:
    """Facts of one devenv module (`devenv.nix`, `devenv.local.nix`), cached by content.

    `previous` (an earlier version of the same file, e.g. the baseline) lets tree-sitter re-parse
    incrementally, and, when its facts are cached, only the top-level bindings that changed are read
    again (`_derive`); the facts are the same as a cold read's, in the same order.
    """
    digest = _digest(source)
    cached: Facts | None = _FACTS.get(digest)
    if cached is not None:
        return cached
    prev_digest = _digest(previous) if previous is not None else None
    tree, edits = _parse(source, digest, previous, prev_digest)
    root = tree.root_node
    if edits is not None and prev_digest is not None and not root.has_error:
        base: Facts | None = _FACTS.get(prev_digest)
        if base is not None and base.layout is not None:
            old_at = _lines(previous, prev_digest)[1]  # type: ignore[arg-type]
            new_at = _lines(source, digest)[1]
            derived = _derive(base, source, root, edits, old_at, new_at)
            if derived is not None:
                _FACTS.put(digest, derived)
                return derived
    facts = Facts()
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
        kids = _bindings(node)
        pieces = [_piece(b, scope, scope_key) for b in kids]
        rows = [int(b.start_point[0]) for b in kids]
        _assemble(facts, pieces, rows)
        if scope_key is not None:  # the versions proposed next are derived from this one: index it now
            facts.layout = _Layout(
                scope_key, [b.start_byte for b in kids], [b.end_byte for b in kids], [b.type for b in kids], rows, pieces
            )
            _index(facts.layout)
    elif node.type == "rec_attrset_expression" or (node.type == "apply_expression" and reader.call(node)[0] in ("mkMerge", "mkIf")):
        reader.module_value(node, (), scope, None, 0)
        reader.finish()
    elif not root.has_error:
        facts.unparsed.append(Unparsed(node.start_point[0] + 1, f"the module is not an attribute set ({node.type.replace('_', ' ')})"))
    _FACTS.put(digest, facts)
    return facts
