"""How a subcommand is declared (`Command`, `arg`, `one_of`) and built into argparse, and the helpers
every command shares (one-line errors, inert output, the workspace, the writable-state check).

A command module declares its subcommands as data: `Command(name, help, description, run, args)`.
`add_command` is the one place that turns a declaration into a subparser, and it builds only the
branch the command line names: `omni-tui status --json` builds the top parser and `status`, nothing
else; `omni-tui --help` lists every command by its one-line help without building their arguments.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from omni_tui.core.workspace import Workspace

PROG = "omni-tui"


@functools.cache
def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` reads it: $COLUMNS, else stdout's terminal, else 80.
    Read once: argparse asks for a formatter per argument, and the width does not change within a command."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter at the same width, without importing shutil for it (with bz2, lzma and zlib:
    ≈ 3 ms of every command; argparse builds a formatter for each argument it is given)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `omni-tui wait: argument --timeout: expected one argument (see -h)`, exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # argparse's signature says NoReturn; exit() raises SystemExit
        from omni_tui.core.terminal import inert

        self.exit(2, f"{self.prog}: {inert(message)} (see {self.prog} -h)\n")

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]  # one for argparse's overloads
        # argparse reports words no parser took from the top parser (`omni-tui: … (see omni-tui -h)`);
        # the subcommand they followed says it, pointing at its own help, where its options are.
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self._chosen(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def _chosen(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The innermost subcommand's parser that `parsed` went through (this one when none)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                child = action.choices.get(getattr(parsed, action.dest, None) or "")
                if child is not None:
                    return child._chosen(parsed) if isinstance(child, Parser) else child
        return self


# NamedTuples, not dataclasses: an agent's hook runs this before every tool call, and `dataclasses`
# brings `inspect` (with ast, dis, tokenize: ≈ 5 ms) that the hook path does not otherwise import.


class Arg(NamedTuple):
    """One `add_argument` call, kept as data until the command is built. A callable `default` is called
    then (defaults read from the environment are read when the command line is parsed, not at import)."""

    flags: tuple[str, ...]
    options: Mapping[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


class OneOf(NamedTuple):
    """A mutually exclusive group of arguments."""

    args: tuple[Arg, ...]
    required: bool = False


def one_of(*args: Arg, required: bool = False) -> OneOf:
    return OneOf(args, required)


class Command(NamedTuple):
    """A subcommand as data. `project`: it takes `-C DIR`. `children`: its own subcommands (`hook AGENT`),
    declared the same way and built by the same rule (only the one named, else each by its help line)."""

    name: str
    help: str
    description: str
    run: Callable[[argparse.Namespace], int] | None = None
    args: tuple[Arg | OneOf, ...] = ()
    usage: str | None = None
    project: bool = True
    children: tuple[Command, ...] = ()
    children_dest: str = "subcommand"
    children_metavar: str = "COMMAND"


def project_option() -> argparse.ArgumentParser:
    """`-C DIR`, which every command on a project takes (after the subcommand as well as before it)."""
    parent = Parser(add_help=False)
    parent.add_argument(
        "-C",
        dest="directory",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the devenv project (default: $DEVENV_ROOT, else the nearest directory upwards with devenv.nix)",
    )
    return parent


def fill(parser: argparse.ArgumentParser, command: Command, rest: Sequence[str] | None) -> None:
    """Give `parser` the arguments of `command`, its children (see `add_subcommands`) and what it runs."""
    for item in command.args:
        if isinstance(item, OneOf):
            group = parser.add_mutually_exclusive_group(required=item.required)
            for one in item.args:
                group.add_argument(*one.flags, **_options(one))
        else:
            parser.add_argument(*item.flags, **_options(item))
    if command.children:
        add_subcommands(parser, command.children, rest, dest=command.children_dest, metavar=command.children_metavar, required=True)
    if command.run is not None:
        parser.set_defaults(func=command.run)


def _options(item: Arg) -> dict[str, Any]:
    default = item.options.get("default")
    return {**item.options, "default": default()} if callable(default) else dict(item.options)


def add_subcommands(
    parser: argparse.ArgumentParser,
    commands: Sequence[Command],
    rest: Sequence[str] | None,
    *,
    dest: str,
    metavar: str,
    required: bool = False,
) -> list[str]:
    """The subcommands of `parser`. `rest` is the command line after it (None: build them all, fully):
    the one it names is built fully, with the remaining words; when it names none (`--help`, a typo)
    each is added by its help line alone, so the listing and argparse's `invalid choice` stay complete."""
    sub = parser.add_subparsers(dest=dest, metavar=metavar, required=required)
    at = None if rest is None else first_word(rest)
    named = None if at is None or rest is None else next((c for c in commands if c.name == rest[at]), None)
    for command in commands:
        if rest is not None and named is not None and command is not named:
            continue
        kwargs: dict[str, Any] = {"help": command.help}
        if rest is not None and named is None:
            sub.add_parser(command.name, **kwargs)  # listed by its help line only: nothing will run it
            continue
        if command.project:
            kwargs["parents"] = [project_option()]
        if command.usage is not None:
            kwargs["usage"] = command.usage
        child = sub.add_parser(command.name, description=command.description, **kwargs)
        fill(child, command, None if rest is None or at is None else rest[at + 1 :])
    return list(sub.choices)


def first_word(argv: Sequence[str]) -> int | None:
    """Where the first word that is not an option (nor `-C`'s value) is in `argv`, the subcommand's place."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "-C":
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return i
    return None


# -- what every command shares -----------------------------------------------------------------------


def workspace(args: argparse.Namespace) -> Workspace:
    from omni_tui.core.workspace import Workspace

    return Workspace.open(getattr(args, "directory", None))


def print_json(value: Any, *, compact: bool = False) -> None:
    separators = (",", ":") if compact else None
    indent = None if compact else 2
    for ascii_only in (False, True):
        text = json.dumps(value, ensure_ascii=ascii_only, separators=separators, indent=indent)
        if not text.isascii() or "\x7f" in text:  # what `inert_json` escapes is DEL and above: ASCII text is left as it is
            from omni_tui.core.terminal import inert_json  # (its patterns: ≈ 2 ms of a command that needs none)

            text = inert_json(text)
        try:
            print(text)
            return
        except UnicodeEncodeError:  # stdout is not UTF-8 (PYTHONIOENCODING=ascii, a latin-1 locale): the same document in ASCII
            if ascii_only:
                raise


def say(text: str, *, err: bool = False) -> None:
    """Print one line of plain output; agent text in it is made inert (`core.terminal.inert`) first.

    On a stream that is not UTF-8 (PYTHONIOENCODING=ascii, a latin-1 locale) the characters it cannot
    carry — an agent's CJK title — are written as `\\u6f22` escapes: a line, never a traceback."""
    from omni_tui.core.terminal import inert

    stream = sys.stderr if err else sys.stdout
    line = inert(text)
    try:
        print(line, file=stream, flush=err)
    except UnicodeEncodeError:  # raised before anything of the line is written
        encoding = getattr(stream, "encoding", None) or "ascii"
        print(line.encode(encoding, "backslashreplace").decode(encoding), file=stream, flush=err)


def require_writable(ws: Workspace) -> None:
    """A command that writes proposals, decisions or audit entries: refuse at once on a read-only state directory."""
    from omni_tui.core.errors import OmniError

    # In `omni-tui run` only proposals/ is writable, by design (its launcher audits what is proposed).
    sandboxed = bool(ws.env.get("OMNI_TUI_SANDBOX"))
    for folder in (ws.paths.proposals,) if sandboxed else (ws.paths.state, ws.paths.proposals, ws.paths.decisions):
        if not os.access(folder, os.W_OK):
            raise OmniError(f"the state directory {folder} is not writable (read-only file system or permissions); nothing was written")
