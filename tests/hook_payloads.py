"""Real pre-tool payloads (tests/fixtures/hooks/*.json, as Claude Code 2.1.332, Codex CLI 0.171.0 and Gemini CLI
0.61.0 send them) with the project folder filled in for `PROJECT`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hooks"


def load(name: str, project: Path) -> dict[str, Any]:
    text = (FIXTURES / f"{name}.json").read_text()
    return json.loads(text.replace("PROJECT", json.dumps(str(project))[1:-1]))


def text(name: str, project: Path, **tool_input: Any) -> str:
    """The payload as stdin text; keyword arguments replace fields of `tool_input`."""
    payload = load(name, project)
    payload["tool_input"].update(tool_input)
    return json.dumps(payload)
