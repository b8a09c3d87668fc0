"""Letters that pass for others: the `lookalike_letters` risk.

A reviewer reads `gіthub.com` as github.com; the `і` is Cyrillic (U+0456), and the URL fetches from
another host. Nix, a shell and a URL fetch go by code points, a person by shapes. An added line is
flagged where a word mixes Latin letters with letters of a script that has Latin lookalikes
(Cyrillic, Greek, Armenian, Cherokee, Lisu, Coptic), where a word holds fullwidth or mathematical
letters (forms that exist to look like Latin ones), or where a URL's host is not plain ASCII. Words of
one script (a comment in Russian, a Greek letter in a formula) are not flagged.

The cause shows the word with the suspect letters escaped (`g\\u0456thub`), so the person sees which;
the diff marks them where they stand (`suspect_spans`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni_tui.core.card.builder import CardBuilder

LOOKALIKE_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "LISU", "COPTIC"})
"""Scripts whose letters include shapes a reader takes for Latin ones (`а` `е` `о` `р` `с` `і` `ј`, `ο` `ν` `Α`)."""
LATIN_FORMS = ("FULLWIDTH LATIN", "MATHEMATICAL")
"""Letters that are Latin ones drawn another way (`ｐkgs`, `𝐚`): never needed in a devenv file's code."""
MAX_CAUSES = 20

_WORD = re.compile(r"[^\W_]+")
# Every letter `_is_suspect` may say yes to is in these blocks (tests/test_lookalike_letters_are_named_on_the_card.py
# checks it against unicodedata): a line without one has no suspect word, whatever else it holds.
_CANDIDATE = re.compile(
    "[\u0370-\u058f\u13a0-\u13ff\u1c80-\u1c8f\u1d00-\u1dbf\u1f00-\u1fff\u2c80-\u2cff\ua4d0-\ua4ff"
    "\ua640-\ua69f\uab30-\uabbf\ufb13-\ufb17\uff21-\uff5a\U00011fb0\U0001d400-\U0001d7ff]"
)
_HOST = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://(?:[^/\s\"'@]*@)?([^/\s\"':?#]+)")


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith(LATIN_FORMS):
        return "FORM"
    return name.split(" ", 1)[0]


def _escaped(word: str) -> str:
    return "".join(ch if ch.isascii() else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}" for ch in word)


def _suspects(word: str) -> str:
    """Why `word` passes for another, or "" when it does not."""
    if word.isascii():
        return ""
    scripts = {_script(ch) for ch in word if ch.isalpha()}
    if "FORM" in scripts or ("LATIN" in scripts and scripts & LOOKALIKE_SCRIPTS):
        odd = [ch for ch in word if _is_suspect(ch)]
        first = odd[0]
        more = f" and {len(odd) - 1} more" if len(odd) > 1 else ""
        return f"{_escaped(first)} is {unicodedata.name(first, 'an unnamed letter')}{more}, among Latin letters"
    return ""


def _findings(line: str) -> list[tuple[int, int, bool, str]]:
    """(start, end, is a URL host, why) of each URL host that is not plain ASCII and each word that
    passes for another (a word inside such a host is the host's finding)."""
    if line.isascii():
        return []
    found: list[tuple[int, int, bool, str]] = []
    for match in _HOST.finditer(line):
        host = match.group(1)
        if not host.isascii():
            first = next(ch for ch in host if not ch.isascii())
            why = f'URL host "{_escaped(host)}" is not plain ASCII: {_escaped(first)} is {unicodedata.name(first, "unnamed")}'
            found.append((match.start(1), match.end(1), True, why))
    for match in _WORD.finditer(line) if _CANDIDATE.search(line) else ():
        why = _suspects(match.group())
        if why and not any(start <= match.start() and match.end() <= end for start, end, _host, _why in found):
            found.append((match.start(), match.end(), False, f'"{_escaped(match.group())}": {why}'))
    return found


def _is_suspect(ch: str) -> bool:
    return not ch.isascii() and ch.isalpha() and _script(ch) in LOOKALIKE_SCRIPTS | {"FORM"}


def line_lookalikes(line: str) -> list[str]:
    """What in one line passes for something else: `"word": why` each (empty for plain text)."""
    return [why for _start, _end, _host, why in _findings(line)]


def suspect_spans(line: str) -> list[tuple[int, int]]:
    """Where in `line` the letters that pass for others are (character offsets, end exclusive): every
    non-ASCII character of a URL's host, and the suspect letters of each flagged word."""
    marked = {
        i
        for start, end, host, _why in _findings(line)
        for i in range(start, end)
        if (not line[i].isascii() if host else _is_suspect(line[i]))
    }
    return [(i, i + 1) for i in sorted(marked)]


def note_lookalikes(file: str, before: bytes | None, after: bytes | None, b: CardBuilder) -> None:
    """Raise `lookalike_letters` for each added line of `file` where letters pass for others."""
    if after is None or after.isascii():
        return
    new = after.decode("utf-8", "replace").splitlines()
    old = before.decode("utf-8", "replace").splitlines() if before is not None else []
    added: list[int] = []
    if not old:
        added = list(range(len(new)))
    else:
        from omni_tui.core.linematch import line_changes

        for tag, _i1, _i2, j1, j2 in line_changes(old, new):
            if tag != "equal":
                added.extend(range(j1, j2))
    causes = 0
    for index in added:
        for why in line_lookalikes(new[index]):
            b.risk("lookalike_letters", file, index + 1, why)
            causes += 1
            if causes >= MAX_CAUSES:
                return
