"""Rebuild log speed: LogView ingest vs Textual's Log and RichLog, key latency while streaming, memory.

Run: `.venv/bin/python bench/bench_log.py [--lines N]`. Each measurement runs in its own process
(clean memory figures) inside a headless Textual app. Prints figures and ratios; asserts nothing.
Targets (DESIGN.md §7): ≥300k lines/s, ≥3x Log, ≥20x RichLog, keys < 100 ms, 1M lines < 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

BATCH = 5_000  # lines per write: what ~50 ms of a very fast build delivers

_PACKAGES = ["hello-2.12", "openssl-3.0.13", "python3-3.11.9", "zlib-1.3.1", "devenv-shell-env"]


def realistic_lines(count: int, first: int = 0) -> list[str]:
    """Nix/compiler-like output, every line a distinct string; about one line in six carries SGR colours."""
    out = []
    for i in range(first, first + count):
        pkg = _PACKAGES[i % len(_PACKAGES)]
        kind = i % 12
        if kind == 0:
            out.append(f"{pkg}> \x1b[32mchecking\x1b[0m for gcc option to accept ISO C99... none needed ({i})")
        elif kind == 5:
            out.append(f"{pkg}> \x1b[1;33mwarning:\x1b[0m unused variable 'tmp_{i}' [\x1b[35m-Wunused-variable\x1b[0m]")
        elif kind == 9:
            out.append(f"building '/nix/store/{i:032d}-{pkg}.drv'")
        else:
            out.append(f"{pkg}>   CC       src/module_{i % 977}/file_{i}.o -O2 -pipe -fstack-protector-strong")
    return out


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # Linux reports KiB


def measure_ingest(widget: str, count: int) -> dict:
    """Write `count` lines in batches inside a headless app; time until the last frame is drawn."""
    from textual.app import App, ComposeResult
    from textual.widgets import Log, RichLog

    from omni_tui.ui.widgets.log_view import LogView

    base_rss = _rss_mb()

    class Bench(App):
        def compose(self) -> ComposeResult:
            if widget == "logview":
                yield LogView()
            elif widget == "log":
                yield Log()
            else:
                yield RichLog()

    result: dict = {"widget": widget, "lines": count}

    async def main() -> None:
        app = Bench()
        async with app.run_test(size=(120, 34)) as pilot:
            target = app.query_one("LogView, Log, RichLog")
            await pilot.pause()
            from rich.text import Text

            elapsed = 0.0
            for offset in range(0, count, BATCH):
                # Fresh strings per batch (as from a real build), made outside the timed part.
                batch = realistic_lines(min(BATCH, count - offset), offset)
                start = time.perf_counter()
                if widget == "richlog":
                    for line in batch:
                        target.write(Text.from_ansi(line))
                else:
                    target.write_lines(batch)
                await asyncio.sleep(0)  # let the app run: frames render while lines stream
                elapsed += time.perf_counter() - start
            start = time.perf_counter()
            await pilot.pause()
            elapsed += time.perf_counter() - start
            result["seconds"] = elapsed
            result["lines_per_s"] = count / elapsed
            held = getattr(target, "held_lines", None)
            if held is None:
                held = len(getattr(target, "lines", []))
            result["held_lines"] = held
            result["rss_mb"] = _rss_mb()
            result["rss_growth_mb"] = result["rss_mb"] - base_rss
            result["peak_rss_mb"] = _peak_rss_mb()

    asyncio.run(main())
    return result


def measure_keys(count: int) -> dict:
    """Stream lines at ~300k lines/s into LogView and time key presses from dispatch to handling."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding

    from omni_tui.ui.widgets.log_view import LogView

    handled: list[float] = []

    class Bench(App):
        BINDINGS = [Binding("k", "mark", "Mark", id="bench.mark")]

        def compose(self) -> ComposeResult:
            yield LogView()

        def action_mark(self) -> None:
            handled.append(time.perf_counter())

    latencies: list[float] = []

    async def main() -> None:
        app = Bench()
        async with app.run_test(size=(120, 34)) as pilot:
            view = app.query_one(LogView)
            await pilot.pause()
            done = asyncio.Event()

            async def stream() -> None:
                per_tick = 15_000  # every 50 ms → 300k lines/s
                for offset in range(0, count, per_tick):
                    view.write_lines(realistic_lines(per_tick, offset))
                    await asyncio.sleep(0.05)
                done.set()

            task = asyncio.create_task(stream())
            while not done.is_set():
                sent = time.perf_counter()
                before = len(handled)
                app.post_message(_key_event("k"))
                while len(handled) == before:
                    await asyncio.sleep(0.001)
                latencies.append(handled[-1] - sent)
                await asyncio.sleep(0.03)
            await task

    asyncio.run(main())
    ordered = sorted(latencies)
    return {
        "samples": len(latencies),
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
    }


def _key_event(key: str):
    from textual import events

    return events.Key(key, key)


def measure_sanitize() -> dict:
    """core.terminal on its own: plain lines (fast path) and coloured lines, lines per second."""
    from omni_tui.core.terminal import plain, sanitize

    lines = realistic_lines(60_000)
    coloured = [line for line in lines if "\x1b" in line]
    uncoloured = [line for line in lines if "\x1b" not in line]
    result = {}
    for name, sample, fn in (("plain", uncoloured, sanitize), ("coloured", coloured, sanitize), ("plain()", coloured, plain)):
        start = time.perf_counter()
        for line in sample:
            fn(line)
        result[name] = len(sample) / (time.perf_counter() - start)
    return result


def _child(kind: str, count: int) -> dict:
    cmd = [sys.executable, __file__, "--one", kind, "--lines", str(count)]
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--log-lines", type=int, default=200_000, help="lines for Textual's Log (it is slower)")
    parser.add_argument("--richlog-lines", type=int, default=20_000, help="lines for RichLog (much slower)")
    parser.add_argument("--one", choices=["logview", "log", "richlog", "keys"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one == "keys":
        print(json.dumps(measure_keys(args.lines)))
        return
    if args.one:
        print(json.dumps(measure_ingest(args.one, args.lines)))
        return

    ours = _child("logview", args.lines)
    log = _child("log", args.log_lines)
    rich = _child("richlog", args.richlog_lines)
    keys = _child("keys", min(args.lines, 600_000))
    speed = measure_sanitize()
    print(f"rebuild log ingest, batches of {BATCH:,} lines, headless app 120x34")
    for r in (ours, log, rich):
        print(
            f"  {r['widget']:8} {r['lines']:>9,} lines  {r['seconds']:6.2f} s  {r['lines_per_s']:>10,.0f} lines/s"
            f"  held {r['held_lines']:>9,}  rss {r['rss_mb']:6.1f} MB (+{r['rss_growth_mb']:.1f})"
        )
    print(f"  LogView vs Log:     {ours['lines_per_s'] / log['lines_per_s']:5.1f}x   (target ≥ 3x)")
    print(f"  LogView vs RichLog: {ours['lines_per_s'] / rich['lines_per_s']:5.1f}x   (target ≥ 20x)")
    print(f"  LogView ingest:     {ours['lines_per_s']:,.0f} lines/s   (target ≥ 300,000)")
    print(
        f"sanitize: {speed['plain']:,.0f} plain lines/s, {speed['coloured']:,.0f} coloured lines/s"
        f" (plain() of coloured: {speed['plain()']:,.0f}/s)"
    )
    print(
        f"key press while streaming 300k lines/s: p50 {keys['p50_ms']:.1f} ms, p95 {keys['p95_ms']:.1f} ms,"
        f" max {keys['max_ms']:.1f} ms over {keys['samples']} presses   (target < 100 ms)"
    )
    print(
        f"memory after {ours['lines']:,} lines: held {ours['held_lines']:,} lines, rss {ours['rss_mb']:.1f} MB,"
        f" peak {ours['peak_rss_mb']:.1f} MB   (target < 300 MB)"
    )


if __name__ == "__main__":
    main()
