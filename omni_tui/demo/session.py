"""One run of `omni-tui demo`: create the workspace, start honcho (web + worker), the scripted agent
and the safety-net reaper, hand the workspace to the cockpit, and on the way out — quit, Ctrl-C or
an error — stop every demo process and remove the workspace unless asked to keep it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import psutil

from omni_tui.core.errors import OmniError
from omni_tui.core.workspace import Workspace
from omni_tui.demo import procs
from omni_tui.demo.template import AGENT_LOG, PROCESS_LOG, PROCESS_PID, DemoFiles, remove_workspace, write_workspace

# Variables that would point omni-tui or the process backends at another project: a demo started
# from inside someone's devenv shell must not touch that project.
FOREIGN_VARS = ("DEVENV_ROOT", "DEVENV_DOTFILE", "DEVENV_RUNTIME", "DEVENV_STATE", "PC_SOCKET_PATH", "PC_API_TOKEN", "PC_PORT_NUM")


class DemoError(OmniError):
    """The demo cannot start (directory not empty, honcho missing, ...)."""


def honcho_program() -> str:
    """honcho's own `honcho` script, as devenv or a person runs it (its process is then named
    `honcho`, which the process panel knows as a manager); found beside this Python first."""
    beside = Path(sys.executable).parent / "honcho"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("honcho")
    if found is None:
        raise DemoError("the `honcho` command is not on PATH; `pip install honcho` (the demo runs its processes with it)")
    return found


@dataclass
class DemoSession:
    """Use as a context manager: `start()` inside it; leaving it always cleans up."""

    directory: Path | None = None
    keep: bool = False
    use_nix: bool = True
    pace_s: float | None = None
    out: TextIO = sys.stdout
    root: Path | None = None
    files: DemoFiles | None = None
    workspace: Workspace | None = None
    honcho: subprocess.Popen | None = None
    agent: subprocess.Popen | None = None
    reaper: subprocess.Popen | None = None
    _created_root: bool = False
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    _logs: list = field(default_factory=list)

    # -- setting up -------------------------------------------------------------------------
    def _make_root(self) -> Path:
        if self.directory is None:
            self._created_root = True
            return Path(tempfile.mkdtemp(prefix="omni-tui-demo-")).resolve()
        root = self.directory.expanduser().resolve()
        if root.exists():
            if not root.is_dir():
                raise DemoError(f"--dir {root}: exists and is not a directory")
            if any(root.iterdir()):
                raise DemoError(f"--dir {root}: directory is not empty; give a new or empty directory")
        else:
            try:
                root.mkdir(parents=True)
            except OSError as err:
                raise DemoError(f"--dir {root}: cannot create it ({err.strerror})") from None
            self._created_root = True
        return root

    def _set_env(self, name: str, value: str | None) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def _log(self, rel: str):
        handle = open(self.root / rel, "ab")  # noqa: SIM115 - closed in close()
        self._logs.append(handle)
        return handle

    def start(self) -> DemoFiles:
        honcho = honcho_program()  # fails before anything is created
        self.root = self._make_root()
        for name in FOREIGN_VARS:
            self._set_env(name, None)
        # Everything started from here on (agent, honcho, the cockpit's rebuilds) carries the mark.
        self._set_env(procs.MARK, str(self.root))
        self._start_reaper()
        self.files = write_workspace(self.root, use_nix=self.use_nix)
        # Opening it records the baseline before any agent or process can touch a file.
        self.workspace = Workspace.open(self.root)
        self._start_honcho(honcho)
        self._start_agent()
        self._wait_for_web(timeout_s=15.0)
        return self.files

    def _start_reaper(self) -> None:
        me = psutil.Process()
        env = {k: v for k, v in os.environ.items() if k != procs.MARK}
        argv = [sys.executable, "-m", "omni_tui.demo.reaper", str(me.pid), repr(me.create_time()), str(self.root)]
        if not self.keep:
            argv.append("--remove" if self._created_root else "--empty")
        self.reaper = procs.spawn(argv, cwd=Path(tempfile.gettempdir()), env=env)

    def _start_honcho(self, honcho: str) -> None:
        env = dict(os.environ, DEVENV_ROOT=str(self.root), PYTHONUNBUFFERED="1")
        argv = [honcho, "start", "--no-colour", "-f", "Procfile", "-d", str(self.root)]
        self.honcho = procs.spawn(argv, cwd=self.root, env=env, output=self._log(PROCESS_LOG))
        (self.root / PROCESS_PID).write_text(f"{self.honcho.pid}\n")

    def _start_agent(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        argv = [sys.executable, "-m", "omni_tui.demo.agent", str(self.root)]
        if self.pace_s is not None:
            argv += ["--pace", str(self.pace_s)]
        # Outside the root, so the process panel lists the project's processes, not the agent.
        self.agent = procs.spawn(argv, cwd=self.root.parent, env=env, output=self._log(AGENT_LOG))

    def _wait_for_web(self, timeout_s: float) -> None:
        assert self.files is not None and self.honcho is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.honcho.poll() is not None:
                tail = (self.root / PROCESS_LOG).read_text(errors="replace").strip().splitlines()[-3:]
                raise DemoError(f"the demo processes exited at once (honcho exit {self.honcho.returncode}): {' | '.join(tail)}")
            try:
                with socket.create_connection(("127.0.0.1", self.files.web_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)

    # -- tearing down ------------------------------------------------------------------------
    def close(self) -> list[str]:
        """Stop everything, remove the workspace unless kept; returns lines describing what was done."""
        report: list[str] = []
        if self.root is None:
            return report
        for proc in (self.agent, self.honcho):
            if proc is not None:
                procs.end_group(proc, grace_s=5.0)
        swept = procs.sweep(self.root)
        left = procs.wait_until_gone(self.root, timeout_s=5.0)
        for handle in self._logs:
            handle.close()
        self._logs.clear()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        stopped = "all demo processes stopped" + (f" ({len(swept)} needed a signal)" if swept else "")
        report.append(stopped if not left else f"could not stop pids {', '.join(str(p.pid) for p in left)}")
        if self.keep:
            report.append(f"workspace kept at {self.root} (run `omni-tui {self.root}` to look at it again)")
        else:
            removed = remove_workspace(self.root, created=self._created_root)
            done = "removed" if self._created_root else "emptied"
            report.append(f"workspace {self.root} {done}" if removed else f"could not remove {self.root}; remove it by hand")
        if self.reaper is not None:
            procs.end_group(self.reaper, grace_s=2.0)
        return report

    def __enter__(self) -> DemoSession:
        return self

    def __exit__(self, *exc: object) -> None:
        for line in self.close():
            print(f"omni-tui demo: {line}", file=self.out)


def banner(files: DemoFiles, keep: bool) -> str:
    build = (
        "real nix-build of demo-build.nix, offline (it evaluates devenv.nix)"
        if not files.build.simulated
        else f"SIMULATED — {files.build.reason}; the rebuild log says so on its first line"
    )
    fate = "kept after you quit (--keep)" if keep else "removed when you quit; --keep keeps it"
    return "\n".join(
        [
            "omni-tui demo",
            f"  workspace  {files.root}  ({fate})",
            f"  processes  web on {files.web_url} and worker, run by honcho ({PROCESS_LOG})",
            f"  rebuild    {build}",
            f"  agent      demo-agent proposes three changes, then edits devenv.nix directly ({AGENT_LOG})",
            "  keys       a approve · r reject · A accept / u revert a direct edit · ? help · q quit",
        ]
    )


def run_demo(
    directory: Path | None = None,
    *,
    keep: bool = False,
    use_nix: bool = True,
    pace_s: float | None = None,
    out: TextIO = sys.stdout,
    cockpit: Callable[[object], int] | None = None,
) -> int:
    """The whole demo: returns the cockpit's exit code. `cockpit` (tests) replaces the demo's cockpit."""
    with DemoSession(directory=directory, keep=keep, use_nix=use_nix, pace_s=pace_s, out=out) as session:
        files = session.start()
        print(banner(files, keep), file=out, flush=True)
        if cockpit is None:
            from omni_tui.demo.cockpit import run_demo_cockpit

            return run_demo_cockpit(session.workspace, files)
        return cockpit(session.workspace)
