"""Desktop notifications through the terminal, seen where a terminal would see them: the real cockpit
runs in a tmux pane whose raw output (`tmux pipe-pane`, the bytes the program writes, before tmux reads
them) goes to a file. A new proposal with escape sequences in its title raises OSC 9 and OSC 777,
wrapped for tmux passthrough, only when `[notify] terminal` enables them — and the agent's escapes never
get into them."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from test_tmux import REBUILD, Pane, _command, _quote, _wait

pytestmark = pytest.mark.tmux

TITLE = "add jq \x1b]0;pwned\x07\x1b[2J \u202etxt.exe now"


def start_in_tmux(pane: Pane, project: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    # env -i keeps the pane clean, but passes tmux's own $TMUX on, as a person's shell would have it.
    program = " ".join(
        ["env", "-i", *(_quote(f"{k}={v}") for k, v in env.items()), 'TMUX="$TMUX"', *map(_quote, [*_command(), str(project)])]
    )
    pane.tmux("-f", "/dev/null", "new-session", "-d", "-s", "cockpit", "-x", "120", "-y", "34", "-c", str(project), program)
    raw = tmp_path / "pane.raw"
    raw.touch()
    pane.tmux("pipe-pane", "-o", "-t", "cockpit", f"cat >> {_quote(str(raw))}")
    return raw


def passthrough_payloads(data: bytes) -> list[bytes]:
    """The sequences inside each `ESC P tmux; … ESC \\` (every ESC inside doubled), undoubled."""
    found = []
    start = data.find(b"\x1bPtmux;")
    while start >= 0:
        i, out = start + len(b"\x1bPtmux;"), bytearray()
        while i + 1 < len(data):
            if data[i] == 0x1B and data[i + 1] == 0x1B:
                out.append(0x1B)
                i += 2
            elif data[i] == 0x1B and data[i + 1] == ord("\\"):
                found.append(bytes(out))
                break
            else:
                out.append(data[i])
                i += 1
        start = data.find(b"\x1bPtmux;", i)
    return found


def propose(project: Path) -> None:
    new = (project / "devenv.nix").read_text().replace("pkgs.jq ]", "pkgs.jq pkgs.redis ]")
    (project / "proposed.nix").write_text(new)
    done = subprocess.run(
        [
            *_command(),
            "propose",
            "-C",
            str(project),
            "devenv.nix",
            "--new-content",
            str(project / "proposed.nix"),
            "--title",
            TITLE,
            "--why",
            "a cache",
            "--agent",
            "claude\x1b[31m",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("setting, shown", [("on", True), ("off", False), ("auto", False)])
def test_osc_notifications_reach_the_pane_only_when_enabled_and_carry_no_agent_escapes(
    need_tmux: None, project: Path, tmp_path: Path, setting: str, shown: bool
) -> None:
    """(`auto` in a plain xterm-256color under tmux: the terminal does not say it shows them.)"""
    (project / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "{REBUILD}"\n\n[notify]\nterminal = "{setting}"\n')
    pane = Pane(f"omni-tui-notify-{uuid.uuid4().hex[:8]}")
    try:
        raw = start_in_tmux(pane, project, tmp_path)
        pane.wait_for("CLEAN")
        propose(project)
        pane.wait_for("1 PENDING")
        pane.wait_for("add jq")
        data = raw.read_bytes()
        if shown:
            _wait(lambda: b"\x1b\x1b]777;notify;" in raw.read_bytes(), "the OSC 777 notification in the raw output", pane=pane)
            data = raw.read_bytes()
            osc = [w for w in passthrough_payloads(data) if b"]9;" in w or b"]777;" in w]
            assert len(osc) == 2, data[-2000:]
            nine, seven = osc
            assert nine.startswith(b"\x1b]9;omni-tui: proposal waiting: ") and nine.endswith(b"\x1b\\")
            assert seven.startswith(b"\x1b]777;notify;omni-tui: proposal waiting;") and seven.endswith(b"\x1b\\")
            for sequence in osc:
                inside = sequence[1:-2].decode("utf-8")  # between the ESC that opens and the ST that closes
                assert inside.isprintable(), inside
                assert "\x07" not in inside and "\u202e" not in inside and "\x9b" not in inside
                assert "add jq" in inside and "\\x1b" in inside  # the agent's ESC shown, not sent
        else:
            # The proposal is on screen, so its notification would have been written by now.
            assert b"]9;" not in data and b"]777;" not in data
        pane.keys("q")
    finally:
        pane.kill()
