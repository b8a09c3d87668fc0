"""The demo workspace on disk: devenv.nix, devenv.yaml, omni-tui.toml, the build expression,
the Procfile and the little acme-shop app its processes run; and the choice of a real Nix build
or a plainly labelled simulated one."""

from __future__ import annotations

import secrets
import shlex
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

BUILD_FILE = "demo-build.nix"
MARKER_FILE = ".omni-tui-demo"  # names a directory as a demo workspace, so cleanup only ever removes those
AGENT_LOG = ".devenv/demo-agent.log"
PROCESS_LOG = ".devenv/processes.log"  # where devenv keeps a detached process manager's output
PROCESS_PID = ".devenv/processes.pid"
SIMULATED_BANNER = "SIMULATED BUILD"


@dataclass(frozen=True)
class BuildPlan:
    """How the demo rebuilds: `mode` is "nix" or "simulated"; `reason` says why when simulated."""

    mode: str
    command: str
    reason: str = ""

    @property
    def simulated(self) -> bool:
        return self.mode == "simulated"


@dataclass(frozen=True)
class DemoFiles:
    root: Path
    web_port: int
    build: BuildPlan
    python: str

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/"


def asset_text(name: str) -> str:
    return resources.files("omni_tui.demo").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def remove_workspace(root: Path, *, created: bool) -> bool:
    """Remove a demo workspace (the whole directory when the demo `created` it, else its contents).

    Refuses (False) unless the directory carries the demo's marker file or is already empty, so a
    mistake can never delete anything that is not a demo workspace.
    """
    if not root.is_dir():
        return True
    if not (root / MARKER_FILE).is_file() and any(root.iterdir()):
        return False
    if created:
        shutil.rmtree(root, ignore_errors=True)
        return not root.exists()
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    return not any(root.iterdir())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nix_build_command(salt: str) -> str:
    return f"nix-build --option substituters '' --log-format internal-json -v --no-out-link {BUILD_FILE} --argstr salt {shlex.quote(salt)}"


def simulated_build_command(python: str) -> str:
    return f"{shlex.quote(python)} -m omni_tui.demo.simulated_build devenv.nix"


def plan_build(root: Path, salt: str, *, python: str = sys.executable, use_nix: bool = True) -> BuildPlan:
    """Real nix-build when Nix is installed and can instantiate the demo expression here, else simulated.

    `root` must already hold devenv.nix and demo-build.nix: the probe instantiates them, which also
    proves the Nix store is writable for this user (a Nix without a daemon, run as non-root, is not).
    """
    simulated = simulated_build_command(python)
    if not use_nix:
        return BuildPlan("simulated", simulated, "--simulate was given")
    missing = [tool for tool in ("nix-build", "nix-instantiate") if shutil.which(tool) is None]
    if missing:
        return BuildPlan("simulated", simulated, f"{' and '.join(missing)} not found on PATH")
    try:
        probe = subprocess.run(
            ["nix-instantiate", "--option", "substituters", "", BUILD_FILE, "--argstr", "salt", salt],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return BuildPlan("simulated", simulated, f"nix-instantiate did not run: {err}")
    if probe.returncode != 0:
        errors = [line.strip() for line in probe.stderr.splitlines() if line.strip()]
        detail = next((line for line in errors if line.startswith("error")), errors[-1] if errors else f"exit {probe.returncode}")
        return BuildPlan("simulated", simulated, f"Nix cannot build here ({detail})")
    return BuildPlan("nix", nix_build_command(salt))


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(plan: BuildPlan) -> str:
    how = (
        "a real, offline nix-build of demo-build.nix, which evaluates devenv.nix"
        if not plan.simulated
        else f"a SIMULATED build ({plan.reason}); install Nix for a real one"
    )
    return (
        "# Written by `omni-tui demo`. The rebuild after each approval is\n"
        f"# {how}.\n"
        "[rebuild]\n"
        f"command = {_toml_string(plan.command)}\n"
        "auto_rollback = true\n"
        "timeout_s = 300\n"
    )


def procfile_text(python: str, web_port: int) -> str:
    py = shlex.quote(python)
    return (
        f"web: exec {py} -u -m http.server {web_port} --bind 127.0.0.1 --directory public\n"
        f"worker: ACME_API_URL=http://127.0.0.1:{web_port}/ exec {py} -u -m acme.worker\n"
    )


def write_workspace(root: Path, *, use_nix: bool = True, python: str = sys.executable) -> DemoFiles:
    """Fill `root` (existing, empty) with the demo project and decide how it rebuilds."""
    salt = secrets.token_hex(6)
    web_port = free_port()
    (root / MARKER_FILE).write_text("omni-tui demo workspace; removed when the demo ends unless --keep\n")
    (root / "devenv.nix").write_text(asset_text("devenv.nix"))
    (root / "devenv.yaml").write_text(asset_text("devenv.yaml"))
    (root / BUILD_FILE).write_text(asset_text(BUILD_FILE))
    (root / "Procfile").write_text(procfile_text(python, web_port))
    (root / "public").mkdir()
    (root / "public" / "index.html").write_text(asset_text("index.html"))
    (root / "public" / "healthz").write_text(asset_text("healthz"))
    (root / "acme").mkdir()
    (root / "acme" / "__init__.py").write_text('"""acme-shop (omni-tui demo)."""\n')
    (root / "acme" / "worker.py").write_text(asset_text("acme_worker.py"))
    (root / ".devenv").mkdir()
    plan = plan_build(root, salt, python=python, use_nix=use_nix)
    (root / "omni-tui.toml").write_text(config_text(plan))
    return DemoFiles(root=root, web_port=web_port, build=plan, python=python)
