"""The diff model: hunks, unified and side-by-side rows, intra-line spans, partial apply, unified patches.

Texts are split on "\\n" only, each line keeping its newline, so a missing final newline is an
ordinary difference of the last line and applying hunks or patches reproduces the bytes exactly.
Lines are matched patience-style (`linematch`); reading and applying an agent's unified diff is
`textpatch`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal, NamedTuple

from omni_tui.core.errors import PatchError
from omni_tui.core.linematch import match_lines, opcodes, split_lines

LineKind = Literal[" ", "-", "+"]
Span = tuple[int, int]


# ---------------------------------------------------------------------------------------------
# The model
#
# The immutable records are NamedTuples, not frozen dataclasses: the cockpit imports this module before
# its first frame and a dataclass costs ≈ 1 ms to create (Python 3.11 compiles each generated method).
# No code serialises them, compares them with another type, or `dataclasses.replace`s them.


class DiffLine(NamedTuple):
    """One line of a hunk. `text` has no newline; `eol` is False for a last line without one."""

    kind: LineKind
    old_no: int | None
    new_no: int | None
    text: str
    eol: bool = True


def _range(lo: int, hi: int) -> str:
    """A unified-diff range for the 0-based half-open [lo, hi), as diff -u writes it."""
    length = hi - lo
    if length == 1:
        return str(lo + 1)
    return f"{lo + 1 if length else lo},{length}"


class Hunk:
    """A run of changes with its context. `old_lo:old_hi` / `new_lo:new_hi` are 0-based slices.

    Immutable, compared and hashed by its fields. Written out rather than a frozen dataclass (≈ 1.5 ms
    to create at import, before the cockpit's first frame) or a NamedTuple (its `index` field would
    shadow `tuple.index`)."""

    __slots__ = ("index", "old_lo", "old_hi", "new_lo", "new_hi", "lines")
    index: int
    old_lo: int
    old_hi: int
    new_lo: int
    new_hi: int
    lines: tuple[DiffLine, ...]

    def __init__(self, index: int, old_lo: int, old_hi: int, new_lo: int, new_hi: int, lines: tuple[DiffLine, ...]) -> None:
        for name, value in zip(self.__slots__, (index, old_lo, old_hi, new_lo, new_hi, lines)):
            object.__setattr__(self, name, value)

    def _fields(self) -> tuple[int, int, int, int, int, tuple[DiffLine, ...]]:
        return (self.index, self.old_lo, self.old_hi, self.new_lo, self.new_hi, self.lines)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a Hunk is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a Hunk is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hunk) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __reduce__(self) -> tuple[type[Hunk], tuple[int, int, int, int, int, tuple[DiffLine, ...]]]:
        return (Hunk, self._fields())  # copy and pickle build a new one (assignment is refused)

    def __repr__(self) -> str:
        return "Hunk(index={!r}, old_lo={!r}, old_hi={!r}, new_lo={!r}, new_hi={!r}, lines={!r})".format(*self._fields())

    @property
    def old_start(self) -> int:
        return self.old_lo + 1 if self.old_hi > self.old_lo else self.old_lo

    @property
    def old_len(self) -> int:
        return self.old_hi - self.old_lo

    @property
    def new_start(self) -> int:
        return self.new_lo + 1 if self.new_hi > self.new_lo else self.new_lo

    @property
    def new_len(self) -> int:
        return self.new_hi - self.new_lo

    @property
    def header(self) -> str:
        return f"@@ -{_range(self.old_lo, self.old_hi)} +{_range(self.new_lo, self.new_hi)} @@"

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "+")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind == "-")


def _strip_eol(line: str) -> tuple[str, bool]:
    return (line[:-1], True) if line.endswith("\n") else (line, False)


# Intra-line changes are compared word by word, so a renamed identifier lights up whole, not as
# a scatter of matching letters.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
INTRALINE_TOKENS = 240
"""Tokens (both sides together) of the part of two lines that differs, past their common start and end,
compared word by word; past that, the whole differing part is one changed span. SequenceMatcher grows
worse than quadratically on long lines of repeated tokens (spaces): a 24 KB line took 49 s to compare,
on the thread that draws the diff."""


@lru_cache(maxsize=8192)
def intraline(a: str, b: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """The changed character spans `(start, end)` of `a` and of `b`, compared word by word.

    Lines that share too little to make the emphasis meaningful get no spans at all.
    """
    if a == b:
        return (), ()
    ta = _TOKEN.findall(a)
    tb = _TOKEN.findall(b)
    # The common start and end are matched first: an edit inside a long line costs its own length.
    shorter = min(len(ta), len(tb))
    head = 0
    while head < shorter and ta[head] == tb[head]:
        head += 1
    tail = 0
    while tail < shorter - head and ta[-1 - tail] == tb[-1 - tail]:
        tail += 1
    a_end, b_end = len(ta) - tail, len(tb) - tail
    opcodes: list[tuple[str, int, int, int, int]] = [("equal", 0, head, 0, head)]
    if (a_end - head) + (b_end - head) <= INTRALINE_TOKENS:
        from difflib import SequenceMatcher  # here: the gate and `status` import this module and diff nothing

        sm = SequenceMatcher(None, ta[head:a_end], tb[head:b_end], autojunk=False)
        opcodes.extend((tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in sm.get_opcodes())
    else:
        opcodes.append(("replace", head, a_end, head, b_end))
    opcodes.append(("equal", a_end, len(ta), b_end, len(tb)))
    same = sum(len("".join(ta[i1:i2])) for tag, i1, i2, _j1, _j2 in opcodes if tag == "equal")
    if 2 * same < 0.4 * (len(a) + len(b)):
        return (), ()
    offs_a = [0]
    for tok in ta:
        offs_a.append(offs_a[-1] + len(tok))
    offs_b = [0]
    for tok in tb:
        offs_b.append(offs_b[-1] + len(tok))
    spans_a: list[Span] = []
    spans_b: list[Span] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        if i2 > i1:
            spans_a.append((offs_a[i1], offs_a[i2]))
        if j2 > j1:
            spans_b.append((offs_b[j1], offs_b[j2]))
    return tuple(spans_a), tuple(spans_b)


def _changed_spans(kind: str, text: str, partner: str | None) -> tuple[Span, ...]:
    """The intra-line changed spans of a removed ("-") or added line against the line it pairs with."""
    if partner is None:
        return ()
    if kind == "-":
        return intraline(text, partner)[0]
    return intraline(partner, text)[1]


class UnifiedRow(NamedTuple):
    """A row of the unified view: a hunk header (`kind == "@"`) or one line of a hunk.

    `partner` is the text this removed/added line is paired with, for intra-line spans.
    """

    kind: Literal["@", " ", "-", "+"]
    hunk: int
    old_no: int | None
    new_no: int | None
    text: str
    eol: bool = True
    partner: str | None = None

    def spans(self) -> tuple[Span, ...]:
        return _changed_spans(self.kind, self.text, self.partner)


class Cell(NamedTuple):
    """One side of a split row: a line of the old (left) or new (right) file."""

    kind: LineKind
    no: int
    text: str
    eol: bool = True
    partner: str | None = None

    def spans(self) -> tuple[Span, ...]:
        return _changed_spans(self.kind, self.text, self.partner)


class SplitRow(NamedTuple):
    """A row of the split view: a hunk header (`kind == "@"`, `text` = header) or old | new cells.

    A `None` cell is filler, where one side of a change block is shorter than the other.
    """

    kind: Literal["@", "line"]
    hunk: int
    left: Cell | None = None
    right: Cell | None = None
    text: str = ""


class FileDiff:
    """The diff of two texts: hunks with `context` lines around each change.

    Compared by its texts, hunks, context and matching blocks (not its caches of rows). Written out
    rather than a dataclass: ≈ 1 ms less to import before the cockpit's first frame."""

    def __init__(
        self,
        old_lines: list[str],
        new_lines: list[str],
        hunks: list[Hunk],
        context: int = 3,
        blocks: list[tuple[int, int, int]] | None = None,
    ) -> None:
        self.old_lines = old_lines
        self.new_lines = new_lines
        self.hunks = hunks
        self.context = context
        self.blocks: list[tuple[int, int, int]] = [] if blocks is None else blocks  # matching (old, new, length)
        self._unified: list[UnifiedRow] | None = None
        self._split: list[SplitRow] | None = None
        self._sections: dict[int, str] = {}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, FileDiff)
        return (self.old_lines, self.new_lines, self.hunks, self.context, self.blocks) == (
            other.old_lines,
            other.new_lines,
            other.hunks,
            other.context,
            other.blocks,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable (its caches fill in), as a dataclass with eq

    def __repr__(self) -> str:
        return (
            f"FileDiff(old_lines={self.old_lines!r}, new_lines={self.new_lines!r}, hunks={self.hunks!r}, "
            f"context={self.context!r}, blocks={self.blocks!r})"
        )

    @property
    def added(self) -> int:
        return sum(h.added for h in self.hunks)

    @property
    def removed(self) -> int:
        return sum(h.removed for h in self.hunks)

    @property
    def changed(self) -> bool:
        return bool(self.hunks)

    def section(self, index: int) -> str:
        """The enclosing block of a hunk's first change, like the text git shows after `@@`.

        The nearest line above the change that is indented less than the changed line and binds
        something (e.g. `services.postgres = {`), stripped; "" for a change at the top level.
        """
        cached = self._sections.get(index)
        if cached is not None:
            return cached
        hunk = self.hunks[index]
        lead = 0
        for line in hunk.lines:
            if line.kind != " ":
                break
            lead += 1
        changed = hunk.lines[lead].text if lead < len(hunk.lines) else ""
        indent = len(changed) - len(changed.lstrip(" \t"))
        found = ""
        if indent and changed.strip():
            for pos in range(hunk.old_lo + lead - 1, max(hunk.old_lo + lead - 2000, 0) - 1, -1):
                text = self.old_lines[pos].rstrip("\r\n")
                stripped = text.lstrip(" \t")
                if not stripped or stripped[0] in "}])#" or stripped.startswith(("''", "/*", "*")):
                    continue
                if "=" not in stripped:  # a bare `{` or a function head says nothing
                    continue
                if len(text) - len(stripped) < indent:
                    found = stripped if len(stripped) <= 60 else stripped[:59] + "…"
                    break
        self._sections[index] = found
        return found

    def old_to_new(self) -> list[int]:
        """For each old line, the index of the equal new line it was matched with, or -1."""
        mapping = [-1] * len(self.old_lines)
        for i, j, n in self.blocks:
            mapping[i : i + n] = range(j, j + n)
        return mapping

    def rows_unified(self) -> list[UnifiedRow]:
        """Header row then the lines of each hunk; paired -/+ lines carry each other as partner."""
        if self._unified is None:
            rows: list[UnifiedRow] = []
            for hunk in self.hunks:
                rows.append(UnifiedRow("@", hunk.index, None, None, hunk.header))
                for block in _blocks(hunk.lines):
                    if isinstance(block, DiffLine):
                        rows.append(UnifiedRow(" ", hunk.index, block.old_no, block.new_no, block.text, block.eol))
                        continue
                    removed, added = block
                    for n, line in enumerate(removed):
                        partner = added[n].text if n < len(added) else None
                        rows.append(UnifiedRow("-", hunk.index, line.old_no, None, line.text, line.eol, partner))
                    for n, line in enumerate(added):
                        partner = removed[n].text if n < len(removed) else None
                        rows.append(UnifiedRow("+", hunk.index, None, line.new_no, line.text, line.eol, partner))
            self._unified = rows
        return self._unified

    def rows_split(self) -> list[SplitRow]:
        """Header row then old | new rows; a change block pairs its removed and added lines."""
        if self._split is None:
            rows: list[SplitRow] = []
            for hunk in self.hunks:
                rows.append(SplitRow("@", hunk.index, text=hunk.header))
                for block in _blocks(hunk.lines):
                    if isinstance(block, DiffLine):
                        assert block.old_no is not None and block.new_no is not None
                        rows.append(
                            SplitRow(
                                "line",
                                hunk.index,
                                Cell(" ", block.old_no, block.text, block.eol),
                                Cell(" ", block.new_no, block.text, block.eol),
                            )
                        )
                        continue
                    removed, added = block
                    for n in range(max(len(removed), len(added))):
                        old = removed[n] if n < len(removed) else None
                        new = added[n] if n < len(added) else None
                        left = right = None
                        if old is not None:
                            assert old.old_no is not None
                            left = Cell("-", old.old_no, old.text, old.eol, new.text if new else None)
                        if new is not None:
                            assert new.new_no is not None
                            right = Cell("+", new.new_no, new.text, new.eol, old.text if old else None)
                        rows.append(SplitRow("line", hunk.index, left, right))
            self._split = rows
        return self._split

    def apply(self, selected: Iterable[int]) -> str:
        """The old text with exactly the hunks in `selected` applied."""
        chosen = set(selected)
        unknown = sorted(i for i in chosen if not 0 <= i < len(self.hunks))
        if unknown:
            raise PatchError(f"hunk {unknown[0]} does not exist: the diff has {len(self.hunks)} hunk(s)")
        out: list[str] = []
        pos = 0
        for hunk in self.hunks:
            out.extend(self.old_lines[pos : hunk.old_lo])
            if hunk.index in chosen:
                out.extend(self.new_lines[hunk.new_lo : hunk.new_hi])
            else:
                out.extend(self.old_lines[hunk.old_lo : hunk.old_hi])
            pos = hunk.old_hi
        out.extend(self.old_lines[pos:])
        return "".join(out)

    def patch(self, path: str, selected: Iterable[int] | None = None) -> str:
        """Standard unified diff text of all hunks (or of `selected` ones), `--- a/path` / `+++ b/path`."""
        chosen = None if selected is None else set(selected)
        hunks = [h for h in self.hunks if chosen is None or h.index in chosen]
        if not hunks:
            return ""
        out = [f"--- a/{path}\n", f"+++ b/{path}\n"]
        delta = 0  # with only some hunks, new-side line numbers are those of that partial result
        for hunk in hunks:
            new_lo = hunk.old_lo + delta
            out.append(f"@@ -{_range(hunk.old_lo, hunk.old_hi)} +{_range(new_lo, new_lo + hunk.new_len)} @@\n")
            delta += hunk.new_len - hunk.old_len
            for line in hunk.lines:
                out.append(f"{line.kind}{line.text}\n")
                if not line.eol:
                    out.append("\\ No newline at end of file\n")
        return "".join(out)


def _blocks(lines: tuple[DiffLine, ...]) -> list[DiffLine | tuple[list[DiffLine], list[DiffLine]]]:
    """A hunk's lines as context lines and (removed, added) change blocks."""
    out: list[DiffLine | tuple[list[DiffLine], list[DiffLine]]] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []
    for line in lines:
        if line.kind == " ":
            if removed or added:
                out.append((removed, added))
                removed, added = [], []
            out.append(line)
        elif line.kind == "-":
            if added:  # a "-" after "+" starts a new block
                out.append((removed, added))
                removed, added = [], []
            removed.append(line)
        else:
            added.append(line)
    if removed or added:
        out.append((removed, added))
    return out


def _hunk_lines(old: list[str], new: list[str], ops: list[tuple[str, int, int, int, int]]) -> tuple[DiffLine, ...]:
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            for k in range(i2 - i1):
                text, eol = _strip_eol(old[i1 + k])
                lines.append(DiffLine(" ", i1 + k + 1, j1 + k + 1, text, eol))
            continue
        for i in range(i1, i2):
            text, eol = _strip_eol(old[i])
            lines.append(DiffLine("-", i + 1, None, text, eol))
        for j in range(j1, j2):
            text, eol = _strip_eol(new[j])
            lines.append(DiffLine("+", None, j + 1, text, eol))
    return tuple(lines)


def diff_lines(old: list[str], new: list[str], context: int = 3) -> FileDiff:
    """`diff_texts` for texts already split with `split_lines`."""
    if context < 0:
        raise ValueError("context must be >= 0")
    blocks = match_lines(old, new)
    ops = opcodes(blocks)
    groups: list[list[tuple[str, int, int, int, int]]] = []
    current: list[tuple[str, int, int, int, int]] = []
    for n, op in enumerate(ops):
        tag, i1, i2, j1, j2 = op
        if tag == "equal":
            first, last = n == 0, n == len(ops) - 1
            if first and last:
                continue
            if first:
                keep = min(context, i2 - i1)
                if keep:
                    current.append(("equal", i2 - keep, i2, j2 - keep, j2))
                continue
            if last:
                keep = min(context, i2 - i1)
                if keep:
                    current.append(("equal", i1, i1 + keep, j1, j1 + keep))
                continue
            if i2 - i1 > 2 * context:
                if context:
                    current.append(("equal", i1, i1 + context, j1, j1 + context))
                groups.append(current)
                current = []
                if context:
                    current.append(("equal", i2 - context, i2, j2 - context, j2))
                continue
        current.append(op)
    if any(op[0] != "equal" for op in current):
        groups.append(current)
    hunks = [Hunk(n, g[0][1], g[-1][2], g[0][3], g[-1][4], _hunk_lines(old, new, g)) for n, g in enumerate(groups)]
    return FileDiff(old, new, hunks, context, [b for b in blocks if b[2]])


def diff_texts(old: str, new: str, context: int = 3) -> FileDiff:
    """The line diff of `old` → `new` with `context` lines around each change; no change → no hunks."""
    return diff_lines(split_lines(old), split_lines(new), context)


def apply_hunks(old: str, new: str, selected: Iterable[int], context: int = 3) -> str:
    """`old` with exactly the `selected` hunks of `diff_texts(old, new, context)` applied."""
    return diff_texts(old, new, context).apply(selected)


def unified_patch(old: str, new: str, path: str, context: int = 3) -> str:
    """A standard unified diff (`--- a/path`, `+++ b/path`); "" when the texts are equal."""
    return diff_texts(old, new, context).patch(path)
