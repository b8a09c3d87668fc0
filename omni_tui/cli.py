"""The argparse front: one `_register_<name>` and one `cmd_<name>` per subcommand, no domain logic.

`omni-tui [-C DIR] [DIR]` (no subcommand) opens the cockpit. Every expected failure is printed as
`omni-tui: <one line>` on stderr with exit code 2. No subcommand approves anything: approval
exists only in the cockpit.

Adding a subcommand: write `_register_<name>(subparsers)` (add the parser with
`parents=[_common()]` and `set_defaults(func=cmd_<name>)`) and append it to `REGISTRARS`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_tui import __version__
from omni_tui.core.errors import OmniError

if TYPE_CHECKING:
    from omni_tui.core.proposals import Decision, ProposalStore
    from omni_tui.core.workspace import Workspace

# Every domain import happens inside the command that needs it: the Claude Code hook runs on
# every Edit/Write an agent makes, and `--help` / `--version` should not pay for the gate,
# asyncio or psutil (docs/performance.md has the figures).

PROG = "omni-tui"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `omni-tui wait: argument --timeout: expected one argument (see -h)`, exit 2."""

    def error(self, message: str) -> Any:  # argparse's signature says NoReturn; exit() raises SystemExit
        from omni_tui.core.terminal import inert

        self.exit(2, f"{self.prog}: {inert(message)} (see {self.prog} -h)\n")


def _common() -> argparse.ArgumentParser:
    """Options every subcommand takes."""
    parent = _Parser(add_help=False)
    parent.add_argument(
        "-C",
        dest="directory",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the devenv project (default: $DEVENV_ROOT, else the nearest directory upwards with devenv.nix)",
    )
    return parent


def _workspace(args: argparse.Namespace) -> Workspace:
    from omni_tui.core.workspace import Workspace

    return Workspace.open(getattr(args, "directory", None))


def _print_json(value: Any, *, compact: bool = False) -> None:
    from omni_tui.core.terminal import inert_json

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) if compact else json.dumps(value, indent=2, ensure_ascii=False)
    print(inert_json(text))


def _say(text: str, *, err: bool = False) -> None:
    """Print one line of plain output; agent text in it is made inert (`core.terminal.inert`) first."""
    from omni_tui.core.terminal import inert

    print(inert(text), file=sys.stderr if err else sys.stdout, flush=err)


# -- cockpit ----------------------------------------------------------------------------------------


def cmd_cockpit(args: argparse.Namespace) -> int:
    import gc

    # Importing Textual and the cockpit builds ~70,000 objects that live as long as the process.
    # Cyclic collections over them while they are built, and the collection over the whole heap
    # when the process ends, are wasted work (≈ 30 ms of start-up, ≈ 100 ms of quitting; see
    # docs/performance.md): collect nothing while importing, then freeze what was imported.
    gc.disable()
    try:
        from omni_tui.core.workspace import Workspace

        ws = Workspace.open(args.dir if args.dir is not None else getattr(args, "directory", None))
        from omni_tui.ui.app import run_cockpit  # lazy: agent subcommands never pay for Textual
    finally:
        gc.freeze()
        gc.enable()
    result = run_cockpit(ws)
    gc.freeze()  # the process ends now
    return result if isinstance(result, int) else 0


def _cockpit_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, parents=[_common()], description="Open the cockpit on a devenv project.")
    parser.add_argument("dir", nargs="?", default=None, metavar="DIR", help="the project directory (default: the current one)")
    parser.set_defaults(func=cmd_cockpit)
    return parser


# -- propose / wait / withdraw ---------------------------------------------------------------------


def _register_propose(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "propose",
        parents=[_common()],
        help="propose a change to a guarded file (an agent's way in)",
        description="Submit a proposal. Prints its id; with --wait, exits with the outcome's code: "
        "0 applied, 10 rejected, 11 rebuild failed, 12 stale, 13 withdrawn, 14 tampered (a decision the audit log does not vouch for: never an approval), 124 timed out, 2 invalid input.",
    )
    p.add_argument(
        "path",
        metavar="PATH",
        help="guarded file, relative to the current directory as in git (or to the project root; absolute inside it works too)",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--new-content", metavar="FILE", help="the complete new content ('-' reads stdin)")
    source.add_argument("--patch", metavar="FILE", help="a unified diff against the current file ('-' reads stdin)")
    p.add_argument("--title", required=True, help="one line saying what the change does")
    p.add_argument("--why", required=True, help="the rationale shown to the person deciding")
    p.add_argument("--agent", default=os.environ.get("OMNI_TUI_AGENT") or "cli", help="who proposes (default: $OMNI_TUI_AGENT or 'cli')")
    p.add_argument("--wait", action="store_true", help="block until a person decides; exit with the outcome's code")
    p.add_argument("--timeout", type=float, metavar="S", help="with --wait: give up after S seconds (exit 124, the proposal stays pending)")
    p.add_argument("--json", action="store_true", help="print JSON (the decision document with --wait)")
    p.set_defaults(func=cmd_propose)


def _read_source(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except FileNotFoundError:
        raise OmniError(f"{name}: no such file") from None
    except OSError as exc:
        raise OmniError(f"{name}: cannot read: {exc.strerror or exc}") from None


def _guarded_path(ws: Workspace, text: str) -> str:
    """A path as a person types it: relative to the current directory, as git does (`../../devenv.nix`
    from a subfolder), else relative to the project root (what agents are told to use); always confined
    to the root and guarded. The error is the one for the current-directory reading."""
    from omni_tui.core.errors import PathError

    if os.path.isabs(text):
        return ws.relative(text)
    here = os.path.normpath(os.path.join(os.getcwd(), text))
    try:
        return ws.relative(here)
    except PathError as from_here:
        try:
            return ws.relative(text)
        except PathError:
            raise PathError(str(from_here).replace(here, text, 1)) from None


def cmd_propose(args: argparse.Namespace) -> int:
    from omni_tui.core.proposals import ProposalStore, decode_content, patched_content

    ws = _workspace(args)
    _require_writable(ws)
    store = ProposalStore(ws)
    rel = _guarded_path(ws, args.path)
    if args.patch is not None:
        source = "stdin" if args.patch == "-" else args.patch
        content = patched_content(ws, rel, decode_content(_read_source(args.patch), f"patch {source}", ws.config.guard.max_bytes))
    else:
        source = "stdin" if args.new_content == "-" else args.new_content
        content = decode_content(_read_source(args.new_content), source, ws.config.guard.max_bytes)
    proposal = store.create({rel: content}, title=args.title, rationale=args.why, agent=args.agent)
    wait = args.wait or args.timeout is not None
    refused = store.decision(proposal.id)
    if refused is not None and refused.status == "rejected" and refused.who == "policy":
        # `[policy] refuse` matched its change card: rejected at once, the agent hears why (exit 10).
        from omni_tui.core.proposals import EXIT_CODES

        if args.json:
            _print_json(refused.to_json())
        else:
            print(proposal.id, flush=True)
            _say(_describe(refused), err=True)
        return EXIT_CODES["rejected"]
    if args.json and not wait:
        _print_json(
            {
                "id": proposal.id,
                "status": "pending",
                "agent": proposal.agent,
                "title": proposal.title,
                "created_at": proposal.created_at,
                "paths": proposal.paths,
            }
        )
        return 0
    if not args.json:
        print(proposal.id, flush=True)
    if not wait:
        return 0
    return _wait_and_report(store, proposal.id, args.timeout, args.json)


def _wait_and_report(store: ProposalStore, proposal_id: str, timeout: float | None, as_json: bool) -> int:
    from omni_tui.core.proposals import EXIT_CODES, EXIT_TIMEOUT

    if timeout is not None and timeout < 0:
        raise OmniError("--timeout must be zero or more seconds")
    try:
        decision = store.wait(proposal_id, timeout)
    except KeyboardInterrupt:
        _say(f"{PROG}: interrupted; proposal {proposal_id} is still {store.status(proposal_id)}", err=True)
        return 130
    if decision is None:
        if as_json:
            _print_json({"proposal_id": proposal_id, "status": store.status(proposal_id)})
        _say(f"{PROG}: timed out after {timeout:g} s; proposal {proposal_id} is still {store.status(proposal_id)}", err=True)
        return EXIT_TIMEOUT
    if as_json:
        _print_json(decision.to_json())
    else:
        _say(_describe(decision))
    return EXIT_CODES[decision.status]


def _describe(decision: Decision) -> str:
    """`--wait`'s line: the shared decision line (`core.decision_line`), then the rebuild's log."""
    from omni_tui.core.decision_line import decision_line

    return decision_line(decision) + (f" — log {decision.log_path}" if decision.log_path else "")


def _register_wait(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "wait",
        parents=[_common()],
        help="wait for a proposal's decision",
        description="Exit codes: 0 applied, 10 rejected, 11 rebuild failed, 12 stale, 13 withdrawn, 14 tampered (a decision the audit log does not vouch for: never an approval), 124 timed out, 2 invalid input.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds (exit 124)")
    p.add_argument("--json", action="store_true", help="print the decision document")
    p.set_defaults(func=cmd_wait)


def cmd_wait(args: argparse.Namespace) -> int:
    from omni_tui.core.proposals import ProposalStore

    store = ProposalStore(_workspace(args))
    store.get(args.id)
    return _wait_and_report(store, args.id, args.timeout, args.json)


def _register_withdraw(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "withdraw",
        parents=[_common()],
        help="withdraw a pending proposal",
        description="Take back a pending proposal: it leaves the person's queue and its decision reads "
        "`withdrawn` (a `wait` on it exits 13). Refused once a person has decided it.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("--reason", help="why (shown in the cockpit and the audit log)")
    p.add_argument("--agent", default=os.environ.get("OMNI_TUI_AGENT") or None, help="who withdraws (default: the proposing agent)")
    p.add_argument("--json", action="store_true", help="print the decision document")
    p.set_defaults(func=cmd_withdraw)


def cmd_withdraw(args: argparse.Namespace) -> int:
    from omni_tui.core.proposals import ProposalStore

    ws = _workspace(args)
    _require_writable(ws)
    store = ProposalStore(ws)
    proposal = store.get(args.id)
    decision = store.withdraw(proposal.id, who=args.agent or proposal.agent, reason=args.reason)
    if args.json:
        _print_json(decision.to_json())
    else:
        _say(f"withdrawn {proposal.id}")
    return 0


# -- status -----------------------------------------------------------------------------------------


def _register_status(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        parents=[_common()],
        help="gate state, pending proposals, unapproved edits, last rebuild",
        description="Show the gate (clean, pending, unapproved edits, rebuilding, failed, tampered), the "
        "pending proposals with their checks, unapproved direct edits, the processes and the "
        "last rebuild. --json prints the stable document described in docs/protocol.md.",
    )
    p.add_argument("--json", action="store_true", help="print the stable JSON document (see docs/protocol.md)")
    p.add_argument("--no-nix", action="store_true", help="skip the Nix syntax check of pending proposals")
    p.set_defaults(func=cmd_status)


STATUS_BUDGET_S = 0.75  # status: seconds of checks not yet cached (per call); the rest of a long queue reports null
COMPACT_OVER = 200  # status --json: more pending proposals than this → compact JSON (the C encoder; indent is 10x slower)


def status_document(ws: Workspace, *, nix: bool = True) -> dict[str, Any]:
    """The `status --json` document (also used by agents' integrations)."""
    from omni_tui.core.gate import Gate
    from omni_tui.core.processes import as_status_json, collect
    from omni_tui.core.safefs import sha256_bytes

    gate = Gate(ws)
    state = gate.state()
    processes, processes_backend = as_status_json(collect(ws.root, unmanaged_after_s=ws.config.processes.unmanaged_after_s))
    # A long queue (10,000 proposals) must not make status slow: each file on disk is hashed once,
    # content checks come from the cache shared with the cockpit (by content hash), and what is not
    # known yet is checked — and remembered — only while STATUS_BUDGET_S lasts; the rest says null.
    current: dict[str, str | None] = {}
    for entry in state.pending:
        for path in entry.proposal.paths:
            if path not in current:
                try:
                    current[path] = sha256_bytes(ws.read_current(path))
                except OmniError:
                    current[path] = ""
    deadline = time.monotonic() + STATUS_BUDGET_S

    def checks(proposal: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if time.monotonic() < deadline:
            return gate.validate(proposal, nix=nix, current=current).to_json(), _card_json(ws, proposal)
        known = gate.validate_cached(proposal, nix=nix, current=current)
        return (None if known is None else known.to_json()), None

    pending = []
    for entry in state.pending:
        validation, card = checks(entry.proposal)
        pending.append(
            {
                "id": entry.proposal.id,
                "agent": entry.proposal.agent,
                "title": entry.proposal.title,
                "created_at": entry.proposal.created_at,
                "paths": entry.proposal.paths,
                "validation": validation,
                "card": card,
            }
        )
    return {
        "workspace": str(ws.root),
        "state_dir": str(ws.paths.state),
        "gate": state.kind,
        "tampered": [forgery.to_json() for forgery in state.tampered],
        "holder": None
        if state.holder is None
        else {
            "pid": state.holder.pid,
            "action": state.holder.action,
            "proposal_id": state.holder.proposal_id,
            "who": state.holder.who,
            "since": state.holder.since,
        },
        "failed": None
        if state.failed is None
        else {
            "proposal_id": state.failed.proposal_id,
            "paths": list(state.failed.paths),
            "reason": state.failed.reason,
            "exit_code": state.failed.exit_code,
            "interrupted": state.failed.interrupted,
        },
        "pending": pending,
        "unapproved": list(state.unapproved),
        "deleted": [p for p in state.unapproved if not os.path.lexists(ws.root / p)],
        "quarantined": [{"file": q.path.name, "error": q.error} for q in gate.store.quarantined()],
        "processes": processes,
        "processes_backend": processes_backend,
        "last_rebuild": state.last_rebuild,
        "orphan": None
        if (orphan := gate.orphan()) is None
        else {
            "pgid": orphan.pgid,
            "command": orphan.command,
            "owner_pid": orphan.owner_pid,
            "started_at": orphan.started_at,
        },
    }


def _card_lines(card_json: dict[str, Any] | None) -> Iterable[str]:
    """A pending proposal's change card under its status line: one line per category, then its risks."""
    if card_json is None:
        return
    from omni_tui.core.card import Card, render

    card = Card(card_json)
    for line in render.compact(card):
        yield f"      {line}"
    if card.risks:
        yield f"      risks           {render.risk_line(card)}"


def _card_json(ws: Workspace, proposal: Any) -> dict[str, Any] | None:
    """A pending proposal's change card (docs/protocol.md); None when it cannot be computed."""
    from omni_tui.core.card.project import proposal_card

    try:
        return proposal_card(ws, proposal).to_json()
    except Exception:  # noqa: BLE001 - agent bytes must never break `status`
        return None


# -- explain ---------------------------------------------------------------------------------------


def _register_explain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        parents=[_common()],
        help="what a proposal (or the files on disk) does to the environment: the change card",
        description="The change card: packages, languages, services (with ports), processes, env (secrets masked), "
        "scripts, tasks, shell hooks, git hooks, imports, devenv.yaml inputs, agent settings, files and risks. "
        "ID: a proposal against the files on disk now; --current: the approved baseline against the files on disk.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", metavar="ID", help="a proposal id")
    which.add_argument(
        "--current", action="store_true", help="the approved baseline → the guarded files on disk (what `devenv shell` would pick up)"
    )
    p.add_argument("--json", action="store_true", help="print the card as JSON (schema omni-tui/card@1, see docs/protocol.md)")
    p.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    from omni_tui.core.card import render
    from omni_tui.core.card.project import current_card, proposal_card
    from omni_tui.core.proposals import ProposalStore, check_id

    ws = _workspace(args)
    if args.current:
        card = current_card(ws)
        heading = "baseline → files on disk"
    else:
        store = ProposalStore(ws)
        proposal = store.get(check_id(args.id))
        card = proposal_card(ws, proposal)
        heading = f"proposal {proposal.id} ({store.status(proposal.id)}) → against the files on disk"
    if args.json:
        _print_json(card.to_json())
        return 0
    _say(heading)
    compact = render.compact(card)
    for line in compact:
        _say("  " + line)
    if compact or card.risks:
        _say("")
    for line in render.full(card):
        _say(line)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    doc = status_document(ws, nix=not args.no_nix)
    if args.json:
        _print_json(doc, compact=len(doc["pending"]) > COMPACT_OVER)
        return 0
    for line in _status_lines(doc):
        _say(line)
    return 0


def _status_lines(doc: dict[str, Any]) -> Iterable[str]:
    yield f"workspace: {doc['workspace']}"
    gate = doc["gate"]
    line = f"gate:      {gate.upper().replace('_', ' ')}"
    if doc["holder"]:
        line += f" ({doc['holder']['action']}" + (f" of {doc['holder']['proposal_id']}" if doc["holder"]["proposal_id"] else "") + ")"
    if doc["failed"]:
        line += f" ({doc['failed']['proposal_id']}: {doc['failed']['reason']})"
    yield line
    for forgery in doc.get("tampered", ()):
        yield f"tampered:  {forgery['path']}: {forgery['detail']} (resolve it in the cockpit)"
    yield f"pending:   {len(doc['pending'])}"
    for item in doc["pending"]:
        issues = item["validation"]["issues"] if item["validation"] is not None else None
        badge = "not checked yet" if issues is None else "ok" if not issues else f"{issues[0]['kind']}: {issues[0]['message']}"
        yield f"  {item['id']}  {item['agent']}  {item['title']}  [{', '.join(item['paths'])}]  {badge}"
        yield from _card_lines(item.get("card"))
    deleted = set(doc.get("deleted") or ())
    yield "unapproved: " + (
        ", ".join(f"{p} (would be deleted)" if p in deleted else p for p in doc["unapproved"]) if doc["unapproved"] else "none"
    )
    procs = doc["processes"]
    yield f"processes: {len(procs)} (via {doc['processes_backend'] or 'no backend'})"
    for p in procs:
        ports = ",".join(str(x) for x in p["ports"])
        yield f"  {p['name']}  {p['state']}" + (f"  pid {p['pid']}" if p["pid"] else "") + (f"  ports {ports}" if ports else "")
    for q in doc["quarantined"]:
        yield f"quarantined: {q['file']}: {q['error']}"
    if doc.get("orphan"):
        o = doc["orphan"]
        yield (
            f"orphaned build: `{o['command']}` (process group {o['pgid']}) still runs, left by pid {o['owner_pid']}; "
            "the cockpit, a rollback or `omni-tui rebuild` stops it first"
        )
    last = doc["last_rebuild"]
    if last:
        code = "" if last.get("exit_code") is None else f", exit {last['exit_code']}"
        yield f"last rebuild: {last.get('status')}{code}, {last.get('duration_s')} s at {last.get('finished_at')}" + (
            f" ({last['proposal_id']})" if last.get("proposal_id") else ""
        )
    else:
        yield "last rebuild: none"


# -- audit ------------------------------------------------------------------------------------------


def _register_audit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit",
        parents=[_common()],
        help="show or verify the hash-chained audit log",
        description="Without --verify prints the entries. --verify exits 0 when the chain is intact, 1 when it is not.",
    )
    p.add_argument("--verify", action="store_true", help="check the hash chain; report the first bad line and why")
    p.add_argument("-n", "--lines", type=int, metavar="N", help="show only the last N entries")
    p.add_argument("--json", action="store_true", help="print entries as JSON lines")
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from omni_tui.core.terminal import inert_json
    from omni_tui.core.workspace import Workspace

    ws = Workspace.open(getattr(args, "directory", None), init_baseline=False)
    if args.verify:
        from omni_tui.core.gate import Gate

        result = ws.audit.verify()
        if not result.ok:
            _say(f"{PROG}: {result.describe(ws.audit.path)}", err=True)
            return 1
        ws.adopt_unvouched_state()  # upgrading: a log from before vouched state is adopted once (docs/security.md)
        # The chain is intact; does it account for every decision and baseline on disk?
        forged = Gate(ws).forgeries()
        if forged:
            for forgery in forged:
                _say(f"{PROG}: {forgery.describe()}", err=True)
            return 1
        _say(f"ok: {result.describe(ws.audit.path)}; every decision and baseline is vouched for")
        return 0
    entries = ws.audit.entries()
    if args.lines is not None:
        entries = entries[-args.lines :] if args.lines > 0 else []
    for entry in entries:
        if args.json:
            print(inert_json(json.dumps(entry, ensure_ascii=False)))
        else:
            _say(_audit_line(entry))
    return 0


def _audit_line(entry: dict[str, Any]) -> str:
    parts = [f"{entry.get('seq'):>4}", str(entry.get("time")), str(entry.get("who")), str(entry.get("event"))]
    if entry.get("proposal_id"):
        parts.append(str(entry["proposal_id"]))
    if entry.get("exit_code") is not None:
        parts.append(f"exit {entry['exit_code']}")
    if entry.get("reason"):
        parts.append(f"— {entry['reason']}")
    return "  ".join(parts)


# -- demo -------------------------------------------------------------------------------------------


def _register_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="a throwaway workspace with real processes and a scripted agent, in the cockpit",
        description="Create a throwaway devenv workspace, run real processes and a scripted agent for it, "
        "and open the cockpit on it. Quitting stops every demo process and removes the "
        "workspace unless --keep.",
    )
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="create the workspace in DIR (must be new or empty) instead of a temporary directory",
    )
    p.add_argument("--keep", action="store_true", help="keep the workspace when the demo ends")
    p.add_argument("--simulate", action="store_true", help="use the labelled simulated build even when Nix is installed")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from omni_tui.demo.session import run_demo  # lazy: only the demo needs it

    return run_demo(args.dir, keep=args.keep, use_nix=not args.simulate)


# -- agents: hook claude-code, mcp ------------------------------------------------------------------


def _register_hook(sub: argparse._SubParsersAction) -> None:
    from omni_tui.agents import CLAUDE_CODE_TIMEOUT_S as DEFAULT_TIMEOUT_S
    from omni_tui.agents import CODEX_TIMEOUT_S, GEMINI_TIMEOUT_S

    p = sub.add_parser(
        "hook",
        help="agent hooks: Claude Code, Codex CLI and Gemini CLI pre-tool hooks",
        description="Agent hooks that turn an agent's write of a guarded file into a proposal, and "
        "refuse shell commands that would write one. See docs/agents.md.",
    )
    agents = p.add_subparsers(dest="agent", metavar="AGENT", required=True)
    cc = agents.add_parser(
        "claude-code",
        parents=[_common()],
        help="Claude Code PreToolUse hook (JSON on stdin)",
        description="Reads Claude Code's PreToolUse JSON on stdin. An Edit/MultiEdit/Write of a guarded "
        "file (of any project; symlinks resolved) becomes a proposal; waits for the "
        "decision and answers deny with the reason (the cockpit does the writing). A Bash "
        "command that would write a guarded file is denied. Other calls pass (exit 0, no "
        "output). Malformed input or any failure: one line on stderr, exit 2. "
        "--install writes the hook into .claude/settings.local.json. See docs/agents.md.",
    )
    cc.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds to wait for the decision (default {DEFAULT_TIMEOUT_S:g}; keep it below the hook's "
        "`timeout` in .claude/settings.local.json, 600 by default)",
    )
    cc.add_argument(
        "--on-timeout",
        choices=("ask", "deny"),
        default="deny",
        help="the answer when nobody decided in time (default deny, naming the proposal id; ask: Claude "
        "Code offers you a Yes that writes the file outside the gate)",
    )
    cc.add_argument(
        "--install",
        action="store_true",
        help="write this hook into the project's .claude/settings.local.json (merged, idempotent) and exit",
    )
    cc.set_defaults(func=cmd_hook_claude_code)
    for name, timeout_s, help_text, desc in (
        (
            "codex",
            CODEX_TIMEOUT_S,
            "Codex CLI PreToolUse hook (apply_patch and Bash; JSON on stdin)",
            "Reads Codex's PreToolUse JSON on stdin. An apply_patch touching a guarded file becomes a proposal; the "
            "answer is always deny (after approval: already applied by the cockpit). A Bash command that would write a "
            "guarded file is denied. Other calls pass (exit 0, no output). See docs/agents.md.",
        ),
        (
            "gemini",
            GEMINI_TIMEOUT_S,
            "Gemini CLI BeforeTool hook (write_file, replace, run_shell_command)",
            "Reads Gemini CLI's BeforeTool JSON on stdin. A write_file/replace of a guarded file becomes a proposal; "
            'the answer is {"decision": "deny", "reason": ...}. A run_shell_command that would write a guarded '
            "file is denied. Other calls pass (exit 0, no output). See docs/agents.md.",
        ),
    ):
        agent = agents.add_parser(name, parents=[_common()], help=help_text, description=desc)
        agent.add_argument(
            "--timeout",
            type=float,
            default=timeout_s,
            metavar="S",
            help=f"seconds to wait for the decision (default {timeout_s:g}; keep it below the hook "
            "timeout in the agent's settings); then deny naming the proposal id",
        )
        agent.add_argument(
            "--install", action="store_true", help="write this hook into the project's agent settings (merged, idempotent) and exit"
        )
        agent.set_defaults(func=cmd_hook_agent)


def cmd_hook_claude_code(args: argparse.Namespace) -> int:
    from omni_tui.agents import claude_code_hook

    if args.timeout < 0:
        raise OmniError("--timeout must be zero or more seconds")
    if args.install:
        from omni_tui.core.workspace import find_root

        # -C names the folder Claude Code starts in (a monorepo root need not hold devenv.nix itself).
        given = getattr(args, "directory", None)
        root = Path(given).expanduser().resolve() if given else find_root(None, env=os.environ, cwd=Path.cwd())
        if not root.is_dir():
            raise OmniError(f"-C {given}: not a directory")
        target, changed = claude_code_hook.install(root, timeout_s=args.timeout, on_timeout=args.on_timeout)
        _say(f"omni-tui: {'installed the hook in' if changed else 'the hook is already in'} {target}")
        for other in claude_code_hook.other_installs(root):
            _say(f"omni-tui: note: {other} runs `omni-tui hook claude-code` too; remove one, or each edit is proposed twice", err=True)
        return 0
    return claude_code_hook.main(explicit_root=getattr(args, "directory", None), timeout_s=args.timeout, on_timeout=args.on_timeout)


def cmd_hook_agent(args: argparse.Namespace) -> int:
    from importlib import import_module

    if args.timeout < 0:
        raise OmniError("--timeout must be zero or more seconds")
    module = import_module(f"omni_tui.agents.{args.agent}_hook")
    if args.install:
        from omni_tui.core.workspace import find_root

        given = getattr(args, "directory", None)
        root = Path(given).expanduser().resolve() if given else find_root(None, env=os.environ, cwd=Path.cwd())
        if not root.is_dir():
            raise OmniError(f"-C {given}: not a directory")
        target, changed = module.install(root, timeout_s=args.timeout)
        _say(f"omni-tui: {'installed the hook in' if changed else 'the hook is already in'} {target}")
        _say(f"omni-tui: note: {module.TRUST_NOTE}", err=True)
        return 0
    return module.main(explicit_root=getattr(args, "directory", None), timeout_s=args.timeout)


def _register_mcp(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mcp",
        parents=[_common()],
        help="MCP server over stdio for agents (Codex, Goose, Claude Code, ...)",
        description="Serve the agent tools (propose_change, proposal_status, withdraw_proposal, "
        "read_environment, list_processes, process_logs) over MCP on stdin/stdout.",
    )
    p.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    from omni_tui.agents.mcp_server import serve  # lazy: the mcp package is only needed here

    return serve(ws)


# -- run (the sandbox) ------------------------------------------------------------------------------


def _register_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        parents=[_common()],
        help="run an agent (or any command) in a sandbox that cannot change what a person approves",
        usage=f"{PROG} run [-C DIR] [--] COMMAND [ARG ...]",
        description="Run COMMAND under bubblewrap: the guarded files, the configuration, omni-tui's state "
        "(except proposals/) and the agents' own settings are read-only inside, and guarded "
        "files that do not exist cannot be created; the rest of the project, the network and "
        "your home stay as they are. `omni-tui propose --wait` works inside. Exits with the "
        "command's exit code; 2 when bubblewrap is missing or cannot create a sandbox. "
        "See docs/agents.md.",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND", help="the command and its arguments, e.g. `-- claude`")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise OmniError("run: give the command to run, e.g. `omni-tui run -- claude`")
    ws = _workspace(args)
    from omni_tui.agents import sandbox  # lazy: only `run` needs it

    return sandbox.run(ws, command)


# -- rebuild ---------------------------------------------------------------------------------------


def _register_rebuild(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rebuild",
        parents=[_common()],
        help="rebuild the approved state headlessly, streaming the log",
        description="Run the rebuild command (`[rebuild] command`, default `devenv shell -- true`) on the "
        "approved state, streaming its log, and end with one line saying how it went. Refused "
        "(exit 2) while guarded files have unapproved edits or another rebuild holds the gate. "
        "Exit code: the build's (0 ok), 124 timed out, 130 interrupted (Ctrl-C stops the build; "
        "it is still recorded). The cockpit's R key does the same.",
    )
    p.set_defaults(func=cmd_rebuild)


def rebuild_line(outcome: Any, built: int = 0) -> str:
    """The sentence `rebuild` ends with: `rebuilt in 1.5 s (exit 0, 3 derivations built)`,
    `rebuild failed after 0.1 s (exit 1)`, `rebuild cancelled after 1.0 s`, `rebuild did not run: …`."""
    took = f"{outcome.duration_s:.1f} s"
    if outcome.cancelled:
        return f"rebuild cancelled after {took}"
    if outcome.timed_out:
        return f"rebuild timed out after {took}"
    if outcome.exit_code is None:
        return f"rebuild did not run: {outcome.error or 'no exit status'}"
    detail = f"exit {outcome.exit_code}"
    if built:
        detail += f", {built} derivation{'s' if built != 1 else ''} built"
    text = f"rebuilt in {took} ({detail})" if outcome.ok else f"rebuild failed after {took} ({detail})"
    if outcome.restart_exit_code not in (None, 0):
        text += f"; restarting the processes failed (exit {outcome.restart_exit_code})"
    return text


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Exit code: the build's (0 ok); 124 timed out; 130 interrupted; 2 refused (unapproved edits, gate busy)."""
    import signal

    from omni_tui.core.gate import Gate
    from omni_tui.core.rebuild import runner_for
    from omni_tui.core.terminal import inert, needs_sanitizing, plain

    ws = _workspace(args)
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
        gate.on_notice = lambda message: _say(f"{PROG}: {message}", err=True)  # e.g. an orphaned build stopped first
        outcome = gate.rebuild_approved(lambda: runner.run_sync(on_display=show), command=runner.command)
    finally:
        signal.signal(signal.SIGINT, previous)
    parser.finish(0 if outcome.ok else 1)
    _say(f"{PROG}: {rebuild_line(outcome, parser.progress.done)} — log {outcome.log_path}")
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


# -- serve (the cockpit in a browser) --------------------------------------------------------------


def _register_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        parents=[_common()],
        help="serve the cockpit to a browser (token in the URL, loopback by default)",
        description="Serve the cockpit to a browser: each browser session is a full cockpit on the project. "
        "The URL printed holds a fresh access token. Plain HTTP: see docs/serve.md.",
    )
    p.add_argument("dir", nargs="?", default=None, metavar="DIR", help="the project directory (default: the current one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; anything else prints a warning)")
    p.add_argument("--port", default="8000", help="port to listen on (default 8000; 0 picks a free one)")
    p.add_argument("--who", default=None, help="the name decisions from the browser are recorded under (default: asked in the page)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from omni_tui.core.workspace import Workspace

    try:
        from omni_tui.web.server import serve_forever, valid_name, warn_if_exposed
    except ImportError as exc:  # textual-serve / aiohttp missing from a broken install
        raise OmniError(f"serve needs textual-serve and aiohttp: {exc}") from None
    if not args.port.isdigit() or not 0 <= int(args.port) <= 65535:
        raise OmniError(f"--port must be a number from 0 to 65535, not {args.port!r}")
    host = args.host.strip().strip("[]")
    if not host or any(ch.isspace() or ch in "/@?#" for ch in host):
        raise OmniError(f"--host must be an address or host name, not {args.host!r}")
    who = None
    if args.who is not None:
        who = valid_name(args.who)
        if who is None:
            raise OmniError(f"--who must be 1 to 40 printable characters, not {args.who!r}")
    ws = Workspace.open(args.dir if args.dir is not None else getattr(args, "directory", None))
    try:
        return serve_forever(ws.root, host=host, port=int(args.port), who=who, warning=warn_if_exposed(host))
    except OSError as exc:
        raise OmniError(f"cannot listen on {host}:{args.port}: {exc.strerror or exc}") from None


# -- wiring -----------------------------------------------------------------------------------------

REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = [
    _register_propose,
    _register_wait,
    _register_withdraw,
    _register_status,
    _register_audit,
    _register_demo,
    _register_explain,
    _register_hook,
    _register_mcp,
    _register_rebuild,
    _register_serve,
    _register_run,
]


def build_parser() -> tuple[argparse.ArgumentParser, list[str]]:
    """The subcommand parser and the subcommand names."""
    parser = _Parser(
        prog=PROG,
        description="A terminal cockpit to supervise AI agents changing a devenv environment. "
        f"`{PROG} [DIR]` opens the cockpit; the subcommands are the agent protocol.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-C", dest="directory", metavar="DIR", help="the devenv project")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in REGISTRARS:
        register(sub)
    return parser, list(sub.choices)


def command_names() -> list[str]:
    """The subcommand names, from `REGISTRARS` (`_register_<name>`), without building the parser:
    its options import the agents' modules, which opening the cockpit does not need."""
    return [register.__name__.removeprefix("_register_") for register in REGISTRARS]


# Text an agent or a person types that ends up in documents and the audit log: it must be UTF-8.
_TEXT_ARGS = {"title": "--title", "why": "--why", "agent": "--agent", "reason": "--reason", "id": "ID", "who": "--who"}


def check_arguments(args: argparse.Namespace) -> None:
    """Every argument checked before anything is written: OmniError naming the first bad one.

    Non-UTF-8 bytes in argv arrive as lone surrogates (`surrogateescape`): no JSON document, audit
    entry or terminal can carry them. A negative or NaN `--timeout` means nothing.
    """
    for attr, label in _TEXT_ARGS.items():
        value = getattr(args, attr, None)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise OmniError(
                    f"{label} is not valid UTF-8 (byte 0x{ord(value[exc.start]) & 0xFF:02x} at character {exc.start})"
                ) from None
    timeout = getattr(args, "timeout", None)
    if isinstance(timeout, float) and not timeout >= 0:  # NaN fails this too
        raise OmniError(f"--timeout must be zero or more seconds, not {timeout:g}")


def _require_writable(ws: Workspace) -> None:
    """A command that writes proposals, decisions or audit entries: refuse at once on a read-only state directory."""
    # In `omni-tui run` only proposals/ is writable, by design (its launcher audits what is proposed).
    sandboxed = bool(ws.env.get("OMNI_TUI_SANDBOX"))
    for folder in (ws.paths.proposals,) if sandboxed else (ws.paths.state, ws.paths.proposals, ws.paths.decisions):
        if not os.access(folder, os.W_OK):
            raise OmniError(f"the state directory {folder} is not writable (read-only file system or permissions); nothing was written")


def _wants_cockpit(argv: list[str], commands: Iterable[str]) -> bool:
    """No subcommand (after an optional leading `-C DIR`) and no --help/--version → the cockpit."""
    rest = list(argv)
    if rest[:1] == ["-C"]:
        rest = rest[2:]
    elif rest and rest[0].startswith("-C") and len(rest[0]) > 2:
        rest = rest[1:]
    if not rest:
        return True
    first = rest[0]
    return first not in set(commands) and first not in ("-h", "--help", "--version")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["hook"]:
        return _hook_main(argv)
    return _main(argv)


def _hook_main(argv: list[str]) -> int:
    """An agent hook never exits 1 (Claude Code and Codex run the tool after it): any failure is exit 2, one line."""
    try:
        return _main(argv)
    except SystemExit as exc:  # argparse: --help is 0, a bad argument 2
        return exc.code if exc.code in (0, 2) else 2  # type: ignore[return-value]
    except BaseException as exc:  # noqa: BLE001 - fail closed
        sys.stderr.write(f"{PROG} hook: internal error ({type(exc).__name__}); the tool call is blocked\n")
        return 2


def _main(argv: list[str]) -> int:
    if _wants_cockpit(argv, command_names()):
        args = _cockpit_parser().parse_args(argv)
    else:
        args = build_parser()[0].parse_args(argv)
    try:
        check_arguments(args)
        return int(args.func(args))
    except OmniError as exc:
        from omni_tui.core.proposals import EXIT_INVALID

        _say(f"{PROG}: {exc}", err=True)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # e.g. the disk is full: one line naming the file, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"{PROG}: {where}{exc.strerror or exc}", err=True)
        return 2
