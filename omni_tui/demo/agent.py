"""The demo's scripted agent: a separate process that works through `script.STEPS` the way any
agent would — proposals through `omni-tui propose ... --wait` (so it waits for a person's decision
before going on), and one direct write of devenv.nix at the end. It never decides anything itself.

Run as `python -m omni_tui.demo.agent ROOT [--pace SECONDS]`; `$OMNI_TUI_DEMO_PACE` sets the pause
between steps too (tests make it short). It prints what it does, one line per event.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from omni_tui.demo.script import STEPS, Step

AGENT_NAME = "demo-agent"
DEFAULT_PACE_S = 4.0
OUTCOMES = {
    0: "approved and rebuilt",
    10: "rejected",
    11: "rebuild failed",
    12: "stale (devenv.nix changed underneath it)",
    13: "withdrawn",
    124: "timed out",
    2: "refused as invalid input",
}


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {AGENT_NAME}: {message}", flush=True)


def propose(root: Path, step: Step, new_text: str) -> tuple[int, dict | None, str]:
    """Submit through the CLI and wait for the decision; returns (exit code, decision JSON or None, stderr)."""
    command = [
        sys.executable,
        "-m",
        "omni_tui",
        "propose",
        "devenv.nix",
        "-C",
        str(root),
        "--new-content",
        "-",
        "--title",
        step.title,
        "--why",
        step.why,
        "--agent",
        AGENT_NAME,
        "--wait",
        "--json",
    ]
    done = subprocess.run(command, input=new_text, capture_output=True, text=True)
    decision = None
    try:
        decision = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        decision = None
    return done.returncode, decision, done.stderr.strip()


def run_step(root: Path, step: Step) -> None:
    devenv_nix = root / "devenv.nix"
    current = devenv_nix.read_text(encoding="utf-8")
    new_text = step.edit(current)
    if new_text == current:
        say(f"skipping \u201c{step.title}\u201d: devenv.nix already has it")
        return
    if step.kind == "direct":
        say(f"editing devenv.nix directly, without a proposal: {step.title}")
        devenv_nix.write_text(new_text, encoding="utf-8")
        say("done; the cockpit shows this as UNAPPROVED EDITS (A accepts and rebuilds, u reverts)")
        return
    say(f"proposing \u201c{step.title}\u201d and waiting for a person's decision")
    code, decision, error = propose(root, step, new_text)
    outcome = OUTCOMES.get(code, f"exit {code}")
    reason = (decision or {}).get("reason") or ""
    say(f"\u201c{step.title}\u201d: {outcome}" + (f" \u2014 {reason}" if reason else ""))
    if error and code not in (0, 10, 11, 12, 13):
        say(f"omni-tui said: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omni_tui.demo.agent", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the demo workspace")
    parser.add_argument(
        "--pace", type=float, default=None, help=f"seconds between steps (default {DEFAULT_PACE_S:g}, or $OMNI_TUI_DEMO_PACE)"
    )
    args = parser.parse_args(argv)
    pace = args.pace if args.pace is not None else float(os.environ.get("OMNI_TUI_DEMO_PACE", DEFAULT_PACE_S))
    root = args.root.resolve()
    say(f"working on {root} (one step every {pace:g} s once the previous one is decided)")
    try:
        for step in STEPS:
            time.sleep(pace)
            run_step(root, step)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    say("all steps done; nothing more to do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
