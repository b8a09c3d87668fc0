"""`hook … --install`: one hook group merged into an agent's JSON settings file, atomically and idempotently.

Claude Code (`.claude/settings.local.json`), Codex (`.codex/hooks.json`) and Gemini CLI
(`.gemini/settings.json`) keep their hooks in the same shape: `{"hooks": {EVENT: [{"matcher": …,
"hooks": [{"type": "command", "command": …}, …]}, …]}}`. Installing replaces the group that runs
omni-tui's hook (recognised by `marker` in its command) in place, keeps every other key, group and
hook, and writes only when something changed. A file that is not a JSON object, or that is a symlink
(e.g. into the Nix store, managed by devenv), is refused with nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omni_tui.core.errors import OmniError


def _read(target: Path) -> dict[str, Any]:
    if target.is_symlink():
        raise OmniError(f"{target}: a symlink (managed elsewhere, e.g. by devenv); add the hook there")
    if not target.exists():
        return {}
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise OmniError(f"{target}: cannot read it: {err}") from None
    if not text.strip():
        return {}
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as err:
        raise OmniError(
            f"{target}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno}); fix it first, nothing was written"
        ) from None
    if not isinstance(loaded, dict):
        raise OmniError(f"{target}: must hold a JSON object, not {type(loaded).__name__}")
    return loaded


def _is_ours(hook: Any, marker: str) -> bool:
    return isinstance(hook, dict) and isinstance(hook.get("command"), str) and marker in hook["command"]


def merged(
    existing: Mapping[str, Any], event: str, entry: dict[str, Any], marker: str, top: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`existing` with exactly one group running `marker` under `hooks.<event>` (and `top` keys merged in)."""
    settings = dict(existing)
    for key, value in (top or {}).items():
        current = settings.get(key, {})
        if not isinstance(current, dict):
            raise OmniError(f"its {key!r} is not an object")
        settings[key] = {**current, **value}
    hooks = settings.get("hooks", {})
    if not isinstance(hooks, dict):
        raise OmniError("its 'hooks' is not an object")
    hooks = dict(hooks)
    groups = hooks.get(event, [])
    if not isinstance(groups, list):
        raise OmniError(f"its 'hooks.{event}' is not a list")
    kept: list[Any] = []
    placed = False
    for group in groups:
        inner = group.get("hooks") if isinstance(group, dict) else None
        if isinstance(inner, list) and any(_is_ours(h, marker) for h in inner):
            others = [h for h in inner if not _is_ours(h, marker)]
            if not placed:
                kept.append(entry)
                placed = True
            if others:
                kept.append({**group, "hooks": others})
            continue
        kept.append(group)
    if not placed:
        kept.append(entry)
    hooks[event] = kept
    settings["hooks"] = hooks
    return settings


def install_group(target: Path, event: str, entry: dict[str, Any], marker: str, top: Mapping[str, Any] | None = None) -> bool:
    """Merge `entry` into `target` (see module doc); whether the file changed. OmniError names problems."""
    from omni_tui.core.safefs import atomic_write

    existing = _read(target)
    try:
        settings = merged(existing, event, entry, marker, top)
    except OmniError as err:
        raise OmniError(f"{target}: {err}; fix it first, nothing was written") from None
    if settings == existing:
        return False
    try:
        target.parent.mkdir(exist_ok=True)
        atomic_write(target, (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as err:
        raise OmniError(f"{target}: cannot write it: {err.strerror or err}") from None
    return True
