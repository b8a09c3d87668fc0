"""A long queue never holds the cockpit: with more proposal files than the first frame reads, the cockpit
draws and answers keys while the listing is read, then fills the queue in — without a bell or a
"N new proposals" toast for what was already waiting — and checks them in one worker, each result
remembered by content hash."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from app_harness import SIZE, cockpit, notices, open_workspace, ready, wait_for

from omni_tui.core.audit import utc_now
from omni_tui.core.proposals import FileChange, Proposal, new_id
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace


def _flood(ws: Workspace, n: int) -> None:
    original = (ws.root / "devenv.nix").read_text()
    base = sha256_bytes(original.encode())
    for i in range(n):
        text = original.replace("pkgs.jq ]", f"pkgs.jq pkgs.tool{i} ]")
        pid = new_id()
        while (ws.paths.proposals / f"{pid}.json").exists():  # ids are a second + 24 random bits: 10,000 in a few seconds can meet
            pid = new_id()
        proposal = Proposal(pid, "flood", f"Add tool{i}", "flood", utc_now(), (FileChange("devenv.nix", base, text),))
        (ws.paths.proposals / f"{proposal.id}.json").write_text(json.dumps(proposal.to_json()))


async def test_the_cockpit_answers_keys_while_a_long_queue_is_read_then_shows_it_all(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import omni_tui.ui.workers as workers_module
    import omni_tui.ui.workspace_view as view_module
    from omni_tui.ui.screens.help import HelpScreen

    ws = open_workspace(project)
    n = view_module.SYNC_QUEUE + 100
    _flood(ws, n)
    release = threading.Event()
    held_too_long = threading.Event()

    def watchdog() -> None:  # a listing that blocks the event loop would hold the test forever
        if not release.wait(20):
            held_too_long.set()
            release.set()

    threading.Thread(target=watchdog, daemon=True).start()
    real = workers_module.read_proposals

    def slow_listing(store):  # type: ignore[no-untyped-def]
        release.wait()  # the listing of a long queue takes as long as the test wants
        return real(store)

    monkeypatch.setattr(view_module, "read_proposals", slow_listing)
    monkeypatch.setattr(workers_module, "read_proposals", slow_listing)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help screen while the queue is being read")
        assert not held_too_long.is_set(), "the first frame waited for the listing of the whole queue"
        await pilot.press("escape")
        release.set()
        await wait_for(pilot, lambda: app.main.queue.row_count == n, timeout=120, what="every proposal in the queue")
        await wait_for(
            pilot,
            lambda: (
                "✓ ok" in app.main.queue.get_row_at(0)[4].plain
                or "✓ ok*" in app.main.queue.get_row_at(0)[4].plain
                or "✗" in app.main.queue.get_row_at(0)[4].plain
            ),
            timeout=120,
            what="the first proposal checked",
        )
        assert notices(app, "new proposals") == 0 and notices(app, "New proposal") == 0
    assert not held_too_long.is_set()
