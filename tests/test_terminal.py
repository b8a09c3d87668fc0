"""core.terminal: SGR colours survive as spans, every other escape and control is neutralised."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from omni_tui.core.terminal import AnsiStream, StyledLine, plain, sanitize, sanitize_bytes

UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def assert_safe(line: StyledLine) -> None:
    assert not UNSAFE.search(line.text), repr(line.text)
    previous_end = 0
    for start, end, style in line.spans:
        assert previous_end <= start < end <= len(line.text), line
        assert style
        previous_end = end


def test_plain_text_passes_through_unchanged() -> None:
    assert sanitize("building hello-2.12 · ok ✓") == StyledLine("building hello-2.12 · ok ✓", ())


def test_16_colours_and_reset_become_spans() -> None:
    line = sanitize("\x1b[31;1merror:\x1b[0m builder failed")
    assert line.text == "error: builder failed"
    assert line.spans == ((0, 6, "bold red"),)


def test_256_and_truecolour_foreground_and_background() -> None:
    line = sanitize("\x1b[38;5;208mA\x1b[48;2;16;32;48mB\x1b[39mC\x1b[49mD")
    assert line.text == "ABCD"
    assert line.spans == ((0, 1, "color(208)"), (1, 2, "color(208) on #102030"), (2, 3, "on #102030"))


def test_colon_form_truecolour_and_bright_colours() -> None:
    line = sanitize("\x1b[38:2::255:0:0mR\x1b[0;92mG\x1b[m")
    assert line.text == "RG"
    assert line.spans == ((0, 1, "#ff0000"), (1, 2, "bright_green"))


def test_attributes_switch_on_and_off() -> None:
    line = sanitize("\x1b[1;2;3;4;7;9mX\x1b[22mY\x1b[23;24mZ\x1b[27;29mW")
    assert line.text == "XYZW"
    assert line.spans == (
        (0, 1, "bold dim italic underline reverse strike"),
        (1, 2, "italic underline reverse strike"),
        (2, 3, "reverse strike"),
    )


def test_hostile_sequences_are_dropped() -> None:
    hostile = (
        "a\x1b]52;c;ZWNobyBvd25lZA==\x07"  # OSC 52 clipboard write (BEL)
        "b\x1b]0;pwned title\x1b\\"  # title set (ST)
        "c\x1b[2J\x1b[H\x1b[10;20H\x1b[K"  # clears and cursor movement
        "d\x1b[200~paste\x1b[201~"  # bracketed paste markers
        "e\x1bPq#0;2;0;0;0\x1b\\"  # DCS (sixel)
        "f\x1b_apc payload\x1b\\g\x1b^pm\x1b\\h\x1bXsos\x1b\\"  # APC, PM, SOS
        "i\x9b31mj\x9d8;;http://x\x9ck\x85\x8d\x80l"  # 8-bit CSI / OSC and C1 controls
        "m\x1b7\x1b8\x1bc\x1b(0n"  # save/restore cursor, full reset, charset switch
    )
    line = sanitize(hostile)
    assert line.text == "abcdpasteefghijklmn"
    assert_safe(line)
    assert "pwned" not in line.text and "ZWNo" not in line.text


def test_unterminated_sequences_drop_the_rest_not_the_line() -> None:
    assert sanitize("ok\x1b]0;title never ends").text == "ok"
    assert sanitize("ok\x1b[31").text == "ok"
    assert sanitize("ok\x1b").text == "ok"


def test_control_characters_are_visible_and_tabs_expand() -> None:
    assert sanitize("bell\x07nul\x00del\x7fcr\rback\x08").text == "bell␇nul␀del␡cr␍back␈"
    assert sanitize("a\tbc\td").text == "a       bc      d"
    line = sanitize("\x1b[32mab\tc\x1b[0m")
    assert line.text == "ab      c"
    assert line.spans == ((0, 9, "green"),)


def test_invalid_utf8_is_replaced() -> None:
    line = sanitize_bytes(b"ok \xff\xfe\xc3 end \x1b[31mred\x1b[0m")
    assert line.text == "ok \ufffd\ufffd\ufffd end red"
    assert line.spans == ((11, 14, "red"),)


def test_stream_carries_colour_across_lines() -> None:
    stream = AnsiStream()
    assert stream.feed("\x1b[33mwarning: a") == StyledLine("warning: a", ((0, 10, "yellow"),))
    assert stream.feed("continues") == StyledLine("continues", ((0, 9, "yellow"),))
    assert stream.feed("end\x1b[0m plain") == StyledLine("end plain", ((0, 3, "yellow"),))
    assert stream.feed("plain") == StyledLine("plain", ())
    # a one-shot sanitize never inherits state
    assert sanitize("continues") == StyledLine("continues", ())


def test_plain_strips_styles() -> None:
    assert plain("\x1b[1;31merror:\x1b[0m boom\x1b]0;t\x07") == "error: boom"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\x1b[]();:0123456789mHJKP\\_^X\x07\x9b\x9c\x9d\x85\x00\x7féλ")), max_size=60))
def test_any_input_comes_out_safe(text: str) -> None:
    assert_safe(sanitize(text))
    stream = AnsiStream()
    for part in text.split("\x00"):
        assert_safe(stream.feed(part))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\x1b[]();:0123456789mHJ\x07\x9b\x85")), max_size=40))
def test_plain_is_the_sanitised_text(text: str) -> None:
    assert plain(text) == sanitize(text).text


_FRAGMENTS = [
    "plain text ",
    "hello> ",
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[m",
    "\x1b[1;33m",
    "\x1b[38;5;200m",
    "\x1b[38:2::1:2:3m",
    "\x1b[48;2;1;2;3m",
    "\x1b[22;39m",
    "\x1b]0;title\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1b]0;\x1b[31m\x07",
    "\x9b31m",
    "\x9d",
    "\x1bP",
    "\x1b",
    "\x1b[31",
    "\x1b[?25l",
    "\x1b[2K",
    "\t",
    "\x00",
    "é",
    "\u202e",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12), st.sampled_from(["", "31", "1;44", "0", "38;5;9"]))
def test_the_state_after_a_line_is_what_sanitising_it_ends_in(parts: list[str], start: str) -> None:
    """`end_state` (the log view's look back for the colour a line starts in) agrees with the full sanitiser."""
    from omni_tui.core.terminal import DEFAULT_STATE, apply_sgr, end_state, sanitize_with_state

    text = "".join(parts)
    state = apply_sgr(DEFAULT_STATE, start) if start else DEFAULT_STATE
    assert end_state(text, state) == sanitize_with_state(text, state)[1]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\x1b[]();:0123456789mHJ\x07\x9b\x85\\P")), max_size=40))
def test_the_state_after_any_escape_soup_is_what_sanitising_it_ends_in(text: str) -> None:
    from omni_tui.core.terminal import end_state, sanitize_with_state

    assert end_state(text) == sanitize_with_state(text)[1]
