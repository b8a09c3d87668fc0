"""Command palette: every cockpit action (with its current key) and every theme, searchable by name.

Only omni-tui's: the app's `COMMANDS` leaves out Textual's system commands (a second "Theme", "Keys"
opening Textual's key panel, "Screenshot", "Quit the application as soon as possible"). `ctrl+p` is the
cockpit's own binding (`palette_binding`), so the help screen lists it and the footer keeps it at 80 columns.
"""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from omni_tui.ui.keys import ACTIONS

PALETTE_HELP = "Open the command palette: any action or theme, found by name"


def palette_binding() -> Binding:
    """`ctrl+p` → the palette, with an id so the help screen lists it (Textual's own has none and is hidden)."""
    return Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True, tooltip=PALETTE_HELP, id="command_palette")


class CockpitCommands(Provider):
    """Lists the cockpit's actions ("Approve  a") and "Theme: <name>" for each registered theme."""

    def _commands(self) -> list[tuple[str, str, object, str]]:
        """(name shown, help, callback, other words it is found by) for every command."""
        app = self.app
        keys = getattr(app, "action_keys", lambda: {})()
        commands: list[tuple[str, str, object, str]] = []
        for spec in ACTIONS:
            key = keys.get(spec.id, "")
            name = f"{spec.label}  ({key})" if key else spec.label
            # The id is what `[keys]` in omni-tui.toml remaps, so the palette is where people find it.
            # Found by its panel's name too: "proc" finds Restart, Stop and Log.
            also = "" if spec.panel == "global" else f"{spec.panel} {spec.label}"
            commands.append((name, escape(f"{spec.help}  ·  [keys] {spec.id}"), partial(app.run_action, spec.id), also))
        for theme in sorted(app.available_themes):
            # Found by "change theme" too: the words of Textual's own palette command, which people type.
            also = f"change theme {theme}"
            commands.append((f"Theme: {theme}", f"Switch the cockpit to the {theme} theme", partial(setattr, app, "theme", theme), also))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback, _also in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback, also in self._commands():
            score = max(matcher.match(name), matcher.match(also) if also else 0)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]
