"""The cockpit's key map: every action as a `Binding` with an id, and `[keys]` remapping from the config.

The binding id is the action's public name: `[keys] approve = "y"` rebinds it (through Textual's
`App.set_keymap`), and the same ids name the commands in the command palette and the help screen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple, TypeVar

from textual.binding import Binding, BindingType

from omni_tui.core.errors import ConfigError

T = TypeVar("T")


class ActionSpec(NamedTuple):  # not a dataclass: cheaper to create before the cockpit's first frame
    """One cockpit action: its id (= binding id = action method suffix), default key, footer label, help text, panel."""

    id: str
    key: str
    label: str
    help: str
    panel: str  # "global", "proposals", "changes", "processes", "rebuild"
    show: bool = True
    priority: bool = False
    key_display: str | None = None
    group: str | None = None  # footer group: bindings sharing it show as one entry ("n p Hunk")
    owner: str = "app"  # whose BINDINGS hold it: "app", "diff" (every DiffView), "processes" (the ProcessTable)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("approve", "a", "Approve", "Approve the selected proposal (confirm, apply, rebuild)", "proposals"),
    ActionSpec("reject", "r", "Reject", "Reject the selected proposal with a reason the agent reads", "proposals"),
    ActionSpec("edit", "e", "Edit", "Edit the proposed content before approving ($EDITOR when set)", "proposals"),
    ActionSpec(
        "toggle_hunk",
        "space",
        "✓/✗",
        "Include or leave out the hunk under the cursor (partial approval)",
        "proposals",
        key_display="space",
        owner="diff",
    ),
    ActionSpec(
        "next_hunk", "n", "Next hunk", "Move to the next hunk of the diff in the focused panel", "changes", group="Hunk", owner="diff"
    ),
    ActionSpec(
        "previous_hunk",
        "p",
        "Prev hunk",
        "Move to the previous hunk of the diff in the focused panel",
        "changes",
        group="Hunk",
        owner="diff",
    ),
    ActionSpec("next_file", "f", "File", "Show the next changed file of the focused diff", "changes", owner="diff"),
    ActionSpec("toggle_split", "s", "Split", "Switch the focused diff between split and unified", "changes", owner="diff"),
    ActionSpec("accept_direct", "A", "Accept", "Accept the unapproved direct edits (validate, rebuild, record)", "changes"),
    ActionSpec("revert_direct", "u", "Revert", "Revert the unapproved direct edits to the baseline", "changes"),
    ActionSpec(
        "guard_unguarded",
        "g",
        "Guard",
        "Guard the files the environment reads that are not guarded: add them to [guard] files in omni-tui.toml and accept that (after a confirmation)",
        "changes",
    ),
    ActionSpec("cancel_rebuild", "c", "Cancel", "Cancel the running rebuild", "rebuild"),
    ActionSpec("rollback", "b", "Rollback", "Roll back the failed rebuild's change to the previous content", "rebuild"),
    ActionSpec(
        "resolve_tampered",
        "T",
        "Resolve",
        "Show what was tampered with (files the audit log does not vouch for) and put back what it vouches for, recorded as your decision",
        "global",
    ),
    ActionSpec("restart_process", "R", "Restart", "Restart the selected process (after a confirmation)", "processes", owner="processes"),
    ActionSpec("stop_process", "x", "Stop", "Stop the selected process (after a confirmation)", "processes", owner="processes"),
    ActionSpec("process_log", "l", "Log", "Show the selected process's log", "processes", owner="processes"),
    ActionSpec("next_panel", "tab", "Panel", "Move to the next panel", "global", show=False, priority=True, key_display="tab"),
    ActionSpec("previous_panel", "shift+tab", "Prev panel", "Move to the previous panel", "global", show=False, priority=True),
    ActionSpec("maximize", "z", "Zoom", "Maximise the focused panel, or restore it", "global"),
    ActionSpec("help", "question_mark", "Help", "Show every key and what it does", "global", key_display="?"),
    ActionSpec("quit", "q", "Quit", "Quit the cockpit", "global"),
)

ACTIONS_BY_ID: dict[str, ActionSpec] = {spec.id: spec for spec in ACTIONS}

# When the footer cannot show every live key (80 columns, a proposal pending and direct edits), these
# give way, first to last; approve, reject, the rebuild's keys, help, quit and ^p always stay.
FOOTER_GIVES_WAY: tuple[str, ...] = (
    "toggle_split",
    "next_hunk",
    "maximize",
    "next_file",
    "process_log",
    "toggle_hunk",
    "edit",
    "revert_direct",
    "stop_process",
    "restart_process",
    "accept_direct",
)


ACTION_ORDER: dict[str, int] = {spec.id: index for index, spec in enumerate(ACTIONS)}

_GROUPS = {spec.group: Binding.Group(spec.group, compact=True) for spec in ACTIONS if spec.group}


def in_action_order(items: list[T], action_id: Callable[[T], str | None]) -> list[T]:
    """`items` with the cockpit's actions in `ACTIONS` order (the footer, the help), wherever their
    bindings live; anything else keeps its place."""
    slots = [index for index, item in enumerate(items) if action_id(item) in ACTION_ORDER]
    ordered = sorted((items[index] for index in slots), key=lambda item: ACTION_ORDER[action_id(item) or ""])
    result = list(items)
    for index, item in zip(slots, ordered):
        result[index] = item
    return result


def default_bindings(owner: str = "app") -> list[BindingType]:
    """The bindings of one owner (the App, every DiffView, the ProcessTable) with their default keys;
    the keymap remaps them by id wherever they live."""
    groups = _GROUPS
    return [
        Binding(
            spec.key,
            spec.id,
            spec.label,
            show=spec.show,
            priority=spec.priority,
            id=spec.id,
            tooltip=spec.help,
            key_display=spec.key_display,
            group=groups.get(spec.group) if spec.group else None,
        )
        for spec in ACTIONS
        if spec.owner == owner
    ]


def elsewhere_bindings() -> list[BindingType]:
    """The widget-owned actions bound once more on the App, hidden: pressed outside their panel they
    reach the App, which says why they do not apply there (the owner's binding wins inside it)."""
    return [Binding(spec.key, spec.id, spec.label, show=False, id=spec.id, tooltip=spec.help) for spec in ACTIONS if spec.owner != "app"]


def _normalise_key(key: str) -> str:
    """Accept what people write in a config ("?", "Space", "ctrl+S") and give Textual's key names."""
    from omni_tui.ui.textual_compat import character_to_key

    parts = [part.strip() for part in key.split(",") if part.strip()]
    normalised: list[str] = []
    for part in parts:
        if len(part) == 1:
            normalised.append(character_to_key(part))
            continue
        *modifiers, last = part.split("+")
        # With modifiers a letter means the key, not its shifted character: "ctrl+Q" is ctrl+q.
        last = character_to_key(last.lower()) if len(last) == 1 else last.lower()
        modifiers = [m.lower() for m in modifiers]
        _check_key(part, modifiers, last)
        normalised.append("+".join(modifiers + [last]))
    return ",".join(normalised)


MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")


def _key_names() -> frozenset[str]:
    from textual.keys import Keys

    return frozenset(key.value.rsplit("+", 1)[-1] for key in Keys) | {"space", "tab", "enter", "backspace"}


def _check_key(written: str, modifiers: list[str], last: str) -> None:
    """ConfigError (without the action, added by the caller) when `written` names no key Textual can send."""
    import unicodedata

    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise ValueError(f"{written!r} is not a key: {modifier!r} is not a modifier ({', '.join(MODIFIERS)})")
    if len(set(modifiers)) != len(modifiers):
        raise ValueError(f"{written!r} is not a key: a modifier is named twice")
    if not last:
        raise ValueError(f"{written!r} is not a key: nothing after the last '+'")
    if len(last) == 1 or last in _key_names():
        return
    try:
        unicodedata.lookup(last.replace("_", " "))  # Textual's names for characters: question_mark, plus, ...
    except KeyError:
        raise ValueError(
            f"{written!r} is not a key: unknown key name {last!r} (e.g. a, f5, enter, escape, space, up, pageup, question_mark)"
        ) from None


# Keys the cockpit (Textual's App and Screen) binds for itself, whatever `[keys]` says: mapped to an
# action they would never reach it. ctrl+q may stay quit's.
KEPT_KEYS = {
    "ctrl+c": ("copies text, or says how to quit", None),
    "super+c": ("copies text", None),
    "ctrl+p": ("opens the command palette", None),
    "ctrl+q": ("quits", "quit"),
}


def keymap_from_config(keys: Mapping[str, str]) -> dict[str, str]:
    """Validate `[keys]` (action id → key) and return a Textual keymap; unknown ids or empty keys are a ConfigError."""
    keymap: dict[str, str] = {}
    for action_id, key in keys.items():
        if action_id not in ACTIONS_BY_ID:
            known = ", ".join(spec.id for spec in ACTIONS)
            raise ConfigError(f"[keys] {action_id}: unknown action (known: {known})")
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f'[keys] {action_id}: the key must be a non-empty string such as "y" or "ctrl+a"')
        try:
            keymap[action_id] = _normalise_key(key)
        except ValueError as exc:
            raise ConfigError(f"[keys] {action_id}: {exc}") from None
        for one in keymap[action_id].split(","):
            if one in KEPT_KEYS and KEPT_KEYS[one][1] != action_id:
                raise ConfigError(f"[keys] {action_id}: {one!r} is the cockpit's own ({one} {KEPT_KEYS[one][0]}); choose another key")
    taken: dict[str, str] = {}
    # Remapped actions last, so a clash names the action the person just remapped.
    effective = {spec.id: spec.key for spec in ACTIONS if spec.id not in keymap} | keymap
    for action_id, key_list in effective.items():
        for key in key_list.split(","):
            if key in taken and taken[key] != action_id:
                raise ConfigError(f"[keys] {action_id}: key {key!r} is already bound to {taken[key]}")
            taken[key] = action_id
    return keymap
