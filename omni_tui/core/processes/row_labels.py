"""Naming a row after the entry of its manager's Procfile / mprocs.yaml that started it.

The manager is the row's owner (its nearest manager ancestor), or any overmind of the project: overmind
runs its processes in a tmux server, not as its children. honcho's `PORT` numbering names a process
whose shell exec'd a command that no longer matches its entry.
"""

from __future__ import annotations

from omni_tui.core.processes.process_tree import Proc, Row
from omni_tui.core.processes.procfile import ConfigCache, Entry, config_path, match, mprocs_positional
from omni_tui.core.processes.procfs import env_vars, read_cwd


def config_label(row: Row, procs: dict[int, Proc], overminds: list[int], configs: ConfigCache) -> str | None:
    """The head's name in the Procfile / mprocs.yaml of the manager that started it (cached per process)."""
    head = row.head
    if head.label is not None:
        return head.label or None
    cmdline = head.cmdline()
    if not cmdline:
        return None  # read mid-exec: ask again next time
    # overmind runs its processes in a tmux server (not its child): its Procfile still names them.
    owners = [procs[row.owner]] if row.owner is not None else [procs[p] for p in overminds]
    label = ""
    for owner in owners:
        kind = owner.comm
        if kind.startswith("process-compos"):
            continue  # process-compose names its processes through its API
        entries = manager_entries(owner, configs)
        found = match(cmdline, entries)
        if found is None and kind == "honcho":
            found = honcho_by_port(head, owner, entries)
        if found is not None:
            label = found.name
            break
    head.label = label
    return label or None


def manager_entries(owner: Proc, configs: ConfigCache) -> list[Entry]:
    """What the manager process `owner` was told to run (its positional mprocs commands or its config file)."""
    argv = owner.cmdline()
    kind = "mprocs" if owner.comm == "mprocs" else owner.comm
    if kind == "mprocs":
        positional = mprocs_positional(argv)
        if positional:
            return positional
    environ = None
    if kind == "overmind":
        environ = env_vars(owner.pid, ("OVERMIND_PROCFILE",))
    path = config_path(kind, argv, read_cwd(owner.pid), environ)
    return configs.entries(kind, path) if path is not None else []


def honcho_by_port(head: Proc, owner: Proc, entries: list[Entry]) -> Entry | None:
    """honcho gives its n-th Procfile entry PORT = base + 100·n: the name when the shell exec'd a changed command."""
    port = env_vars(head.pid, ("PORT",)).get("PORT", "")
    argv = owner.cmdline()
    base_s = None
    for i, a in enumerate(argv):
        if a in ("-p", "--port") and i + 1 < len(argv):
            base_s = argv[i + 1]
        elif a.startswith("--port="):
            base_s = a[7:]
    base_s = base_s or env_vars(owner.pid, ("PORT",)).get("PORT") or "5000"
    if not (port.isdigit() and base_s.isdigit()):
        return None
    offset = int(port) - int(base_s)
    if offset < 0 or offset % 100:
        return None
    index = offset // 100
    return entries[index] if index < len(entries) else None
