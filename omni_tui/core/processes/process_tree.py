"""The project's processes as rows: which process heads a row, which are see-through, which manager owns it.

One row per top-level process (a manager's child, or a process whose parent is not in the project);
its descendants are attached to it. Interactive shells, tmux servers, `devenv`, other cockpits and a
manager's helper forks are see-through: their children head rows of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omni_tui.core.processes.procfs import read_cmdline

if TYPE_CHECKING:
    from omni_tui.core.processes.model import ProcessInfo

MANAGERS = frozenset({"honcho", "overmind", "hivemind", "mprocs", "process-compose", "process-compos"})
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "tcsh", "csh", "nu", "xonsh"})
SEE_THROUGH = frozenset({"tmux: server", "tmux", "screen", "devenv", "direnv", "sudo", "env", "nix"})


# Proc and Row are plain classes with slots, not dataclasses: `status --json` imports this module on
# every call, and `dataclasses` (with inspect, ast, dis, tokenize) costs ≈ 5 ms to import, each class
# ≈ 1 ms more to build (docs/performance.md). Nothing compares two of them by value (a process is the
# same one by identity: `procs.get(pid) is old`), so they have no `__eq__`: each is equal to itself only.


class Proc:
    """What the scan remembers about one live process (keyed by pid; pid + start time identify it)."""

    __slots__ = (
        "pid",
        "start",
        "comm",
        "ppid",
        "status",
        "member",
        "cpu_s",
        "rss",
        "sampled",
        "cpu_pct",
        "name",
        "_cmdline",
        "sockets",
        "sockets_due",
        "sockets_ran",
        "rebuild",
        "fd",
        "command",
        "label",
        "labelled",
        "raw",
        "mark",
        "sched_fd",
        "ran",
        "stat_due",
        "info_key",
        "info",
    )

    pid: int
    start: float  # epoch seconds when it started
    comm: str
    ppid: int
    status: str  # the kernel's state letter (R, S, D, Z, T, ...)
    member: bool
    cpu_s: float  # user + system CPU seconds at the last sample
    rss: int
    sampled: float  # monotonic time of the last sample
    cpu_pct: float | None  # over the last refresh interval; None until a second sample
    name: str | None  # the row name, once this process heads a row
    _cmdline: list[str] | None
    sockets: frozenset[int] | None  # inodes of the listening sockets it holds, as last looked up
    sockets_due: float  # monotonic time its sockets are to be looked up again at the latest
    sockets_ran: int | None  # `procfs.run_time` when its sockets were last looked up
    rebuild: bool | None  # started by a cockpit's rebuild (REBUILD_MARK); looked up when first reached
    fd: int | None  # /proc/<pid>/stat kept open while the process is the project's
    command: str | None  # the command line joined, once read
    label: str | None  # its name in its manager's Procfile / mprocs.yaml ("" = looked, none)
    labelled: bool  # `name` came from the manager (captured output or its config)
    raw: bytes | None  # its /proc stat as last read through `fd` (the same bytes: nothing changed)
    mark: bytes  # `procfs.exec_mark` when first read: another one means it exec'd (read it afresh)
    sched_fd: int | None  # /proc/<pid>/schedstat kept open beside `fd` (single-threaded processes)
    ran: bytes  # its schedstat as read just before `raw`: the same again → it has not run since
    stat_due: float  # monotonic time its stat is read again even so (memory reclaimed while asleep)
    # The row it headed last refresh and what that row was made of: the same again → the same object.
    info_key: tuple[object, ...] | None
    info: ProcessInfo | None

    def __init__(
        self,
        pid: int,
        start: float,
        comm: str,
        ppid: int,
        status: str,
        member: bool,
        cpu_s: float,
        rss: int,
        sampled: float,
        *,
        mark: bytes = b"",
    ) -> None:
        self.pid = pid
        self.start = start
        self.comm = comm
        self.ppid = ppid
        self.status = status
        self.member = member
        self.cpu_s = cpu_s
        self.rss = rss
        self.sampled = sampled
        self.cpu_pct = None
        self.name = None
        self._cmdline = None
        self.sockets = None
        self.sockets_due = 0.0
        self.sockets_ran = None
        self.rebuild = None
        self.fd = None
        self.command = None
        self.label = None
        self.labelled = False
        self.raw = None
        self.mark = mark
        self.sched_fd = None
        self.ran = b""
        self.stat_due = 0.0
        self.info_key = None
        self.info = None

    def cmdline(self) -> list[str]:
        if self._cmdline is None:
            cmdline = read_cmdline(self.pid)
            if not cmdline:
                # Read mid-exec (its arguments are not set up yet: empty for a moment): ask again next time.
                return cmdline
            self._cmdline = cmdline
        return self._cmdline


class Row:
    """One row: its head process and every pid summed into it (the head among them)."""

    __slots__ = ("head", "manager", "owner", "pids")

    def __init__(self, head: Proc, manager: bool = False, owner: int | None = None) -> None:
        self.head = head
        self.pids: list[int] = []  # filled by `build_rows`
        self.manager = manager
        self.owner = owner  # pid of the nearest manager process above the head (it started this row)


def is_see_through(p: Proc) -> bool:
    """An interactive shell, a multiplexer, a wrapper or a cockpit: not a row, its children are."""
    if p.comm in SEE_THROUGH or p.comm == "omni-tui":  # other cockpits and omni-tui's MCP servers
        return True
    if p.comm.startswith("python") and p.cmdline()[1:3] == ["-m", "omni_tui"]:
        return True
    if p.comm in SHELLS:  # an interactive shell, not an `sh -c CMD` wrapper
        return "-c" not in p.cmdline()[1:]
    return False


def build_rows(procs: dict[int, Proc], members: set[int]) -> list[Row]:
    """The rows of the project's processes `members`, each with the pids attached to it."""
    heads: dict[int, Row] = {}
    see_through = {pid for pid in members if is_see_through(procs[pid])}
    # A manager's helper processes (honcho forks one per child) are part of the manager, not rows.
    see_through |= {
        pid for pid in members if procs[pid].comm in MANAGERS and procs[pid].ppid in members and procs[procs[pid].ppid].comm in MANAGERS
    }
    for pid in sorted(members):
        p = procs[pid]
        if pid in see_through:
            continue
        manager = p.comm in MANAGERS
        parent = procs.get(p.ppid)
        parent_is_head = parent is not None and parent.pid in members and (parent.pid in see_through or parent.comm in MANAGERS)
        if manager or p.ppid not in members or parent_is_head:
            heads[pid] = Row(head=p, manager=manager, owner=owner(procs, p, members))
    # Attach every other member to its nearest head.
    for pid in members:
        if pid in see_through:
            continue
        cur = pid
        while cur not in heads and cur in members:
            cur = procs[cur].ppid
        if cur in heads:
            heads[cur].pids.append(pid)
    return list(heads.values())


def owner(procs: dict[int, Proc], p: Proc, members: set[int]) -> int | None:
    """The nearest manager process above `p` (its helper for honcho), or None."""
    cur = p.ppid
    seen = 0
    while cur in members and seen < 64:
        q = procs[cur]
        if q.comm in MANAGERS:
            return cur
        cur, seen = q.ppid, seen + 1
    return None
