"""Configuration: defaults, omni-tui.toml, [tool.omni-tui] in pyproject.toml, errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni_tui.core.config import DEFAULT_GUARDED, Config, load_config
from omni_tui.core.errors import ConfigError


def test_defaults_without_any_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == Config()
    assert config.rebuild.command is None and config.rebuild.auto_rollback is True
    assert config.rebuild.restart_after is False
    assert config.rebuild.restart_command == "devenv processes down && devenv up -d"
    assert config.rebuild.timeout_s == 0 and config.rebuild.keep_logs == 50
    assert config.guard.files == DEFAULT_GUARDED == ("devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc")
    assert config.guard.mode == "watch" and config.guard.max_bytes == 1024 * 1024
    assert config.ui.theme == "omni-dark" and dict(config.keys) == {}
    assert config.processes.poll_interval_s == 1.0
    assert config.source is None


def test_every_key_from_omni_tui_toml(tmp_path: Path) -> None:
    (tmp_path / "omni-tui.toml").write_text(
        """
[rebuild]
command = "nix-build build.nix"
auto_rollback = false
restart_after = true
restart_command = "devenv up -d"
timeout_s = 90
keep_logs = 5
[guard]
files = ["devenv.nix", "./nix/extra.nix"]
mode = "guard"
max_bytes = 2048
unguarded_ok = ["./requirements.txt", "../shared/base.nix", "requirements.txt"]
[ui]
theme = "omni-light"
[keys]
approve = "ctrl+a"
[processes]
poll_interval_s = 2.5
"""
    )
    config = load_config(tmp_path)
    assert config.rebuild.command == "nix-build build.nix" and config.rebuild.auto_rollback is False
    assert config.rebuild.restart_after is True and config.rebuild.restart_command == "devenv up -d"
    assert config.rebuild.timeout_s == 90.0 and config.rebuild.keep_logs == 5
    assert config.guard.files == ("devenv.nix", "nix/extra.nix") and config.guard.mode == "guard"
    assert config.guard.max_bytes == 2048 and config.ui.theme == "omni-light"
    assert config.guard.unguarded_ok == ("requirements.txt", "../shared/base.nix")
    assert dict(config.keys) == {"approve": "ctrl+a"} and config.processes.poll_interval_s == 2.5
    assert config.source == "omni-tui.toml"


def test_tool_section_of_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.omni-tui.rebuild]\ncommand = "true"\n')
    config = load_config(tmp_path)
    assert config.rebuild.command == "true" and config.source == "pyproject.toml [tool.omni-tui]"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path) == Config()


def test_omni_tui_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.omni-tui.ui]\ntheme = "from-pyproject"\n')
    (tmp_path / "omni-tui.toml").write_text('[ui]\ntheme = "from-own-file"\n')
    assert load_config(tmp_path).ui.theme == "from-own-file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rebuild]\ncomand = 'x'\n", "omni-tui.toml: unknown key [rebuild] comand"),
        ("[rebuld]\n", "omni-tui.toml: unknown section [rebuld]"),
        ("[rebuild]\nauto_rollback = 'yes'\n", "[rebuild] auto_rollback must be a boolean (true or false), not string 'yes'"),
        ("[rebuild]\ntimeout_s = true\n", "[rebuild] timeout_s must be a number, not boolean True"),
        ("[rebuild]\ntimeout_s = -1\n", "[rebuild] timeout_s must be at least 0"),
        ("[rebuild]\nkeep_logs = 1.5\n", "[rebuild] keep_logs must be an integer"),
        ("[rebuild]\ncommand = ''\n", "[rebuild] command must not be empty"),
        ("[guard]\nfiles = 'devenv.nix'\n", "[guard] files must be an array of strings"),
        ("[guard]\nfiles = ['../x']\n", "[guard] files entry '../x' must be a path relative to the project root"),
        ("[guard]\nfiles = []\n", "[guard] files must name at least one file"),
        ("[guard]\nunguarded_ok = 'x.nix'\n", "[guard] unguarded_ok must be an array of non-empty paths, not string 'x.nix'"),
        ("[guard]\nunguarded_ok = ['']\n", "[guard] unguarded_ok must be an array of non-empty paths"),
        ("[guard]\nmode = 'strict'\n", "[guard] mode must be one of 'watch', 'guard', not 'strict'"),
        ("[ui]\ntheme = 3\n", "[ui] theme must be a string, not integer 3"),
        ("[keys]\napprove = 1\n", "[keys] approve must be a non-empty string"),
        ("rebuild = 1\n", "[rebuild] must be a table"),
        ("[rebuild\n", "omni-tui.toml: invalid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "omni-tui.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_pyproject_errors_name_the_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.omni-tui.guard]\nmode = 1\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml \[tool.omni-tui\]: \[guard\] mode must be a string"):
        load_config(tmp_path)
