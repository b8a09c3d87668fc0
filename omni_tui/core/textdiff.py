"""The diff model: hunks, unified and side-by-side rows, intra-line spans, partial apply, unified patches.

Texts are split on "\\n" only, each line keeping its newline, so a missing final newline is an
ordinary difference of the last line and applying hunks or patches reproduces the bytes exactly.
Lines are matched patience-style (unique common lines anchor the match, `difflib.SequenceMatcher`
fills the gaps between anchors), which is both faster than one big SequenceMatcher on a 5,000-line
file and gives the readable diffs `git diff --patience` gives.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Literal

from omni_tui.core.errors import PatchError

LineKind = Literal[" ", "-", "+"]
Span = tuple[int, int]


# ---------------------------------------------------------------------------------------------
# Splitting and matching


def split_lines(text: str) -> list[str]:
    """`text` as lines that keep their "\\n"; only the last one may lack it. "" has no lines."""
    if not text:
        return []
    lines = text.split("\n")
    last = lines.pop()
    out = [line + "\n" for line in lines]
    if last:
        out.append(last)
    return out


def _lis(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest run of `pairs` (sorted by first item) whose second items increase."""
    tails: list[int] = []  # tails[k]: second item ending the best run of length k+1
    tail_idx: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_idx.append(n)
        else:
            tails[k] = j
            tail_idx[k] = n
        back[n] = tail_idx[k - 1] if k else -1
    run: list[tuple[int, int]] = []
    n = tail_idx[-1] if tail_idx else -1
    while n >= 0:
        run.append(pairs[n])
        n = back[n]
    run.reverse()
    return run


def _unique_anchors(a: list[int], b: list[int], alo: int, ahi: int, blo: int, bhi: int) -> list[tuple[int, int]]:
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and a[i] in where_b]
    return _lis(pairs)


def match_lines(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    """Matching blocks `(i, j, n)` (a[i:i+n] == b[j:j+n]), ascending, ending with `(len(a), len(b), 0)`."""
    ids: dict[str, int] = {}
    ia = [ids.setdefault(line, len(ids)) for line in a]
    ib = [ids.setdefault(line, len(ids)) for line in b]
    matched: list[tuple[int, int]] = []
    # An explicit stack instead of recursion: ("r", alo, ahi, blo, bhi) is a range still to match,
    # ("p", i, j) a matched pair to emit; popped in order, so output stays ascending.
    stack: list[tuple[Any, ...]] = [("r", 0, len(ia), 0, len(ib))]
    while stack:
        item = stack.pop()
        if item[0] == "p":
            matched.append((item[1], item[2]))
            continue
        _, alo, ahi, blo, bhi = item
        while alo < ahi and blo < bhi and ia[alo] == ib[blo]:
            matched.append((alo, blo))
            alo += 1
            blo += 1
        suffix: list[tuple[Any, ...]] = []
        while alo < ahi and blo < bhi and ia[ahi - 1] == ib[bhi - 1]:
            ahi -= 1
            bhi -= 1
            suffix.append(("p", ahi, bhi))
        stack.extend(suffix)  # popped last-first: they were collected from the end backwards
        if alo >= ahi or blo >= bhi:
            continue
        anchors = _unique_anchors(ia, ib, alo, ahi, blo, bhi)
        if anchors:
            todo: list[tuple[Any, ...]] = []
            pi, pj = alo, blo
            for i, j in anchors:
                todo.append(("r", pi, i, pj, j))
                todo.append(("p", i, j))
                pi, pj = i + 1, j + 1
            todo.append(("r", pi, ahi, pj, bhi))
            stack.extend(reversed(todo))
        else:
            sm = SequenceMatcher(None, ia[alo:ahi], ib[blo:bhi], autojunk=False)
            for x, y, n in sm.get_matching_blocks():
                matched.extend((alo + x + k, blo + y + k) for k in range(n))
    blocks: list[tuple[int, int, int]] = []
    for i, j in matched:
        if blocks:
            bi, bj, bn = blocks[-1]
            if bi + bn == i and bj + bn == j:
                blocks[-1] = (bi, bj, bn + 1)
                continue
        blocks.append((i, j, 1))
    blocks.append((len(a), len(b), 0))
    return blocks


def _opcodes(blocks: list[tuple[int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    ops: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for bi, bj, n in blocks:
        if i < bi or j < bj:
            ops.append(("change", i, bi, j, bj))
        if n:
            ops.append(("equal", bi, bi + n, bj, bj + n))
        i, j = bi + n, bj + n
    return ops


# ---------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True, slots=True)
class DiffLine:
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


@dataclass(frozen=True, slots=True)
class Hunk:
    """A run of changes with its context. `old_lo:old_hi` / `new_lo:new_hi` are 0-based slices."""

    index: int
    old_lo: int
    old_hi: int
    new_lo: int
    new_hi: int
    lines: tuple[DiffLine, ...]

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


@lru_cache(maxsize=8192)
def intraline(a: str, b: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """The changed character spans `(start, end)` of `a` and of `b`, compared word by word.

    Lines that share too little to make the emphasis meaningful get no spans at all.
    """
    if a == b:
        return (), ()
    ta = _TOKEN.findall(a)
    tb = _TOKEN.findall(b)
    sm = SequenceMatcher(None, ta, tb, autojunk=False)
    same = sum(len("".join(ta[x : x + n])) for x, _, n in sm.get_matching_blocks())
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
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
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


@dataclass(frozen=True, slots=True)
class UnifiedRow:
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


@dataclass(frozen=True, slots=True)
class Cell:
    """One side of a split row: a line of the old (left) or new (right) file."""

    kind: LineKind
    no: int
    text: str
    eol: bool = True
    partner: str | None = None

    def spans(self) -> tuple[Span, ...]:
        return _changed_spans(self.kind, self.text, self.partner)


@dataclass(frozen=True, slots=True)
class SplitRow:
    """A row of the split view: a hunk header (`kind == "@"`, `text` = header) or old | new cells.

    A `None` cell is filler, where one side of a change block is shorter than the other.
    """

    kind: Literal["@", "line"]
    hunk: int
    left: Cell | None = None
    right: Cell | None = None
    text: str = ""


@dataclass
class FileDiff:
    """The diff of two texts: hunks with `context` lines around each change."""

    old_lines: list[str]
    new_lines: list[str]
    hunks: list[Hunk]
    context: int = 3
    blocks: list[tuple[int, int, int]] = field(default_factory=list)  # matching (old, new, length)
    _unified: list[UnifiedRow] | None = field(default=None, repr=False, compare=False)
    _split: list[SplitRow] | None = field(default=None, repr=False, compare=False)
    _sections: dict[int, str] = field(default_factory=dict, repr=False, compare=False)

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
    ops = _opcodes(blocks)
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


# ---------------------------------------------------------------------------------------------
# Applying unified diffs


@dataclass(frozen=True, slots=True)
class PatchHunk:
    """A parsed hunk: its header numbers, the old-side and new-side lines (with their newlines)."""

    number: int  # 1-based, in the order of the patch
    header: str
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    old: tuple[str, ...]
    new: tuple[str, ...]
    line_no: int  # 1-based line of the header within the patch text


@dataclass(frozen=True, slots=True)
class FilePatch:
    """The hunks a patch holds for one file; paths without their a/ b/ prefix (None = /dev/null)."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[PatchHunk, ...]


_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _patch_path(raw: str) -> str | None:
    raw = raw.split("\t", 1)[0].rstrip("\r")
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        # git C-quotes unusual names: backslash escapes, non-ASCII bytes as octal.
        try:
            raw = raw[1:-1].encode("ascii").decode("unicode_escape").encode("latin-1").decode("utf-8")
        except (UnicodeError, ValueError):
            raw = raw[1:-1]
    if raw == "/dev/null":
        return None
    if raw.startswith(("a/", "b/")):
        return raw[2:]
    return raw


def _short(text: str, limit: int = 60) -> str:
    text = text.rstrip("\n")
    shown = repr(text[:limit] + "…" if len(text) > limit else text)
    return shown


def parse_patch(patch_text: str) -> list[FilePatch]:
    """Every file section of a unified diff (`diff -u`, `git diff`); PatchError names a malformed line."""
    lines = patch_text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    files: list[FilePatch] = []
    n = 0
    while n < len(lines):
        line = lines[n]
        if line.startswith("Binary files ") or line.startswith("GIT binary patch"):
            raise PatchError(f"patch line {n + 1}: binary patches are not supported")
        if not (line.startswith("--- ") and n + 1 < len(lines) and lines[n + 1].startswith("+++ ")):
            if line.startswith("@@ "):
                raise PatchError(f"patch line {n + 1}: hunk header before any '--- '/'+++ ' file header")
            n += 1
            continue
        old_path = _patch_path(line[4:])
        new_path = _patch_path(lines[n + 1][4:])
        n += 2
        hunks: list[PatchHunk] = []
        while n < len(lines) and lines[n].startswith("@@"):
            header_no = n + 1
            match = _HUNK_HEADER.match(lines[n])
            number = len(hunks) + 1
            if not match:
                raise PatchError(f"patch line {header_no}: malformed hunk header {_short(lines[n])}")
            old_start, old_len = int(match[1]), 1 if match[2] is None else int(match[2])
            new_start, new_len = int(match[3]), 1 if match[4] is None else int(match[4])
            header = match[0]
            old_side: list[str] = []
            new_side: list[str] = []
            last: str | None = None  # which side(s) the previous body line went to
            n += 1
            while len(old_side) < old_len or len(new_side) < new_len or (n < len(lines) and lines[n].startswith("\\")):
                if n >= len(lines):
                    raise PatchError(
                        f"hunk {number} ({header}) ends early: expected {old_len} old and {new_len} new line(s), "
                        f"found {len(old_side)} and {len(new_side)}"
                    )
                body = lines[n]
                tag, text = (body[:1], body[1:]) if body else (" ", "")
                if tag == "\\":
                    if last is None:
                        raise PatchError(f"patch line {n + 1}: '\\ No newline' marker with no line before it")
                    if last in (" ", "-"):
                        old_side[-1] = old_side[-1][:-1]
                    if last in (" ", "+"):
                        new_side[-1] = new_side[-1][:-1]
                    last = None
                elif tag == " ":
                    old_side.append(text + "\n")
                    new_side.append(text + "\n")
                    last = tag
                elif tag == "-":
                    old_side.append(text + "\n")
                    last = tag
                elif tag == "+":
                    new_side.append(text + "\n")
                    last = tag
                else:
                    raise PatchError(
                        f"patch line {n + 1}: hunk {number} ({header}) has a line starting with {tag!r}, expected ' ', '-', '+' or '\\'"
                    )
                if len(old_side) > old_len or len(new_side) > new_len:
                    raise PatchError(f"patch line {n + 1}: hunk {number} ({header}) has more lines than its header counts")
                n += 1
            hunks.append(PatchHunk(number, header, old_start, old_len, new_start, new_len, tuple(old_side), tuple(new_side), header_no))
        files.append(FilePatch(old_path, new_path, tuple(hunks)))
    return files


def _find(old: list[str], want: tuple[str, ...], expected: int, floor: int) -> int | None:
    """The start nearest `expected` (not before `floor`) where `want` matches `old` exactly."""
    size = len(want)
    top = len(old) - size
    if top < floor:
        return None

    def fits(pos: int) -> bool:
        return tuple(old[pos : pos + size]) == want

    expected = min(max(expected, floor), top)
    for delta in range(0, max(expected - floor, top - expected) + 1):
        for pos in (expected - delta, expected + delta) if delta else (expected,):
            if floor <= pos <= top and fits(pos):
                return pos
    return None


def _mismatch(old: list[str], hunk: PatchHunk, pos: int) -> str:
    for k, want in enumerate(hunk.old):
        at = pos + k
        if at >= len(old):
            return f"line {at + 1} should be {_short(want)} but the file has only {len(old)} line(s)"
        if old[at] != want:
            if old[at].rstrip("\n") == want.rstrip("\n"):
                missing = "lacks" if want.endswith("\n") else "has"
                return f"line {at + 1} {missing} a final newline, unlike the patch"
            return f"line {at + 1} should be {_short(want)} but is {_short(old[at])}"
    return f"line {pos + 1}: the hunk overlaps the previous one"


def _select(files: list[FilePatch], path: str | None) -> FilePatch:
    if not files or not any(f.hunks for f in files):
        raise PatchError("the patch contains no hunks")
    if path is None:
        if len(files) > 1:
            names = ", ".join(str(f.new_path or f.old_path) for f in files)
            raise PatchError(f"the patch changes {len(files)} files ({names}); name the one to apply")
        return files[0]
    want = path[2:] if path.startswith("./") else path
    for f in files:
        if want in (f.old_path, f.new_path):
            return f
    if len(files) == 1:
        return files[0]
    # `diff -ru old/ new/` names files under its own directories: old/devenv.nix
    under = [f for f in files if any(p is not None and p.endswith("/" + want) for p in (f.old_path, f.new_path))]
    if len(under) == 1:
        return under[0]
    raise PatchError(f"the patch has no section for {path}")


def apply_patch(old: str, patch_text: str, path: str | None = None) -> str:
    """`old` with a unified diff applied exactly (no fuzz; a hunk may sit at an offset, like git apply).

    With several file sections in the patch, `path` picks the one to apply. Raises PatchError naming
    the hunk and the line that does not match.
    """
    chosen = _select(parse_patch(patch_text), path)
    if chosen.old_path is None and old:
        raise PatchError(f"the patch creates {chosen.new_path} but that file already has content")
    lines = split_lines(old)
    out: list[str] = []
    pos = 0  # next line of `lines` not yet copied
    drift = 0  # offset the previous hunk was found at, relative to its header
    for hunk in chosen.hunks:
        expected = (hunk.old_start - 1 if hunk.old_len else hunk.old_start) + drift
        if not hunk.old:
            at: int | None = min(max(expected, pos), len(lines))
        else:
            at = _find(lines, hunk.old, expected, pos)
        if at is None:
            first = min(max(expected, pos), len(lines))
            raise PatchError(f"hunk {hunk.number} ({hunk.header}) does not apply: {_mismatch(lines, hunk, first)}")
        drift = at - (hunk.old_start - 1 if hunk.old_len else hunk.old_start)
        out.extend(lines[pos:at])
        out.extend(hunk.new)
        pos = at + len(hunk.old)
    out.extend(lines[pos:])
    return "".join(out)
