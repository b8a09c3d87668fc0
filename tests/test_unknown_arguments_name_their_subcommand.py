"""An unknown argument after a subcommand is reported by that subcommand, pointing at its own help —
`omni-tui status --bogus` said `omni-tui: unrecognized arguments: --bogus (see omni-tui -h)`, and
`omni-tui -h` lists the commands, not the options `status` takes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _stderr_of(project: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DEVENV_ROOT", "DEVENV_DOTFILE", "OMNI_TUI_AGENT")}
    done = subprocess.run([sys.executable, "-m", "omni_tui", *args], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == "", (done.returncode, done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr.strip()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("status", "--bogus"), "omni-tui status: unrecognized arguments: --bogus (see omni-tui status -h)"),
        (("status", "extra"), "omni-tui status: unrecognized arguments: extra (see omni-tui status -h)"),
        (("audit", "--tail", "3"), "omni-tui audit: unrecognized arguments: --tail 3 (see omni-tui audit -h)"),
        (("hook", "codex", "--bogus"), "omni-tui hook codex: unrecognized arguments: --bogus (see omni-tui hook codex -h)"),
    ],
)
def test_an_unknown_argument_names_its_subcommand_and_its_help(project: Path, args: tuple[str, ...], expected: str) -> None:
    assert _stderr_of(project, *args) == expected


def test_an_unknown_argument_before_any_subcommand_points_at_the_main_help(project: Path) -> None:
    assert _stderr_of(project, "--bogus") == "omni-tui: unrecognized arguments: --bogus (see omni-tui -h)"
