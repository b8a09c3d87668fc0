"""`status` and `explain`: what the gate holds and what a change does, for agents and people.

`status --json` is what agents call most; it imports only what it reads (docs/performance.md) and
its document is the stable one described in docs/protocol.md.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from omni_tui.cli.base import Command, arg, one_of, print_json, say, workspace
from omni_tui.core.errors import OmniError

if TYPE_CHECKING:
    from omni_tui.core.workspace import Workspace

STATUS_BUDGET_S = 0.75  # status: seconds of checks not yet cached (per call); the rest of a long queue reports null
COMPACT_OVER = 200  # status --json: more pending proposals than this → compact JSON (the C encoder; indent is 10x slower)


def status_document(ws: Workspace, *, nix: bool = True, for_agents: bool = False) -> dict[str, Any]:
    """The `status --json` document (also used by agents' integrations). `for_agents`: cards and content
    checks may be read back from the state directory (`core.card.stored`, `ValidationCache`), which an
    agent can write — for agents only, never for what a person reads."""
    from omni_tui.core.gate import Gate
    from omni_tui.core.processes import as_status_json, collect
    from omni_tui.core.safefs import sha256_bytes

    gate = Gate(ws)
    state = gate.state()
    processes, processes_backend = as_status_json(collect(ws.root, unmanaged_after_s=ws.config.processes.unmanaged_after_s))
    # A long queue (10,000 proposals) must not make status slow: each file on disk is hashed once,
    # content checks come from the cache every process writes (by content hash; read back from disk
    # only for agents), and what is not known yet is checked — and remembered — only while
    # STATUS_BUDGET_S lasts; the rest says null.
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
            validation = gate.validate(proposal, nix=nix, current=current, shared=for_agents)
            return validation.to_json(), proposal_card_json(ws, proposal, stored=for_agents)
        known = gate.validate_cached(proposal, nix=nix, current=current, shared=for_agents)
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
        "unguarded_reads": _unguarded_reads(ws, stored=for_agents),
        "deleted": [p for p in state.unapproved if not os.path.lexists(ws.root / p)],
        "newly_guarded": [p for p in state.unapproved if not ws.has_baseline(p)],
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


def _unguarded_reads(ws: Workspace, *, stored: bool) -> list[dict[str, object]]:
    """Files the guarded ones make the environment read that the gate does not guard (`core.card.reads`);
    `stored`: for agents, with the modules' path literals kept on disk (`core.card.stored.stored_paths`)."""
    from omni_tui.core.card.project import unguarded_reads

    try:
        return [read.to_json() for read in unguarded_reads(ws, stored=stored)]
    except Exception:  # noqa: BLE001 - agent bytes must never break `status`
        return []


def unguarded_line(read: dict[str, Any]) -> str:
    """`nix/db.nix  (devenv.nix:3)`, and why it cannot be guarded or that it is absent."""
    notes = [f"{read['by']}:{read['line']}"]
    if read["outside"]:
        notes.append("outside the project or through a symlink: cannot be guarded")
    elif not read["exists"]:
        notes.append("absent: creating it changes the environment")
    return f"{read['path']}  ({'; '.join(notes)})"


def card_lines(card_json: dict[str, Any] | None) -> Iterable[str]:
    """A pending proposal's change card under its status line: one line per category, then its risks."""
    if card_json is None:
        return
    from omni_tui.core.card import Card, render

    card = Card(card_json)
    for line in render.compact(card):
        yield f"      {line}"
    if card.risks:
        yield f"      risks           {render.risk_line(card)}"


def proposal_card_json(ws: Workspace, proposal: Any, *, stored: bool = False) -> dict[str, Any] | None:
    """A pending proposal's change card (docs/protocol.md); None when it cannot be computed.

    `stored` (`status --json`, which agents poll): remembered on disk by content (`core.card.stored`),
    so the next call reads it back instead of loading the Nix reader and parsing again. Anything that
    can write the state directory can write such an entry, so the text a person reads (`status`
    without --json) and the cockpit compute the card themselves."""
    from omni_tui.core.card.diff import cached_card
    from omni_tui.core.card.project import proposal_pairs

    try:
        pairs = proposal_pairs(ws, proposal)
        if not stored:
            return cached_card(pairs).to_json()
        from omni_tui.core.card.stored import stored_card

        return stored_card(ws.paths.state / "cache" / "cards", pairs).to_json()
    except Exception:  # noqa: BLE001 - agent bytes must never break `status`
        return None


def cmd_status(args: argparse.Namespace) -> int:
    ws = workspace(args)
    doc = status_document(ws, nix=not args.no_nix, for_agents=args.json)
    if args.json:
        print_json(doc, compact=len(doc["pending"]) > COMPACT_OVER)
        return 0
    for line in status_lines(doc):
        say(line)
    return 0


def status_lines(doc: dict[str, Any]) -> Iterable[str]:
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
        yield from card_lines(item.get("card"))
    deleted, newly = set(doc.get("deleted") or ()), set(doc.get("newly_guarded") or ())
    marks = {**{p: " (newly guarded: none of it approved yet)" for p in newly}, **{p: " (would be deleted)" for p in deleted}}
    yield "unapproved: " + (", ".join(p + marks.get(p, "") for p in doc["unapproved"]) if doc["unapproved"] else "none")
    unguarded = [read for read in doc.get("unguarded_reads") or () if not read.get("acknowledged")]
    if unguarded:
        yield "not guarded: the environment reads these too; an agent can change them unseen (add them to [guard] files):"
        for read in unguarded:
            yield f"  {unguarded_line(read)}"
    left = [read["path"] for read in doc.get("unguarded_reads") or () if read.get("acknowledged")]
    if left:
        yield "unguarded on purpose ([guard] unguarded_ok): " + ", ".join(left)
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


def cmd_explain(args: argparse.Namespace) -> int:
    from omni_tui.core.card import render
    from omni_tui.core.card.project import current_card, proposal_card
    from omni_tui.core.proposals import ProposalStore, check_id

    ws = workspace(args)
    if args.current:
        card = current_card(ws)
        heading = "baseline → files on disk"
    else:
        store = ProposalStore(ws)
        proposal = store.get(check_id(args.id))
        card = proposal_card(ws, proposal)
        heading = f"proposal {proposal.id} ({store.status(proposal.id)}) → against the files on disk"
    if args.json:
        print_json(card.to_json())
        return 0
    say(heading)
    compact = render.compact(card)
    for line in compact:
        say("  " + line)
    if compact or card.risks:
        say("")
    for line in render.full(card):
        say(line)
    return 0


COMMANDS = (
    Command(
        "status",
        help="gate state, pending proposals, unapproved edits, last rebuild",
        description="Show the gate (clean, pending, unapproved edits, rebuilding, failed, tampered), the "
        "pending proposals with their checks, unapproved direct edits, the processes and the "
        "last rebuild. --json prints the stable document described in docs/protocol.md.",
        run=cmd_status,
        args=(
            arg("--json", action="store_true", help="print the stable JSON document (see docs/protocol.md)"),
            arg("--no-nix", action="store_true", help="skip the Nix syntax check of pending proposals"),
        ),
    ),
    Command(
        "explain",
        help="what a proposal (or the files on disk) does to the environment: the change card",
        description="The change card: packages, languages, services (with ports), processes, env (secrets masked), "
        "scripts, tasks, shell hooks, git hooks, imports, devenv.yaml inputs, agent settings, files and risks. "
        "ID: a proposal against the files on disk now; --current: the approved baseline against the files on disk.",
        run=cmd_explain,
        args=(
            one_of(
                arg("id", nargs="?", metavar="ID", help="a proposal id"),
                arg(
                    "--current",
                    action="store_true",
                    help="the approved baseline → the guarded files on disk (what `devenv shell` would pick up)",
                ),
                required=True,
            ),
            arg("--json", action="store_true", help="print the card as JSON (schema omni-tui/card@1, see docs/protocol.md)"),
        ),
    ),
)
