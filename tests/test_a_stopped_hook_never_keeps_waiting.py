"""A hook that gets SIGTERM while it waits for the person withdraws its proposal and exits — even when
Python raised the signal's exception somewhere that discarded it (a hook once kept waiting in CI).

The hook runs in a child process of its own: stop handlers are process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
WAIT = 60  # generous: a loaded 2-core machine

# The child swallows the first SIGTERM's exception on purpose, the way a C call that clears errors
# would, then proposes and waits as a hook does. The wait must end by itself, withdrawn.
CHILD = r"""
import json, os, signal, sys, time
from pathlib import Path
from omni_tui.agents.gatekeep import Change, Stopped, install_stop_handlers, propose_and_wait
from omni_tui.core.workspace import Workspace

ws = Workspace.open(Path(sys.argv[1]), env={})
install_stop_handlers()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
    print(json.dumps({"outcome": "the signal never arrived"}))
    sys.exit(0)
except BaseException:
    pass  # swallowed, as by C code that clears every error
old = (ws.root / "devenv.nix").read_bytes()
started = time.monotonic()
try:
    answer = propose_and_wait(
        ws, [Change("devenv.nix", old, old.decode() + "# more\n")], agent="claude-code", title="t", rationale="r", timeout_s=30
    )
    print(json.dumps({"outcome": "answered", "status": answer.status}))
except Stopped as stop:
    print(json.dumps({"outcome": "stopped", "signal": stop.name, "withdrawn": stop.withdrawn, "after_s": time.monotonic() - started}))
"""


def test_a_stop_signal_whose_exception_was_swallowed_still_ends_the_wait(project: Path) -> None:
    ws = Workspace.open(project, env={})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project)],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "stopped" and result["signal"] == "SIGTERM" and result["withdrawn"] is True
    assert time.monotonic() - started < 25  # not the 30 s timeout: it ended at its first poll
    (entry,) = ProposalStore(ws).entries()
    assert entry.status == "withdrawn"
    assert entry.decision is not None
    assert entry.decision.reason == "the Claude Code hook was stopped by SIGTERM before a decision"
