"""`omni-tui run [-C DIR] [--] COMMAND…`: start an agent (or any command) under bubblewrap.

The launcher stays outside the sandbox: it registers the sandbox (the cockpit's header counts
them), starts `bwrap` with the plan from `core.sandbox`, witnesses the proposals made inside (the
audit log is read-only in there, so the launcher appends their `proposed` entries), carries out
the withdrawals asked for from inside (`proposals/<id>.withdraw`: decisions are read-only there),
and exits with the command's exit code. Nothing here approves anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

from omni_tui.core import sandbox
from omni_tui.core.errors import OmniError
from omni_tui.core.proposals import WITHDRAW_SUFFIX, ProposalStore
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace

WITNESS_POLL_S = 0.25


class ProposalWitness:
    """Appends the `proposed` audit entry for proposals written from inside the sandbox."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.store = ProposalStore(ws)
        self.known = self._names()
        self.stop = threading.Event()

    def _names(self) -> set[str]:
        try:
            return {p.name for p in self.ws.paths.proposals.glob("*.json")}
        except OSError:
            return set()

    def withdrawals(self) -> None:
        """Carry out the withdrawals asked for from inside (`proposals/<id>.withdraw`, see ProposalStore.withdraw)."""
        for request in sorted(self.ws.paths.proposals.glob(f"*{WITHDRAW_SUFFIX}")):
            proposal_id = request.name.removesuffix(WITHDRAW_SUFFIX)
            try:
                doc = json.loads(request.read_bytes())
                who, reason = doc.get("who"), doc.get("reason")
                proposal = self.store.get(proposal_id)
                self.store.withdraw(
                    proposal.id,
                    who=who if isinstance(who, str) and who.strip() else proposal.agent,
                    reason=reason if isinstance(reason, str) and reason.strip() else None,
                )
            except (OmniError, ValueError, AttributeError, OSError):
                pass  # decided meanwhile, unknown, or not a request: the asker sees the status it finds
            finally:
                request.unlink(missing_ok=True)

    def scan(self) -> None:
        """Audit the proposals made inside since the last look, then carry out the withdrawals asked for."""
        self._audit_new()
        self.withdrawals()

    def _audit_new(self) -> None:
        new = sorted(self._names() - self.known)
        if not new:
            return
        audited = {e.get("proposal_id") for e in self.ws.audit.entries() if e.get("event") == "proposed"}
        for name in new:
            self.known.add(name)
            proposal_id = name.removesuffix(".json")
            if proposal_id in audited:
                continue  # proposed outside the sandbox: its own process audited it
            try:
                proposal = self.store.get(proposal_id)  # a malformed file is quarantined, as the cockpit would
            except OmniError:
                continue
            self.ws.audit.append(
                "proposed",
                who=proposal.agent,
                via="agent",
                proposal_id=proposal.id,
                reason=proposal.title,
                sha256_before={c.path: c.base_sha256 for c in proposal.changes},
                sha256_after={c.path: sha256_bytes(c.new_content.encode("utf-8")) for c in proposal.changes},
            )

    def run(self) -> None:
        while not self.stop.wait(WITNESS_POLL_S):
            try:
                self.scan()
            except OmniError:
                pass  # the cockpit shows the log's problem; the agent keeps running


def run(ws: Workspace, command: list[str], env: Mapping[str, str] | None = None) -> int:
    """Run `command` sandboxed; returns its exit code (128+N when killed by signal N)."""
    env = dict(os.environ if env is None else env)
    if not command:
        raise OmniError("run: give the command to run, e.g. `omni-tui run -- claude`")
    if env.get(sandbox.SANDBOX_ENV):
        raise OmniError(f"already inside an omni-tui sandbox (of {env[sandbox.SANDBOX_ENV]}); run the command directly")
    bwrap = sandbox.find_bwrap(env)
    sandbox.check_bwrap(bwrap)
    argv = sandbox.plan(ws, env=env).argv(command, bwrap=bwrap)
    witness = ProposalWitness(ws)
    entry = sandbox.register(ws.paths, command)
    thread = threading.Thread(target=witness.run, name="omni-tui-witness", daemon=True)
    thread.start()
    # Ctrl-C and ^Z go to the whole foreground group (the sandbox's processes included); a TERM or
    # HUP sent to the launcher alone is passed on.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            process = subprocess.Popen(argv, env=env)
        except OSError as exc:
            raise OmniError(f"cannot start bubblewrap: {exc.strerror or exc}") from None
        for sig in previous:
            signal.signal(sig, lambda signum, _frame: process.send_signal(signum))
        code = sandbox.wait_quietly(process)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        witness.stop.set()
        thread.join()
        try:
            witness.scan()  # what the command proposed just before it ended
        except OmniError:
            pass
        Path(entry).unlink(missing_ok=True)
    return sandbox.exit_status(code)
