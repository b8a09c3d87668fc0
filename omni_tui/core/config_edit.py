"""Adding files to `[guard] files` in the text of `omni-tui.toml`, the rest kept as the person wrote it.

The cockpit's Guard action (`DirectEdits.guard_files`) writes what `with_guarded` returns. The edit is
textual — comments, order and spacing stay — and then proved by parsing the result: it must be the
same configuration with exactly the longer list, or the edit is refused (`ConfigError`) and the person
is told the line to add by hand. A configuration written as an inline table or dotted keys is such a
case; `pyproject.toml` is never edited here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from omni_tui.core.config import CONFIG_FILE, Config, config_from_bytes
from omni_tui.core.errors import ConfigError

_HEADER = re.compile(r"^[ \t]*\[[ \t]*guard[ \t]*\][ \t]*(?:#[^\n]*)?$", re.MULTILINE)
_NEXT_TABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)
_FILES_KEY = re.compile(r"^[ \t]*files[ \t]*=[ \t]*", re.MULTILINE)


def guard_line(files: Sequence[str]) -> str:
    """`files = [...]` as TOML (a JSON string is a valid TOML basic string)."""
    return "files = [" + ", ".join(json.dumps(name, ensure_ascii=False) for name in files) + "]"


def with_guarded(data: bytes | None, add: Sequence[str]) -> tuple[bytes, tuple[str, ...]]:
    """The bytes of omni-tui.toml (None: there is none yet) with `add` appended to `[guard] files`, and the new list.

    ConfigError when the file does not parse, or when the edited text would not be the same
    configuration with just the longer list (the message gives the line to add by hand).
    """
    before = config_from_bytes(CONFIG_FILE, data) if data is not None else Config()
    assert before is not None  # omni-tui.toml always holds a configuration, if only the defaults
    files = tuple(dict.fromkeys([*before.guard.files, *add]))
    line = guard_line(files)
    try:
        text = (data or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{CONFIG_FILE}: not valid UTF-8") from None
    edited = _edited(text, line)
    expected = before._replace(guard=before.guard._replace(files=files), source=None)
    try:
        after = config_from_bytes(CONFIG_FILE, edited.encode("utf-8")) if edited is not None else None
    except ConfigError:
        after = None
    if edited is None or after is None or after._replace(source=None) != expected:
        raise ConfigError(f"{CONFIG_FILE}: its [guard] table is written in a way omni-tui does not edit; add by hand: {line}")
    return edited.encode("utf-8"), files


def _edited(text: str, line: str) -> str | None:
    headers = list(_HEADER.finditer(text))
    if not headers:
        if not text:
            return f"[guard]\n{line}\n"
        ended = text if text.endswith("\n") else text + "\n"
        return f"{ended}\n[guard]\n{line}\n"
    if len(headers) > 1:
        return None  # a TOML error anyway
    body_start = headers[0].end() + 1
    if body_start > len(text):  # the header is the file's last line
        return f"{text}\n{line}\n"
    following = _NEXT_TABLE.search(text, body_start)
    body_end = following.start() if following else len(text)
    key = _FILES_KEY.search(text, body_start, body_end)
    if key is None:
        return text[:body_start] + line + "\n" + text[body_start:]
    end = _array_end(text, key.end())
    if end is None:
        return None
    return text[: key.start()] + line + text[end:]


def _array_end(text: str, start: int) -> int | None:
    """The index just past the TOML array that opens at `start` (strings and comments skipped), or None."""
    if text[start : start + 1] != "[":
        return None
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            triple = text[i : i + 3] == c * 3
            quote = c * 3 if triple else c
            i += len(quote)
            while i < len(text) and not text.startswith(quote, i):
                if c == '"' and text[i] == "\\":
                    i += 1
                elif not triple and text[i] == "\n":
                    return None
                i += 1
            i += len(quote)
            continue
        if c == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None
