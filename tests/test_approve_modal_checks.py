"""The approve and accept modals check what will really be written (edited, partly chosen, direct edits) and block what is broken."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.ui.screens import ApproveScreen, EditScreen


async def test_the_accept_edits_modal_validates_the_direct_edits_and_blocks_a_syntax_error(project: Path, need_nix: None) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept confirmation")
        await wait_for(pilot, lambda: "✓ Nix parses" in (t := screen_text(app)) and "size/encoding ok" in t, what="the Nix check passed")
        assert "not validated" not in screen_text(app) and "base current" not in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApproveScreen), what="the modal closed")

        (project / "devenv.nix").write_text(edited(project, "pkgs.htop ];", "pkgs.htop ;"))
        await wait_for(pilot, lambda: "−1" in screen_text(app) and app.review.unapproved(), what="the broken edit shown")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept confirmation")
        await wait_for(
            pilot, lambda: all(s in screen_text(app) for s in ("Cannot accept", "✗ Nix", "devenv.nix:")), what="the syntax error blocking"
        )
        await pilot.press("y")  # blocked: nothing happens
        await pilot.pause(0.3)
        assert isinstance(app.screen, ApproveScreen) and app.rebuilds.job is None


async def test_the_accept_edits_modal_names_an_edit_that_is_not_utf8(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_bytes((project / "devenv.nix").read_bytes().replace(b"hello", b"h\xe9llo"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept confirmation")
        await wait_for(pilot, lambda: "not valid UTF-8" in screen_text(app), what="the encoding check")
        assert "Cannot accept" in screen_text(app) and "Cannot approve" not in screen_text(app)  # the modal's own verb
        assert "Accept edits (y)" not in screen_text(app)  # no live-looking confirm button while blocked


async def test_the_open_approve_modal_shows_a_validation_that_finishes_after_it_opened(project: Path) -> None:
    """The file changes under an open approve modal: the re-check says stale there, and approving is blocked."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        assert "base current" in screen_text(app) and "Cannot approve" not in screen_text(app)
        (project / "devenv.nix").write_text(edited(project, '"hello"', '"bonjour"'))
        await wait_for(pilot, lambda: "Cannot approve" in screen_text(app), what="the stale base blocking")
        assert "stale" in screen_text(app)
        await pilot.press("y")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ApproveScreen) and app.rebuilds.job is None


async def test_edit_after_leaving_out_a_hunk_starts_from_what_approving_would_write(project: Path, builtin_editor: None) -> None:
    from textual.widgets import TextArea

    ws = open_workspace(project)
    app = cockpit(ws)
    two_hunks = edited(project, '"hello"', '"bonjour"').replace('echo "$GREET from devenv"', 'echo "$GREET from the shell"')
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", two_hunks, title="Two hunks")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.diff.hunk_count == 2, what="the two-hunk proposal")
        await pilot.press("enter")  # into its diff, on the first hunk
        await pilot.press("space")  # leave the first hunk (the greeting) out
        await wait_for(pilot, lambda: app.review.hunks.get((pid, "devenv.nix")) == {1}, what="only the second hunk chosen")
        await pilot.press("e")
        await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")
        text = app.screen.query_one(TextArea).text
        assert '"hello"' in text and '"bonjour"' not in text  # the left-out hunk is not in the editor
        assert "from the shell" in text


async def test_approving_an_edit_that_breaks_the_syntax_is_blocked_in_the_modal(
    project: Path, need_nix: None, builtin_editor: None
) -> None:
    """The modal checks what will be written (the person's edit), not only what the agent proposed."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")
        assert app.review.validations[pid][0].ok
        await pilot.press("e")
        await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")
        await pilot.press("{", "{", "ctrl+s")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal for the edit")
        await wait_for(pilot, lambda: "Cannot approve" in screen_text(app), what="the broken edit blocked")
        assert "✗ Nix" in screen_text(app) and "edited by you" in screen_text(app)
        await pilot.press("y")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ApproveScreen) and app.rebuilds.job is None
