"""core.rebuild: real shell commands through RebuildRunner — lines, order, cancel, timeout, logs, restart."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from omni_tui.core.config import DEFAULT_COMMAND, resolve_command
from omni_tui.core.errors import RebuildError
from omni_tui.core.line_splitter import MAX_LINE_BYTES
from omni_tui.core.rebuild import RebuildOutcome, RebuildRunner


def runner(tmp_path: Path, command: str, **kw) -> RebuildRunner:
    return RebuildRunner(command, cwd=tmp_path, logs_dir=tmp_path / "logs", **kw)


def processes_with(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if marker in " ".join(proc.info["cmdline"] or []) and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def cancel_when(r: RebuildRunner, lines: list[str], wanted: str, timeout: float = 30.0) -> threading.Thread:
    """Cancel from another thread as soon as `wanted` has been delivered (polling, no fixed sleeps)."""

    def watch() -> None:
        end = time.monotonic() + timeout
        while wanted not in lines and time.monotonic() < end:
            time.sleep(0.01)
        r.cancel()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_stdout_and_stderr_arrive_merged_in_order_and_logged(tmp_path: Path) -> None:
    lines: list[str] = []
    r = runner(tmp_path, "echo one; echo two >&2; printf 'three\\r\\n'; echo four >&2; printf 'no newline'", run_id="p-1")
    outcome = r.run_sync(lines.append)
    assert lines == ["one", "two", "three", "four", "no newline"]
    assert outcome.ok and outcome.exit_code == 0
    assert outcome.last_lines == tuple(lines)
    log = Path(outcome.log_path)
    assert log.parent == tmp_path / "logs" and log.name.startswith("rebuild-") and log.name.endswith("-p-1.log")
    body = [line for line in log.read_text().splitlines() if not line.startswith("# omni-tui:")]
    assert body == lines
    assert outcome.duration_s > 0


def test_exit_code_and_last_50_lines(tmp_path: Path) -> None:
    outcome = runner(tmp_path, "seq 1 80; exit 7").run_sync(lambda _: None)
    assert outcome.exit_code == 7 and not outcome.ok
    assert outcome.last_lines == tuple(str(i) for i in range(31, 81))
    assert outcome.describe().startswith("rebuild failed after ") and "(exit 7)" in outcome.describe()


def test_last_lines_are_human_text_even_for_nix_internal_json(tmp_path: Path) -> None:
    script = tmp_path / "fake-nix.sh"
    script.write_text(
        'echo \'@nix {"action":"start","id":7,"level":3,"text":"building x","type":105,"fields":["/nix/store/00000000000000000000000000000000-x-1.drv"]}\'\n'
        'echo \'@nix {"action":"result","id":7,"type":101,"fields":["compiling"]}\'\n'
        'echo \'@nix {"action":"msg","level":0,"msg":"\\u001b[31;1merror:\\u001b[0m boom"}\'\n'
        "exit 1\n"
    )
    lines: list[str] = []
    r = runner(tmp_path, f"sh {script}")
    outcome = r.run_sync(lines.append)
    assert lines[1].startswith("@nix ")  # on_line gets the raw lines
    assert outcome.last_lines == ("building x", "x-1> compiling", "error: boom")
    assert r.parser.progress.phase == "failed" and r.parser.progress.last_error == "error: boom"


def test_100k_lines_arrive_complete_and_in_order(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = runner(tmp_path, "seq 1 100000").run_sync(lines.append)
    assert outcome.ok
    assert lines == [str(i) for i in range(1, 100001)]
    assert Path(outcome.log_path).read_text().count("\n") >= 100000


def test_megabyte_line_and_binary_garbage_do_not_stall(tmp_path: Path) -> None:
    lines: list[str] = []
    command = "head -c 1000000 /dev/zero | tr '\\0' x; head -c 200000 /dev/urandom; printf '\\nlast line\\n'"
    outcome = runner(tmp_path, command).run_sync(lines.append)
    assert outcome.ok
    assert lines[-1] == "last line"
    assert max(len(line.encode()) for line in lines) <= MAX_LINE_BYTES
    assert "".join(lines).count("x") >= 1_000_000
    assert all("x" * 10 not in line for line in lines[-2:])  # garbage after the long line is its own text


def test_multibyte_characters_are_not_split_at_the_line_cap(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = runner(tmp_path, "python3 -c \"print('é' * 50000)\"").run_sync(lines.append)
    assert outcome.ok
    assert "".join(lines) == "é" * 50000  # 100,000 bytes: cut into two lines, no U+FFFD


def test_cancel_stops_the_whole_group_even_when_sigint_is_ignored(tmp_path: Path) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"
    lines: list[str] = []
    command = f"(trap '' INT; exec sleep 7{marker}) & sleep 8{marker} & echo started; wait"
    r = runner(tmp_path, command, grace_s=1.0)
    watcher = cancel_when(r, lines, "started")
    outcome = r.run_sync(lines.append)
    watcher.join()
    assert outcome.cancelled and not outcome.ok
    assert outcome.describe().startswith("rebuild cancelled after ")
    assert processes_with(marker) == []
    assert "cancelled" in Path(outcome.log_path).read_text()


def test_timeout_ends_the_run(tmp_path: Path) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"
    outcome = runner(tmp_path, f"echo begin; sleep 9{marker}", timeout_s=0.5, grace_s=1.0).run_sync(lambda _: None)
    assert outcome.timed_out and not outcome.cancelled and not outcome.ok
    assert outcome.last_lines == ("begin",)
    assert processes_with(marker) == []


def test_cancel_before_start_runs_nothing(tmp_path: Path) -> None:
    r = runner(tmp_path, f"touch {tmp_path / 'ran'}")
    r.cancel()
    outcome = r.run_sync(lambda _: None)
    assert outcome.cancelled and outcome.exit_code is None
    assert not (tmp_path / "ran").exists()


def test_a_straggler_holding_the_pipe_does_not_hang_the_run(tmp_path: Path) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"
    try:
        outcome = runner(tmp_path, f"(sleep 6{marker} &); echo built", grace_s=0.5).run_sync(lambda _: None)
        assert outcome.ok and outcome.last_lines == ("built",)
    finally:
        for proc in processes_with(marker):
            proc.kill()


def test_restart_command_runs_after_success_into_the_same_log(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = runner(tmp_path, "echo built", restart_command="echo restarted").run_sync(lines.append)
    assert outcome.ok and outcome.error is None and outcome.restart_exit_code == 0
    assert lines == ["built", "$ echo restarted", "restarted"]
    assert "restarted" in Path(outcome.log_path).read_text()


def test_failed_restart_is_reported_but_the_build_stays_good(tmp_path: Path) -> None:
    outcome = runner(tmp_path, "echo built", restart_command="echo nope; exit 4").run_sync(lambda _: None)
    assert outcome.ok and outcome.exit_code == 0 and outcome.restart_exit_code == 4
    assert outcome.error == "restart command `echo nope; exit 4` failed with exit code 4"
    assert "restarting the processes failed (exit 4)" in outcome.describe()


def test_restart_is_skipped_when_the_build_fails(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = runner(tmp_path, "exit 2", restart_command="echo restarted").run_sync(lines.append)
    assert outcome.exit_code == 2 and outcome.restart_exit_code is None and lines == []


def test_only_the_newest_logs_are_kept(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(5):
        old = logs / f"rebuild-20200101-00000{i}-old{i}.log"
        old.write_text("old\n")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    (logs / "unrelated.txt").write_text("keep me")
    outcome = runner(tmp_path, "echo new", keep_logs=3).run_sync(lambda _: None)
    remaining = sorted(p.name for p in logs.glob("rebuild-*.log"))
    assert len(remaining) == 3
    assert Path(outcome.log_path).name in remaining
    assert "rebuild-20200101-000004-old4.log" in remaining and "rebuild-20200101-000000-old0.log" not in remaining
    assert (logs / "unrelated.txt").exists()


def test_a_command_that_cannot_start_is_an_outcome_not_a_traceback(tmp_path: Path) -> None:
    r = RebuildRunner("echo hi", cwd=tmp_path / "missing", logs_dir=tmp_path / "logs")
    outcome = r.run_sync(lambda _: None)
    assert outcome.exit_code is None and not outcome.ok
    assert "cannot start" in outcome.error and "missing" in outcome.error
    assert outcome.describe().startswith("rebuild did not run: cannot start")


def test_an_exception_in_on_line_stops_the_build(tmp_path: Path) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"

    def boom(line: str) -> None:
        raise ValueError(line)

    with pytest.raises(ValueError, match="first"):
        runner(tmp_path, f"echo first; sleep 5{marker}", grace_s=0.5).run_sync(boom)
    assert processes_with(marker) == []


async def test_run_sync_works_from_inside_an_event_loop(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = runner(tmp_path, "echo inside").run_sync(lines.append)
    assert isinstance(outcome, RebuildOutcome) and lines == ["inside"]
    lines.clear()
    outcome = await runner(tmp_path, "echo awaited").run(lines.append)
    assert outcome.ok and lines == ["awaited"]


def test_a_runner_runs_once(tmp_path: Path) -> None:
    r = runner(tmp_path, "true")
    r.run_sync(lambda _: None)
    with pytest.raises(RebuildError):
        r.run_sync(lambda _: None)


def test_resolve_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_command(SimpleNamespace(command="nix-build x.nix")) == "nix-build x.nix"
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(RebuildError, match=r"\[rebuild\] command") as err:
        resolve_command(SimpleNamespace(command=None))
    assert "\n" not in str(err.value)
    devenv = empty / "devenv"
    devenv.write_text("#!/bin/sh\n")
    devenv.chmod(0o755)
    assert resolve_command(SimpleNamespace(command="  ")) == DEFAULT_COMMAND


# -- `omni-tui rebuild` (the real CLI as a subprocess) --------------------------------------------

import subprocess  # noqa: E402
import sys  # noqa: E402


def cli(project: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", "rebuild", "-C", str(project), *args], capture_output=True, text=True, env=env, timeout=120
    )


def configure(project: Path, command: str) -> None:
    assert "'''" not in command
    (project / "omni-tui.toml").write_text(f"[rebuild]\ncommand = '''{command}'''\n")


def test_cli_rebuild_streams_plain_lines_and_exits_with_the_build_code(project: Path) -> None:
    from omni_tui.core.workspace import Workspace

    configure(project, "printf '\\033[31mred\\033[0m\\n'; echo second >&2; printf '\\033]0;title\\007ok\\n'; exit 3")
    result = cli(project)
    assert result.returncode == 3, result.stderr
    out = result.stdout.splitlines()
    assert out[:3] == ["red", "second", "ok"]
    assert out[-1].startswith("omni-tui: rebuild failed after ") and "(exit 3)" in out[-1] and "/logs/rebuild-" in out[-1]
    assert "\x1b" not in result.stdout
    entries = [e for e in Workspace.open(project).audit.entries() if e["event"] == "rebuild"]
    assert entries and entries[-1]["exit_code"] == 3 and entries[-1]["decision"] == "failed"


def test_cli_rebuild_success(project: Path) -> None:
    configure(project, "echo building; echo built")
    result = cli(project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["building", "built"]
    assert re.fullmatch(r"omni-tui: rebuilt in \d+\.\d s \(exit 0\) — log .*/logs/rebuild-.*\.log", result.stdout.splitlines()[-1])


def test_cli_rebuild_refuses_while_unapproved_edits_exist(project: Path) -> None:
    configure(project, f"touch {project / 'ran'}")
    cli(project)  # first open records the baseline
    (project / "ran").unlink()
    (project / "devenv.nix").write_text((project / "devenv.nix").read_text() + "# edited directly\n")
    result = cli(project)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unapproved edits in devenv.nix" in result.stderr
    assert not (project / "ran").exists()


def test_cli_rebuild_refuses_while_the_gate_is_busy(project: Path) -> None:
    from omni_tui.core.gate import Gate
    from omni_tui.core.workspace import Workspace

    configure(project, f"touch {project / 'ran'}")
    with Gate(Workspace.open(project), who="alice").exclusive("approve", "p-123"):
        result = cli(project)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "busy" in result.stderr
    assert not (project / "ran").exists()


def test_cli_rebuild_without_command_or_devenv_names_the_setting(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = cli(project, path=str(empty))
    assert result.returncode == 2
    assert result.stderr.startswith("omni-tui: ") and "[rebuild] command" in result.stderr and result.stderr.count("\n") == 1


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from omni_tui.core.line_splitter import LineSplitter  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_line_splitting_does_not_depend_on_chunk_boundaries(data: bytes, cuts: list[int]) -> None:
    whole = LineSplitter(max_bytes=16)
    expected = whole.feed(data) + whole.flush()
    pieces = LineSplitter(max_bytes=16)
    got: list[str] = []
    offset = 0
    for size in cuts:
        got += pieces.feed(data[offset : offset + size])
        offset += size
    got += pieces.feed(data[offset:]) + pieces.flush()
    assert got == expected
    assert all(len(line.encode("utf-8", "surrogatepass")) <= 16 * 3 for line in got)
    if b"\n" not in data and b"\r" not in data:
        assert "".join(got) == data.decode("utf-8", "replace")


def test_runs_with_the_same_id_in_the_same_second_keep_separate_logs(tmp_path: Path) -> None:
    first = runner(tmp_path, "echo one", run_id="cli").run_sync(lambda _: None)
    second_runner = runner(tmp_path, "echo two", run_id="cli")
    second_runner.log_path = Path(first.log_path)  # force the clash a fast machine would produce
    second = second_runner.run_sync(lambda _: None)
    assert first.log_path != second.log_path
    assert "one" in Path(first.log_path).read_text() and "two" in Path(second.log_path).read_text()


def test_cancelling_the_restart_keeps_the_good_build(tmp_path: Path) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"
    lines: list[str] = []
    r = runner(tmp_path, "echo built", restart_command=f"echo restarting; sleep 4{marker}", grace_s=1.0)
    watcher = cancel_when(r, lines, "restarting")
    outcome = r.run_sync(lines.append)
    watcher.join()
    assert outcome.ok and not outcome.cancelled and outcome.exit_code == 0
    assert outcome.error == f"restart command `echo restarting; sleep 4{marker}` was cancelled"
    assert processes_with(marker) == []


def test_cli_rebuild_ctrl_c_stops_the_build_and_records_it(project: Path) -> None:
    import signal as _signal

    from omni_tui.core.workspace import Workspace

    marker = f"{secrets.randbelow(10**6) + 10**6}"
    configure(project, f"echo started; sleep 3{marker}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "omni_tui", "rebuild", "-C", str(project)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"
    proc.send_signal(_signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled after" in out
    assert processes_with(marker) == []
    entries = [e for e in Workspace.open(project).audit.entries() if e["event"] == "rebuild"]
    assert entries[-1]["decision"] == "failed" and entries[-1]["reason"] == "rebuild cancelled"
