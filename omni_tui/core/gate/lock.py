"""Who the gate acts as, and its lock: one apply, rebuild, rollback or resolution at a time, across processes.

An exclusive `flock` on `paths.lock`, which also holds the holder's pid, action and proposal id
(so `state()` elsewhere reports `rebuilding`). Whoever takes the lock first stops a build left
running by a process that died (an orphan, core/build_group.py) and says so in `notices`.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from omni_tui.core.audit import utc_now
from omni_tui.core.errors import GateError, LockBusyError
from omni_tui.core.gate.state import Holder
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.safefs import file_lock, is_locked
from omni_tui.core.workspace import Workspace, default_who

# The build-group records are read when the lock is taken or `status` asks (the cockpit: after its first frame).
if TYPE_CHECKING:
    from omni_tui.core.build_group import OrphanBuild

LOCK_PROBE_GRACE_S = 0.25  # how long a busy gate lock is tried again when nobody is named as its holder
HOLDER_NAME_GRACE_S = 0.05  # how long a held lock with no name written is read again (`GateLock.holder`)


def _lock_info(path: os.PathLike[str]) -> dict[str, object]:
    """The holder's record in the lock file; {} when it is empty or not a JSON object (the state folder is
    writable by an agent running as the person: any bytes may be there)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO put in its place must not block the read
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        info = json.loads(os.read(fd, 4096) or b"{}")
    except (OSError, ValueError, RecursionError):
        return {}
    finally:
        os.close(fd)
    return info if isinstance(info, dict) else {}


class GateLock:
    """The base of `Gate`: the workspace, the person (`who`, `via`), the store, and the lock."""

    def __init__(self, ws: Workspace, who: str | None = None, store: ProposalStore | None = None, via: str = "terminal") -> None:
        self.ws = ws
        self.who = who or default_who(ws.env)
        # Where the person decided: "terminal" (a cockpit in a terminal), "web" (`omni-tui serve`), "cli".
        self.via = via
        self.store = store or ProposalStore(ws)
        self.notices: list[str] = []  # what the gate did on its own that a person should be told (an orphan stopped)
        self._orphans_stopped: list[OrphanBuild] = []
        self.on_notice: Callable[[str], None] | None = None  # told each notice as it happens (the CLI prints it)

    # -- the lock ---------------------------------------------------------------------------

    def holder(self) -> Holder | None:
        """Who holds the gate lock, or None when nobody does.

        A holder writes its name into the lock file just after taking the lock and clears it just before
        letting go: in those instants the lock is held with nothing written. Read then, the holder would be
        nobody known — another process, as far as a cockpit can tell, which then showed its own rebuild as
        "in another cockpit" — so the file is read again for a moment before the holder is called unknown."""
        deadline: float | None = None
        while True:
            if not is_locked(self.ws.paths.lock):
                return None
            info = _lock_info(self.ws.paths.lock)
            if info:
                break
            now = time.monotonic()
            if deadline is None:
                deadline = now + HOLDER_NAME_GRACE_S
            elif now >= deadline:
                break  # held, and nothing written: an older omni-tui, or a file someone emptied
            time.sleep(0.002)

        def text(key: str) -> str | None:
            value = info.get(key)
            return value if isinstance(value, str) else None

        pid = info.get("pid")
        return Holder(
            pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            text("action") or "rebuild",
            text("proposal_id"),
            text("who"),
            text("since"),
        )

    @contextlib.contextmanager
    def exclusive(self, action: str, proposal_id: str | None = None) -> Iterator[None]:
        """Hold the gate lock for `action`; LockBusyError naming the holder when another one runs."""
        stack = contextlib.ExitStack()
        # Anyone asking "is it held?" (`is_locked`: status, a cockpit's header) holds a shared lock for
        # an instant; that is not a holder, so a busy answer is asked again for a moment before it counts.
        deadline = time.monotonic() + LOCK_PROBE_GRACE_S
        while True:
            fd = stack.enter_context(file_lock(self.ws.paths.lock, blocking=False))
            if fd is not None:
                break
            stack.close()
            holder = self.holder()
            if holder is not None or time.monotonic() >= deadline:
                busy = holder.describe() if holder else "another apply or rebuild"
                raise LockBusyError(f"the gate is busy: {busy} is running; try again when it finishes")
            time.sleep(0.005)
        with stack:
            info = {"pid": os.getpid(), "action": action, "proposal_id": proposal_id, "who": self.who, "since": utc_now()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
            try:
                self.ws.paths.ensure()  # a state folder replaced by a link while this process ran: refuse, in one line
                self._reap_orphan()
                yield
            finally:
                os.ftruncate(fd, 0)

    def _reap_orphan(self) -> None:
        """Under the lock: a build whose process group outlived the process that started it is stopped, and said.

        A build is recorded in `<state>/build.json` only while a process holding this lock runs it; a
        recorded group that still runs now that we hold the lock was left by a process that died (a
        cockpit killed mid-rebuild). It is never left running beside a new apply, rebuild or rollback.
        """
        from omni_tui.core.build_group import BUILD_FILE, find_orphan, stop_orphan

        group_file = self.ws.paths.state / BUILD_FILE
        orphan = find_orphan(group_file)
        if orphan is None:
            return
        if not stop_orphan(group_file, orphan):
            raise GateError(
                f"an orphaned rebuild {orphan.describe()} is still running and could not be stopped; "
                f"stop it (kill -KILL -- -{orphan.pgid}) and try again"
            )
        message = f"stopped an orphaned rebuild {orphan.describe()}: the process that started it is gone"
        self._orphans_stopped.append(orphan)
        self.notices.append(message)
        if self.on_notice is not None:
            self.on_notice(message)
        self.ws.audit.append("orphan_stopped", who=self.who, via=self.via, reason=message, command=orphan.command)

    def reap_orphans(self) -> list[str]:
        """A starting cockpit: stop an orphaned build if there is one; the notices to show ([] when the gate is busy)."""
        before = len(self.notices)
        try:
            with self.exclusive("recover"):
                pass
        except LockBusyError:
            return []
        return self.notices[before:]

    def orphan(self) -> OrphanBuild | None:
        """An orphaned build still running while nobody holds the gate (what `status` reports)."""
        if is_locked(self.ws.paths.lock):
            return None
        from omni_tui.core.build_group import BUILD_FILE, find_orphan

        return find_orphan(self.ws.paths.state / BUILD_FILE)
