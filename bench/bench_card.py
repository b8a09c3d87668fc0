"""Benchmark of the change card on a 5,000-line devenv.nix.

Prints p50/p95 (ms) and ratios to a baseline measured in the same run: one tree-sitter parse of the
proposed file (what any card needs at the least, with no Python over the tree). Cases:
- warm: the cockpit's case — the approved baseline was analysed once (when it was read), an agent's
  proposal (a few bindings added or changed) arrives: card = incremental re-parse + facts of the
  changed bindings + the diff. Target < 20 ms;
- cold: nothing cached, both versions parsed and read from scratch;
- again: the same proposal's card asked for again (once per content hash: a dictionary lookup).

Wall-clock figures on a shared machine move with its load (printed, from os.getloadavg()); the CPU
time of this thread (`time.thread_time`) does much less, so the warm card and the parse are given in
both, each with its ratio to the other measured in the same run.

Run: `.venv/bin/python bench/bench_card.py [--runs N]`. No asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from omni_tui.core.card.diff import FilePair, cached_card, clear_caches
from omni_tui.core.card.nixparse import _parser


def devenv_nix(lines: int = 5000, seed: int = 7) -> str:
    """A devenv.nix-shaped file: services, languages, packages, env, scripts, processes, tasks, hooks."""
    rng = random.Random(seed)
    out = [
        "{ pkgs, lib, config, inputs, ... }:",
        "",
        "let",
        '  version = "3.12";',
        "  ports = import ./ports.nix;",
        "in",
        "{",
        "  packages = [ pkgs.git pkgs.jq ];",
        "",
    ]
    n = 0
    while len(out) < lines - 8:
        n += 1
        kind = rng.randrange(6)
        if kind == 0:
            out += [
                f"  # service {n}",
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
            out += [f"  packages = lib.optionals pkgs.stdenv.isLinux [ pkgs.tool{n} pkgs.python3Packages.lib{n} ];", ""]
        elif kind == 2:
            out += [
                f"  scripts.task{n}.exec = ''",
                f'    echo "running task {n}"',
                f"    ${{pkgs.coreutils}}/bin/sleep {rng.randrange(1, 9)}",
                "  '';",
                "",
            ]
        elif kind == 3:
            out += [f'  env.VAR_{n} = "value-{rng.randrange(10**6)}";']
        elif kind == 4:
            out += [f'  processes.p{n}.exec = "${{lib.getExe pkgs.app{n % 31}}} --port ${{toString ports.p{n}}}";', ""]
        else:
            out += [f"  languages.lang{n} = {{ enable = true; inherit version; }};", ""]
    out += ["  enterShell = ''", "    echo ready", "  '';", "}"]
    return "\n".join(out) + "\n"


def proposal_of(base: str) -> str:
    """An agent's typical proposal: a service, a package, an env var and an enterShell line."""
    text = base.replace(
        "packages = [ pkgs.git pkgs.jq ];",
        'packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];\n  services.redis.enable = true;\n  env.API_URL = "https://api.example.org";',
    )
    return text.replace("    echo ready\n", "    echo ready\n    make setup\n")


def timed(fn, runs: int, cpu: list[float] | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t, c = time.perf_counter(), time.thread_time()
        fn()
        out.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c) * 1000)
    return out


def fmt(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"p50 {statistics.median(ms):6.2f} ms, p95 {ms[max(0, int(len(ms) * 0.95) - 1)]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    base = devenv_nix().encode()
    lines = base.count(b"\n")
    variants = [proposal_of(base.decode()).replace("make setup", f"make setup-{i}").encode() for i in range(args.runs)]

    load = os.getloadavg()[0]
    parse_cpu: list[float] = []
    parse = timed(lambda: _parser().parse(variants[0]), args.runs, parse_cpu)

    def warm_runs() -> list[float]:
        out = []
        for v in variants:
            clear_caches()
            cached_card([FilePair("devenv.nix", base, base + b"# warm the baseline\n")])  # the baseline is analysed once
            on_disk = bytes(bytearray(base))  # read again from disk: new bytes, hashed again (no identity memo hit)
            t, c = time.perf_counter(), time.thread_time()
            card = cached_card([FilePair("devenv.nix", on_disk, v)])
            out.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
        assert card.risk_names() == ["runs_on_shell_entry", "network_service"], card.risk_names()
        return out

    def cold_runs() -> list[float]:
        out = []
        for v in variants:
            clear_caches()
            t = time.perf_counter()
            cached_card([FilePair("devenv.nix", base, v)])
            out.append((time.perf_counter() - t) * 1000)
        return out

    cpu: list[float] = []  # CPU time of the warm cards: what a loaded machine does not inflate
    warm = warm_runs()
    cold = cold_runs()
    copies = [(bytes(bytearray(base)), bytes(bytearray(variants[-1]))) for _ in range(args.runs)]
    again = timed(lambda: cached_card([FilePair("devenv.nix", *copies.pop())]), args.runs)  # new bytes: hashed
    p = statistics.median(parse)
    print(f"devenv.nix: {lines} lines, {len(base) // 1024} KiB; {args.runs} runs; load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"baseline  tree-sitter parse of the proposal alone: {fmt(parse)}")
    print(f"          its CPU time:                            {fmt(parse_cpu)}")
    print(
        f"warm      card (baseline analysed, new proposal):  {fmt(warm)}   {statistics.median(warm) / p:.2f}x the parse   (target < 20 ms)"
    )
    print(
        f"          its CPU time:                            {fmt(cpu)}   "
        f"{statistics.median(cpu) / statistics.median(parse_cpu):.2f}x the parse's CPU time"
    )
    print(f"cold      card (nothing cached, both versions):     {fmt(cold)}   {statistics.median(cold) / p:.2f}x the parse")
    print(f"again     card of the same content hash:            {fmt(again)}")


if __name__ == "__main__":
    main()
