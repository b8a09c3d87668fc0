"""Codex's `apply_patch` format, read and applied the way Codex does it (pure: text in, text out).

    *** Begin Patch
    *** Add File: path            then "+line" lines: the whole new file
    *** Delete File: path
    *** Update File: path
    *** Move to: new/path         optional, right after Update File
    @@ optional context line      then " ctx" / "-old" / "+new" lines; "*** End of File" anchors at the end
    *** End Patch

Follows codex-rs/apply-patch (parser.rs, lib.rs, seek_sequence.rs): lenient markers (surrounding
whitespace, a `<<'EOF'` heredoc wrapper), a first chunk without `@@`, blank lines between chunks,
context lines sought from the previous chunk onwards — exactly, then ignoring trailing whitespace,
then surrounding whitespace, then with typographic punctuation made ASCII —, a chunk with an empty
last line retried without it, and an updated file always ending in a newline. Paths are as the
model wrote them (relative to the session's cwd, or absolute). Errors are `PatchError`s, one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omni_tui.core.errors import PatchError

BEGIN, END = "*** Begin Patch", "*** End Patch"
ADD, DELETE, UPDATE, MOVE = "*** Add File: ", "*** Delete File: ", "*** Update File: ", "*** Move to: "
EOF_MARKER = "*** End of File"


@dataclass(frozen=True)
class Chunk:
    context: str | None
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    end_of_file: bool = False


@dataclass(frozen=True)
class FileOp:
    kind: str  # "add" | "delete" | "update"
    path: str
    move_to: str | None = None
    contents: str = ""  # add: the whole new file
    chunks: tuple[Chunk, ...] = field(default_factory=tuple)


def _strip_heredoc(lines: list[str]) -> list[str]:
    if len(lines) >= 4 and lines[0] in ("<<EOF", "<<'EOF'", '<<"EOF"') and lines[-1].endswith("EOF"):
        return lines[1:-1]
    return lines


def extract_patch(text: str) -> str | None:
    """The `*** Begin Patch … *** End Patch` part of a shell command (`apply_patch <<'EOF' …`), or None."""
    start = text.find(BEGIN)
    if start == -1:
        return None
    end = text.find(END, start)
    return text[start : (end + len(END)) if end != -1 else len(text)]


def parse_patch(text: str) -> list[FileOp]:
    """The file operations of a patch; PatchError naming the line for a malformed one."""
    lines = text.strip().splitlines()
    if not lines or lines[0].strip() != BEGIN or lines[-1].strip() != END:
        lines = _strip_heredoc(lines)
    if not lines or lines[0].strip() != BEGIN:
        raise PatchError("invalid patch: the first line of the patch must be '*** Begin Patch'")
    if lines[-1].strip() != END:
        raise PatchError("invalid patch: the last line of the patch must be '*** End Patch'")
    body = lines[1:-1]
    ops: list[FileOp] = []
    i = 0
    while i < len(body):
        header = body[i].strip()
        number = i + 2
        if header.startswith(ADD):
            contents: list[str] = []
            i += 1
            while i < len(body) and body[i].startswith("+"):
                contents.append(body[i][1:] + "\n")
                i += 1
            ops.append(FileOp("add", header[len(ADD) :], contents="".join(contents)))
        elif header.startswith(DELETE):
            ops.append(FileOp("delete", header[len(DELETE) :]))
            i += 1
        elif header.startswith(UPDATE):
            path = header[len(UPDATE) :]
            i += 1
            move_to = None
            if i < len(body) and body[i].startswith(MOVE):
                move_to = body[i][len(MOVE) :]
                i += 1
            chunks: list[Chunk] = []
            while i < len(body):
                if not body[i].strip():
                    i += 1
                    continue
                if body[i].startswith("*"):
                    break
                chunk, used = _chunk(body, i, first=not chunks)
                chunks.append(chunk)
                i += used
            if not chunks:
                raise PatchError(f"invalid hunk at line {number}: update file hunk for path '{path}' is empty")
            ops.append(FileOp("update", path, move_to=move_to, chunks=tuple(chunks)))
        else:
            raise PatchError(
                f"invalid hunk at line {number}: {header[:80]!r} is not a valid hunk header "
                "(valid: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}')"
            )
    return ops


def _chunk(body: list[str], start: int, *, first: bool) -> tuple[Chunk, int]:
    line = body[start]
    context: str | None = None
    index = start
    if line == "@@":
        index += 1
    elif line.startswith("@@ "):
        context = line[3:]
        index += 1
    elif not first:
        raise PatchError(f"invalid hunk at line {start + 2}: expected update hunk to start with a @@ context marker, got: {line[:80]!r}")
    old: list[str] = []
    new: list[str] = []
    parsed = 0
    end_of_file = False
    while index < len(body):
        text = body[index]
        if text == EOF_MARKER:
            if parsed == 0:
                raise PatchError(f"invalid hunk at line {index + 2}: update hunk does not contain any lines")
            end_of_file = True
            index += 1
            break
        if text == "":
            old.append("")
            new.append("")
        elif text[0] == " ":
            old.append(text[1:])
            new.append(text[1:])
        elif text[0] == "+":
            new.append(text[1:])
        elif text[0] == "-":
            old.append(text[1:])
        else:
            if parsed == 0:
                raise PatchError(
                    f"invalid hunk at line {index + 2}: unexpected line {text[:80]!r}; every line should start with "
                    "' ' (context), '+' (added) or '-' (removed)"
                )
            break
        parsed += 1
        index += 1
    if parsed == 0 and not end_of_file:
        raise PatchError(f"invalid hunk at line {start + 2}: update hunk does not contain any lines")
    return Chunk(context, tuple(old), tuple(new), end_of_file), index - start


_PUNCTUATION = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2004": " ",
        "\u2005": " ",
        "\u2006": " ",
        "\u2007": " ",
        "\u2008": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u205f": " ",
        "\u3000": " ",
    }
)


def seek(lines: list[str], pattern: tuple[str, ...], start: int, end_of_file: bool) -> int | None:
    """Where `pattern` occurs in `lines` at or after `start` (at the end when `end_of_file`), with Codex's leniency."""
    if not pattern:
        return start
    if len(pattern) > len(lines):
        return None
    first = len(lines) - len(pattern) if end_of_file else start
    for norm in (lambda s: s, str.rstrip, str.strip, lambda s: s.strip().translate(_PUNCTUATION)):
        want = [norm(p) for p in pattern]
        for i in range(first, len(lines) - len(pattern) + 1):
            if all(norm(lines[i + k]) == want[k] for k in range(len(pattern))):
                return i
    return None


def apply_chunks(content: str, chunks: tuple[Chunk, ...], path: str) -> str:
    """`content` after the update chunks, as Codex computes it (the result ends with a newline)."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    replacements: list[tuple[int, int, list[str]]] = []
    index = 0
    for chunk in chunks:
        if chunk.context is not None:
            found = seek(lines, (chunk.context,), index, False)
            if found is None:
                raise PatchError(f"{path}: failed to find context {chunk.context[:80]!r}")
            index = found + 1
        if not chunk.old_lines:
            at = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
            replacements.append((at, 0, list(chunk.new_lines)))
            continue
        pattern, new = chunk.old_lines, list(chunk.new_lines)
        found = seek(lines, pattern, index, chunk.end_of_file)
        if found is None and pattern and pattern[-1] == "":
            pattern = pattern[:-1]
            if new and new[-1] == "":
                new = new[:-1]
            found = seek(lines, pattern, index, chunk.end_of_file)
        if found is None:
            shown = "⏎".join(chunk.old_lines)[:120]
            raise PatchError(f"{path}: failed to find the expected lines: {shown!r}")
        replacements.append((found, len(pattern), new))
        index = found + len(pattern)
    for start, length, new in sorted(replacements, key=lambda r: r[0], reverse=True):
        lines[start : start + length] = new
    if not lines or lines[-1] != "":
        lines.append("")
    return "\n".join(lines)
