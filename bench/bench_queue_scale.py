"""Benchmark of a long proposal queue: 10,000 pending proposals, and 200 arriving in 10 s.

DESIGN/issue 10: "10,000 pending proposals: the cockpit's first frame within 2 s and keys answered
while the queue fills in; `status --json` within 3 s. 200 proposals arriving in 10 s: keys answered
within 200 ms throughout."

Every figure is printed next to a baseline measured in the same run, on the same machine, the same way:
- `status --json --no-nix` and `status --json` (Nix checks of what is not cached yet run for at most
  0.75 s, the rest reports null) on 10,000 proposals vs on 1;
- the cockpit (`omni-tui -C ROOT` on a fresh pseudo-terminal, 120x40): first frame (the header and the
  Proposals panel drawn) with 10,000 proposals vs with 1;
- keys while the 10,000 fill in and get checked, two kinds in turn for 10 s from the first frame:
  `?` opens the help screen and `escape` closes it (a modal screen over the cockpit), and `tab` /
  `shift+tab` move to the Processes panel and back (a plain key: the footer shows that panel's keys,
  then the queue's again); latency = key written → the screen's answer on the terminal, whole: the
  help screen's lines shown, then gone with the main screen's panels back; the footer's keys. The
  pseudo-terminal is read through `TerminalScreen`, a small screen model that, like the terminals
  people use, takes synchronized frames (mode 2026) and shows a frame only once it is complete — a
  marker text going by in the output is not an answer (a queue redraw repeats the panel titles: the
  bench before 2026-12-04 counted those, p50 3–10 ms while proposals arrived). Vs the same keys on
  the 1-proposal cockpit;
- keys while 200 proposals arrive in 10 s (one every 50 ms, written as agents write them) on a
  cockpit that starts with 1 — vs the same cockpit with nothing arriving.
Proposals are distinct (each adds another package), written straight into proposals/ as agents do.

Every phase also prints the load average (os.getloadavg) when it ended and the CPU seconds the
process measured used (the machine may be shared: wall times move with load far more than work).

Run: `.venv/bin/python bench/bench_queue_scale.py [--n 10000] [--key-s 10] [--no-status] [--long-only]`. No asserts:
it prints figures (p50, p95, max and the ratio to the baseline).
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_startup import child_env, omni_tui_argv, pct, time_command  # bench/ is on sys.path when a bench runs
from rich.cells import cell_len
from sample_project import DEVENV_NIX

COLS, ROWS = 120, 40


def make_project(tmp: Path, name: str, n: int) -> Path:
    from omni_tui.core.audit import utc_now
    from omni_tui.core.proposals import FileChange, Proposal, new_id
    from omni_tui.core.safefs import sha256_bytes
    from omni_tui.core.workspace import Workspace

    root = tmp / name
    root.mkdir()
    (root / "devenv.nix").write_text(DEVENV_NIX)
    (root / "omni-tui.toml").write_text('[rebuild]\ncommand = "true"\n')
    ws = Workspace.open(root, env={}, cwd=root)
    write_proposals(ws.paths.proposals, n, sha256_bytes(DEVENV_NIX.encode()), utc_now, new_id, Proposal, FileChange)
    return root


def write_proposals(
    folder: Path,
    n: int,
    base: str | None,
    now,
    new_id,
    Proposal,
    FileChange,
    *,
    start: int = 0,  # type: ignore[no-untyped-def]
    every_s: float = 0.0,
) -> None:
    for i in range(start, start + n):
        text = DEVENV_NIX.replace("pkgs.jq ]", f"pkgs.jq pkgs.tool{i} ]")
        pid = new_id()
        while (folder / f"{pid}.json").exists():  # a second + 24 random bits: 10,000 ids in a few seconds can meet
            pid = new_id()
        proposal = Proposal(pid, f"agent{i % 7}", f"Add tool{i}", "bench", now(), (FileChange("devenv.nix", base, text),))
        tmp = folder / f".{proposal.id}.tmp"
        tmp.write_text(json.dumps(proposal.to_json()))
        os.replace(tmp, folder / f"{proposal.id}.json")  # atomically, as the protocol asks
        if every_s:
            time.sleep(every_s)


class TerminalScreen:
    """What a terminal shows, characters only: the part of VT100 Textual writes (cursor moves, erases,
    text; colours and modes ignored). A latency ends when the screen a person looks at has changed, not
    when some marker text went by in the output (a queue redraw repeats the panel titles). Like the
    terminals people use, it tells Textual it has synchronized output (mode 2026) and shows a frame only
    once it is whole, never half drawn."""

    TOKEN = re.compile(
        r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[ -/]*[0-Z\\^-~]|[\x00-\x1a\x1c-\x1f\x7f]|[^\x00-\x1f\x7f\x1b]+"
    )

    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.cells = [[" "] * cols for _ in range(rows)]
        self.y = self.x = 0
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.frozen: str | None = None  # what shows while a synchronized frame is being written
        self.replies = bytearray()  # what the terminal answers (the mode report)

    def feed(self, data: bytes) -> None:
        text = self.pending + self.decoder.decode(data)
        pos = 0
        while pos < len(text):
            match = self.TOKEN.match(text, pos)
            if match is None:  # an escape sequence cut by the read: the rest comes with the next one
                if len(text) - pos < 4096:
                    break
                pos += 1  # not a sequence after all: skip the escape
                continue
            self._apply(match.group())
            pos = match.end()
        self.pending = text[pos:]

    def _apply(self, token: str) -> None:
        if token == "\x1b[?2026$p":  # "do you have synchronized output?" — yes, and it is off
            self.replies += b"\x1b[?2026;2$y"
        elif token == "\x1b[?2026h":
            self.frozen = self.frozen if self.frozen is not None else self._cells_text()
        elif token == "\x1b[?2026l":
            self.frozen = None
        elif token.startswith("\x1b[?"):
            return  # other private modes (mouse, cursor, alternate screen)
        elif token.startswith("\x1b["):
            final, params = token[-1], token[2:-1]
            nums = [int(n) if n.isdigit() else 0 for n in params.lstrip("?").split(";")] if params else []
            first = nums[0] if nums else 0
            if final in "Hf":
                self.y = max(0, (nums[0] if nums and nums[0] else 1) - 1)
                self.x = max(0, (nums[1] if len(nums) > 1 and nums[1] else 1) - 1)
            elif final == "J":
                rows = range(self.rows) if first == 2 else range(self.y + 1, self.rows)
                for y in rows:
                    self.cells[y] = [" "] * self.cols
                if first != 2:
                    self._erase_line(self.x, self.cols)
            elif final == "K":
                self._erase_line(*((self.x, self.cols) if first == 0 else (0, self.x + 1) if first == 1 else (0, self.cols)))
            elif final in "ABCDG":
                n = max(1, first)
                if final == "A":
                    self.y = max(0, self.y - n)
                elif final == "B":
                    self.y = min(self.rows - 1, self.y + n)
                elif final == "C":
                    self.x = min(self.cols - 1, self.x + n)
                elif final == "D":
                    self.x = max(0, self.x - n)
                else:
                    self.x = max(0, n - 1)
        elif token.startswith("\x1b"):
            return
        elif token == "\r":
            self.x = 0
        elif token == "\n":
            self.y = min(self.rows - 1, self.y + 1)
        elif token == "\b":
            self.x = max(0, self.x - 1)
        elif token[0] >= " ":
            for char in token:
                width = cell_len(char)
                if width == 0 or not (0 <= self.y < self.rows):
                    continue
                if self.x + width <= self.cols:
                    self.cells[self.y][self.x] = char
                    if width == 2:
                        self.cells[self.y][self.x + 1] = ""
                self.x += width

    def _erase_line(self, start: int, end: int) -> None:
        if 0 <= self.y < self.rows:
            for x in range(start, min(end, self.cols)):
                self.cells[self.y][x] = " "

    def text(self) -> str:
        """What the terminal shows now (the last whole frame while one is being written)."""
        return self.frozen if self.frozen is not None else self._cells_text()

    def _cells_text(self) -> str:
        return "\n".join("".join(row) for row in self.cells)


class Cockpit:
    """The installed cockpit on its own pseudo-terminal; `shows(...)` waits until the screen shows texts."""

    def __init__(self, root: Path) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [*omni_tui_argv(), "-C", str(root)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=root,
            env=child_env(),
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.screen = TerminalScreen(ROWS, COLS)

    def shows(self, present: list[str], absent: list[str] = (), timeout_s: float = 120.0) -> float:  # type: ignore[assignment]
        """Seconds until the screen shows every text of `present` and none of `absent`."""
        t0 = time.perf_counter()
        while True:
            text = self.screen.text()
            if all(m in text for m in present) and not any(m in text for m in absent):
                return time.perf_counter() - t0
            left = timeout_s - (time.perf_counter() - t0)
            if left <= 0:
                raise TimeoutError(f"{present} (without {absent}) not shown within {timeout_s:g} s")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    data = os.read(self.master, 1 << 16)
                except OSError:
                    raise RuntimeError(f"the cockpit exited with {self.proc.wait()}") from None
                self.screen.feed(data)
                if self.screen.replies:
                    os.write(self.master, bytes(self.screen.replies))
                    self.screen.replies.clear()

    def key(self, data: bytes, present: list[str], absent: list[str] = ()) -> float:  # type: ignore[assignment]
        t0 = time.perf_counter()
        os.write(self.master, data)
        self.shows(present, absent, timeout_s=60)
        return time.perf_counter() - t0

    def cpu_s(self) -> float:
        """CPU seconds the cockpit used so far (its threads, and the children it waited for: Nix checks)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self.master)


FIRST_FRAME = ["Proposals", "Changes"]
# Lines from the top and the middle of the help screen, and the main screen's left panel titles: a key's
# answer is drawn when the screen shows all of one and none of the other. All in the left half, where
# toasts (bottom right) never cover them.
HELP = ["Approve the selected proposal", "Cancel the running rebuild"]
MAIN = ["Changes", "Processes"]


def first_frame(root: Path) -> tuple[float, Cockpit]:
    cockpit = Cockpit(root)
    return cockpit.shows(FIRST_FRAME), cockpit


# The footer's keys of the Processes panel (tab from the queue, which has the focus at start) and none of them
# once shift+tab is back on the queue.
PROCESS_KEYS = ["R Restart", "x Stop"]


def key_latencies(cockpit: Cockpit, seconds: float) -> dict[str, list[float]]:
    """Latencies of the two kinds of key, in turn for `seconds`: "help" (? then escape) and "tab" (tab then shift+tab)."""
    out: dict[str, list[float]] = {"help": [], "tab": []}
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        out["help"].append(cockpit.key(b"?", HELP))  # the help screen is up, whole
        out["help"].append(cockpit.key(b"\x1b", MAIN, HELP))  # ...and gone again, every line of it
        time.sleep(0.05)
        out["tab"].append(cockpit.key(b"\t", [*MAIN, *PROCESS_KEYS]))  # the Processes panel's keys in the footer
        out["tab"].append(cockpit.key(b"\x1b[Z", MAIN, PROCESS_KEYS))  # shift+tab: the queue's keys again
        time.sleep(0.05)
    return out


def timed_keys(cockpit: Cockpit, seconds: float) -> tuple[dict[str, list[float]], str]:
    """key_latencies, and what the cockpit's CPU and the machine's load were meanwhile."""
    cpu0, t0 = cockpit.cpu_s(), time.perf_counter()
    keys = key_latencies(cockpit, seconds)
    cpu, wall = cockpit.cpu_s() - cpu0, time.perf_counter() - t0
    count = sum(len(xs) for xs in keys.values())
    return keys, (
        f"cockpit CPU {cpu:.1f} s in {wall:.1f} s ({cpu / wall * 100:.0f}%), {count} keys: {cpu / count * 1000:.0f} ms CPU a key"
        f" (all its work included), load {load()}"
    )


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def time_status(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `status` run (CPU from the children's rusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time_command(argv, cwd=cwd, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def row(label: str, xs: list[float], base: list[float] | None = None) -> str:
    text = f"{label:<46} p50 {statistics.median(xs) * 1000:7.0f} ms  p95 {pct(xs, 0.95) * 1000:7.0f} ms  max {max(xs) * 1000:7.0f} ms"
    if base is not None:
        text += f"  ratio p50 {statistics.median(xs) / statistics.median(base):5.2f}x"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="pending proposals in the long queue (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="status runs each (default 3)")
    parser.add_argument("--key-s", type=float, default=10.0, help="seconds of key presses per measure (default 10)")
    parser.add_argument("--no-status", action="store_true", help="skip the `status --json` runs (only the cockpit)")
    parser.add_argument(
        "--long-only",
        action="store_true",
        help="only the cockpit with the long queue (and its 1-proposal baseline): no status, no 200 arriving",
    )
    args = parser.parse_args()
    if args.long_only:
        args.no_status = True
    from omni_tui.core.audit import utc_now
    from omni_tui.core.proposals import FileChange, Proposal, new_id
    from omni_tui.core.safefs import sha256_bytes

    with tempfile.TemporaryDirectory(prefix="omni-bench-queue-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        big = make_project(tmp, "big", args.n)
        one = make_project(tmp, "one", 1)
        print(f"{args.n} proposal files written in {time.perf_counter() - t0:.1f} s")
        env = child_env()

        # -- status --json
        for flags in [] if args.no_status else (["--no-nix"], []):
            label = "status --json " + " ".join(flags)
            base = [time_status([*omni_tui_argv(), "-C", str(one), "status", "--json", *flags], one, env) for _ in range(args.runs)]
            many = [time_status([*omni_tui_argv(), "-C", str(big), "status", "--json", *flags], big, env) for _ in range(args.runs)]
            print(row(f"{label} (1 proposal)", [w for w, _ in base]) + f"  CPU {statistics.median(c for _, c in base):.2f} s")
            print(
                row(f"{label} ({args.n} proposals)", [w for w, _ in many], [w for w, _ in base])
                + f"  CPU {statistics.median(c for _, c in many):.2f} s  load {load()}"
            )
        if not args.no_status:
            checked = json.loads(
                subprocess.run(
                    [*omni_tui_argv(), "-C", str(big), "status", "--json"], cwd=big, env=env, capture_output=True, text=True
                ).stdout
            )
            known = sum(1 for p in checked["pending"] if p["validation"] is not None)
            print(f"  after those runs: {known} of {args.n} proposals have their Nix check cached")

        # -- the cockpit: first frame, then keys while the queue fills in
        base_frame, cockpit = first_frame(one)
        try:
            base_keys, base_cpu = timed_keys(cockpit, args.key_s)
        finally:
            cockpit.close()
        big_frame, cockpit = first_frame(big)
        try:
            big_frame_cpu = cockpit.cpu_s()
            big_keys, big_cpu = timed_keys(cockpit, args.key_s)
        finally:
            cockpit.close()
        print(row("cockpit first frame (1 proposal)", [base_frame]))
        print(row(f"cockpit first frame ({args.n} proposals)", [big_frame], [base_frame]) + f"  CPU {big_frame_cpu:.1f} s  load {load()}")
        for kind in ("help", "tab"):
            print(row(f"keys ({kind}), 1 proposal", base_keys[kind]))
            print(row(f"keys ({kind}) while {args.n} fill in (first {args.key_s:g} s)", big_keys[kind], base_keys[kind]))
        print(f"  1 proposal: {base_cpu}")
        print(f"  {args.n} filling in: {big_cpu}")
        if args.long_only:
            return 0

        # -- 200 proposals arriving in 10 s
        arriving = make_project(tmp, "arriving", 1)
        _frame, cockpit = first_frame(arriving)
        try:
            quiet, quiet_cpu = timed_keys(cockpit, args.key_s)
            from omni_tui.core.workspace import Workspace

            folder = Workspace.open(arriving, env={}, cwd=arriving).paths.proposals
            writer = threading.Thread(
                target=write_proposals,
                args=(folder, 200, sha256_bytes(DEVENV_NIX.encode()), utc_now, new_id, Proposal, FileChange),
                kwargs={"start": 1, "every_s": 0.05},
            )
            writer.start()
            busy, busy_cpu = timed_keys(cockpit, args.key_s)
            writer.join()
        finally:
            cockpit.close()
        for kind in ("help", "tab"):
            print(row(f"keys ({kind}), nothing arriving", quiet[kind]))
            print(row(f"keys ({kind}) while 200 proposals arrive in 10 s", busy[kind], quiet[kind]))
        print(f"  nothing arriving: {quiet_cpu}")
        print(f"  200 arriving: {busy_cpu}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
