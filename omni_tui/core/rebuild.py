"""Runs the rebuild command: its own process group, merged output as lines, cancel, timeout, log files.

`RebuildRunner` is the only place that starts the environment rebuild. Output is read in raw
chunks and split into lines (core/line_splitter.py: a line is capped at `MAX_LINE_BYTES` so a huge
line without a newline cannot stall the reader; invalid UTF-8 is decoded with replacement); while
it runs, its process group is recorded for the gate (core/build_group.py). Every line goes to
the run's log file and to `on_line` as raw text (the UI sanitises what it shows). The runner also
feeds its own `BuildLogParser`, so `last_lines` are the human display lines (Nix's `@nix` JSON
turned into text, colours removed) — what an agent reading the decision needs — and
`runner.parser.progress` tells the phase and counts.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from omni_tui.core.build_group import BUILD_FILE, BUILD_STATE_VAR, forget_group, group_alive, record_group, record_starting, signal_group
from omni_tui.core.config import resolve_command
from omni_tui.core.errors import RebuildError
from omni_tui.core.line_splitter import MAX_LINE_BYTES, LineSplitter
from omni_tui.core.rebuild_mark import REBUILD_MARK
from omni_tui.core.terminal import plain

if TYPE_CHECKING:
    import asyncio  # imported when a rebuild runs: `status`, `propose` and the hooks do not pay for it

    from omni_tui.core.buildlog import BuildLogParser  # imported by the runner: the gate (and `status`) only need the types here

LAST_LINES = 50
READ_CHUNK = 256 * 1024
LOG_GLOB = "rebuild-*.log"


@dataclass(frozen=True)
class RebuildOutcome:
    """What one rebuild ended with. `exit_code` is None when the command never ran to an exit status."""

    exit_code: int | None
    duration_s: float
    log_path: str | None
    last_lines: tuple[str, ...]
    cancelled: bool = False
    timed_out: bool = False
    error: str | None = None
    restart_exit_code: int | None = None

    @property
    def ok(self) -> bool:
        """The build succeeded. A failed restart command does not undo a good build (see `error`)."""
        return self.exit_code == 0 and not self.cancelled and not self.timed_out

    def describe(self, built: int = 0) -> str:
        """One sentence for people (`rebuild` ends with it): `rebuilt in 1.5 s (exit 0, 3 derivations built)`,
        `rebuild failed after 0.1 s (exit 1)`, `rebuild cancelled after 1.0 s`, `rebuild did not run: …`;
        `built`: the derivations the build log counted."""
        took = f"{self.duration_s:.1f} s"
        if self.cancelled:
            return f"rebuild cancelled after {took}"
        if self.timed_out:
            return f"rebuild timed out after {took}"
        if self.exit_code is None:
            return f"rebuild did not run: {self.error or 'no exit status'}"
        detail = f"exit {self.exit_code}"
        if built:
            detail += f", {built} derivation{'s' if built != 1 else ''} built"
        text = f"rebuilt in {took} ({detail})" if self.ok else f"rebuild failed after {took} ({detail})"
        if self.restart_exit_code not in (None, 0):
            text += f"; restarting the processes failed (exit {self.restart_exit_code})"
        return text


def runner_for(workspace: Any, *, run_id: str | None = None) -> RebuildRunner:
    """A runner configured from a workspace's `[rebuild]` settings and its `logs` state directory."""
    cfg = workspace.config.rebuild
    restart = cfg.restart_command if getattr(cfg, "restart_after", False) and cfg.restart_command else None
    return RebuildRunner(
        resolve_command(cfg),
        cwd=workspace.root,
        logs_dir=workspace.paths.logs,
        keep_logs=cfg.keep_logs,
        timeout_s=cfg.timeout_s,
        restart_command=restart,
        run_id=run_id,
        group_file=workspace.paths.state / BUILD_FILE,
    )


def prune_logs(logs_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest rebuild logs (keep <= 0 keeps everything); returns the removed paths."""
    if keep <= 0:
        return []
    logs = []
    for path in logs_dir.glob(LOG_GLOB):
        try:
            logs.append((path.stat().st_mtime_ns, path.name, path))
        except FileNotFoundError:
            continue
    logs.sort(reverse=True)
    removed = []
    for _, _, path in logs[keep:]:
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed


@dataclass
class _Step:
    exit_code: int | None
    cancelled: bool = False
    timed_out: bool = False
    error: str | None = None


def log_stamp() -> str:
    """The local time in a log file's name: names sort in the order the rebuilds started."""
    return time.strftime("%Y%m%d-%H%M%S", time.localtime())


class RebuildRunner:
    """One rebuild: `run`/`run_sync` once, `cancel()` from any thread."""

    def __init__(
        self,
        command: str,
        *,
        cwd: Path,
        logs_dir: Path,
        keep_logs: int = 50,
        timeout_s: float = 0,
        restart_command: str | None = None,
        env: Mapping[str, str] | None = None,
        grace_s: float = 3.0,
        run_id: str | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
        group_file: Path | None = None,
    ) -> None:
        # While a command runs, its process group is recorded here (runner_for: <state>/build.json).
        self.group_file = Path(group_file) if group_file is not None else None
        self.command = command
        self.cwd = Path(cwd)
        self.logs_dir = Path(logs_dir)
        self.keep_logs = keep_logs
        self.timeout_s = timeout_s
        self.restart_command = restart_command
        self.env = dict(env) if env is not None else None
        self.grace_s = grace_s
        self.max_line_bytes = max_line_bytes
        self.run_id = _safe_id(run_id) if run_id else os.urandom(4).hex()
        self.log_path: Path = self.logs_dir / f"rebuild-{log_stamp()}-{self.run_id}.log"
        self.started_at: float | None = None  # time.monotonic() when the command started
        self.finished_at: float | None = None
        self.outcome: RebuildOutcome | None = None
        from omni_tui.core.buildlog import BuildLogParser

        self.parser: BuildLogParser = BuildLogParser()
        self._lock = threading.Lock()
        self._cancel_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel_event: asyncio.Event | None = None
        self._ran = False
        self._log_error: str | None = None

    # -- control ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.finished_at is None

    @property
    def elapsed_s(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.monotonic()) - self.started_at

    def cancel(self) -> None:
        """Ask the run to stop: SIGINT to its process group, SIGKILL after `grace_s`. Safe from any thread."""
        with self._lock:
            self._cancel_requested = True
            loop, event = self._loop, self._cancel_event
        if loop is not None and event is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop already closed: the run is over
                pass

    def run_sync(
        self, on_line: Callable[[str], None] | None = None, *, on_display: Callable[[list[str]], None] | None = None
    ) -> RebuildOutcome:
        """Run to completion in the calling thread (its own event loop; a helper thread if one is running here)."""
        import asyncio

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run(on_line, on_display=on_display))
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["outcome"] = asyncio.run(self.run(on_line, on_display=on_display))
            except BaseException as exc:  # re-raised in the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=target, name="omni-rebuild", daemon=True)
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        outcome: RebuildOutcome = box["outcome"]
        return outcome

    # -- the run ---------------------------------------------------------------------------------

    async def run(
        self, on_line: Callable[[str], None] | None = None, *, on_display: Callable[[list[str]], None] | None = None
    ) -> RebuildOutcome:
        """Run the command (and the restart command after a good build).

        `on_line` gets every raw output line; `on_display` gets, once per chunk read, the display lines
        the runner's `parser` made of it (raw text, may hold SGR colours: the receiver sanitises what
        it shows). Chunks are read and split whole: nothing here costs a call per line but the parser's
        fast path.
        """
        import asyncio

        if self._ran:
            raise RebuildError("this rebuild runner has already run; create a new one")
        self._ran = True
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            self._loop, self._cancel_event = loop, event
            if self._cancel_requested:
                event.set()
        self.started_at = time.monotonic()
        deadline = self.started_at + self.timeout_s if self.timeout_s and self.timeout_s > 0 else None
        last: deque[str] = deque(maxlen=LAST_LINES)
        restart_code: int | None = None
        error: str | None = None
        try:
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            log = self._create_log()
        except OSError as exc:
            self.finished_at = time.monotonic()
            self.outcome = RebuildOutcome(
                None, self.elapsed_s, None, (), error=f"cannot write rebuild log {self.log_path}: {exc.strerror or exc}"
            )
            return self.outcome
        try:
            prune_logs(self.logs_dir, self.keep_logs)

            feed_lines = self.parser.feed_lines

            def emit(lines: list[str], text: str | None = None) -> None:
                """`text`: the lines joined by newlines, when the splitter had it (not joined again here)."""
                if not lines:
                    return
                if self._log_error is None:
                    try:
                        log.write(text if text is not None else "\n".join(lines))
                        log.write("\n")
                    except OSError as exc:  # a full disk must not kill the build; say the log is short
                        self._log_failed(exc)
                if on_line is not None:
                    for line in lines:
                        on_line(line)
                display = feed_lines(lines, text)
                if display:
                    last.extend(display[-LAST_LINES:])  # made plain once, at the end
                    if on_display is not None:
                        on_display(display)

            step = await self._run_one(self.command, emit, log, event, deadline)
            error = step.error
            if step.exit_code == 0 and not step.cancelled and not step.timed_out and self.restart_command:
                emit([f"$ {self.restart_command}"], None)
                rstep = await self._run_one(self.restart_command, emit, log, event, deadline)
                restart_code = rstep.exit_code
                # The environment is built either way: a restart that fails or is stopped does not undo it.
                if rstep.cancelled:
                    error = f"restart command `{self.restart_command}` was cancelled"
                elif rstep.timed_out:
                    error = f"restart command `{self.restart_command}` timed out"
                elif rstep.error:
                    error = f"restart command: {rstep.error}"
                elif rstep.exit_code != 0:
                    error = f"restart command `{self.restart_command}` failed with exit code {rstep.exit_code}"
            if self._log_error and error is None:
                error = self._log_error
        finally:
            self.finished_at = time.monotonic()
            try:
                log.write(f"# omni-tui: finished after {self.elapsed_s:.2f} s\n")
                log.close()
            except OSError:
                pass
            with self._lock:
                self._loop = None
                self._cancel_event = None
        self.parser.finish(0 if step.exit_code == 0 and not step.cancelled and not step.timed_out else 1)
        self.outcome = RebuildOutcome(
            exit_code=step.exit_code,
            duration_s=self.elapsed_s,
            log_path=str(self.log_path),
            last_lines=tuple(plain(text) for text in last),
            cancelled=step.cancelled,
            timed_out=step.timed_out,
            error=error,
            restart_exit_code=restart_code,
        )
        return self.outcome

    def _log_failed(self, exc: OSError) -> None:
        if self._log_error is None:
            self._log_error = f"the rebuild log {self.log_path} is incomplete: {exc.strerror or exc}"

    def _note(self, log: TextIO, text: str | None) -> None:
        """A `# omni-tui:` line in the log (None: just flush)."""
        if self._log_error is not None:
            return
        try:
            if text is not None:
                log.write(f"# omni-tui: {text}\n")
            log.flush()
        except OSError as exc:
            self._log_failed(exc)

    def _create_log(self) -> TextIO:
        """Create the log file; never overwrite one (two runs in the same second with the same id)."""
        base = self.log_path
        for attempt in range(1, 1000):
            try:
                # A large buffer: a fast build writes megabytes, flushed once per chunk read.
                return open(self.log_path, "x", encoding="utf-8", errors="replace", buffering=1 << 20)
            except FileExistsError:
                self.log_path = base.with_name(f"{base.stem}-{attempt + 1}{base.suffix}")
        raise FileExistsError(f"too many rebuild logs named {base.name}")

    async def _run_one(
        self,
        command: str,
        emit: Callable[[list[str], str | None], None],
        log: TextIO,
        cancel_event: asyncio.Event,
        deadline: float | None,
    ) -> _Step:
        import asyncio

        self._note(log, f"$ {command}  (in {self.cwd})")
        if cancel_event.is_set():
            self._note(log, "cancelled before start")
            return _Step(None, cancelled=True)
        if self.group_file is not None:
            try:  # before the spawn: `find_orphan` looks through the processes only while build.json exists
                record_starting(self.group_file, command=command, run_id=self.run_id)
            except OSError as exc:
                self._note(log, f"cannot record the build's start: {exc.strerror or exc}")
        try:
            proc = await asyncio.create_subprocess_shell(
                command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.cwd,
                env={
                    **(self.env if self.env is not None else os.environ),
                    REBUILD_MARK: "1",
                    **({BUILD_STATE_VAR: str(self.group_file.parent)} if self.group_file is not None else {}),
                },
                start_new_session=True,
                limit=READ_CHUNK,
            )
        except OSError as exc:
            message = f"cannot start `{command}` in {self.cwd}: {exc.strerror or exc}"
            self._note(log, message)
            if self.group_file is not None:
                forget_group(self.group_file, None)
            return _Step(None, error=message)
        pgid = proc.pid  # start_new_session: the shell leads its own group
        _widen_pipe(proc)
        if self.group_file is not None:
            try:
                record_group(self.group_file, pgid=pgid, command=command, run_id=self.run_id)
            except OSError as exc:  # e.g. no space left: the build still runs, it only cannot be found after a crash
                self._note(log, f"cannot record the build's process group: {exc.strerror or exc}")
        splitter = LineSplitter(self.max_line_bytes)

        async def pump() -> None:
            assert proc.stdout is not None
            while True:
                data = await proc.stdout.read(READ_CHUNK)
                if not data:
                    break
                emit(*splitter.feed_text(data))
                self._note(log, None)
            emit(splitter.flush(), None)
            self._note(log, None)

        async def exit_status() -> int:
            # Not proc.wait(): on 3.11 it also waits for the pipe to close, which a straggler can hold open.
            while proc.returncode is None:
                await asyncio.sleep(0.02)
            return proc.returncode

        reader = asyncio.ensure_future(pump())
        exited = asyncio.ensure_future(exit_status())
        cancelled_wait = asyncio.ensure_future(cancel_event.wait())
        step = _Step(None)
        try:
            waiting = {exited, cancelled_wait, reader}
            while True:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    waiting.discard(reader)
                    if reader.exception() is not None:
                        await self._stop_group(proc, pgid)
                        reader.result()  # on_line raised: the build is stopped, the error goes to the caller
                if exited in done:
                    break
                if cancelled_wait in done:
                    step.cancelled = True
                    self._note(log, "cancelled, sending SIGINT to the process group")
                    await self._stop_group(proc, pgid)
                    break
                if not done:
                    step.timed_out = True
                    self._note(log, f"timed out after {self.timeout_s:g} s, sending SIGINT to the process group")
                    await self._stop_group(proc, pgid)
                    break
            # Drain what is left in the pipe; a straggler that keeps it open must not hold us forever.
            try:
                await asyncio.wait_for(asyncio.shield(reader), timeout=self.grace_s)
            except TimeoutError:
                reader.cancel()
                transport = getattr(proc, "_transport", None)
                if transport is not None:
                    transport.close()
                self._note(log, "output still open after the command exited; stopped reading")
            step.exit_code = await exited
            self._note(log, f"exit code {step.exit_code}")
            return step
        finally:
            for fut in (reader, exited, cancelled_wait):
                if not fut.done():
                    fut.cancel()
            if proc.returncode is None:
                await self._stop_group(proc, pgid)
            if self.group_file is not None:
                forget_group(self.group_file, pgid)

    async def _stop_group(self, proc: asyncio.subprocess.Process, pgid: int) -> None:
        """SIGINT the group, wait up to `grace_s` for every member to go, then SIGKILL it; the leader is reaped."""
        import asyncio

        if signal_group(pgid, signal.SIGINT):
            end = time.monotonic() + self.grace_s
            while time.monotonic() < end:
                if proc.returncode is not None and not group_alive(pgid):
                    break
                await asyncio.sleep(0.02)
            else:
                signal_group(pgid, signal.SIGKILL)
        while proc.returncode is None:
            await asyncio.sleep(0.02)
        # Members that outlived the leader are still ours to end.
        if group_alive(pgid):
            signal_group(pgid, signal.SIGKILL)


def _widen_pipe(proc: Any) -> None:
    """Give the output pipe 1 MiB (Linux: F_SETPIPE_SZ) so a fast build blocks, and wakes us, 16x less often."""
    try:
        import fcntl

        transport = proc._transport.get_pipe_transport(1)
        fd = transport.get_extra_info("pipe").fileno()
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), READ_CHUNK * 4)
    except (AttributeError, OSError, ValueError):
        pass  # not Linux, or over /proc/sys/fs/pipe-max-size: the default pipe works too


def _safe_id(run_id: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in run_id)[:40]
    return cleaned or os.urandom(4).hex()
