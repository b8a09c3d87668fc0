"""What gives way when a line does not fit (80 columns): titles, paths and details crop with an ellipsis, states and times stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, screen_text, wait_for


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_a_long_title_is_cropped_so_the_state_and_check_stay_in_view(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    title = "Add ripgrep and a local Redis for the job queue, and the MySQL client for imports"
    async with app.run_test(size=size) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title=title)
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await wait_for(pilot, lambda: app.review.validations.get(pid), what="the validation")

        def queue_line() -> str:
            return next((line for line in screen_text(app).splitlines() if "test-agent " in line and "Add rip" in line), "")

        await wait_for(pilot, lambda: "pending" in queue_line() and "✓ ok" in queue_line(), what="state and check in the row")
        assert "…" in queue_line()  # the title gave way, visibly
        assert "State" in screen_text(app) and "Check" in screen_text(app)


async def test_at_80_columns_a_long_workspace_path_gives_way_to_what_is_waiting(project: Path) -> None:
    ws = open_workspace(project)
    long_root = "/tmp/a-rather-long-directory/for-the-workspace/of-the-acme-shop/omni-tui-demo-abcdef"
    app = cockpit(ws, display_root=long_root)
    async with app.run_test(size=(80, 24)) as pilot:
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        header = screen_text(app).splitlines()[0]
        assert "devenv.nix" in header  # which file waits, whole
        assert "omni-tui-demo-abcdef" in header and "…" in header  # the path's end still names the workspace


async def test_a_workspace_path_that_fits_is_shown_whole(project: Path) -> None:
    ws = open_workspace(project)
    root = "DEMO · /tmp/pytest-of-root/pytest-393/test_demo_under_tmux_approve_r0/tmp/omni-tui-demo-hy804z7h"
    app = cockpit(ws, display_root=root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: root in screen_text(app).splitlines()[0], what="the whole path in the header")


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
    the title took the room of what the person watches it for. The title is cut inside its quotes: the
    closing quote and the agent's name stay."""
    from textual.app import App, ComposeResult

    from omni_tui.ui.widgets.log_view import LogView

    now = [100.0]

    class Row(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView(clock=lambda: now[0])

    app = Row()
    async with app.run_test(size=(48, 3)) as pilot:
        row = app.query_one(LogView)
        row.start_progress("approve “three files at 80 columns with a long title” (goose)")
        now[0] = 105.0
        row.refresh()
        await wait_for(pilot, lambda: "0:05" in screen_text(app), what="the running time")
        line = screen_text(app).splitlines()[0]
        assert "⟳ evaluating · 0:05" in line and "approve “three" in line and "…” (goose) — " in line, line
        row.finish(0)
        await wait_for(pilot, lambda: "✓ exit 0 · 5.0 s" in screen_text(app).splitlines()[0], what="the end, whole")


def test_a_long_project_path_gives_way_from_its_start_never_the_demo_tag() -> None:
    from omni_tui.ui.widgets.gate_header import _elide_path

    long = "/tmp/pytest-of-root/pytest-1012/test_demo_under_tmux/tmp/omni-tui-demo-3b55erkl"
    assert _elide_path(f"DEMO · {long}", 40) == "DEMO · …" + long[-32:]
    assert _elide_path(long, 30) == "…" + long[-29:]
    assert _elide_path("DEMO · /short", 40) == "DEMO · /short"
    assert len(_elide_path(f"DEMO · {long}", 40)) == 40
