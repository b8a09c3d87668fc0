"""Shared fixtures: temp devenv workspaces, and the rule that a missing Nix/tmux fails under CI."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

SAMPLE_DEVENV_NIX = """{ pkgs, lib, config, ... }:

{
  env.GREET = "hello";

  packages = [ pkgs.git pkgs.jq ];

  languages.python.enable = true;

  processes.web.exec = "python -m http.server 8000";

  enterShell = ''
    echo "$GREET from devenv"
  '';
}
"""


def _require(tool: str, env_var: str) -> None:
    if shutil.which(tool):
        return
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{tool} is required ({env_var}=1) but is not on PATH")
    pytest.skip(f"{tool} is not installed (set {env_var}=1 to make this a failure)")


@pytest.fixture
def need_nix() -> None:
    """Skip without nix-instantiate/nix-build, or fail when OMNI_TUI_REQUIRE_NIX=1 (CI)."""
    _require("nix-instantiate", "OMNI_TUI_REQUIRE_NIX")
    _require("nix-build", "OMNI_TUI_REQUIRE_NIX")


@pytest.fixture
def need_tmux() -> None:
    _require("tmux", "OMNI_TUI_REQUIRE_TMUX")


CLAUDE_BIN = Path(__file__).resolve().parent.parent / ".npm-tools" / "node_modules" / ".bin" / "claude"


@pytest.fixture
def need_claude() -> Path:
    """The pinned Claude Code CLI that scripts/setup installs into .npm-tools/; skips without it, fails when
    OMNI_TUI_REQUIRE_AGENTS=1 (CI)."""
    if CLAUDE_BIN.exists() and os.access(CLAUDE_BIN, os.X_OK):
        return CLAUDE_BIN
    if os.environ.get("OMNI_TUI_REQUIRE_AGENTS") == "1":
        pytest.fail(f"OMNI_TUI_REQUIRE_AGENTS=1 but {CLAUDE_BIN} is missing (run scripts/setup)")
    pytest.skip("the Claude Code CLI is not installed in .npm-tools/ (scripts/setup installs it)")


INSPECTOR_BIN = Path(__file__).resolve().parent.parent / ".npm-tools" / "node_modules" / ".bin" / "mcp-inspector"


@pytest.fixture
def need_inspector() -> Path:
    """The pinned MCP Inspector CLI (scripts/setup installs it into .npm-tools/); fails when OMNI_TUI_REQUIRE_AGENTS=1 (CI)."""
    if INSPECTOR_BIN.exists() and os.access(INSPECTOR_BIN, os.X_OK):
        return INSPECTOR_BIN
    if os.environ.get("OMNI_TUI_REQUIRE_AGENTS") == "1":
        pytest.fail(f"OMNI_TUI_REQUIRE_AGENTS=1 but {INSPECTOR_BIN} is missing (run scripts/setup)")
    pytest.skip("the MCP Inspector CLI is not installed in .npm-tools/ (scripts/setup installs it)")


@pytest.fixture
def need_bwrap() -> None:
    """bubblewrap installed and able to create a sandbox here; a failure when OMNI_TUI_REQUIRE_SANDBOX=1 (CI)."""
    _require("bwrap", "OMNI_TUI_REQUIRE_SANDBOX")
    from omni_tui.core.sandbox import SandboxError, check_bwrap

    try:
        check_bwrap(shutil.which("bwrap") or "bwrap")
    except SandboxError as exc:
        if os.environ.get("OMNI_TUI_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"OMNI_TUI_REQUIRE_SANDBOX=1: {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def need_chromium() -> str:
    """Debian's chromium (headless, driven over CDP by tests/cdp.py): its path. Skips without it, fails
    when OMNI_TUI_REQUIRE_BROWSER=1 (CI)."""
    _require("chromium", "OMNI_TUI_REQUIRE_BROWSER")
    return shutil.which("chromium") or "chromium"


@pytest.fixture
def builtin_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`e` opens the cockpit's own editor: no $VISUAL or $EDITOR to hand the terminal to."""
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)


@pytest.fixture(autouse=True)
def _private_state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The audit chain's head kept outside the project ($XDG_STATE_HOME/omni-tui/heads) goes to a tmp dir, never the real home."""
    state_home = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    return state_home


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway devenv project root with a realistic devenv.nix; env vars that would redirect it are cleared."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "devenv.nix").write_text(SAMPLE_DEVENV_NIX)
    for var in ("DEVENV_ROOT", "DEVENV_DOTFILE", "DEVENV_RUNTIME", "DEVENV_STATE", "PC_SOCKET_PATH", "PC_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return root


if os.environ.get("OMNI_TUI_JITTER"):
    # Race hunting: every Textual message waits a random few milliseconds before it is handled, so
    # the order of widgets, workers and timers shuffles the way a loaded CI machine shuffles it.
    # `OMNI_TUI_JITTER=0.004 scripts/test tests/test_app_flow.py` — never set in CI.
    import asyncio
    import random

    from textual.message_pump import MessagePump

    _dispatch = MessagePump._dispatch_message
    _most = float(os.environ["OMNI_TUI_JITTER"])

    async def _jittered(self, message):  # type: ignore[no-untyped-def]
        await asyncio.sleep(random.uniform(0, _most))
        return await _dispatch(self, message)

    MessagePump._dispatch_message = _jittered  # type: ignore[method-assign]


@pytest.fixture
def cockpit():
    """Builds a cockpit on a workspace (`app_harness.cockpit`: process polling off unless asked)."""
    from app_harness import cockpit as build

    return build


class ScanClock:
    """The process scanner's clock, moved by hand: `at` is its monotonic time; its wall time moves with it."""

    def __init__(self) -> None:
        self.at = self.start = time.monotonic()

    def monotonic(self) -> float:
        return self.at

    def time(self) -> float:
        return time.time() + (self.at - self.start)


@pytest.fixture
def scan_clock(monkeypatch: pytest.MonkeyPatch) -> ScanClock:
    """Every process refresh's "now" in the test's hands (periodic re-reads come due when it says)."""
    import omni_tui.core.processes.scan as scan_module

    moved = ScanClock()
    monkeypatch.setattr(scan_module, "time", moved)
    return moved


# The JSON keys of one process in `status --json` and `ProcessInfo.to_dict`, in the documented order
# (docs/processes.md). Written out, not derived from the model: the tests pin what agents read.
DOCUMENTED_PROCESS_KEYS = (
    "name",
    "backend",
    "state",
    "raw_state",
    "pid",
    "cpu_percent",
    "rss",
    "uptime_s",
    "restarts",
    "ports",
    "ready",
    "port_checks",
    "service",
    "command",
    "exit_code",
)
