"""Escape-sequence sanitising for any text bound for the screen: SGR colours become styled spans.

Kept: SGR (16/256/truecolour, bold, dim, italic, underline, blink, reverse, strike, resets) as spans
with Rich style strings. Dropped: every other escape — CSI (cursor movement, clears, bracketed
paste, ...), OSC (titles, OSC 52 clipboard, hyperlinks; BEL- or ST-terminated), DCS, APC, PM, SOS,
two-byte ESC sequences and C1 controls (0x80-0x9f). Other control characters are shown visibly as
Unicode control pictures (BEL → ␇); tabs are expanded to 8-column stops.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

# Anything that is not plain printable text (tab included, since it gets expanded).
_NEEDS_WORK = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Matched at a position where `_NEEDS_WORK` found something; the alternative's name says what it is.
_TOKEN = re.compile(
    r"""
      (?P<csi>(?:\x1b\[|\x9b) (?P<params>[0-?]*) [\x20-/]* (?P<final>[@-~]))   # CSI (SGR when final is m)
    | (?P<osc>(?:\x1b\]|\x9d) [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c|\x1b|$))  # OSC, BEL or ST terminated
    | (?P<str>(?:\x1b[P_^X]|[\x90\x98\x9e\x9f]) [^\x1b\x9c]* (?:\x1b\\|\x9c|\x1b|$))  # DCS, SOS, PM, APC
    | (?P<cut>(?:\x1b\[|\x9b)[0-?\x20-/]*$)                                  # CSI cut off at the end
    | (?P<esc>\x1b[\x20-/]*[0-~]?)                                           # other ESC sequences, lone ESC
    | (?P<tab>\t)
    | (?P<ctl>[\x00-\x08\x0a-\x1f\x7f])                                     # other C0 controls, DEL
    | (?P<c1>[\x80-\x9f])                                                    # C1 controls
    """,
    re.VERBOSE,
)

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
    search, match = _NEEDS_WORK.search, _TOKEN.match
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
        last = m.end()  # every character `_NEEDS_WORK` finds starts some alternative
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
        # everything else (other CSI, OSC, DCS/APC/PM/SOS, ESC sequences, C1) is dropped
    if last < len(text):
        chunk = text[last:]
        out.append(chunk)
        pos += len(chunk)
    if style and pos > span_start:
        spans.append((span_start, pos, style))
    return StyledLine("".join(out), tuple(_merge(spans))), state


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
