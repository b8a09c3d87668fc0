"""Adding files to `[guard] files` in the text of `omni-tui.toml`, the rest kept as the person wrote it.

The cockpit's Guard action (`DirectEdits.guard_files`) writes what `with_guarded` returns. The edit is
textual — comments (inside the list too), order, spacing, line endings and the list's own layout stay:
the new names go after its last entry, one per line in a list written over lines — and then proved by
parsing the result: it must be the same configuration with exactly the longer list. Failing that, the
list is rewritten on one line and proved the same way; failing that too, the edit is refused
(`ConfigError`) and the person is told the line to add by hand. A configuration written as an inline
table or dotted keys is such a case; `pyproject.toml` is never edited here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from omni_tui.core.config import CONFIG_FILE, Config, config_from_bytes
from omni_tui.core.errors import ConfigError

_HEADER = re.compile(r"^[ \t]*\[[ \t]*guard[ \t]*\][ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)
_NEXT_TABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)
_FILES_KEY = re.compile(r"^[ \t]*files[ \t]*=[ \t]*", re.MULTILINE)


def guard_line(files: Sequence[str]) -> str:
    """`files = [...]` as TOML (a JSON string is a valid TOML basic string)."""
    return "files = [" + ", ".join(_toml_string(name) for name in files) + "]"


def _toml_string(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def with_guarded(data: bytes | None, add: Sequence[str]) -> tuple[bytes, tuple[str, ...]]:
    """The bytes of omni-tui.toml (None: there is none yet) with `add` appended to `[guard] files`, and the new list.

    ConfigError when the file does not parse, or when the edited text would not be the same
    configuration with just the longer list (the message gives the line to add by hand).
    """
    before = config_from_bytes(CONFIG_FILE, data) if data is not None else Config()
    assert before is not None  # omni-tui.toml always holds a configuration, if only the defaults
    files = tuple(dict.fromkeys([*before.guard.files, *add]))
    new = files[len(before.guard.files) :]
    line = guard_line(files)
    try:
        text = (data or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{CONFIG_FILE}: not valid UTF-8") from None
    expected = before._replace(guard=before.guard._replace(files=files), source=None)
    for edited in (_edited(text, line, new), _edited(text, line, None)):
        try:
            after = config_from_bytes(CONFIG_FILE, edited.encode("utf-8")) if edited is not None else None
        except ConfigError:
            after = None
        if edited is not None and after is not None and after._replace(source=None) == expected:
            return edited.encode("utf-8"), files
    raise ConfigError(f"{CONFIG_FILE}: its [guard] table is written in a way omni-tui does not edit; add by hand: {line}")


def _edited(text: str, line: str, new: Sequence[str] | None) -> str | None:
    """`text` with `line` as its `[guard] files`; with `new`, an existing list keeps its text and gets
    `new` after its last entry instead of being rewritten."""
    nl = "\r\n" if "\r\n" in text else "\n"
    headers = list(_HEADER.finditer(text))
    if not headers:
        if not text:
            return f"[guard]{nl}{line}{nl}"
        ended = text if text.endswith("\n") else text + nl
        return f"{ended}{nl}[guard]{nl}{line}{nl}"
    if len(headers) > 1:
        return None  # a TOML error anyway
    header_end = text.find("\n", headers[0].end())
    if header_end < 0:  # the header is the file's last line
        return f"{text}{nl}{line}{nl}"
    body_start = header_end + 1
    following = _NEXT_TABLE.search(text, body_start)
    body_end = following.start() if following else len(text)
    key = _FILES_KEY.search(text, body_start, body_end)
    if key is None:
        return text[:body_start] + line + nl + text[body_start:]
    end = _array_end(text, key.end())
    if end is None:
        return None
    if new is None:
        return text[: key.start()] + line + text[end:]
    return _appended(text, key.end(), end, new, nl)


def _appended(text: str, start: int, end: int, new: Sequence[str], nl: str) -> str | None:
    """The array `text[start:end]` with `new` after its last entry, written as the list is: over lines
    with the last entry's indent (a trailing comma kept), else on its line. None for an empty list."""
    last = _last_significant(text, start + 1, end - 1)
    if last is None:
        return None  # nothing to follow: written afresh
    trailing = text[last] == ","
    entries = [_toml_string(name) for name in new]
    over_lines = "\n" in text[last:end]
    if not over_lines:
        joined = ", ".join(entries)
        return text[: last + 1] + (f" {joined}," if trailing else f", {joined}") + text[last + 1 :]
    line_start = text.rfind("\n", start, last) + 1
    indent = re.match(r"[ \t]*", text[line_start:last])
    lead = indent.group(0) if indent and line_start > start else "  "
    after_last = text.find("\n", last) + 1  # past the last entry's line (its comment stays on it)
    block = "".join(f"{lead}{entry},{nl}" for entry in entries)
    if trailing:
        return text[:after_last] + block + text[after_last:]
    block = block[: -len("," + nl)] + nl  # no trailing comma, as the list had none
    return text[: last + 1] + "," + text[last + 1 : after_last] + block + text[after_last:]


def _last_significant(text: str, start: int, end: int) -> int | None:
    """The index of the last character in `text[start:end]` outside comments and whitespace (the end
    of the last string when it is one), or None when there is none."""
    last, i = None, start
    while i < end:
        c = text[i]
        if c in "\"'":
            closed = _string_end(text, i)
            if closed is None:
                return None
            last, i = closed - 1, closed
            continue
        if c == "#":
            newline = text.find("\n", i)
            i = end if newline < 0 else newline
            continue
        if not c.isspace():
            last = i
        i += 1
    return last


def _string_end(text: str, i: int) -> int | None:
    """The index just past the TOML string that opens at `i`, or None when it does not close on its line."""
    c = text[i]
    quote = c * 3 if text[i : i + 3] == c * 3 else c
    i += len(quote)
    while i < len(text) and not text.startswith(quote, i):
        if c == '"' and text[i] == "\\":
            i += 1
        elif len(quote) == 1 and text[i] == "\n":
            return None
        i += 1
    return i + len(quote) if i < len(text) else None


def _array_end(text: str, start: int) -> int | None:
    """The index just past the TOML array that opens at `start` (strings and comments skipped), or None."""
    if text[start : start + 1] != "[":
        return None
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            closed = _string_end(text, i)
            if closed is None:
                return None
            i = closed
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
