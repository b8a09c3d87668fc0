"""The psutil backend: find a project's processes by environment or cwd, with figures, ports and actions.

A process belongs to the project when its environment has `DEVENV_ROOT` = the root or its cwd is
the root or below it; its descendants belong too. The cockpit itself and its ancestors never do.
One row is shown per top-level process (a manager's child, or a process whose parent is not in the
project); its descendants' CPU, memory and ports are summed into it. Managers (honcho, overmind, ...)
get a row of their own; interactive shells and tmux servers are see-through.

Only the project's services are rows for long: what a manager started (named from the manager's
captured output, else from its Procfile / mprocs.yaml) and known services. A process that merely runs
in the project folder (an agent's `pytest`, a `sleep`) is shown only while it is alive and only once
it listens on a port or has lived `unmanaged_after_s` (default 30 s); it leaves as soon as it ends and
is never counted as a restart of another process with the same name.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from omni_tui.core.errors import BackendError
from omni_tui.core.processes.honcho_logs import CapturedOutput, captured_lines, follow_captured, short_name
from omni_tui.core.processes.model import PortCheck, ProcessInfo
from omni_tui.core.processes.process_tree import SHELLS, Proc, Row, build_rows
from omni_tui.core.processes.procfile import ConfigCache
from omni_tui.core.processes.procfs import (
    HAS_PROC,
    STATUS_NAMES,
    environ_root,
    exec_mark,
    parse_stat,
    read_cwd,
    read_stat,
    read_stat_bytes,
    rebuild_marked,
    run_time,
    self_and_ancestors,
    threads,
)
from omni_tui.core.processes.row_labels import config_label
from omni_tui.core.processes.runtime import DevenvPaths
from omni_tui.core.processes.services import (
    SERVICE_NAMES,
    PortProber,
    listening_ports,
    listening_sockets,
    socket_inodes,
)
from omni_tui.core.processes.stopping import terminate
from omni_tui.core.safefs import read_regular

_GONE_KEEP_S = 600.0
_GONE_MAX = 50
# A known process's file descriptors are looked at again when a new listening socket appears
# anywhere, and at least this often (a socket handed over without a new process is rare). The
# periodic look is spread by pid over that time (a thirtieth of the processes each second at one
# refresh per second) rather than every process in one refresh (≈ 8 ms for 300 processes); every
# 10 s it cost ≈ 1 ms of every refresh, a fifth of the budget of a refresh of 300 processes.
_SOCKETS_REFRESH_S = 30.0
_SOCKETS_SLOTS = 30
# Processes outside the project are looked at again this often (pid reuse, a new cwd is not followed):
# a refresh reads only the project's processes and new pids. Each is due in its pid's slot of that
# period (a tenth each half second), not all in one refresh: every fifth refresh read the whole machine
# (≈ 1.5 ms for 100 processes, the p95 of a 300-process refresh).
_OTHERS_EVERY_S = 5.0
_OTHERS_SLOTS = 10
# The project's processes keep /proc/<pid>/stat open (one pread per refresh instead of open, read,
# close: 4x cheaper), and /proc/<pid>/schedstat beside it: two descriptors a process. At most half the
# soft limit on open files, within these bounds (a fixed 512 left 50 of 306 processes read afresh each
# refresh, ≈ 1 ms of a 5 ms scan, where the limit allowed far more).
_STAT_FDS_MIN = 512
_STAT_FDS_MAX = 4096


def _stat_fds_budget() -> int:
    """How many /proc files a scanner keeps open: half the soft RLIMIT_NOFILE, 512 to 4,096."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return _STAT_FDS_MIN
    if soft == resource.RLIM_INFINITY or soft < 0:
        return _STAT_FDS_MAX
    return max(_STAT_FDS_MIN, min(_STAT_FDS_MAX, soft // 2))


# A process that has not run is not read in full (its schedstat, a quarter of the kernel's work of its
# stat, says so) for up to this long plus a phase by pid: what can change meanwhile is its memory.
_STAT_FULL_S = 5.0
# (comm, state, ppid, start, CPU seconds, rss, exec mark): `parse_stat` and `exec_mark` of one read.
_Stat = tuple[str, str, int, float, float, int, bytes]
# What `_stat` answers when a process's stat reads exactly as at the last refresh.
_UNCHANGED: _Stat = ("", "", 0, 0.0, 0.0, 0, b"")


def _read_stat(pid: int) -> _Stat | None:
    """A process's stat and exec mark, read afresh (no mark off Linux: an exec there keeps what was read)."""
    if not HAS_PROC:
        st = read_stat(pid)
        return None if st is None else (*st, b"")
    data = read_stat_bytes(pid)
    got = parse_stat(data) if data else None
    return None if got is None or data is None else (*got, exec_mark(data))


class _Gone:
    """A row a manager started that ended: what it last showed (as exited) and when it went."""

    __slots__ = ("at", "info")

    def __init__(self, info: ProcessInfo, at: float) -> None:
        self.info = info
        self.at = at


class ProjectScanner:
    """Scans for a project's processes; keep one per project so CPU figures have two samples."""

    name = "psutil"
    actions = frozenset({"stop"})
    found_by = "found by scanning the project's processes (psutil)"  # why restart is refused, in the review's words

    def __init__(
        self,
        root: Path | str,
        paths: DevenvPaths | None = None,
        *,
        grace_s: float = 5.0,
        probe_every_s: float = 15.0,
        captured_logs: list[Path] | None = None,
        unmanaged_after_s: float = 30.0,
    ) -> None:
        self.root = Path(root)
        self._root_s = str(self.root)
        self._root_prefix = self._root_s.rstrip("/") + "/"
        self.paths = paths or DevenvPaths.for_root(self.root, {})
        self.grace_s = grace_s
        # A process no manager started is listed once it listens on a port or has lived this long.
        self.unmanaged_after_s = unmanaged_after_s
        self._configs = ConfigCache()
        self._recorded: set[int] = set()
        self._overminds: list[int] = []
        self._last_members: set[int] = set()
        self._others_slot = -_OTHERS_SLOTS  # the slot of `_OTHERS_EVERY_S` the last refresh reached
        self._fds = 0
        self._fds_max = _stat_fds_budget()  # /proc files kept open at most
        self._hidden: list[Row] = []  # live rows of the last scan not shown (young one-off processes)
        self._hidden_at: tuple[dict[int, tuple[str, int]] | None, float] = (None, 0.0)  # the tree of the manager `devenv up -d` recorded
        self._managed_names: set[str] = set()  # rows of the last scan a manager started (they may linger as exited)
        self._labelled_names: set[str] = set()  # rows of the last scan named by their manager
        self._procs: dict[int, Proc] = {}
        self._gone: dict[str, _Gone] = {}
        self._rows: dict[str, Row] = {}
        self._infos: dict[str, ProcessInfo] = {}
        self._restarts: dict[str, int] = {}
        self._prober = PortProber(every_s=probe_every_s)
        self._captured = [CapturedOutput(p) for p in (captured_logs or [self.paths.manager_log])]
        self._excluded = self_and_ancestors()
        self._lock = threading.Lock()
        self._listening: frozenset[int] = frozenset()  # listening socket inodes at the last refresh
        self._rescan_sockets = True  # a new listening socket appeared: every process's sockets are looked up
        self._now_m = 0.0  # monotonic time of the refresh under way
        self._table_m = 0.0  # monotonic time the process table was last read (what was read then is sampled at it)
        # The manager pid the members and rows were last worked out with, and what came of it: most
        # refreshes see the same tree (`_tree_changed` says when a process of the project came, went
        # or changed parent since).
        self._tree: tuple[int | None] | None = None
        self._tree_changed = True
        self._tree_members: set[int] = set()
        self._tree_rows: list[Row] = []

    # ----------------------------------------------------------------- scanning

    def _belongs(self, pid: int) -> bool:
        # The cwd first: one readlink, where the environment is a read of up to several KiB (and the
        # first scan — all `omni-tui status` does — looks at every process on the machine).
        cwd = read_cwd(pid)
        if cwd is not None and (cwd == self._root_s or cwd.startswith(self._root_prefix)):
            return True
        return environ_root(pid) == self._root_s

    def _refresh_table(self) -> None:
        try:
            if HAS_PROC:
                pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
            else:
                import psutil

                pids = psutil.pids()
        except OSError:
            pids = []
        live: dict[int, Proc] = {}
        procs = self._procs
        watched = self._last_members
        now = time.monotonic()
        # The slots of the others' period passed since the last refresh (None: a whole period, all due).
        slot = int(now * _OTHERS_SLOTS / _OTHERS_EVERY_S)
        passed, self._others_slot = slot - self._others_slot, slot
        due = None if passed >= _OTHERS_SLOTS else frozenset(s % _OTHERS_SLOTS for s in range(slot - passed + 1, slot + 1))
        pread = os.pread
        # Whether the project's tree may differ from the last refresh's: processes elsewhere on the
        # machine come and go every second (a busy machine's builds and tests) without changing it.
        tree_changed = False
        for pid in pids:
            old = procs.get(pid)
            if old is not None:
                if due is not None and pid not in watched and pid % _OTHERS_SLOTS not in due:
                    live[pid] = old  # not the project's: its figures are not shown
                    continue
                if old.fd is not None:
                    # The common case, inline: its schedstat (read first: a run after it shows next
                    # time) or else its /proc stat reads exactly as last time (a sleeping process): no
                    # CPU used, same figures. Anything else goes through `_stat`.
                    ran = b""
                    if old.sched_fd is not None:
                        try:
                            ran = pread(old.sched_fd, 128, 0)
                        except OSError:
                            ran = b""
                        if ran and ran == old.ran and now < old.stat_due:
                            if now > old.sampled:
                                old.cpu_pct = 0.0
                            old.sampled = now
                            live[pid] = old
                            continue
                    try:
                        data = pread(old.fd, 4096, 0)
                    except OSError:
                        data = b""
                    if ran and data:
                        old.ran = ran
                        if now >= old.stat_due:
                            old.stat_due = now + _STAT_FULL_S + (pid % 32) * 0.1
                    if data and data == old.raw:
                        if now > old.sampled:
                            old.cpu_pct = 0.0
                        old.sampled = now
                        live[pid] = old
                        continue
                    st = self._stat_of(pid, old, data)
                    if old.sched_fd is not None and (old.raw is None or threads(old.raw) != 1):
                        self._close_sched(old)  # its other threads run unseen by the main thread's schedstat
                else:
                    st = self._stat(pid, old, pid in watched)
            else:
                st = self._stat(pid, old, False)
            if st is None:
                continue
            if st is _UNCHANGED and old is not None:
                if now > old.sampled:
                    old.cpu_pct = 0.0
                old.sampled = now
                live[pid] = old
                continue
            live[pid], moved = self._sample(pid, old, st, now, watched)
            tree_changed = tree_changed or moved
        if not tree_changed:
            tree_changed = any(pid not in live for pid in watched)  # a member ended
        self._tree_changed = self._tree_changed or tree_changed
        for pid, p in procs.items():
            if p.fd is not None and live.get(pid) is not p:
                self._close_fd(p)
        self._procs = live
        self._table_m = now

    def _sample(self, pid: int, old: Proc | None, st: _Stat, now: float, watched: set[int]) -> tuple[Proc, bool]:
        """`st`, read at `now`, as `old` brought up to date (the same process) or a new `Proc`, and
        whether the project's tree may have changed with it (`watched`: the project's pids)."""
        comm, state, ppid, start, cpu_s, rss, mark = st
        # The same process: same start and name, and no exec since (a zombie has no exec mark left).
        if old is not None and abs(old.start - start) < 0.05 and old.comm == comm and (old.mark == mark or state in ("Z", "X")):
            dt = now - old.sampled
            if dt > 0:
                old.cpu_pct = max(0.0, (cpu_s - old.cpu_s) / dt * 100)
            # Reparented out of or into the project's tree.
            moved = ppid != old.ppid and (pid in watched or ppid in watched)
            old.ppid, old.status, old.cpu_s, old.rss, old.sampled = ppid, state, cpu_s, rss, now
            return old, moved
        member = pid not in self._excluded and self._belongs(pid)
        if old is not None and old.fd is not None:  # the pid was reused: the old process's file is stale
            self._close_fd(old)
        # A new process of the project (or a member's pid reused).
        return Proc(pid, start, comm, ppid, state, member, cpu_s, rss, now, mark=mark), member or ppid in watched or pid in watched

    def _read_joining(self, members: set[int]) -> set[int]:
        """`members` once the processes joining them in this refresh are read afresh.

        A process elsewhere is read again only in its slice of `_OTHERS_EVERY_S`, so one that joins the
        project's set (the manager `devenv up -d` records, its children) may not have been read in this
        refresh: its first row would carry the figures of its last look, up to 5 s old (once an rss of 0,
        read mid-exec). Each is read now, as the project's processes are. One that ended, or whose pid
        turned out to be another process's, changes the tree: the members are worked out again."""
        now = self._table_m
        procs = self._procs
        before = self._last_members
        for _ in range(3):  # a pid reused twice within one refresh is not worth a loop without end
            changed = False
            for pid in [pid for pid in members if pid not in before and procs[pid].sampled < now]:
                old = procs[pid]
                st = self._stat(pid, old, True)
                if st is None:  # ended since the table was read
                    self._close_fd(old)
                    del procs[pid]
                    changed = True
                elif st is _UNCHANGED:
                    old.cpu_pct, old.sampled = 0.0, now  # not run since its last look: same figures, no CPU
                else:
                    procs[pid], moved = self._sample(pid, old, st, now, members)
                    changed = changed or moved
                if procs.get(pid) is old:
                    # Its stat may have been kept open while it was elsewhere: its schedstat now too.
                    self._keep_sched(pid, old)
            if not changed:
                break
            self._tree_changed = True
            members = self._members()
        return members

    def _stat(self, pid: int, old: Proc | None, watched: bool) -> _Stat | None:
        """The process's stat and exec mark: through its open file when it has one (a dead process's fails: read afresh)."""
        if old is not None and old.fd is not None:
            try:
                data = os.pread(old.fd, 4096, 0)
            except OSError:
                data = b""
            if data and data == old.raw:
                return _UNCHANGED
            return self._stat_of(pid, old, data)
        elif old is not None and HAS_PROC and self._fds < (self._fds_max if watched else self._fds_max // 4):
            # A process elsewhere keeps its stat open too (its periodic re-read is then one pread, a
            # quarter of open/read/close) while under a quarter of the budget is open: the project's
            # processes keep the rest.
            try:
                old.fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
                self._fds += 1
            except OSError:
                return None
            got = self._stat(pid, old, False)
            if watched:
                self._keep_sched(pid, old)
            return got
        return _read_stat(pid)

    def _keep_sched(self, pid: int, p: Proc) -> None:
        """Keeps a project's single-threaded process's schedstat open beside its stat, within the budget."""
        if p.fd is not None and p.sched_fd is None and p.raw is not None and threads(p.raw) == 1 and self._fds < self._fds_max:
            try:
                p.sched_fd = os.open(f"/proc/{pid}/schedstat", os.O_RDONLY | os.O_CLOEXEC)
                self._fds += 1
            except OSError:
                pass  # no schedstat (a kernel without it): its stat is read every time

    def _stat_of(self, pid: int, old: Proc, data: bytes) -> _Stat | None:
        """The stat `data` read through `old`'s open file, when it changed (empty: the read failed)."""
        got = parse_stat(data) if data else None
        if got is not None:
            old.raw = data
            return (*got, exec_mark(data))
        self._close_fd(old)
        return _read_stat(pid)

    def _close_fd(self, p: Proc) -> None:
        if p.fd is not None:
            try:
                os.close(p.fd)
            except OSError:
                pass
            p.fd = None
            self._fds -= 1
        self._close_sched(p)

    def _close_sched(self, p: Proc) -> None:
        if p.sched_fd is not None:
            try:
                os.close(p.sched_fd)
            except OSError:
                pass
            p.sched_fd, p.ran = None, b""
            self._fds -= 1

    def close(self) -> None:
        """Close the /proc files kept open (also done when the scanner is collected)."""
        for p in self._procs.values():
            self._close_fd(p)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _members(self) -> set[int]:
        procs = self._procs
        manager = self._manager_pid()
        if self._tree is not None and self._tree[0] == manager and not self._tree_changed:
            return self._tree_members  # no process of the project came, went or changed parent: the same members
        self._tree = None
        children: dict[int, list[int]] = {}
        for p in procs.values():
            children.setdefault(p.ppid, []).append(p.pid)
        members: set[int] = set()

        def walk(stack: list[int], skip_rebuilds: bool) -> None:
            while stack:
                pid = stack.pop()
                if pid in members or (skip_rebuilds and self._from_rebuild(procs[pid])):
                    continue
                members.add(pid)
                stack.extend(children.get(pid, ()))

        # The recorded manager's tree first: it belongs even when a rebuild's restart command started it.
        walk([manager] if manager is not None and manager in procs else [], False)
        self._recorded = set(members)
        walk([p.pid for p in procs.values() if p.member], True)
        self._tree, self._tree_members, self._tree_rows = (manager,), members - self._excluded, []
        self._tree_changed = False
        return self._tree_members

    def _rows_of(self, members: set[int]) -> list[Row]:
        """`build_rows`, kept while the tree is the same and no member's command line is still unread."""
        procs = self._procs
        if self._tree_rows and self._tree is not None and members is self._tree_members:
            return self._tree_rows
        rows = build_rows(procs, members)
        # A shell or python read mid-exec has no command line yet: whether it is see-through may change.
        settled = all(
            procs[pid]._cmdline is not None for pid in members if procs[pid].comm in SHELLS or procs[pid].comm.startswith("python")
        )
        self._tree_rows = rows if settled and members is self._tree_members else []
        return rows

    def _from_rebuild(self, p: Proc) -> bool:
        if p.rebuild is None:
            marked = rebuild_marked(p.pid)
            if marked is None:
                # Exited since the table was read (a build loop's `sleep`): its parent, which has not
                # reaped it yet, still says whether it was the rebuild's.
                parent = self._procs.get(p.ppid)
                marked = parent is not None and parent is not p and self._from_rebuild(parent)
            p.rebuild = marked
        return p.rebuild

    def _manager_pid(self) -> int | None:
        """The detached manager `devenv up -d` recorded in `.devenv/processes.pid` (it and its children belong)."""
        try:
            # a FIFO an agent put in its place must not block the scan (and the panel) forever
            text = read_regular(self.paths.manager_pid_file, limit=64).decode().strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def scan(self) -> list[ProcessInfo]:
        """One refresh: live project processes (one per row) plus recently exited ones."""
        with self._lock:
            return self._scan()

    def _scan(self) -> list[ProcessInfo]:
        now = time.time()
        for cap in self._captured:
            cap.refresh()
        self._refresh_table()
        members = self._members()
        if members is not self._last_members:  # the tree changed: processes may have joined
            members = self._read_joining(members)
        self._last_members = members
        rows = self._rows_of(members)
        table = listening_sockets() if rows else None
        if table is not None:
            keys = frozenset(table)
            self._now_m = time.monotonic()
            self._rescan_sockets = not keys <= self._listening
            self._listening = keys
        manager_names: dict[int, str] = {}
        all_names: set[str] = set()
        for cap in self._captured:
            manager_names.update(cap.pids)
            all_names |= cap.names
        self._overminds = [pid for pid in members if self._procs[pid].comm == "overmind"]
        shown: list[tuple[Row, bool]] = []
        hidden: list[Row] = []
        for row in rows:
            managed = self._managed(row, manager_names)
            if managed or self._worth_showing(row, table, now):
                shown.append((row, managed))
            elif row.head.status not in ("Z", "X"):
                hidden.append(row)
        self._hidden, self._hidden_at = hidden, (table, now)
        taken = {r.head.name for r, _ in shown if r.head.name}
        out: list[ProcessInfo] = []
        new_rows: dict[str, Row] = {}
        infos: dict[str, ProcessInfo] = {}
        managed_names: set[str] = set()
        labelled_names: set[str] = set()
        # Managers first, then what they started, then the rest: services keep their names.
        for row, managed in sorted(shown, key=lambda rm: (not rm[0].manager, not rm[1], rm[0].head.pid)):
            head = row.head
            managed_name = manager_names.get(head.pid)
            label = None if managed_name is not None or not managed else config_label(row, self._procs, self._overminds, self._configs)
            provisional = head.comm in SHELLS and head.name is not None and head.name.partition(":")[0] == head.comm
            if (
                head.name is None
                or provisional
                or (managed_name is not None and head.name != short_name(managed_name, all_names))
                or (label is not None and head.name != label and not head.labelled)
            ):
                taken.discard(head.name)
                head.name, head.labelled = self._row_name(row, manager_names, all_names, taken, label)
                taken.add(head.name)
                previous = self._infos.get(head.name)
                # A restart is the manager starting the same entry again, never a stranger with the same name.
                if head.labelled and (
                    head.name in self._gone or (previous is not None and previous.pid != head.pid and head.name in self._labelled_names)
                ):
                    self._restarts[head.name] = self._restarts.get(head.name, 0) + 1
            self._gone.pop(head.name, None)
            info = self._row_info(row, table, now)
            out.append(info)
            new_rows[head.name] = row
            infos[head.name] = info
            if managed:
                managed_names.add(head.name)
            if head.labelled:
                labelled_names.add(head.name)
        self._prober.forget_stale()
        self._remember_gone(new_rows, infos, now)
        self._managed_names, self._labelled_names = managed_names, labelled_names
        self._rows = new_rows
        out.extend(g.info for g in self._gone.values())
        return out

    def hidden(self) -> list[ProcessInfo]:
        """The live processes the last scan did not list (for a manager's answer to join by pid, port or name)."""
        with self._lock:
            table, now = self._hidden_at
            out = []
            for row in self._hidden:
                if row.head.pid in self._procs:
                    info = self._row_info(row, table, now)
                    out.append(info._replace(name=row.head.name or row.head.comm))
            return out

    def _managed(self, row: Row, manager_names: dict[int, str]) -> bool:
        """Started by a process manager (or `devenv up -d`'s recorded one), or a known service."""
        head = row.head
        if row.manager or row.owner is not None or head.pid in self._recorded or head.pid in manager_names:
            return True
        if head.labelled:
            return True
        procs = self._procs
        if SERVICE_NAMES.get(head.comm) or any(SERVICE_NAMES.get(procs[p].comm) for p in row.pids):
            return True
        # overmind's processes live in its tmux server: named by its Procfile, they are its own.
        return bool(self._overminds) and config_label(row, self._procs, self._overminds, self._configs) is not None

    def _worth_showing(self, row: Row, table: dict[int, tuple[str, int]] | None, now: float) -> bool:
        """A process no manager started: shown while alive, once it listens or has lived long enough."""
        head = row.head
        if head.status in ("Z", "X"):
            return False  # a one-off that ended leaves at once
        if now - head.start >= self.unmanaged_after_s:
            return True
        procs = self._procs
        return any(self._listening_ports(procs[pid], table) for pid in [head.pid, *row.pids] if pid in procs)

    def _row_name(
        self, row: Row, manager_names: dict[int, str], all_names: set[str], taken: set[str], label: str | None = None
    ) -> tuple[str, bool]:
        """(row name, whether the manager named it)."""
        head = row.head
        name = manager_names.get(head.pid)
        labelled = name is not None or label is not None
        if name is not None:
            name = short_name(name, all_names)
        elif label is not None:
            name = label
        else:
            name = head.comm
            if head.comm in SHELLS:  # `sh -c CMD`: name it after what it runs
                kids = [self._procs[p] for p in row.pids if self._procs[p].ppid == head.pid]
                if len(kids) == 1:
                    name = kids[0].comm
        if name in taken:
            name = f"{name}:{head.pid}"
        return name, labelled

    def _row_info(self, row: Row, table: dict[int, tuple[str, int]] | None, now: float) -> ProcessInfo:
        head = row.head
        procs = self._procs
        cpu: float | None = head.cpu_pct
        rss = head.rss
        sockets = head.sockets
        if sockets is not None and not sockets and table is not None and self._now_m < head.sockets_due and not self._rescan_sockets:
            ports: list[tuple[str, int]] = []  # `_listening_ports` inline for most rows: none when last looked, not due again
        else:
            ports = self._listening_ports(head, table)
        # A lone process with no port (most rows) is what its own figures say: the same figures as last
        # refresh → last refresh's object (its uptime is reckoned from `started_at` where it is shown).
        key: tuple[object, ...] | None = None
        if not ports and len(row.pids) <= 1 and head.command is not None:
            key = (head.name, head.status, cpu, rss, self._restarts.get(head.name or "", 0) if self._restarts else 0, row.manager)
            if head.info_key == key and head.info is not None:
                return head.info
        service = SERVICE_NAMES.get(head.comm)
        if head.command is None:
            cmdline = head.cmdline()
            command = " ".join(cmdline)
            if cmdline:
                head.command = command  # read mid-exec (empty): joined again next time
        else:
            command = head.command
        for pid in row.pids if len(row.pids) > 1 else ():  # its descendants (the list holds the head too)
            if pid == head.pid:
                continue
            p = procs[pid]
            service = service or SERVICE_NAMES.get(p.comm)
            rss += p.rss
            if cpu is not None and p.cpu_pct is not None:
                cpu += p.cpu_pct
            if not row.manager:
                ports = ports + self._listening_ports(p, table)
        checks: list[PortCheck] = []
        seen_ports: dict[int, str] = {}
        if ports:
            for addr, port in ports:
                seen_ports.setdefault(port, addr)
            for port, addr in sorted(seen_ports.items()):
                checks.append(self._prober.check(addr, port))
        zombie = head.status == "Z"
        raw = STATUS_NAMES.get(head.status, head.status)
        if row.manager:
            raw = f"manager ({raw})"
        if zombie:
            state = "exited"
        elif head.status in ("T", "t"):
            state = "stopped"
        elif checks and all(c.accepting for c in checks):
            state = "ready"
        else:
            state = "running"
        info = ProcessInfo(
            head.name or head.comm,
            "psutil",
            state,
            raw,
            head.pid,
            None if zombie else cpu,
            None if zombie else rss,
            None,  # uptime_s: `started_at` carries it
            self._restarts.get(head.name or "", 0) if self._restarts else 0,
            tuple(seen_ports) if seen_ports else (),
            (all(c.accepting for c in checks) if checks else None),
            tuple(checks) if checks else (),
            service,
            command,
            None,
            head.start,
        )  # positional, in the fields' order: a keyword call costs a third more, 300 times a refresh
        head.info_key, head.info = key, info
        return info

    def _listening_ports(self, p: Proc, table: dict[int, tuple[str, int]] | None) -> list[tuple[str, int]]:
        """(address, port) pairs `p` listens on; its fds are read only when new or when sockets changed."""
        if table is None:
            return listening_ports(p.pid, None)
        now = self._now_m
        due = p.sockets is not None and now >= p.sockets_due
        # The periodic look, like a new socket elsewhere, reads the fds only of a process that ran since
        # its last look (a fd table changes only by the process's own syscalls): ≈ 23 µs saved a process.
        if p.sockets is None or ((due or self._rescan_sockets) and self._ran_since_sockets(p)):
            p.sockets = frozenset(i for i in socket_inodes(p.pid) if i in table)
            p.sockets_ran = run_time(p.pid)
            due = True
        if due:
            # Due again at the next time of the pid's phase in every _SOCKETS_REFRESH_S (at most that far
            # away): the processes' periodic looks are spread over the period, not all in one refresh.
            phase = (p.pid % _SOCKETS_SLOTS) * _SOCKETS_REFRESH_S / _SOCKETS_SLOTS
            p.sockets_due = now + _SOCKETS_REFRESH_S - (now - phase) % _SOCKETS_REFRESH_S
        return [table[i] for i in p.sockets if i in table]

    def _ran_since_sockets(self, p: Proc) -> bool:
        """Whether `p` may have opened or been handed a socket since its fds were read: it ran since then.

        A new listening socket anywhere on the machine (another project's test server) used to make every
        process's fds be read again (≈ 35 µs each, 10 ms for 300). A single-threaded process whose run
        time (ns, /proc/<pid>/schedstat) has not moved cannot have changed its fd table; one with threads
        (schedstat counts the main one only) or an unreadable run time is read again."""
        ran = p.sockets_ran
        if ran is None or p.raw is None or threads(p.raw) != 1:
            return True
        return run_time(p.pid) != ran

    def _remember_gone(self, new_rows: dict[str, Row], infos: dict[str, ProcessInfo], now: float) -> None:
        exit_codes: dict[str, int] = {}
        all_names: set[str] = set()
        for cap in self._captured:
            exit_codes.update(cap.exit_codes)
            all_names |= cap.names
        by_short = {short_name(n, all_names): rc for n, rc in exit_codes.items()}
        for name, last in self._infos.items():
            # Only what a manager started lingers as exited; a one-off process leaves at once.
            if name not in new_rows and name in self._managed_names:
                self._gone[name] = _Gone(
                    last._replace(
                        state="exited",
                        raw_state="gone",
                        cpu_percent=None,
                        rss=None,
                        uptime_s=None,
                        started_at=None,
                        ports=(),
                        port_checks=(),
                        ready=None,
                    ),
                    now,
                )
        self._infos = infos
        # The manager may log the exit code a moment after the process is gone.
        for name, gone in self._gone.items():
            rc = by_short.get(name)
            if rc is not None and gone.info.exit_code is None:
                gone.info = gone.info._replace(raw_state=f"gone (rc={rc})", exit_code=rc)
        for name in [n for n, g in self._gone.items() if now - g.at > _GONE_KEEP_S]:
            del self._gone[name]
        while len(self._gone) > _GONE_MAX:
            del self._gone[min(self._gone, key=lambda n: self._gone[n].at)]

    def check_ports(self, ports: tuple[int, ...], known: tuple[PortCheck, ...] = ()) -> tuple[PortCheck, ...]:
        """Port checks for ports a manager reported (reusing checks the scan already made)."""
        have = {c.port: c for c in known}
        return tuple(have.get(p) or self._prober.check("127.0.0.1", p) for p in ports)

    # ----------------------------------------------------------------- actions

    def _row(self, name: str) -> Row:
        row = self._rows.get(name)
        if row is None:
            if name in self._gone:
                raise BackendError(f"process '{name}' is not running")
            raise BackendError(f"no process named '{name}' in {self.root}")
        return row

    def stop(self, name: str) -> None:
        """SIGTERM the process's group (or its tree), SIGKILL what is left after the grace period."""
        with self._lock:
            row = self._row(name)
            self._refresh_table()
            members = self._members()
            head = self._procs.get(row.head.pid)
            if head is None or head.start != row.head.start:
                raise BackendError(f"process '{name}' (pid {row.head.pid}) has already ended")
            if head.pid not in members:
                raise BackendError(f"pid {head.pid} does not belong to {self.root}: refusing to signal it")
            tree = [p for p in row.pids if p in members and p in self._procs]
        terminate(head.pid, tree, self.grace_s)

    def stop_pid(self, pid: int) -> None:
        """Stop one process by pid — refused unless it belongs to the project."""
        with self._lock:
            self._refresh_table()
            members = self._members()
            if pid not in members:
                raise BackendError(f"pid {pid} does not belong to {self.root}: refusing to signal it")
            children: dict[int, list[int]] = {}
            for p in self._procs.values():
                children.setdefault(p.ppid, []).append(p.pid)
            tree, stack = [], [pid]
            while stack:
                cur = stack.pop()
                if cur in members and cur not in tree:
                    tree.append(cur)
                    stack.extend(children.get(cur, ()))
        terminate(pid, tree, self.grace_s)

    def restart(self, name: str) -> None:
        self._row(name)
        raise BackendError(f"the psutil backend cannot restart '{name}': restart it through its process manager")

    def start(self, name: str) -> None:
        raise BackendError(f"the psutil backend cannot start '{name}': start it through its process manager")

    # ----------------------------------------------------------------- logs

    def logs(self, name: str, lines: int = 200) -> list[str]:
        with self._lock:
            row = self._rows.get(name)
            return captured_lines(self._captured, name, lines, listed=name in self._managed_names, manager=bool(row and row.manager))

    def follow(self, name: str, stop: threading.Event, poll_s: float = 0.5, lines: int = 200) -> Iterator[str]:
        """Yield the last lines, then each new line of `name` as the captured output grows."""
        return follow_captured([c.path for c in self._captured], name, stop, poll_s, lines, listed=name in self._managed_names)

    def list(self) -> list[ProcessInfo]:
        return self.scan()
