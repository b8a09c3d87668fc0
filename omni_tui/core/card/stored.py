"""Change cards (and modules' path literals, `stored_paths`) remembered on disk by content, for the agent
commands (`status` is polled by agents).

Each `omni-tui status` is a fresh process: computing a pending proposal's card there means importing
the card's readers (tree-sitter, the secret patterns, difflib: ≈ 15 ms) and parsing both versions of
every file, on every call. A card depends only on the files' paths and bytes and on this package's
code, so `stored_card` keeps it in `<state>/cache/cards/<key>.json` (written atomically), the key
being the hashes of the contents (`diff.card_key`) and a fingerprint of this package's source files
(their sizes and modification times: editing the card code or upgrading omni-tui, which pins the
tree-sitter grammar, makes new keys). Unused entries are removed by nobody: one small file per
distinct (file on disk, proposal) pair, as `cache/validation/`.

Anything that can write the state directory (an agent can) can write an entry, so an entry is only
ever read back for `status --json`, which agents read; the text a person reads (`status`, `explain`)
and the cockpit, where a person decides, compute their cards in their own process (`diff.cached_card`)
and never read from here. An entry that is not a card document (damaged, another shape) is computed again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omni_tui.core.card.diff import Card, FilePair, card_key

SCHEMA = "omni-tui/card@1"
MAX_ENTRY_BYTES = 4 * 1024 * 1024  # a card of a 1 MiB file is far smaller; anything bigger is not read


# Outside this package, what a card is computed with (nixparse aligns re-parses with it).
# terminal: card text is made inert by it; config: the guard a change of omni-tui.toml moves (`note_guard_changes`)
_ALSO = ("linematch.py", "terminal.py", "config.py")


@functools.cache
def code_fingerprint() -> bytes:
    """This package's source files (and `_ALSO`), by name, size and modification time (read once per process)."""
    h = hashlib.blake2b(digest_size=16)
    folder = os.path.dirname(os.path.abspath(__file__))
    with os.scandir(folder) as entries:
        files = sorted(entry.path for entry in entries if entry.name.endswith(".py") and entry.is_file())
    for path in [*files, *(os.path.join(os.path.dirname(folder), name) for name in _ALSO)]:
        try:
            st = os.stat(path)
        except OSError:
            continue
        h.update(f"{os.path.basename(path)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.digest()


def entry_name(files: Sequence[FilePair]) -> str:
    return hashlib.blake2b(code_fingerprint() + card_key(files), digest_size=20).hexdigest() + ".json"


def read_entry(path: Path) -> Card | None:
    """The card kept at `path`, or None when absent or not a card document."""
    try:
        from omni_tui.core.safefs import read_regular

        # over the limit, or a FIFO an agent put here (which would block the read): not one this
        # module wrote, so computed again rather than parsed
        doc = json.loads(read_regular(path, limit=MAX_ENTRY_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("risks", []), list):
        return None
    return Card(doc)


def stored_card(directory: Path, files: Sequence[FilePair]) -> Card:
    """`diff.cached_card`, also remembered in `directory` across processes (see the module docstring)."""
    from omni_tui.core.card.diff import cached_card

    path = directory / entry_name(files)
    card = read_entry(path)
    if card is not None:
        return card
    card = cached_card(files)
    doc: dict[str, Any] = card.to_json()
    try:
        from omni_tui.core.safefs import atomic_write

        atomic_write(path, json.dumps(doc).encode("ascii"))  # ASCII: lone surrogates kept as escapes
    except (OSError, ValueError, TypeError):
        pass  # a cache: a full or read-only disk only means computing it again next time
    return card


def stored_paths(directory: Path, source: bytes) -> list[tuple[str, int]]:
    """`reads.nix_paths` of a module, also remembered in `directory` by its content and this package's code.

    For `status --json` only, as the cards: an agent that writes an entry hides a read from its own
    answer, never from the person's `status` or cockpit, which do not read here."""
    from omni_tui.core.card.reads import may_name_paths, nix_paths

    if not may_name_paths(source):
        return []  # no path: no parse, nothing worth a file
    path = directory / (hashlib.blake2b(code_fingerprint() + source, digest_size=20).hexdigest() + ".json")
    try:
        from omni_tui.core.safefs import read_regular

        doc = json.loads(read_regular(path, limit=MAX_ENTRY_BYTES))
        if isinstance(doc, list) and all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], int) for item in doc
        ):
            return [(item[0], item[1]) for item in doc]
    except (OSError, ValueError, RecursionError):
        pass
    found = nix_paths(source)
    try:
        from omni_tui.core.safefs import atomic_write

        atomic_write(path, json.dumps(found).encode("ascii"))
    except (OSError, ValueError, TypeError):
        pass  # a cache: computed again next time
    return found
