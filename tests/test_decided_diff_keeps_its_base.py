"""A proposal decided without a write (rejected, stale, withdrawn) keeps showing base → proposed after the
file moves on: the base comes from the file, the baseline or a backup holding its bytes; when none holds
them, the detail says so instead of diffing against a later file."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, decision_of, edited, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.core.history import kept_bases
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.safefs import write_backup
from omni_tui.ui.screens import ApproveScreen, RejectScreen

SIZE = (120, 34)


def test_kept_bases_finds_a_base_in_any_backup_by_its_hash(project: Path) -> None:
    ws = open_workspace(project)
    original = (project / "devenv.nix").read_text()
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.tmux"))
    proposal = ProposalStore(ws).get(pid)
    assert kept_bases(ws, proposal) == {}  # no backup yet (the file itself is the caller's to try)
    write_backup(ws.paths.backups, "revert@20990101T000000Z-aaaaaa", "devenv.nix", b"something else\n")
    write_backup(ws.paths.backups, "20990101T000001Z-bbbbbb", "devenv.nix", original.encode())
    assert kept_bases(ws, proposal) == {"devenv.nix": original}


async def test_a_rejected_proposal_keeps_its_diff_after_the_file_and_baseline_move_on(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.tmux"), title="Tmux")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject question")
        await pilot.press(*"no", "enter")
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "rejected", what="rejected")

        # The file moves on and is accepted: neither the file nor the baseline is the proposal's base any more.
        (project / "devenv.nix").write_text(edited(project, '"hello"', '"bonjour"'))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the direct edit")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept modal")
        await wait_for(pilot, lambda: app.screen.check_action("confirm", ()) is True, what="the edit checked")
        await pilot.press("y")
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="accepted")

        app.main.queue.select_key(pid)
        # Its base is read from the history in a worker: the detail shows the proposal first, its files a moment later.
        await wait_for(
            pilot,
            lambda: (
                (view := app.main.detail.view) is not None
                and view.key == pid
                and [(f.current is not None and '"hello"' in f.current, "pkgs.tmux" in (f.proposed or "")) for f in view.files]
                == [(True, True)]
            ),
            what="the rejected one shown against its base",
        )
        assert app.main.detail.view.diff_label == ""  # base → proposed, nothing to excuse
        await wait_for(pilot, lambda: "+1 −1" in screen_text(app), what="the one-line change")
        assert '"bonjour"' not in screen_text(app)  # the later edit is not shown as part of it


async def test_without_its_base_a_rejected_proposal_says_so_instead_of_a_diff(project: Path) -> None:
    from omni_tui.core.gate import Gate

    ws = open_workspace(project)
    # Proposed against an edit nobody approved (so no baseline or backup holds it), rejected, then edited again.
    (project / "devenv.nix").write_text(edited(project, '"hello"', '"draft"'))
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.tmux"), title="Tmux")
    Gate(ws, who="alice").reject(pid, "no")
    (project / "devenv.nix").write_text(edited(project, '"draft"', '"bonjour"'))
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the cockpit up")
        app.main.queue.select_key(pid)
        await wait_for(
            pilot,
            lambda: (
                (view := app.main.detail.view) is not None
                and view.key == pid
                and view.diff_label.startswith("No diff for devenv.nix: the file it was proposed against is kept nowhere")
            ),
            what="the rejected one shown, without a base",
        )
        assert app.main.detail.view.files == ()  # no diff against a later file
        await wait_for(
            pilot, lambda: "No diff for devenv.nix: the file it was proposed against" in screen_text(app), what="the reason on screen"
        )
        assert not app.main.detail.diff.display
