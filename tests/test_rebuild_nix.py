"""Real Nix through RebuildRunner + BuildLogParser: counts, build log lines, failures, errors, cancel."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import psutil

from omni_tui.core.buildlog import BuildLogParser, DisplayLine, NixError
from omni_tui.core.rebuild import RebuildOutcome, RebuildRunner
from omni_tui.core.terminal import plain

NIX_BUILD = "nix-build --option substituters '' --log-format internal-json -v --no-out-link"


def nix_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def write_expr(directory: Path, builds: dict[str, str], top: str | None = None, name: str = "build.nix") -> Path:
    """A .nix file of /bin/sh derivations (name → shell script), each depending on the ones before it.

    A random nonce makes every derivation new, so Nix really builds it instead of reusing the store.
    """
    nonce = secrets.token_hex(8)
    lets = []
    previous: list[str] = []
    for index, (drv_name, script) in enumerate(builds.items()):
        var = f"d{index}"
        deps = " ".join(previous)
        lets.append(
            f"  {var} = derivation {{ name = {nix_string(drv_name)}; system = builtins.currentSystem; "
            f'builder = "/bin/sh"; args = [ "-c" {nix_string(script + "; echo done > $out")} ]; '
            f'nonce = "{nonce}"; deps = [ {deps} ]; }};'
        )
        previous.append(var)
    path = directory / name
    path.write_text("let\n" + "\n".join(lets) + f"\nin {top or previous[-1]}\n")
    return path


def build(directory: Path, nix_file: Path, **kw) -> tuple[RebuildOutcome, BuildLogParser, list, list[str]]:
    parser = BuildLogParser()
    events: list = []
    raw: list[str] = []

    def on_line(line: str) -> None:
        raw.append(line)
        events.extend(parser.feed(line))

    runner = RebuildRunner(f"{NIX_BUILD} {nix_file.name}", cwd=directory, logs_dir=directory / "logs", **kw)
    outcome = runner.run_sync(on_line)
    events.extend(parser.finish(outcome.exit_code))
    return outcome, parser, events, raw


def test_several_derivations_give_counts_and_every_log_line_in_order(tmp_path: Path, need_nix: None) -> None:
    builds = {
        f"step{i}-1.0": "; ".join(f"echo step{i} line{j}" for j in range(1, 4)) + f"; printf '\\033[32mgreen{i}\\033[0m\\n'"
        for i in range(1, 4)
    }
    outcome, parser, events, raw = build(tmp_path, write_expr(tmp_path, builds))
    assert outcome.ok, outcome.last_lines
    assert (parser.progress.phase, parser.progress.done, parser.progress.expected, parser.progress.failed) == ("done", 3, 3, 0)
    log_lines = [e.text for e in events if isinstance(e, DisplayLine) and e.source]
    expected = []
    for i in range(1, 4):
        expected += [f"step{i}-1.0> step{i} line{j}" for j in (1, 2, 3)] + [f"step{i}-1.0> \x1b[32mgreen{i}\x1b[0m"]
    assert log_lines == expected
    assert [plain(line) for line in log_lines][-1] == "step3-1.0> green3"
    summaries = [e.progress.summary() for e in events if hasattr(e, "progress")]
    assert "building 1/3 · step2-1.0" in summaries
    assert parser.progress.summary() == "done 3/3"
    assert Path(outcome.log_path).read_text().count("@nix ") == sum(1 for line in raw if line.startswith("@nix "))


def test_failing_builder_gives_failed_phase_error_text_and_exit_code(tmp_path: Path, need_nix: None) -> None:
    nix_file = write_expr(tmp_path, {"fine-1.0": "echo fine", "broken-2.0": "echo about to break; exit 3"})
    outcome, parser, events, _ = build(tmp_path, nix_file)
    assert outcome.exit_code not in (0, None) and not outcome.ok
    assert parser.progress.phase == "failed" and parser.progress.failed == 1 and parser.progress.done == 1
    errors = [e.text for e in events if isinstance(e, NixError)]
    assert len(errors) == 1 and "broken-2.0.drv' failed with exit code 3" in errors[0]
    assert parser.progress.last_error == errors[0]
    assert "broken-2.0> about to break" in [e.text for e in events if isinstance(e, DisplayLine)]
    assert any("failed with exit code 3" in line for line in outcome.last_lines)


def test_syntax_error_is_reported_with_nix_message(tmp_path: Path, need_nix: None) -> None:
    nix_file = tmp_path / "build.nix"
    nix_file.write_text("{ a = ; }\n")
    outcome, parser, events, _ = build(tmp_path, nix_file)
    assert outcome.exit_code not in (0, None)
    (error,) = [e.text for e in events if isinstance(e, NixError)]
    assert error.startswith("error: syntax error, unexpected ';'")
    assert f"{nix_file}:1:7" in error
    assert parser.progress.phase == "failed"


def test_evaluation_error_is_reported_with_nix_message(tmp_path: Path, need_nix: None) -> None:
    nix_file = tmp_path / "build.nix"
    nix_file.write_text('let cfg = throw "services.web.port must be set"; in cfg\n')
    outcome, parser, events, _ = build(tmp_path, nix_file)
    assert outcome.exit_code not in (0, None)
    assert [e.text for e in events if isinstance(e, NixError)] == ["error: services.web.port must be set"]
    assert parser.progress.summary() == "failed"


def test_cancel_during_a_long_build_leaves_nothing_running(tmp_path: Path, need_nix: None) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"
    nix_file = write_expr(tmp_path, {"slow-1.0": f"echo sleeping; /bin/sleep 5{marker}"}, name=f"slow-{marker}.nix")
    lines: list[str] = []
    runner = RebuildRunner(f"{NIX_BUILD} {nix_file.name}", cwd=tmp_path, logs_dir=tmp_path / "logs", grace_s=2.0)

    def cancel_once_building() -> None:
        end = time.monotonic() + 60
        while not any("sleeping" in line for line in lines) and time.monotonic() < end:
            time.sleep(0.01)
        runner.cancel()

    watcher = threading.Thread(target=cancel_once_building, daemon=True)
    watcher.start()
    outcome = runner.run_sync(lines.append)
    watcher.join()
    assert outcome.cancelled and not outcome.ok
    # The 2 s grace ends in SIGKILL at the latest, so "ended within 2 s" holds by construction; what
    # must be true is that neither nix-build nor its builder survived.
    survivors = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["status"] != psutil.STATUS_ZOMBIE and marker in cmdline:
            survivors.append(cmdline)
    assert survivors == []


# -- end to end through the gate ----------------------------------------------------------------

GATE_BUILD_NIX = """let
  # Evaluate the devenv.nix under test with small stand-ins for pkgs/lib/config.
  cfg = import ./devenv.nix {{ pkgs = {{ git = "git"; jq = "jq"; }}; lib = {{}}; config = {{}}; }};
  greeting = cfg.env.GREET;
in derivation {{
  name = "devenv-shell";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" ("echo evaluating shell; echo greeting " + greeting + "; "
    + (if greeting == "fail" then "echo the builder refuses >&2; exit 4" else "echo ok > $out")) ];
  src = builtins.readFile ./devenv.nix;
  nonce = "{nonce}";
}}
"""


def gate_workspace(project: Path):
    from omni_tui.core.workspace import Workspace

    (project / "build.nix").write_text(GATE_BUILD_NIX.format(nonce=secrets.token_hex(8)))
    (project / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "{NIX_BUILD} build.nix"\nauto_rollback = true\ntimeout_s = 300\n')
    return Workspace.open(project)


def approve_with_real_build(ws, new_content: str):
    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.core.rebuild import runner_for

    store = ProposalStore(ws)
    proposal = store.create({"devenv.nix": new_content}, title="change greeting", rationale="test", agent="pytest")
    streamed: list[str] = []
    runner = runner_for(ws, run_id=proposal.id)
    decision = Gate(ws, who="tester").approve(proposal.id, rebuild=lambda: runner.run_sync(streamed.append), command=runner.command)
    return decision, streamed, store


def test_gate_approve_runs_real_nix_and_records_the_outcome(project: Path, need_nix: None) -> None:
    ws = gate_workspace(project)
    new = (project / "devenv.nix").read_text().replace('env.GREET = "hello";', 'env.GREET = "hola";')
    decision, streamed, store = approve_with_real_build(ws, new)
    assert decision.status == "applied", (decision.reason, decision.last_lines)
    assert decision.exit_code == 0 and decision.duration_s > 0
    assert "devenv-shell> greeting hola" in [line for line in decision.last_lines]
    log = Path(decision.log_path)
    assert log.parent == ws.paths.logs and "devenv-shell> greeting hola" not in log.read_text()  # raw @nix lines in the file
    assert '"fields":["greeting hola"]' in log.read_text()
    assert any(line.startswith("@nix ") and "greeting hola" in line for line in streamed)  # on_line gets raw lines
    assert (project / "devenv.nix").read_text() == new
    assert store.decision(decision.proposal_id).status == "applied"


def test_gate_rolls_back_byte_for_byte_when_the_real_build_fails(project: Path, need_nix: None) -> None:
    ws = gate_workspace(project)
    original = (project / "devenv.nix").read_bytes()
    new = original.decode().replace('env.GREET = "hello";', 'env.GREET = "fail";')
    decision, _, _ = approve_with_real_build(ws, new)
    assert decision.status == "rolled_back"
    assert decision.exit_code not in (0, None)
    assert any("failed with exit code 4" in line for line in decision.last_lines)
    assert Path(decision.log_path).is_file()
    assert (project / "devenv.nix").read_bytes() == original


def test_gate_rolls_back_an_evaluation_error_with_nix_message(project: Path, need_nix: None) -> None:
    ws = gate_workspace(project)
    original = (project / "devenv.nix").read_bytes()
    new = original.decode().replace('env.GREET = "hello";', 'env.GREET = throw "GREET is not configured";')
    decision, _, _ = approve_with_real_build(ws, new)
    assert decision.status == "rolled_back" and decision.exit_code not in (0, None)
    assert any("GREET is not configured" in line for line in decision.last_lines)
    assert (project / "devenv.nix").read_bytes() == original


def test_cli_rebuild_runs_real_nix_with_progress_summary(project: Path, need_nix: None) -> None:
    import os
    import subprocess
    import sys

    gate_workspace(project)
    result = subprocess.run(
        [sys.executable, "-m", "omni_tui", "rebuild", "-C", str(project)], capture_output=True, text=True, env=dict(os.environ), timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "devenv-shell> greeting hello" in lines
    assert not any(line.startswith("@nix ") for line in lines)
    assert lines[-1].startswith("omni-tui: rebuilt in ") and "(exit 0, 1 derivation built)" in lines[-1]


def test_an_incremental_build_counts_only_what_really_builds(tmp_path: Path, need_nix: None) -> None:
    """Nix first counts every derivation, then lowers the figure to those not yet valid: the lower one wins."""
    nonce = secrets.token_hex(8)

    def expr(top_script: str) -> Path:
        leaves = " ".join(
            f'(derivation {{ name = "leaf{i}"; system = builtins.currentSystem; builder = "/bin/sh"; '
            f'args = [ "-c" "echo leaf{i} > $out" ]; nonce = "{nonce}"; }})'
            for i in range(5)
        )
        path = tmp_path / "inc.nix"
        path.write_text(
            f'derivation {{ name = "top"; system = builtins.currentSystem; builder = "/bin/sh"; '
            f'args = [ "-c" {nix_string(top_script + "; echo done > $out")} ]; deps = [ {leaves} ]; }}\n'
        )
        return path

    first, first_parser, _, _ = build(tmp_path, expr("echo first"))
    assert first.exit_code == 0
    assert (first_parser.progress.done, first_parser.progress.expected) == (6, 6)

    second, parser, _, _ = build(tmp_path, expr("echo second"))
    assert second.exit_code == 0
    assert (parser.progress.done, parser.progress.expected) == (1, 1), parser.progress.summary()
