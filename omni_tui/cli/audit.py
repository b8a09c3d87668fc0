"""`audit`: show or verify the hash-chained audit log."""

from __future__ import annotations

import argparse
import json
from typing import Any

from omni_tui.cli.base import PROG, Command, arg, say


def cmd_audit(args: argparse.Namespace) -> int:
    from omni_tui.core.terminal import inert_json
    from omni_tui.core.workspace import Workspace

    ws = Workspace.open(getattr(args, "directory", None), init_baseline=False)
    if args.verify:
        from omni_tui.core.gate import Gate

        result = ws.audit.verify()
        if not result.ok:
            say(f"{PROG}: {result.describe(ws.audit.path)}", err=True)
            return 1
        ws.adopt_unvouched_state()  # upgrading: a log from before vouched state is adopted once (docs/security.md)
        # The chain is intact; does it account for every decision and baseline on disk?
        forged = Gate(ws).forgeries()
        if forged:
            for forgery in forged:
                say(f"{PROG}: {forgery.describe()}", err=True)
            return 1
        say(f"ok: {result.describe(ws.audit.path)}; every decision and baseline is vouched for")
        return 0
    entries = ws.audit.entries()
    if args.lines is not None:
        entries = entries[-args.lines :] if args.lines > 0 else []
    for entry in entries:
        if args.json:
            try:
                print(inert_json(json.dumps(entry, ensure_ascii=False)))
            except UnicodeEncodeError:  # stdout is not UTF-8 (PYTHONIOENCODING=ascii): the same entry in ASCII
                print(inert_json(json.dumps(entry)))
        else:
            say(audit_line(entry))
    return 0


def audit_line(entry: dict[str, Any]) -> str:
    # Any line of the log may have been written by hand: `seq` may be missing, a list, a string.
    parts = [f"{entry.get('seq')!s:>4}", str(entry.get("time")), str(entry.get("who")), str(entry.get("event"))]
    if entry.get("proposal_id"):
        parts.append(str(entry["proposal_id"]))
    if entry.get("exit_code") is not None:
        parts.append(f"exit {entry['exit_code']}")
    if entry.get("reason"):
        parts.append(f"— {entry['reason']}")
    return "  ".join(parts)


COMMANDS = (
    Command(
        "audit",
        help="show or verify the hash-chained audit log",
        description="Without --verify prints the entries. --verify exits 0 when the chain is intact, 1 when it is not.",
        run=cmd_audit,
        args=(
            arg("--verify", action="store_true", help="check the hash chain; report the first bad line and why"),
            arg("-n", "--lines", type=int, metavar="N", help="show only the last N entries"),
            arg("--json", action="store_true", help="print entries as JSON lines"),
        ),
    ),
)
