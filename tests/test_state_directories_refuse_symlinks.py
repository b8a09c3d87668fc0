"""A state directory (`.devenv/omni` or its proposals/, decisions/, baseline/, backups/ …) replaced by a
symbolic link is refused, never followed: `ln -s /etc .devenv/omni/proposals` must not make `propose`
write `/etc/<id>.json`. The CLI says so in one line naming the path and exits 2; the cockpit too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from app_harness import cli

FOLDERS = ["", "proposals", "decisions", "baseline", "backups", "logs", "quarantine", "objects"]


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    return subprocess.run(cli(*args), capture_output=True, text=True, env=env, timeout=60, cwd=root)


def plant_link(project: Path, folder: str, target: Path) -> Path:
    state = project / ".devenv" / "omni"
    link = state / folder if folder else state
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)
    return link


@pytest.mark.parametrize("folder", FOLDERS)
def test_propose_refuses_a_state_folder_that_is_a_symlink_and_writes_nothing_there(project: Path, tmp_path: Path, folder: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = plant_link(project, folder, elsewhere)
    source = tmp_path / "new.nix"
    source.write_text((project / "devenv.nix").read_text() + "\n# more\n")
    result = run(
        project, "propose", "-C", str(project), "devenv.nix", "--new-content", str(source), "--title", "t", "--why", "w", "--agent", "a"
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("omni-tui: "), result.stderr
    assert str(link) in lines[0] and "symbolic link" in lines[0], lines[0]
    assert list(elsewhere.rglob("*")) == [], "something was written through the link"


def test_the_cockpit_refuses_a_symlinked_proposals_folder_in_one_line(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = plant_link(project, "proposals", elsewhere)
    result = run(project, "-C", str(project))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        f"omni-tui: {link}: is a symbolic link; omni-tui keeps its state only in a real directory (remove the link)"
    ]
    assert list(elsewhere.rglob("*")) == []


def test_a_state_folder_that_is_a_plain_file_is_refused_too(project: Path, tmp_path: Path) -> None:
    state = project / ".devenv" / "omni"
    state.mkdir(parents=True)
    (state / "decisions").write_text("not a folder")
    result = run(project, "status", "-C", str(project))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert (
        result.stderr.strip() == f"omni-tui: {state / 'decisions'}: is not a directory; omni-tui keeps its state only in a real directory"
    )
