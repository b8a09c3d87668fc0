"""The gate's integrity side: what the audit chain does not account for, and a person's answer to it.

`forgeries()` lists the log cut or rewritten and the decisions and baselines it does not vouch for
(cheap: see core/ledger.py); every write refuses while there are any (`_refuse_if_tampered`);
`resolve_tampered()` puts back what the chain vouches for and records who accepted the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from omni_tui.core.audit import write_external_head
from omni_tui.core.errors import GateError
from omni_tui.core.gate.writes import GuardedWrites
from omni_tui.core.ledger import Forgery, baseline_key, decision_key
from omni_tui.core.proposals import TAMPERED, ProposalEntry, new_id
from omni_tui.core.safefs import atomic_write, read_bytes, sha256_bytes, write_backup


class Integrity(GuardedWrites):
    """Forgeries the audit chain does not vouch for, refusing to write over them, and resolving them."""

    def forgeries(self, entries: list[ProposalEntry] | None = None) -> list[Forgery]:
        """The log cut or rewritten, decisions and baselines it does not vouch for (cheap: see ledger.py)."""
        entries = self.store.entries() if entries is None else entries
        out: list[Forgery] = []
        ledger = self.ws.ledger
        ledger.refresh()
        chain = ledger.chain_problem(state_exists=ledger.entries == 0 and self._state_exists())
        if chain is not None:
            out.append(Forgery("audit", str(self.ws.audit.path), chain))
        for entry in entries:
            if entry.status == TAMPERED and entry.decision is not None:
                out.append(
                    Forgery(
                        "decision",
                        str(self.ws.paths.decisions / f"{entry.proposal.id}.json"),
                        (entry.decision.reason or "").split(": ", 1)[-1],
                    )
                )
        out.extend(self.ws.baseline_forgeries())
        out.extend(Forgery("folder", str(folder), problem) for folder, problem in self.ws.paths.replaced_folders())
        return out

    def _state_exists(self) -> bool:
        for folder in (self.ws.paths.baseline, self.ws.paths.decisions):
            try:
                if any(not f.name.startswith(".") for f in folder.iterdir()):
                    return True
            except OSError:
                continue
        return False

    def _refuse_if_tampered(self, what: str) -> None:
        forged = self.forgeries()
        if forged:
            more = f" (and {len(forged) - 1} more)" if len(forged) > 1 else ""
            raise GateError(
                f"cannot {what}: the state was tampered with — {forged[0].describe()}{more}; a person must resolve it in the cockpit first"
            )

    def resolve_tampered(self, *, dry_run: bool = False) -> list[str]:
        """A person's answer to `tampered`: put back what the chain vouches for, record it, re-baseline.

        Forged decision files go to quarantine/ and the vouched-for bytes (kept in objects/) are put
        back, else the proposal is pending again; a forged or deleted baseline gets its vouched-for
        bytes back, else (nothing kept) the baseline as it is now is accepted by this person; a cut or
        rewritten log is set aside (a rewritten one as `audit.jsonl.tampered-<time>`) and a new head is
        recorded; a state folder replaced by a link or a file is set aside the same way and made again. One audit entry (`tamper_resolved`, who = this person) vouches for the result.
        Returns what was (with `dry_run`: would be) done, one line each.
        """
        if dry_run:
            return self._resolve(dry_run=True, folders=self._put_back_folders(dry_run=True))
        # Before taking the lock: acting under it refuses while a state folder is replaced.
        folders = self._put_back_folders(dry_run=False)
        with self.exclusive("resolve"):
            return self._resolve(dry_run=False, folders=folders)

    def _put_back_folders(self, *, dry_run: bool) -> list[str]:
        """State folders replaced by a link or a file: set the link aside (what it points to is never
        touched) and make the folder again. The state directory itself cannot be put back from inside."""
        done: list[str] = []
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        for folder, problem in self.ws.paths.replaced_folders():
            if folder == self.ws.paths.state:
                raise GateError(
                    f"{folder}: {problem}; remove it and start omni-tui again (the state directory cannot be put back from inside)"
                )
            aside = folder.with_name(f"{folder.name}.tampered-{stamp}")
            done.append(f"{folder}: {problem}; set aside as {aside.name} (what it points to is left untouched) and made again, empty")
            if not dry_run:
                os.replace(folder, aside)  # renames the link itself, never what it points to
                folder.mkdir()
        return done

    def _resolve(self, *, dry_run: bool, folders: list[str]) -> list[str]:
        forged = [f for f in self.forgeries() if f.kind != "folder"]
        if not forged and not folders:
            if dry_run:
                return []
            raise GateError("nothing to resolve: every decision and baseline matches the audit log")
        ledger, paths = self.ws.ledger, self.ws.paths
        done: list[str] = list(folders)
        state: dict[str, Any] = {}
        label = f"tampered@{new_id()}"
        chain = next((f for f in forged if f.kind == "audit"), None)
        for forgery in forged:
            if forgery.kind == "decision":
                pid = os.path.basename(forgery.path)[: -len(".json")]
                key = decision_key(pid)
                kept = next((d for d in (ledger.recover(x) for x in sorted(ledger.latest(key) or (), key=str) if x) if d), None)
                on_disk = read_bytes(paths.decisions / f"{pid}.json")
                digest = sha256_bytes(on_disk)
                if chain is not None and kept is None and digest is not None and ledger.recover(digest) is not None:
                    # The log that vouched for it is cut, but a copy of exactly these bytes was kept when an
                    # entry vouched for them: keep it (the entry below vouches for it again).
                    done.append(f"{forgery.path}: kept — these bytes were vouched for before the log was cut")
                    state[key] = digest
                    continue
                if kept is not None:
                    done.append(f"{forgery.path}: forged decision set aside in quarantine/; the one the audit log records is put back")
                else:
                    done.append(f"{forgery.path}: forged decision set aside in quarantine/; proposal {pid} is pending again")
                if dry_run:
                    continue
                file = paths.decisions / f"{pid}.json"
                if file.exists():
                    self.store.quarantine(file, f"forged decision: {forgery.detail}; set aside by {self.who}")
                if kept is not None:
                    atomic_write(file, kept)
                state[key] = sha256_bytes(kept)
        for rel in self.ws.guarded():
            recorded, digest = self.ws.baseline_sha(rel)
            key = baseline_key(rel)
            if (recorded or ledger.vouched(key)) and ledger.problem(key, digest) is None:
                continue
            if not recorded and not ledger.vouched(key):
                continue
            latest = ledger.latest(key) or frozenset()
            restored: tuple[bool, bytes | None] = (False, None)
            if None in latest:
                restored = (True, None)
            else:
                for candidate in sorted(x for x in latest if x):
                    data = ledger.recover(candidate)
                    if data is not None:
                        restored = (True, data)
                        break
            if restored[0]:
                done.append(
                    f"baseline of {rel}: the approved content the audit log records is put back (the forged copy is kept in backups/{label})"
                )
            elif chain is not None and digest is not None and ledger.recover(digest) is not None:
                done.append(f"baseline of {rel}: kept — these bytes were vouched for before the log was cut")
            else:
                done.append(
                    f"baseline of {rel}: the approved content cannot be recovered; the baseline as it is now is accepted by {self.who} — review it"
                )
            if dry_run:
                continue
            now = self.ws.read_baseline(rel) if recorded else None
            write_backup(paths.backups, label, rel, now)
            data = restored[1] if restored[0] else now
            self.ws.write_baseline(rel, data)
            state[key] = ledger.keep(data)
        if chain is not None:
            rewritten = "does not continue" in chain.detail or "rewritten" in chain.detail
            done.append(
                f"{chain.path}: {chain.detail}; "
                + ("set aside as evidence and a new chain started" if rewritten else "a new head is recorded")
                + f", vouching for the state as it is now (by {self.who})"
            )
            if not dry_run:
                if rewritten:
                    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
                    os.replace(self.ws.audit.path, self.ws.audit.path.with_name(f"{self.ws.audit.path.name}.tampered-{stamp}"))
                    self.ws.audit.head_path.unlink(missing_ok=True)
                # The chain before this point no longer vouches for anything reliably: vouch for it all.
                for rel in self.ws.guarded():
                    recorded, _digest = self.ws.baseline_sha(rel)
                    if recorded:
                        state[baseline_key(rel)] = ledger.keep(self.ws.read_baseline(rel))
                for file in sorted(paths.decisions.glob("*.json")):
                    data = read_bytes(file)
                    if data is not None:
                        state[decision_key(file.stem)] = ledger.keep(data)
        if dry_run:
            return done
        entry = self.ws.audit.append(
            "tamper_resolved",
            who=self.who,
            via=self.via,
            decision="rebaselined",
            reason="; ".join([*folders, *(f.describe() for f in forged)])[:4000],
            state=state,
        )
        if chain is not None and self.ws.audit.external_head is not None:
            raw = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            write_external_head(self.ws.audit.external_head, int(entry["seq"]), hashlib.sha256(raw).hexdigest(), self.ws.audit.path)
        self.ws.ledger.refresh()
        self._sweep_stale("the resolution of tampered state")
        return done
