"""The workspace watcher lists the proposals again for what can change them or the gate (proposals,
decisions, quarantine, the lock and gate files), not for the folders the cockpit itself fills beside them:
the content caches, who has a cockpit open, the notifications sent. The first check of a fresh workspace
creates `cache/`, and a queue of 10,000 was listed again for it beside its first listing."""

from __future__ import annotations

from pathlib import Path

from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace
from omni_tui.ui.workers import WorkspaceWatcher


def test_the_state_folders_own_caches_are_not_a_proposal_change(project: Path) -> None:
    ws = Workspace.open(project, env={}, cwd=project)
    watcher = WorkspaceWatcher(object(), ws, Gate(ws), ProposalStore(ws))  # type: ignore[arg-type]
    paths = ws.paths
    for path in (paths.proposals / "p1.json", paths.decisions / "p1.json", paths.quarantine / "bad.json", paths.lock, paths.gate_state):
        assert watcher.classify(str(path)) == "state", path
    assert watcher.classify(str(project / "devenv.nix")) == "file"
    for name in ("cache", "presence", "notified", ".gate.json.tmp"):
        assert watcher.classify(str(paths.state / name)) is None, name
    assert watcher.classify(str(paths.state / "cache" / "validation" / "abc")) is None
