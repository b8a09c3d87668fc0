"""What the third QA pass found using the cockpit as its users do, each pinned by a test that failed before the fix.

Every test runs the real `CockpitApp` under Pilot on a real temp workspace, with the real
`omni-tui propose` as the agent.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual import events

from app_harness import SIZE, approve_selected, edited, open_workspace, propose_now, ready, screen_text, wait_for
from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import EditScreen, RejectScreen


def burst(app: CockpitApp, keys: str, *, then: str | None = None) -> None:
    """Keys as the terminal driver delivers a burst (tmux send-keys, a paste, a fast typist): every key
    posted to the app before any is handled."""
    for char in keys:
        app.post_message(events.Key("space" if char == " " else char, char))
    if then is not None:
        app.post_message(events.Key(then, {"enter": "\r", "ctrl+s": "\x13"}.get(then)))


async def test_r_then_the_reason_and_enter_at_once_rejects_with_that_reason(project: Path) -> None:
    """`r` opens the modal only once it is handled; the reason typed right behind it (with a `q`, the quit
    key, and a space, the hunk key) must land in the modal, not vanish or act on the cockpit."""
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "rquite risky", then="enter")
        await wait_for(pilot, lambda: ProposalStore(ws).decision(pid) is not None, what="the rejection")
        assert ProposalStore(ws).decision(pid).reason == "quite risky"
        assert app.is_running and not isinstance(app.screen, RejectScreen)


async def test_r_then_the_reason_at_once_fills_the_modal(project: Path) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "rpin it")
        await wait_for(pilot, lambda: ready(app, RejectScreen) and app.screen.reason == "pin it",
                       what="the reason typed into the modal")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RejectScreen), what="the modal closed")
        assert ProposalStore(ws).status(pid) == "pending"


async def test_e_then_typing_and_save_at_once_keeps_every_key(project: Path, builtin_editor: None) -> None:
    """The built-in editor opens only once `e` is handled: what is typed behind it, and ctrl+s, still land."""
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        proposed = edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57")
        pid = propose_now(project, "devenv.nix", proposed, title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.view is not None, what="the proposal shown")
        burst(app, "e# ok", then="enter")
        burst(app, "", then="ctrl+s")
        await wait_for(pilot, lambda: pid in app.review.edited, what="the edit kept")
        assert app.review.edited[pid]["devenv.nix"] == "# ok\n" + proposed
        assert not isinstance(app.screen, EditScreen)
        await wait_for(pilot, lambda: "edited by you" in screen_text(app), what="the proposal marked as edited")


def test_quitting_during_a_rebuild_says_what_became_of_the_change(need_tmux: None, project: Path, tmp_path: Path) -> None:
    """`q`, `y` mid-rebuild cancels it and rolls the change back; the terminal the cockpit returns to
    says so (before, the person was left at the prompt without a word)."""
    import os
    import time
    import uuid

    from test_tmux import Pane, _command

    (project / "omni-tui.toml").write_text('[rebuild]\ncommand = "echo building; sleep 120"\n')
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    original = (project / "devenv.nix").read_text()
    pane = Pane(f"omni-tui-test-{uuid.uuid4().hex[:8]}")
    try:
        status_file = tmp_path / "cockpit.status"
        pane.start([*_command(), str(project)], env, project, status_file)
        pane.wait_for("CLEAN")
        propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.redis"), title="Add redis")
        pane.wait_for("1 PENDING")
        pane.keys("a")
        pane.wait_for("Approve: Add redis")
        pane.keys("y")
        pane.wait_for("building")
        pane.keys("q")
        pane.wait_for("Quit while a rebuild runs?")
        pane.keys("y")
        deadline = time.monotonic() + 60
        while pane.pane("pane_dead") != "1" and time.monotonic() < deadline:
            time.sleep(0.2)
        # What the person reads above their prompt (wrapped at the pane's width: rejoined).
        terminal = pane.tmux("capture-pane", "-p", "-S", "-200", "-t", "cockpit")
        flat = " ".join(line.strip() for line in terminal.splitlines() if line.strip())
        said = flat[flat.find("omni-tui: quit during a rebuild"):]
        assert said and "Add redis" in said and "rolled back" in said and "rebuild cancelled" in said, terminal
        assert (project / "devenv.nix").read_text() == original
    finally:
        pane.kill()


async def test_a_long_gate_detail_at_80_columns_ends_in_an_ellipsis_not_a_dangling_word(project: Path) -> None:
    """The second cockpit's header names the other cockpit's rebuild; at 80 columns it used to wrap
    out of its one row and read `1 pending · approve of`, cut mid-sentence without a sign."""
    from textual.app import App, ComposeResult

    from omni_tui.ui.widgets.gate_header import GateHeader

    class Header(App[None]):
        def compose(self) -> ComposeResult:
            yield GateHeader("/tmp/qa3/proj", id="gate-header")

    app = Header()
    async with app.run_test(size=(80, 3)) as pilot:
        header = app.query_one(GateHeader)
        header.show_state("rebuilding", 1, note="approve of 20261126T145447Z-388d01 by root (pid 9882)")
        await wait_for(pilot, lambda: "REBUILDING" in screen_text(app), what="the header")
        line = screen_text(app).splitlines()[0]
        assert "approve of 2026" in line and "…" in line, line


async def test_at_80_columns_the_rebuild_row_keeps_its_state_and_time_and_crops_the_title() -> None:
    """The rebuild log's progress row at 80 columns read `approve “three files at 80 colum…” — ⟳ buil`:
    the title took the room of what the person watches it for."""
    from textual.app import App, ComposeResult

    from omni_tui.ui.widgets.build_progress import BuildProgressLine

    now = [100.0]

    class Row(App[None]):
        def compose(self) -> ComposeResult:
            yield BuildProgressLine(clock=lambda: now[0])

    app = Row()
    async with app.run_test(size=(46, 3)) as pilot:
        row = app.query_one(BuildProgressLine)
        row.start("approve “three files at 80 columns with a long title” (goose)")
        now[0] = 105.0
        row.refresh()
        await wait_for(pilot, lambda: "0:05" in screen_text(app), what="the running time")
        line = screen_text(app).splitlines()[0]
        assert "⟳ evaluating · 0:05" in line and "approve “three" in line and "…" in line, line
        row.finish(0)
        await wait_for(pilot, lambda: "✓ exit 0 · 5.0 s" in screen_text(app).splitlines()[0], what="the end, whole")


async def test_a_rebuild_in_another_cockpit_is_named_by_the_proposals_title(project: Path, tmp_path: Path) -> None:
    """The second cockpit's header, log and 'busy' message said `approve of 20261126T145447Z-388d01`:
    an id nobody reads. They name the proposal as the queue does, by its title."""
    import subprocess
    import sys

    ws = open_workspace(project)
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.curl"), title="Add curl")
    release = tmp_path / "release"
    holding = tmp_path / "holding"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib\n"
        "from omni_tui.core.workspace import Workspace\n"
        "from omni_tui.core.gate import Gate\n"
        "with Gate(Workspace.open(sys.argv[1]), who='bob').exclusive('approve', sys.argv[2]):\n"
        "    pathlib.Path(sys.argv[3]).write_text('')\n"
        "    while not pathlib.Path(sys.argv[4]).exists(): time.sleep(0.05)\n"
    ), str(project), pid, str(holding), str(release)])
    try:
        app = CockpitApp(ws, poll_processes=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: holding.exists(), what="the other cockpit holding the gate")
            await wait_for(pilot, lambda: "approve of “Add curl” by bob" in screen_text(app), what="the holder named")
            assert pid not in screen_text(app)
            # The read-only log's progress row names it the same way, not "approve by bob".
            await wait_for(pilot, lambda: "approve “Add curl” by bob" in app.log_view.progress_text(), what="the progress row")
            # What `a` on another proposal answers meanwhile.
            assert app.review.busy_reason().startswith("The gate is busy: approve of “Add curl” by bob (pid ")
    finally:
        release.write_text("")
        holder.wait(30)


async def test_the_progress_row_ends_on_the_duration_the_decision_records(project: Path, monkeypatch) -> None:
    """The row's clock starts when approving starts (validate, write, rebuild); at the end it shows the
    rebuild's measured duration, as the log's outcome line and the decision do, not the approval's."""
    from omni_tui.core.gate import Gate

    validate = Gate.validate

    def slow_validate(self, *args, **kwargs):  # a slow Nix parse before the rebuild starts
        time.sleep(0.8)
        return validate(self, *args, **kwargs)

    monkeypatch.setattr(Gate, "validate", slow_validate)
    ws = open_workspace(project, command="echo built")
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), title="Htop")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.check_action("approve", ()) is True, what="the proposal")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the outcome")
        duration = ProposalStore(ws).decision(pid).duration_s
        assert duration < 0.8
        assert "✓ exit 0 · " in app.log_view.progress_text()
        assert app.log_view.progress_text().endswith(f"{duration:.1f} s")
