"""`omni-tui run`: an agent in the bubblewrap sandbox cannot change what a person approves — as root and as
an unprivileged user the test creates — while the rest of the project stays writable and `propose --wait` works."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import cockpit
from conftest import SAMPLE_DEVENV_NIX

from omni_tui.core import sandbox
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
DECIDER = Path(__file__).resolve().parent / "agents_decider.py"
WAIT = 60

# Run inside the sandbox: try each attack, print {name: "ok" | errno name}.
PROBE = r"""
import errno, json, os, sys
results = {}
def attempt(name, fn):
    try:
        fn()
        results[name] = "ok"
    except OSError as exc:
        results[name] = errno.errorcode.get(exc.errno, str(exc.errno))
def write(path, data="forged\n", mode="w"):
    with open(path, mode) as f:
        f.write(data)
for name, fn in json.loads(sys.argv[1]).items():
    attempt(name, lambda fn=fn: exec(fn, {"os": os, "write": write}))
print(json.dumps(results))
"""


def _python_for(uid: int) -> tuple[str, str]:
    """An interpreter `uid` can run (also in a user namespace) and its PYTHONPATH: this one, or the system's
    python3 of the same version with this environment's packages when this one lives in a private folder."""
    site = next(p for p in sys.path if p.endswith("site-packages"))
    here = Path(os.path.realpath(sys.executable))
    if uid == os.getuid() or all(os.stat(folder).st_mode & 0o001 for folder in here.parents):
        return sys.executable, str(REPO)
    system = shutil.which("python3", path="/usr/bin:/bin")
    version = subprocess.run(
        [system or "false", "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=False
    )
    if system is None or version.stdout.strip() != str(tuple(sys.version_info[:2])):
        pytest.skip(f"{here} is not reachable by other users and there is no system python{sys.version_info[0]}.{sys.version_info[1]}")
    return system, f"{REPO}:{site}"


def _grant_other_access(paths: list[Path]) -> list[tuple[Path, int]]:
    """Let another user reach `paths` (this checkout, its venv's site-packages): o+x on every ancestor that lacks
    it (a `mktemp -d` clone is 0700, and CI's folder is not ours to choose), o+rx on the paths themselves (the
    interpreter lists them). Returns the exact modes changed, for `_restore_modes`, so the same code is under test."""
    changed: dict[Path, int] = {}
    for path in paths:
        for folder, bits in [(path, 0o005), *((parent, 0o001) for parent in path.parents)]:
            mode = os.stat(folder).st_mode
            if mode & bits != bits and folder not in changed:
                changed[folder] = mode & 0o7777
                os.chmod(folder, mode & 0o7777 | bits)
    return list(changed.items())


def _restore_modes(changed: list[tuple[Path, int]]) -> None:
    for folder, mode in reversed(changed):
        with contextlib.suppress(OSError):
            os.chmod(folder, mode)


@pytest.fixture(scope="module")
def checkout_reachable_by_others() -> Iterator[None]:
    """While this module's tests run as root, an unprivileged user can import this checkout and its venv."""
    if os.getuid() != 0:
        yield
        return
    site = next(p for p in sys.path if p.endswith("site-packages"))
    changed = _grant_other_access([REPO, Path(site), Path(sys.executable).parent])
    try:
        yield
    finally:  # the exact modes come back, also when a test failed
        _restore_modes(changed)


def _user_env(home: Path, state_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_", "OMNI_TUI_SANDBOX"))}
    env.update(PYTHONPATH=str(REPO), HOME=str(home), XDG_STATE_HOME=str(state_home), PYTHONDONTWRITEBYTECODE="1")
    return env


class Runner:
    """Runs `omni-tui …` in a project as one user (root, or a throwaway unprivileged one)."""

    def __init__(self, project: Path, env: dict[str, str], prefix: list[str], ids: tuple[int, int]) -> None:
        self.project, self.env, self.prefix, self.ids = project, env, prefix, ids
        self.python, env["PYTHONPATH"] = _python_for(ids[0])

    def write(self, rel: str, text: str) -> Path:
        """Write a project file owned by the runner's user."""
        path = self.project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.chown(path.parent, *self.ids)
        os.chown(path, *self.ids)
        return path

    def omni(self, *args: str, timeout: float = WAIT, check_rc: int | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self.prefix, self.python, "-m", "omni_tui", *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check_rc is not None:
            assert done.returncode == check_rc, (done.returncode, done.stdout, done.stderr)
        return done

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*self.prefix, self.python, "-m", "omni_tui", *args],
            cwd=self.project,
            env=self.env,
            stdin=subprocess.PIPE,  # open until communicate(): a command reading stdin waits for the test
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def attack(self, attempts: dict[str, str]) -> dict[str, str]:
        done = self.omni("run", "--", self.python, "-c", PROBE, json.dumps(attempts), check_rc=0)
        return json.loads(done.stdout)

    def workspace(self) -> Workspace:
        return Workspace.open(self.project, env={"XDG_STATE_HOME": self.env["XDG_STATE_HOME"]})


@pytest.fixture(params=["root", "user"])
def runner(request: pytest.FixtureRequest, need_bwrap: None, checkout_reachable_by_others: None) -> Iterator[Runner]:
    """A project (devenv.nix, a README, a subfolder) run as root, and as an unprivileged user made for the test."""
    as_root = request.param == "root"
    if as_root and os.getuid() != 0:
        pytest.skip("the root variant needs root (the unprivileged variant runs as this user)")
    base = Path(tempfile.mkdtemp(prefix="omni-sbx-", dir="/tmp"))
    os.chmod(base, 0o755)
    project, home, state_home = base / "proj", base / "home", base / "state"
    for folder in (project, project / "src", home, state_home):
        folder.mkdir()
    (project / "devenv.nix").write_text(SAMPLE_DEVENV_NIX)
    (project / "README.md").write_text("readme\n")
    user = None
    prefix: list[str] = []
    try:  # the throwaway user and folder go whatever happens below (a skip, a failed set-up)
        if os.getuid() == 0 and not as_root:
            user = f"omnisbx{secrets.token_hex(3)}"
            subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh", user], check=True)
            entry = pwd.getpwnam(user)
            for path in (base, *base.rglob("*")):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            prefix = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--"]
        env = _user_env(home, state_home)
        env["USER"] = user or env.get("USER", "root")
        ids = (entry.pw_uid, entry.pw_gid) if user is not None else (os.getuid(), os.getgid())
        run = Runner(project, env, prefix, ids)
        run.omni("status", "--no-nix", check_rc=0)  # the state directory and baseline, made by that user
        yield run
    finally:
        shutil.rmtree(base, ignore_errors=True)
        if user is not None:
            subprocess.run(["userdel", user], check=False, capture_output=True)


def test_guarded_file_cannot_be_written_truncated_renamed_over_deleted_chmoded_or_swapped(runner: Runner) -> None:
    results = runner.attack(
        {
            "write": "write('devenv.nix')",
            "append": "write('devenv.nix', 'x', 'a')",
            "truncate": "os.truncate('devenv.nix', 0)",
            "rename_over": "write('src/evil.nix'); os.rename('src/evil.nix', 'devenv.nix')",
            "delete": "os.unlink('devenv.nix')",
            "chmod": "os.chmod('devenv.nix', 0o777)",
            "symlink_swap": "os.symlink('src/evil.nix', 'devenv.tmp'); os.rename('devenv.tmp', 'devenv.nix')",
            "hardlink_over": "os.link('README.md', 'devenv.nix')",
        }
    )
    # The project folder is sealed (devenv.local.nix does not exist yet): renames and deletes there fail with
    # EROFS, and a rename from a subfolder crosses mounts (EXDEV). Each fails with the system's own error.
    assert results == {
        "write": "EROFS",
        "append": "EROFS",
        "truncate": "EROFS",
        "rename_over": "EXDEV",
        "delete": "EROFS",
        "chmod": "EROFS",
        "symlink_swap": "EROFS",
        "hardlink_over": "EEXIST",
    }
    assert (runner.project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX
    assert not (runner.project / "devenv.nix").is_symlink()


def test_with_every_guarded_file_present_the_project_folder_stays_writable_and_mount_points_hold(runner: Runner) -> None:
    for rel in ("devenv.local.nix", ".envrc", "omni-tui.toml", "devenv.yaml"):
        runner.write(rel, "{ }\n" if rel.endswith(".nix") else "\n")
    runner.omni("status", "--no-nix", check_rc=0)
    results = runner.attack(
        {
            "new_file_at_root": "write('notes.txt', 'hi\\n')",
            "rename_at_root": "os.rename('notes.txt', 'notes.md')",
            "write": "write('devenv.nix')",
            "rename_over": "write('evil.nix'); os.rename('evil.nix', 'devenv.nix')",
            "delete": "os.unlink('devenv.local.nix')",
            "symlink_swap": "os.symlink('evil.nix', 'devenv.tmp'); os.rename('devenv.tmp', '.envrc')",
            "chmod": "os.chmod('omni-tui.toml', 0o777)",
            "rename_project": "os.rename(os.getcwd(), os.getcwd() + '-moved')",
        }
    )
    assert results == {
        "new_file_at_root": "ok",
        "rename_at_root": "ok",
        "write": "EROFS",
        "rename_over": "EBUSY",
        "delete": "EBUSY",
        "symlink_swap": "EBUSY",
        "chmod": "EROFS",
        "rename_project": "EBUSY",
    }
    assert (runner.project / "notes.md").read_text() == "hi\n"
    assert (runner.project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_absent_guarded_file_cannot_be_created_while_the_rest_stays_writable(runner: Runner) -> None:
    results = runner.attack(
        {
            "create_local": "write('devenv.local.nix')",
            "create_envrc": "write('.envrc')",
            "mkdir_local": "os.mkdir('devenv.local.nix')",
            "symlink_local": "os.symlink('/etc/passwd', 'devenv.local.nix')",
            "config": "write('omni-tui.toml', '[guard]\\nfiles = []\\n')",
            "readme": "write('README.md', 'edited\\n')",
            "subfolder_new_file": "write('src/new.py', 'print(1)\\n')",
            "subfolder_mkdir": "os.makedirs('src/pkg/deep')",
        }
    )
    assert results == {
        "create_local": "EROFS",
        "create_envrc": "EROFS",
        "mkdir_local": "EROFS",
        "symlink_local": "EROFS",
        "config": "EROFS",
        "readme": "ok",
        "subfolder_new_file": "ok",
        "subfolder_mkdir": "ok",
    }
    for name in ("devenv.local.nix", ".envrc", "omni-tui.toml"):
        assert not os.path.lexists(runner.project / name), name  # nothing left behind as a mount point either
    assert (runner.project / "README.md").read_text() == "edited\n"
    assert (runner.project / "src" / "new.py").read_text() == "print(1)\n"


def test_state_audit_and_decisions_are_read_only_but_proposals_are_writable(runner: Runner) -> None:
    state = ".devenv/omni"
    forged_decision = json.dumps({"schema": "omni-tui/decision@1", "proposal_id": "x", "status": "applied"})
    results = runner.attack(
        {
            "forge_decision": f"write('{state}/decisions/20260101T000000Z-abcdef.json', {forged_decision!r})",
            "forge_baseline": f"write('{state}/baseline/devenv.nix')",
            "edit_audit": f"write('{state}/audit.jsonl', '', 'a')",
            "truncate_audit": f"os.truncate('{state}/audit.jsonl', 0)",
            "delete_audit": f"os.unlink('{state}/audit.jsonl')",
            "swap_state": f"os.rename('{state}', '.devenv/old')",
            "swap_devenv_dir": "os.rename('.devenv', 'devenv-old')",
            "external_head": "write(os.environ['XDG_STATE_HOME'] + '/omni-tui/forged')",
            "fake_sandbox_entry": f"write('{state}/sandbox-1.json')",
            "proposal_file": f"write('{state}/proposals/scratch.tmp', 'x')",
        }
    )
    assert results == {
        "forge_decision": "EROFS",
        "forge_baseline": "EROFS",
        "edit_audit": "EROFS",
        "truncate_audit": "EROFS",
        "delete_audit": "EROFS",
        "swap_state": "EBUSY",
        "swap_devenv_dir": "EROFS",
        "external_head": "EROFS",
        "fake_sandbox_entry": "EROFS",
        "proposal_file": "ok",
    }
    assert runner.omni("audit", "--verify").returncode == 0


def test_agents_own_settings_are_read_only_and_cannot_be_added(runner: Runner) -> None:
    claude = runner.project / ".claude"
    for rel in (".claude/settings.json", ".mcp.json", ".codex/hooks.json"):
        runner.write(rel, "{}\n")
    results = runner.attack(
        {
            "claude_settings": "write('.claude/settings.json')",
            "claude_local": "write('.claude/settings.local.json')",
            "mcp": "write('.mcp.json')",
            "codex_hooks": "write('.codex/hooks.json')",
            "codex_new": "write('.codex/config.toml')",
        }
    )
    assert set(results.values()) == {"EROFS"}, results
    assert not (claude / "settings.local.json").exists()


def test_propose_wait_from_inside_gets_the_decision_made_outside_and_is_audited(runner: Runner) -> None:
    new = SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.jq pkgs.ripgrep")
    runner.write("src/new.nix", new)
    agent = runner.popen(
        "run",
        "--",
        runner.python,
        "-m",
        "omni_tui",
        "propose",
        "devenv.nix",
        "--new-content",
        "src/new.nix",
        "--title",
        "Add ripgrep",
        "--why",
        "search",
        "--wait",
        "--timeout",
        str(WAIT),
    )
    inode = (runner.project / "devenv.nix").stat().st_ino
    decider = subprocess.run(
        [*runner.prefix, runner.python, str(DECIDER), str(runner.project), "approve"],
        env=runner.env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    out, err = agent.communicate(timeout=WAIT)
    assert decider.returncode == 0, decider.stderr
    assert agent.returncode == 0, (out, err)
    proposal_id, outcome = out.splitlines()
    assert outcome.startswith("applied")
    assert (runner.project / "devenv.nix").read_text() == new  # written by the gate outside, not by the agent
    # Rewritten in place while a sandbox runs: the read-only bind inside stays on the file, no gap.
    assert (runner.project / "devenv.nix").stat().st_ino == inode
    ws = runner.workspace()
    proposed = [e for e in ws.audit.entries() if e["event"] == "proposed"]
    assert [(e["proposal_id"], e["who"], e["reason"]) for e in proposed] == [(proposal_id, "cli", "Add ripgrep")]
    assert ws.audit.verify().ok
    assert ProposalStore(ws).status(proposal_id) == "applied"


def test_the_launcher_is_registered_while_its_sandbox_runs(runner: Runner) -> None:
    ws = runner.workspace()
    assert sandbox.running(ws.paths) == []
    agent = runner.popen("run", "--", runner.python, "-c", "import sys; sys.stdin.read()")
    deadline = time.monotonic() + WAIT
    while not (entries := sandbox.running(ws.paths)) and time.monotonic() < deadline and agent.poll() is None:
        time.sleep(0.05)
    assert [e.command for e in entries] == [Path(runner.python).name]
    agent.communicate("", timeout=WAIT)
    assert agent.returncode == 0
    assert sandbox.running(ws.paths) == []
    assert sandbox.registry_files(ws.paths) == []


def test_exit_code_passes_through(runner: Runner) -> None:
    assert runner.omni("run", "--", "sh", "-c", "exit 7").returncode == 7
    assert runner.omni("run", "sh", "-c", "kill -TERM $$").returncode == 128 + 15
    done = runner.omni("run", "--", "sh", "-c", 'printf "%s" "$OMNI_TUI_SANDBOX"', check_rc=0)
    assert done.stdout == str(runner.project)


def _run_with_path(project: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "OMNI_TUI_SANDBOX"))}
    env.update(PYTHONPATH=str(REPO), PATH=path)
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", "run", "-C", str(project), "--", "true"],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


def test_missing_bubblewrap_is_one_line_and_exit_2(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    done = _run_with_path(project, str(empty))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "omni-tui: bubblewrap (bwrap) is not installed; install it (Debian/Ubuntu: apt install bubblewrap)\n"


def test_user_namespaces_disabled_is_one_line_with_bubblewraps_reason_and_exit_2(project: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"  # what bubblewrap prints when the kernel refuses unprivileged user namespaces
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    done = _run_with_path(project, f"{bin_dir}:/usr/bin:/bin")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("omni-tui: bubblewrap cannot create a sandbox here: setting up uid map: Permission denied")
    assert "user namespaces" in done.stderr
    assert sandbox.registry_files(Workspace.open(project, env={}).paths) == []


def test_nothing_to_run_is_one_line_and_exit_2(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "omni_tui", "run", "-C", str(project)],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert (done.returncode, done.stderr) == (2, "omni-tui: run: give the command to run, e.g. `omni-tui run -- claude`\n")


def test_header_detail_says_how_many_agents_are_sandboxed() -> None:
    from omni_tui.ui.widgets.gate_header import gate_detail

    assert gate_detail("clean", 0, (), "", 0) == ""
    assert gate_detail("clean", 0, (), "", 1) == "1 agent sandboxed"
    assert gate_detail("pending", 2, ("devenv.nix",), "", 3) == "edited: devenv.nix · 3 agents sandboxed"


async def test_cockpit_header_shows_how_many_agents_are_sandboxed(project: Path, need_bwrap: None) -> None:
    from app_harness import SIZE, open_workspace, screen_text, wait_for

    from omni_tui.core.gate import Gate

    ws = open_workspace(project)
    app = cockpit(ws)
    env = {**_user_env(Path.home(), Path(os.environ["XDG_STATE_HOME"])), "PYTHONPATH": str(REPO)}
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
        assert "sandboxed" not in screen_text(app)
        agent = subprocess.Popen(
            [sys.executable, "-m", "omni_tui", "run", "--", sys.executable, "-c", "import sys; sys.stdin.read()"],
            cwd=project,
            env=env,
            stdin=subprocess.PIPE,
            text=True,
        )
        try:
            await wait_for(pilot, lambda: "1 agent sandboxed" in screen_text(app), timeout=WAIT, what="the sandbox counted")
            assert Gate(ws).state().sandboxed == 1
        finally:
            agent.communicate("", timeout=WAIT)
        assert agent.returncode == 0
        await wait_for(pilot, lambda: "sandboxed" not in screen_text(app), timeout=WAIT, what="the sandbox gone")


def test_a_sandbox_inside_a_sandbox_is_refused_in_one_line(runner: Runner) -> None:
    done = runner.omni("run", "--", runner.python, "-m", "omni_tui", "run", "--", "true")
    assert done.returncode == 2
    assert done.stderr == f"omni-tui: already inside an omni-tui sandbox (of {runner.project}); run the command directly\n"


def test_an_agent_inside_can_withdraw_its_proposal_through_the_launcher(runner: Runner) -> None:
    runner.write("src/new.nix", SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.jq pkgs.fd"))
    script = (
        f"id=$({runner.python} -m omni_tui propose devenv.nix --new-content src/new.nix --title 'Add fd' --why w --agent bot)"
        f" && {runner.python} -m omni_tui withdraw \"$id\" --reason 'found another way'"
    )
    done = runner.omni("run", "--", "sh", "-c", script, check_rc=0)
    proposal_id = done.stdout.split()[-1]
    ws = runner.workspace()
    decision = ProposalStore(ws).decision(proposal_id)
    assert decision is not None and (decision.status, decision.who, decision.reason) == ("withdrawn", "bot", "found another way")
    assert [e["event"] for e in ws.audit.entries()][-2:] == ["proposed", "withdrawn"]
    assert ws.audit.verify().ok
    assert list(ws.paths.proposals.glob("*.withdraw")) == []


WAIT_FOR_REBIND = r"""
import errno, os, sys, time
deadline = time.monotonic() + 30
def mounted():  # bound again, read-only (the bind and its remount read-only are two steps)
    with open("/proc/self/mountinfo") as f:
        return any(
            line.split()[4] == os.path.abspath("devenv.nix") and "ro" in line.split()[5].split(",") for line in f
        )
open("src/ready", "w").close()
while time.monotonic() < deadline and not (open("devenv.nix").read().startswith("# replaced") and mounted()):
    time.sleep(0.02)
try:
    open("devenv.nix", "a").write("hacked")
    print("ok")
except OSError as exc:
    print(errno.errorcode[exc.errno])
print(open("devenv.nix").read().splitlines()[0])
"""


def test_a_guarded_file_replaced_outside_is_read_only_again_inside(runner: Runner) -> None:
    for rel in ("devenv.local.nix", ".envrc", "omni-tui.toml", "devenv.yaml"):  # the project folder is not sealed
        runner.write(rel, "{ }\n" if rel.endswith(".nix") else "\n")
    runner.omni("status", "--no-nix", check_rc=0)
    agent = runner.popen("run", "--", runner.python, "-c", WAIT_FOR_REBIND)
    deadline = time.monotonic() + WAIT
    while not (runner.project / "src" / "ready").exists():
        assert time.monotonic() < deadline and agent.poll() is None, "the sandboxed probe never started"
        time.sleep(0.02)
    replacement = runner.write("src/replacement", "# replaced\n" + SAMPLE_DEVENV_NIX)
    os.replace(replacement, runner.project / "devenv.nix")  # as the gate's atomic writes and most editors do
    out, err = agent.communicate(timeout=WAIT)
    assert agent.returncode == 0, err
    assert out.splitlines() == ["EROFS", "# replaced"]
    assert "hacked" not in (runner.project / "devenv.nix").read_text()
