"""The help screen: every key and what it does, grouped by panel, built from the app's live bindings.

`help_sections(app, groups=...)` reads the bindings of the app, its current screen and the
widgets on it, with the app's keymap applied, so remapped keys show as they really are.
`HelpScreen(sections)` shows them; escape, `q` or `?` closes it. `open_cockpit_help(app)` shows the
cockpit's, reusing the screen it built last while the keys and theme are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from omni_tui.ui.screens.summaries import HelpEntry, HelpSection
from omni_tui.ui.textual_compat import bindings_of, keymap_of
from omni_tui.ui.widgets.colours import theme_colour
from omni_tui.ui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode

DEFAULT_GROUP = "Cockpit"


def _group_of(node: DOMNode) -> str | None:
    title = getattr(node, "BINDING_GROUP_TITLE", None)
    if title:
        return str(title)
    for ancestor in node.ancestors_with_self:
        border_title = getattr(ancestor, "border_title", None)
        if border_title:
            return str(border_title)
    return None


def _keys_after_keymap(bindings: BindingsMap, keymap: Mapping[str, str]) -> dict[str, list[str]]:
    """binding id → the keys it answers to once the keymap is applied (as Textual applies it)."""
    remapped = bindings.copy()
    if keymap:
        remapped.apply_keymap(dict(keymap))
    keys: dict[str, list[str]] = {}
    for key, binding in remapped:
        if binding.id is not None:
            keys.setdefault(binding.id, []).append(key)
    return keys


def help_sections(
    app: App[Any],
    *,
    groups: Mapping[str, str] | None = None,
    default_group: str = DEFAULT_GROUP,
) -> tuple[HelpSection, ...]:
    """The keys of `app`'s current screen, grouped.

    A binding's group is `groups[binding.id]` when given, else its widget's `BINDING_GROUP_TITLE`
    or the border title of the panel around it, else `default_group`. Bindings without an id that
    are hidden from the footer (Textual's own plumbing) are left out.
    """
    groups = groups or {}
    keymap: Mapping[str, str] = keymap_of(app)
    screen = app.screen
    nodes: list[DOMNode] = [app, screen]
    nodes.extend(widget for widget in screen.walk_children(with_self=False) if bindings_of(widget).key_to_bindings)
    # group title → (action, description) → keys, in first-seen order
    collected: dict[str, dict[tuple[str, str], list[str]]] = {}
    for node in nodes:
        bindings: BindingsMap = bindings_of(node)
        node_group = None if node is app or node is screen else _group_of(node)
        live_keys = _keys_after_keymap(bindings, keymap)
        for _key, binding in bindings:
            if binding.system or (binding.id is None and not binding.show):
                continue
            description = binding.tooltip or binding.description
            if not description:
                continue
            group = groups.get(binding.id or "", None) or node_group or default_group
            if binding.id is not None:
                keys = live_keys.get(binding.id, [])
                displays = [_display(app, binding, k) for k in keys]
            else:
                displays = [app.get_key_display(binding)]
            entry_keys = collected.setdefault(group, {}).setdefault((binding.action, description), [])
            for display in displays:
                if display not in entry_keys:
                    entry_keys.append(display)
    return tuple(
        HelpSection(title, tuple(HelpEntry(", ".join(keys), description) for (_, description), keys in entries.items() if keys))
        for title, entries in collected.items()
    )


# The cockpit's help sections, by ActionSpec.panel.
HELP_GROUPS = {
    "global": "Cockpit",
    "proposals": "Proposals",
    "changes": "Changes and diffs",
    "processes": "Processes",
    "rebuild": "Rebuild",
}


def cockpit_help_sections(app: App[Any]) -> tuple[HelpSection, ...]:
    """The cockpit's keys, one section per panel, in the actions' one order (keys.ACTIONS) whichever
    widget holds each binding (the App, a diff panel, the process table)."""
    from omni_tui.ui.keys import ACTIONS, in_action_order

    groups = {spec.id: HELP_GROUPS[spec.panel] for spec in ACTIONS}
    by_help = {spec.help: spec.id for spec in ACTIONS}
    first_of = {HELP_GROUPS[spec.panel]: spec.id for spec in reversed(ACTIONS)}
    sections = in_action_order(list(help_sections(app, groups=groups)), lambda section: first_of.get(section.title))
    return tuple(
        HelpSection(section.title, tuple(in_action_order(list(section.entries), lambda entry: by_help.get(entry.description))))
        for section in sections
    )


HELP_SCREEN = "omni-tui-help"  # the name the cockpit's help screen is installed under (App.install_screen)


def open_cockpit_help(app: App[Any]) -> None:
    """Show the cockpit's help screen, built once and shown again while it still says what is true.

    A fresh screen costs a compose, a stylesheet pass over its widgets and a relayout of the cockpit
    under it (Textual relayouts the background screens when a new screen first lays out): 0.1 s of
    CPU on an idle machine, most of a second on a loaded one, for the key a person presses to find the
    others. The key table itself is cheap to read (about a millisecond), so it is read every time and
    the kept screen is shown only when its sections (keys after the keymap, groups, descriptions) and
    the theme it was coloured for are unchanged; otherwise it is replaced."""
    sections = cockpit_help_sections(app)
    key = (sections, app.theme)
    kept = app.get_screen(HELP_SCREEN) if app.is_screen_installed(HELP_SCREEN) else None
    if kept is not None and kept in app.screen_stack:
        return  # already open (under the command palette, say): one help screen at a time
    if isinstance(kept, HelpScreen) and kept.cache_key == key:
        kept.scroll_to_top()  # as a fresh one opens: at the top
        app.push_screen(HELP_SCREEN)
        return
    if kept is not None:
        app.uninstall_screen(HELP_SCREEN)
        kept.remove()  # an uninstalled screen off the stack is not removed by Textual
    screen = HelpScreen(sections)
    screen.cache_key = key
    app.install_screen(screen, HELP_SCREEN)
    app.push_screen(HELP_SCREEN)


def _display(app: App[Any], binding: Binding, key: str) -> str:
    if key == binding.key:
        return app.get_key_display(binding)
    return app.get_key_display(binding.with_key(key=key, key_display=None))


def _section_content(section: HelpSection, key_style: str = "bold") -> Table:
    """Two columns: a description too long for its line wraps inside its own column (a hanging indent),
    so a continuation never starts under the keys where it would read like one."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for entry in section.entries:
        table.add_row(Text(entry.key, style=key_style), Text(entry.description))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key of the cockpit and what it does, one section per panel."""

    CSS_PATH = "screens.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("q", "close", "Close", show=False, id="help.close_q"),
        Binding("question_mark", "close", "Close", show=False, key_display="?", id="help.close_question_mark"),
    ]

    def __init__(self, sections: tuple[HelpSection, ...] | list[HelpSection]) -> None:
        super().__init__()
        self.sections = tuple(sections)
        self.cache_key: object = None  # what open_cockpit_help built it for (sections, theme)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog -help"):
            yield Label("[b]Keys[/]", id="dialog-title")
            with VerticalScroll(id="help-body"):
                for section in self.sections:
                    if not section.entries:
                        continue
                    yield Static(Content.from_markup("[b]$title[/]", title=section.title), classes="section-title")
                    yield Static(_section_content(section, f"bold {theme_colour(self.app, 'accent')}"), classes="help-keys")
            yield Static("Remap any key in the [keys] table of omni-tui.toml.", id="help-hint", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def scroll_to_top(self) -> None:
        """Before it is shown again: the first keys in view, the key list focused (as when first opened)."""
        if self.is_mounted:
            body = self.query_one("#help-body", VerticalScroll)
            body.scroll_home(animate=False, immediate=True)
            self.set_focus(body)

    def action_close(self) -> None:
        self.dismiss(None)
