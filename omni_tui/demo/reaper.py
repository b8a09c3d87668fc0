"""The demo's safety net: a small process, detached from the terminal, that waits for the demo
process to end — however it ends, even by SIGKILL — then ends every process still carrying the demo
mark and removes the workspace (when asked and only if it is a demo workspace). When the demo exits
normally it has already done both, and ends this watcher itself.

Run as `python -m omni_tui.demo.reaper PID CREATE_TIME ROOT [--remove | --empty]`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import psutil

from omni_tui.demo.procs import sweep
from omni_tui.demo.template import remove_workspace


def still_running(pid: int, create_time: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - create_time) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omni_tui.demo.reaper")
    parser.add_argument("pid", type=int)
    parser.add_argument("create_time", type=float)
    parser.add_argument("root", type=Path)
    cleanup = parser.add_mutually_exclusive_group()
    cleanup.add_argument("--remove", action="store_true", help="remove the workspace directory")
    cleanup.add_argument("--empty", action="store_true", help="remove what the demo put in the directory")
    args = parser.parse_args(argv)
    # Only the demo (SIGTERM after its own cleanup) or the end of the demo process stops this watcher.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while still_running(args.pid, args.create_time):
        time.sleep(0.5)
    sweep(args.root)
    if args.remove or args.empty:
        remove_workspace(args.root, created=args.remove)
    return 0


if __name__ == "__main__":
    sys.exit(main())
