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
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from omni_tui.core import sandbox
from omni_tui.core.errors import OmniError
from omni_tui.core.proposals import WITHDRAW_SUFFIX, ProposalStore
from omni_tui.core.safefs import read_regular
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
                doc = json.loads(read_regular(request, limit=64 * 1024))  # never a FIFO put in its place
                who, reason = doc.get("who"), doc.get("reason")
                proposal = self.store.get(proposal_id)
                self.store.withdraw(
                    proposal.id,
                    who=who if isinstance(who, str) and who.strip() else proposal.agent,
                    reason=reason if isinstance(reason, str) and reason.strip() else None,
                )
            except (OmniError, ValueError, AttributeError, OSError, RecursionError):
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
            self.store.record_proposed(proposal)

    def run(self) -> None:
        while not self.stop.wait(WITNESS_POLL_S):
            try:
                self.scan()
            except OmniError:
                pass  # the cockpit shows the log's problem; the agent keeps running


GUARD_POLL_S = 0.05


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def rebind_read_only(pid: int, path: Path) -> None:
    """Bind `path` (as it is now) read-only over itself inside the sandbox whose process is `pid`.

    In a forked child (setns into a user namespace needs a single-threaded process): enter the
    sandbox's user namespace (when it has its own: not as root) and mount namespace, then bind and
    remount read-only — the calls bubblewrap made at the start. The launcher owns that user
    namespace, so no privilege is needed. OSError when it cannot.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ms_bind, ms_remount, ms_rdonly = 4096, 32, 1
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        code = 1
        try:
            if os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user"):
                if libc.setns(os.open(f"/proc/{pid}/ns/user", os.O_RDONLY), 0x10000000) != 0:
                    raise OSError(ctypes.get_errno(), "setns(user)")
            if libc.setns(os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY), 0x00020000) != 0:
                raise OSError(ctypes.get_errno(), "setns(mnt)")
            target = os.fsencode(path)
            # Inside, the detached bind left the path leading to the new file (a bind's source must be in
            # the caller's mount namespace, so it is named by the path, not by an fd opened outside).
            if libc.mount(target, target, None, ms_bind, None) != 0:
                raise OSError(ctypes.get_errno(), "mount --bind")
            if libc.mount(None, target, None, ms_remount | ms_bind | ms_rdonly, None) != 0:
                raise OSError(ctypes.get_errno(), "mount -o remount,ro")
            code = 0
        except OSError as exc:
            code = min(exc.errno or 1, 125)
        except BaseException:
            code = 126
        finally:
            os._exit(code)
    _pid, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise OSError(code, f"cannot bind {path} read-only again inside the sandbox: {os.strerror(code)}")


class FileGuard:
    """Keeps each read-only file read-only (and current) inside when it is replaced outside.

    A bind of a single file is attached to the directory entry; replacing the file outside (rename
    over: the gate's atomic writes, most editors, `git checkout`) detaches it inside, which would make
    the file writable there. The guard notices within `GUARD_POLL_S` and binds the new file again;
    a file removed outside cannot be bound, so the sandbox is stopped (`lost`).
    """

    def __init__(self, files: tuple[Path, ...]) -> None:
        self.ids = {path: _identity(path) for path in files}
        self.pid: int | None = None
        self.lost: Path | None = None
        self.why = "it was removed"
        self.stop = threading.Event()

    def check(self) -> None:
        if self.pid is None:
            return
        for path, known in list(self.ids.items()):
            now = _identity(path)
            if now == known:
                continue
            if now is None:
                self.lost = path
                return
            try:
                rebind_read_only(self.pid, path)
            except OSError as exc:
                self.lost, self.why = path, str(exc)
                return
            self.ids[path] = now

    def run(self, info_fd: int, process: subprocess.Popen[bytes]) -> None:
        """Read bwrap's child pid from `info_fd`, then check until stopped; stop the sandbox if a file is lost."""
        data = b""
        with os.fdopen(info_fd, "rb", buffering=0) as info:
            while self.pid is None:
                chunk = info.read(4096)
                if not chunk:
                    return  # bwrap ended before it reported (it failed to start)
                data += chunk
                try:
                    self.pid = int(json.JSONDecoder().raw_decode(data.decode().strip())[0]["child-pid"])
                except (ValueError, KeyError, TypeError):
                    continue
        while not self.stop.wait(GUARD_POLL_S):
            self.check()
            if self.lost is not None:
                process.terminate()
                return


def run(ws: Workspace, command: list[str], env: Mapping[str, str] | None = None) -> int:
    """Run `command` sandboxed; returns its exit code (128+N when killed by signal N)."""
    env = dict(os.environ if env is None else env)
    if not command:
        raise OmniError("run: give the command to run, e.g. `omni-tui run -- claude`")
    if env.get(sandbox.SANDBOX_ENV):
        raise OmniError(f"already inside an omni-tui sandbox (of {env[sandbox.SANDBOX_ENV]}); run the command directly")
    bwrap = sandbox.find_bwrap(env)
    # The sandbox keeps this PATH and cwd: a command that is not there is said here in one line (exit 2),
    # not as bubblewrap's `bwrap: execvp NAME: No such file or directory` with exit 1.
    if shutil.which(command[0], path=env.get("PATH")) is None:
        raise OmniError(f"run: no such command: {command[0]} (not found on PATH or not executable)")
    sandbox.check_bwrap(bwrap)
    plan = sandbox.plan(ws, env=env)
    info_read, info_write = os.pipe()
    argv = plan.argv(command, bwrap=bwrap, info_fd=info_write)
    guard = FileGuard(plan.bound_files())
    witness = ProposalWitness(ws)
    entry = sandbox.register(ws.paths, command)
    thread = threading.Thread(target=witness.run, name="omni-tui-witness", daemon=True)
    thread.start()
    # Ctrl-C and ^Z go to the whole foreground group (the sandbox's processes included); a TERM or
    # HUP sent to the launcher alone is passed on.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            process = subprocess.Popen(argv, env=env, pass_fds=(info_write,))
        except OSError as exc:
            os.close(info_read)
            raise OmniError(f"cannot start bubblewrap: {exc.strerror or exc}") from None
        finally:
            os.close(info_write)
        guarding = threading.Thread(target=guard.run, args=(info_read, process), name="omni-tui-guard", daemon=True)
        guarding.start()
        for sig in previous:
            signal.signal(sig, lambda signum, _frame: process.send_signal(signum))
        code = sandbox.wait_quietly(process)
        guard.stop.set()
        guarding.join()
        if guard.lost is not None:
            print(
                f"omni-tui: {guard.lost} was replaced outside the sandbox and could not be kept read-only inside "
                f"({guard.why}), so the sandbox was stopped",
                file=sys.stderr,
            )
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
