"""Snapshot tests of the cockpit (pytest-textual-snapshot): SVGs kept in `snapshots/test_snapshots/`.

Deterministic on purpose: 120x34, a frozen clock (ages, elapsed), no file watching, no process
polling, a fixed proposal id and time, a fixed workspace name in the header, paths relative to the
project (it lives in tmp_path), a pinned rebuild duration and log name, no blinking cursor, no toasts. Update after an intended change of the picture with `pytest tests/test_snapshots.py
--snapshot-update`, and look at the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from app_harness import screen_strips
from pytest_textual_snapshot import SVGImageExtension
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerState

from omni_tui.core import rebuild, validate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import RebuildRunner
from omni_tui.core.workspace import Workspace
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.themes import SHIPPED_THEMES
from omni_tui.ui.widgets.diff_view import DiffView

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots" / Path(__file__).stem
SIZE = (120, 34)
NOW = datetime(2026, 11, 26, 9, 5, 0, tzinfo=UTC)
PROPOSAL_ID = "20261126T090000Z-a1b2c3"
PROPOSAL_TIME = "2026-11-26T09:00:00Z"
DISPLAY_ROOT = "~/projects/shop"

GOOD_REBUILD = "echo 'building the shell'; echo 'rebuild done'"
# The pause lets the log lines reach the panel (batched every 50 ms) before the gate reports the
# failure, so their order is the same on every run. The duration shown is pinned by `make_workspace`.
FAILING_REBUILD = (
    "echo 'building the shell'; echo \"error: builder for '/nix/store/0000-redis-7.2.drv' failed with exit code 1\"; sleep 0.16; exit 1"
)


class _TopLevelSVG(SVGImageExtension):
    """The plugin's SVG extension, storing in `snapshots/<test file>/` rather than `tests/__snapshots__/<test file>/`."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOTS)


class _TopLevelSnapshots(SnapshotAssertion):
    def use_extension(self, extension_class: Any = None) -> SnapshotAssertion:
        if extension_class is SVGImageExtension:
            extension_class = _TopLevelSVG
        return super().use_extension(extension_class)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy's fixture, redirected: `snap_compare` asks it for the SVG extension and gets ours."""
    return _TopLevelSnapshots(
        session=snapshot.session,
        extension_class=snapshot.extension_class,
        test_location=snapshot.test_location,
        update_snapshots=snapshot.update_snapshots,
    )


@pytest.fixture
def nix_checked_without_nix(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake Nix parser: every scene's Nix is valid, so the check says "Nix parses" without
    nix-instantiate and the pictures need no Nix. Real parsing (and its errors) is tested with real
    Nix in tests/test_validate.py and the approve-modal tests (`need_nix`)."""
    monkeypatch.setattr(validate, "nix_parse", lambda path, text: (None, None))


@pytest.fixture
def scene_root(project: Path, tmp_path: Path) -> Path:
    """The scene's project; every path the cockpit shows is relative to it, so its place does not matter."""
    root = tmp_path / "shop"
    root.mkdir()
    shutil.copy2(project / "devenv.nix", root / "devenv.nix")
    return root


@pytest.fixture
def make_workspace(scene_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Workspace]:
    project = scene_root
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no user themes, no user config
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("USER", "alice")
    # A rebuild's measured duration would vary with the machine's load; the scenes show 0.2 s.
    monkeypatch.setattr(RebuildRunner, "elapsed_s", property(lambda runner: 0.2))
    monkeypatch.setattr(rebuild, "log_stamp", lambda: NOW.strftime("%Y%m%d-%H%M%S"))  # the log file's name

    def make(rebuild: str = GOOD_REBUILD, auto_rollback: bool = True) -> Workspace:
        rollback = "true" if auto_rollback else "false"
        (project / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "{_toml(rebuild)}"\nauto_rollback = {rollback}\n')
        return Workspace.open(project)

    return make


def _toml(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _propose(ws: Workspace) -> None:
    current = (ws.root / "devenv.nix").read_text()
    new = current.replace("packages = [ pkgs.git pkgs.jq ];", "packages = [ pkgs.git pkgs.jq pkgs.redis ];")
    new = new.replace(
        '  processes.web.exec = "python -m http.server 8000";\n',
        '  processes.web.exec = "python -m http.server 8000";\n\n  services.redis.enable = true;\n',
    )
    store = ProposalStore(ws)
    built = store.build(
        {"devenv.nix": new},
        title="Add redis for the session cache",
        rationale="The web process keeps sessions in memory; redis survives restarts.",
        agent="claude",
    )
    store.submit(built._replace(id=PROPOSAL_ID, created_at=PROPOSAL_TIME))


def _app(ws: Workspace, theme: str | None = None) -> CockpitApp:
    return CockpitApp(
        ws,
        clock=lambda: NOW,
        watch=False,
        poll_processes=False,
        display_root=DISPLAY_ROOT,
        who="alice",
        theme=theme,
    )


def _text(pilot: Pilot[Any]) -> str:
    return "\n".join(strip.text for strip in screen_strips(pilot.app))


async def _until(pilot: Pilot[Any], condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}; the screen:\n{_text(pilot)}")


async def _settle(pilot: Pilot[Any]) -> None:
    """Let the app finish reacting, then take away what varies between runs: toasts, a blinking cursor.
    Finished means no worker busy, no diff waiting for its colours, and the same picture three polls
    running: on a loaded machine a frame can lag well behind the state a test waited for."""
    app = pilot.app

    def busy() -> bool:
        views = [view for screen in app.screen_stack for view in screen.query(DiffView)]
        return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers) or any(
            view._preparing_highlight for view in views
        )

    previous: list[Any] = []
    still = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while still < 3:
        if loop.time() > deadline:
            raise AssertionError(f"the screen never settled:\n{_text(pilot)}")
        await pilot.pause(0.05)
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        app.clear_notifications()
        picture = list(screen_strips(app))
        still = still + 1 if picture == previous and not busy() else 0
        previous = picture


async def _validated(pilot: Pilot[Any]) -> None:
    await _until(pilot, lambda: "Add redis for the session cache" in _text(pilot), "the proposal in the queue")
    await _until(pilot, lambda: "Nix parses" in _text(pilot) or "parses" in _text(pilot), "the validation result")
    await _settle(pilot)  # the cockpit fully drawn before a modal covers it (it is kept as drawn then)


def _scene(*steps: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        for step in steps:
            await step(pilot)
        await _settle(pilot)

    return run_before


def _press(*keys: str, until: str | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)
        if until is not None:
            await _until(pilot, lambda: until in _text(pilot), repr(until))

    return step


def test_main_screen_with_a_pending_proposal(
    snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace]
) -> None:
    ws = make_workspace()
    _propose(ws)
    assert snap_compare(_app(ws), terminal_size=SIZE, run_before=_scene(_validated))


def test_split_diff_of_a_direct_edit(snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace()
    path = ws.root / "devenv.nix"
    path.write_text(path.read_text().replace('env.GREET = "hello";', 'env.GREET = "hello, world";\n  env.DEBUG = "1";'))

    async def split(pilot: Pilot[Any]) -> None:
        await _until(pilot, lambda: "UNAPPROVED EDITS" in _text(pilot), "the unapproved edits")
        pilot.app.query_one("#changes-diff").focus()
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(_app(ws), terminal_size=SIZE, run_before=_scene(split))


def test_approve_modal(snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace()
    _propose(ws)
    scene = _scene(_validated, _press("a", until="Approve: Add redis for the session cache"))
    assert snap_compare(_app(ws), terminal_size=SIZE, run_before=scene)


def test_reject_modal(snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace()
    _propose(ws)
    scene = _scene(
        _validated,
        _press("r", until="Reject: Add redis for the session cache"),
        _press(*"pin redis to 7.2 like production", until="like production"),
    )
    assert snap_compare(_app(ws), terminal_size=SIZE, run_before=scene)


def test_a_failed_rebuild(snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace]) -> None:
    """The default `auto_rollback`: the build fails, the file is restored, the log says so."""
    ws = make_workspace(rebuild=FAILING_REBUILD, auto_rollback=True)
    _propose(ws)
    # The queue's state column widens for the longest state it has shown; "rolled back" is longer than
    # the "rebuilding" it may or may not have caught in passing, so the final width is always the same.
    scene = _scene(
        _validated,
        _press("a", until="Approve: Add redis for the session cache"),
        _press("y", until="rolled back"),
        _press(until="full log:"),
    )
    assert snap_compare(_app(ws), terminal_size=SIZE, run_before=scene)


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
def test_each_theme(snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace], theme: str) -> None:
    ws = make_workspace()
    _propose(ws)
    assert snap_compare(_app(ws, theme=theme), terminal_size=SIZE, run_before=_scene(_validated))


PHONE = (60, 30)  # a phone's browser in landscape, through `omni-tui serve`


def test_phone_size_shows_one_panel_with_the_switcher_and_approve_reject_buttons(
    snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace]
) -> None:
    ws = make_workspace()
    _propose(ws)
    assert snap_compare(_app(ws), terminal_size=PHONE, run_before=_scene(_validated))


def test_phone_size_approve_modal(snap_compare: Any, nix_checked_without_nix: None, make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace()
    _propose(ws)
    scene = _scene(_validated, _press("a", until="Approve: Add redis"))
    assert snap_compare(_app(ws), terminal_size=PHONE, run_before=scene)
