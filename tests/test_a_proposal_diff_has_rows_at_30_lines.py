"""A terminal of 30 rows (100x30, 120x30) still shows a proposal's diff: with a change card of several
lines and a long "why", the detail gave the diff no row at all there — the demo's first proposal showed
its card, its why and its checks, and not one line of what it changes. Under 34 rows the cockpit now
lays out as a short terminal (80x24) does: the why on one line, the top row taller."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import cockpit, open_workspace, propose_now, screen_text, wait_for

WHY = " ".join(f"Reason {n}: the worker moves its job queue to Redis lists, so every developer needs one." for n in range(1, 6))


@pytest.mark.parametrize("size", [(100, 30), (120, 30), (100, 33)])
async def test_the_proposals_diff_gets_rows_beside_a_long_card_and_why(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    nix = (project / "devenv.nix").read_text()
    new = nix.replace("pkgs.jq", "pkgs.jq pkgs.ripgrep").replace(
        '  env.GREET = "hello";\n',
        '  env.GREET = "hello";\n  env.REDIS_URL = "redis://127.0.0.1:6379";\n\n  services.redis.enable = true;\n',
    )
    propose_now(project, "devenv.nix", new, title="Add ripgrep and a local Redis", why=WHY)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: "services" in screen_text(app) and "Why:" in screen_text(app), what="the card and the why")
        await wait_for(pilot, lambda: "+   services.redis.enable = true;" in screen_text(app), what="the diff's added line")
        assert app.detail.diff.size.height >= 4, app.detail.diff.size
