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


# -- while a cockpit (or a long-lived MCP server) already runs: a folder replaced later --------------


async def test_a_folder_replaced_by_a_link_while_the_cockpit_runs_is_tampered_refused_and_resolved(project: Path, tmp_path: Path) -> None:
    from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, ready, screen_text, wait_for

    from omni_tui.core.errors import OmniError
    from omni_tui.core.gate import Gate
    from omni_tui.ui.screens import ConfirmScreen

    ws = open_workspace(project)
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.fd"), title="Fd")
    app = cockpit(ws, who="carol")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "1 PENDING" in screen_text(app), what="the proposal")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        decisions = ws.paths.decisions
        decisions.rename(tmp_path / "old-decisions")
        decisions.symlink_to(elsewhere, target_is_directory=True)
        await wait_for(pilot, lambda: "TAMPERED" in screen_text(app), what="the header saying TAMPERED")
        await wait_for(pilot, lambda: "decisions/ replaced by a link" in screen_text(app).splitlines()[0], what="the header naming it")

        # Nothing is written through it by a process that opened the workspace before (here: this one).
        with pytest.raises(OmniError, match="is a symbolic link"):
            Gate(ws).reject(pid, "no")
        with pytest.raises(OmniError, match="is a symbolic link"):
            Gate(ws).approve(pid, rebuild=lambda: 0)
        assert list(elsewhere.iterdir()) == []

        await pilot.press("T")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the resolve confirmation")
        await wait_for(pilot, lambda: "set aside as decisions.tampered-" in screen_text(app), what="what resolving does")
        await pilot.press("y")
        await wait_for(pilot, lambda: "TAMPERED" not in screen_text(app).splitlines()[0], what="the gate resolved")
    assert decisions.is_dir() and not decisions.is_symlink()
    assert list(elsewhere.iterdir()) == []  # what the link pointed to is left untouched
    assert [p.name.split("-")[0] for p in ws.paths.state.glob("decisions.tampered-*")] == ["decisions.tampered"]
    last = ws.audit.entries()[-1]
    assert (last["event"], last["who"]) == ("tamper_resolved", "carol") and "symbolic link" in last["reason"]
    assert ws.audit.verify().ok
