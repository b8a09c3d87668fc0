"""The served cockpit in a real browser: Debian's chromium, headless, driven over the DevTools protocol
(tests/cdp.py). A person opens the URL `omni-tui serve` printed, names themself once in the page, sees
the pending proposal, approves it with the keyboard — and the decision on disk says who, `via: web`.

The page's screen is read from what its websocket received (xterm.js draws on a canvas); every wait is
for something on the page or on disk, with generous upper bounds. A screenshot lands in the test's
tmp_path (its path is printed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from app_harness import FAST_REBUILD, propose_now
from cdp import Browser
from test_serve_refuses_without_token import Served, start_serve, stop_serve

from omni_tui.core.presence import announce, present

pytestmark = pytest.mark.browser

NEW_LINE = "packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];"


def with_ripgrep(project: Path) -> str:
    return (project / "devenv.nix").read_text().replace("packages = [ pkgs.git pkgs.jq ];", NEW_LINE, 1)


async def test_a_person_in_a_browser_approves_with_the_keyboard_and_the_decision_says_via_web(
    project: Path, tmp_path: Path, need_chromium: str
) -> None:
    (project / "omni-tui.toml").write_text(f"[rebuild]\ncommand = {json.dumps(FAST_REBUILD)}\n")
    pid = propose_now(project, "devenv.nix", with_ripgrep(project), title="add ripgrep for the search task", agent="claude")
    # carol has the cockpit open in her terminal (a live process announced in the presence registry).
    carol = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    announce(project / ".devenv" / "omni", "carol", "terminal", pid=carol.pid)
    served: Served = start_serve(project, tmp_path)
    browser = Browser(need_chromium, tmp_path / "chromium-profile")
    try:
        await browser.start()
        await browser.navigate(served.url)
        # Asked once: the page wants a name before it opens a cockpit.
        await browser.wait_for(lambda: browser.evaluate("!!document.getElementById('who')"), "the name form")
        await browser.evaluate("document.getElementById('who').value = 'alice';document.getElementById('name-form').requestSubmit(); true")
        await browser.wait_for(lambda: browser.evaluate("!!document.querySelector('.xterm-helper-textarea')"), "the terminal")
        seen = await browser.wait_for_text("add ripgrep for the search task", timeout=120)
        await browser.wait_for_text("PENDING", timeout=120)
        # A pair sees each other: carol in alice's header, alice's browser cockpit in the registry as web.
        await browser.wait_for_text("also open: carol (terminal)", timeout=120)
        web = [p for p in present(project / ".devenv" / "omni") if p.via == "web"]
        assert [p.who for p in web] == ["alice"]
        await browser.evaluate("document.querySelector('.xterm-helper-textarea').focus(); true")
        shot = await browser.screenshot(tmp_path / "served-cockpit.png")
        print(f"screenshot of the served cockpit: {shot}")

        await browser.press("a")
        seen = await browser.wait_for_text("Will run", since=seen, timeout=60)
        await browser.press("y")

        decision_file = project / ".devenv" / "omni" / "decisions" / f"{pid}.json"

        def decided() -> dict[str, object] | None:
            try:
                doc = json.loads(decision_file.read_text())
            except (OSError, ValueError):
                return None
            return doc if doc.get("status") == "applied" else None

        doc = await browser.wait_for(decided, "the applied decision on disk", timeout=120)
        assert doc["who"] == "alice" and doc["via"] == "web"
        assert NEW_LINE in (project / "devenv.nix").read_text()
        audit = [json.loads(line) for line in (project / ".devenv" / "omni" / "audit.jsonl").read_text().splitlines()]
        approved = [e for e in audit if e["proposal_id"] == pid and e["event"] == "approved"]
        assert approved and approved[0]["who"] == "alice" and approved[0]["via"] == "web"
        await browser.wait_for_text("CLEAN", since=seen, timeout=120)  # the header, once the rebuild is done
        await browser.wait_for_text("applied by alice (web)", since=seen, timeout=60)
        final = await browser.screenshot(tmp_path / "served-cockpit-applied.png")
        print(f"screenshot after approving: {final}")
    finally:
        await browser.close()
        stop_serve(served)
        carol.kill()
        carol.wait()
