"""Escape-sequence sanitising for any text bound for the screen: SGR colours become styled spans.

Kept: SGR (16/256/truecolour, bold, dim, italic, underline, blink, reverse, strike, resets) as spans
with Rich style strings. Dropped: every other escape — CSI (cursor movement, clears, bracketed
paste, ...), OSC (titles, OSC 52 clipboard, hyperlinks; BEL- or ST-terminated), DCS, APC, PM, SOS,
two-byte ESC sequences and C1 controls (0x80-0x9f). Other control characters are shown visibly as
Unicode control pictures (BEL → ␇); tabs are expanded to 8-column stops; invisible format characters
(bidi controls, zero-width characters, `FORMAT_CHARS`) are shown escaped (`\\u202e`).

`inert(text)` is the one function that makes agent text (titles, names, rationale, file names) safe
for any display: the CLI's plain output, the cockpit's widgets, hook and MCP stderr.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

# Invisible code points that change how the text around them is shown or read: every Unicode "Cf"
# (format) character — bidi embeddings/overrides/isolates U+202A–U+202E and U+2066–U+2069, zero-width
# U+200B–U+200F, U+2060–U+2064, BOM U+FEFF, soft hyphen, tags U+E0000–U+E007F, ... — the line and
# paragraph separators U+2028/U+2029, the Hangul fillers that draw as blank, and lone surrogates
# (undecodable bytes from `surrogateescape`). tests/test_inert_text.py checks this against unicodedata.
FORMAT_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f\ud800-\udfff"
)

# Anything that is not plain printable text (tab included, since it gets expanded).
_NEEDS_WORK = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{FORMAT_CHARS}]")

# Matched at a position where `_NEEDS_WORK` found something; the alternative's name says what it is.
# Compiled by the first line that needs it (`_token`): the agent commands print JSON and never
# sanitise a styled line, and every `status`, `propose` and hook imports this module (≈ 1 ms).
_TOKEN_PATTERN = r"""
      (?P<csi>(?:\x1b\[|\x9b) (?P<params>[0-?]*) [\x20-/]* (?P<final>[@-~]))   # CSI (SGR when final is m)
    | (?P<osc>(?:\x1b\]|\x9d) [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c|\x1b|$))  # OSC, BEL or ST terminated
    | (?P<str>(?:\x1b[P_^X]|[\x90\x98\x9e\x9f]) [^\x1b\x9c]* (?:\x1b\\|\x9c|\x1b|$))  # DCS, SOS, PM, APC
    | (?P<cut>(?:\x1b\[|\x9b)[0-?\x20-/]*$)                                  # CSI cut off at the end
    | (?P<esc>\x1b[\x20-/]*[0-~]?)                                           # other ESC sequences, lone ESC
    | (?P<tab>\t)
    | (?P<ctl>[\x00-\x08\x0a-\x1f\x7f])                                     # other C0 controls, DEL
    | (?P<c1>[\x80-\x9f])                                                    # C1 controls
    | (?P<fmt>[^\x00-\x7f])                                                  # FORMAT_CHARS: shown escaped
    """


@lru_cache(maxsize=1)
def _token() -> re.Pattern[str]:
    return re.compile(_TOKEN_PATTERN, re.VERBOSE)


_NAMES = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
_FG = {30 + i: name for i, name in enumerate(_NAMES)} | {90 + i: f"bright_{name}" for i, name in enumerate(_NAMES)}
_BG = {40 + i: name for i, name in enumerate(_NAMES)} | {100 + i: f"bright_{name}" for i, name in enumerate(_NAMES)}

# SGR state: (fg, bg, bold, dim, italic, underline, blink, reverse, strike)
SgrState = tuple[str | None, str | None, bool, bool, bool, bool, bool, bool, bool]
DEFAULT_STATE: SgrState = (None, None, False, False, False, False, False, False, False)
_ATTRS = ("bold", "dim", "italic", "underline", "blink", "reverse", "strike")
_SET = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 6, 7: 7, 9: 8, 21: 5}
_UNSET = {22: (2, 3), 23: (4,), 24: (5,), 25: (6,), 27: (7,), 29: (8,)}


class StyledLine(NamedTuple):
    """Sanitised text and its style spans `(start, end, rich_style)`, end exclusive, in text order."""

    text: str
    spans: tuple[tuple[int, int, str], ...] = ()


@lru_cache(maxsize=4096)
def style_string(state: SgrState) -> str:
    """The Rich style string of an SGR state (`""` for the default)."""
    fg, bg = state[0], state[1]
    parts = [name for name, on in zip(_ATTRS, state[2:]) if on]
    if fg:
        parts.append(fg)
    if bg:
        parts.append(f"on {bg}")
    return " ".join(parts)


def _colour_args(args: list[str]) -> str | None:
    """`5;n` / `2;r;g;b` (also the ITU colon form with an optional colour-space id) → a Rich colour."""
    try:
        values = [int(v) if v else 0 for v in args]
    except ValueError:
        return None
    if len(values) >= 2 and values[0] == 5:
        return f"color({values[1]})" if 0 <= values[1] <= 255 else None
    if len(values) >= 4 and values[0] == 2:
        rgb = values[-3:] if len(values) > 4 else values[1:4]
        if all(0 <= v <= 255 for v in rgb):
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return None


@lru_cache(maxsize=4096)
def apply_sgr(state: SgrState, params: str) -> SgrState:
    """The SGR state after `ESC [ params m`."""
    if not params:
        return DEFAULT_STATE
    s = list(state)
    chunks = params.split(";")
    i = 0
    n = len(chunks)
    while i < n:
        chunk = chunks[i]
        i += 1
        if ":" in chunk:  # ITU sub-parameters: 38:2::r:g:b, 48:5:n, 4:3 (curly underline)
            sub = chunk.split(":")
            if sub[0] in ("38", "48"):
                colour = _colour_args(sub[1:])
                if colour:
                    s[0 if sub[0] == "38" else 1] = colour
            elif sub[0] == "4":
                s[5] = sub[1] not in ("", "0")
            continue
        c = int(chunk) if chunk.isdigit() else 0
        if c == 0:
            s = list(DEFAULT_STATE)
        elif c in _FG:
            s[0] = _FG[c]
        elif c in _BG:
            s[1] = _BG[c]
        elif c in _SET:
            s[_SET[c]] = True
        elif c in _UNSET:
            for k in _UNSET[c]:
                s[k] = False
        elif c == 39:
            s[0] = None
        elif c == 49:
            s[1] = None
        elif c in (38, 48):
            kind = chunks[i] if i < n else ""
            take = 2 if kind == "5" else 4 if kind == "2" else 1
            colour = _colour_args(chunks[i : i + take])
            i += take
            if colour:
                s[0 if c == 38 else 1] = colour
    return tuple(s)  # type: ignore[return-value]


def _visible(ch: str) -> str:
    code = ord(ch)
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def sanitize_with_state(text: str, state: SgrState = DEFAULT_STATE) -> tuple[StyledLine, SgrState]:
    """Sanitise one line starting in SGR `state`; returns the line and the state at its end."""
    if not _NEEDS_WORK.search(text):
        if state == DEFAULT_STATE or not text:
            return StyledLine(text), state
        return StyledLine(text, ((0, len(text), style_string(state)),)), state
    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0  # length of the output so far
    span_start = 0
    style = style_string(state)
    last = 0
    search, match = _NEEDS_WORK.search, _token().match
    while True:
        found = search(text, last)
        if found is None:
            break
        start = found.start()
        if start > last:
            chunk = text[last:start]
            out.append(chunk)
            pos += len(chunk)
        m = match(text, start)
        assert m is not None  # every character `_NEEDS_WORK` finds starts some alternative
        last = m.end()
        kind = m.lastgroup
        if kind == "csi":
            if m.group("final") == "m":
                new_state = apply_sgr(state, m.group("params"))
                if new_state != state:
                    new_style = style_string(new_state)
                    if new_style != style:
                        if style and pos > span_start:
                            spans.append((span_start, pos, style))
                        span_start = pos
                        style = new_style
                    state = new_state
        elif kind == "tab":
            width = 8 - pos % 8
            out.append(" " * width)
            pos += width
        elif kind == "ctl":
            out.append(_visible(m.group()))
            pos += 1
        elif kind == "fmt":
            shown = escaped(m.group())
            out.append(shown)
            pos += len(shown)
        # everything else (other CSI, OSC, DCS/APC/PM/SOS, ESC sequences, C1) is dropped
    if last < len(text):
        chunk = text[last:]
        out.append(chunk)
        pos += len(chunk)
    if style and pos > span_start:
        spans.append((span_start, pos, style))
    return StyledLine("".join(out), tuple(_merge(spans))), state


_SGR_PARAMS = re.compile(r"\x1b\[([0-9;:]*)m")
_ESC_OR_C1 = re.compile("[\x1b\x80-\x9f]")


def end_state(text: str, state: SgrState = DEFAULT_STATE) -> SgrState:
    """The SGR state after `text` starting in `state`: `sanitize_with_state(text, state)[1]`, without
    building the styled line. A line whose only escapes are plain `ESC [ digits m` (the usual colours)
    is folded over its SGR parameters; anything else (OSC, other sequences, C1) is tokenised in full."""
    params = _SGR_PARAMS.findall(text)
    rest = _SGR_PARAMS.sub("", text) if params else text
    if _ESC_OR_C1.search(rest):
        return sanitize_with_state(text, state)[1]
    for p in params:
        state = apply_sgr(state, p)
    return state


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    if len(spans) < 2:
        return spans
    merged = [spans[0]]
    for start, end, style in spans[1:]:
        p_start, p_end, p_style = merged[-1]
        if p_style == style and p_end == start:
            merged[-1] = (p_start, end, style)
        else:
            merged.append((start, end, style))
    return merged


def sanitize(text: str) -> StyledLine:
    """Sanitise one line on its own (SGR state starts at the default)."""
    if not _NEEDS_WORK.search(text):
        return StyledLine(text)
    return sanitize_with_state(text)[0]


def sanitize_bytes(data: bytes) -> StyledLine:
    """Sanitise raw bytes; invalid UTF-8 becomes U+FFFD."""
    return sanitize(data.decode("utf-8", "replace"))


_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def plain(text: str) -> str:
    """The sanitised text without styles (for logs printed to a pipe)."""
    if not _NEEDS_WORK.search(text):
        return text
    stripped = _SGR.sub("", text)  # the common case: colours only
    if not _NEEDS_WORK.search(stripped):
        return stripped
    return sanitize_with_state(text)[0].text


def needs_sanitizing(text: str) -> bool:
    """True when `text` holds anything but plain printable characters."""
    return _NEEDS_WORK.search(text) is not None


class AnsiStream:
    """Sanitises the lines of one stream in order, carrying SGR state from line to line."""

    def __init__(self) -> None:
        self.state: SgrState = DEFAULT_STATE

    def feed(self, line: str) -> StyledLine:
        styled, self.state = sanitize_with_state(line, self.state)
        return styled

    def feed_bytes(self, data: bytes) -> StyledLine:
        return self.feed(data.decode("utf-8", "replace"))

    def reset(self) -> None:
        self.state = DEFAULT_STATE


# -- agent text ---------------------------------------------------------------------------------

_INERT = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{FORMAT_CHARS}]")
_INERT_LINES_PATTERN = f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{FORMAT_CHARS}]"  # keeps \\n and \\t: compiled when first used


@lru_cache(maxsize=1)
def _inert_lines() -> re.Pattern[str]:
    return re.compile(_INERT_LINES_PATTERN)


def escaped(ch: str) -> str:
    """One code point in Python's escape notation: `\\x1b`, `\\u202e`, `\\U000e0041`."""
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape_match(match: re.Match[str]) -> str:
    return escaped(match.group())


def inert(text: object, *, multiline: bool = False) -> str:
    """Agent text made inert for any display — a terminal, a cockpit widget, a log — and still readable.

    Every control character (C0, DEL, C1: so ESC, and with it every CSI/OSC/DCS/APC sequence, can
    do nothing) and every invisible format character (`FORMAT_CHARS`: bidi controls, zero-width
    characters, separators, lone surrogates) is shown VISIBLY in Python's escape notation — ESC as
    `\\x1b`, U+202E as `\\u202e` — so a person sees that something was there and what. Everything
    else is kept as it is. `multiline=True` keeps newlines and tabs (a rationale); otherwise they are
    escaped as well (a title is one line). Non-strings are shown by `str()`.
    """
    if not isinstance(text, str):
        text = str(text)
    if _INERT.search(text) is None:  # also for `multiline`: a one-line text needs no second pattern compiled (≈ 0.6 ms)
        return text
    if not multiline:
        return _INERT.sub(_escape_match, text)
    pattern = _inert_lines()
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape_match, text)


_JSON_UNSAFE_PATTERN = f"[\\x7f-\\x9f{FORMAT_CHARS}]"


@lru_cache(maxsize=1)
def _json_unsafe() -> re.Pattern[str]:
    """Compiled by the first JSON document (≈ 0.4 ms): the cockpit imports this module and prints none."""
    return re.compile(_JSON_UNSAFE_PATTERN)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells a code point above the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def inert_json(document: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with DEL, C1 and `FORMAT_CHARS` as `\\uXXXX`.

    `json.dumps` escapes only C0 controls; C1 (an 8-bit CSI is U+009B) and bidi controls would reach
    a terminal raw. Outside strings JSON text is ASCII, so every match is inside a string, where
    `\\uXXXX` is the same value: a parser reads exactly the same document.
    """
    unsafe = _json_unsafe()
    if unsafe.search(document) is None:
        return document
    return unsafe.sub(_json_escape, document)


class InertWriter:
    """A text stream that makes everything written through it inert (`multiline=True`) before passing it on.

    For a process whose stderr carries agent text it did not format itself (the MCP server: the
    SDK's logs and tracebacks quote tool arguments). `isatty()` is False, so no library colours it.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(inert(text, multiline=True))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return int(self._stream.fileno())

    @property
    def encoding(self) -> str:
        return str(getattr(self._stream, "encoding", "utf-8"))
