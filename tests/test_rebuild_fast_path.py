"""The rebuild pipeline's fast paths give exactly what the careful paths give.

- `BuildLogParser.feed_lines` (batch, no event objects for plain lines) = `feed` line by line: the
  same display lines and the same progress, whatever mix of Nix JSON, plain Nix status lines, errors
  and ordinary output arrives, however it is cut into batches.
- The runner's line splitter (whole-chunk decode) = the byte-by-byte splitter, for any chunking,
  including CRLF, invalid UTF-8 and lines over the cap.
"""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from omni_tui.core.buildlog import BuildLogParser, DisplayLine
from omni_tui.core.line_splitter import LineSplitter

DRV = "/nix/store/" + "a" * 32 + "-hello-2.12.drv"
VOCABULARY = [
    "hello> CC src/main.o",
    "devenv-shell-env> checking for gcc",
    "evaluating devenv.nix",
    "Evaluating shell",
    "• Building shell ...",
    "✔ Building shell in 1.2s",
    "these 3 derivations will be built:",
    "this derivation will be built:",
    "these 2 paths will be fetched (1.2 MiB download):",
    f"building '{DRV}'...",
    f"building '{DRV}'",
    "building 'x'",
    "building '/nix/store/é-x.drv'",
    "building '/nix/store/a b-y.drv' \x1b[1m(bold)\x1b[0m",
    "building '/nix/store/no-closing-quote",
    "copying path '/nix/store/x' from 'https://cache.nixos.org'",
    "downloading 'https://example.org/x'",
    "error: builder for '/nix/store/x.drv' failed with exit code 1",
    "\x1b[31;1merror:\x1b[0m attribute 'foo' missing",
    "       at /x/devenv.nix:3:5:",
    "   2|   packages = [",
    "",
    "  indented output",
    "\x1b[32mok\x1b[0m",
    "Error: not a nix error",
    "éléphant",
    "_underscore",
    "@nix " + json.dumps({"action": "msg", "level": 3, "msg": "these 2 derivations will be built:"}),
    "@nix " + json.dumps({"action": "start", "id": 7, "type": 105, "text": f"building '{DRV}'", "fields": [DRV]}),
    "@nix " + json.dumps({"action": "result", "id": 7, "type": 101, "fields": ["make[1]: ok"]}),
    "@nix " + json.dumps({"action": "stop", "id": 7}),
    "@nix {not json",
    "12345 numbers first",
    "this is fine",
    "tests passed",
]


def _careful(lines: list[str]) -> tuple[list[str], object]:
    parser = BuildLogParser()
    out = [e.text for line in lines for e in parser.feed(line) if type(e) is DisplayLine]
    return out, parser.progress


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=60), st.lists(st.integers(1, 7), max_size=20))
# Found by CI's run: an error ending one batch, the next batch starting with a line that ends it.
@example(["error: builder for '/nix/store/x.drv' failed with exit code 1", "hello> CC src/main.o", "       at /x/devenv.nix:3:5:"], [1])
def test_feed_lines_shows_and_counts_what_feed_does(lines: list[str], cuts: list[int]) -> None:
    expected_out, expected_progress = _careful(lines)
    parser = BuildLogParser()
    out: list[str] = []
    i = 0
    for cut in cuts + [len(lines)]:
        out += parser.feed_lines(lines[i : i + cut])
        i += cut
    assert out == expected_out
    assert parser.progress == expected_progress


def _reference_split(data: bytes, cap: int) -> list[str]:
    splitter = LineSplitter(cap)
    out: list[str] = []
    for byte in data:  # one byte at a time: the careful loop only
        splitter._buf.append(byte)
        out += splitter.feed(b"") if len(splitter._buf) > cap or byte == 0x0A else []
    return out + splitter.flush()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"abc", b"\n", b"\r\n", b"\xc3\xa9", b"\xe2\x82", b"\xff", b"x" * 9, b"\r"]), max_size=40),
    st.lists(st.integers(1, 13), max_size=12),
)
def test_the_splitter_cuts_any_chunking_as_the_careful_loop(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    cap = 8
    expected = _reference_split(data, cap)
    splitter = LineSplitter(cap)
    got: list[str] = []
    i = 0
    for cut in cuts + [len(data)]:
        got += splitter.feed(data[i : i + cut])
        i += cut
    got += splitter.flush()
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=60), st.lists(st.integers(1, 7), max_size=20))
def test_feed_lines_given_the_joined_text_shows_and_counts_the_same(lines: list[str], cuts: list[int]) -> None:
    """The runner hands the parser the chunk's text as the splitter decoded it (no join per chunk)."""
    plain_parser, text_parser = BuildLogParser(), BuildLogParser()
    i = 0
    for cut in cuts + [len(lines)]:
        batch = lines[i : i + cut]
        assert text_parser.feed_lines(batch, "\n".join(batch)) == plain_parser.feed_lines(batch)
        i += cut
    assert text_parser.progress == plain_parser.progress


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"abc", b"\n", b"\r\n", b"\xc3\xa9", b"\xe2\x82", b"\xff", b"x" * 9, b"\r"]), max_size=40),
    st.lists(st.integers(1, 13), max_size=12),
)
def test_the_splitters_text_is_its_lines_joined(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    splitter = LineSplitter(8)
    i = 0
    for cut in cuts + [len(data)]:
        lines, text = splitter.feed_text(data[i : i + cut])
        assert text is None or text == "\n".join(lines)
        i += cut


def test_a_line_over_the_cap_in_a_large_chunk_of_short_lines_is_still_cut() -> None:
    """The whole-chunk path checks for a long line with a few finds: one 70 KiB line among 200 KiB of
    short ones (the default 64 KiB cap) is cut at the cap exactly as the careful loop cuts it."""
    short = b"".join(b"hello> CC src/file_%d.o\n" % i for i in range(9000))
    data = short[:100_000] + b"x" * 70_000 + b"\n" + short[:100_000]
    whole = LineSplitter()
    got = whole.feed(data) + whole.flush()
    assert got == _reference_split(data, whole._max)
    assert max(map(len, got)) == whole._max
