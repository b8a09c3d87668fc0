"""`omni-tui demo` pieces with real components: the workspace it writes, its offline nix-build (good,
broken and unparsable devenv.nix), the simulated build, the honcho processes and their cleanup —
even after the demo process is SIGKILLed — and the scripted agent driven through the real Gate."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import psutil
import pytest

from omni_tui.core.buildlog import BuildLogParser, NixError
from omni_tui.core.rebuild import RebuildRunner
from omni_tui.demo import procs, script
from omni_tui.demo.session import DemoError, DemoSession
from omni_tui.demo.simulated_build import BANNER, PACKAGES
from omni_tui.demo.template import BUILD_FILE, MARKER_FILE, PROCESS_LOG, asset_text, plan_build, write_workspace

FAST_BUILD = {"OMNI_TUI_DEMO_BUILD_DELAY": "0.01"}


def wait_for(condition, timeout_s: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def rebuild(root: Path) -> tuple[int | None, list[str], BuildLogParser]:
    """Run the workspace's configured `[rebuild] command` with the real RebuildRunner."""
    command = tomllib.loads((root / "omni-tui.toml").read_text())["rebuild"]["command"]
    lines: list[str] = []
    runner = RebuildRunner(command, cwd=root, logs_dir=root / ".devenv" / "logs", env=dict(os.environ, **FAST_BUILD))
    outcome = runner.run_sync(lines.append)
    parser = BuildLogParser()
    for line in lines:
        parser.feed(line)
    parser.finish(outcome.exit_code)
    return outcome.exit_code, lines, parser


def nix_errors(lines: list[str]) -> str:
    parser = BuildLogParser()
    errors = [event.text for line in lines for event in parser.feed(line) if isinstance(event, NixError)]
    return "\n".join(errors + lines)


@pytest.fixture
def demo_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("DEVENV_ROOT", "DEVENV_DOTFILE", "DEVENV_RUNTIME", "DEVENV_STATE"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "demo"
    root.mkdir()
    return root.resolve()


def test_workspace_holds_a_realistic_devenv_project(demo_root: Path) -> None:
    files = write_workspace(demo_root, use_nix=False)
    text = (demo_root / "devenv.nix").read_text()
    for needle in ("packages = [", "languages.python", "services.postgres", "processes = {", "enterShell", "env."):
        assert needle in text
    assert (demo_root / "devenv.yaml").read_text().startswith("#")
    assert (demo_root / MARKER_FILE).is_file()
    procfile = (demo_root / "Procfile").read_text()
    assert f"http.server {files.web_port}" in procfile and "acme.worker" in procfile
    config = tomllib.loads((demo_root / "omni-tui.toml").read_text())
    assert config["rebuild"]["command"] == files.build.command
    assert files.build.simulated and "simulated_build" in files.build.command


def test_nix_missing_means_a_labelled_simulated_build(demo_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    files = write_workspace(demo_root)
    assert files.build.simulated
    assert files.build.reason == "nix-build and nix-instantiate not found on PATH"
    assert "SIMULATED build (nix-build and nix-instantiate not found on PATH)" in (demo_root / "omni-tui.toml").read_text()


def test_simulated_build_says_so_first_and_fails_where_the_real_one_fails(demo_root: Path) -> None:
    write_workspace(demo_root, use_nix=False)
    code, lines, parser = rebuild(demo_root)
    assert code == 0 and lines[0] == BANNER
    assert parser.progress.phase == "done" and parser.progress.expected == parser.progress.done >= 6
    devenv_nix = demo_root / "devenv.nix"
    good = script.good_change(devenv_nix.read_text())
    devenv_nix.write_text(good)
    code, lines, parser = rebuild(demo_root)
    assert code == 0 and any("simulated-ripgrep-14.1.1" in line for line in lines)

    devenv_nix.write_text(script.failing_change(good))
    code, lines, parser = rebuild(demo_root)
    assert code == 1 and lines[0] == BANNER
    assert "MySQL 5.7 requires exactly Boost 1.59.0" in "\n".join(lines)
    assert parser.progress.phase == "failed" and parser.progress.failed == 1

    broken = script.syntax_error_change(good)
    devenv_nix.write_text(broken)
    code, lines, _ = rebuild(demo_root)
    closing = broken.splitlines().index("  };", broken.splitlines().index('    version = "3.12"')) + 1
    text = nix_errors(lines)
    assert code == 1 and lines[0] == BANNER
    assert "error: syntax error, unexpected '}', expecting ';' (simulated check)" in text
    assert f"devenv.nix:{closing}:3:" in text


def test_package_sets_of_the_two_builds_agree() -> None:
    nix = asset_text(BUILD_FILE)
    block = nix[nix.index("pkgs = builtins.mapAttrs") : nix.index("# The parts of nixpkgs' `lib`")]
    names = set(re.findall(r"(?m)^    (\w+) = \{", block))
    assert names == set(PACKAGES)


def test_scripted_edits_stack_and_keep_working_on_changed_files() -> None:
    base = asset_text("devenv.nix")
    good = script.good_change(base)
    assert "pkgs.ripgrep" in good and "services.redis" in good and 'env.REDIS_URL = "redis://' in good
    assert script.good_change(good) == good  # applying it twice changes nothing: the agent skips it
    failing = script.failing_change(good)
    assert "    pkgs.mysql57\n" in failing
    broken = script.syntax_error_change(failing)
    assert '    version = "3.12"\n' in broken and "pkgs.uv" in broken
    direct = script.direct_change(broken)
    assert 'env.LOG_LEVEL = "debug";' in direct and 'env.LOG_LEVEL = "info";' not in direct
    # A person rewrote the file into one-liners: the edits still land.
    terse = '{ pkgs, ... }: {\n  packages = [ pkgs.git ];\n  processes.web.exec = "x";\n}\n'
    assert "packages = [ pkgs.git pkgs.ripgrep ];" in script.good_change(terse)
    assert 'languages.python.version = "3.12"\n' in script.syntax_error_change(terse)
    assert [s.kind for s in script.STEPS] == ["proposal", "proposal", "proposal", "direct"]
    assert all(s.title and len(s.why) > 60 for s in script.STEPS)


@pytest.mark.nix
def test_real_nix_build_of_each_scripted_change(need_nix: None, demo_root: Path) -> None:
    files = write_workspace(demo_root)
    assert files.build.mode == "nix" and files.build.command.startswith("nix-build --option substituters ''")
    devenv_nix = demo_root / "devenv.nix"
    parsed = subprocess.run(["nix-instantiate", "--parse", str(devenv_nix)], capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr

    code, lines, parser = rebuild(demo_root)
    assert code == 0, "\n".join(lines[-20:])
    assert parser.progress.phase == "done" and parser.progress.done == parser.progress.expected >= 6
    assert any("postgres-service-config" in line for line in lines)

    good = script.good_change(devenv_nix.read_text())
    devenv_nix.write_text(good)
    code, lines, parser = rebuild(demo_root)
    assert code == 0, "\n".join(lines[-20:])
    joined = "\n".join(lines)
    assert "ripgrep-14.1.1" in joined and "redis-service-config" in joined
    # Only what the change touched is built again, as with a real devenv.
    built = sorted(re.findall(r"building '/nix/store/\w{32}-([^']+)\.drv'", joined))
    assert built == ["devenv-shell-env", "redis-7.2.6", "redis-service-config", "ripgrep-14.1.1"]
    assert parser.progress.phase == "done"

    devenv_nix.write_text(script.failing_change(good))
    code, lines, parser = rebuild(demo_root)
    text = nix_errors(lines)
    assert code not in (0, None)
    assert "MySQL 5.7 requires exactly Boost 1.59.0" in text
    assert re.search(r"builder for '/nix/store/\w{32}-mysql-5\.7\.44\.drv' failed with exit code 1", text)
    assert parser.progress.phase == "failed"

    broken = script.syntax_error_change(good)
    devenv_nix.write_text(broken)
    code, lines, _ = rebuild(demo_root)
    closing = broken.splitlines().index("  };", broken.splitlines().index('    version = "3.12"')) + 1
    text = nix_errors(lines)
    assert code not in (0, None)
    assert "syntax error, unexpected '}', expecting ';'" in text
    assert f"devenv.nix:{closing}:3" in text

    devenv_nix.write_text(good.replace("pkgs.ripgrep", "pkgs.ripgrepp"))
    code, lines, _ = rebuild(demo_root)
    assert code not in (0, None) and "attribute 'ripgrepp' missing" in nix_errors(lines)


@pytest.mark.nix
def test_nix_that_cannot_build_here_falls_back_with_its_reason(need_nix: None, demo_root: Path) -> None:
    (demo_root / "devenv.nix").write_text(asset_text("devenv.nix"))
    (demo_root / BUILD_FILE).write_text("{ salt }: this is not nix")
    plan = plan_build(demo_root, "s")
    assert plan.simulated and plan.reason == "Nix cannot build here (error: undefined variable 'this')"


# -- the session: processes, cleanup -------------------------------------------------------------


def test_session_runs_honcho_processes_the_process_panel_finds_and_stops_them_all(demo_root: Path) -> None:
    from omni_tui.core.processes import collect, monitor_for

    target = demo_root / "ws"
    with DemoSession(directory=target, use_nix=False, pace_s=3600) as session:
        files = session.start()
        assert os.environ[procs.MARK] == str(target)
        snapshot = wait_for(
            lambda: (s := collect(target)) and {"web", "worker"} <= {p.name for p in s.processes} and s,
            what="web and worker in the process snapshot",
        )
        by_name = {p.name: p for p in snapshot.processes}
        assert by_name["web"].pid and by_name["worker"].pid
        assert snapshot.backend == "psutil"
        wait_for(
            lambda: any(p.name == "web" and files.web_port in p.ports for p in collect(target).processes), what="the web server's port"
        )
        wait_for(lambda: "worker.1 | job #" in (target / PROCESS_LOG).read_text(), what="worker output in processes.log")
        # The process panel's log view (`l`) reads the same lines, split per process.
        monitor = monitor_for(target)
        monitor.collect()
        assert any(line.startswith("job #") for line in wait_for(lambda: monitor.logs("worker"), what="the worker's log"))
        assert any("Serving HTTP on 127.0.0.1" in line for line in monitor.logs("web"))
        started = procs.marked(target)
        assert len(started) >= 4  # honcho (+ its per-process forks), web, worker, the agent
    assert procs.MARK not in os.environ
    assert procs.marked(target) == []
    assert not any(psutil.pid_exists(p.pid) and p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in started)
    assert not target.exists()


def test_run_demo_hands_the_cockpit_a_ready_workspace_and_cleans_up_after_ctrl_c(demo_root: Path) -> None:
    import io

    from omni_tui.demo.session import run_demo

    target = demo_root / "ws"
    seen = {}

    def cockpit(ws) -> int:
        seen["root"] = ws.root
        seen["command"] = ws.config.rebuild.command
        seen["baseline"] = ws.read_baseline("devenv.nix") == (target / "devenv.nix").read_bytes()
        seen["running"] = len(procs.marked(target))
        raise KeyboardInterrupt  # Ctrl-C while the cockpit runs

    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        run_demo(target, use_nix=False, pace_s=3600, out=out, cockpit=cockpit)
    assert seen["root"] == target and "simulated_build" in seen["command"] and seen["baseline"]
    assert seen["running"] >= 4
    assert "SIMULATED" in out.getvalue() and f"workspace {target} removed" in out.getvalue()
    assert procs.marked(target) == [] and not target.exists()


def test_keep_leaves_the_workspace_but_no_process(demo_root: Path) -> None:
    target = demo_root / "kept"
    with DemoSession(directory=target, keep=True, use_nix=False, pace_s=3600) as session:
        session.start()
    assert (target / "devenv.nix").is_file() and (target / PROCESS_LOG).is_file()
    assert procs.marked(target) == []


def test_dir_must_be_new_or_empty(demo_root: Path) -> None:
    (demo_root / "notes.txt").write_text("mine")
    session = DemoSession(directory=demo_root, use_nix=False)
    with pytest.raises(DemoError, match=r"--dir .*directory is not empty"):
        with session:
            session.start()
    assert (demo_root / "notes.txt").read_text() == "mine"


def test_an_empty_dir_given_is_emptied_not_removed(demo_root: Path) -> None:
    with DemoSession(directory=demo_root, use_nix=False, pace_s=3600) as session:
        session.start()
        assert (demo_root / "devenv.nix").is_file()
    assert demo_root.is_dir() and list(demo_root.iterdir()) == []
    assert procs.marked(demo_root) == []


def test_cleanup_never_removes_a_directory_that_is_not_a_demo_workspace(demo_root: Path) -> None:
    from omni_tui.demo.template import remove_workspace

    (demo_root / "thesis.tex").write_text("years of work")
    assert remove_workspace(demo_root, created=True) is False
    assert remove_workspace(demo_root, created=False) is False
    assert (demo_root / "thesis.tex").read_text() == "years of work"


def test_foreign_devenv_variables_do_not_leak_into_the_demo(demo_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "someone-elses-project" / ".devenv"
    monkeypatch.setenv("DEVENV_DOTFILE", str(other))
    with DemoSession(directory=demo_root / "ws", use_nix=False, pace_s=3600) as session:
        session.start()
        assert "DEVENV_DOTFILE" not in os.environ
    assert os.environ["DEVENV_DOTFILE"] == str(other)
    assert not other.exists()


def test_reaper_cleans_up_when_the_demo_process_is_killed(demo_root: Path) -> None:
    target = demo_root / "ws"
    program = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from omni_tui.demo.session import DemoSession\n"
        f"s = DemoSession(directory=Path({str(target)!r}), use_nix=False, pace_s=3600)\n"
        "s.start()\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"
    )
    demo = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert demo.stdout.readline().strip() == "started"
        children = wait_for(lambda: [p for p in procs.marked(target) if "acme.worker" in " ".join(p.cmdline())], what="the worker to start")
        demo.send_signal(signal.SIGKILL)
        demo.wait(timeout=10)
        wait_for(lambda: not procs.marked(target), timeout_s=45, what="the reaper to end every demo process")
        wait_for(lambda: not target.exists(), timeout_s=20, what="the reaper to remove the workspace")
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in children)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        procs.sweep(target)


# -- the scripted agent, decided through the real Gate (no cockpit) -------------------------------


@pytest.mark.nix
def test_scripted_agent_submits_in_order_and_waits_for_each_decision(
    need_nix: None, demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omni_tui.core.errors import ValidationError
    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.core.rebuild import runner_for
    from omni_tui.core.workspace import Workspace

    monkeypatch.setenv("OMNI_TUI_DEMO_BUILD_DELAY", "0.01")
    write_workspace(demo_root)
    ws = Workspace.open(demo_root)
    store, gate = ProposalStore(ws), Gate(ws, who="tester")
    devenv_nix = demo_root / "devenv.nix"

    def build():
        return runner_for(ws).run_sync(lambda line: None)

    seen: set[str] = set()

    def next_proposal():
        entry = wait_for(
            lambda: next((e for e in store.pending() if e.proposal.id not in seen), None), timeout_s=60, what="the agent's next proposal"
        )
        seen.add(entry.proposal.id)
        return entry.proposal

    agent = subprocess.Popen(
        [sys.executable, "-m", "omni_tui.demo.agent", str(demo_root), "--pace", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        first = next_proposal()
        assert (first.title, first.agent) == (script.STEPS[0].title, "demo-agent")
        assert first.rationale == script.STEPS[0].why
        time.sleep(1.5)  # several paces: the agent must still be waiting for this decision
        assert [e.proposal.id for e in store.pending()] == [first.id]
        assert "pkgs.ripgrep" not in devenv_nix.read_text()
        assert gate.approve(first.id, rebuild=build).status == "applied"
        after_first = devenv_nix.read_bytes()
        assert b"pkgs.ripgrep" in after_first and b"services.redis" in after_first

        second = next_proposal()
        assert second.title == script.STEPS[1].title
        decision = gate.approve(second.id, rebuild=build)
        assert decision.status == "rolled_back" and decision.exit_code not in (0, None)
        assert devenv_nix.read_bytes() == after_first
        assert any("Boost 1.59.0" in line for line in decision.last_lines)

        third = next_proposal()
        assert third.title == script.STEPS[2].title
        validation = gate.validate(third)
        assert not validation.ok and "expecting ';'" in validation.summary()
        with pytest.raises(ValidationError):
            gate.approve(third.id, rebuild=build)
        gate.reject(third.id, "Nix does not parse: version = \"3.12\" lacks its ';'")

        # A plain write, as an editor does: it can be caught truncated, between open and write.
        wait_for(
            lambda: ws.unapproved() == ["devenv.nix"] and 'env.LOG_LEVEL = "debug";' in devenv_nix.read_text(),
            what="the agent's direct edit",
        )
        assert gate.state().kind == "unapproved_edits"
        assert agent.wait(timeout=60) == 0
        log = agent.stdout.read()
    finally:
        if agent.poll() is None:
            os.killpg(agent.pid, signal.SIGKILL)
    outcomes = [line.split("demo-agent: ", 1)[1] for line in log.splitlines() if "\u201d: " in line]
    assert outcomes == [
        f"\u201c{script.STEPS[0].title}\u201d: approved and rebuilt",
        f"\u201c{script.STEPS[1].title}\u201d: rebuild failed \u2014 " + store.decision(second.id).reason,
        f"\u201c{script.STEPS[2].title}\u201d: rejected \u2014 Nix does not parse: version = \"3.12\" lacks its ';'",
    ]
    assert len(store.entries()) == 3
