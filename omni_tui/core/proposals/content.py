"""An agent's new content for a file → text: raw bytes decoded (`decode_content`) or a unified diff
applied to the current file (`patched_content`), each refusal naming the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omni_tui.core.errors import PatchError, ProposalError
from omni_tui.core.validate import not_utf8, over_size

if TYPE_CHECKING:
    from omni_tui.core.workspace import Workspace


def decode_content(data: bytes, source: str, max_bytes: int) -> str:
    """Raw new content from an agent → text; ProposalError naming `source` when not UTF-8 or too big."""
    if len(data) > max_bytes:
        raise ProposalError(f"{source}: {over_size(len(data), max_bytes)}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProposalError(f"{source}: {not_utf8(data, exc)}") from None


def patched_content(ws: Workspace, rel: str, patch_text: str) -> str:
    """The current content of `rel` with a unified diff applied; PatchError naming the path and hunk."""
    return patch_onto(ws.read_current(rel), rel, patch_text)


def patch_onto(current: bytes | None, rel: str, patch_text: str) -> str:
    """`current` (the bytes of `rel` as read; None: absent) with a unified diff applied (for a caller that
    also needs the bytes the patch applied to, e.g. as the proposal's base); PatchError naming the hunk."""
    try:
        old = "" if current is None else current.decode("utf-8")
    except UnicodeDecodeError:
        raise ProposalError(f"{rel}: the current file is not valid UTF-8; a patch cannot apply to it") from None
    from omni_tui.core.textpatch import apply_patch  # here: only `--patch` needs it (with difflib)

    try:
        return apply_patch(old, patch_text, rel)
    except PatchError as exc:
        raise PatchError(f"patch does not apply to {rel}: {exc}") from None
