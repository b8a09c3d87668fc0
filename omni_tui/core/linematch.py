"""Splitting texts into lines and matching two line lists, patience-style.

Unique common lines anchor the match (their longest increasing run), `difflib.SequenceMatcher` fills
the gaps between anchors: faster than one big SequenceMatcher on a 5,000-line file, and the readable
diffs `git diff --patience` gives. Iterative (an explicit stack), so no input is too deep.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from typing import Any


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


def increasing_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest run of `pairs` (sorted by first item) whose second items increase."""
    seconds = [j for _, j in pairs]
    if all(x < y for x, y in zip(seconds, seconds[1:])):
        return list(pairs)  # already increasing (no line moved): the whole list, without the search
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
    return increasing_run(pairs)


GAP_PAIRS = 160_000
"""Line pairs (old lines x new lines) of a gap between anchors that `SequenceMatcher` fills; a bigger gap
is one change. Without junk heuristics it grows worse than quadratically with lines that repeat (`}`,
blank): 400x400 such lines take ≈ 25 ms, 800x800 ≈ 230 ms, 20,000 lines did not end in five minutes,
on the thread that draws the diff."""


def match_lines(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    """Matching blocks `(i, j, n)` (a[i:i+n] == b[j:j+n]), ascending, ending with `(len(a), len(b), 0)`."""
    from difflib import SequenceMatcher  # here: the gate and `status` import this module and diff nothing

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
        elif (ahi - alo) * (bhi - blo) <= GAP_PAIRS:
            sm = SequenceMatcher(None, ia[alo:ahi], ib[blo:bhi], autojunk=False)
            for x, y, n in sm.get_matching_blocks():
                matched.extend((alo + x + k, blo + y + k) for k in range(n))
        # else: a gap too big to fill is one change, whole
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


def opcodes(blocks: list[tuple[int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    """`match_lines` blocks as ("equal" | "change", i1, i2, j1, j2) runs covering both sides."""
    ops: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for bi, bj, n in blocks:
        if i < bi or j < bj:
            ops.append(("change", i, bi, j, bj))
        if n:
            ops.append(("equal", bi, bi + n, bj, bj + n))
        i, j = bi + n, bj + n
    return ops


def line_changes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """The ("equal" | "change", i1, i2, j1, j2) runs of two line lists, matched as `match_lines` does
    (its work bounded: see GAP_PAIRS)."""
    return opcodes(match_lines(a, b))
