"""Which files the environment's definition reads besides the guarded ones: where the gate does not reach.

devenv evaluates more than `devenv.nix`. `devenv.yaml`'s `imports:` brings in a `.nix` file, or a
folder's `devenv.nix` and `devenv.yaml`; and every Nix path literal in a module it evaluates names a
file it reads: `imports = [ ./nix/db.nix ]`, `import ./default.nix { }`, `builtins.readFile ./setup.sh`,
`"source ${./hook.sh}"` (a folder there means its `default.nix`). An agent that edits such a file changes
the environment without touching a guarded one, so `reads` follows them: from the guarded files,
through every `.nix` file they name (a file named but absent is listed too: creating it is the change).

Path literals come from the tree-sitter parse (`nixparse.path_literals`), so a path in a comment or inside a string's
text is not one, and one inside `${…}` is. Interpolated paths (`./x/${name}.nix`), `<nixpkgs>` and `~/…`
are not followed. Nothing here reads outside the project or through a symlink; such a read is listed
(`outside`), never opened.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

MAX_FILES = 200  # files followed at most (a project importing more is listed up to here)
MAX_BYTES = 2 * 1024 * 1024  # a named .nix file larger than this is listed, not read
YAML_NAME = "devenv.yaml"
# Something that could be a path literal: `./`, `../` or `/` and a name, after a space or `[({=;:,`. A URL
# (`https://devenv.sh/…`) is not one, so the parser (≈ 30 ms to load) is spared for most modules.
_MAYBE_PATH = re.compile(rb"(?:^|[\s\[({=;:,])\.{0,2}/[\w.+-]", re.MULTILINE)


class Read(NamedTuple):
    """A file the environment reads: `path` relative to the project root (`../x` outside it; absolute as written)."""

    path: str
    by: str  # the file that names it, relative to the root
    line: int  # 1-based, in `by`
    exists: bool
    outside: bool = False  # outside the project or through a symlink: it cannot be guarded (and is not opened)
    acknowledged: bool = False  # listed in `[guard] unguarded_ok`: left unguarded on purpose, not warned about

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "by": self.by,
            "line": self.line,
            "exists": self.exists,
            "outside": self.outside,
            "acknowledged": self.acknowledged,
        }


def may_name_paths(source: bytes) -> bool:
    """Whether Nix source has anything that could be a path literal (no parse: a regex)."""
    return _MAYBE_PATH.search(source) is not None


def nix_paths(source: bytes, ranges: list[tuple[int, int]] | None = None) -> list[tuple[str, int]]:
    """The literal paths in Nix source (`./a`, `../b`, `/c`), with their 1-based lines, in order (`ranges`: only there)."""
    if not may_name_paths(source):
        return []
    from omni_tui.core.card.nixparse import path_literals

    return path_literals(source, ranges)


def added_reads(path: str, before: bytes | None, after: bytes) -> list[tuple[str, str, int]]:
    """The path literals a change adds to the module `path`: (as written, relative to the root, line).

    A path stands on one line, so only the lines the change touched are read (`nixparse.changed_bytes`,
    the edits the incremental parse found): not the whole of a long module twice."""
    if not may_name_paths(after):
        return []
    from omni_tui.core.card.nixparse import changed_bytes

    removed, added = changed_bytes(before, after) if before is not None else ([], [(0, len(after))])
    if not any(end > start for start, end in added):
        return []  # only lines removed
    if before is not None:
        # From the line before each edit, on both sides (it is the same line): a path there may take a
        # string the edit changed (`./. +` then `"/x.nix"` on the next line).
        removed = [(_line_before(before, start), end) for start, end in removed]
        added = [(_line_before(after, start), end) for start, end in added]
    old = Counter(literal for literal, _ in nix_paths(before, removed)) if removed and before is not None else Counter[str]()
    here = posixpath.dirname(path)
    out = []
    for literal, line in nix_paths(after, added):
        if old[literal] > 0:
            old[literal] -= 1
            continue
        rel = posixpath.normpath(literal if literal.startswith("/") else posixpath.join(here, literal))
        out.append((literal, rel, line))
    return out


def _line_before(source: bytes, start: int) -> int:
    """Where the line before the one at `start` begins (0 at the first line)."""
    return source.rfind(b"\n", 0, max(start - 1, 0)) + 1 if start > 0 else 0


def yaml_imports(source: bytes) -> list[tuple[str, int]]:
    """devenv.yaml's `imports:` that are paths (`./x`, `../x`, `/x`), not an input's (`input/sub`)."""
    if b"imports" not in source:
        return []  # most devenv.yaml files import nothing: PyYAML (≈ 10 ms to load) is spared for them
    from omni_tui.core.card.yamlfacts import parse_yaml

    value = parse_yaml(source).values.get(("imports",))
    if value is None:
        return []
    return [(item.text, item.line) for item in value.items if item.kind == "str" and item.text.startswith(("./", "../", "/"))]


def _kind(root: Path, rel: str) -> str | None:
    """What `rel` is: a file, a dir, a symlink (somewhere on the way) or None (absent); no symlink followed."""
    current = root
    for part in rel.split("/"):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return "symlink"
    return "dir" if stat.S_ISDIR(mode) else "file"


def _read(root: Path, rel: str) -> bytes | None:
    from omni_tui.core.safefs import read_bytes

    try:
        size = os.lstat(root / rel).st_size
        return None if size > MAX_BYTES else read_bytes(root / rel)
    except (OSError, ValueError):
        return None


PathsOf = Callable[[bytes], list[tuple[str, int]]]  # a module's source → its path literals (`nix_paths`, or a stored copy)


def reads(
    root: Path, start: Iterable[str], read: Callable[[str], bytes | None] | None = None, paths_of: PathsOf | None = None
) -> list[Read]:
    """Every file the guarded files `start` (relative to `root`) name, and those the named `.nix` files name.

    In the order found, each path once (where it was first named). `read` gives a start file's bytes
    (default: from disk); the files found are read from disk. `paths_of` reads a module's path literals
    (default `nix_paths`; `status --json` passes one that keeps them on disk, `stored.stored_paths`).
    """
    real_root = root.resolve()
    roots = tuple(dict.fromkeys((str(root), str(real_root))))  # an absolute path may name either
    found: dict[str, Read] = {}
    todo: list[tuple[str, bytes | None]] = []
    started = set()
    for rel in start:
        if rel.endswith(".nix") or posixpath.basename(rel) == YAML_NAME:
            started.add(rel)
            todo.append((rel, read(rel) if read is not None else _read(real_root, rel)))
    followed = 0
    while todo and followed < MAX_FILES:
        by, data = todo.pop(0)
        followed += 1
        if not data:
            continue
        for read_ in _named(real_root, roots, by, data, paths_of or nix_paths):
            if read_.path in found or read_.path in started:
                continue
            found[read_.path] = read_
            if read_.exists and not read_.outside and (read_.path.endswith(".nix") or posixpath.basename(read_.path) == YAML_NAME):
                todo.append((read_.path, _read(real_root, read_.path)))
    return list(found.values())


def _named(root: Path, roots: tuple[str, ...], by: str, data: bytes, paths_of: PathsOf) -> Iterator[Read]:
    """The files one file names: a yaml's imports (a folder: its devenv.nix and devenv.yaml), a module's paths."""
    is_yaml = posixpath.basename(by) == YAML_NAME
    try:
        literals = yaml_imports(data) if is_yaml else paths_of(data)
    except Exception:  # noqa: BLE001 - an unreadable file names nothing we can know; the card says it is unparsed
        return
    here = posixpath.dirname(by)
    for literal, line in literals:
        if literal.startswith("/"):
            absolute = posixpath.normpath(literal)
            inside = next((r for r in roots if absolute == r or absolute.startswith(r + "/")), None)
            if inside is None:
                if not absolute.startswith("/nix/store/"):
                    yield Read(absolute, by, line, os.path.lexists(absolute), outside=True)
                continue
            rel = absolute[len(inside) + 1 :]
        else:
            rel = posixpath.normpath(posixpath.join(here, literal))
        if rel in ("", ".") or rel == ".." or rel.startswith("../"):
            if rel in ("", "."):
                continue  # the project folder itself (`./.`, a source tree): not a file of the definition
            yield Read(rel, by, line, os.path.lexists(posixpath.join(str(root), rel)), outside=True)
            continue
        kind = _kind(root, rel)
        if kind == "symlink":
            yield Read(rel, by, line, True, outside=True)
        elif kind == "dir" or (kind is None and is_yaml and not rel.endswith(".nix")):
            # A folder: devenv.yaml imports its devenv.nix and devenv.yaml; Nix imports its default.nix.
            names = ("devenv.nix", YAML_NAME) if is_yaml else ("default.nix",)
            for name in names:
                inner = f"{rel}/{name}"
                inner_kind = _kind(root, inner)
                if inner_kind is not None or name == "devenv.nix":  # an absent folder: its devenv.nix is what would be read
                    yield Read(inner, by, line, inner_kind is not None, outside=inner_kind == "symlink")
        else:
            yield Read(rel, by, line, kind is not None)


def unguarded(
    root: Path,
    guarded: list[str],
    read: Callable[[str], bytes | None] | None = None,
    *,
    ok: Iterable[str] = (),
    paths_of: PathsOf | None = None,
) -> list[Read]:
    """The reads of the guarded files that are not guarded themselves; those in `ok` marked `acknowledged`."""
    shield, known = set(guarded), set(ok)
    return [r._replace(acknowledged=r.path in known) for r in reads(root, guarded, read, paths_of) if r.outside or r.path not in shield]
