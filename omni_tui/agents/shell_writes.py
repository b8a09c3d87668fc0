"""Which files a shell command line would write: a conservative static reading, pure (no file system, no shell).

Agents run shell commands through their own tools (Claude Code's `Bash`, Codex's shell, Gemini's
`run_shell_command`). `shell_writes(command)` lists what such a command would write so the hooks
can refuse a write to a guarded file and point at the proposal route instead. It is a guard rail
for well-meaning agents, not a sandbox (that is `omni-tui run`): what it reads is documented in
docs/agents.md ("What the shell check catches"), and everything it cannot read is listed there too.

Tokenising uses the standard library's `shlex` in POSIX mode with shell punctuation (bashlex, the
one full bash parser for Python, is GPL-3.0 and this project is MIT). On top of `shlex`:
`$(…)`, backticks and `<(…)`/`>(…)` are read as commands of their own; heredoc bodies are taken
out of the line and handed to the command that reads them (a shell or an interpreter reading its
program from stdin); `bash -c`, `sh -c`, `eval`, `su -c`, `xargs`, `find -exec`, `sudo`, `env`,
`nice`, `timeout`, `command`, `exec` … are looked through. Reading the line into simple commands is
`shell_syntax`'s; this module says what each command's words write.

Results are `ShellWrite`s of three kinds:
- `path`: a word naming a file the command writes (as written: relative to the command's cwd,
  or absolute; `~` not expanded);
- `pattern`: a glob the command writes through (`rm devenv.*`); compare it with the names;
- `code`: program text given to an interpreter (`python -c …`, `node -e …`, a heredoc): whether
  it writes cannot be known, so the caller refuses it when it names a guarded file at all.
A command `shlex` cannot tokenise (an unclosed quote) raises `ShellSyntaxError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from omni_tui.agents.shell_syntax import (
    ShellSyntaxError,
    ShellWrite,
    SimpleCommand,
    split_commands,
    strip_heredocs,
    substitutions,
    tokenise,
    write_kind,
)

MAX_DEPTH = 8  # nested `bash -c "bash -c …"`: deeper than this is refused as unreadable


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")


SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "busybox-sh"})
INTERPRETERS = frozenset(
    {
        "python",
        "python2",
        "python3",
        "pypy",
        "pypy3",
        "node",
        "nodejs",
        "deno",
        "bun",
        "perl",
        "ruby",
        "php",
        "lua",
        "luajit",
        "Rscript",
        "tclsh",
        "nix",
        "nix-instantiate",
        "jq",
        "awk",
        "gawk",
        "mawk",
        "nawk",
        "osascript",
        "pwsh",
        "powershell",
    }
)
# Options that take the program text as their value, per interpreter family.
_CODE_OPTIONS = {
    "python": ("-c",),
    "node": ("-e", "--eval", "-p", "--print"),
    "deno": ("eval",),
    "bun": ("-e", "--eval"),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "php": ("-r",),
    "lua": ("-e",),
    "Rscript": ("-e",),
    "tclsh": (),
    "nix": ("--expr",),
    "nix-instantiate": ("--expr", "-E"),
    "pwsh": ("-c", "-Command"),
    "osascript": ("-e",),
}
# Commands that write every file they are given.
ALL_ARGS_WRITERS = frozenset({"tee", "truncate", "rm", "unlink", "shred", "touch", "sponge", "fallocate", "srm"})
# Commands whose last argument (or -t DIR) is the destination.
COPIERS = frozenset({"cp", "install", "ln", "rsync", "mv", "link"})
# Wrappers whose remaining words are another command (after their own options).
_WRAPPERS = {
    "sudo": {"-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D"},
    "doas": {"-u", "-C"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir"},
    "nice": {"-n", "--adjustment"},
    "nohup": set(),
    "time": {"-f", "-o"},
    "command": set(),
    "exec": {"-a"},
    "builtin": set(),
    "stdbuf": {"-i", "-o", "-e"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "chronic": set(),
    "ionice": {"-c", "-n", "-p"},
    "chrt": set(),
    "taskset": set(),
    "setsid": set(),
    "unbuffer": set(),
    "flock": {"-w", "-E", "-c"},
    "xargs": {
        "-a",
        "-d",
        "-E",
        "-e",
        "-I",
        "-i",
        "-L",
        "-l",
        "-n",
        "-P",
        "-s",
        "--arg-file",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--replace",
    },
    "watch": {"-n", "-d"},
    "strace": {"-o", "-e", "-p"},
    "fakeroot": set(),
    "unshare": set(),
}


def _base(word: str) -> str:
    name = word.rsplit("/", 1)[-1]
    if re.fullmatch(r"python[0-9.]*", name):
        return "python"
    if name in ("nodejs",):
        return "node"
    return name


def _operands(words: list[str], with_value: Iterable[str] = ()) -> list[str]:
    """Non-option words (after `--` everything), skipping the values of options in `with_value`."""
    takes = set(with_value)
    out: list[str] = []
    i, literal = 0, False
    while i < len(words):
        word = words[i]
        if literal or not word.startswith("-") or word == "-":
            out.append(word)
        elif word == "--":
            literal = True
        elif word in takes:
            i += 1
        i += 1
    return out


def _short_flags(words: list[str]) -> list[str]:
    return [w for w in words if w.startswith("-") and not w.startswith("--") and len(w) > 1]


def _unwrap(words: list[str]) -> list[str]:
    """Drop leading assignments and wrapper commands (`sudo -u x env A=1 nice -n 5 cmd …` → `cmd …`)."""
    for _ in range(16):
        while words and _ASSIGNMENT.match(words[0]):
            words = words[1:]
        if not words:
            return words
        name = _base(words[0])
        if name not in _WRAPPERS:
            return words
        takes = _WRAPPERS[name]
        i = 1
        while i < len(words):
            word = words[i]
            if word == "--":
                i += 1
                break
            if word.startswith("-") and word != "-":
                i += 2 if word in takes else 1
                continue
            if name == "env" and _ASSIGNMENT.match(word):
                i += 1
                continue
            if name == "timeout" and re.fullmatch(r"[0-9.]+[smhd]?", word):
                i += 1
                break
            if name in ("nice", "ionice", "chrt", "taskset") and re.fullmatch(r"[0-9a-fx,-]+", word):
                i += 1
                continue
            break
        words = words[i:]
    return words


def _destinations(words: list[str], how: str, *, sources_written: bool, source_how: str | None = None) -> list[ShellWrite]:
    """cp/mv/ln/install/rsync: the destination (and DEST/basename(src) for a directory destination)."""
    target_dir: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-t", "--target-directory") and i + 1 < len(words):
            target_dir = words[i + 1]
            i += 2
            continue
        if word.startswith("--target-directory="):
            target_dir = word.split("=", 1)[1]
        elif word.startswith("-t") and len(word) > 2 and not word.startswith("--"):
            target_dir = word[2:]
        elif word in ("-S", "--suffix", "-m", "--mode", "-o", "--owner", "-g", "--group", "-e", "--rsh"):
            i += 2
            continue
        rest.append(word)
        i += 1
    operands = _operands(rest)
    writes: list[ShellWrite] = []
    if target_dir is not None:
        dest, sources = target_dir, operands
    elif len(operands) >= 2:
        dest, sources = operands[-1], operands[:-1]
        writes.append(ShellWrite(write_kind(dest), dest, how))
    else:
        return [ShellWrite(write_kind(w), w, source_how or how) for w in operands] if sources_written else []
    for source in sources:
        name = source.rstrip("/").rsplit("/", 1)[-1]
        if name:
            joined = dest.rstrip("/") + "/" + name
            writes.append(ShellWrite(write_kind(joined), joined, how))
        if sources_written:
            writes.append(ShellWrite(write_kind(source), source, source_how or how))
    return writes


def _code_values(words: list[str], options: tuple[str, ...]) -> list[str]:
    """Program texts given with `-c CODE`, `-e CODE`, `--eval=CODE` or clusters like `-pe CODE`."""
    out: list[str] = []
    for i, word in enumerate(words):
        for option in options:
            if word == option and i + 1 < len(words):
                out.append(words[i + 1])
            elif option.startswith("--") and word.startswith(option + "="):
                out.append(word.split("=", 1)[1])
            elif (
                len(option) == 2
                and word.startswith("-")
                and not word.startswith("--")
                and len(word) > 2
                and word[1:].isalpha()
                and word.endswith(option[1])
                and i + 1 < len(words)
            ):
                out.append(words[i + 1])  # -pe CODE, -lc CODE
    return out


def _simple_writes(cmd: SimpleCommand, depth: int) -> list[ShellWrite]:
    writes = list(cmd.writes)
    words = _unwrap(cmd.words)
    if not words:
        return writes
    name = _base(words[0])
    args = words[1:]
    if name in ("sudo", "su") and "-c" in args:
        name = "su"
    if name == "su":
        for code in _code_values(args, ("-c", "--command")):
            writes += _analyse(code, depth + 1)
        return writes
    if name in SHELLS:
        codes = _code_values(args, ("-c",))
        for code in codes:
            writes += _analyse(code, depth + 1)
        if not codes:
            for body in cmd.stdin_code:
                writes += _analyse(body, depth + 1)
            if _operands(args):  # `bash script.sh`: a program we cannot see
                writes += [ShellWrite("code", w, f"{name} script") for w in _operands(args)[:1]]
        return writes
    if name == "eval":
        return writes + _analyse(" ".join(args), depth + 1)
    if name in ALL_ARGS_WRITERS:
        return writes + [ShellWrite(write_kind(w), w, name) for w in _operands(args, ("-s", "--size", "-n", "-l", "-o"))]
    if name == "dd":
        return writes + [ShellWrite(write_kind(w[3:]), w[3:], "dd of=") for w in args if w.startswith("of=")]
    if name == "sed":
        if any(w.startswith("--in-place") for w in args) or any("i" in f[1:] for f in _short_flags(args) if f[1] != "e"):
            return writes + [ShellWrite(write_kind(w), w, "sed -i") for w in _operands(args, ("-e", "-f", "-l", "--expression", "--file"))]
        return writes
    if name in ("perl", "ruby"):
        codes = _code_values(args, ("-e", "-E"))
        writes += [ShellWrite("code", code, f"{name} -e") for code in codes]
        if any("i" in f[1:].split(".")[0] for f in _short_flags(args) if not f.startswith(("-e", "-E", "-I", "-M", "-m", "-x"))):
            writes += [
                ShellWrite(write_kind(w), w, f"{name} -i") for w in _operands(args, ("-e", "-E", "-I", "-M", "-m", "-r")) if w not in codes
            ]
        elif not codes:
            writes += [ShellWrite("code", body, f"{name} (stdin)") for body in cmd.stdin_code]
        return writes
    if name in ("awk", "gawk"):
        if any(w in ("inplace", "-iinplace", "--include=inplace") for w in args):
            ops = _operands(args, ("-i", "-f", "-v", "-F", "--include"))
            return writes + [ShellWrite(write_kind(w), w, f"{name} -i inplace") for w in ops[1:]]
        return writes + [ShellWrite("code", w, name) for w in _operands(args, ("-f", "-v", "-F"))[:1]]
    if name in ("ln", "link") or (
        name == "cp" and any(w in ("-l", "--link") or (w.startswith("-") and not w.startswith("--") and "l" in w[1:]) for w in args)
    ):
        # A link to a guarded file is a second name for it: a later write through that name (or a swap
        # between a hook's check and the tool's write) would reach the guarded bytes.
        return writes + _destinations(args, name, sources_written=True, source_how=f"{name} (a link to it)")
    if name in COPIERS:
        return writes + _destinations(args, name, sources_written=name == "mv")
    if name == "patch":
        return writes + [
            ShellWrite(write_kind(w), w, "patch") for w in _operands(args, ("-p", "-i", "-d", "-D", "-F", "-z", "-B", "-V", "-Y", "-r"))
        ]
    if name == "git" and args:
        sub = _operands(args, ("-C", "-c", "--git-dir", "--work-tree"))
        if sub and sub[0] in ("checkout", "restore", "rm", "mv", "apply"):
            return writes + [ShellWrite(write_kind(w), w, f"git {sub[0]}") for w in sub[1:]]
        return writes
    if name == "find":
        if any(w in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls") for w in args):
            patterns = [args[i + 1] for i, w in enumerate(args[:-1]) if w in ("-name", "-iname", "-path", "-wholename", "-ipath")]
            writes += [ShellWrite("pattern", p, "find -delete/-exec") for p in patterns]  # matched anywhere below
            for i, w in enumerate(args):
                if w in ("-exec", "-execdir", "-ok", "-okdir"):
                    inner = []
                    for word in args[i + 1 :]:
                        if word in (";", "+", "\\;"):
                            break
                        inner.append(word)
                    writes += _simple_writes(SimpleCommand(inner, [], []), depth + 1)
        return writes
    if name in INTERPRETERS or name in _CODE_OPTIONS:
        family = name if name in _CODE_OPTIONS else ("node" if name in ("nodejs",) else name)
        codes = _code_values(args, _CODE_OPTIONS.get(family, ("-c", "-e")))
        writes += [ShellWrite("code", code, f"{name} {'-c' if family == 'python' else '-e'}") for code in codes]
        if not codes:
            writes += [ShellWrite("code", body, f"{name} (stdin)") for body in cmd.stdin_code]
        return writes
    return writes


_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_DECLARERS = frozenset({"export", "declare", "typeset", "local", "readonly"})
UNKNOWN_DIR = "$UNKNOWN_DIR"  # a `cd` whose target cannot be read: later relative paths fall under the `$` rule


class _Scope:
    __slots__ = ("cwd", "variables")

    def __init__(self, cwd: str | None, variables: dict[str, str]) -> None:
        self.cwd = cwd  # "" = where the command starts; None = unknown after a `cd` that cannot be read
        self.variables = variables


def _expand(word: str, variables: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), word)


def _assignments(words: list[str]) -> dict[str, str] | None:
    """`A=1 B=2` or `export A=1` alone on a command: the variables set; None for any other command."""
    rest = words[1:] if words and words[0] in _DECLARERS else words
    found = [w for w in rest if not w.startswith("-")]
    if not found or not all(_ASSIGNMENT.match(w) for w in found) or (words[0] not in _DECLARERS and rest != found):
        return None
    return {w.split("=", 1)[0].rstrip("+"): w.split("=", 1)[1] for w in found}


def _cd(scope: _Scope, words: list[str]) -> str | None:
    """Where `cd`/`pushd ARGS` leaves the shell, relative to the start ("" there), or None when unknowable."""
    args = [w for w in words[1:] if not (w.startswith("-") and w != "-")]
    if not args:
        return "~"
    target = args[0]
    if target == "-" or "$" in target or "`" in target:
        return None
    if target.startswith(("/", "~")):
        return target
    if scope.cwd is None:
        return None
    return f"{scope.cwd}/{target}" if scope.cwd else target


def _rebase(write: ShellWrite, cwd: str | None) -> ShellWrite:
    if write.kind == "code" or cwd == "" or write.text.startswith(("/", "~")):
        return write
    return ShellWrite(write.kind, f"{UNKNOWN_DIR if cwd is None else cwd}/{write.text}", write.how)


def _analyse(command: str, depth: int) -> list[ShellWrite]:
    if depth > MAX_DEPTH:
        raise ShellSyntaxError("the command nests shells more than 8 deep")
    text, bodies = strip_heredocs(command)
    writes: list[ShellWrite] = []
    for inner in substitutions(text):
        writes += _analyse(inner, depth + 1)
    scopes: dict[int, _Scope] = {0: _Scope("", {})}
    for simple in split_commands(tokenise(text), bodies):
        for level in [lv for lv in scopes if lv > simple.level]:
            del scopes[level]  # the subshell ended: its cd and variables with it
        if simple.level not in scopes:
            outer = scopes[max(lv for lv in scopes if lv < simple.level)]
            scopes[simple.level] = _Scope(outer.cwd, dict(outer.variables))
        scope = scopes[simple.level]
        simple.words = [_expand(w, scope.variables) for w in simple.words]
        simple.writes = [ShellWrite(write_kind(t := _expand(w.text, scope.variables)), t, w.how) for w in simple.writes]
        assigned = _assignments(simple.words)
        if assigned is not None:
            scope.variables.update(assigned)
        elif simple.words and _base(simple.words[0]) in ("cd", "pushd", "popd", "chdir"):
            scope.cwd = _cd(scope, simple.words) if _base(simple.words[0]) != "popd" else None
        writes += [_rebase(w, scope.cwd) for w in _simple_writes(simple, depth)]
    return writes


def shell_writes(command: str) -> list[ShellWrite]:
    """Everything `command` would write that can be read statically (see the module docstring)."""
    seen: set[tuple[str, str]] = set()
    out: list[ShellWrite] = []
    for write in _analyse(command, 0):
        if write.text and (write.kind, write.text) not in seen:
            seen.add((write.kind, write.text))
            out.append(write)
    return out
