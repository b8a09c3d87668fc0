"""Syntax highlighting as data: pygments tokens → `(start, end, token_type)` spans per line.

Lazy: only the lines asked for are lexed. For pygments' regex lexers (Nix among them) a fast pass
finds the lexer's state stack at each line start, so a line inside a multi-line string is still a
string, and that line alone is then lexed from that state; for other lexers the token stream is
consumed from the start only as far as the furthest line asked for. Results are kept per line.
pygments itself is imported on first use; `prepare(language)` does that and builds the lexer ahead.
`token_type` is one of `TOKEN_TYPES`, a small vocabulary the view maps to theme colours.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pygments.lexer import Lexer, RegexLexer
    from pygments.token import _TokenType

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


@lru_cache(maxsize=1)
def _families() -> tuple[tuple[_TokenType, str], ...]:
    """Checked in order: the first token family containing the token's type wins."""
    from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Token

    return (
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


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of `a` and `b` (binary search over C-level compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


@cache
def token_type(ttype: _TokenType) -> str | None:
    """The `TOKEN_TYPES` entry for a pygments token type; None for plain text."""
    from pygments.token import Literal

    for family, name in _families():
        if ttype in family:
            return name
    if ttype in Literal and ttype is not Literal.String:
        return "path" if ttype is Literal else None  # Nix paths come out as bare Literal
    return None


@lru_cache(maxsize=8)
def _lexer(language: str) -> Lexer:
    from pygments.lexers import get_lexer_by_name

    # No newline stripping or adding: token offsets must index the text as given.
    return get_lexer_by_name(language, stripnl=False, stripall=False, ensurenl=False)


Stack = tuple[str, ...]


class _StateTracker:
    """Follows a `RegexLexer`'s state stack through a text without producing tokens.

    It applies the lexer's own rules with its own semantics (first rule that matches at the
    position wins, the same push/pop handling, the same reset at an unmatched newline), but each
    state's rules are one combined regex, so a step is one C-level match instead of a Python loop
    over the rules. That makes finding the stack at the start of line 4,000 cheap, and each line
    on screen is then lexed alone, starting from that stack.
    """

    def __init__(self, lexer: RegexLexer) -> None:
        self._tokens = lexer._tokens  # compiled: state -> [(rexmatch, action, new_state)]
        self._combined: dict[str, tuple[re.Pattern[str], dict[int, object]]] = {}
        for state, rules in self._tokens.items():
            patterns = [rexmatch.__self__.pattern for rexmatch, _, _ in rules]
            flags = rules[0][0].__self__.flags if rules else 0
            # raises re.error for rules that cannot be combined (inline flags, numbered backrefs)
            combined = re.compile("|".join(f"(?P<r{n}>{p})" for n, p in enumerate(patterns)), flags)
            # a match's lastindex is its rule's wrapping group (rules may hold groups of their own)
            by_group = {combined.groupindex[f"r{n}"]: new for n, (_, _, new) in enumerate(rules)}
            self._combined[state] = (combined, by_group)

    @staticmethod
    def usable(lexer: Lexer) -> bool:
        from pygments.lexer import ExtendedRegexLexer, RegexLexer

        if not isinstance(lexer, RegexLexer) or isinstance(lexer, ExtendedRegexLexer):
            return False
        for rules in lexer._tokens.values():
            for rexmatch, _action, _new in rules:
                if re.search(r"\\[1-9]|\(\?P=|\(\?[aiLmsux]+\)", rexmatch.__self__.pattern):
                    return False
        return True

    def line_stacks(self, text: str, starts: list[int], first: int = 0, stack0: Stack = ("root",)) -> Iterator[Stack]:
        """The stack in effect at each offset of `starts` (ascending), yielded in order.

        With `first`, the pass resumes at `starts[first]` in state `stack0` (known from before).
        """
        stack: list[str] = list(stack0)
        frozen: Stack = stack0
        combined = self._combined
        pattern, transitions = combined[stack[-1]]
        pos = starts[first] if first < len(starts) else len(text)
        k = first
        count = len(starts)
        size = len(text)
        while k < count:
            m = pattern.match(text, pos)
            if m is not None:
                end = m.end()
                while k < count and (starts[k] < end or starts[k] == pos):
                    yield frozen
                    k += 1
                new_state = transitions[m.lastindex]  # type: ignore[index]
                if new_state is None:
                    pos = end if end > pos else pos + 1  # an empty match would never advance
                    continue
                pos = end
                if isinstance(new_state, tuple):
                    for state in new_state:
                        if state == "#pop":
                            if len(stack) > 1:
                                stack.pop()
                        elif state == "#push":
                            stack.append(stack[-1])
                        else:
                            stack.append(state)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(stack):
                        del stack[1:]
                    else:
                        del stack[new_state:]
                elif new_state == "#push":
                    stack.append(stack[-1])
                frozen = tuple(stack)
                pattern, transitions = combined[stack[-1]]
                continue
            if pos >= size:
                break
            while k < count and starts[k] <= pos:
                yield frozen
                k += 1
            if text[pos] == "\n":
                stack = ["root"]
                frozen = ("root",)
                pattern, transitions = combined["root"]
            pos += 1
        while k < count:
            yield frozen
            k += 1


class Highlighter:
    """Per-line spans of `text` (lines split on "\\n", as `linematch.split_lines` does).

    For regex-based lexers (Nix, Bash, YAML, TOML, JSON) a line is lexed alone, starting from the
    lexer state at its start, which a fast state pass finds; other lexers lex the text from the
    start, only as far as the furthest line asked for. `per_line=False` forces the second way.
    """

    def __init__(self, text: str, language: str | None, *, per_line: bool = True, previous: Highlighter | None = None) -> None:
        """`previous`: the highlighter of an earlier version of this text (a live edit); what it
        worked out for the lines before the first changed character is reused."""
        self.text = text
        self.language = language
        self._starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        self._lines: list[list[Span]] = []  # spans per line, when lexing the whole text
        self._lexer = _lexer(language) if language and text else None
        self._tracker: _StateTracker | None = None
        if self._lexer is not None and per_line and _StateTracker.usable(self._lexer):
            try:
                self._tracker = _tracker(language)
            except re.error:
                self._tracker = None
        self._stacks: list[Stack] = []
        self._reference: Highlighter | None = None
        self._line_map: list[int] = []
        self._run_end: list[int] = []
        self._pending: Stack = ("root",)
        self._stack_iter: Iterator[Stack] | None = None
        self._done: dict[int, tuple[Span, ...]] = {}
        self._tokens: Iterator[tuple[int, _TokenType, str]] | None = None
        if self._lexer is not None and self._tracker is None:
            self._lines = [[] for _ in self._starts]
            self._tokens = self._lexer.get_tokens_unprocessed(text)
        elif self._tracker is not None:
            first, stack0 = self._reuse(previous)
            self._stack_iter = self._tracker.line_stacks(text, self._starts, first, stack0)
        self._lexed_to = 0 if self._lexer is not None else len(text) + 1  # text offset lexed so far

    def _reuse(self, previous: Highlighter | None) -> tuple[int, Stack]:
        """Take over `previous`'s line stacks and spans up to the first changed line."""
        if previous is None or previous._tracker is not self._tracker or previous.language != self.language or not previous._stacks:
            return 0, ("root",)
        same = _common_prefix(previous.text, self.text)
        # the stack at the start of the line holding the first change still holds (it depends
        # only on the text before it), and every line before that is unchanged
        changed_line = bisect_right(self._starts, same) - 1
        keep = min(changed_line + 1, len(previous._stacks))
        self._stacks = previous._stacks[: keep - 1]
        self._done = {n: spans for n, spans in previous._done.items() if n < min(changed_line, keep)}
        return keep - 1, previous._stacks[keep - 1]

    @property
    def lexed_to(self) -> int:
        """How far into the text the lexer (or the state pass) has run: shows the laziness."""
        return min(self._lexed_to, len(self.text))

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def advance(self, lines: int) -> bool:
        """Work out up to `lines` more lines ahead of any request — the lexer states at their starts
        (or their tokens, for lexers lexed from the start) — so that a later jump far down the text
        (`end` in a 5,000-line diff) does not pay for the whole pass at once. True when nothing is
        left to work out."""
        if self._tracker is not None:
            target = min(len(self._stacks) + lines, len(self._starts)) - 1
            if target >= len(self._stacks):
                self._stack_at(target)
                self._lexed_to = max(self._lexed_to, self._starts[min(len(self._stacks), len(self._starts) - 1)])
            return len(self._stacks) >= len(self._starts)
        if self._tokens is not None:
            line = bisect_right(self._starts, self._lexed_to) - 1
            stop = line + max(lines, 1)
            self._lex_until(self._starts[stop] if stop < len(self._starts) else len(self.text))
        return self._tokens is None

    def line(self, n: int) -> tuple[Span, ...]:
        """Spans of line `n` (0-based), offsets within the line; () past the end or for plain text."""
        if not 0 <= n < len(self._starts):
            return ()
        if self._tracker is not None:
            return self._line_alone(n)
        if self._lexer is None:
            return ()
        end = self._starts[n + 1] if n + 1 < len(self._starts) else len(self.text)
        if self._lexed_to < end:
            self._lex_until(end)
        return tuple(self._lines[n])

    def align(self, reference: Highlighter, line_map: list[int]) -> None:
        """Borrow line states from `reference`, the highlighter of a text this one mostly shares.

        `line_map[n]` is the reference line equal to line `n` of this text, or -1 (a diff's
        matching lines). Wherever this text's state pass reaches an unchanged line in the same
        state as the reference at its twin, the states up to the next change are the reference's,
        so the old side of a diff costs a pass over its changed lines only.
        """
        if self._tracker is None or reference._tracker is not self._tracker or reference is self:
            return
        self._reference = reference
        self._line_map = line_map
        # _run_end[k]: the first line after the run of consecutive matches that line k is in
        run_end = [0] * len(line_map)
        for k in range(len(line_map) - 1, -1, -1):
            if line_map[k] >= 0 and k + 1 < len(line_map) and line_map[k + 1] == line_map[k] + 1:
                run_end[k] = run_end[k + 1]
            else:
                run_end[k] = k + 1
        self._run_end = run_end

    def _stack_at(self, n: int) -> Stack:
        """The lexer state at the start of line `n` (0 <= n < line_count)."""
        stacks = self._stacks
        if self._reference is None:
            while len(stacks) <= n:
                stacks.append(next(self._stack_iter))  # type: ignore[arg-type]
            return stacks[n]
        ref, line_map, last = self._reference, self._line_map, len(self._starts) - 1
        while len(stacks) <= n:
            k = len(stacks)
            if self._stack_iter is not None:
                stack = next(self._stack_iter)
            else:
                stack = self._pending
            stacks.append(stack)
            twin = line_map[k] if k < len(line_map) else -1
            if twin >= 0 and twin < ref.line_count - 1 and k < last and ref._stack_at(twin) == stack:
                # Same state, same line: the next line starts in the reference's state too, and
                # so on through this run of equal lines; copy the reference's states for it.
                run = min(self._run_end[k], n + 1, last) - k  # lines k+1 .. k+run-1 are copied
                ref._stack_at(twin + run)
                stacks.extend(ref._stacks[twin + 1 : twin + run])
                self._pending = ref._stacks[twin + run]
                self._stack_iter = None
            elif self._stack_iter is None and k < last:
                assert self._tracker is not None
                self._stack_iter = self._tracker.line_stacks(self.text, self._starts, k, stack)
                next(self._stack_iter)  # line k itself, known already
        return stacks[n]

    def _line_alone(self, n: int) -> tuple[Span, ...]:
        done = self._done.get(n)
        if done is not None:
            return done
        self._stack_at(n)
        self._lexed_to = max(self._lexed_to, self._starts[min(len(self._stacks), len(self._starts) - 1)])
        start = self._starts[n]
        end = self._starts[n + 1] - 1 if n + 1 < len(self._starts) else len(self.text)
        spans: list[Span] = []
        assert self._lexer is not None
        for index, ttype, value in self._lexer.get_tokens_unprocessed(self.text[start:end], stack=self._stacks[n]):
            kind = token_type(ttype)
            if kind is None or not value:
                continue
            if spans and spans[-1][1] == index and spans[-1][2] == kind:
                spans[-1] = (spans[-1][0], index + len(value), kind)
            else:
                spans.append((index, index + len(value), kind))
        result = tuple(spans)
        self._done[n] = result
        return result

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


@lru_cache(maxsize=8)
def _tracker(language: str) -> _StateTracker:
    return _StateTracker(_lexer(language))


_prepared: set[str] = set()


def prepare(language: str | None) -> None:
    """Build `language`'s lexer and state tracker now (importing pygments the first time): the
    once-per-process cost of highlighting it, which a view can put after its first frame."""
    if language and language not in _prepared:
        lexer = _lexer(language)
        if _StateTracker.usable(lexer):
            try:
                _tracker(language)
            except re.error:
                pass
        _prepared.add(language)


def prepared_any() -> bool:
    """Whether any language has been prepared in this process (highlighting has started)."""
    return bool(_prepared)


def prepared(language: str | None) -> bool:
    """Whether highlighting `language` starts without that cost (`prepare` done, or plain text)."""
    return not language or language in _prepared


@lru_cache(maxsize=32)
def highlighter_for(text: str, language: str | None) -> Highlighter:
    """A shared, cached Highlighter for `text` (the same text is highlighted once)."""
    return Highlighter(text, language)


def highlight_lines(text: str, language: str | None) -> list[tuple[Span, ...]]:
    """Spans of every line at once (for callers that want the whole file)."""
    h = highlighter_for(text, language)
    return [h.line(n) for n in range(h.line_count)]
