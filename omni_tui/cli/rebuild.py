"""`rebuild`: the approved state rebuilt headlessly, its log streamed, one sentence at the end."""

from __future__ import annotations

import argparse
import sys

from omni_tui.cli.base import PROG, Command, say, workspace


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Exit code: the build's (0 ok); 124 timed out; 130 interrupted; 2 refused (unapproved edits, gate busy)."""
    import signal

    from omni_tui.core.gate import Gate
    from omni_tui.core.rebuild import runner_for
    from omni_tui.core.terminal import inert, needs_sanitizing, plain

    ws = workspace(args)
    runner = runner_for(ws, run_id="cli")
    parser = runner.parser  # the runner parses each chunk once; its display lines are shown here

    def show(display: list[str]) -> None:
        text = "\n".join(display)
        if needs_sanitizing(text.replace("\n", "")):  # colours or anything else: line by line, made inert
            text = "\n".join(inert(plain(line)) for line in display)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    previous = signal.signal(signal.SIGINT, lambda *_: runner.cancel())  # Ctrl-C stops the build, still recorded
    try:
        gate = Gate(ws, via="cli")
        gate.on_notice = lambda message: say(f"{PROG}: {message}", err=True)  # e.g. an orphaned build stopped first
        outcome = gate.rebuild_approved(lambda: runner.run_sync(on_display=show), command=runner.command)
    finally:
        signal.signal(signal.SIGINT, previous)
    parser.finish(0 if outcome.ok else 1)
    say(f"{PROG}: {outcome.describe(parser.progress.done)} — log {outcome.log_path}")
    if outcome.ok:
        return 0
    if outcome.cancelled:
        return 130
    if outcome.timed_out:
        return 124
    code = outcome.exit_code
    if code is None:
        return 1
    return 128 - code if code < 0 else code if code < 256 else 1  # killed by signal N → 128+N, as shells do


COMMANDS = (
    Command(
        "rebuild",
        help="rebuild the approved state headlessly, streaming the log",
        description="Run the rebuild command (`[rebuild] command`, default `devenv shell -- true`) on the "
        "approved state, streaming its log, and end with one line saying how it went. Refused "
        "(exit 2) while guarded files have unapproved edits or another rebuild holds the gate. "
        "Exit code: the build's (0 ok), 124 timed out, 130 interrupted (Ctrl-C stops the build; "
        "it is still recorded). In the cockpit, approving or accepting an edit rebuilds the same way.",
        run=cmd_rebuild,
    ),
)
