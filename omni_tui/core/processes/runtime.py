"""Where devenv keeps a project's process state: `$DEVENV_RUNTIME` computed as devenv does, sockets, logs."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple


def runtime_dir(dotfile: Path | str, env: Mapping[str, str] | None = None) -> Path:
    """devenv's rule: `$XDG_RUNTIME_DIR` (or /tmp when unset or empty) / `devenv-` + sha256(dotfile path)[:7]."""
    env = os.environ if env is None else env
    base = env.get("XDG_RUNTIME_DIR") or "/tmp"
    digest = hashlib.sha256(str(dotfile).encode()).hexdigest()[:7]
    return Path(base) / f"devenv-{digest}"


class DevenvPaths(NamedTuple):  # not a frozen dataclass: ≈ 1 ms less for every `status` (docs/performance.md)
    """The paths devenv uses for one project (PROCESS_BACKENDS.md, "Paths devenv uses")."""

    root: Path
    dotfile: Path
    state: Path
    runtime: Path

    @classmethod
    def for_root(cls, root: Path | str, env: Mapping[str, str] | None = None) -> DevenvPaths:
        """Honour `$DEVENV_DOTFILE` / `$DEVENV_STATE` / `$DEVENV_RUNTIME` only when they belong to this root."""
        env = os.environ if env is None else env
        root = Path(root)
        same = env.get("DEVENV_ROOT") in (None, "", str(root))
        dotfile = Path(env["DEVENV_DOTFILE"]) if same and env.get("DEVENV_DOTFILE") else root / ".devenv"
        state = Path(env["DEVENV_STATE"]) if same and env.get("DEVENV_STATE") else dotfile / "state"
        runtime = Path(env["DEVENV_RUNTIME"]) if same and env.get("DEVENV_RUNTIME") else runtime_dir(dotfile, env)
        return cls(root=root, dotfile=dotfile, state=state, runtime=runtime)

    @property
    def native_socket(self) -> Path:
        return self.runtime / "processes" / "native.sock"

    @property
    def native_pid_file(self) -> Path:
        return self.runtime / "processes" / "native-manager.pid"

    def native_log(self, name: str, stream: str) -> Path:
        return self.runtime / "processes" / "logs" / f"{name}.{stream}.log"

    @property
    def compose_socket(self) -> Path:
        return self.runtime / "pc.sock"

    @property
    def compose_log(self) -> Path:
        return self.state / "process-compose" / "process-compose.log"

    @property
    def manager_pid_file(self) -> Path:
        """Written by `devenv up -d` for detached external managers (honcho, overmind, ...)."""
        return self.dotfile / "processes.pid"

    @property
    def manager_log(self) -> Path:
        """The captured output of a detached external manager."""
        return self.dotfile / "processes.log"
