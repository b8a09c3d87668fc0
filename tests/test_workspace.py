"""Workspace discovery, state directory, guarded paths, baseline initialisation, unapproved edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni_tui.core.errors import PathError, WorkspaceError
from omni_tui.core.workspace import Workspace


def test_nearest_directory_upwards_with_devenv_nix(project: Path) -> None:
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    ws = Workspace.open(env={}, cwd=deep)
    assert ws.root == project.resolve()
    assert ws.paths.state == project.resolve() / ".devenv" / "omni"


def test_explicit_dir_beats_devenv_root_which_beats_cwd(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "devenv.nix").write_text("{ }\n")
    assert Workspace.open(env={"DEVENV_ROOT": str(other)}, cwd=project).root == other.resolve()
    assert Workspace.open(project, env={"DEVENV_ROOT": str(other)}, cwd=tmp_path).root == project.resolve()
    assert Workspace.open("proj", env={}, cwd=tmp_path).root == project.resolve()  # relative -C


def test_no_project_is_an_error_naming_the_start_dir(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=f"no devenv.nix in {tmp_path} or any directory above it"):
        Workspace.open(env={}, cwd=tmp_path)
    with pytest.raises(WorkspaceError, match="nowhere: no such directory"):
        Workspace.open("nowhere", env={}, cwd=tmp_path)
    with pytest.raises(WorkspaceError, match=r"\$DEVENV_ROOT=/nonexistent has no devenv.nix"):
        Workspace.open(env={"DEVENV_ROOT": "/nonexistent"}, cwd=tmp_path)


def test_state_dir_follows_devenv_dotfile_of_the_same_project(project: Path, tmp_path: Path) -> None:
    dotfile = tmp_path / "dot"
    ws = Workspace.open(env={"DEVENV_ROOT": str(project), "DEVENV_DOTFILE": str(dotfile)}, cwd=tmp_path)
    assert ws.paths.state == dotfile.resolve() / "omni"
    for folder in ("proposals", "decisions", "baseline", "backups", "logs", "quarantine"):
        assert (dotfile / "omni" / folder).is_dir()
    # Another project's $DEVENV_DOTFILE is never borrowed.
    other = tmp_path / "other"
    other.mkdir()
    (other / "devenv.nix").write_text("{ }\n")
    ws2 = Workspace.open(other, env={"DEVENV_ROOT": str(project), "DEVENV_DOTFILE": str(dotfile)}, cwd=tmp_path)
    assert ws2.paths.state == other.resolve() / ".devenv" / "omni"


def test_first_open_records_the_baseline_once_with_an_audit_entry(project: Path) -> None:
    (project / ".envrc").write_text("use devenv\n")
    ws = Workspace.open(project, env={})
    assert ws.read_baseline("devenv.nix") == (project / "devenv.nix").read_bytes()
    assert ws.read_baseline(".envrc") == b"use devenv\n"
    assert ws.read_baseline("devenv.yaml") is None and ws.has_baseline("devenv.yaml")
    (entry,) = ws.audit.entries()
    assert entry["event"] == "baseline_initialised"
    assert set(entry["sha256_after"]) == {"devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "omni-tui.toml"}
    assert entry["sha256_after"]["devenv.yaml"] is None
    (project / "devenv.nix").write_text("{ }\n")
    ws = Workspace.open(project, env={})  # reopening does not re-record
    assert len(ws.audit.entries()) == 1
    assert ws.unapproved() == ["devenv.nix"]


def test_guarded_paths_devenv_nix_first_and_configurable(project: Path) -> None:
    (project / "omni-tui.toml").write_text('[guard]\nfiles = [".envrc", "nix/extra.nix", "devenv.nix"]\n')
    ws = Workspace.open(project, env={})
    assert ws.guarded() == ["devenv.nix", ".envrc", "nix/extra.nix", "omni-tui.toml"]
    assert ws.relative("./nix//extra.nix") == "nix/extra.nix"
    assert ws.relative(str(project / "devenv.nix")) == "devenv.nix"
    with pytest.raises(PathError, match="devenv.yaml: not a guarded file"):
        ws.relative("devenv.yaml")


def test_resolve_refuses_escapes(project: Path, tmp_path: Path) -> None:
    ws = Workspace.open(project, env={})
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "link").symlink_to(outside)
    (project / "devenv.local.nix").symlink_to(outside / "x.nix")
    for bad, message in [
        ("../x", "leaves the project root"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("link/devenv.nix", "path goes through a symlink"),
        ("devenv.local.nix", "path goes through a symlink"),
        ("", "empty path"),
    ]:
        with pytest.raises(PathError, match=message):
            ws.resolve(bad)
    with pytest.raises(PathError, match="outside the project root"):
        ws.relative(str(tmp_path / "elsewhere" / "devenv.nix"))
    assert ws.resolve("devenv.nix") == project.resolve() / "devenv.nix"


def test_a_symlinked_guarded_file_counts_as_unapproved(project: Path, tmp_path: Path) -> None:
    ws = Workspace.open(project, env={})
    (tmp_path / "x").write_text("use devenv\n")
    (project / ".envrc").symlink_to(tmp_path / "x")
    assert ws.unapproved() == [".envrc"]
