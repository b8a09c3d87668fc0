"""Settings: `omni-tui.toml` at the project root, else `[tool.omni-tui]` in its pyproject.toml.

The result is a frozen `Config`. Unknown keys and wrong types are `ConfigError`s naming the key
(`omni-tui.toml: [rebuild] auto_rollback must be a boolean (true or false), not string 'yes'`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, NamedTuple

from omni_tui.core.errors import ConfigError, RebuildError

CONFIG_FILE = "omni-tui.toml"
PYPROJECT_FILE = "pyproject.toml"
DEFAULT_GUARDED = ("devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc")
GUARD_MODES = ("watch", "guard")
DEFAULT_MAX_BYTES = 1024 * 1024

# The sections are NamedTuples, not frozen dataclasses: immutable and compared, shown and hashed the
# same, but without compiling six methods per class at import — every command opens a workspace,
# and `status --json` is what agents poll (docs/performance.md).


class RebuildConfig(NamedTuple):
    command: str | None = None  # None: `devenv shell -- true` when devenv is on PATH (see resolve_command)
    auto_rollback: bool = True
    restart_after: bool = False
    restart_command: str = "devenv processes down && devenv up -d"
    timeout_s: float = 0.0  # 0 = no timeout
    keep_logs: int = 50


DEFAULT_COMMAND = "devenv shell -- true"


# Here rather than in `core.rebuild` (which re-exports it): the cockpit resolves its command before
# its first frame, and the runner's module (its dataclasses, the process-group helpers) can load
# with the first rebuild.
def resolve_command(rebuild_config: Any) -> str:
    """The configured `[rebuild] command`, else `devenv shell -- true` when devenv is on PATH."""
    command = getattr(rebuild_config, "command", None)
    if isinstance(command, str) and command.strip():
        return command
    import shutil  # here: `status` imports this module and never resolves a command

    if shutil.which("devenv"):
        return DEFAULT_COMMAND
    raise RebuildError("no rebuild command: devenv is not on PATH and `[rebuild] command` is not set in the approved omni-tui.toml")


class GuardConfig(NamedTuple):
    files: tuple[str, ...] = DEFAULT_GUARDED
    mode: str = "watch"  # "guard": direct edits become proposals and are reverted at once
    max_bytes: int = DEFAULT_MAX_BYTES
    # Files the environment reads that the person leaves unguarded on purpose (`core.card.reads`): not warned about.
    unguarded_ok: tuple[str, ...] = ()


class UIConfig(NamedTuple):
    theme: str = "omni-dark"


class ProcessesConfig(NamedTuple):
    poll_interval_s: float = 1.0
    # A process no manager started (an agent's test run, a `sleep`) is listed once it listens on a
    # port or has lived this long; it leaves the panel as soon as it ends.
    unmanaged_after_s: float = 30.0


NOTIFY_TERMINAL = ("auto", "on", "off")
NOTIFY_EVENTS = ("proposal", "rebuild_finished", "rebuild_failed", "stale", "tampered")


class NotifyConfig(NamedTuple):
    bell: bool = True
    terminal: str = "auto"  # OSC 9 / OSC 777 desktop notifications: "auto" where the terminal says it shows them
    command: str | None = None  # run per event with the event's JSON on stdin
    events: tuple[str, ...] = NOTIFY_EVENTS
    timeout_s: float = 10.0
    max_per_minute: int = 12


class PolicyConfig(NamedTuple):
    """`[policy]`: card categories or risks that refuse a proposal at once, or need the risk's name typed to approve."""

    refuse: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()


class Config(NamedTuple):
    # Shared defaults: every section is immutable, and `keys` a read-only view of a dict nobody holds.
    rebuild: RebuildConfig = RebuildConfig()
    guard: GuardConfig = GuardConfig()
    ui: UIConfig = UIConfig()
    keys: Mapping[str, str] = MappingProxyType({})
    processes: ProcessesConfig = ProcessesConfig()
    notify: NotifyConfig = NotifyConfig()
    policy: PolicyConfig = PolicyConfig()
    source: str | None = None  # where it was read from, e.g. "omni-tui.toml" or "pyproject.toml [tool.omni-tui]"


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}.get(
        type(value), type(value).__name__
    )


class _Reader:
    """Pulls typed values out of one TOML table, naming `[section] key` in every error."""

    def __init__(self, origin: str, section: str, table: Any, known: tuple[str, ...]) -> None:
        self.origin = origin
        self.section = section
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table, not {_type_name(table)}")
        self.table = table
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(f"{origin}: unknown key [{section}] {unknown[0]} (known keys: {', '.join(known)})")

    def _fail(self, key: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.origin}: [{self.section}] {key} must be {expected}, not {_type_name(value)} {value!r}")

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "a boolean (true or false)", value)
        return value

    def string(self, key: str, default: str | None, *, empty_ok: bool = False) -> str | None:
        if key not in self.table:
            return default
        value = self.table[key]
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        if not empty_ok and not value.strip():
            raise ConfigError(f"{self.origin}: [{self.section}] {key} must not be empty")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, "a number", value)
        if value < minimum:
            raise ConfigError(f"{self.origin}: [{self.section}] {key} must be at least {minimum:g}, not {value!r}")
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer", value)
        if value < minimum:
            raise ConfigError(f"{self.origin}: [{self.section}] {key} must be at least {minimum}, not {value!r}")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise ConfigError(f"{self.origin}: [{self.section}] {key} must be one of {', '.join(map(repr, choices))}, not {value!r}")
        return value

    def paths(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.table.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._fail(key, "an array of strings", value)
        cleaned: list[str] = []
        for item in value:
            pure = PurePosixPath(item)
            if not item.strip() or pure.is_absolute() or ".." in pure.parts:
                raise ConfigError(
                    f"{self.origin}: [{self.section}] {key} entry {item!r} must be a path relative to the project root, inside it"
                )
            norm = str(PurePosixPath(*[p for p in pure.parts if p != "."]))
            if norm not in cleaned:
                cleaned.append(norm)
        if not cleaned:
            raise ConfigError(f"{self.origin}: [{self.section}] {key} must name at least one file")
        return tuple(cleaned)

    def read_paths(self, key: str) -> tuple[str, ...]:
        """Paths as `omni-tui status` names the files the environment reads: relative (`../x` too) or absolute."""
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() and "\x00" not in item for item in value):
            raise self._fail(key, "an array of non-empty paths", value)
        return tuple(dict.fromkeys(posixpath.normpath(item) for item in value))


SECTIONS = ("rebuild", "guard", "ui", "keys", "processes", "notify", "policy")


def parse_config(data: Mapping[str, Any], origin: str) -> Config:
    """Build a `Config` from an already-parsed TOML mapping; `origin` names the source in errors."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{origin}: unknown section [{unknown[0]}] (known sections: {', '.join(SECTIONS)})")

    r = _Reader(
        origin,
        "rebuild",
        data.get("rebuild", {}),
        ("command", "auto_rollback", "restart_after", "restart_command", "timeout_s", "keep_logs"),
    )
    d = RebuildConfig()
    rebuild = RebuildConfig(
        command=r.string("command", d.command),
        auto_rollback=r.boolean("auto_rollback", d.auto_rollback),
        restart_after=r.boolean("restart_after", d.restart_after),
        restart_command=r.string("restart_command", d.restart_command) or d.restart_command,
        timeout_s=r.number("timeout_s", d.timeout_s),
        keep_logs=r.integer("keep_logs", d.keep_logs, minimum=1),
    )

    g = _Reader(origin, "guard", data.get("guard", {}), ("files", "mode", "max_bytes", "unguarded_ok"))
    dg = GuardConfig()
    guard = GuardConfig(
        files=g.paths("files", dg.files),
        mode=g.choice("mode", dg.mode, GUARD_MODES),
        max_bytes=g.integer("max_bytes", dg.max_bytes, minimum=1),
        unguarded_ok=g.read_paths("unguarded_ok"),
    )

    u = _Reader(origin, "ui", data.get("ui", {}), ("theme",))
    ui = UIConfig(theme=u.string("theme", UIConfig().theme) or UIConfig().theme)

    keys_table = data.get("keys", {})
    if not isinstance(keys_table, dict):
        raise ConfigError(f'{origin}: [keys] must be a table of action = "key", not {_type_name(keys_table)}')
    for action, key in keys_table.items():
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(
                f'{origin}: [keys] {action} must be a non-empty string naming a key (e.g. "ctrl+a"), not {_type_name(key)} {key!r}'
            )

    p = _Reader(origin, "processes", data.get("processes", {}), ("poll_interval_s", "unmanaged_after_s"))
    processes = ProcessesConfig(
        poll_interval_s=p.number("poll_interval_s", ProcessesConfig().poll_interval_s, minimum=0.1),
        unmanaged_after_s=p.number("unmanaged_after_s", ProcessesConfig().unmanaged_after_s, minimum=0.0),
    )

    notify = _notify_config(
        _Reader(origin, "notify", data.get("notify", {}), ("bell", "terminal", "command", "events", "timeout_s", "max_per_minute"))
    )

    policy = _policy_config(_Reader(origin, "policy", data.get("policy", {}), ("refuse", "confirm")))

    return Config(
        rebuild=rebuild,
        guard=guard,
        ui=ui,
        keys=MappingProxyType(dict(keys_table)),
        processes=processes,
        notify=notify,
        policy=policy,
        source=origin,
    )


def _policy_config(r: _Reader) -> PolicyConfig:
    if not r.table:  # no [policy]: the card's vocabulary (its package imports the whole card) is not needed
        return PolicyConfig()
    from omni_tui.core.card.categories import CATEGORIES, RISKS

    known = (*CATEGORIES, *RISKS)
    out: dict[str, tuple[str, ...]] = {}
    for key in ("refuse", "confirm"):
        value = r.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise r._fail(key, "an array of card categories or risks", value)
        for name in value:
            if name not in known:
                raise ConfigError(f"{r.origin}: [policy] {key} entry {name!r} is not a card category or risk (known: {', '.join(known)})")
        out[key] = tuple(dict.fromkeys(value))
    return PolicyConfig(refuse=out["refuse"], confirm=out["confirm"])


def _notify_config(n: _Reader) -> NotifyConfig:
    d = NotifyConfig()
    events = n.table.get("events", list(d.events))
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise n._fail("events", "an array of strings", events)
    for event in events:
        if event not in NOTIFY_EVENTS:
            raise ConfigError(f"{n.origin}: [notify] events entry {event!r} is not one of {', '.join(NOTIFY_EVENTS)}")
    return NotifyConfig(
        bell=n.boolean("bell", d.bell),
        terminal=n.choice("terminal", d.terminal, NOTIFY_TERMINAL),
        command=n.string("command", d.command),
        events=tuple(dict.fromkeys(events)),
        timeout_s=n.number("timeout_s", d.timeout_s, minimum=0.1),
        max_per_minute=n.integer("max_per_minute", d.max_per_minute, minimum=1),
    )


def load_config(root: Path) -> Config:
    """Read `<root>/omni-tui.toml`, else `[tool.omni-tui]` from `<root>/pyproject.toml`, else defaults."""
    for name in (CONFIG_FILE, PYPROJECT_FILE):
        path = root / name
        if path.is_file():
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ConfigError(f"{name}: cannot read: {exc.strerror or exc}") from None
            found = config_from_bytes(name, data)
            if found is not None:
                return found
    return Config()


def config_from_bytes(name: str, data: bytes | None) -> Config | None:
    """The configuration in `data` (the bytes of omni-tui.toml or pyproject.toml); None when it has none.

    `name` is the file's name in messages; `pyproject.toml` holds one only in its `[tool.omni-tui]` table.
    """
    if data is None:
        return None
    import tomllib  # here: a project without a configuration file never needs it (agents' `propose`)

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not valid UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML: {exc}") from None
    except RecursionError:  # `a = [[[[…` deeper than Python's stack (an agent's edit): tomllib raises this
        raise ConfigError(f"{name}: invalid TOML: nested too deeply") from None
    if name == PYPROJECT_FILE:
        tool = doc.get("tool")
        section = tool.get("omni-tui") if isinstance(tool, dict) else None
        if section is None:
            return None
        if not isinstance(section, dict):
            raise ConfigError(f"{PYPROJECT_FILE} [tool.omni-tui] must be a table")
        return parse_config(section, f"{PYPROJECT_FILE} [tool.omni-tui]")
    return parse_config(doc, name)
