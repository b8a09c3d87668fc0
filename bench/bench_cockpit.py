"""Benchmark of the cockpit as a whole: start-up time, and a write to devenv.nix → the diff on screen.

Prints figures and ratios to baselines measured in the same run:
- ready: wall time of `omni-tui`'s CockpitApp started headless until its first frame (a fresh
  Python process each run) vs a trivial Textual app (Header, Static, Footer) started the same way;
  target: within 1.3x;
- write → diff on screen: a write to devenv.nix until the changed line is in the painted screen
  (watchfiles → FileChanged → DiffView → compositor), vs the bare inotify latency of watchfiles'
  `awatch` with the same settings on the same file; target: p95 under 150 ms.

Run: `.venv/bin/python bench/bench_cockpit.py [--runs N]`. No asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = """{ pkgs, lib, config, ... }:

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

TRIVIAL = """
import sys, time
from textual.app import App
from textual.widgets import Footer, Header, Static
class Trivial(App):
    def compose(self):
        yield Header(); yield Static("hello"); yield Footer()
    def on_mount(self):
        self.call_after_refresh(self.exit)
Trivial().run(headless=True, size=(120, 34))
"""

COCKPIT = """
import sys
from omni_tui.core.workspace import Workspace
from omni_tui.ui.app import CockpitApp
class Once(CockpitApp):
    def on_mount(self):  # runs after CockpitApp.on_mount (Textual calls both)
        self.call_after_refresh(self.exit)
Once(Workspace.open(sys.argv[1]), poll_processes=False).run(headless=True, size=(120, 34))
"""


def make_project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="omni-bench-")) / "proj"
    root.mkdir()
    (root / "devenv.nix").write_text(SAMPLE)
    (root / "omni-tui.toml").write_text('[rebuild]\ncommand = "true"\n')
    return root


def wall(code: str, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def inotify_baseline(root: Path, runs: int) -> list[float]:
    from watchfiles import awatch

    from omni_tui.ui.workers import WATCH_DEBOUNCE_MS, WATCH_STEP_MS

    target = root / "devenv.nix"
    stop = asyncio.Event()
    seen: asyncio.Queue[float] = asyncio.Queue()

    async def watch() -> None:
        async for _changes in awatch(root, step=WATCH_STEP_MS, debounce=WATCH_DEBOUNCE_MS, recursive=False, stop_event=stop):
            seen.put_nowait(time.perf_counter())

    task = asyncio.ensure_future(watch())
    await asyncio.sleep(0.5)
    out = []
    for i in range(runs):
        start = time.perf_counter()
        target.write_text(SAMPLE.replace("pkgs.jq", f"pkgs.jq pkgs.base{i}"))
        out.append(await asyncio.wait_for(seen.get(), 10) - start)
        await asyncio.sleep(0.1)
        while not seen.empty():
            seen.get_nowait()
    stop.set()
    await task
    target.write_text(SAMPLE)
    return out


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def cockpit_latency(root: Path, runs: int) -> list[float]:
    from omni_tui.core.workspace import Workspace
    from omni_tui.ui.app import CockpitApp

    app = CockpitApp(Workspace.open(root), poll_processes=False)
    out = []
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause(0.5)
        for i in range(runs):
            marker = f'"hi{i}"'
            start = time.perf_counter()
            (root / "devenv.nix").write_text(SAMPLE.replace('"hello"', marker))
            while True:
                await asyncio.sleep(0.002)
                if app.changes_diff.file_diff.new_lines and any(marker in line for line in app.changes_diff.file_diff.new_lines):
                    await pilot.pause(0)  # let the compositor paint the refreshed rows
                    if marker in screen_text(app):
                        break
                if time.perf_counter() - start > 10:
                    raise RuntimeError("the diff never reached the screen")
            out.append(time.perf_counter() - start)
            await pilot.pause(0.1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    root = make_project()

    starts = max(3, args.runs // 6)
    trivial = [wall(TRIVIAL) for _ in range(starts)]
    cockpit = [wall(COCKPIT, str(root)) for _ in range(starts)]
    t_best, c_best = min(trivial), min(cockpit)
    print(f"ready (best of {starts}, fresh process, headless 120x34)")
    print(f"  trivial Textual app   {t_best * 1000:7.0f} ms   (median {statistics.median(trivial) * 1000:.0f} ms)")
    print(f"  omni-tui cockpit      {c_best * 1000:7.0f} ms   (median {statistics.median(cockpit) * 1000:.0f} ms)")
    print(f"  ratio                 {c_best / t_best:7.2f}x   (target ≤ 1.3x)")

    base = asyncio.run(inotify_baseline(root, args.runs))
    lat = asyncio.run(cockpit_latency(root, args.runs))
    print(f"write → diff on screen ({args.runs} writes)")
    print(f"  watchfiles alone      p50 {pct(base, .5) * 1000:6.1f} ms   p95 {pct(base, .95) * 1000:6.1f} ms")
    print(f"  cockpit, painted      p50 {pct(lat, .5) * 1000:6.1f} ms   p95 {pct(lat, .95) * 1000:6.1f} ms   (target p95 < 150 ms)")
    print(f"  cockpit / watchfiles  p50 {pct(lat, .5) / pct(base, .5):6.2f}x")


if __name__ == "__main__":
    main()
