"""What a process manager was told to run: its Procfile (honcho, overmind, hivemind) or mprocs.yaml, and
which of its entries a child process is.

The config file is the one given on the manager's command line (`-f`/`--procfile`, hivemind's
positional argument, mprocs' `-c`/`--config`), else the default one in the manager's working
directory. Entries are matched to a child by its command line: the `sh -c CMD` a manager runs, or the
program the shell replaced itself with. Files are read again only when their mtime or size changes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from omni_tui.core.safefs import open_regular

# `web: python -m http.server` (honcho's own pattern: a name of word characters and dashes).
_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")
_MAX_CONFIG_BYTES = 1 << 20


class Entry(NamedTuple):  # not a frozen dataclass: the scan imports this module for every `status`
    """One thing a manager runs: its name, and the command as a shell string or an argv list."""

    name: str
    shell: str | None = None
    argv: tuple[str, ...] | None = None


def parse_procfile(text: str) -> list[Entry]:
    """A Procfile's entries in file order (comments and lines without `name:` are skipped)."""
    out: list[Entry] = []
    for line in text.splitlines():
        m = _PROCFILE_LINE.match(line.strip())
        if m is not None and not line.lstrip().startswith("#"):
            out.append(Entry(m.group(1), shell=m.group(2).strip()))
    return out


def parse_mprocs(text: str) -> list[Entry]:
    """mprocs.yaml's `procs:` entries: `name: {shell: "..."}`, `name: {cmd: [...]}` or `name: "..."`."""
    import yaml  # only for mprocs projects

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    procs = doc.get("procs") if isinstance(doc, dict) else None
    out: list[Entry] = []
    for name, spec in procs.items() if isinstance(procs, dict) else ():
        if isinstance(spec, str):
            out.append(Entry(str(name), shell=spec))
        elif isinstance(spec, dict):
            if isinstance(spec.get("shell"), str):
                out.append(Entry(str(name), shell=spec["shell"]))
            elif isinstance(spec.get("cmd"), list):
                out.append(Entry(str(name), argv=tuple(str(a) for a in spec["cmd"])))
            else:
                out.append(Entry(str(name)))
    return out


def _option(args: list[str], short: str | None, long: str) -> str | None:
    for i, a in enumerate(args):
        if a == long or (short is not None and a == short):
            return args[i + 1] if i + 1 < len(args) else None
        if a.startswith(long + "="):
            return a[len(long) + 1 :]
        if short is not None and a.startswith(short) and len(a) > len(short) and not a.startswith("--"):
            return a[len(short) :]
    return None


# hivemind's options that take a value (the Procfile is its first other argument).
_HIVEMIND_VALUED = {"-r", "--root", "-p", "--port", "-P", "--port-step", "-t", "--timeout", "-l", "--processes"}


def _arguments(kind: str, argv: list[str]) -> list[str]:
    """The manager's own arguments: a script entry point (`python .../honcho start`) carries the script first."""
    args = argv[1:]
    if args and not args[0].startswith("-") and Path(args[0]).name.startswith(kind):
        args = args[1:]
    return args


def config_path(kind: str, argv: list[str], cwd: str | None, environ: dict[str, str] | None = None) -> Path | None:
    """The config file a manager reads: given on its command line, else its default in its cwd."""
    args = _arguments(kind, argv)
    given: str | None = None
    default = "Procfile"
    base = cwd
    if kind == "honcho":
        given = _option(args, "-f", "--procfile")
        root = _option(args, "-d", "--app-root")
        if root is not None and cwd is not None:
            base = os.path.join(cwd, root)
    elif kind == "overmind":
        given = _option(args, "-f", "--procfile") or (environ or {}).get("OVERMIND_PROCFILE")
        root = _option(args, "-d", "--root")
        if root is not None and cwd is not None:
            base = os.path.join(cwd, root)
    elif kind == "hivemind":
        skip = False
        for a in args:
            if skip:
                skip = False
            elif a in _HIVEMIND_VALUED:
                skip = True
            elif not a.startswith("-"):
                given = a
                break
    elif kind == "mprocs":
        given = _option(args, "-c", "--config")
        default = "mprocs.yaml"
    else:
        return None
    if given is not None:
        return Path(given) if os.path.isabs(given) or cwd is None else Path(cwd) / given
    return Path(base) / default if base is not None else None


def mprocs_positional(argv: list[str]) -> list[Entry]:
    """`mprocs "cmd one" "cmd two"`: each command is its own entry, named by the command (as mprocs shows it)."""
    args, out, skip = _arguments("mprocs", argv), [], False
    for a in args:
        if skip:
            skip = False
        elif a in ("-c", "--config", "-s", "--server", "--names", "--npm"):
            skip = True
        elif not a.startswith("-"):
            out.append(Entry(a, shell=a))
    return out


class ConfigCache:
    """Parsed manager configs by path, read again only when the file's mtime or size changes."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[tuple[int, int], list[Entry]]] = {}

    def entries(self, kind: str, path: Path) -> list[Entry]:
        try:
            st = os.stat(path)
        except OSError:
            self._known.pop(path, None)
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        known = self._known.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        try:
            with open_regular(path) as fh:  # never a FIFO put in its place
                text = fh.read(_MAX_CONFIG_BYTES).decode("utf-8", "replace")
        except OSError:
            return []
        got = parse_mprocs(text) if kind == "mprocs" else parse_procfile(text)
        self._known[path] = (stamp, got)
        return got


def _norm(text: str) -> str:
    return " ".join(text.split())


def match(cmdline: list[str], entries: list[Entry]) -> Entry | None:
    """The entry whose command `cmdline` runs: `sh -c CMD` (exactly CMD), or what the shell exec'd."""
    if not cmdline or not entries:
        return None
    if len(cmdline) >= 3 and os.path.basename(cmdline[0]) in ("sh", "bash", "dash", "zsh") and cmdline[1] == "-c":
        wanted = _norm(cmdline[2])
        for e in entries:
            if e.shell is not None and _norm(e.shell) == wanted:
                return e
    for e in entries:
        argv: tuple[str, ...] | None = e.argv
        if argv is None and e.shell is not None:
            import shlex  # only when a manager's entries are matched

            try:
                argv = tuple(shlex.split(e.shell))
            except ValueError:
                argv = None
            if argv and argv[0] == "exec":
                argv = argv[1:]
        if not argv:
            continue
        if tuple(cmdline) == argv:
            return e
        # The shell looked the program up on PATH: compare the program by name, the arguments as given.
        if len(cmdline) == len(argv) and os.path.basename(cmdline[0]) == os.path.basename(argv[0]) and tuple(cmdline[1:]) == argv[1:]:
            return e
    return None
