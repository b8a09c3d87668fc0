"""The CLI as a person types it: paths relative to where they stand, one-line errors, help for every
subcommand, a rebuild that ends in one readable sentence, and `[keys]` mistakes named."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLE_DEVENV_NIX

from omni_tui.cli import build_parser
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
WAIT = 60


def omni(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_", "OMNI_TUI_SANDBOX"))}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=WAIT, check=False
    )


NEW = SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.jq pkgs.ripgrep")


def test_propose_takes_paths_relative_to_the_current_directory_like_git(project: Path) -> None:
    deep = project / "services" / "api"
    deep.mkdir(parents=True)
    (deep / "new.nix").write_text(NEW)
    done = omni("propose", "../../devenv.nix", "--new-content", "new.nix", "--title", "Add ripgrep", "--why", "search", cwd=deep)
    assert done.returncode == 0, done.stderr
    proposal = ProposalStore(Workspace.open(project, env={})).get(done.stdout.strip())
    assert proposal.paths == ["devenv.nix"] and proposal.changes[0].new_content == NEW
    # The root-relative form agents are told to use still works from anywhere inside (and with -C from outside).
    assert omni("propose", "devenv.nix", "--new-content", "new.nix", "--title", "t", "--why", "w", cwd=deep).returncode == 0
    outside = omni(
        "-C",
        str(project),
        "propose",
        "devenv.nix",
        "--new-content",
        str(deep / "new.nix"),
        "--title",
        "t",
        "--why",
        "w",
        cwd=project.parent,
    )
    assert outside.returncode == 0, outside.stderr


def test_propose_paths_stay_confined_to_the_project(project: Path) -> None:
    deep = project / "services" / "api"
    deep.mkdir(parents=True)
    (deep / "new.nix").write_text(NEW)
    (project.parent / "devenv.nix").write_text(SAMPLE_DEVENV_NIX)  # another project's file, one level up
    done = omni("propose", "../../../devenv.nix", "--new-content", "new.nix", "--title", "t", "--why", "w", cwd=deep)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"omni-tui: ../../../devenv.nix: outside the project root {project}\n"
    not_guarded = omni("propose", "../README.md", "--new-content", "new.nix", "--title", "t", "--why", "w", cwd=deep)
    assert not_guarded.returncode == 2 and "services/README.md: not a guarded file" in not_guarded.stderr
    assert ProposalStore(Workspace.open(project, env={})).entries() == []


def test_propose_without_why_is_one_line_and_exit_2(project: Path) -> None:
    done = omni("propose", "devenv.nix", "--new-content", "-", "--title", "t", cwd=project, stdin=NEW)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("omni-tui") and "--why" in done.stderr


def test_every_subcommand_has_a_description() -> None:
    parser, _names = build_parser()
    missing = []

    def walk(p: argparse.ArgumentParser, path: list[str]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if not (sub.description or "").strip():
                        missing.append(" ".join([*path, name]))
                    walk(sub, [*path, name])

    walk(parser, [])
    assert missing == []
    rebuild = omni("rebuild", "--help", cwd=REPO)
    assert rebuild.returncode == 0 and "Run the rebuild command" in rebuild.stdout


def _with_rebuild(project: Path, command: str) -> None:
    (project / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "{command}"\n')


def test_a_successful_rebuild_ends_in_one_clear_sentence(project: Path) -> None:
    _with_rebuild(project, "echo building; echo done")
    done = omni("rebuild", cwd=project)
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"omni-tui: rebuilt in \d+\.\d s \(exit 0\) — log \S+\.log", last), last
    assert done.stderr == ""


def test_a_failed_rebuild_says_so_once(project: Path) -> None:
    _with_rebuild(project, "echo broken; exit 3")
    done = omni("rebuild", cwd=project)
    assert done.returncode == 3
    last = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"omni-tui: rebuild failed after \d+\.\d s \(exit 3\) — log \S+\.log", last), last
    assert "rebuild failed" not in done.stderr


def test_an_invalid_key_name_is_refused_naming_the_key(project: Path) -> None:
    (project / "omni-tui.toml").write_text('[keys]\napprove = "ctrl+shift+alt+y+z"\n')
    done = omni("-C", str(project), cwd=project)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "omni-tui: [keys] approve: 'ctrl+shift+alt+y+z' is not a key: 'y' is not a modifier (ctrl, shift, alt, meta, super, hyper)\n"
    )


def test_key_names_textual_can_send_are_accepted_and_others_named() -> None:
    import pytest

    from omni_tui.core.errors import ConfigError
    from omni_tui.ui.keys import keymap_from_config

    assert keymap_from_config({"approve": "ctrl+F12"}) == {"approve": "ctrl+f12"}
    assert keymap_from_config({"approve": "alt+up,ctrl+space"}) == {"approve": "alt+up,ctrl+space"}
    assert keymap_from_config({"approve": "exclamation_mark"}) == {"approve": "exclamation_mark"}
    for written, problem in (
        ("ctrl+ctrl+a", "a modifier is named twice"),
        ("ctrl+", "nothing after the last '+'"),
        ("frobnicate", "unknown key name 'frobnicate'"),
        ("cmd+a", "'cmd' is not a modifier"),
    ):
        with pytest.raises(ConfigError, match=re.escape(f"[keys] approve: {written!r} is not a key: {problem}")):
            keymap_from_config({"approve": written})


def test_setup_has_a_demo_mode_without_the_test_extras() -> None:
    setup = (REPO / "scripts" / "setup").read_text()
    assert "scripts/demo" in setup and "--demo) mode=demo" in setup
    assert "scripts/setup --demo" in (REPO / "scripts" / "demo").read_text()
    assert "scripts/setup\n" in (REPO / "scripts" / "test").read_text()  # the tests keep their extras
    bad = subprocess.run([str(REPO / "scripts" / "setup"), "--bogus"], capture_output=True, text=True, timeout=WAIT, check=False)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "scripts/setup: unknown option --bogus (use --demo, or nothing for the test set-up)\n"
