"""A card → lines of plain text: `compact` (one line per category) and `full` (every entry and risk).

Text only (the UI styles it from `(kind, text)` segments); every string in a card is already masked
and inert, so the lines may go to a terminal as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from omni_tui.core.card.categories import CATEGORIES
from omni_tui.core.card.diff import Card

LABELS = {
    "packages": "packages",
    "languages": "languages",
    "services": "services",
    "processes": "processes",
    "env": "env",
    "scripts": "scripts",
    "tasks": "tasks",
    "shell_hooks": "shell hooks",
    "git_hooks": "git hooks",
    "imports": "imports",
    "inputs": "inputs",
    "agent_settings": "agent settings",
    "files": "files",
    "other": "other",
}
MARKS = {"added": "+", "enabled": "+", "removed": "-", "disabled": "-", "changed": "~"}
_WIDTH = max(len(v) for v in LABELS.values())


def entry_text(cat: str, e: dict[str, Any]) -> str:
    text = str(e.get("name", ""))
    if cat == "services" and e.get("port"):
        text += f" :{e['port']}"
    if e.get("condition"):
        text += " (if " + str(e["condition"]) + ")"
    if not e.get("resolved", True):
        text += " (not resolved statically)"
    return text


def compact(card: Card, *, width: int | None = None) -> list[str]:
    """One line per non-empty category: `services        +redis :6379 ~postgres`."""
    lines = []
    for cat in CATEGORIES:
        groups: dict[str, list[dict[str, Any]]] = card.data.get(cat, {})
        parts = [f"{MARKS[g]}{entry_text(cat, e)}" for g, entries in groups.items() for e in entries]
        if parts:
            line = f"{LABELS[cat]:<{_WIDTH}}  " + " ".join(parts)
            if width is not None and len(line) > width:
                line = line[: max(width - 1, 1)] + "…"
            lines.append(line)
    return lines


# Where the key's words would be jargon: "unparsed" is part of a file the card could not read (a syntax
# error, a computed name), so the card may not show all the change does.
RISK_WORDS = {"unparsed": "not fully read"}


def risk_words(risk: str) -> str:
    """A risk as a person reads it ("network_service" → "network service"); the JSON keeps the key."""
    return RISK_WORDS.get(risk, risk.replace("_", " "))


def risk_line(card: Card) -> str:
    """The risks in words, errors marked: `runs on shell entry, secret in file (error)`."""
    return ", ".join(risk_words(r["risk"]) + (" (error)" if r["severity"] == "error" else "") for r in card.risks)


def entry_lines(cat: str, group: str, e: dict[str, Any]) -> Iterable[str]:
    where = f"{e.get('file')}:{e['line']}" if e.get("line") else str(e.get("file") or "")
    yield f"  {MARKS[group]} {entry_text(cat, e)}  ({group}, {where})"
    for key in ("value", "exec", "url"):
        if e.get(key) is not None:
            label = "value" if key == "value" else key
            before = f"{e['before']} → " if key == "value" and e.get("before") is not None else ""
            yield f"      {label}: {before}{e[key]}"
    if e.get("ref"):
        yield f"      ref: {e['ref']}"
    if (
        cat in ("agent_settings", "other", "git_hooks", "inputs")
        and ("before" in e or "after" in e)
        and "value" not in e
        and "url" not in e
    ):
        yield f"      {e.get('before') if e.get('before') is not None else '(unset)'} → {e.get('after') if e.get('after') is not None else '(unset)'}"
    for c in e.get("changes", []):
        before = c["before"] if c["before"] is not None else "(unset)"
        after = c["after"] if c["after"] is not None else "(unset)"
        yield f"      {c['option'] or '(value)'}: {before} → {after}"
    for line in e.get("added_lines", []):
        yield f"      + {line}"
    for line in e.get("removed_lines", []):
        yield f"      - {line}"
    for line in e.get("runs_on_cd", []):
        yield f"      runs on cd: {line}"


def full(card: Card) -> list[str]:
    """Every entry, its values (masked) and every risk with the lines that caused it."""
    out: list[str] = []
    if card.risks:
        out.append("Risks")
        for r in card.risks:
            # The key is what `[policy] refuse/confirm` and the JSON name it by.
            out.append(f"  {risk_words(r['risk'])} ({r['severity']}; policy key {r['risk']})")
            for c in r["causes"]:
                where = f"{c['file']}:{c['line']}" if c.get("line") else str(c["file"])
                out.append(f"      {where}  {c['why']}")
    for cat in CATEGORIES:
        groups: dict[str, list[dict[str, Any]]] = card.data.get(cat, {})
        entries = [(g, e) for g, es in groups.items() for e in es]
        if not entries:
            continue
        if out:
            out.append("")
        out.append(LABELS[cat].capitalize())
        for g, e in entries:
            out.extend(entry_lines(cat, g, e))
    if not out:
        out.append("No change to the environment's configuration.")
    return out
