"""Reading a shell command line into simple commands, statically: tokens, heredocs, substitutions, redirections.

Tokenising uses the standard library's `shlex` in POSIX mode with shell punctuation. Heredoc bodies
are taken out of the line (only a `<<WORD` outside quotes starts one) and handed to the command that
reads them; `$(…)`, backticks and `<(…)`/`>(…)` are found as commands of their own; redirections
become the `ShellWrite`s of the command they belong to. What the words mean is `shell_writes`'.
"""

from __future__ import annotations

import re
import shlex
from collections import deque
from typing import Literal, NamedTuple

Kind = Literal["path", "pattern", "code"]


class ShellSyntaxError(ValueError):
    """The command line could not be tokenised (unclosed quote, nesting too deep)."""


class ShellWrite(NamedTuple):
    kind: Kind
    text: str  # the path, the glob, or the program text
    how: str  # what writes it, for the message: "sed -i", "> redirection", "python -c"


_SEPARATOR_CHARS = frozenset(";&|()\n")
_WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&", "&>|"})
_READ_REDIRECTS = frozenset({"<", "<&"})
_GLOB = re.compile(r"[*?\[]")
_HEREDOC = re.compile(r"<<(-?)\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([A-Za-z0-9_.-]+))")


def _quote_states(line: str, state: str) -> tuple[list[str], str]:
    """The quote state ("" outside, "'" or '"' inside) before each character of `line`, and the state after it."""
    states: list[str] = []
    escaped = False
    for ch in line:
        states.append(state)
        if escaped:
            escaped = False
        elif ch == "\\" and state != "'":
            escaped = True
        elif state == "" and ch in "'\"":
            state = ch
        elif state == ch:
            state = ""
    return states, state


def strip_heredocs(text: str) -> tuple[str, deque[str]]:
    """`text` without heredoc bodies (each body kept, in order, for the command that reads it).

    Only a `<<WORD` outside quotes starts a heredoc: `echo "a <<EOF"` must not hide the lines after it.
    """
    out: list[str] = []
    bodies: deque[str] = deque()
    lines = text.split("\n")
    i = 0
    state = ""
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        states, state = _quote_states(line, state)
        for match in _HEREDOC.finditer(line):
            if states[match.start()] != "" or line[match.start() : match.start() + 3] == "<<<":
                continue  # quoted text, or a here-string
            word = match.group(2) or match.group(3) or match.group(4) or ""
            strip_tabs = bool(match.group(1))
            body: list[str] = []
            while i < len(lines):
                candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                i += 1
                if candidate == word:
                    break
                body.append(lines[i - 1])
            bodies.append("\n".join(body))
    return "\n".join(out), bodies


def substitutions(text: str) -> list[str]:
    """The commands inside `$(…)`, `<(…)`, `>(…)` and backticks (outside single quotes)."""
    found: list[str] = []
    i, quoted = 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and not quoted:
            i += 2
            continue
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "$<>" and text[i + 1 : i + 2] == "(" and text[i + 1 : i + 3] != "((":
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            found.append(text[i + 2 : j])
            i = j
        elif not quoted and ch == "`":
            j = text.find("`", i + 1)
            if j == -1:
                j = len(text)
            found.append(text[i + 1 : j])
            i = j
        i += 1
    return found


def tokenise(text: str) -> list[str]:
    """Words and shell punctuation runs of a line without heredoc bodies; ShellSyntaxError when `shlex` cannot read it."""
    text = re.sub(r"\$(['\"])", r"\1", text.replace("\\\n", " "))  # $'…' / $"…" quoting: the quoted text
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as err:
        raise ShellSyntaxError(f"cannot read the command line: {err}") from None


def _is_separator(token: str) -> bool:
    return bool(token) and set(token) <= _SEPARATOR_CHARS


def _is_redirect(token: str) -> bool:
    return bool(token) and ("<" in token or ">" in token) and set(token) <= set("<>&|")


class SimpleCommand:
    """One simple command: its words, its redirections' writes, what is fed to its stdin, its subshell level."""

    __slots__ = ("words", "writes", "stdin_code", "level")

    def __init__(self, words: list[str], writes: list[ShellWrite], stdin_code: list[str], level: int = 0) -> None:
        self.words = words
        self.writes = writes
        self.stdin_code = stdin_code  # heredoc bodies / here-strings fed to the command
        self.level = level  # subshell nesting: `( … )` scopes a `cd` and variables


def split_commands(tokens: list[str], bodies: deque[str]) -> list[SimpleCommand]:
    """The simple commands of a token list, each with its redirections' writes and the heredoc bodies it reads."""
    commands: list[SimpleCommand] = []
    level = 0
    current = SimpleCommand([], [], [], level)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if _is_separator(token):
            if current.words or current.writes or current.stdin_code:
                commands.append(current)
            level = max(0, level + token.count("(") - token.count(")"))
            current = SimpleCommand([], [], [], level)
            i += 1
            continue
        if _is_redirect(token):
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            if token in _WRITE_REDIRECTS:
                if not (token in (">&",) and (target.isdigit() or target == "-")):
                    current.writes.append(ShellWrite(write_kind(target), target, f"{token} redirection"))
                i += 2
            elif token in ("<<", "<<-"):
                current.stdin_code.append(bodies.popleft() if bodies else "")
                i += 2
            elif token == "<<<":
                current.stdin_code.append(target)
                i += 2
            elif token in _READ_REDIRECTS or token.startswith("<"):
                i += 2
            else:  # an odd run such as `>>>`: treat as a write to be safe
                current.writes.append(ShellWrite(write_kind(target), target, f"{token} redirection"))
                i += 2
            continue
        current.words.append(token)
        i += 1
    if current.words or current.writes or current.stdin_code:
        commands.append(current)
    return commands


def write_kind(word: str) -> Kind:
    """A written word is a `pattern` when it holds a glob character, else a `path`."""
    return "pattern" if _GLOB.search(word) else "path"
