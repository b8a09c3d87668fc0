"""Rebuild output from a real subprocess to pixels, against the command alone.

Run: `.venv/bin/python bench/bench_rebuild.py [--lines N] [--runs N] [--quick]`. Prints figures and
ratios measured in the same run; asserts nothing.

What is timed (every run spawns real processes; runs alternate so machine load hits all alike):

- *command alone*: the command with its stdout on a pipe that a bare reader drains (`os.read` in
  256 KiB blocks, nothing else) — spawn → end of output. Two commands print the same bytes
  (realistic Nix/compiler lines, one in six with SGR colours): `cat FILE` (the transport floor) and a
  Python `print()` loop (a command that takes its own time, as a build does).
- *cockpit pipeline*: the same command as the rebuild command of a temporary project, run by the
  cockpit's own `RebuildJob` (runner: reader, line splitter, log file, Nix log parser; the batching
  thread; `RebuildLines` messages) into the cockpit's `LogView` inside a headless Textual app
  (120x40). The clock stops at the first frame the app sends to its driver that contains the
  command's last line (each frame rendered to the text a terminal would get) — not at a `pause()`.
- *`omni-tui rebuild`*: the CLI on the same project, stdout drained by a bare reader.
- *keys while streaming*: during the `cat` pipeline a key event is posted to the app every 20 ms (as
  the terminal driver posts one); the time from posting to its binding running.

Targets (issue 15): pipeline ≤ 2x the command alone; ≥ 1M lines/s through reader + parser + view.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_log import realistic_lines  # noqa: E402

CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PY = sys.executable
REPO = Path(__file__).resolve().parent.parent


def write_data(path: Path, count: int, marker: str) -> int:
    lines = realistic_lines(count - 1) + [marker]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return len(data)


def printer_script(path: Path) -> str:
    """A command that takes its own time: prints the file's lines one `print()` at a time."""
    # Block-buffered like a compiler writing to a pipe, whatever PYTHONUNBUFFERED says here.
    return f"env -u PYTHONUNBUFFERED {PY} -c 'import sys\nfor line in open(sys.argv[1]): print(line, end=\"\")' {path}"


def alone(command: str) -> float:
    """Spawn → end of output, stdout on a pipe drained by a bare reader."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE)
    fd = proc.stdout.fileno()  # type: ignore[union-attr]
    while os.read(fd, 1 << 18):
        pass
    proc.wait()
    return time.perf_counter() - t0


def cli(root: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "omni_tui", "rebuild", "-C", str(root)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    fd = proc.stdout.fileno()  # type: ignore[union-attr]
    while os.read(fd, 1 << 18):
        pass
    proc.wait()
    return time.perf_counter() - t0


def set_command(root: Path, command: str) -> None:
    escaped = command.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    (root / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "{escaped}"\nkeep_logs = 3\n')


async def pipeline(root: Path, marker: str, *, keys: bool = False) -> tuple[float, list[float], int, float]:
    """(seconds from job start to the frame showing `marker`, key latencies in ms, lines held, CPU seconds).

    CPU: this process's (every thread: runner, batching, UI) over the same span; the command's own is not in it.
    """
    from textual import events, on
    from textual._compositor import CompositorUpdate
    from textual.app import App, ComposeResult
    from textual.binding import Binding

    from omni_tui.core.workspace import Workspace
    from omni_tui.ui.messages import RebuildFinished, RebuildLines, RebuildStarted
    from omni_tui.ui.widgets.log_view import LogView
    from omni_tui.ui.workers import RebuildJob

    ws = Workspace.open(root, env={}, cwd=root)
    state: dict[str, Any] = {"arrived": False, "drawn": None, "finished": None, "cpu": None}
    latencies: list[float] = []
    pressed: list[float] = []

    class Bench(App[None]):
        BINDINGS = [Binding("j", "key", "key")]

        def compose(self) -> ComposeResult:
            yield LogView(id="log")

        def action_key(self) -> None:
            if pressed:
                latencies.append((time.perf_counter() - pressed.pop(0)) * 1000)

        @on(RebuildStarted)
        def started(self, message: RebuildStarted) -> None:
            self.query_one(LogView).write_lines([f"$ {message.command}"])

        @on(RebuildLines)
        def lines(self, message: RebuildLines) -> None:
            view = self.query_one(LogView)
            view.write_lines(message.lines)  # as RebuildFlow.lines does
            view.set_progress(message.progress)
            if message.lines and message.lines[-1] == marker:
                state["arrived"] = True

        @on(RebuildFinished)
        def finished(self, message: RebuildFinished) -> None:
            state["finished"] = time.perf_counter()

    app = Bench()
    drawn = asyncio.Event()
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if state["arrived"] and state["drawn"] is None and isinstance(renderable, CompositorUpdate):
            if marker in CSI.sub("", renderable.render_segments(app.console)):
                state["drawn"] = time.perf_counter()
                state["cpu"] = time.process_time()
                drawn.set()

    app._display = display  # type: ignore[method-assign]
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        # As the cockpit does once its first frame is drawn (`Background.start`): what it built to get
        # there lives as long as it does, frozen out of the cyclic collector's walks; a larger young
        # generation.
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        job = RebuildJob(app, ws, "bench", lambda rebuild, stage: rebuild())
        t0, c0 = time.perf_counter(), time.process_time()
        app.run_worker(job.run, thread=True)
        while not drawn.is_set():
            if keys and state["finished"] is None:
                # As the driver delivers a key: a Key event posted to the app (pilot.press would wait for idle).
                pressed.append(time.perf_counter())
                app.post_message(events.Key("j", "j"))
                await asyncio.sleep(0.02)
            else:
                try:
                    await asyncio.wait_for(drawn.wait(), 15)
                except TimeoutError:
                    view = app.query_one(LogView)
                    raise RuntimeError(
                        f"the last line was never drawn: {state}, held {view.total_lines}, "
                        f"last {view.lines[-1][:40]!r}, scroll {view.scroll_y}/{view.max_scroll_y}"
                    ) from None
        elapsed = state["drawn"] - t0
        held = app.query_one(LogView).total_lines
        app.exit()
    return elapsed, latencies, held, state["cpu"] - c0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200k lines, 1 run (about 15 s)")
    args = parser.parse_args()
    if args.quick:
        args.lines, args.runs = min(args.lines, 200_000), 1
    with tempfile.TemporaryDirectory(prefix="omni-bench-rebuild-") as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        (root / "devenv.nix").write_text("{ pkgs, ... }: { }\n")
        data = Path(tmp) / "out.txt"
        marker = f"END-OF-BUILD-{os.getpid()}"
        size = write_data(data, args.lines, marker)
        cat, printer = f"cat {data}", printer_script(data)
        print(
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} (1 min avg) at start; "
            f"{args.lines:,} lines, {size / 1e6:.1f} MB, {args.runs} run(s) each"
        )
        res: dict[str, list[float]] = {k: [] for k in ("cat", "cat_pipe", "print", "print_pipe", "print_cli", "cat_cpu", "print_cpu")}
        keys: list[float] = []
        for _ in range(args.runs):
            res["cat"].append(alone(cat))
            set_command(root, cat)
            t, lat, held, cpu = asyncio.run(pipeline(root, marker, keys=True))
            res["cat_pipe"].append(t)
            res["cat_cpu"].append(cpu)
            keys += lat
            res["print"].append(alone(printer))
            set_command(root, printer)
            t, _lat, _held, cpu = asyncio.run(pipeline(root, marker))
            res["print_pipe"].append(t)
            res["print_cpu"].append(cpu)
            res["print_cli"].append(cli(root))
        med = {k: statistics.median(v) for k, v in res.items()}
        n = args.lines
        print(f"{'measure':58} {'p50':>9} {'lines/s':>12} {'ratio':>8}")

        def row(label: str, key: str, base: str | None = None) -> None:
            ratio = f"{med[key] / med[base]:.2f}x" if base else ""
            print(f"{label:58} {med[key] * 1000:7.0f}ms {n / med[key]:12,.0f} {ratio:>8}")

        row("`cat FILE` alone (pipe, bare reader)", "cat")
        row("`cat FILE` as the rebuild → cockpit log view, last line drawn", "cat_pipe", "cat")
        row("print() loop alone (pipe, bare reader)", "print")
        row("print() loop as the rebuild → cockpit log view, last line drawn", "print_pipe", "print")
        row("print() loop under `omni-tui rebuild` (stdout drained)", "print_cli", "print")
        # CPU time of the cockpit side alone (runner, batching and UI threads): what a loaded machine
        # cannot stretch the way it stretches wall time.
        row("  CPU of the cockpit process, `cat` pipeline (lines per CPU s)", "cat_cpu")
        row("  CPU of the cockpit process, print() pipeline", "print_cpu")
        if keys:
            print(
                f"keys while `cat` streams ({len(keys)} presses): p50 {pct(keys, 0.5):.1f} ms, "
                f"p95 {pct(keys, 0.95):.1f} ms, max {max(keys):.1f} ms"
            )
        print(f"log view held {held:,} lines (the full log is on disk); load {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
