"""What a person reads at 80x24: the agent's whole rationale (zoomed detail, approve modal), a blocked modal
without a live-looking confirm button, ctrl+p listed and in the footer, a palette of omni-tui's own commands,
ctrl+c answered in plain words, a capped agent column, cut notes ending in …, toasts off a modal's buttons."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from app_harness import cockpit, edited, notices, open_workspace, propose_now, ready, screen_text, wait_for
from textual.widgets import Button, Input

from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import ApprovalCheck, ApprovalSummary, ApproveScreen, FileSummary, HelpScreen

SMALL = (80, 24)
WHY = (
    "The job queue needs tmux for the worker sessions and ripgrep for the log search; both are small, "
    "pinned by nixpkgs, and nothing else in the shell changes. I checked the existing scripts: none of "
    "them calls a different tmux. LAST-WORDS-OF-THE-RATIONALE."
)


def squashed(app) -> str:
    """The screen's text with the wrapping undone: words joined across line breaks and borders."""
    lines = [line.strip("│█▎▍ ").strip() for line in screen_text(app).splitlines()]
    return " ".join(" ".join(lines).split())


@pytest.mark.parametrize("size", [SMALL, (120, 24)])
async def test_the_zoomed_detail_shows_the_whole_rationale_wrapped_at_80x24(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=size) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.tmux"), why=WHY)
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await wait_for(pilot, lambda: "Why: The job queue" in screen_text(app), what="the rationale's first line")
        assert "LAST-WORDS" not in screen_text(app)  # unzoomed at 24 rows: one line, cut with …
        await pilot.press("z")
        await wait_for(pilot, lambda: "LAST-WORDS-OF-THE-RATIONALE." in screen_text(app), what="the whole rationale, zoomed")
        assert "Why: " + WHY in squashed(app)  # every word, in order, wrapped over several rows
        assert "+   packages" in screen_text(app) or "pkgs.tmux" in screen_text(app)  # the diff still has room
        await pilot.press("z")
        await wait_for(pilot, lambda: "LAST-WORDS" not in screen_text(app), what="back to one line")


async def test_the_approve_modal_shows_the_whole_rationale_and_scrolls_to_it_at_80x24(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    long_why = WHY + " " + " ".join(f"Point {n} of the argument." for n in range(1, 25)) + " THE-VERY-END."
    async with app.run_test(size=SMALL) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.tmux"), why=long_why)
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        await wait_for(pilot, lambda: "What it does" in screen_text(app), what="the modal's body")
        assert "Cancel (n)" in screen_text(app) and "Approve (y)" in screen_text(app)  # buttons stay on screen
        body = app.screen.query_one("#approve-body")
        assert app.screen.focused is body  # the keys scroll it
        assert "THE-VERY-END." not in screen_text(app)  # more than the body shows at 24 rows
        for _ in range(60):  # down, a row at a time, as a person reads
            if "THE-VERY-END." in screen_text(app):
                break
            await pilot.press("down")
            await pilot.pause()
        await wait_for(pilot, lambda: "THE-VERY-END." in screen_text(app), what="the rationale's last words, scrolled to")
        assert str(app.screen.query_one("#approve-why").render()) == long_why  # all of it, nothing cut
        assert "Cancel (n)" in screen_text(app)
        await pilot.press("n")


GOOD = ApprovalSummary(
    title="Add redis",
    agent="claude",
    proposal_id="p-1",
    rationale="redis for the job queue\nand nothing else",
    files=(FileSummary("devenv.nix", 5, 1, 2, 3),),
    checks=(ApprovalCheck("Nix parses", True),),
    rebuild_command="devenv shell -- true",
)


@pytest.mark.parametrize(("action", "verb"), [("Approve", "approve"), ("Accept edits", "accept")])
async def test_a_blocked_modal_has_no_live_confirm_button_and_says_its_own_verb(action: str, verb: str) -> None:
    from test_screens import Host

    broken = (ApprovalCheck("Nix parses", False, "line 3, column 5: unexpected '}'"),)
    summary = dataclasses.replace(GOOD, checks=broken, action=action, proposal_id="" if verb == "accept" else "p-1")
    app = Host(lambda: ApproveScreen(summary))
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the modal")
        text = screen_text(app)
        assert f"Cannot {verb}: Nix parses: line 3, column 5" in text
        assert f"{action} (y)" not in text and "Cancel (n)" in text
        assert not app.screen.query_one("#approve-yes", Button).display
        assert f"y {action}" not in text.splitlines()[-1]  # nor a footer key that does nothing
        await pilot.press("y")
        await pilot.pause()
        assert app.results == [] and isinstance(app.screen, ApproveScreen)
        if verb == "accept":
            assert "Why" not in text  # direct edits: no agent, no rationale section
        else:
            # The Why comes after every fact; at 80x24 the person scrolls the body down to it.
            for _ in range(20):
                if "and nothing else" in screen_text(app):
                    break
                await pilot.press("pagedown")
            await wait_for(pilot, lambda: "and nothing else" in screen_text(app), what="the rationale scrolled into view")
            assert "redis for the job queue" in screen_text(app)


async def test_a_modal_that_becomes_unblocked_shows_its_confirm_button() -> None:
    from test_screens import Host

    waiting = dataclasses.replace(GOOD, confirm_waiting=True)
    screen = ApproveScreen(waiting)
    app = Host(lambda: screen)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the modal")
        assert "Approve (y)" not in screen_text(app)
        screen.update_summary(GOOD)
        await wait_for(pilot, lambda: "Approve (y)" in screen_text(app), what="the confirm button once unblocked")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.results == [True], what="approved")


async def test_toasts_over_a_modal_keep_off_its_buttons() -> None:
    from test_screens import Host

    class Toasting(Host):
        def on_mount(self) -> None:
            self.notify("raised before the question", title="Earlier")
            super().on_mount()

    app = Toasting(lambda: ApproveScreen(GOOD))
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the modal")
        await wait_for(pilot, lambda: not app._notifications, what="the earlier toast cleared")
        # The toast rack is redrawn a frame after the notifications are cleared.
        await wait_for(pilot, lambda: "raised before the question" not in screen_text(app), what="the earlier toast gone from the screen")
        for n in range(3):
            app.notify(f"toast number {n} with a fairly long message to wrap", title="New proposal")
        await wait_for(pilot, lambda: "toast number 2" in screen_text(app), what="the toasts")
        buttons = app.screen.query_one("#approve-yes").region.union(app.screen.query_one("#approve-no").region)
        for toast in app.screen.query("Toast"):
            assert not toast.region.overlaps(buttons), (toast.region, buttons)
        assert "Approve (y)" in screen_text(app) and "Cancel (n)" in screen_text(app)


async def test_ctrl_p_is_in_the_help_and_the_footer_at_80_columns(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "q Quit" in screen_text(app).splitlines()[-1], what="the footer")
        footer = screen_text(app).splitlines()[-1]
        assert "^p" in footer and "q Quit" in footer, footer
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help")
        app.screen.query_one("#help-body").scroll_end(animate=False)
        await wait_for(pilot, lambda: "^p         Open the command palette" in screen_text(app), what="^p in the help")
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "^p Commands" in screen_text(app).splitlines()[-1], what="the palette key, labelled")


async def test_at_80_columns_with_direct_edits_focused_the_footer_keeps_quit_and_the_palette(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SMALL) as pilot:
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the direct edit")
        await pilot.press("shift+tab")  # the Changes panel
        # `A Accept` shows in every panel; the footer follows the focus a frame later. Greyed proposal keys
        # are left to the Proposals panel at 80 columns.
        await wait_for(
            pilot,
            lambda: "A Accept" in screen_text(app).splitlines()[-1] and "a Approve" not in screen_text(app).splitlines()[-1],
            what="the Changes keys, without the greyed proposal keys",
        )
        footer = screen_text(app).splitlines()[-1]
        assert "q Quit" in footer and footer.rstrip().endswith("^p"), footer


async def test_the_palette_offers_omni_tuis_commands_only(project: Path) -> None:
    from omni_tui.ui.commands import CockpitCommands

    assert CockpitApp.COMMANDS == {CockpitCommands}  # no Textual system commands provider
    ws = open_workspace(project)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(120, 34)) as pilot:

        async def search(query: str, expect: str) -> str:
            for key in query:
                await pilot.press("minus" if key == "-" else key)
            # The answer to the whole query (the results of a shorter one may still be on screen).
            palette = app.screen.query_one(Input)
            await wait_for(pilot, lambda: palette.value == query and expect in screen_text(app), what=f"{expect!r} for {query!r}")
            await pilot.pause()
            text = screen_text(app)
            for _ in query:
                await pilot.press("backspace")
            # Seen empty before the next query is typed, as a person sees it: Textual acts on a backspace
            # once its key has bubbled up to the App, so a letter typed right behind it could land first.
            await wait_for(pilot, lambda: palette.value == "", what="the query cleared")
            return text

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: "Approve  (a)" in screen_text(app), what="the palette's actions")
        assert "Theme: omni-light" in await search("omni-light", "Theme: omni-light")
        quit_ = await search("quit", "Quit  (q)")
        assert "Quit the cockpit" in quit_ and "as soon as possible" not in quit_
        assert "Show help for the focused widget" not in await search("keys", "No matches found")
        assert "Save an SVG" not in await search("screenshot", "No matches found")
        # Textual's "Change theme" is not there; the words find omni-tui's own theme commands.
        found = await search("change theme", "Theme: ")
        assert "Change the current theme" not in found
        assert "Theme: omni-light" in await search("change theme omni-light", "Theme: omni-light")


async def test_ctrl_c_says_in_plain_words_which_key_quits(project: Path) -> None:
    ws = open_workspace(project, extra='[keys]\nquit = "Q"\n')
    app = cockpit(ws, watch=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: notices(app, "to quit"), what="the hint")
        message = next(n.message for n in app._notifications if "to quit" in n.message)
        assert message.startswith("Press Q to quit") and "[" not in message, message
        assert app.is_running


async def test_a_long_agent_name_leaves_the_title_its_room_at_80_columns(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SMALL) as pilot:
        pid = propose_now(
            project,
            "devenv.nix",
            edited(project, "pkgs.jq", "pkgs.jq pkgs.tmux"),
            title="Add tmux and ripgrep for the queue",
            agent="claude-code-session-1234567890",
        )
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")

        def row() -> str:
            return next((line for line in screen_text(app).splitlines() if "claude-co" in line and "pending" in line), "")

        await wait_for(pilot, lambda: "✓ ok" in row(), what="the whole row")
        agent_cell = row().split("│")[-2].split()[0]
        assert agent_cell.endswith("…") and len(agent_cell) <= 12, row()
        assert "Add tmux a" in row(), row()  # the title keeps at least 10 columns
        await pilot.press("z")  # zoomed, the detail's title line has the whole name
        await wait_for(pilot, lambda: "claude-code-session-1234567890" in screen_text(app), what="the whole agent name")


async def test_a_cut_diff_note_ends_in_an_ellipsis(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "No changes against the base" in screen_text(app), what="the Changes panel's note")
        line = next(line for line in screen_text(app).splitlines() if "No changes against the base" in line)
        assert "No changes against the base…" in line, line


def test_greyed_decision_keys_stay_in_their_own_panel_below_100_columns() -> None:
    """The review state's footer answer, without Pilot: nothing selected, so approve / accept are unavailable."""
    from omni_tui.core.review import Focus, Panel, Review

    review = Review()
    in_changes, in_proposals = Focus(panel=Panel.CHANGES), Focus(panel=Panel.PROPOSALS)
    assert review.footer_state("approve", in_changes, narrow=True) is False  # hidden: a's home is Proposals
    assert review.footer_state("approve", in_proposals, narrow=True) is None  # greyed where it belongs
    assert review.footer_state("approve", in_changes, narrow=False) is None  # wide: greyed everywhere
    assert review.footer_state("accept_direct", in_changes, narrow=True) is False  # nothing to accept, and narrow
