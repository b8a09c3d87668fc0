"""`[keys]` cannot give an action a key the cockpit keeps for itself — ctrl+c (it copies, or says how
to quit), ctrl+p (the command palette), ctrl+q (quit): `approve = "ctrl+c"` was accepted, and approve
then had no key at all (it vanished from the footer; ctrl+c still only said how to quit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import cockpit, open_workspace, screen_text, wait_for

from omni_tui.core.errors import ConfigError
from omni_tui.ui.keys import keymap_from_config


@pytest.mark.parametrize(
    ("key", "what"),
    [("ctrl+c", "copies text, or says how to quit"), ("ctrl+p", "opens the command palette"), ("ctrl+q", "quits")],
)
def test_a_key_the_cockpit_keeps_is_refused_naming_what_it_does(key: str, what: str) -> None:
    with pytest.raises(ConfigError) as refused:
        keymap_from_config({"approve": key})
    assert str(refused.value) == f"[keys] approve: {key!r} is the cockpit's own ({key} {what}); choose another key"


def test_quit_may_keep_ctrl_q_and_other_keys_still_remap() -> None:
    assert keymap_from_config({"quit": "ctrl+q", "approve": "ctrl+y"}) == {"quit": "ctrl+q", "approve": "ctrl+y"}


async def test_the_cockpit_refuses_to_start_with_a_key_it_keeps(project: Path) -> None:
    ws = open_workspace(project, extra='[keys]\napprove = "ctrl+c"\n')
    with pytest.raises(ConfigError, match="ctrl\\+c"):
        app = cockpit(ws)
        async with app.run_test(size=(120, 34)) as pilot:
            await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
