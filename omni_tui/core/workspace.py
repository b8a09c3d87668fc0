"""The project a cockpit or agent works on: root discovery, guarded files, state paths, the baseline.

Root: an explicit directory (`-C DIR`, searched upwards for `devenv.nix`) > `$DEVENV_ROOT` > the
nearest directory upwards from the current one that has a `devenv.nix`.
State: `$DEVENV_DOTFILE/omni` (when it belongs to this root) else `<root>/.devenv/omni`.
Baseline: the content last approved and built, one file per guarded path under `baseline/`
(`<escaped path>`, or `<escaped path>.absent` for a file that did not exist). The first open
records the current content and writes a `baseline_initialised` audit entry.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from omni_tui.core.audit import AuditLog
from omni_tui.core.config import Config, load_config
from omni_tui.core.errors import PathError, WorkspaceError
from omni_tui.core.safefs import (
    atomic_write,
    confine,
    escape_name,
    file_lock,
    normalise_rel,
    read_bytes,
    sha256_bytes,
)

MARKER = "devenv.nix"


@dataclass(frozen=True)
class StatePaths:
    state: Path

    @property
    def proposals(self) -> Path:
        return self.state / "proposals"

    @property
    def decisions(self) -> Path:
        return self.state / "decisions"

    @property
    def baseline(self) -> Path:
        return self.state / "baseline"

    @property
    def backups(self) -> Path:
        return self.state / "backups"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def quarantine(self) -> Path:
        return self.state / "quarantine"

    @property
    def audit(self) -> Path:
        return self.state / "audit.jsonl"

    @property
    def lock(self) -> Path:
        """Held (flock) by whoever applies or rebuilds; contains the holder's pid and proposal id."""
        return self.state / "gate.lock"

    @property
    def decisions_lock(self) -> Path:
        """Held briefly around every status transition so two processes cannot both decide one proposal."""
        return self.state / "decisions.lock"

    @property
    def baseline_lock(self) -> Path:
        return self.state / "baseline.lock"

    @property
    def gate_state(self) -> Path:
        """The gate's memory across processes: last rebuild, failed apply not yet rolled back."""
        return self.state / "gate.json"

    def ensure(self) -> None:
        for folder in (self.state, self.proposals, self.decisions, self.baseline, self.backups, self.logs, self.quarantine):
            folder.mkdir(parents=True, exist_ok=True)


def find_root(explicit_dir: str | Path | None, *, env: Mapping[str, str], cwd: Path) -> Path:
    """The project root by the discovery rule above; WorkspaceError naming the start directory."""
    if explicit_dir is not None and str(explicit_dir) != "":
        start = (cwd / Path(explicit_dir).expanduser()).resolve()
        if not start.exists():
            raise WorkspaceError(f"{explicit_dir}: no such directory")
        if not start.is_dir():
            raise WorkspaceError(f"{explicit_dir}: not a directory")
        return _search_up(start)
    devenv_root = env.get("DEVENV_ROOT")
    if devenv_root:
        root = (cwd / devenv_root).resolve()
        if not (root / MARKER).is_file():
            raise WorkspaceError(f"$DEVENV_ROOT={devenv_root} has no {MARKER}")
        return root
    return _search_up(cwd.resolve())


def _search_up(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / MARKER).is_file():
            return folder
    raise WorkspaceError(f"no {MARKER} in {start} or any directory above it (use -C DIR or set $DEVENV_ROOT)")


def state_dir_for(root: Path, env: Mapping[str, str]) -> Path:
    dotfile = env.get("DEVENV_DOTFILE")
    devenv_root = env.get("DEVENV_ROOT")
    # $DEVENV_DOTFILE belongs to the project in $DEVENV_ROOT; never borrow another project's.
    if dotfile and (not devenv_root or Path(devenv_root).resolve() == root):
        return (root / dotfile).resolve() / "omni"
    return root / ".devenv" / "omni"


def default_who(env: Mapping[str, str] = os.environ) -> str:
    for var in ("OMNI_TUI_USER", "USER", "LOGNAME"):
        if env.get(var):
            return env[var]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


class Workspace:
    """One devenv project: where it is, what is guarded, where state lives, what the baseline is."""

    def __init__(self, root: Path, config: Config, paths: StatePaths, env: Mapping[str, str]) -> None:
        self.root = root
        self.config = config
        self.paths = paths
        self.env = dict(env)
        self.audit = AuditLog(paths.audit)

    @classmethod
    def open(
        cls,
        explicit_dir: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        init_baseline: bool = True,
    ) -> "Workspace":
        env = os.environ if env is None else env
        cwd = Path.cwd() if cwd is None else Path(cwd)
        root = find_root(explicit_dir, env=env, cwd=cwd)
        config = load_config(root)
        paths = StatePaths(state_dir_for(root, env))
        try:
            paths.ensure()
        except OSError as exc:
            raise WorkspaceError(f"cannot create the state directory {paths.state}: {exc.strerror or exc}") from None
        ws = cls(root, config, paths, env)
        if init_baseline:
            ws.init_baseline()
        return ws

    # -- guarded files ------------------------------------------------------------------------

    def guarded(self) -> list[str]:
        """Configured guarded paths, `devenv.nix` first."""
        files = list(self.config.guard.files)
        if MARKER in files:
            files.remove(MARKER)
            files.insert(0, MARKER)
        return files

    def is_guarded(self, rel: str) -> bool:
        return normalise_rel(rel) in self.guarded()

    def resolve(self, rel: str) -> Path:
        """Absolute path of `rel` inside the root; PathError when absolute, `..`, via a symlink or outside."""
        return confine(self.root, rel)

    def relative(self, path: str | Path) -> str:
        """A user-given path (relative to the root, or absolute inside it) → the canonical relative path.

        PathError when it is outside the root or is not a guarded file.
        """
        text = str(path)
        if Path(text).is_absolute():
            absolute = Path(os.path.normpath(text))
            try:
                text = str(absolute.relative_to(self.root))
            except ValueError:
                try:
                    text = str(absolute.resolve().relative_to(self.root))
                except ValueError:
                    raise PathError(f"{path}: outside the project root {self.root}") from None
        self.resolve(text)
        rel = normalise_rel(text)
        if rel not in self.guarded():
            raise PathError(f"{rel}: not a guarded file (guarded: {', '.join(self.guarded())}; see [guard] files)")
        return rel

    def read_current(self, rel: str) -> bytes | None:
        return read_bytes(self.resolve(rel))

    # -- baseline -----------------------------------------------------------------------------

    def _baseline_file(self, rel: str) -> Path:
        return self.paths.baseline / escape_name(normalise_rel(rel))

    def _baseline_absent(self, rel: str) -> Path:
        return self.paths.baseline / (escape_name(normalise_rel(rel)) + ".absent")

    def has_baseline(self, rel: str) -> bool:
        return self._baseline_file(rel).exists() or self._baseline_absent(rel).exists()

    def read_baseline(self, rel: str) -> bytes | None:
        """The approved content; None when the approved state is "no such file" (or nothing is recorded)."""
        return read_bytes(self._baseline_file(rel))

    def write_baseline(self, rel: str, data: bytes | None) -> None:
        """Record `data` (None: the file should not exist) as the approved content of `rel`."""
        content, absent = self._baseline_file(rel), self._baseline_absent(rel)
        if data is None:
            atomic_write(absent, b"")
            content.unlink(missing_ok=True)
        else:
            atomic_write(content, data)
            absent.unlink(missing_ok=True)

    def init_baseline(self, who: str | None = None) -> list[str]:
        """Record the current content of every guarded file that has no baseline yet; returns those paths."""
        missing = [rel for rel in self.guarded() if not self.has_baseline(rel)]
        if not missing:
            return []
        recorded: list[str] = []
        with file_lock(self.paths.baseline_lock):
            hashes: dict[str, str | None] = {}
            for rel in self.guarded():
                if self.has_baseline(rel):  # another process got there first
                    continue
                data = self.read_current(rel)
                self.write_baseline(rel, data)
                hashes[rel] = sha256_bytes(data)
                recorded.append(rel)
            if recorded:
                self.audit.append(
                    "baseline_initialised",
                    who=who or default_who(self.env),
                    reason="recorded the current content as the approved baseline: " + ", ".join(recorded),
                    sha256_after=hashes,
                )
        return recorded

    def unapproved(self) -> list[str]:
        """Guarded paths whose current bytes differ from the baseline (in `guarded()` order)."""
        out = []
        for rel in self.guarded():
            try:
                current = self.read_current(rel)
            except PathError:
                out.append(rel)  # e.g. replaced by a symlink or a directory: certainly not the baseline
                continue
            if current != self.read_baseline(rel):
                out.append(rel)
        return out
