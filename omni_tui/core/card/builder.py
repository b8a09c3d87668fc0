"""Filling a change card: entries by category and group, risks with their causes, values as the card shows them.

Every string that enters an entry or a cause goes through `secrets` here (masked, control characters
escaped, length-capped), so the card may be printed, logged or sent to an agent as it is.
"""

from __future__ import annotations

from typing import Any

from omni_tui.core.card.categories import CATEGORIES, DEFAULT_GROUPS, GROUPS, RISKS, SEVERITY
from omni_tui.core.card.nixfacts import Value
from omni_tui.core.card.secrets import inert, mask_text, mask_value

SCHEMA = "omni-tui/card@1"
Entry = dict[str, Any]


class CardBuilder:
    """Collects a change's entries (category → group → entries) and risks (with up to 50 causes each)."""

    def __init__(self) -> None:
        self.cats: dict[str, dict[str, list[Entry]]] = {c: {g: [] for g in GROUPS.get(c, DEFAULT_GROUPS)} for c in CATEGORIES}
        self.risks: dict[str, list[dict[str, Any]]] = {}

    def add(self, cat: str, group: str, entry: Entry) -> None:
        self.cats[cat][group].append(entry)

    def risk(self, name: str, file: str, line: int | None, why: str) -> None:
        cause = {"file": inert(file, 120), "line": line, "why": inert(mask_text(why)[0], 160)}
        causes = self.risks.setdefault(name, [])
        if cause not in causes and len(causes) < 50:
            causes.append(cause)

    def build(self, files: list[dict[str, Any]]) -> dict[str, Any]:
        """The card's JSON object (schema omni-tui/card@1), entries sorted by file and name."""
        data: dict[str, Any] = {"schema": SCHEMA}
        for cat in CATEGORIES:
            groups = self.cats[cat]
            for entries in groups.values():
                entries.sort(key=lambda e: (e.get("file") or "", e.get("name") or ""))
            data[cat] = groups
        data["risks"] = [{"risk": r, "severity": SEVERITY[r], "causes": self.risks[r]} for r in RISKS if r in self.risks]
        data["files_compared"] = files
        return data


def show_value(value: Value | None, name: str, b: CardBuilder | None = None, file: str = "", line: int | None = None) -> str | None:
    """A value as the card shows it: masked (flagging `secret_in_file` when a builder is given), inert, short."""
    if value is None:
        return None
    literal = value.kind == "str" and not value.text.startswith("${")
    text, secret = mask_value(name, value.text if value.kind == "str" else value.display(), literal=literal)
    if value.kind == "str" and text != "••••":
        text = Value("str", text).display()
    elif value.kind == "str":
        text = '"••••"'
    if secret and b is not None:
        b.risk("secret_in_file", file, line, f"{name} holds what looks like a secret")
    return inert(text)


def make_entry(name: str, file: str, line: int | None, source: Value | None = None, **extra: Any) -> Entry:
    masked_name = inert(mask_text(name)[0], 160)
    e: Entry = {"name": masked_name, "file": file, "line": line, "condition": None, "resolved": True}
    if source is not None:
        if source.condition is not None:
            e["condition"] = inert(mask_text(source.condition)[0], 160)
        if source.kind in ("expr", "func"):  # a reference (`pkgs.ripgrep`) is a name as written; these are computations
            e["resolved"] = False
    e.update(extra)
    return e
