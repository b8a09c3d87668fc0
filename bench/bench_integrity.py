"""Benchmark of the audit-chain checks (core/ledger.py): what checking every decision and baseline costs.

A project with N decided proposals (half rejected, so ~1.5·N audit entries vouching for decision files)
and the figures a person feels:
- the first read of the log by a fresh process (the ledger folds every entry once: JSON + sha256);
- `Gate.forgeries()` once the ledger is current (what every gate state / poll pays: stats, dict look-ups);
- the same after one new entry (the incremental read: only the appended bytes);
- `Gate.state()` with and without the checks (the share of the checks in a header refresh).
Usage: `python bench/bench_integrity.py [N]` (default 2000; about 20 s).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(count: int) -> None:
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="bench-state-")
    root = Path(tempfile.mkdtemp(prefix="bench-integrity-")) / "proj"
    root.mkdir()
    (root / "devenv.nix").write_text("{ pkgs, ... }: { packages = [ pkgs.git ]; }\n")

    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.core.workspace import Workspace

    ws = Workspace.open(root)
    store = ProposalStore(ws)
    gate = Gate(ws, who="bench")
    for index in range(count):
        proposal = store.create(
            {"devenv.nix": f"{{ pkgs, ... }}: {{ packages = [ pkgs.p{index} ]; }}\n"}, title=f"p{index}", rationale="r", agent="bench"
        )
        if index % 2:
            gate.reject(proposal.id, "no")
    size = ws.audit.path.stat().st_size
    entries = len(ws.audit.entries())

    fresh = Workspace.open(root)
    fresh.ledger._reset()  # as a fresh process finds it (opening the workspace already read the log)
    started = time.perf_counter()
    fresh.ledger.refresh()
    first = time.perf_counter() - started

    fresh_gate = Gate(fresh)
    listing = fresh_gate.store.entries()
    samples = []
    for _ in range(30):
        started = time.perf_counter()
        fresh_gate.forgeries(listing)
        samples.append(time.perf_counter() - started)
    steady = statistics.median(samples)

    gate.reject(store.create({"devenv.nix": "{ pkgs, ... }: { }\n"}, title="x", rationale="r", agent="bench").id, "no")
    started = time.perf_counter()
    fresh.ledger.refresh()
    incremental = time.perf_counter() - started

    original = fresh_gate.forgeries
    with_list, without_list = [], []
    for _ in range(7):  # alternating, so load on the machine hits both alike
        with_list.append(_timed(fresh_gate.state))
        fresh_gate.forgeries = lambda entries=None: []  # type: ignore[method-assign]
        without_list.append(_timed(fresh_gate.state))
        fresh_gate.forgeries = original  # type: ignore[method-assign]
    with_checks, without = statistics.median(with_list), statistics.median(without_list)

    print(f"{count} proposals, {entries} audit entries ({size / 1e6:.1f} MB)")
    print(f"first read of the log (fresh process): {first * 1e3:.1f} ms")
    print(f"forgeries() with a current ledger:     {steady * 1e3:.2f} ms (median of 30)")
    print(f"incremental read of one new entry:     {incremental * 1e3:.2f} ms")
    print(
        f"Gate.state(): {with_checks * 1e3:.1f} ms with the checks, {without * 1e3:.1f} ms without "
        f"(+{(with_checks - without) * 1e3:.1f} ms)"
    )


def _timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
