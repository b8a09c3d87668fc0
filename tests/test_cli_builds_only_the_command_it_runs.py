"""The command line builds only what it runs: `omni-tui status --json` builds the `status` parser alone and
imports no other command's module; `--help` still lists every command with its one-line help, each
`X --help` is the full one; an agent's hook imports neither `dataclasses` nor the other commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from omni_tui import cli

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path, stdin: str = "", importtime: bool = False) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_", "OMNI_TUI_SANDBOX"))}
    env["PYTHONPATH"] = str(REPO)
    flags = ["-X", "importtime"] if importtime else []
    done = subprocess.run(
        [sys.executable, *flags, "-m", "omni_tui", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, modules


def _subcommands(parser: object) -> dict[str, object]:
    import argparse

    assert isinstance(parser, argparse.ArgumentParser)
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def test_a_command_builds_its_own_parser_only() -> None:
    parser, names = cli.build_parser(["status", "--json"])
    assert names == ["status"]
    parser, names = cli.build_parser(["-C", "/somewhere", "hook", "codex", "--timeout", "5"])
    assert names == ["hook"]
    assert list(_subcommands(_subcommands(parser)["hook"])) == ["codex"]
    # Nothing named (help, a typo): every command is there, by its help line, so the listing and
    # argparse's "invalid choice (choose from …)" stay complete.
    _parser, names = cli.build_parser(["--help"])
    assert names == cli.command_names()
    parser, _names = cli.build_parser(["hook", "--help"])
    assert list(_subcommands(_subcommands(parser)["hook"])) == ["claude-code", "codex", "gemini"]


def test_help_lists_every_command_with_its_line_and_each_command_has_its_full_help(tmp_path: Path) -> None:
    done, _ = _run(["--help"], tmp_path)
    assert done.returncode == 0
    for command in cli.declared(cli.command_names()):
        assert f"{command.name} " in done.stdout and command.help in " ".join(done.stdout.split())
    propose, _ = _run(["propose", "--help"], tmp_path)
    text = " ".join(propose.stdout.split())
    assert propose.returncode == 0 and "--new-content FILE" in text and "124 timed out" in text and "--why WHY" in text
    typo, _ = _run(["hook", "clade-code"], tmp_path)
    assert typo.returncode == 2 and typo.stderr.count("\n") == 1
    assert "invalid choice: 'clade-code' (choose from 'claude-code', 'codex', 'gemini')" in typo.stderr


def test_status_imports_no_other_command(project: Path) -> None:
    done, modules = _run(["status", "--json"], project, importtime=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout[done.stdout.index("{") :])["workspace"] == str(project)
    others = sorted(m for m in modules if m.startswith("omni_tui.cli.") and m not in ("omni_tui.cli.base", "omni_tui.cli.status"))
    assert others == []
    assert not any(m.startswith("omni_tui.agents") for m in modules)


# What `status --json` and `propose` (what agents call most) never import (docs/performance.md): the
# help width without shutil, ids without secrets, audit times without calendar, the Nix grammar without
# importlib.resources/tempfile; `propose` in a project without omni-tui.toml or [policy]: no TOML
# reader, no change card, no diff machinery.
NEVER = ("shutil", "tempfile", "importlib.resources", "secrets", "calendar", "subprocess")
PROPOSE_NEVER = (*NEVER, "tomllib", "difflib", "omni_tui.core.card", "omni_tui.core.textpatch", "omni_tui.core.gate")


def test_agent_commands_import_only_what_they_use(project: Path) -> None:
    new = project / "new.nix"
    new.write_text((project / "devenv.nix").read_text().replace("{", "{ # changed", 1))
    done, modules = _run(
        ["propose", "--new-content", str(new), "--title", "t", "--why", "w", "--json", "devenv.nix"], project, importtime=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(m for m in modules if m in PROPOSE_NEVER) == []
    # A pending proposal: its card is computed. (--no-nix: the Nix check runs nix-instantiate until its
    # result is cached, and is not cached where Nix is missing.)
    done, modules = _run(["status", "--json", "--no-nix"], project, importtime=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tree_sitter" in modules
    assert sorted(m for m in modules if m in NEVER) == []


def test_a_hook_passing_a_call_through_imports_no_dataclasses(project: Path) -> None:
    call = {"session_id": "t", "hook_event_name": "PreToolUse", "cwd": str(project), "tool_name": "Bash", "tool_input": {"command": "ls"}}
    done, modules = _run(["hook", "claude-code"], project, stdin=json.dumps(call), importtime=True)
    assert (done.returncode, done.stdout) == (0, "")
    assert "omni_tui.cli.hooks" in modules or "omni_tui.agents.claude_code_hook" in modules
    assert sorted(m for m in modules if m in ("dataclasses", "inspect", "omni_tui.cli.status", "omni_tui.cli.proposing")) == []
