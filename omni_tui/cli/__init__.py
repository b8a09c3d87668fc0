"""The command line: `omni-tui [-C DIR] [DIR]` opens the cockpit; the subcommands are the agent protocol.

Every expected failure is printed as `omni-tui: <one line>` on stderr with exit code 2, before anything
is written. No subcommand approves anything: approval exists only in the cockpit.

This module holds the wiring only: `COMMANDS` names each subcommand and the module that declares it
(`proposing`: propose/wait/withdraw; `status`: status/explain; `audit`; `rebuild`; `hooks`:
hook/mcp/run; `cockpit`: the cockpit, demo, serve), and `build_parser` builds only what the command
line names (`base.add_subcommands`). Adding a subcommand: declare a `base.Command` in its module's
`COMMANDS` and add its name here. Every domain import happens inside the command that needs it: an
agent's hook runs before each tool call, and `status --json` is what agents poll (docs/performance.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from importlib import import_module

from omni_tui import __version__
from omni_tui.cli.base import PROG, Command, Parser, add_subcommands, fill, first_word, project_option, say
from omni_tui.core.errors import OmniError

# The subcommands in the order `omni-tui --help` lists them, each with the module (in this package)
# whose `COMMANDS` declares it.
COMMANDS: dict[str, str] = {
    "propose": "proposing",
    "wait": "proposing",
    "withdraw": "proposing",
    "status": "status",
    "audit": "audit",
    "demo": "cockpit",
    "explain": "status",
    "hook": "hooks",
    "mcp": "hooks",
    "rebuild": "rebuild",
    "serve": "cockpit",
    "run": "hooks",
}


def declared(names: Iterable[str]) -> list[Command]:
    """The declarations of the subcommands `names`, importing only their modules."""
    found = []
    for name in names:
        module = import_module(f"omni_tui.cli.{COMMANDS[name]}")
        found.append(next(c for c in module.COMMANDS if c.name == name))
    return found


def build_parser(argv: Sequence[str] | None = None) -> tuple[argparse.ArgumentParser, list[str]]:
    """The subcommand parser and the subcommand names it was given. With `argv`, only the branch it names
    is built (the others, for `--help` or a typo, by their one-line help); without, the whole tree."""
    parser = Parser(
        prog=PROG,
        description="A terminal cockpit to supervise AI agents changing a devenv environment. "
        f"`{PROG} [DIR]` opens the cockpit; the subcommands are the agent protocol.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-C", dest="directory", metavar="DIR", help="the devenv project")
    at = None if argv is None else first_word(argv)
    names = [argv[at]] if argv is not None and at is not None and argv[at] in COMMANDS else list(COMMANDS)
    built = add_subcommands(parser, declared(names), argv, dest="command", metavar="COMMAND")
    return parser, built


def cockpit_parser() -> argparse.ArgumentParser:
    """`omni-tui [-C DIR] [DIR]`: no subcommand."""
    from omni_tui.cli.cockpit import COCKPIT

    parser = Parser(prog=PROG, parents=[project_option()], description=COCKPIT.description)
    fill(parser, COCKPIT, None)
    return parser


def command_names() -> list[str]:
    """The subcommand names, without importing their modules or building a parser."""
    return list(COMMANDS)


# Text an agent or a person types that ends up in documents and the audit log: it must be UTF-8.
_TEXT_ARGS = {"title": "--title", "why": "--why", "agent": "--agent", "reason": "--reason", "id": "ID", "who": "--who"}


def check_arguments(args: argparse.Namespace) -> None:
    """Every argument checked before anything is written: OmniError naming the first bad one.

    Non-UTF-8 bytes in argv arrive as lone surrogates (`surrogateescape`): no JSON document, audit
    entry or terminal can carry them. A negative or NaN `--timeout` means nothing.
    """
    for attr, label in _TEXT_ARGS.items():
        value = getattr(args, attr, None)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise OmniError(
                    f"{label} is not valid UTF-8 (byte 0x{ord(value[exc.start]) & 0xFF:02x} at character {exc.start})"
                ) from None
    timeout = getattr(args, "timeout", None)
    if isinstance(timeout, float) and not timeout >= 0:  # NaN fails this too
        raise OmniError(f"--timeout must be zero or more seconds, not {timeout:g}")


def _wants_cockpit(argv: list[str]) -> bool:
    """No subcommand (after an optional leading `-C DIR`) and no --help/--version → the cockpit."""
    rest = list(argv)
    if rest[:1] == ["-C"]:
        rest = rest[2:]
    elif rest and rest[0].startswith("-C") and len(rest[0]) > 2:
        rest = rest[1:]
    if not rest:
        return True
    first = rest[0]
    return first not in COMMANDS and first not in ("-h", "--help", "--version")


# Agent commands that end once they have answered (`status --json` is polled). What they build lives
# until then, so the cyclic collections while they import and work (≈ 20 in a `status`, ≈ 5 ms) are
# wasted, and so is the collection over the whole heap as the process ends (`gc.freeze` spares it).
# A high threshold rather than none: `wait` and `propose --wait` may poll for hours.
_ONE_SHOT = frozenset({"status", "propose", "wait", "withdraw", "explain", "audit", "hook"})


def main(argv: list[str] | None = None) -> int:
    process = argv is None  # the process's own command line: not a caller (a test) running commands in-process
    argv = list(sys.argv[1:] if argv is None else argv)
    at = first_word(argv)
    one_shot = process and at is not None and argv[at] in _ONE_SHOT
    if one_shot:
        import gc

        gc.set_threshold(50_000, 10, 10)
    try:
        if argv[:1] == ["hook"]:
            return _hook_main(argv)
        return _main(argv)
    finally:
        if one_shot:
            gc.freeze()


def _hook_main(argv: list[str]) -> int:
    """An agent hook never exits 1 (Claude Code and Codex run the tool after it): any failure is exit 2, one line."""
    try:
        return _main(argv)
    except SystemExit as exc:  # argparse: --help is 0, a bad argument 2
        return exc.code if exc.code in (0, 2) else 2  # type: ignore[return-value]
    except BaseException as exc:  # noqa: BLE001 - fail closed
        sys.stderr.write(f"{PROG} hook: internal error ({type(exc).__name__}); the tool call is blocked\n")
        return 2


def _main(argv: list[str]) -> int:
    args = cockpit_parser().parse_args(argv) if _wants_cockpit(argv) else build_parser(argv)[0].parse_args(argv)
    try:
        check_arguments(args)
        return int(args.func(args))
    except OmniError as exc:
        from omni_tui.core.proposals import EXIT_INVALID

        say(f"{PROG}: {exc}", err=True)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # e.g. the disk is full: one line naming the file, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        say(f"{PROG}: {where}{exc.strerror or exc}", err=True)
        return 2
