"""Themes: the shipped three load, user themes load from the XDG dir, bad files are named, the wheel ships them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color

from omni_tui.ui.themes import (
    DIFF_KEYS,
    LOG_KEYS,
    SHIPPED_THEMES,
    ThemeError,
    apply_log_palette,
    choose_theme,
    load_themes,
    log_terminal_theme,
    parse_theme,
    register_themes,
    theme_variable_defaults,
    user_themes_dir,
)
from omni_tui.ui.widgets.log_view import LogView

ROOT = Path(__file__).resolve().parent.parent

USER_THEME = """
name = "solar-night"
dark = true
primary = "#268BD2"
background = "#002B36"
foreground = "#EEE8D5"

[diff]
added_bg = "#0B3B2E"

[log]
red = "#DC322F"
"""


@pytest.fixture
def xdg(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "xdg"
    (config / "omni-tui" / "themes").mkdir(parents=True)
    return {"XDG_CONFIG_HOME": str(config), "HOME": str(tmp_path / "home")}


def _variable_names() -> set[str]:
    return {f"diff-{k.replace('_', '-')}" for k in DIFF_KEYS} | {f"log-{k.replace('_', '-')}" for k in LOG_KEYS}


def test_the_three_shipped_themes_load_with_every_variable(xdg: dict[str, str]) -> None:
    loaded = load_themes(env=xdg)
    assert loaded.errors == ()
    assert set(SHIPPED_THEMES) <= set(loaded.names)
    by_name = {t.name: t for t in loaded.themes}
    assert by_name["omni-dark"].dark and not by_name["omni-light"].dark
    for name in SHIPPED_THEMES:
        theme = by_name[name]
        assert _variable_names() <= set(theme.variables)
        # every shipped file spells out its diff and log colours rather than relying on derivation
        derived = theme_variable_defaults(theme)
        assert any(theme.variables[k] != derived[k] for k in _variable_names())
    assert by_name["omni-dark"].variables["diff-added-bg"] == "#173523"
    assert by_name["omni-high-contrast"].variables["log-background"] == "#000000"


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    parsed = Color.parse(colour)
    return 0.2126 * channel(parsed.r) + 0.7152 * channel(parsed.g) + 0.0722 * channel(parsed.b)


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_high_contrast_meets_wcag(xdg: dict[str, str]) -> None:
    theme = {t.name: t for t in load_themes(env=xdg).themes}["omni-high-contrast"]
    v = theme.variables
    assert theme.background == "#000000" and theme.foreground == "#FFFFFF"
    assert _contrast(theme.foreground, theme.background) >= 21 - 0.01
    for colour in (theme.primary, theme.secondary, theme.accent, theme.warning, theme.error, theme.success):
        assert _contrast(colour, theme.background) >= 4.5, colour
    for bg in ("diff-added-bg", "diff-removed-bg", "diff-added-emph-bg", "diff-removed-emph-bg"):
        assert _contrast(theme.foreground, v[bg]) >= 7, bg
    assert _contrast(v["diff-gutter"], theme.background) >= 7
    for name in ("red", "green", "yellow", "blue", "magenta", "cyan", "white"):
        assert _contrast(v[f"log-{name}"], v["log-background"]) >= 4.5, name
        assert _contrast(v[f"log-bright-{name}"], v["log-background"]) >= 4.5, name


def test_a_user_theme_loads_from_xdg_config_home(xdg: dict[str, str]) -> None:
    user_dir = user_themes_dir(xdg)
    assert user_dir == Path(xdg["XDG_CONFIG_HOME"]) / "omni-tui" / "themes"
    (user_dir / "solar.toml").write_text(USER_THEME)
    loaded = load_themes(env=xdg)
    assert loaded.errors == ()
    theme = {t.name: t for t in loaded.themes}["solar-night"]
    assert theme.primary == "#268BD2"
    assert theme.variables["diff-added-bg"] == "#0B3B2E"
    assert theme.variables["log-red"] == "#DC322F"
    # keys the file left out are derived from its own colours
    assert _variable_names() <= set(theme.variables)
    assert theme.variables["log-background"].upper() == "#002B36"


def test_without_xdg_the_user_dir_is_under_home(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert user_themes_dir(env) == tmp_path / ".config" / "omni-tui" / "themes"
    assert user_themes_dir({**env, "XDG_CONFIG_HOME": "relative/dir"}) == tmp_path / ".config" / "omni-tui" / "themes"


def test_a_user_theme_can_replace_a_shipped_one(xdg: dict[str, str]) -> None:
    (user_themes_dir(xdg) / "mine.toml").write_text('name = "omni-dark"\nprimary = "#FF0000"\n')
    loaded = load_themes(env=xdg)
    assert loaded.errors == ()
    assert loaded.names.count("omni-dark") == 1
    assert {t.name: t for t in loaded.themes}["omni-dark"].primary == "#FF0000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nprimary = "#123456"\n[diff]\nadded_bg = "not-a-colour"\n', "[diff] added_bg = 'not-a-colour' is not a colour"),
        ('name = "x"\nprimary = "#123456"\n[log]\npurple = "#ffffff"\n', "[log] purple: unknown key"),
        ('name = "x"\nprimary = "#123456"\nprimray = "#000000"\n', "primray: unknown key"),
        ('name = "x"\n', "primary: required"),
        ('primary = "#123456"\n', "name: required"),
        ('name = "has space"\nprimary = "#123456"\n', "name = 'has space'"),
        ('name = "x"\nprimary = "#123456"\ndark = "yes"\n', "dark must be true or false"),
        ('name = "x"\nprimary = 12\n', "primary must be a colour string"),
        ('name = "x"\nprimary = "#123456"\n[diff]\n', None),  # an empty table is fine
        ('name = "x\nprimary = 1', "not valid TOML"),
    ],
)
def test_a_bad_theme_names_the_file_and_key_and_the_others_still_load(xdg: dict[str, str], text: str, message: str | None) -> None:
    user_dir = user_themes_dir(xdg)
    (user_dir / "bad.toml").write_text(text)
    (user_dir / "solar.toml").write_text(USER_THEME)
    loaded = load_themes(env=xdg)
    assert "solar-night" in loaded.names
    assert set(SHIPPED_THEMES) <= set(loaded.names)
    if message is None:
        assert loaded.errors == ()
        return
    assert len(loaded.errors) == 1
    error = loaded.errors[0]
    assert "\n" not in error
    assert str(user_dir / "bad.toml") in error
    assert message in error


def test_unreadable_and_duplicate_user_themes_are_reported(xdg: dict[str, str]) -> None:
    user_dir = user_themes_dir(xdg)
    (user_dir / "a.toml").write_text(USER_THEME)
    (user_dir / "b.toml").write_text(USER_THEME)
    (user_dir / "c.toml").write_bytes(b'name = "\xff\xfe"\n')
    (user_dir / "notes.txt").write_text("not a theme")
    loaded = load_themes(env=xdg)
    assert loaded.names.count("solar-night") == 1
    assert any(str(user_dir / "b.toml") in e and "already defined" in e for e in loaded.errors)
    assert any(str(user_dir / "c.toml") in e and "cannot read" in e for e in loaded.errors)
    assert len(loaded.errors) == 2


def test_parse_theme_raises_a_theme_error() -> None:
    with pytest.raises(ThemeError, match=r"^theme demo.toml: \[variables\] must be a table$"):
        parse_theme('name = "x"\nprimary = "#000000"\nvariables = 3\n', "demo.toml")


def test_log_palette_becomes_the_ansi_mapping(xdg: dict[str, str]) -> None:
    theme = {t.name: t for t in load_themes(env=xdg).themes}["omni-high-contrast"]
    palette = log_terminal_theme(theme)
    assert palette.ansi_colors[1].hex.upper() == "#FF5C5C"  # red
    assert palette.ansi_colors[12].hex.upper() == "#A8CBFF"  # bright blue
    assert palette.background_color.hex == "#000000"


async def test_register_and_switch_themes_in_an_app(xdg: dict[str, str]) -> None:
    app: App[None] = App()
    (user_themes_dir(xdg) / "solar.toml").write_text(USER_THEME)
    loaded = register_themes(app, env=xdg)
    assert loaded.errors == ()
    async with app.run_test() as pilot:
        for name in (*SHIPPED_THEMES, "solar-night"):
            assert choose_theme(app, name) is None
            await pilot.pause()
            assert app.theme == name
        error = choose_theme(app, "no-such-theme")
        assert error is not None and "[ui] theme = 'no-such-theme': no such theme" in error
        assert "omni-high-contrast" in error
        assert app.theme == "omni-dark"


def test_the_wheel_ships_the_themes(tmp_path: Path) -> None:
    # Build from a copy: an in-tree build would write build/ and *.egg-info into the shared checkout.
    src = tmp_path / "src"
    shutil.copytree(ROOT / "omni_tui", src / "omni_tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "themes", src / "themes", symlinks=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    out = tmp_path / "wheel"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheels = list(out.glob("omni_tui-*.whl"))
    assert len(wheels) == 1
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for theme in SHIPPED_THEMES:
        assert f"omni_tui/themes/{theme}.toml" in names
    assert "omni_tui/ui/screens/screens.tcss" in names
    with zipfile.ZipFile(wheels[0]) as wheel:
        shipped = wheel.read("omni_tui/themes/omni-dark.toml").decode()
    assert shipped == (ROOT / "omni_tui" / "themes" / "omni-dark.toml").read_text()


def test_a_file_in_place_of_the_user_dir_means_no_user_themes(xdg: dict[str, str]) -> None:
    user_dir = user_themes_dir(xdg)
    user_dir.rmdir()
    user_dir.write_text("a file where the directory should be")
    loaded = load_themes(env=xdg)
    assert loaded.errors == ()
    assert set(loaded.names) == set(SHIPPED_THEMES)


class _LogHost(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView()


@pytest.mark.parametrize(
    ("theme", "red", "bright_blue"), [("omni-high-contrast", "#ff5c5c", "#a8cbff"), ("omni-light", "#cf222e", "#218bff")]
)
async def test_the_log_palette_colours_ansi_text_on_screen(xdg: dict[str, str], theme: str, red: str, bright_blue: str) -> None:
    app = _LogHost()
    register_themes(app, env=xdg)
    async with app.run_test(size=(40, 5)) as pilot:
        app.theme = theme
        apply_log_palette(app)
        app.query_one(LogView).write_lines(["\x1b[31mred\x1b[0m and \x1b[94mbright blue\x1b[0m"])
        await pilot.pause()
        fills = set(re.findall(r"fill: (#[0-9a-f]{6})", app.export_screenshot()))
        assert {red, bright_blue} <= fills
