"""The cockpit's poller, its decision thread and its workers read one ledger at once: that must never read as tampering."""

from __future__ import annotations

import threading
from pathlib import Path

from omni_tui.core.audit import AuditLog
from omni_tui.core.ledger import Ledger


def test_readers_on_several_threads_never_see_a_broken_chain_while_entries_are_appended(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", external_head=tmp_path / "outside" / "head.json")
    ledger = Ledger(log, tmp_path / "objects")
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set() and not problems:
            problem = ledger.chain_problem(state_exists=False)
            if problem:
                problems.append(problem)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for n in range(600):
            state = {"decisions/p.json": f"{n:064x}"} if n % 3 == 0 else None
            log.append("proposed", who="agent", proposal_id=f"p{n}", state=state)
            if problems:
                break
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert problems == []
    assert ledger.chain_problem(state_exists=False) is None
    assert ledger.entries == 600
    assert ledger.latest("decisions/p.json") == frozenset([f"{597:064x}"])
