"""Syntax highlighting as data: pygments tokens → `(start, end, token_type)` spans per line.

Lazy: a `Highlighter` consumes the lexer's token stream only as far as the furthest line asked
for, so showing the top of a 5,000-line file lexes only its top, and multi-line strings are still
right because the text is lexed from its start in one pass. Spans of lines already lexed are kept.
`token_type` is one of `TOKEN_TYPES`, a small vocabulary the view maps to theme colours.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Literal, Name, Number, Operator, Punctuation, String, Token, _TokenType

Span = tuple[int, int, str]

_NEWLINE = re.compile("\n")

TOKEN_TYPES = (
    "keyword",
    "builtin",
    "constant",
    "string",
    "interpolation",
    "escape",
    "attribute",
    "path",
    "number",
    "comment",
    "operator",
    "punctuation",
    "function",
    "variable",
    "error",
)

# Checked in order: the first token family containing the token's type wins.
_FAMILIES: tuple[tuple[_TokenType, str], ...] = (
    (Token.Error, "error"),
    (Comment, "comment"),
    (Keyword.Constant, "constant"),
    (Keyword, "keyword"),
    (Name.Builtin, "builtin"),
    (Name.Constant, "constant"),
    (Name.Function, "function"),
    (Name.Variable, "variable"),
    (Name.Attribute, "attribute"),
    (Name.Tag, "attribute"),
    (String.Interpol, "interpolation"),
    (String.Escape, "escape"),
    (String.Symbol, "attribute"),  # Nix attribute names: `enable = true;`
    (String, "string"),
    (Number, "number"),
    (Operator, "operator"),
    (Punctuation, "punctuation"),
)

# Guarded files by name/suffix → pygments lexer alias.
_LANGUAGES: tuple[tuple[str, str], ...] = (
    (".nix", "nix"),
    (".envrc", "bash"),
    (".sh", "bash"),
    (".yaml", "yaml"),
    (".yml", "yaml"),
    (".toml", "toml"),
    (".json", "json"),
)


def language_for(path: str) -> str | None:
    """The pygments lexer alias for a file name, or None for plain text."""
    name = path.rsplit("/", 1)[-1]
    for suffix, language in _LANGUAGES:
        if name == suffix.lstrip(".") or name.endswith(suffix):
            return language
    return None


@lru_cache(maxsize=None)
def token_type(ttype: _TokenType) -> str | None:
    """The `TOKEN_TYPES` entry for a pygments token type; None for plain text."""
    for family, name in _FAMILIES:
        if ttype in family:
            return name
    if ttype in Literal and ttype is not Literal.String:
        return "path" if ttype is Literal else None  # Nix paths come out as bare Literal
    return None


@lru_cache(maxsize=8)
def _lexer(language: str) -> Lexer:
    # No newline stripping or adding: token offsets must index the text as given.
    return get_lexer_by_name(language, stripnl=False, stripall=False, ensurenl=False)


class Highlighter:
    """Per-line spans of `text` (lines split on "\\n", as `textdiff.split_lines` does)."""

    def __init__(self, text: str, language: str | None) -> None:
        self.text = text
        self.language = language
        self._starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        self._lines: list[list[Span]] = [[] for _ in self._starts]
        self._tokens: Iterator[tuple[int, _TokenType, str]] | None = (
            _lexer(language).get_tokens_unprocessed(text) if language and text else None
        )
        self._lexed_to = 0 if self._tokens is not None else len(text) + 1  # text offset lexed so far

    @property
    def lexed_to(self) -> int:
        """How far into the text the lexer has run (shows the laziness to tests and benchmarks)."""
        return min(self._lexed_to, len(self.text))

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line(self, n: int) -> tuple[Span, ...]:
        """Spans of line `n` (0-based), offsets within the line; () past the end or for plain text."""
        if not 0 <= n < len(self._starts):
            return ()
        end = self._starts[n + 1] if n + 1 < len(self._starts) else len(self.text)
        if self._lexed_to < end:
            self._lex_until(end)
        return tuple(self._lines[n])

    def _lex_until(self, offset: int) -> None:
        """Consume tokens until every token starting before `offset` is recorded."""
        if self._tokens is None:
            return
        for index, ttype, value in self._tokens:
            kind = token_type(ttype)
            stop = index + len(value)
            if kind is not None and value:
                self._add(index, stop, kind)
            self._lexed_to = stop
            if stop >= offset:
                return
        self._tokens = None
        self._lexed_to = len(self.text) + 1

    def _add(self, start: int, stop: int, kind: str) -> None:
        """Record the token [start, stop) on every line it covers (multi-line strings span several)."""
        starts = self._starts
        # the line holding `start`: binary search over line starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= start:
                lo = mid
            else:
                hi = mid - 1
        n = lo
        while n < len(starts) and starts[n] < stop:
            line_start = starts[n]
            line_end = starts[n + 1] - 1 if n + 1 < len(starts) else len(self.text)  # excluding "\n"
            a, b = max(start, line_start), min(stop, line_end)
            if b > a:
                spans = self._lines[n]
                a, b = a - line_start, b - line_start
                if spans and spans[-1][1] == a and spans[-1][2] == kind:
                    spans[-1] = (spans[-1][0], b, kind)
                else:
                    spans.append((a, b, kind))
            n += 1


@lru_cache(maxsize=32)
def highlighter_for(text: str, language: str | None) -> Highlighter:
    """A shared, cached Highlighter for `text` (the same text is highlighted once)."""
    return Highlighter(text, language)


def highlight_lines(text: str, language: str | None) -> list[tuple[Span, ...]]:
    """Spans of every line at once (for callers that want the whole file)."""
    h = highlighter_for(text, language)
    return [h.line(n) for n in range(h.line_count)]
