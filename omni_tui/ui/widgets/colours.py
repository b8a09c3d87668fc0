"""Theme variables as Rich colours for widgets that build Rich `Text` themselves."""

from __future__ import annotations

from textual.app import App
from textual.color import Color, ColorParseError


def theme_colour(app: App, name: str) -> str:
    """A theme variable as a Rich colour (`#rrggbb`): translucent colours are blended onto the background."""
    variables = app.theme_variables
    try:
        colour = Color.parse(variables.get(name, variables.get("foreground", "#ffffff")))
        if colour.a < 1:
            colour = Color.parse(variables.get("background", "#000000")) + colour
    except ColorParseError:
        return ""
    return colour.hex6
