"""Every CLI input error is one line `omni-tui…: <problem>` and exit 2, and nothing is written before
every argument is checked: non-UTF-8 `--title`/`--why`/`--agent`, a negative or NaN `--timeout`,
argparse's own errors, a read-only state directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NEW = b"{ pkgs, ... }: { packages = [ pkgs.jq pkgs.ripgrep ]; }\n"


def _cli(project: Path, *args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEVENV_ROOT", "DEVENV_DOTFILE", "OMNI_TUI_AGENT")}
    return subprocess.run([sys.executable, "-m", "omni_tui", *args], cwd=project, env=env, input=stdin, capture_output=True, timeout=60)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def opened(project: Path) -> Path:
    done = _cli(project, "status", "--no-nix")
    assert done.returncode == 0, done.stderr
    return project


def _one_line_error(done: subprocess.CompletedProcess[bytes], needle: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    err = done.stderr.decode("utf-8")
    assert err.count("\n") == 1 and err.startswith("omni-tui"), err
    assert needle in err, err
    assert done.stdout == b""


@pytest.mark.parametrize("option", ["--title", "--why", "--agent"])
def test_non_utf8_text_is_refused_in_one_line_and_nothing_is_written(opened: Path, option: str) -> None:
    args: dict[str, bytes] = {"--title": b"Add ripgrep", "--why": b"search", "--agent": b"claude"}
    args[option] = b"caf\xe9 \xff"
    before = _tree(opened)
    done = _cli(opened, "propose", "devenv.nix", "--new-content", "-", *(x for kv in args.items() for x in kv), stdin=NEW)
    _one_line_error(done, f"{option} is not valid UTF-8")
    assert _tree(opened) == before


@pytest.mark.parametrize("timeout", ["-1", "nan"])
def test_a_meaningless_timeout_is_refused_before_the_proposal_is_written(opened: Path, timeout: str) -> None:
    before = _tree(opened)
    done = _cli(
        opened, "propose", "devenv.nix", "--new-content", "-", "--title", "t", "--why", "w", "--wait", "--timeout", timeout, stdin=NEW
    )
    _one_line_error(done, "--timeout must be zero or more seconds")
    assert _tree(opened) == before
    assert not list((opened / ".devenv" / "omni" / "proposals").iterdir())
    _one_line_error(_cli(opened, "wait", "20260101T000000Z-abcdef", "--timeout", timeout), "--timeout must be zero or more")


def test_argparse_errors_are_one_line_too(opened: Path) -> None:
    _one_line_error(_cli(opened, "wait"), "the following arguments are required: ID")
    _one_line_error(_cli(opened, "wait", "x", "--timeout"), "expected one argument")
    _one_line_error(_cli(opened, "propose", "devenv.nix", "--title", "t", "--why", "w"), "one of the arguments")
    _one_line_error(_cli(opened, "status", "--bogus"), "unrecognized arguments: --bogus")


def _make_read_only(state: Path) -> None:
    if os.geteuid() != 0:
        for folder in [state, *(p for p in state.rglob("*") if p.is_dir())]:
            folder.chmod(0o555)
        return
    # root writes through permission bits: a read-only tmpfs holding a copy of the state instead
    tree = _tree(state)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(state)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"root cannot mount a tmpfs here to make a read-only state directory: {mounted.stderr!r}")
    for rel, data in tree.items():
        (state / rel).parent.mkdir(parents=True, exist_ok=True)
        (state / rel).write_bytes(data)
    for name in ("proposals", "decisions", "baseline", "backups", "logs", "quarantine"):
        (state / name).mkdir(exist_ok=True)
    subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)


def _undo_read_only(state: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["umount", str(state)], capture_output=True)
    else:
        for folder in [state, *(p for p in state.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)


def test_a_read_only_state_directory_is_one_line_and_status_still_reads(opened: Path) -> None:
    state = opened / ".devenv" / "omni"
    _make_read_only(state)
    try:
        before = _tree(state)
        done = _cli(opened, "propose", "devenv.nix", "--new-content", "-", "--title", "t", "--why", "w", stdin=NEW)
        _one_line_error(done, "is not writable")
        done = _cli(opened, "withdraw", "20260101T000000Z-abcdef")
        _one_line_error(done, "is not writable")
        status = _cli(opened, "status", "--no-nix")
        assert status.returncode == 0, status.stderr
        assert _tree(state) == before
    finally:
        _undo_read_only(state)
