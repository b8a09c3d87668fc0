"""Nix (and other guarded files') highlighting as per-line spans: correct across lines, and lazy."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from omni_tui.core.highlight import TOKEN_TYPES, Highlighter, highlight_lines, highlighter_for, language_for

NIX = """{ pkgs, lib, ... }:
let
  port = 8000;
in
{
  # the greeting
  env.GREET = "hello ${lib.toUpper "x"}";
  packages = [ pkgs.git ./scripts ];
  languages.python.enable = true;
  enterShell = ''
    echo "$GREET from devenv"
  '';
  imports = [ (import ./extra.nix) ];
}
"""


def _words(h: Highlighter, text: str) -> list[list[tuple[str, str]]]:
    lines = text.split("\n")
    return [[(lines[n][a:b], kind) for a, b, kind in h.line(n)] for n in range(len(lines))]


def test_nix_tokens_become_named_spans() -> None:
    words = _words(Highlighter(NIX, "nix"), NIX)
    assert ("let", "keyword") in words[1] and ("in", "keyword") in words[3]
    assert ("port", "attribute") in words[2] and ("8000", "number") in words[2]
    assert words[5] == [("# the greeting", "comment")]
    assert ('"hello ', "string") in words[6] and ("${", "interpolation") in words[6]
    assert ("./scripts", "path") in words[7]
    assert ("true", "constant") in words[8]
    assert ("import", "builtin") in words[12]
    assert all(kind in TOKEN_TYPES for line in words for _, kind in line)


def test_multi_line_string_is_a_string_on_every_line() -> None:
    words = _words(Highlighter(NIX, "nix"), NIX)
    assert words[10] == [('    echo "$GREET from devenv"', "string")]
    assert words[11][0] == ("  ''", "string")


def test_asking_for_a_line_lexes_only_that_far() -> None:
    big = NIX * 500  # 7,000 lines
    h = Highlighter(big, "nix")
    assert h.lexed_to == 0
    assert h.line(3)
    assert 0 < h.lexed_to < len(NIX) * 2
    h.line(h.line_count - 2)
    assert h.lexed_to == len(big)


def test_the_state_pass_can_run_ahead_in_steps_and_changes_no_span() -> None:
    big = NIX * 500  # 7,000 lines
    for per_line in (True, False):
        h = Highlighter(big, "nix", per_line=per_line)
        reached = []
        while not h.advance(1000):
            reached.append(h.lexed_to)
        assert len(reached) >= 6 and reached == sorted(reached) and reached[0] < len(big) // 5  # step by step
        assert h.lexed_to == len(big) and h.advance(1000)
        fresh = Highlighter(big, "nix", per_line=per_line)
        for n in (0, 10, 11, 3500, h.line_count - 3, h.line_count - 2):
            assert h.line(n) == fresh.line(n)


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(NIX.count("\n") + 1))))
def test_spans_do_not_depend_on_the_order_lines_are_asked_for(order: list[int]) -> None:
    in_order = highlight_lines(NIX, "nix")
    h = Highlighter(NIX, "nix")
    assert {n: h.line(n) for n in order} == dict(enumerate(in_order))


def test_plain_text_and_out_of_range_lines_have_no_spans() -> None:
    h = Highlighter("just text\nmore", None)
    assert h.line(0) == () and h.line(1) == () and h.line(2) == () and h.line(-1) == ()
    assert Highlighter("", "nix").line(0) == ()


def test_language_by_file_name() -> None:
    assert language_for("devenv.nix") == "nix"
    assert language_for("sub/dir/devenv.local.nix") == "nix"
    assert language_for(".envrc") == "bash"
    assert language_for("devenv.yaml") == "yaml"
    assert language_for("notes.txt") is None


def test_other_languages_and_crlf_lines() -> None:
    envrc = "use devenv\nexport FOO=bar  # note\r\n"
    words = _words(Highlighter(envrc, "bash"), envrc)
    assert any(kind == "comment" for _, kind in words[1])
    assert highlighter_for(NIX, "nix") is highlighter_for(NIX, "nix")


NIX_FRAGMENTS = [
    "{ pkgs, lib, ... }:",
    "let x = 1; in",
    'env.A = "plain";',
    'env.B = "with ${pkgs.hello} inside";',
    'env.C = "escaped \\" quote and \\${not}";',
    "s = ''\n  multi ${lib.concat [ \"a\" ]} line\n  ''$ and ''' escapes\n'';",
    "t = ''\n  # not a comment\n  /* nor this */\n'';",
    "# a comment with '' and \" inside",
    '/* a block\n   comment { with } "things" */',
    "/* nested /* once */ still */",
    "packages = [ pkgs.git ./local/path ~/home/p <nixpkgs> ];",
    "url = https://example.org/x?y=1;",
    "f = x: y: x + y;",
    "imports = [ (import ./a.nix { inherit pkgs; }) ];",
    "enable = true || false && null == null;",
    "n = -1.5e3; m = 42;",
    "{",
    "}",
    'a."quoted attr" = rec { b = 1; };',
    "weird = foo'' ;",
    'unterminated = "open\n string continues";',
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(NIX_FRAGMENTS), min_size=1, max_size=14),
    st.lists(st.sampled_from([" ", "\n", "\n  ", "\n\n"]), min_size=14, max_size=14),
)
def test_per_line_lexing_equals_lexing_the_whole_text(fragments: list[str], seps: list[str]) -> None:
    """The fast state pass + per-line lexing gives exactly the spans of one full pygments pass."""
    text = "".join(f + sep for f, sep in zip(fragments, seps))
    fast = Highlighter(text, "nix")
    full = Highlighter(text, "nix", per_line=False)
    assert fast._tracker is not None and full._tracker is None
    assert [fast.line(n) for n in range(fast.line_count)] == [full.line(n) for n in range(full.line_count)]


def test_per_line_lexing_matches_on_a_large_realistic_file_and_other_languages() -> None:
    big = NIX * 40
    fast, full = Highlighter(big, "nix"), Highlighter(big, "nix", per_line=False)
    assert [fast.line(n) for n in range(fast.line_count)] == [full.line(n) for n in range(full.line_count)]
    yaml = "inputs:\n  nixpkgs:\n    url: github:cachix/devenv-nixpkgs/rolling # pinned\nallowUnfree: true\n"
    bash = 'use devenv\nexport A="x $(date)"\ncat <<EOF\nhere doc\nEOF\n'
    for text, language in ((yaml, "yaml"), (bash, "bash")):
        fast, full = Highlighter(text, language), Highlighter(text, language, per_line=False)
        assert [fast.line(n) for n in range(fast.line_count)] == [full.line(n) for n in range(full.line_count)]
        assert any(fast.line(n) for n in range(fast.line_count))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(NIX_FRAGMENTS), min_size=1, max_size=10),
    st.lists(st.sampled_from(NIX_FRAGMENTS), max_size=3),
    st.integers(0, 10),
    st.data(),
)
def test_an_edited_text_reusing_the_previous_pass_equals_a_fresh_one(
    fragments: list[str], inserted: list[str], at: int, data: st.DataObject
) -> None:
    before = "\n".join(fragments) + "\n"
    after = "\n".join(fragments[:at] + inserted + fragments[at:]) + "\n"
    previous = Highlighter(before, "nix")
    asked = data.draw(st.integers(0, previous.line_count - 1))
    previous.line(asked)  # it worked out this far
    reused = Highlighter(after, "nix", previous=previous)
    fresh = Highlighter(after, "nix", per_line=False)
    order = data.draw(st.permutations(range(reused.line_count)))
    got = {n: reused.line(n) for n in order}
    assert got == {n: fresh.line(n) for n in range(fresh.line_count)}


def test_a_live_edit_near_the_end_does_not_redo_the_pass_from_the_top() -> None:
    big = NIX * 300
    first = Highlighter(big, "nix")
    first.line(first.line_count - 1)
    edited = big[:-20] + "  # a late edit\n" + big[-20:]
    second = Highlighter(edited, "nix", previous=first)
    assert second.lexed_to == 0 or second._stacks  # resumes, not from scratch
    assert len(second._stacks) > second.line_count - 10
    second.line(second.line_count - 3)
    assert second.line(second.line_count - 3) == Highlighter(edited, "nix", per_line=False).line(second.line_count - 3)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(NIX_FRAGMENTS), min_size=1, max_size=10),
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from(NIX_FRAGMENTS + ["", "''", '"', "/*", "*/", "}"])), max_size=4),
    st.data(),
)
def test_the_old_side_borrowing_states_from_the_new_side_equals_a_fresh_pass(
    fragments: list[str], edits: list[tuple[int, str]], data: st.DataObject
) -> None:
    """Even edits that open or close a string or comment (so states differ for a while) come out exact."""
    from omni_tui.core.textdiff import diff_texts

    old_parts = list(fragments)
    for at, fragment in edits:
        old_parts.insert(min(at, len(old_parts)), fragment)
    old, new = "\n".join(old_parts) + "\n", "\n".join(fragments) + "\n"
    fd = diff_texts(old, new)
    new_h = Highlighter(new, "nix")
    old_h = Highlighter(old, "nix")
    old_h.align(new_h, fd.old_to_new())
    order = data.draw(st.permutations(range(old_h.line_count)))
    got = {n: old_h.line(n) for n in order}
    fresh = Highlighter(old, "nix", per_line=False)
    assert got == {n: fresh.line(n) for n in range(fresh.line_count)}
