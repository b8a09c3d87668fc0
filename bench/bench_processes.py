"""Benchmark of the psutil process backend: one refresh of a project running 300 processes.

Spawns 300 real sleeping processes (plus 5 listening servers), started by a process manager (a program
named `honcho`, as devenv's detached managers run them) in a temp project, then measures
- the warm-up refresh (first sight of every process: environment and cwd read once each);
- steady refreshes of `ProjectScanner.scan()` (p50/p95 wall time, CPU time per refresh), and the
  CPU % of one core it costs at one refresh per second;
- **the refresh a person sees**: scan + `ProcessTable.update()` of the cockpit's table in a headless
  Textual app, with the scanner's periodic work brought due as at one refresh per second (the 30 s
  re-read of every process's sockets, spread by pid, and the 5 s re-read of the machine's other
  processes), so it is in the figures: p50, p95 and mean; the collector set as the cockpit sets it
  after its first frame (`gc.freeze()`, young generation 10,000);
- baselines measured in the same run on the same processes:
  * naive-all: a fresh `psutil.process_iter()` reading every attribute (`as_dict()`) each time, then
    filtering by DEVENV_ROOT / cwd, as the brief's naive baseline;
  * naive-needed: a fresh `psutil.process_iter(attrs=[...])` of only the attributes the scan needs, plus
    `net_connections()` for the project's processes.

Run: `.venv/bin/python bench/bench_processes.py [--procs N] [--runs N]`. No asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from omni_tui.core.processes.scan import ProjectScanner

SERVER = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); time.sleep(3600)"


def spawn(root: Path, n: int, servers: int) -> list[subprocess.Popen[bytes]]:
    """A manager (named honcho) running `n` sleeping processes and `servers` listening ones."""
    env = {**os.environ, "DEVENV_ROOT": str(root)}
    manager = root.parent / "bin" / "honcho"
    manager.parent.mkdir(exist_ok=True)
    manager.write_text(
        f"#!{sys.executable}\nimport subprocess, sys, time\n"
        f"kids = [subprocess.Popen(['sleep', '3600']) for _ in range({n})]\n"
        f"kids += [subprocess.Popen([sys.executable, '-c', {SERVER!r}]) for _ in range({servers})]\n"
        "time.sleep(3600)\n"
    )
    manager.chmod(0o755)
    return [subprocess.Popen([str(manager)], cwd=root, env=env, start_new_session=True)]


async def with_table(scanner: ProjectScanner, runs: int) -> tuple[list[float], list[float], list[float]]:
    """(scan, table update, both) CPU seconds per refresh, the periodic re-reads due as at 1 refresh/s."""
    import asyncio

    from textual.app import App, ComposeResult

    from omni_tui.core.processes.model import ProcessSnapshot
    from omni_tui.ui.widgets.process_table import ProcessTable

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield ProcessTable(id="t")

    import omni_tui.core.processes.scan as scan_module
    import omni_tui.core.processes.services as services_module

    class Clock:
        """`time` for the scanner's modules, `offset` seconds ahead of the real clock."""

        offset = 0.0

        def monotonic(self) -> float:
            return time.monotonic() + self.offset

        def time(self) -> float:
            return time.time() + self.offset

    clock = Clock()
    scan_module.time = services_module.time = clock  # type: ignore[assignment]
    scans, updates, totals = [], [], []
    app = Bench()
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        table = app.query_one(ProcessTable)
        table.update(ProcessSnapshot("psutil", tuple(scanner.scan())))
        await pilot.pause(0.2)
        # As the cockpit does once its first frame is drawn (`Background.start`): what it built lives as
        # long as it does, frozen out of the cyclic collector's walks; a larger young generation.
        import gc

        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        for _ in range(runs):
            # As at one refresh per second (the cockpit's interval; the bench waits 0.1 s): the
            # scanner's clock moves on 0.9 s more, so the periodic work keyed on time comes due as it
            # would — each process's socket re-read (every 30 s, spread by pid), the re-read of the
            # machine's other processes (5 s), the port probes (15 s).
            clock.offset += 0.9
            c0 = time.process_time()
            rows = scanner.scan()
            c1 = time.process_time()
            table.update(ProcessSnapshot("psutil", tuple(rows)))
            c2 = time.process_time()
            scans.append(c1 - c0)
            updates.append(c2 - c1)
            totals.append(c2 - c0)
            await asyncio.sleep(0.1)  # frames are drawn in between, as at 1 refresh per second
        app.exit()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    scan_module.time = services_module.time = time  # type: ignore[assignment]
    return scans, updates, totals


def timed(fn: Callable[[], object], runs: int, pause: float = 0.0) -> tuple[list[float], list[float], object]:
    walls, cpus, last = [], [], None
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        last = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        if pause:
            time.sleep(pause)
    return walls, cpus, last


def naive_all(root: str) -> list[dict[str, object]]:
    psutil.process_iter.cache_clear()
    found = []
    for p in psutil.process_iter():
        try:
            d = p.as_dict()
        except psutil.Error:
            continue
        env = d.get("environ") or {}
        cwd = d.get("cwd") or ""
        if env.get("DEVENV_ROOT") == root or cwd == root or str(cwd).startswith(root + "/"):
            found.append(d)
    return found


NEEDED = ["pid", "ppid", "name", "environ", "cwd", "cpu_percent", "memory_info", "create_time", "cmdline", "status"]


def naive_needed(root: str) -> list[dict[str, object]]:
    psutil.process_iter.cache_clear()
    found = []
    for p in psutil.process_iter(attrs=NEEDED):
        d = p.info
        env = d.get("environ") or {}
        cwd = d.get("cwd") or ""
        if env.get("DEVENV_ROOT") == root or cwd == root or str(cwd).startswith(root + "/"):
            try:
                d["ports"] = [c.laddr.port for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
            except psutil.Error:
                d["ports"] = []
            found.append(d)
    return found


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    return f"p50 {statistics.median(xs) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=300)
    ap.add_argument("--servers", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--naive-runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="omni-bench-") as tmp:
        root = Path(tmp).resolve() / "proj"
        root.mkdir()
        procs = spawn(root, args.procs, args.servers)
        try:
            time.sleep(2.0)
            total = len(psutil.pids())
            print(f"{args.procs} sleeping + {args.servers} listening processes in {root}; {total} processes on the machine")
            scanner = ProjectScanner(root)
            w0, c0 = time.perf_counter(), time.process_time()
            rows = scanner.scan()
            print(
                f"warm-up refresh:   {(time.perf_counter() - w0) * 1000:7.1f} ms wall, "
                f"{(time.process_time() - c0) * 1000:7.1f} ms CPU, {len(rows)} rows"
            )
            walls, cpus, rows = timed(scanner.scan, args.runs, pause=0.05)
            with_ports = sum(1 for r in rows if r.ports)  # type: ignore[union-attr]
            print(
                f"steady refresh:    {ms(walls)}  (CPU {statistics.median(cpus) * 1000:.1f} ms; {len(rows)} rows, {with_ports} with ports)"
            )  # type: ignore[arg-type]
            cpu_core = statistics.median(cpus) / 1.0 * 100
            print(f"at 1 refresh/s:    {cpu_core:.1f}% of one core")
            nw, nc, found = timed(lambda: naive_needed(str(root)), args.naive_runs)
            print(f"naive-needed:      {ms(nw)}  ({len(found)} found)")  # type: ignore[arg-type]
            aw, ac, found = timed(lambda: naive_all(str(root)), args.naive_runs)
            print(f"naive-all:         {ms(aw)}  ({len(found)} found)")  # type: ignore[arg-type]
            ours = statistics.median(walls)
            print(f"ratio naive-needed / ours: {statistics.median(nw) / ours:6.1f}x")
            print(f"ratio naive-all / ours:    {statistics.median(aw) / ours:6.1f}x")
            print(f"budget: one refresh uses {ours * 100:.1f}% of the 1 s refresh interval")
            import asyncio

            scans, updates, totals = asyncio.run(with_table(scanner, args.runs))

            def cpu(xs: list[float]) -> str:
                ys = sorted(xs)
                p95 = ys[min(len(ys) - 1, int(round(0.95 * (len(ys) - 1))))]
                return (
                    f"p50 {statistics.median(ys) * 1000:5.2f} ms  p95 {p95 * 1000:5.2f} ms  mean {statistics.fmean(ys) * 1000:5.2f} ms CPU"
                )

            print("refresh a person sees (periodic re-reads due as at 1 refresh/s):")
            print(f"  scan:               {cpu(scans)}")
            print(f"  table update:       {cpu(updates)}")
            print(f"  scan + table:       {cpu(totals)}   (target < 5 ms)")
            print(f"  ratio naive-needed scan / ours (scan + table): {statistics.median(nc) / statistics.median(totals):.1f}x (CPU)")
        finally:
            for p in procs:
                try:
                    os.killpg(p.pid, signal.SIGKILL)  # the manager's session: its children too
                except ProcessLookupError:
                    pass
            for p in procs:
                p.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
