"""The cockpit's own timers (a listing held back in a burst, the queue's refresh, the 10 s ages tick, a
waiting toast) can fire while it quits, once its widgets are gone: they must do nothing, never raise
(a CI run caught a held-back listing failing on `#queue` during shutdown)."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, screen_text, wait_for


async def test_queue_timers_that_fire_after_the_cockpit_closed_do_nothing(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Rg")
        await wait_for(pilot, lambda: "Rg" in screen_text(app), what="the proposal listed")
        view = app.workspace
        entries = tuple(app.review.entries.values())
    # The app has quit: its screens and widgets are gone, as they are when a timer fires late.
    view._listing_due = (entries, (), {})
    view._apply_waiting_listing()
    view.show_queue()  # a refresh
    view.tick_ages()  # the ages tick
    view._age_chunk()  # the ages of the rows out of view
    view._refresh_queue()
    toasts = len(app._notifications)
    view._unannounced = [entry.proposal for entry in entries]
    view._announce_waiting()
    assert len(app._notifications) == toasts  # no toast raised on a cockpit that has quit
