"""The project a cockpit or agent works on: root discovery, guarded files, state paths, the baseline.

Root: an explicit directory (`-C DIR`, searched upwards) > `$DEVENV_ROOT` > the nearest directory
upwards from the current one that has a `devenv.nix` or omni-tui state (`.devenv/omni/baseline/`).
State: `$DEVENV_DOTFILE/omni` (when it belongs to this root) else `<root>/.devenv/omni`.
Baseline: the content last approved and built, one file per guarded path under `baseline/`
(`<escaped path>`, or `<escaped path>.absent` for a file that did not exist). The first open
records the current content and writes a `baseline_initialised` audit entry.
Every baseline write is vouched for by an audit entry (`ledger.py`); `baseline_forgeries()` names
the baselines the chain does not account for.
Configuration: `devenv.nix` and `omni-tui.toml` are always guarded (and `pyproject.toml` while its
`[tool.omni-tui]` is the source): the configuration in force is the *approved* one, read from the
baseline copy, so an unapproved edit of the configuration changes nothing until a person accepts it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from omni_tui.core.audit import AuditLog
from omni_tui.core.config import CONFIG_FILE, PYPROJECT_FILE, Config, load_config
from omni_tui.core.config import config_from_bytes as config_from_bytes  # re-exported: the gate reads it from here
from omni_tui.core.errors import ConfigError, PathError, WorkspaceError
from omni_tui.core.ledger import Forgery, Ledger, baseline_key
from omni_tui.core.safefs import (
    atomic_write,
    confine,
    escape_name,
    file_lock,
    is_locked,
    normalise_rel,
    read_bytes,
    sha256_bytes,
)

MARKER = "devenv.nix"
STATE_MARKER = Path(".devenv") / "omni" / "baseline"  # an initialised project (see `is_project`)


# A NamedTuple, not a frozen dataclass: immutable and compared, shown and hashed the same, without
# compiling six methods at import (every agent command imports this module; docs/performance.md).
class StatePaths(NamedTuple):
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
    def objects(self) -> Path:
        """Content-addressed copies of vouched-for state files (`<sha256>`), for resolving a forgery."""
        return self.state / "objects"

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
        """Create the state directories; WorkspaceError when one is a symbolic link or not a directory.

        Every state write goes under these folders, so a link planted in place of one (`proposals -> /etc`)
        would send proposals, decisions and backups wherever it points: each is checked (lstat, which does
        not follow links) before anything is created inside it.
        """
        for folder in self.folders():
            try:
                mode = folder.lstat().st_mode
            except FileNotFoundError:
                folder.mkdir(parents=True, exist_ok=True)
                mode = folder.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise WorkspaceError(f"{folder}: is a symbolic link; omni-tui keeps its state only in a real directory (remove the link)")
            if not stat.S_ISDIR(mode):
                raise WorkspaceError(f"{folder}: is not a directory; omni-tui keeps its state only in a real directory")

    def folders(self) -> tuple[Path, ...]:
        return (self.state, self.proposals, self.decisions, self.baseline, self.backups, self.logs, self.quarantine, self.objects)

    def replaced_folders(self) -> list[tuple[Path, str]]:
        """State folders replaced after `ensure` (a process already running keeps its workspace open):
        each with one line saying what is there now. An absent folder is not listed (`ensure` makes it)."""
        out: list[tuple[Path, str]] = []
        for folder in self.folders():
            try:
                mode = folder.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                try:
                    target = os.readlink(folder)
                except OSError:
                    target = "?"
                out.append((folder, f"the state folder was replaced by a symbolic link (to {target}); nothing is written through it"))
            elif not stat.S_ISDIR(mode):
                out.append((folder, "the state folder was replaced by a file that is not a directory; nothing is written there"))
        return out


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
        if not is_project(root) and not (state_dir_for(root, env) / "baseline").is_dir():
            raise WorkspaceError(f"$DEVENV_ROOT={devenv_root} has no {MARKER} and no omni-tui state")
        return root
    return _search_up(cwd.resolve())


def is_project(folder: Path) -> bool:
    """A devenv project root: it has a `devenv.nix`, or omni-tui state (`.devenv/omni/baseline/`).

    The state counts as much as the file: a project whose `devenv.nix` was deleted (by an agent, by
    mistake) is still that project — the deletion is an unapproved edit a person sees and decides
    on, and the agents' commands (status, wait, withdraw, the hook) keep working meanwhile.
    """
    return (folder / MARKER).is_file() or (folder / STATE_MARKER).is_dir()


def _search_up(start: Path) -> Path:
    for folder in (start, *start.parents):
        if is_project(folder):
            return folder
    raise WorkspaceError(f"no {MARKER} in {start} or any directory above it (use -C DIR or set $DEVENV_ROOT)")


def state_dir_for(root: Path, env: Mapping[str, str]) -> Path:
    dotfile = env.get("DEVENV_DOTFILE")
    devenv_root = env.get("DEVENV_ROOT")
    # $DEVENV_DOTFILE belongs to the project in $DEVENV_ROOT; never borrow another project's.
    if dotfile and (not devenv_root or Path(devenv_root).resolve() == root):
        return (root / dotfile).resolve() / "omni"
    return root / ".devenv" / "omni"


def external_head_path(root: Path, env: Mapping[str, str]) -> Path:
    """`$XDG_STATE_HOME/omni-tui/heads/<sha256 of the root path>.json` (default `~/.local/state`)."""
    base = env.get("XDG_STATE_HOME") or os.environ.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "omni-tui" / "heads" / (hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest() + ".json")


def _has_tool_table(data: bytes | None) -> bool:
    """Does this pyproject.toml carry a `[tool.omni-tui]` table (then it is a configuration source)?"""
    if not data or b"omni-tui" not in data:
        return False
    import tomllib  # here: a project without a configuration file never needs it

    try:
        tool = tomllib.loads(data.decode("utf-8")).get("tool")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return b"[tool.omni-tui" in data
    return isinstance(tool, dict) and "omni-tui" in tool


def default_who(env: Mapping[str, str] = os.environ) -> str:
    for var in ("OMNI_TUI_USER", "USER", "LOGNAME", "LNAME", "USERNAME"):  # the last two as getpass.getuser()
        if env.get(var):
            return env[var]
    # What getpass.getuser() does next, without getpass and the termios it imports (≈ 0.5 ms of every
    # `status` where no user variable is set, as in containers).
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


class Workspace:
    """One devenv project: where it is, what is guarded, where state lives, what the baseline is."""

    def __init__(self, root: Path, config: Config, paths: StatePaths, env: Mapping[str, str], config_error: str | None = None) -> None:
        self.root = root
        self.disk_config = config  # what the files on disk say (maybe not approved)
        self.config_error = config_error  # the on-disk configuration's error, when the approved one is used
        self.paths = paths
        self.env = dict(env)
        self.audit = AuditLog(paths.audit, external_head_path(root, env))
        self.ledger = Ledger(
            self.audit, paths.objects, busy=lambda: any(is_locked(lock) for lock in (paths.lock, paths.decisions_lock, paths.baseline_lock))
        )
        self._config: Config | None = None
        # One reader at a time (the UI, the watcher and the workers all read it): a reader that read the
        # old copy must not store it after a later reader stored the copy a person just accepted.
        self._config_lock = threading.RLock()
        self._config_checked = 0.0
        self._config_key: tuple[object, ...] | None = None
        self._pyproject: tuple[tuple[int, int, int] | None, bool] = (None, False)
        self._baseline_sha: dict[str, tuple[tuple[int, int, int] | None, str | None]] = {}

    # -- configuration: the approved one ------------------------------------------------------

    @property
    def config(self) -> Config:
        """The approved configuration (the baseline copy of omni-tui.toml / pyproject.toml).

        Before the configuration has a baseline (the very first open), the one on disk. Re-read when
        the baseline copy changes (at once in this process, within a second in others).
        """
        config = self._config
        if config is not None and time.monotonic() - self._config_checked < 1.0:
            return config
        with self._config_lock:
            now = time.monotonic()
            if self._config is not None and now - self._config_checked < 1.0:
                return self._config  # another reader looked meanwhile
            self._config_checked = now
            key = tuple(
                _stat_key(self.paths.baseline / (escape_name(n) + suffix))
                for n in (CONFIG_FILE, PYPROJECT_FILE)
                for suffix in ("", ".absent")
            )
            if self._config is None or key != self._config_key:
                self._config = self._approved_config()
                self._config_key = key
            return self._config

    @config.setter
    def config(self, value: Config) -> None:
        with self._config_lock:
            self.disk_config = self._config = value
            self._config_checked = time.monotonic() + 1e9  # fixed until a baseline write says otherwise

    def recheck_config(self) -> None:
        """Look at the approved configuration's copy again on the next read (not up to a second later):
        for a reader that knows a baseline was just written, perhaps by another process."""
        self._config_checked = 0.0

    def _approved_config(self) -> Config:
        known, own_bytes = self._approved_bytes(CONFIG_FILE)
        if not known:
            return self.disk_config
        own = config_from_bytes(f"{CONFIG_FILE} (approved)", own_bytes)
        if own is not None:
            return own
        known, pyproject_bytes = self._approved_bytes(PYPROJECT_FILE)
        if known:
            from_pyproject = config_from_bytes(PYPROJECT_FILE, pyproject_bytes)
            if from_pyproject is not None:
                return from_pyproject
        return Config()

    def _approved_bytes(self, rel: str) -> tuple[bool, bytes | None]:
        """(recorded?, the approved bytes) of a configuration file: the bytes the audit log vouches for,
        from the kept copy when the baseline copy on disk was forged or deleted (then the gate is
        `tampered`, and the configuration in force stays the approved one meanwhile)."""
        self.ledger.loaded()
        latest = self.ledger.latest(baseline_key(rel))
        recorded, digest = self.baseline_sha(rel)
        if latest is not None and digest not in latest:
            # The entry vouching for a baseline just written may be newer than this ledger's last read
            # (an accept in this process): read on before judging the copy forged, or the configuration
            # approved a moment ago is taken for a forgery and the old one stays in force.
            self.ledger.refresh()
            latest = self.ledger.latest(baseline_key(rel))
        if latest is None or digest in latest:
            return recorded, self.read_baseline(rel) if recorded else None
        if None in latest:
            return True, None
        for candidate in sorted(x for x in latest if x):
            data = self.ledger.recover(candidate)
            if data is not None:
                return True, data
        return recorded, self.read_baseline(rel) if recorded else None

    def config_paths(self) -> list[str]:
        """The configuration's guarded files: omni-tui.toml, and pyproject.toml while it is (or would become) the source."""
        paths = [CONFIG_FILE]
        if self.has_baseline(PYPROJECT_FILE) or self._pyproject_is_source():
            paths.append(PYPROJECT_FILE)
        return paths

    def _pyproject_is_source(self) -> bool:
        file = self.root / PYPROJECT_FILE
        key = _stat_key(file)
        if key != self._pyproject[0]:
            try:
                data = read_bytes(file) if key is not None else None
            except PathError:
                data = None
            self._pyproject = (key, _has_tool_table(data))
        return self._pyproject[1]

    @classmethod
    def open(
        cls,
        explicit_dir: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        init_baseline: bool = True,
    ) -> Workspace:
        env = os.environ if env is None else env
        cwd = Path.cwd() if cwd is None else Path(cwd)
        root = find_root(explicit_dir, env=env, cwd=cwd)
        paths = StatePaths(state_dir_for(root, env))
        approved = (paths.baseline / escape_name(CONFIG_FILE)).exists() or (
            paths.baseline / (escape_name(CONFIG_FILE) + ".absent")
        ).exists()
        try:
            config, config_error = load_config(root), None
        except ConfigError as exc:
            if not approved:
                raise  # nothing approved to fall back on: the person must fix the file
            config, config_error = Config(), str(exc)  # the approved configuration stays in force
        try:
            paths.ensure()
        except OSError as exc:
            raise WorkspaceError(f"cannot create the state directory {paths.state}: {exc.strerror or exc}") from None
        ws = cls(root, config, paths, env, config_error)
        if init_baseline:
            ws.adopt_unvouched_state()
            ws.init_baseline()
        return ws

    def adopt_unvouched_state(self) -> bool:
        """Upgrade: a log written before entries vouched for state files vouches for the state as found, once.

        Only when the log has entries, none of them vouches for anything, and no head was ever kept
        outside the project (a project that has that copy was written by this version already).
        """
        external = self.audit.external_head
        if external is not None and external.exists():
            return False  # written by this version already (one stat: every command opens a workspace)
        if not self.audit.path.exists():
            return False
        self.ledger.refresh()
        if self.ledger.entries == 0 or self.ledger.vouches_anything:
            return False
        with file_lock(self.paths.baseline_lock):
            self.ledger.refresh()
            if self.ledger.vouches_anything:
                return False
            state: dict[str, str | None] = {}
            for rel in self.guarded():
                if self.has_baseline(rel):
                    state[baseline_key(rel)] = self.ledger.keep(self.read_baseline(rel))
            for file in sorted(self.paths.decisions.glob("*.json")):
                data = read_bytes(file)
                if data is not None:
                    state[f"decisions/{file.name}"] = self.ledger.keep(data)
            self.audit.append(
                "state_adopted",
                who=default_who(self.env),
                decision="rebaselined",
                reason="this audit log predates vouched state files: the decisions and baselines found are vouched for as they are",
                state=state or {"baseline/" + MARKER: sha256_bytes(self.read_baseline(MARKER))},
            )
        return True

    # -- guarded files ------------------------------------------------------------------------

    def guarded(self) -> list[str]:
        """Guarded paths: `devenv.nix` first (always), the configured ones, then the configuration's own files."""
        files = [MARKER] + [f for f in self.config.guard.files if f != MARKER]
        files += [f for f in self.config_paths() if f not in files]
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
        """Record `data` (None: the file should not exist) as the approved content of `rel`.

        Callers append the audit entry vouching for it first (`vouch_baselines`).
        """
        content, absent = self._baseline_file(rel), self._baseline_absent(rel)
        if data is None:
            atomic_write(absent, b"")
            content.unlink(missing_ok=True)
        else:
            atomic_write(content, data)
            absent.unlink(missing_ok=True)
        if normalise_rel(rel) in (CONFIG_FILE, PYPROJECT_FILE):
            self.recheck_config()  # the approved configuration may have changed: re-read it now

    def vouch_baselines(self, contents: Mapping[str, bytes | None]) -> dict[str, str | None]:
        """The audit entry's `state` for baselines about to be written (and a kept copy of each)."""
        return {baseline_key(normalise_rel(rel)): self.ledger.keep(data) for rel, data in contents.items()}

    def record_baselines(
        self, contents: Mapping[str, bytes | None], *, who: str, event: str = "rebaselined", reason: str | None = None
    ) -> None:
        """Make `contents` the approved bytes with one audit entry vouching for them, appended first."""
        self.audit.append(
            event,
            who=who,
            decision="rebaselined",
            reason=reason,
            sha256_after={normalise_rel(rel): sha256_bytes(data) for rel, data in contents.items()},
            state=self.vouch_baselines(contents),
        )
        for rel, data in contents.items():
            self.write_baseline(rel, data)

    def init_baseline(self, who: str | None = None) -> list[str]:
        """On the very first initialisation, record the current content of every guarded file as the
        approved baseline (the project as the person starts omni-tui in it); returns those paths.

        Only then: a file that joins the guarded set later (`[guard] files` in an accepted configuration,
        a new `[tool.omni-tui]`) has no approved content until a person accepts what it holds — it shows
        as an unapproved edit. Recording it here would approve bytes nobody was shown, from whatever
        process opened the workspace next (an agent's `status`). Never over a baseline the audit chain
        vouches for (a deleted baseline is a forgery to resolve, not a fresh start).
        """
        if self.has_baseline(CONFIG_FILE):  # always guarded, recorded last: initialised before, nothing is adopted now
            return []
        recorded: list[str] = []
        with file_lock(self.paths.baseline_lock):
            self.ledger.refresh()
            if self.has_baseline(CONFIG_FILE) or self.ledger.vouched(baseline_key(CONFIG_FILE)):
                return []  # another process initialised it meanwhile, or its baseline was deleted (a forgery to resolve)
            contents: dict[str, bytes | None] = {}
            for rel in self.guarded():
                if self.has_baseline(rel) or self.ledger.vouched(baseline_key(rel)):  # forged: a deleted baseline the log vouches for
                    continue
                contents[rel] = self.read_current(rel)
            if contents:
                recorded = list(contents)
                self.audit.append(
                    "baseline_initialised",
                    who=who or default_who(self.env),
                    reason="recorded the current content as the approved baseline: " + ", ".join(recorded),
                    sha256_after={rel: sha256_bytes(data) for rel, data in contents.items()},
                    state=self.vouch_baselines(contents),
                )
                for rel, data in contents.items():
                    self.write_baseline(rel, data)
        return recorded

    def baseline_sha(self, rel: str) -> tuple[bool, str | None]:
        """(recorded?, sha256 of the approved bytes or None for "no such file"), cached by the file's stat."""
        if not self.has_baseline(rel):
            return False, None
        file = self._baseline_file(rel)
        key = _stat_key(file)
        cached = self._baseline_sha.get(rel)
        if cached is not None and cached[0] == key and key is not None:
            return True, cached[1]
        digest = sha256_bytes(read_bytes(file))
        self._baseline_sha[rel] = (key, digest)
        return True, digest

    def baseline_forgeries(self) -> list[Forgery]:
        """Baselines whose bytes no audited init, apply, acceptance or resolution wrote (cheap: stats + dict look-ups)."""
        self.ledger.refresh()
        found = self._baseline_forgeries()
        if found:  # a second look: a writer may have finished its entry and its file since the first
            self.ledger.refresh()
            found = self._baseline_forgeries()
        return found

    def _baseline_forgeries(self) -> list[Forgery]:
        out: list[Forgery] = []
        for rel in self.guarded():
            recorded, digest = self.baseline_sha(rel)
            key = baseline_key(rel)
            if not recorded and not self.ledger.vouched(key):
                continue  # never recorded (a configuration source not yet approved)
            problem = self.ledger.problem(key, digest)
            if problem is not None:
                where = (
                    self._baseline_file(rel)
                    if recorded and digest is not None
                    else self._baseline_absent(rel)
                    if recorded
                    else self._baseline_file(rel)
                )
                out.append(Forgery("baseline", str(where), f"approved copy of {rel}: {problem}"))
        return out

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


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
