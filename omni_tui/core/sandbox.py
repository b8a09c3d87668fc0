"""The agent sandbox (`omni-tui run`): which paths bubblewrap makes read-only, and who is sandboxed now.

`plan(ws)` decides, from the workspace, what an agent inside must not change: the guarded files
(which include the configuration), the state directory except `proposals/`, the audit head kept
outside the project, the agents' own settings, and omni-tui itself when installed outside the
project. `SandboxPlan.argv()` turns it into a `bwrap` command line: the whole system bound as it
is (`--bind / /`, so the network, $HOME and tools are as outside), then

* every directory above a protected path bound onto itself — a mount point cannot be renamed or
  removed (EBUSY), so nobody swaps `.devenv/` or the project folder for a forged copy;
* protected paths bound read-only — writing, truncating or chmod-ing fails with EROFS, renaming
  over them or deleting them with EBUSY;
* a directory that holds a guarded file that does not exist yet is *sealed*: a read-only tmpfs
  on which each of its existing entries is bound back (writable unless protected), so the
  missing file cannot be created (a mount needs an existing mount point; creating one in the
  real directory would make the file exist for everyone). The price, documented in
  docs/agents.md: no new entries in that directory, and its entries cannot be renamed or deleted.

The registry: `<state>/sandbox-<pid>.json`, one per running `omni-tui run`, written and removed
by the launcher (outside the sandbox; read-only inside). They sit next to gate.json so the
cockpit's watcher, which already follows that folder, sees them come and go. `running(paths)` counts the live ones
(a file whose process is gone, or whose pid was reused, does not count).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from omni_tui.core.errors import OmniError
from omni_tui.core.safefs import atomic_write, read_regular

if TYPE_CHECKING:
    import subprocess

    from omni_tui.core.workspace import StatePaths, Workspace

SANDBOX_ENV = "OMNI_TUI_SANDBOX"  # set inside: the project root the sandbox protects
REGISTRY_PREFIX = "sandbox-"
# The agents' own settings: an agent that rewrites them changes its own permissions and hooks.
AGENT_SETTINGS_FILES = (".claude/settings.json", ".claude/settings.local.json", ".mcp.json")
AGENT_SETTINGS_DIRS = (".codex", ".gemini")
# Sealed when present: new files there (e.g. a fresh settings.local.json) could not be made read-only otherwise.
SEALED_AGENT_DIRS = (".claude",)


class SandboxError(OmniError):
    """bubblewrap is missing or cannot create a sandbox here."""


# A NamedTuple, not a frozen dataclass: immutable and compared, shown and hashed the same, without
# compiling six methods at import (`status` imports this module; docs/performance.md).
class SandboxPlan(NamedTuple):
    root: Path
    read_only: tuple[Path, ...]  # existing paths bound read-only
    writable: tuple[Path, ...] = ()  # bound writable inside a read-only one (state/proposals)
    sealed: tuple[Path, ...] = ()  # directories whose entry list is frozen (see the module docstring)
    pinned: tuple[Path, ...] = ()  # directories bound onto themselves (no rename/rmdir)

    def argv(self, command: Iterable[str], *, bwrap: str = "bwrap", info_fd: int | None = None) -> list[str]:
        """The `bwrap` command line that runs `command` under this plan (`info_fd`: bwrap reports its child's pid there)."""
        args = [bwrap, "--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--die-with-parent"]
        if info_fd is not None:
            args += ["--info-fd", str(info_fd)]
        read_only, writable, sealed = set(self.read_only), set(self.writable), set(self.sealed)
        ops: dict[Path, str] = {p: "pin" for p in self.pinned}
        ops.update({p: "seal" for p in sealed})
        ops.update({p: "rw" for p in writable})
        ops.update({p: "ro" for p in read_only})
        # Shallow first: a mount covers what was mounted below it before.
        for path in sorted(ops, key=lambda p: (len(p.parts), str(p))):
            op = ops[path]
            if op == "seal":
                args += ["--perms", f"{stat.S_IMODE(path.stat().st_mode):04o}", "--tmpfs", str(path)]
                for entry in sorted(path.iterdir()):
                    if entry.is_symlink():
                        args += ["--symlink", os.readlink(entry), str(entry)]
                    elif entry in read_only:
                        args += ["--ro-bind", str(entry), str(entry)]
                    else:
                        args += ["--bind", str(entry), str(entry)]
            elif op == "ro":
                args += ["--ro-bind", str(path), str(path)]
            else:
                args += ["--bind", str(path), str(path)]
        for path in sorted(sealed, key=lambda p: -len(p.parts)):
            args += ["--remount-ro", str(path)]
        args += ["--setenv", SANDBOX_ENV, str(self.root), "--"]
        args += list(command)
        return args

    def bound_files(self) -> tuple[Path, ...]:
        """The single files bound read-only on the real folder. A file replaced there from outside (renamed
        over, as the gate's atomic writes and most editors do) loses its bind inside, until the launcher
        binds the new one (`agents/sandbox.py`, `FileGuard`). In a sealed folder the bind sits on the
        sandbox's own tmpfs and stays: the file stays read-only, showing the content it had at the start."""
        sealed = set(self.sealed)
        return tuple(path for path in self.read_only if path.is_file() and path.parent not in sealed)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def plan(ws: Workspace, *, env: Mapping[str, str] | None = None) -> SandboxPlan:
    """What `omni-tui run` protects in `ws` (paths as they exist now)."""
    from omni_tui.core.workspace import external_head_path

    env = ws.env if env is None else env
    root = ws.root
    read_only: set[Path] = set()
    sealed: set[Path] = set()

    def protect(path: Path) -> None:
        if path.is_symlink():
            # A symlinked guarded file or setting: the link itself cannot be bound, so its folder is sealed.
            if _inside(path, root):
                sealed.add(path.parent)
            target = path.resolve()
            if target.exists():
                read_only.add(target)
        elif path.exists():
            read_only.add(path)

    for rel in ws.guarded():
        path = root / rel
        if path.exists() or path.is_symlink():
            protect(path)
        else:
            # The nearest existing folder: sealing it makes the missing file (and folders on its way) impossible.
            folder = path.parent
            while not folder.exists() and _inside(folder, root) and folder != root:
                folder = folder.parent
            sealed.add(folder)
    for rel in AGENT_SETTINGS_FILES:
        protect(root / rel)
    for rel in AGENT_SETTINGS_DIRS:
        if (root / rel).is_dir():
            read_only.add((root / rel).resolve())
    for rel in SEALED_AGENT_DIRS:
        folder = root / rel
        if folder.is_dir() and not folder.is_symlink():
            sealed.add(folder)

    state = ws.paths.state
    read_only.add(state)
    writable = {ws.paths.proposals}
    # The audit head kept outside the project: created now so it can be bound read-only.
    heads = external_head_path(root, env).parent
    try:
        heads.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SandboxError(f"cannot create {heads}: {exc.strerror or exc}") from None
    read_only.add(heads.parent)
    # omni-tui itself (and the interpreter running it) when installed outside the project: an agent
    # that edits the cockpit's code would decide what the person sees next time.
    package = Path(__file__).resolve().parent.parent
    for path in (package, Path(sys.prefix).resolve()):
        if not _inside(path, root) and path != Path("/"):
            read_only.add(path)

    pinned: set[Path] = set()
    for path in (*read_only, *sealed, *writable):
        for parent in path.parents:
            if parent != Path("/"):
                pinned.add(parent)
    pinned.add(root)
    pinned -= read_only | sealed | writable
    return SandboxPlan(root, tuple(sorted(read_only)), tuple(sorted(writable)), tuple(sorted(sealed)), tuple(sorted(pinned)))


# shutil and subprocess are imported where a sandbox is started: the gate imports `running` for every
# `status` and cockpit start, which never start one.


def find_bwrap(env: Mapping[str, str]) -> str:
    import shutil

    found = shutil.which("bwrap", path=env.get("PATH"))
    if found is None:
        raise SandboxError("bubblewrap (bwrap) is not installed; install it (Debian/Ubuntu: apt install bubblewrap)")
    return found


def check_bwrap(bwrap: str) -> None:
    """SandboxError with bubblewrap's own reason when it cannot create a sandbox (user namespaces off, ...)."""
    import subprocess

    try:
        probe = subprocess.run(
            [bwrap, "--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--", "true"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"bubblewrap cannot run: {exc}") from None
    if probe.returncode != 0:
        lines = [line for line in probe.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        reason = lines[-1].removeprefix("bwrap: ").strip() if lines else f"exit {probe.returncode}"
        hint = " (are unprivileged user namespaces disabled? see kernel.unprivileged_userns_clone / user.max_user_namespaces)"
        raise SandboxError(f"bubblewrap cannot create a sandbox here: {_printable(reason)}{hint}")


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:300]


# -- the registry -----------------------------------------------------------------------------------


def registry_files(paths: StatePaths) -> list[Path]:
    try:
        return sorted(paths.state.glob(f"{REGISTRY_PREFIX}*.json"))
    except OSError:
        return []


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat): pid reuse changes it."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else None


class SandboxEntry(NamedTuple):
    pid: int
    command: str
    started_at: str


def register(paths: StatePaths, command: list[str]) -> Path:
    """Record this process (the launcher) as a running sandbox; returns the file to remove at the end."""
    from omni_tui.core.audit import utc_now

    pid = os.getpid()
    doc = {"pid": pid, "start": _start_time(pid), "command": Path(command[0]).name if command else "", "started_at": utc_now()}
    target = paths.state / f"{REGISTRY_PREFIX}{pid}.json"
    atomic_write(target, (json.dumps(doc) + "\n").encode("utf-8"))
    return target


def running(paths: StatePaths) -> list[SandboxEntry]:
    """The sandboxes running now (oldest first); files of dead launchers are ignored."""
    out: list[SandboxEntry] = []
    for file in registry_files(paths):
        try:
            doc = json.loads(read_regular(file, limit=64 * 1024))  # a FIFO or a huge file an agent put here: skipped
            pid = int(doc["pid"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            continue
        if doc.get("start") is None or _start_time(pid) != doc.get("start"):
            continue
        out.append(SandboxEntry(pid, str(doc.get("command", "")), str(doc.get("started_at", ""))))
    return sorted(out, key=lambda e: e.started_at)


def exit_status(returncode: int) -> int:
    """A child's return code as a shell reports it (killed by signal N → 128+N)."""
    return 128 - returncode if returncode < 0 else returncode


def wait_quietly(process: subprocess.Popen[bytes], poll_s: float = 0.2) -> int:
    """Wait for `process`, riding out interruptions (Ctrl-C reaches the sandbox's processes directly)."""
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            time.sleep(poll_s)
