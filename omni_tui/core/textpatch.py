"""Reading unified diffs (`diff -u`, `git diff`) and applying one file's hunks to a text, exactly.

A hunk is placed at its header's line or the nearest place its old lines fit (never before the
previous hunk); anything that does not fit raises `PatchError` naming the hunk and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from omni_tui.core.errors import PatchError
from omni_tui.core.linematch import split_lines


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
