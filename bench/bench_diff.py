"""Benchmark of the diff path: textdiff on a 5,000-line Nix file with 50 edits, and DiffView rendering.

Prints p50/p95 (ms) and ratios to baselines measured in the same run:
- diff: `diff_texts` vs one `difflib.SequenceMatcher(autojunk=False)` over the whole file;
- first render of the split view at 120x34 (mount → the first frame that shows the diff) and
  scroll-to-end (→ the frame that shows the last row): `DiffView` vs the same diff rows rendered
  naively (a Static holding Rich Text of every row, Nix-highlighted, in a VerticalScroll), and vs a
  Static holding a Rich `Syntax` of the whole file;
- a live update: `set_diff` with an edited text on a mounted view, until the frame that shows the edit.

Each clock stops at the frame itself: the app's frames are caught where Textual hands them to its
driver (`App._display`) and turned into the bytes a terminal would get (the headless driver skips
that); the measure ends at the first frame whose text shows the result. Not at `pilot.pause()`,
which waits for the app to go idle as well (≈ 40 ms more here, the same for every widget).

Run: `.venv/bin/python bench/bench_diff.py [--runs N]`. No asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import gc
import random
import re
import statistics
import time
from collections.abc import Awaitable, Callable

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual._compositor import CompositorUpdate  # the frame a driver writes (as bench_startup catches it)
from textual.app import App, ComposeResult
from textual.containers import Container, VerticalScroll
from textual.widgets import Static

from omni_tui.core.textdiff import apply_hunks, diff_texts
from omni_tui.ui.widgets.diff_view import DiffView

SIZE = (120, 34)
READING_S = 0.3  # how long the person reads the top of the diff before pressing `end` (the second `end` measure)


def realistic_nix(lines: int = 5000, seed: int = 7) -> str:
    """A devenv.nix-shaped file: attribute sets, lists, services, multi-line shell strings, comments."""
    rng = random.Random(seed)
    out = ["{ pkgs, lib, config, inputs, ... }:", "", "let", "  ports = import ./ports.nix;", "in", "{"]
    n = 0
    while len(out) < lines - 2:
        n += 1
        kind = rng.randrange(5)
        if kind == 0:
            out += [
                f"  # service {n}: generated",
                f"  services.svc{n} = {{",
                "    enable = true;",
                f"    port = {8000 + n};",
                f"    package = pkgs.svc{n % 17};",
                "    settings = {",
                f'      log_level = "{rng.choice(["info", "debug", "warn"])}";',
                f"      max_connections = {rng.randrange(10, 500)};",
                "    };",
                "  };",
                "",
            ]
        elif kind == 1:
            pkgs = " ".join(f"pkgs.tool{rng.randrange(200)}" for _ in range(rng.randrange(2, 6)))
            out += [f"  packages.group{n} = [ {pkgs} ];", ""]
        elif kind == 2:
            out += [
                f"  scripts.task{n}.exec = ''",
                f'    echo "running task {n}"',
                f"    ${{pkgs.coreutils}}/bin/sleep {rng.randrange(1, 9)}",
                "    exit 0",
                "  '';",
                "",
            ]
        elif kind == 3:
            out += [f'  env.VAR_{n} = "value-{rng.randrange(10**6)}";']
        else:
            out += [f'  processes.p{n}.exec = "${{lib.getExe pkgs.app{n % 31}}} --port ${{toString ports.p{n}}}";', ""]
    out = out[: lines - 1] + ["}"]
    return "\n".join(out) + "\n"


def edit(text: str, edits: int = 50, seed: int = 11) -> str:
    rng = random.Random(seed)
    lines = text.split("\n")
    step = len(lines) // edits
    for k in reversed(range(edits)):
        at = k * step + rng.randrange(step // 2)
        choice = k % 3
        if choice == 0:
            changed = lines[at].replace("true", "false").replace("= ", "= lib.mkForce ", 1)
            lines[at] = changed if changed != lines[at] else lines[at] + "  # changed"
        elif choice == 1:
            lines.insert(at, f'  env.ADDED_{k} = "new";')
        else:
            del lines[at]
    return "\n".join(lines)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def naive_rows(old: str, new: str) -> Group:
    """Every split row of the diff as pre-built Rich Text, Nix-highlighted: the all-at-once way."""
    fd = diff_texts(old, new)
    syntax = Syntax("", "nix")
    lines: list[Text] = []
    for row in fd.rows_split():
        if row.kind == "@":
            lines.append(Text(row.text, style="bold cyan"))
            continue
        line = Text(no_wrap=True, overflow="crop")
        for cell, bg in ((row.left, "on #3d1a20"), (row.right, "on #173523")):
            if cell is None:
                line.append(" " * 58, "dim")
            else:
                part = syntax.highlight(cell.text)
                part.rstrip()
                part.truncate(52, pad=True)
                line.append(f"{cell.no:>5} {cell.kind} ", "dim")
                if cell.kind != " ":
                    part.stylize(bg)
                line.append_text(part)
            line.append("│")
        lines.append(line)
    return Group(*lines)


class Bench(App[None]):
    def compose(self) -> ComposeResult:
        yield Container(id="host")


CPU: dict[str, list[float]] = {}  # CPU seconds of this process per measure: robust to other load
CSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


class Frames:
    """Every frame the app hands its driver, as the text a terminal would show, with when it was ready
    (wall and CPU clocks). Rendering the frame to bytes is part of the measure: a terminal driver does it."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float, str]] = []
        display = App._display

        def watch(app: App[None], screen: object, renderable: object) -> None:
            display(app, screen, renderable)  # type: ignore[arg-type]
            if isinstance(renderable, CompositorUpdate):
                text = CSI.sub("", renderable.render_segments(app.console))
                self.seen.append((time.perf_counter(), time.process_time(), text))

        App._display = watch  # type: ignore[method-assign]

    async def timed(self, name: str, action: Callable[[], Awaitable[object]], shows: Callable[[str], bool], timeout: float = 30.0) -> float:
        """Wall seconds from `action` starting to the first frame after it whose text `shows` the result."""
        first = len(self.seen)
        cpu, start = time.process_time(), time.perf_counter()
        await action()
        while True:
            for wall, cpu_at, text in self.seen[first:]:
                if shows(text):
                    CPU.setdefault(name, []).append(cpu_at - cpu)
                    return wall - start
            first = len(self.seen)
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{name}: no frame showed the result within {timeout:g} s")
            await asyncio.sleep(0.0005)


async def timed(pilot_action: Callable[[], Awaitable[None]], name: str = "") -> float:
    cpu = time.process_time()
    start = time.perf_counter()
    await pilot_action()
    wall = time.perf_counter() - start
    CPU.setdefault(name, []).append(time.process_time() - cpu)
    return wall


async def measure_views(old: str, new: str, edited_new: str, runs: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        k: []
        for k in ("floor", "view_first", "view_end_now", "view_end", "view_live", "naive_first", "naive_end", "syntax_first", "syntax_end")
    }
    rows = diff_texts(old, new).rows_split()
    last_row = next(row for row in reversed(rows) if row.right is not None)
    last_no = str(last_row.right.no)  # type: ignore[union-attr]  # the diff's last line number (4-digit: not in the first screen)
    last_file_no = str(new.count(chr(10)))  # the whole-file Syntax's last line number
    live_marker = "# LIVE_EDIT"
    app = Bench()
    frames = Frames()
    async with app.run_test(size=SIZE) as pilot:
        host = app.query_one("#host")
        floor = Static("")
        await host.mount(floor)
        view: DiffView | None = None
        gc.freeze()  # as the cockpit does once its first frame is out (`Background.start`)

        for _run in range(runs):
            # the framework's floor: a Static's text changed, to the frame that shows it
            await pilot.pause()

            async def floor_update(text: str = f"floor ready {_run}") -> None:
                floor.update(text)

            results["floor"].append(await frames.timed("floor", floor_update, lambda t, text=f"floor ready {_run}": text in t))

            # One view for every run, as the cockpit keeps its diff views: each run shows nothing, then
            # this diff, as selecting one proposal after another does (a view mounted and removed per
            # run would leave cyclic garbage that only Python's slow full collections free).
            if view is None:
                view = DiffView()
                await host.mount(view)
                view.mode = "split"
            view.set_diff(None, None, None)
            await pilot.pause()

            async def first_view() -> None:
                view.set_diff("devenv.nix", old, new)

            # the frame with the first hunk's header and a screenful of split rows under it
            results["view_first"].append(await frames.timed("view_first", first_view, lambda t: "@@" in t and t.count("│") >= 20))
            assert view.row_count > 100

            async def view_end() -> None:
                view.action_scroll_end()

            async def view_home() -> None:
                view.action_scroll_home()

            # `end` at the instant the diff is first on screen, then again after the person has read
            # the top for a moment (the view works out the lower lines' highlighting while idle)
            results["view_end_now"].append(await frames.timed("view_end_now", view_end, lambda t: last_no in t))
            await frames.timed("home", view_home, lambda t: "@@ -" in t and last_no not in t)
            await asyncio.sleep(READING_S)
            results["view_end"].append(await frames.timed("view_end", view_end, lambda t: last_no in t))
            await pilot.pause()  # the scroll settled: the live edit below is in view

            async def view_live() -> None:
                view.set_diff("devenv.nix", old, edited_new)  # the view shows `new`: a real change, in view

            results["view_live"].append(await frames.timed("view_live", view_live, lambda t: live_marker in t))
        await host.remove_children()
        await pilot.pause()

        # the naive renderers after every DiffView run: their big heaps would make the full garbage
        # collections during the DiffView's runs slower than in a cockpit
        for _run in range(max(3, runs // 3)):  # they are slow; fewer runs suffice
            scroll = VerticalScroll()

            async def naive_first() -> None:
                await host.mount(scroll)
                await scroll.mount(Static(naive_rows(old, new)))

            results["naive_first"].append(await frames.timed("naive_first", naive_first, lambda t: "@@" in t))

            async def naive_end() -> None:
                scroll.scroll_end(animate=False, immediate=True)

            results["naive_end"].append(await frames.timed("naive_end", naive_end, lambda t: last_no in t))
            await host.remove_children()
            await pilot.pause()

            scroll = VerticalScroll()

            async def syntax_first() -> None:
                await host.mount(scroll)
                await scroll.mount(Static(Syntax(new, "nix", line_numbers=True)))

            results["syntax_first"].append(await frames.timed("syntax_first", syntax_first, lambda t: "inputs, ... }:" in t))

            async def syntax_end() -> None:
                scroll.scroll_end(animate=False, immediate=True)

            results["syntax_end"].append(await frames.timed("syntax_end", syntax_end, lambda t: last_file_no in t))
            await host.remove_children()
            await pilot.pause()
    return results


async def measure_own_work(old: str, new: str, runs: int) -> list[float]:
    """set_diff plus building every visible row's strip (cold caches), without Textual's frame."""
    samples: list[float] = []
    app = Bench()
    async with app.run_test(size=SIZE) as pilot:
        view = DiffView()
        await app.query_one("#host").mount(view)
        view.mode = "split"
        await pilot.pause()
        for _ in range(runs):
            view.set_diff("devenv.nix", "", "")

            async def own() -> None:
                view.set_diff("devenv.nix", old, new)
                for y in range(SIZE[1]):
                    view.render_line(y)

            samples.append(await timed(own, "own"))
    return samples


def timed_sync(name: str, fn: Callable[[], object]) -> float:
    cpu = time.process_time()
    start = time.perf_counter()
    fn()
    CPU.setdefault(name, []).append(time.process_time() - cpu)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    old = realistic_nix()
    new = edit(old)
    # The live edit: a line of the diff's last screen gets a comment, in view where scroll-to-end left the view.
    near_end = [row for row in diff_texts(old, new).rows_split() if row.right is not None][-8]
    new_lines = new.split("\n")
    new_lines[near_end.right.no - 1] += "  # LIVE_EDIT"  # type: ignore[union-attr]
    edited_new = "\n".join(new_lines)
    fd = diff_texts(old, new)
    print(f"file: {old.count(chr(10))} lines; diff: {len(fd.hunks)} hunks, +{fd.added} -{fd.removed}")

    diff_s, difflib_s, apply_s = [], [], []
    a, b = old.split("\n"), new.split("\n")
    chosen = set(range(0, len(fd.hunks), 2))
    for _ in range(args.runs):
        diff_s.append(timed_sync("diff", lambda: diff_texts(old, new)))
        difflib_s.append(timed_sync("difflib", lambda: list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(3))))
        apply_s.append(timed_sync("apply", lambda: apply_hunks(old, new, chosen)))

    views = asyncio.run(measure_views(old, new, edited_new, args.runs))
    own = asyncio.run(measure_own_work(old, new, args.runs))

    rows = [
        ("diff_texts (5,000 lines, 50 edits)", "diff", diff_s, "difflib", difflib_s, "difflib SequenceMatcher, whole file"),
        ("apply_hunks (every other hunk)", "apply", apply_s, "", None, ""),
        ("a Static's new text → its frame (floor)", "floor", views["floor"], "", None, ""),
        ("DiffView own work: set_diff + 34 rows", "own", own, "", None, ""),
        ("DiffView split first render", "view_first", views["view_first"], "naive_first", views["naive_first"], "Static of all rows"),
        ("  vs whole-file Syntax", "view_first", views["view_first"], "syntax_first", views["syntax_first"], "Static(Syntax(file))"),
        ("DiffView end, at its first frame", "view_end_now", views["view_end_now"], "", None, ""),
        (f"DiffView end, {READING_S:g} s after it", "view_end", views["view_end"], "naive_end", views["naive_end"], "Static of all rows"),
        ("  vs whole-file Syntax", "view_end", views["view_end"], "syntax_end", views["syntax_end"], "Static(Syntax(file))"),
        ("DiffView live update + render", "view_live", views["view_live"], "", None, ""),
    ]
    print(f"{'measure':38} {'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>8}  {'base p50':>9} {'base cpu':>9} {'ratio':>7}  baseline")
    for name, key, samples, base_key, base, base_name in rows:
        line = f"{name:38} {pct(samples, 0.5):7.1f} {pct(samples, 0.95):7.1f} {pct(CPU[key], 0.5):8.1f}"
        if base:
            ratio = statistics.median(CPU[base_key]) / statistics.median(CPU[key])
            line += f"  {pct(base, 0.5):9.1f} {pct(CPU[base_key], 0.5):9.1f} {ratio:6.1f}x  {base_name}"
        print(line)
    first, worst = pct(views["view_first"], 0.5), max(views["view_first"]) * 1000
    print(
        f"target (DESIGN §7): split first frame of this diff under 50 ms, max -> p50 {first:.0f} ms, max {worst:.0f} ms wall "
        f"({pct(CPU['view_first'], 0.5):.0f} ms CPU p50; a Static's own frame: {pct(views['floor'], 0.5):.0f} ms) "
        f"({'met' if worst < 50 else 'MISSED'})"
    )
    print(
        f"(runs: {args.runs}, naive baselines: {len(views['naive_first'])}; ms; cpu = CPU time of this process, "
        "which other load on the machine does not inflate; ratio = baseline cpu p50 / ours cpu p50)"
    )


if __name__ == "__main__":
    main()
