"""A person at a cockpit, as a separate process: waits for the first pending proposal and decides it through the Gate.

Used by tests/test_claude_code_hook.py and tests/test_mcp_server.py to prove the cross-process
path (agent process ⇄ files in the state dir ⇄ deciding process).

    python tests/agents_decider.py ROOT approve|fail|reject|edit [ARG]

approve: approve with a rebuild that succeeds; fail: with a rebuild that exits 1 (auto rollback);
reject: reject with ARG as the reason; edit: approve ARG as the person's edited content.
Prints one JSON line: the proposal (id, agent, title, rationale, paths), the guarded file's bytes
as they were on disk just before deciding, and the resulting decision status.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.workspace import Workspace


def main() -> int:
    root, action = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else ""
    ws = Workspace.open(root, env={})
    store = ProposalStore(ws)
    deadline = time.monotonic() + 60
    while not (pending := store.pending()):
        if time.monotonic() > deadline:
            print(json.dumps({"error": "no pending proposal within 60 s"}), flush=True)
            return 1
        time.sleep(0.05)
    proposal = pending[0].proposal
    before = {path: (ws.read_current(path) or b"").decode() for path in proposal.paths}
    gate = Gate(ws, who="alice")

    def ok() -> RebuildOutcome:
        return RebuildOutcome(0, 0.2, None, ("building '/nix/store/xyz-devenv-shell.drv'...", "done"))

    def broken() -> RebuildOutcome:
        return RebuildOutcome(1, 0.3, None, ("error: attribute 'postgress' missing", "at devenv.nix:5:34"))

    if action == "approve":
        decision = gate.approve(proposal.id, rebuild=ok)
    elif action == "fail":
        decision = gate.approve(proposal.id, rebuild=broken)
    elif action == "reject":
        decision = gate.reject(proposal.id, arg)
    elif action == "edit":
        decision = gate.approve(proposal.id, rebuild=ok, edited={proposal.paths[0]: arg})
    else:
        raise SystemExit(f"unknown action {action!r}")
    print(
        json.dumps(
            {
                "id": proposal.id,
                "agent": proposal.agent,
                "title": proposal.title,
                "rationale": proposal.rationale,
                "paths": proposal.paths,
                "before": before,
                "status": decision.status,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
