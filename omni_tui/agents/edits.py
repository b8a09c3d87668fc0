"""Claude Code's file tools as pure functions: an Edit / MultiEdit / Write payload → the resulting file text.

The semantics follow Claude Code's own tools, so a proposal holds exactly what the
agent would have written itself:

- Edit: `old_string` must occur exactly once unless `replace_all`; `old_string == new_string`
  is refused; an empty `old_string` creates a missing (or empty) file; straight quotes in
  `old_string` also match the file's curly quotes, and `new_string` then takes the file's
  quote style; deleting a whole line also takes its newline; CRLF files keep CRLF.
- MultiEdit: the edits apply in order, each to the previous result; an `old_string` that
  only exists inside an earlier edit's `new_string` is refused; all or nothing.
- Write: the content replaces the file (or creates it).

Every failure is a `PatchError` (the edit does not apply) or a `ProposalError` (the payload
is malformed) with a one-line message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from omni_tui.core.errors import PatchError, ProposalError

EDIT_TOOLS = ("Edit", "MultiEdit", "Write")

_LEFT_SINGLE, _RIGHT_SINGLE = "\u2018", "\u2019"
_LEFT_DOUBLE, _RIGHT_DOUBLE = "\u201c", "\u201d"
_OPENING_CONTEXT = frozenset(" \t\n\r([{\u2014\u2013")


# A NamedTuple, not a frozen dataclass: `hook claude-code` reads an Edit of a guarded file with it before
# the tool call runs, and `dataclasses` (with inspect, ast, dis, tokenize) is ≈ 5 ms to import.
class EditSpec(NamedTuple):
    """One string replacement, as Claude Code's Edit tool (or one entry of MultiEdit) takes it."""

    old_string: str
    new_string: str
    replace_all: bool = False


def one_line(text: str, limit: int = 60) -> str:
    """`text` squeezed onto one line for an error message: newlines shown as ⏎, long text cut with …."""
    flat = text.replace("\r\n", "\n").replace("\n", "⏎")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def normalize_quotes(text: str) -> str:
    """Curly single/double quotes → straight ones (same length, so indices carry over)."""
    return text.replace(_LEFT_SINGLE, "'").replace(_RIGHT_SINGLE, "'").replace(_LEFT_DOUBLE, '"').replace(_RIGHT_DOUBLE, '"')


def find_actual_string(content: str, search: str) -> str | None:
    """The text in `content` that `search` designates: itself, or its curly-quoted spelling; None if absent."""
    if search in content:
        return search
    index = normalize_quotes(content).find(normalize_quotes(search))
    if index == -1:
        return None
    return content[index : index + len(search)]


def _curl(text: str, straight: str, opening: str, closing: str, *, apostrophe: bool) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch != straight:
            out.append(ch)
            continue
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if apostrophe and before.isalpha() and after.isalpha():
            out.append(closing)  # a contraction like don't
        elif before == "" or before in _OPENING_CONTEXT:
            out.append(opening)
        else:
            out.append(closing)
    return "".join(out)


def preserve_quote_style(old_string: str, actual_old: str, new_string: str) -> str:
    """When `old_string` matched only through quote normalisation, give `new_string` the file's curly quotes."""
    if old_string == actual_old:
        return new_string
    result = new_string
    if _LEFT_DOUBLE in actual_old or _RIGHT_DOUBLE in actual_old:
        result = _curl(result, '"', _LEFT_DOUBLE, _RIGHT_DOUBLE, apostrophe=False)
    if _LEFT_SINGLE in actual_old or _RIGHT_SINGLE in actual_old:
        result = _curl(result, "'", _LEFT_SINGLE, _RIGHT_SINGLE, apostrophe=True)
    return result


def _replace(content: str, old: str, new: str, replace_all: bool) -> str:
    if new == "" and not old.endswith("\n") and old + "\n" in content:
        # Claude Code deletes the whole line, newline included, when new_string is empty.
        old = old + "\n"
    return content.replace(old, new) if replace_all else content.replace(old, new, 1)


def _apply_one(content: str | None, spec: EditSpec, path: str) -> str:
    """One replacement on LF-normalised `content` (None = the file does not exist)."""
    if spec.old_string == spec.new_string:
        raise PatchError(f"{path}: no changes to make: old_string and new_string are exactly the same")
    if spec.old_string == "":
        if content is None or content.strip() == "":
            return spec.new_string
        raise PatchError(f"{path}: cannot create the file with an empty old_string: it already exists and is not empty")
    if content is None:
        raise PatchError(f"{path}: the file does not exist (use Write to create it, or Edit with an empty old_string)")
    actual = find_actual_string(content, spec.old_string)
    if actual is None:
        raise PatchError(f"{path}: old_string not found in the file: {one_line(spec.old_string)!r}")
    matches = content.count(actual)
    if matches > 1 and not spec.replace_all:
        raise PatchError(
            f"{path}: old_string occurs {matches} times and replace_all is false "
            f"(give more context to make it unique): {one_line(spec.old_string)!r}"
        )
    new = preserve_quote_style(spec.old_string, actual, spec.new_string)
    return _replace(content, actual, new, spec.replace_all)


def _split_endings(content: str | None) -> tuple[str | None, bool]:
    if content is None or "\r\n" not in content:
        return content, False
    return content.replace("\r\n", "\n"), True


def _join_endings(content: str, crlf: bool) -> str:
    return content.replace("\r\n", "\n").replace("\n", "\r\n") if crlf else content


def apply_edit(content: str | None, spec: EditSpec, path: str = "file") -> str:
    """The file text after Claude Code's Edit tool; `content` None means the file does not exist."""
    normalized, crlf = _split_endings(content)
    return _join_endings(_apply_one(normalized, spec, path), crlf)


def apply_multi_edit(content: str | None, specs: Sequence[EditSpec], path: str = "file") -> str:
    """The file text after Claude Code's MultiEdit tool: every edit in order, all or nothing."""
    if not specs:
        raise ProposalError(f"{path}: MultiEdit needs at least one edit")
    normalized, crlf = _split_endings(content)
    current = normalized
    applied_new: list[str] = []
    for number, spec in enumerate(specs, start=1):
        stripped_old = spec.old_string.rstrip("\n")
        if stripped_old and any(stripped_old in earlier for earlier in applied_new):
            raise PatchError(
                f"{path}: edit {number}: old_string is a substring of a new_string from an earlier edit: {one_line(spec.old_string)!r}"
            )
        try:
            updated = _apply_one(current, spec, path)
        except PatchError as err:
            raise PatchError(f"edit {number} of {len(specs)}: {err}") from None
        applied_new.append(spec.new_string)
        current = updated
    assert current is not None
    if current == normalized:
        raise PatchError(f"{path}: the edits leave the file exactly as it was")
    return _join_endings(current, crlf)


def _field(payload: Mapping[str, Any], name: str, kind: type, where: str, default: Any = None) -> Any:
    if name not in payload:
        if default is not None:
            return default
        raise ProposalError(f"{where}: missing field {name!r}")
    value = payload[name]
    if kind is bool and value is None:
        return False
    if not isinstance(value, kind):
        raise ProposalError(f"{where}: field {name!r} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def edit_specs(tool_name: str, tool_input: Mapping[str, Any]) -> list[EditSpec]:
    """The replacements an Edit or MultiEdit payload asks for (ProposalError when malformed)."""
    if tool_name == "Edit":
        return [_spec(tool_input, "tool_input")]
    if tool_name == "MultiEdit":
        edits = _field(tool_input, "edits", list, "tool_input")
        return [_spec(item, f"tool_input.edits[{i}]") for i, item in enumerate(edits)]
    raise ProposalError(f"{tool_name!r} is not an edit tool (expected Edit or MultiEdit)")


def _spec(payload: Any, where: str) -> EditSpec:
    if not isinstance(payload, Mapping):
        raise ProposalError(f"{where} must be an object, not {type(payload).__name__}")
    return EditSpec(
        old_string=_field(payload, "old_string", str, where),
        new_string=_field(payload, "new_string", str, where),
        replace_all=_field(payload, "replace_all", bool, where, default=False),
    )


def file_path_of(tool_input: Any) -> str:
    """`tool_input.file_path`, checked to be a non-empty string."""
    if not isinstance(tool_input, Mapping):
        raise ProposalError(f"tool_input must be an object, not {type(tool_input).__name__}")
    path = _field(tool_input, "file_path", str, "tool_input")
    if not path.strip():
        raise ProposalError("tool_input: field 'file_path' is empty")
    return path


def check_payload(tool_name: str, tool_input: Mapping[str, Any]) -> None:
    """Raise ProposalError when `tool_input` is not a well-formed payload for `tool_name`."""
    file_path_of(tool_input)
    if tool_name == "Write":
        _field(tool_input, "content", str, "tool_input")
    else:
        edit_specs(tool_name, tool_input)


def apply_tool(tool_name: str, tool_input: Mapping[str, Any], content: str | None, path: str = "file") -> str:
    """The file text after Claude Code runs `tool_name` with `tool_input` on `content` (None = missing file)."""
    if tool_name == "Write":
        return _field(tool_input, "content", str, "tool_input")
    specs = edit_specs(tool_name, tool_input)
    if tool_name == "Edit":
        return apply_edit(content, specs[0], path)
    return apply_multi_edit(content, specs, path)
