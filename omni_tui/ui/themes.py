"""Cockpit themes: load `omni_tui/themes/*.toml` and the user's themes into Textual `Theme`s.

A theme file holds Textual's theme fields (name, primary, ..., dark, `[variables]`) plus a
`[diff]` table and a `[log]` table. Those two tables become theme variables named
`diff-<key>` and `log-<key>` (underscores turned into dashes), so `.tcss` can write
`$diff-added-bg` or `$log-bright-red`; a table or key a file leaves out is derived from the
theme's own colours, so every theme (Textual's built-in ones included, through
`theme_variable_defaults`) defines every variable. The `[log]` palette also maps the 16 ANSI
colours of the rebuild and process logs when the app calls `apply_log_palette`.

User themes live in `$XDG_CONFIG_HOME/omni-tui/themes/` (default `~/.config/omni-tui/themes/`);
one with a shipped theme's name replaces it. A bad file yields a one-line error naming the file
and the key, and the other files still load.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.terminal_theme import TerminalTheme
from textual.color import Color, ColorParseError
from textual.theme import Theme

from omni_tui.core.errors import OmniError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from textual.app import App

DEFAULT_THEME = "omni-dark"
SHIPPED_THEMES = ("omni-dark", "omni-light", "omni-high-contrast")

COLOUR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
FLOAT_FIELDS = ("luminosity_spread", "text_alpha")
DIFF_KEYS = ("added_bg", "removed_bg", "added_emph_bg", "removed_emph_bg", "gutter", "hunk_header")
ANSI_NAMES = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
LOG_KEYS = ("foreground", "background", *ANSI_NAMES, *(f"bright_{name}" for name in ANSI_NAMES))
TOP_LEVEL_KEYS = frozenset({"name", "dark", "variables", "diff", "log", *COLOUR_FIELDS, *FLOAT_FIELDS})

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

# The ANSI palettes used for keys a `[log]` table leaves out (those of Textual's own ANSI themes).
_DARK_ANSI = (
    "#000000",
    "#cd3131",
    "#0dbc79",
    "#e5e510",
    "#2472c8",
    "#bc3fbc",
    "#11a8cd",
    "#e5e5e5",
    "#666666",
    "#f14c4c",
    "#23d18b",
    "#f5f543",
    "#3b8eea",
    "#d670d6",
    "#29b8db",
    "#ffffff",
)
_LIGHT_ANSI = (
    "#000000",
    "#aa3731",
    "#448c27",
    "#cb9000",
    "#325cc0",
    "#7a3e9d",
    "#0083b2",
    "#bbbbbb",
    "#777777",
    "#f05050",
    "#60cb00",
    "#ffbc5d",
    "#007acc",
    "#e64ce6",
    "#00aacb",
    "#f7f7f7",
)


class ThemeError(OmniError):
    """A theme file is unreadable, not TOML, or has an unknown key or a bad value."""


class ThemeLoad(NamedTuple):  # not a dataclass: cheaper to create before the cockpit's first frame
    """The themes that loaded (shipped first, then the user's) and one line per file that did not."""

    themes: tuple[Theme, ...]
    errors: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(theme.name for theme in self.themes)


def shipped_themes_dir() -> Path | Traversable:
    """The `themes/` directory inside the installed package (also inside the wheel)."""
    here = Path(__file__).parent.parent / "themes"
    if here.is_dir():  # installed as files: importlib.resources (and zipfile) stay out of the start-up
        return here
    from importlib.resources import files

    return files("omni_tui").joinpath("themes")


def user_themes_dir(env: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_CONFIG_HOME/omni-tui/themes`, or `~/.config/omni-tui/themes` (XDG: relative values are ignored)."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = env.get("HOME") or str(Path.home())
        base = Path(home) / ".config"
    return base / "omni-tui" / "themes"


def _colour(source: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"theme {source}: {key} must be a colour string, not {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"theme {source}: {key} = {value!r} is not a colour") from None
    return value


def _table(source: str, data: Mapping[str, Any], table: str, allowed: tuple[str, ...]) -> dict[str, str]:
    raw = data.get(table, {})
    if not isinstance(raw, dict):
        raise ThemeError(f"theme {source}: [{table}] must be a table")
    for key in raw:
        if key not in allowed:
            raise ThemeError(f"theme {source}: [{table}] {key}: unknown key (expected one of {', '.join(allowed)})")
    return {key: _colour(source, f"[{table}] {key}", value) for key, value in raw.items()}


def _hex(colour: Color) -> str:
    return colour.hex6 if colour.a >= 1 else colour.hex


_GENERATED: dict[tuple[object, ...], dict[str, str]] = {}


def generated_colours(theme: Theme) -> dict[str, str]:
    """Textual's colour system generated for `theme` (its `$primary`, `$panel`, ... shades): ≈ 0.5 ms
    each, and the cockpit's start asks for the chosen theme's several times (its defaults, the log
    palette, the stylesheet's variables), so it is made once per distinct theme. Do not mutate."""
    key = (
        theme.primary,
        theme.secondary,
        theme.warning,
        theme.error,
        theme.success,
        theme.accent,
        theme.foreground,
        theme.background,
        theme.surface,
        theme.panel,
        theme.boost,
        theme.dark,
        theme.luminosity_spread,
        theme.text_alpha,
        theme.ansi,
        tuple(theme.variables.items()),
    )
    generated = _GENERATED.get(key)
    if generated is None:
        if len(_GENERATED) >= 64:  # themes edited again and again in one process: stay small
            _GENERATED.clear()
        generated = _GENERATED[key] = theme.to_color_system().generate()
    return generated


def _base_colours(theme: Theme) -> dict[str, Color]:
    """The theme's colours with Textual's own defaults filled in (a theme may leave most out)."""
    generated = generated_colours(theme)
    return {key: Color.parse(generated[key]) for key in ("background", "foreground", "success", "error", "accent")}


def _derived_diff(c: Mapping[str, Color]) -> dict[str, str]:
    background = c["background"]
    return {
        "added_bg": _hex(background.blend(c["success"], 0.22)),
        "removed_bg": _hex(background.blend(c["error"], 0.22)),
        "added_emph_bg": _hex(background.blend(c["success"], 0.45)),
        "removed_emph_bg": _hex(background.blend(c["error"], 0.45)),
        "gutter": _hex(background.blend(c["foreground"], 0.55)),
        "hunk_header": _hex(c["accent"]),
    }


def _derived_log(theme: Theme, c: Mapping[str, Color]) -> dict[str, str]:
    palette = _DARK_ANSI if theme.dark else _LIGHT_ANSI
    log = {"foreground": _hex(c["foreground"]), "background": _hex(c["background"])}
    log.update(zip(LOG_KEYS[2:], palette))
    return log


def _variables(diff: Mapping[str, str], log: Mapping[str, str]) -> dict[str, str]:
    variables = {f"diff-{key.replace('_', '-')}": value for key, value in diff.items()}
    variables.update({f"log-{key.replace('_', '-')}": value for key, value in log.items()})
    return variables


def theme_variable_defaults(theme: Theme) -> dict[str, str]:
    """`$diff-*` / `$log-*` (and `$foreground-disabled`) for a theme that does not set them (Textual's own)."""
    defaults = _derived_variables(theme)
    # Textual's ansi-* themes generate no $foreground-disabled (a DiffView's left-out hunks): without
    # it, choosing one stops the app with a stylesheet error. Their $text-disabled is the same idea.
    generated = generated_colours(theme)
    if "foreground-disabled" not in generated:
        defaults["foreground-disabled"] = generated.get("text-disabled", generated["foreground-muted"])
    return defaults


def _derived_variables(theme: Theme) -> dict[str, str]:
    """Every `diff-*` and `log-*` variable, derived from `theme`'s colours.

    For `App.get_theme_variable_defaults` (`return theme_variable_defaults(self.current_theme)`):
    it keeps the cockpit's `.tcss` valid under Textual's built-in themes, which lack these variables.
    """
    c = _base_colours(theme)  # one colour-system generation (≈ 0.3 ms) for both
    return _variables(_derived_diff(c), _derived_log(theme, c))


def parse_theme(text: str, source: str) -> Theme:
    """A `Theme` from the TOML text of a theme file; `ThemeError` names `source` and the key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ThemeError(f"theme {source}: not valid TOML: {err}") from None
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ThemeError(f"theme {source}: {key}: unknown key")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeError(f"theme {source}: name: required, a non-empty string")
    if not _NAME_RE.match(name):
        raise ThemeError(f"theme {source}: name = {name!r}: use letters, digits, '-' and '_' only")
    if "primary" not in data:
        raise ThemeError(f"theme {source}: primary: required")
    fields: dict[str, Any] = {key: _colour(source, key, data[key]) for key in COLOUR_FIELDS if key in data}
    for key in FLOAT_FIELDS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ThemeError(f"theme {source}: {key} must be a number")
            fields[key] = float(value)
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"theme {source}: dark must be true or false")
    extra = data.get("variables", {})
    if not isinstance(extra, dict):
        raise ThemeError(f"theme {source}: [variables] must be a table")
    for key, value in extra.items():
        if not isinstance(value, str):
            raise ThemeError(f"theme {source}: [variables] {key} must be a string")
    diff = _table(source, data, "diff", DIFF_KEYS)
    log = _table(source, data, "log", LOG_KEYS)

    theme = Theme(name=name, dark=dark, **fields)
    c = _base_colours(theme)
    variables = _variables({**_derived_diff(c), **diff}, {**_derived_log(theme, c), **log})
    variables.update(extra)
    theme.variables = variables
    return theme


def load_theme_file(path: Path | Traversable) -> Theme:
    """Read and parse one theme file; unreadable or non-UTF-8 files are `ThemeError`s too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        raise ThemeError(f"theme {path}: cannot read: {reason}") from None
    return parse_theme(text, str(path))


def _theme_files(directory: Path | Traversable) -> list[Path | Traversable]:
    """The `*.toml` files of a themes directory (none when it does not exist)."""
    try:
        if not directory.is_dir():
            return []
        return sorted((entry for entry in directory.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)
    except OSError as err:
        raise ThemeError(f"themes directory {directory}: cannot list: {err.strerror or err}") from None


def load_themes(user_dir: Path | None = None, *, env: Mapping[str, str] = os.environ, user: bool = True) -> ThemeLoad:
    """The shipped themes, then the user's (`user_dir`, default `user_themes_dir(env)`; none when not `user`).

    A user theme with a shipped theme's name replaces it; two user files defining the same
    name are an error for the second one (in file-name order).
    """
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    directories = (shipped_themes_dir(), user_dir or user_themes_dir(env)) if user else (shipped_themes_dir(),)
    for directory in directories:
        seen: dict[str, str] = {}
        try:
            paths = _theme_files(directory)
        except ThemeError as err:
            errors.append(str(err))
            continue
        for path in paths:
            try:
                theme = load_theme_file(path)
            except ThemeError as err:
                errors.append(str(err))
                continue
            if theme.name in seen:
                errors.append(f"theme {path}: name = {theme.name!r} is already defined by {seen[theme.name]}")
                continue
            seen[theme.name] = str(path)
            themes.pop(theme.name, None)  # a user override takes the shipped theme's place at the end
            themes[theme.name] = theme
    return ThemeLoad(tuple(themes.values()), tuple(errors))


def register_themes(app: App[Any], *, user_dir: Path | None = None, env: Mapping[str, str] = os.environ, user: bool = True) -> ThemeLoad:
    """Register the shipped and (when `user`) the user's themes on `app`; returns the load so the app can
    show its errors."""
    loaded = load_themes(user_dir, env=env, user=user)
    for theme in loaded.themes:
        app.register_theme(theme)
    return loaded


def register_chosen_theme(app: App[Any], name: str, *, env: Mapping[str, str] = os.environ) -> ThemeLoad | None:
    """Register only the shipped theme `name` (≈ 1 ms each to read and derive), for a start when the
    user has no theme files: the other shipped themes can wait until the theme list is first looked
    at (`CockpitApp.available_themes`). None when it cannot stand alone — `name` is not a shipped
    theme, the user has theme files (they may replace it, or fail and be reported at start), or
    the file does not load — and the caller registers them all (`register_themes`)."""
    if name not in SHIPPED_THEMES:
        return None
    try:
        if _theme_files(user_themes_dir(env)):
            return None
        directory = shipped_themes_dir()
        theme = load_theme_file(directory / f"{name}.toml")
    except ThemeError:
        return None
    if theme.name != name:
        return None
    app.register_theme(theme)
    return ThemeLoad((theme,), ())


def choose_theme(app: App[Any], name: str) -> str | None:
    """Switch `app` to theme `name`; an unknown name keeps/sets `DEFAULT_THEME` and returns a one-line error."""
    if name in app.available_themes:
        app.theme = name
        return None
    if DEFAULT_THEME in app.available_themes:
        app.theme = DEFAULT_THEME
    return _unknown_theme(app, name)


def _unknown_theme(app: App[Any], name: str) -> str:
    known = ", ".join(sorted(app.available_themes))
    return f"[ui] theme = {name!r}: no such theme (known: {known})"


def start_theme(app: App[Any], name: str) -> str | None:
    """`choose_theme` then `apply_log_palette`, for an app that is not running yet (its `__init__`).

    Setting `app.theme` and the ANSI themes runs Textual's watchers, and each queues a full
    re-parse of the stylesheet for the app's first moments (two: ≈ 12 ms of start-up, see
    docs/performance.md). Before the first parse there is nothing to re-parse: the reactives are
    set without watchers and their remaining effects done here (the theme's classes on the app,
    the ANSI → truecolor filter via `App._refresh_truecolor_filter` of the pinned Textual 8.2.8,
    the stylesheet's variables).
    """
    from textual.app import App

    from omni_tui.ui.textual_compat import refresh_truecolor_filter

    problem = None
    # `get_theme`, not `available_themes`: the cockpit registers the other themes on the list's first
    # look (`CockpitApp.available_themes`). It also takes "a,b" lists, which the theme reactive does not.
    if "," in name or app.get_theme(name) is None:
        problem = _unknown_theme(app, name)
        name = DEFAULT_THEME if DEFAULT_THEME in app.available_themes else app.theme
    app.set_reactive(App.theme, name)
    theme = app.current_theme
    app.remove_class(*(cls for cls in app.classes if cls.startswith("-theme-")), update=False)
    app.add_class(f"-theme-{theme.name}", update=False)
    app.set_class(theme.dark, "-dark-mode", update=False)
    app.set_class(not theme.dark, "-light-mode", update=False)
    palette = log_terminal_theme(theme)
    app.set_reactive(App.ansi_theme_dark, palette)
    app.set_reactive(App.ansi_theme_light, palette)
    refresh_truecolor_filter(app, palette)
    app.stylesheet.set_variables(app.get_css_variables())  # the first parse uses the chosen theme's
    return problem


def _rgb(value: str) -> tuple[int, int, int]:
    colour = Color.parse(value)
    return (colour.r, colour.g, colour.b)


def log_terminal_theme(theme: Theme) -> TerminalTheme:
    """The theme's `[log]` palette as a Rich `TerminalTheme` (how Textual maps ANSI colours)."""
    variables = {**theme_variable_defaults(theme), **theme.variables}

    def get(key: str) -> tuple[int, int, int]:
        return _rgb(variables[f"log-{key.replace('_', '-')}"])

    normal = [get(name) for name in ANSI_NAMES]
    bright = [get(f"bright_{name}") for name in ANSI_NAMES]
    return TerminalTheme(get("background"), get("foreground"), normal, bright)


def apply_log_palette(app: App[Any], theme: Theme | None = None) -> None:
    """Make ANSI colours (the rebuild and process logs) follow `theme`'s `[log]` palette.

    Call it on mount and from a `theme_changed_signal` subscriber.
    """
    palette = log_terminal_theme(theme or app.current_theme)
    app.ansi_theme_dark = palette
    app.ansi_theme_light = palette
