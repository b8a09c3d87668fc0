"""Benchmark of the live diff: a write to devenv.nix → the new line drawn in the Changes panel.

DESIGN.md §7: "a write to devenv.nix → diff on screen: p95 under 150 ms".

The real `CockpitApp` runs headless (120x40) on a temp devenv project with its real watcher
(inotify on the directories: close-write and rename) and its real 1 s process polling, with a
CPU-bound process running beside it (`--no-hog` to leave it out) — an agent's build or test run. The bench writes devenv.nix N times, each time with
a different added line (`env.BENCH_N = "w0007";`), the way an editor or an agent writes it (truncate
and write in place), and stops the clock when a frame the app sends to its driver contains that
line's text: every frame (`App._display`) is rendered to the terminal bytes a real terminal would get
(Textual skips only that last step when headless), escape sequences removed, and searched.
Breakdown: write → watcher woken (inotify + debounce), watcher → frame (read, diff, render).

Baseline, same run, same files, same hog: a bare `watchfiles.awatch` with watchfiles' step/debounce
settings the cockpit used before (15/60 ms), write → change reported.

Run: `.venv/bin/python bench/bench_change_latency.py [--writes N]`. No asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sample_project import DEVENV_NIX  # bench/ is on sys.path when a bench runs

TARGET_MS = 50.0  # issue 15: p95 under 50 ms with a CPU hog beside the cockpit
CSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def version(i: int) -> tuple[str, str]:
    """The i-th content written, and the marker text its diff shows."""
    marker = f"w{i:04d}"
    return DEVENV_NIX.replace("{\n  env.GREET", f'{{\n  env.BENCH_N = "{marker}";\n  env.GREET', 1), marker


def write_in_place(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def row(label: str, xs: list[float]) -> str:
    return f"{label:<28} p50 {statistics.median(xs):6.1f} ms  p95 {pct(xs, 0.95):6.1f} ms  max {max(xs):6.1f} ms  (n={len(xs)})"


async def bare_watch(root: Path, writes: int, pause_s: float) -> list[float]:
    """Write → `awatch` reports it, with the cockpit's watcher settings."""
    from watchfiles import awatch

    from omni_tui.ui.workers import WATCH_DEBOUNCE_MS, WATCH_STEP_MS

    path = root / "devenv.nix"
    stop = asyncio.Event()
    seen: asyncio.Queue[float] = asyncio.Queue()

    async def watch() -> None:
        async for _changes in awatch(
            root,
            step=WATCH_STEP_MS,
            debounce=WATCH_DEBOUNCE_MS,
            recursive=False,
            stop_event=stop,
            rust_timeout=1000,
            watch_filter=lambda _c, p: p == str(path),
        ):
            seen.put_nowait(time.perf_counter())

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.5)  # the watch is set up
    out = []
    for i in range(writes):
        text, _ = version(10_000 + i)
        t0 = time.perf_counter()
        write_in_place(path, text)
        t1 = await asyncio.wait_for(seen.get(), 10)
        out.append((t1 - t0) * 1000)
        await asyncio.sleep(pause_s)
        while not seen.empty():
            seen.get_nowait()
    stop.set()
    await task
    write_in_place(path, DEVENV_NIX)
    return out


async def cockpit(root: Path, writes: int, pause_s: float) -> tuple[list[float], list[float], list[float], list[float]]:
    from textual._compositor import CompositorUpdate

    from omni_tui.core.workspace import Workspace
    from omni_tui.ui.app import CockpitApp
    from omni_tui.ui.widgets.diff_view import DiffView

    ws = Workspace.open(root, env={}, cwd=root)
    app = CockpitApp(ws)
    path = root / "devenv.nix"
    state: dict[str, Any] = {"marker": None, "drawn": None, "woken": None}
    drawn = asyncio.Event()
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        marker = state["marker"]
        if marker is None or state["drawn"] is not None or not isinstance(renderable, CompositorUpdate):
            return
        if marker in CSI.sub("", renderable.render_segments(app.console)):
            state["drawn"] = time.perf_counter()
            state["cpu"] = time.thread_time()
            drawn.set()

    app._display = display  # type: ignore[method-assign]
    totals, to_watcher, to_frame, cpu = [], [], [], []
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        deadline = time.monotonic() + 20
        while app.background.watcher is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        watcher = app.background.watcher
        if watcher is None:
            raise RuntimeError("the cockpit started no workspace watcher")
        handle = watcher.handle

        def timed_handle(files: bool, state_changed: bool) -> None:
            if files and state["woken"] is None:
                state["woken"] = time.perf_counter()
            handle(files, state_changed)

        watcher.handle = timed_handle  # type: ignore[method-assign]
        await pilot.pause(1.0)  # the watch is set up, the first process scan is done
        for i in range(writes):
            text, marker = version(i)
            state.update(marker=marker, drawn=None, woken=None)
            drawn.clear()
            t0, c0 = time.perf_counter(), time.thread_time()
            write_in_place(path, text)
            await asyncio.wait_for(drawn.wait(), 10)
            totals.append((state["drawn"] - t0) * 1000)
            cpu.append((state["cpu"] - c0) * 1000)
            to_watcher.append((state["woken"] - t0) * 1000)
            to_frame.append((state["drawn"] - state["woken"]) * 1000)
            await pilot.pause(pause_s)
        shown = app.main.query_one("#changes-diff", DiffView).file_diff
        if shown is None:
            raise RuntimeError("the Changes panel shows no diff")
        await app.action_quit()
    return totals, to_watcher, to_frame, cpu


async def run(writes: int, pause_s: float, hog: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="omni-bench-change-") as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        (root / "devenv.nix").write_text(DEVENV_NIX)
        (root / "omni-tui.toml").write_text('[rebuild]\ncommand = "true"\n')
        print(
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; {writes} writes of devenv.nix, "
            f"{pause_s * 1000:.0f} ms apart; CPU hog beside: {'yes' if hog else 'no'}"
        )
        import subprocess

        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])] if hog else []
        try:
            base = await bare_watch(root, writes, pause_s)
            totals, to_watcher, to_frame, cpu = await cockpit(root, writes, pause_s)
        finally:
            for h in hogs:
                h.kill()
                h.wait()
    print(row("baseline: bare awatch", base))
    print(row("write -> diff on screen", totals))
    print(row("  write -> watcher woken", to_watcher))
    print(row("  watcher -> frame drawn", to_frame))
    # The event loop's thread (the UI's): its CPU time from the write to that frame, which load stretches far less than wall time.
    print(row("  UI thread CPU in it", cpu))
    p95 = pct(totals, 0.95)
    print(f"ratio to the bare watcher: p50 {statistics.median(totals) / statistics.median(base):.2f}x, p95 {p95 / pct(base, 0.95):.2f}x")
    print(f"target: p95 under {TARGET_MS:.0f} ms -> {p95:.1f} ms ({'met' if p95 < TARGET_MS else 'MISSED'})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writes", type=int, default=40)
    ap.add_argument("--pause", type=float, default=0.25, help="seconds between writes (default 0.25)")
    ap.add_argument("--no-hog", action="store_true", help="no CPU-bound process beside the cockpit")
    args = ap.parse_args()
    asyncio.run(run(args.writes, args.pause, hog=not args.no_hog))
    return 0


if __name__ == "__main__":
    sys.exit(main())
