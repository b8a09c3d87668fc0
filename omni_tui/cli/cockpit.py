"""The cockpit and its other doors: `omni-tui [DIR]` (no subcommand), `demo` (a throwaway workspace with a
scripted agent) and `serve` (the cockpit in a browser). Textual is imported only once one of them runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from omni_tui.cli.base import Command, arg
from omni_tui.core.errors import OmniError


def cmd_cockpit(args: argparse.Namespace) -> int:
    import gc

    # Importing Textual and the cockpit builds ~70,000 objects that live as long as the process.
    # Cyclic collections over them while they are built, and the collection over the whole heap
    # when the process ends, are wasted work (≈ 30 ms of start-up, ≈ 100 ms of quitting; see
    # docs/performance.md): collect nothing while importing, then freeze what was imported. The
    # cockpit enables collection again once its first frame is drawn (`Background.start`, after
    # freezing what that frame needed), or here if it cannot start.
    gc.disable()
    try:
        from omni_tui.core.workspace import Workspace

        ws = Workspace.open(args.dir if args.dir is not None else getattr(args, "directory", None))
        from omni_tui.ui.app import run_cockpit  # lazy: agent subcommands never pay for Textual
    except BaseException:
        gc.enable()
        raise
    finally:
        gc.freeze()
    try:
        result = run_cockpit(ws)
    finally:
        gc.enable()
    gc.freeze()  # the process ends now
    return result if isinstance(result, int) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from omni_tui.demo.session import run_demo  # lazy: only the demo needs it

    return run_demo(args.dir, keep=args.keep, use_nix=not args.simulate)


def cmd_serve(args: argparse.Namespace) -> int:
    from omni_tui.core.workspace import Workspace

    try:
        from omni_tui.web.server import serve_forever, valid_name, warn_if_exposed
    except ImportError as exc:  # textual-serve / aiohttp missing from a broken install
        raise OmniError(f"serve needs textual-serve and aiohttp: {exc}") from None
    if not args.port.isdigit() or not 0 <= int(args.port) <= 65535:
        raise OmniError(f"--port must be a number from 0 to 65535, not {args.port!r}")
    host = args.host.strip().strip("[]")
    if not host or any(ch.isspace() or ch in "/@?#" for ch in host):
        raise OmniError(f"--host must be an address or host name, not {args.host!r}")
    who = None
    if args.who is not None:
        who = valid_name(args.who)
        if who is None:
            raise OmniError(f"--who must be 1 to 40 printable characters, not {args.who!r}")
    ws = Workspace.open(args.dir if args.dir is not None else getattr(args, "directory", None))
    try:
        return serve_forever(ws.root, host=host, port=int(args.port), who=who, warning=warn_if_exposed(host))
    except OSError as exc:
        raise OmniError(f"cannot listen on {host}:{args.port}: {exc.strerror or exc}") from None


_DIR = arg("dir", nargs="?", default=None, metavar="DIR", help="the project directory (default: the current one)")

# Not a subcommand: the parser `omni-tui [-C DIR] [DIR]` is built from it when no subcommand is named.
COCKPIT = Command("", help="", description="Open the cockpit on a devenv project.", run=cmd_cockpit, args=(_DIR,))

COMMANDS = (
    Command(
        "demo",
        help="a throwaway workspace with real processes and a scripted agent, in the cockpit",
        description="Create a throwaway devenv workspace, run real processes and a scripted agent for it, "
        "and open the cockpit on it. Quitting stops every demo process and removes the "
        "workspace unless --keep.",
        run=cmd_demo,
        project=False,
        args=(
            arg(
                "--dir",
                type=Path,
                default=None,
                metavar="DIR",
                help="create the workspace in DIR (must be new or empty) instead of a temporary directory",
            ),
            arg("--keep", action="store_true", help="keep the workspace when the demo ends"),
            arg("--simulate", action="store_true", help="use the labelled simulated build even when Nix is installed"),
        ),
    ),
    Command(
        "serve",
        help="serve the cockpit to a browser (token in the URL, loopback by default)",
        description="Serve the cockpit to a browser: each browser session is a full cockpit on the project. "
        "The URL printed holds a fresh access token. Plain HTTP: see docs/serve.md.",
        run=cmd_serve,
        args=(
            _DIR,
            arg("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; anything else prints a warning)"),
            arg("--port", default="8000", help="port to listen on (default 8000; 0 picks a free one)"),
            arg("--who", default=None, help="the name decisions from the browser are recorded under (default: asked in the page)"),
        ),
    ),
)
