"""The diff model: hunks, rows, intra-line spans, partial apply, unified patches (incl. real diff/git/patch)."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLE_DEVENV_NIX
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omni_tui.core.errors import PatchError
from omni_tui.core.linematch import split_lines
from omni_tui.core.textdiff import (
    FileDiff,
    apply_hunks,
    diff_texts,
    intraline,
    unified_patch,
)
from omni_tui.core.textpatch import apply_patch, parse_patch

OLD = SAMPLE_DEVENV_NIX  # the `project` fixture's devenv.nix

NEW = OLD.replace("pkgs.git pkgs.jq", "pkgs.git pkgs.jq pkgs.ripgrep").replace(
    "  '';\n}\n", "  '';\n\n  services.postgres.enable = true;\n}\n"
)

# ---------------------------------------------------------------------------------------------
# Strategies: small alphabets so lines repeat (the hard case for matching and hunk placement).

LINE = st.sampled_from(["{", "}", "", "  a = 1;", "  b = 2;", "pkgs.git", "x\r", "  ];", "c", "-- a", "++ b", "@@ -1 +1 @@", "\\ no"])


@st.composite
def text(draw: st.DrawFn, lines: st.SearchStrategy = LINE) -> str:
    body = "".join(line + "\n" for line in draw(st.lists(lines, max_size=30)))
    if body and draw(st.booleans()):
        body = body[:-1]  # no newline at the end
    return body


@st.composite
def edited(draw: st.DrawFn, old: str) -> str:
    """`old` after random line edits (or, sometimes, an unrelated text)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(text())
    lines = old.split("\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["ins", "del", "chg"]))
        at = draw(st.integers(0, len(lines)))
        if op == "ins":
            lines.insert(at, draw(LINE))
        elif op == "del" and at < len(lines) and len(lines) > 1:
            del lines[at]
        elif at < len(lines):
            lines[at] = draw(LINE)
    result = "\n".join(lines)
    if draw(st.integers(0, 5)) == 0:
        result = result[:-1] if result.endswith("\n") else result + "\n"
    return result


@st.composite
def pair(draw: st.DrawFn) -> tuple[str, str]:
    old = draw(text())
    return old, draw(edited(old))


def _apply_in_order(fd: FileDiff, order: list[int]) -> str:
    """Apply hunks one at a time to the evolving text, each at its original place shifted by the
    length changes of the hunks already applied before it in the file."""
    lines = list(fd.old_lines)
    applied: list[int] = []
    for i in order:
        hunk = fd.hunks[i]
        shift = sum(fd.hunks[k].new_len - fd.hunks[k].old_len for k in applied if k < i)
        at = hunk.old_lo + shift
        assert lines[at : at + hunk.old_len] == fd.old_lines[hunk.old_lo : hunk.old_hi]
        lines[at : at + hunk.old_len] = fd.new_lines[hunk.new_lo : hunk.new_hi]
        applied.append(i)
    return "".join(lines)


# ---------------------------------------------------------------------------------------------
# Hunks


def test_no_change_has_no_hunks_rows_or_patch() -> None:
    fd = diff_texts(OLD, OLD)
    assert fd.hunks == [] and fd.added == 0 and fd.removed == 0 and not fd.changed
    assert fd.rows_unified() == [] and fd.rows_split() == []
    assert unified_patch(OLD, OLD, "devenv.nix") == ""
    assert apply_hunks(OLD, OLD, set()) == OLD


def test_hunks_of_a_realistic_edit() -> None:
    fd = diff_texts(OLD, NEW)
    assert [h.header for h in fd.hunks] == ["@@ -3,7 +3,7 @@", "@@ -12,4 +12,6 @@"]
    assert (fd.added, fd.removed) == (3, 1)
    first = fd.hunks[0]
    changed = [(l.kind, l.old_no, l.new_no, l.text) for l in first.lines if l.kind != " "]
    assert changed == [
        ("-", 6, None, "  packages = [ pkgs.git pkgs.jq ];"),
        ("+", None, 6, "  packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];"),
    ]
    assert first.lines[0] == first.lines[0].__class__(" ", 3, 3, "{")
    assert [h.index for h in fd.hunks] == [0, 1]


def test_context_controls_hunk_merging() -> None:
    assert len(diff_texts(OLD, NEW, context=3).hunks) == 2
    assert len(diff_texts(OLD, NEW, context=6).hunks) == 1
    zero = diff_texts(OLD, NEW, context=0)
    assert all(l.kind != " " for h in zero.hunks for l in h.lines)
    assert zero.hunks[1].header == "@@ -14,0 +15,2 @@"


def test_missing_final_newline_is_a_change_of_the_last_line() -> None:
    fd = diff_texts("a\nb\n", "a\nb")
    assert [(l.kind, l.text, l.eol) for l in fd.hunks[0].lines] == [(" ", "a", True), ("-", "b", True), ("+", "b", False)]
    assert split_lines("a\nb") == ["a\n", "b"] and split_lines("") == [] and split_lines("\n") == ["\n"]


def test_new_and_deleted_file() -> None:
    created = diff_texts("", "a\nb\n")
    assert created.hunks[0].header == "@@ -0,0 +1,2 @@" and created.added == 2
    deleted = diff_texts("a\nb\n", "")
    assert deleted.hunks[0].header == "@@ -1,2 +0,0 @@" and deleted.removed == 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair(), st.integers(0, 4))
def test_hunks_cover_exactly_the_changes(texts: tuple[str, str], context: int) -> None:
    old, new = texts
    fd = diff_texts(old, new, context)
    assert (fd.hunks == []) == (old == new)
    prev_old = prev_new = -1
    for n, hunk in enumerate(fd.hunks):
        assert hunk.index == n
        assert hunk.old_lo > prev_old and hunk.new_lo > prev_new or n == 0
        old_side = [l.text + ("\n" if l.eol else "") for l in hunk.lines if l.kind != "+"]
        new_side = [l.text + ("\n" if l.eol else "") for l in hunk.lines if l.kind != "-"]
        assert old_side == fd.old_lines[hunk.old_lo : hunk.old_hi]
        assert new_side == fd.new_lines[hunk.new_lo : hunk.new_hi]
        assert any(l.kind != " " for l in hunk.lines)
        # unchanged stretches between hunks are the same lines on both sides
        assert hunk.old_lo - (prev_old if n else 0) == hunk.new_lo - (prev_new if n else 0)
        prev_old, prev_new = hunk.old_hi, hunk.new_hi


# ---------------------------------------------------------------------------------------------
# Partial apply


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair())
def test_all_hunks_give_new_and_none_give_old(texts: tuple[str, str]) -> None:
    old, new = texts
    n = len(diff_texts(old, new).hunks)
    assert apply_hunks(old, new, set(range(n))) == new
    assert apply_hunks(old, new, set()) == old


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair(), st.data())
def test_subset_equals_hunks_applied_one_at_a_time_in_any_order(texts: tuple[str, str], data: st.DataObject) -> None:
    old, new = texts
    fd = diff_texts(old, new)
    chosen = data.draw(st.sets(st.integers(0, max(len(fd.hunks) - 1, 0))) if fd.hunks else st.just(set()))
    order = data.draw(st.permutations(sorted(chosen)))
    assert apply_hunks(old, new, chosen) == _apply_in_order(fd, list(order))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair(), st.data())
def test_lines_outside_selected_hunks_are_old_lines(texts: tuple[str, str], data: st.DataObject) -> None:
    old, new = texts
    fd = diff_texts(old, new)
    chosen = data.draw(st.sets(st.integers(0, max(len(fd.hunks) - 1, 0))) if fd.hunks else st.just(set()))
    result = split_lines(apply_hunks(old, new, chosen))
    kept_old = list(fd.old_lines)
    kept_result = list(result)
    shift = 0
    for hunk in reversed(fd.hunks):  # cut from the end so earlier positions stay valid
        if hunk.index in chosen:
            del kept_old[hunk.old_lo : hunk.old_hi]
    for hunk in fd.hunks:
        if hunk.index in chosen:
            # what precedes it now: old's lines outside the selected hunks already cut
            at = hunk.old_lo - shift
            assert kept_result[at : at + hunk.new_len] == fd.new_lines[hunk.new_lo : hunk.new_hi]
            del kept_result[at : at + hunk.new_len]
            shift += hunk.old_len
    assert kept_result == kept_old


def test_partial_apply_of_a_realistic_edit() -> None:
    assert apply_hunks(OLD, NEW, {0}) == OLD.replace("pkgs.git pkgs.jq", "pkgs.git pkgs.jq pkgs.ripgrep")
    assert apply_hunks(OLD, NEW, {1}) == NEW.replace("pkgs.git pkgs.jq pkgs.ripgrep", "pkgs.git pkgs.jq")


def test_unknown_hunk_index_is_an_error() -> None:
    with pytest.raises(PatchError, match="hunk 2 does not exist: the diff has 2 hunk"):
        apply_hunks(OLD, NEW, {0, 2})


# ---------------------------------------------------------------------------------------------
# Rows and intra-line spans


def test_unified_rows() -> None:
    rows = diff_texts("a\nold line here\nc\n", "a\nnew line here\nc\nd\n").rows_unified()
    assert [(r.kind, r.old_no, r.new_no, r.text) for r in rows] == [
        ("@", None, None, "@@ -1,3 +1,4 @@"),
        (" ", 1, 1, "a"),
        ("-", 2, None, "old line here"),
        ("+", None, 2, "new line here"),
        (" ", 3, 3, "c"),
        ("+", None, 4, "d"),
    ]
    assert rows[2].spans() == ((0, 3),) and rows[3].spans() == ((0, 3),)
    assert rows[5].spans() == ()  # an added line with nothing paired


def test_split_rows_pair_change_blocks_and_fill_the_shorter_side() -> None:
    old = "keep\nx1\nx2\nx3\nkeep2\n"
    new = "keep\ny1\nkeep2\nz\n"
    rows = diff_texts(old, new).rows_split()
    shown = [(r.kind, r.left and (r.left.kind, r.left.no, r.left.text), r.right and (r.right.kind, r.right.no, r.right.text)) for r in rows]
    assert shown == [
        ("@", None, None),
        ("line", (" ", 1, "keep"), (" ", 1, "keep")),
        ("line", ("-", 2, "x1"), ("+", 2, "y1")),
        ("line", ("-", 3, "x2"), None),
        ("line", ("-", 4, "x3"), None),
        ("line", (" ", 5, "keep2"), (" ", 3, "keep2")),
        ("line", None, ("+", 4, "z")),
    ]
    assert rows[0].text == "@@ -1,5 +1,4 @@" and rows[0].hunk == 0
    assert rows[2].left.partner == "y1" and rows[2].right.partner == "x1" and rows[3].left.partner is None


def test_intraline_marks_the_changed_words_only() -> None:
    a = "  packages = [ pkgs.git pkgs.jq ];"
    b = "  packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];"
    spans_a, spans_b = intraline(a, b)
    assert spans_a == ()
    assert [b[s:e] for s, e in spans_b] == [" pkgs.ripgrep"] or [b[s:e] for s, e in spans_b] == ["pkgs.ripgrep "]
    spans_a, spans_b = intraline('  env.GREET = "hello";', '  env.GREET = "bonjour";')
    assert [('  env.GREET = "hello";')[s:e] for s, e in spans_a] == ["hello"]
    assert [('  env.GREET = "bonjour";')[s:e] for s, e in spans_b] == ["bonjour"]
    assert intraline("completely different", "{ x = 1; }") == ((), ())
    assert intraline("same", "same") == ((), ())


# ---------------------------------------------------------------------------------------------
# Unified patches


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair(), st.integers(0, 4))
def test_patch_round_trip(texts: tuple[str, str], context: int) -> None:
    old, new = texts
    patch = unified_patch(old, new, "devenv.nix", context=context)
    if old == new:
        assert patch == ""
    else:
        assert apply_patch(old, patch) == new


UNIQUE_LINE = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(UNIQUE_LINE, min_size=1, max_size=40, unique=True), st.data())
def test_single_hunk_patches_apply_one_at_a_time_in_any_order(lines: list[str], data: st.DataObject) -> None:
    """Each hunk as its own patch applies at an offset once other hunks changed the line count."""
    old = "".join(l + "\n" for l in lines)
    new_lines = list(lines)
    for n in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(new_lines)))
        if data.draw(st.booleans()) and at < len(new_lines):
            del new_lines[at]
        else:
            new_lines[at:at] = [f"NEW{n}-{k}" for k in range(data.draw(st.integers(1, 3)))]
    new = "".join(l + "\n" for l in new_lines)
    fd = diff_texts(old, new)
    order = data.draw(st.permutations(range(len(fd.hunks))))
    chosen = set(order[: data.draw(st.integers(0, len(order)))])
    current = old
    for i in order:
        if i in chosen:
            current = apply_patch(current, fd.patch("f", {i}))
    assert current == apply_hunks(old, new, chosen)


def test_patch_text_format() -> None:
    patch = unified_patch("a\nb\n", "a\nc", "devenv.nix")
    assert patch == ("--- a/devenv.nix\n+++ b/devenv.nix\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n")


def _real_diff(tmp_path: Path, old: str, new: str, *cmd: str) -> str:
    (tmp_path / "old").mkdir(exist_ok=True)
    (tmp_path / "new").mkdir(exist_ok=True)
    (tmp_path / "old" / "devenv.nix").write_bytes(old.encode())
    (tmp_path / "new" / "devenv.nix").write_bytes(new.encode())
    result = subprocess.run([*cmd, "old/devenv.nix", "new/devenv.nix"], cwd=tmp_path, capture_output=True)
    assert result.returncode == 1, result.stderr  # 1 = the files differ
    return result.stdout.decode()  # bytes, so "\r\n" lines reach the parser untranslated


CASES = [
    (OLD, NEW),
    (OLD, OLD.rstrip("\n")),  # drops the final newline
    (OLD.rstrip("\n"), NEW),  # adds it back
    ("", OLD),
    (OLD, OLD.replace("{", "{\n  # a comment\n").replace("  '';\n", "")),
    ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"),
]


@pytest.mark.parametrize(("old", "new"), CASES)
def test_applies_patches_from_real_diff_u(tmp_path: Path, old: str, new: str) -> None:
    if not shutil.which("diff"):
        pytest.skip("diff is not installed")
    patch = _real_diff(tmp_path, old, new, "diff", "-u")
    assert patch.startswith("--- old/devenv.nix\t")  # with a timestamp after a tab
    assert apply_patch(old, patch) == new


@pytest.mark.parametrize(("old", "new"), CASES)
@pytest.mark.parametrize("prefix", [[], ["--no-prefix"]])
def test_applies_patches_from_real_git_diff(tmp_path: Path, old: str, new: str, prefix: list[str]) -> None:
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    patch = _real_diff(tmp_path, old, new, "git", "-c", "core.autocrlf=false", "diff", "--no-index", "--no-color", *prefix)
    assert patch.startswith("diff --git ")
    assert apply_patch(old, patch) == new
    assert apply_patch(old, patch, path="new/devenv.nix") == new


@pytest.mark.parametrize(("old", "new"), CASES)
def test_gnu_patch_applies_our_patches(tmp_path: Path, old: str, new: str) -> None:
    if not shutil.which("patch"):
        pytest.skip("patch is not installed")
    target = tmp_path / "devenv.nix"
    target.write_bytes(old.encode())
    patch = unified_patch(old, new, "devenv.nix")
    result = subprocess.run(
        ["patch", "-p1", "--batch", "--fuzz=0", "--no-backup-if-mismatch"],
        cwd=tmp_path,
        input=patch.encode(),
        capture_output=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_bytes() == new.encode()


def test_patch_applies_at_an_offset() -> None:
    patch = unified_patch(OLD, NEW, "devenv.nix")
    moved = "# header\n# more\n" + OLD
    assert apply_patch(moved, patch) == "# header\n# more\n" + NEW


def test_patch_that_does_not_match_names_hunk_and_line() -> None:
    patch = unified_patch(OLD, NEW, "devenv.nix")
    changed = OLD.replace('echo "$GREET from devenv"', 'echo "hi"')
    with pytest.raises(PatchError) as err:
        apply_patch(changed, patch)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("hunk 2 (@@ -12,4 +12,6 @@) does not apply: line 13 should be")
    assert "'    echo \"$GREET from devenv\"'" in message and "'    echo \"hi\"'" in message


def test_patch_against_a_short_file_names_the_missing_line() -> None:
    with pytest.raises(PatchError, match=r"hunk 1 \(@@ -3,2 \+3,2 @@\) does not apply: line 3 should be 'c' but the file has only 2 line"):
        apply_patch("a\nb\n", "--- a/f\n+++ b/f\n@@ -3,2 +3,2 @@\n c\n-d\n+e\n")


def test_patch_newline_mismatch_is_named() -> None:
    patch = unified_patch("a\nb\n", "a\nc\n", "f")
    with pytest.raises(PatchError, match="line 2 lacks a final newline"):
        apply_patch("a\nb", patch)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("just some text\n", "the patch contains no hunks"),
        ("", "the patch contains no hunks"),
        ("@@ -1 +1 @@\n-a\n+b\n", re.escape("patch line 1: hunk header before any '--- '/'+++ ' file header")),
        ("--- a/f\n+++ b/f\n@@ -x +1 @@\n", re.escape("patch line 3: malformed hunk header '@@ -x +1 @@'")),
        ("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n", r"hunk 1 \(@@ -1,2 \+1,2 @@\) ends early"),
        ("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n*b\n+c\n", "patch line 5: hunk 1 .* has a line starting with '\\*'"),
        ("--- a/f\n+++ b/f\nBinary files a/f and b/f differ\n", "binary patches are not supported"),
    ],
)
def test_malformed_patches_are_named(patch: str, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        apply_patch("a\nb\n", patch)


def test_multi_file_patch_needs_a_path() -> None:
    patch = unified_patch("a\n", "b\n", "devenv.nix") + unified_patch("x\n", "y\n", ".envrc")
    with pytest.raises(PatchError, match=r"changes 2 files \(devenv.nix, .envrc\); name the one"):
        apply_patch("a\n", patch)
    assert apply_patch("x\n", patch, path=".envrc") == "y\n"
    assert apply_patch("a\n", patch, path="./devenv.nix") == "b\n"
    with pytest.raises(PatchError, match="no section for devenv.yaml"):
        apply_patch("a\n", patch, path="devenv.yaml")


def test_new_file_patch_refuses_an_existing_file() -> None:
    patch = "--- /dev/null\n+++ b/devenv.local.nix\n@@ -0,0 +1 @@\n+{ }\n"
    assert apply_patch("", patch) == "{ }\n"
    assert parse_patch(patch)[0].old_path is None
    with pytest.raises(PatchError, match="creates devenv.local.nix but that file already has content"):
        apply_patch("{ x = 1; }\n", patch)


def test_patch_with_blank_context_lines_stripped_of_their_space() -> None:
    # Some mailers and editors drop the single space of an empty context line.
    patch = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n"
    assert apply_patch("a\n\nb\n", patch) == "a\n\nc\n"


def test_order_of_permutations_helper_is_exhaustive_on_a_real_diff() -> None:
    fd = diff_texts(OLD, NEW)
    for order in itertools.permutations(range(len(fd.hunks))):
        assert _apply_in_order(fd, list(order)) == NEW


def test_section_names_the_enclosing_block_of_a_hunk() -> None:
    old = "{ pkgs, ... }:\n{\n  services.pg = {\n    enable = true;\n    port = 1;\n    extra = 2;\n    more = 3;\n    x = 4;\n  };\n}\n"
    fd = diff_texts(old, old.replace("x = 4", "x = 5"))
    assert fd.section(0) == "services.pg = {"
    fd = diff_texts(OLD, NEW)  # top-level attributes: nothing encloses them but the file's own braces
    assert [fd.section(i) for i in range(len(fd.hunks))] == ["", ""]
    nested = "{\n  a = {\n    b = {\n      c = 1;\n    };\n  };\n}\n"
    assert diff_texts(nested, nested.replace("c = 1", "c = 2")).section(0) == "b = {"


def test_recursive_diff_sections_are_found_by_their_path_inside_the_tree(tmp_path: Path) -> None:
    if not shutil.which("diff"):
        pytest.skip("diff is not installed")
    for side, nix, envrc in (("old", OLD, "use devenv\n"), ("new", NEW, "use devenv\nexport A=1\n")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "devenv.nix").write_text(nix)
        (tmp_path / side / ".envrc").write_text(envrc)
    patch = subprocess.run(["diff", "-ru", "old", "new"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert apply_patch(OLD, patch, path="devenv.nix") == NEW
    assert apply_patch("use devenv\n", patch, path=".envrc") == "use devenv\nexport A=1\n"


def test_a_patch_of_some_hunks_numbers_the_new_side_as_its_own_result(tmp_path: Path) -> None:
    fd = diff_texts(OLD, NEW)
    partial = fd.patch("devenv.nix", {1})
    assert "@@ -12,4 +12,6 @@" in partial  # hunk 0 left out: nothing shifts before hunk 1
    shifted = diff_texts("a\n" + OLD, "a\nb\nc\n" + NEW)
    assert [h.header for h in shifted.hunks] == ["@@ -1,10 +1,12 @@", "@@ -13,4 +15,6 @@"]
    assert "@@ -13,4 +13,6 @@" in shifted.patch("devenv.nix", {1})  # without hunk 0's two lines
    assert "@@ -13,4 +15,6 @@" in shifted.patch("devenv.nix", {0, 1})
    if shutil.which("patch"):
        target = tmp_path / "devenv.nix"
        target.write_text(OLD)
        result = subprocess.run(["patch", "-p1", "--batch", "--fuzz=0"], cwd=tmp_path, input=partial.encode(), capture_output=True)
        assert result.returncode == 0 and target.read_text() == apply_hunks(OLD, NEW, {1})


def test_hunks_are_immutable_values_and_file_diffs_compare_by_content_not_their_caches() -> None:
    """`Hunk` and `FileDiff` are written-out classes (cheaper to import than dataclasses): they keep the
    dataclasses' behaviour — a hunk cannot be changed, is equal and hashes equal to one with the same
    fields, survives copy and pickle; a file diff compares by its texts, hunks and blocks, not by the
    rows it has cached."""
    import copy
    import pickle

    from omni_tui.core.textdiff import Hunk

    old, new = "a\nb\nc\n", "a\nB\nc\n"
    first, second = diff_texts(old, new), diff_texts(old, new)
    hunk = first.hunks[0]
    assert hunk == second.hunks[0] and hash(hunk) == hash(second.hunks[0]) and len({hunk, second.hunks[0]}) == 1
    assert hunk.index == 0 and (hunk.old_lo, hunk.old_hi, hunk.new_lo, hunk.new_hi) == (0, 3, 0, 3)
    assert hunk != Hunk(1, hunk.old_lo, hunk.old_hi, hunk.new_lo, hunk.new_hi, hunk.lines)
    with pytest.raises(AttributeError):
        hunk.index = 5  # type: ignore[misc]
    assert copy.copy(hunk) == hunk and pickle.loads(pickle.dumps(hunk)) == hunk
    assert repr(hunk).startswith("Hunk(index=0, old_lo=0, old_hi=3,")
    first.rows_unified()  # fills a cache the other has not
    assert first == second and first != diff_texts(old, old) and isinstance(first, FileDiff)
    with pytest.raises(TypeError):
        hash(first)
