"""The cockpit's wording without a terminal: key map validation, ages, badges, queue order, summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omni_tui.core.errors import ConfigError
from omni_tui.core.proposals import Decision, FileChange, Proposal, ProposalEntry, Quarantined
from omni_tui.core.validate import Issue, Validation
from omni_tui.ui import presenters
from omni_tui.ui.keys import ACTIONS, default_bindings, keymap_from_config

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def stamp(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(pid: str, status: str, seconds_ago: float, decided_ago: float | None = None) -> ProposalEntry:
    proposal = Proposal(pid, "agent", f"title {pid}", "why", stamp(seconds_ago), (FileChange("devenv.nix", None, "{ }\n"),))
    decision = None
    if status != "pending":
        decision = Decision(pid, status, None, "alice", stamp(decided_ago if decided_ago is not None else seconds_ago))
    return ProposalEntry(proposal, status, decision)


def test_every_action_has_a_unique_id_and_default_key() -> None:
    ids = [spec.id for spec in ACTIONS]
    assert len(ids) == len(set(ids))
    # Each action is bound once, by the widget that owns it (the App, the diff panels, the process table).
    owners = dict.fromkeys(spec.owner for spec in ACTIONS)
    bindings = [b for owner in owners for b in default_bindings(owner)]
    assert sorted(b.id for b in bindings) == sorted(ids)
    assert {b.key for b in bindings} >= {
        "a",
        "r",
        "e",
        "space",
        "n",
        "p",
        "s",
        "A",
        "u",
        "c",
        "b",
        "R",
        "x",
        "l",
        "tab",
        "shift+tab",
        "z",
        "question_mark",
        "q",
    }


def test_keymap_accepts_what_people_write_and_names_bad_entries() -> None:
    assert keymap_from_config({"approve": "y", "help": "?", "quit": "ctrl+Q", "reject": "F2"}) == {
        "approve": "y",
        "help": "question_mark",
        "quit": "ctrl+q",
        "reject": "f2",
    }
    with pytest.raises(ConfigError, match=r"^\[keys\] aprove: unknown action \(known: approve, "):
        keymap_from_config({"aprove": "y"})
    with pytest.raises(ConfigError, match=r"^\[keys\] approve: key 'r' is already bound to reject$"):
        keymap_from_config({"approve": "r"})
    with pytest.raises(ConfigError, match=r"^\[keys\] approve: the key must be a non-empty string"):
        keymap_from_config({"approve": "  "})
    assert keymap_from_config({"approve": "r", "reject": "y"}) == {"approve": "r", "reject": "y"}  # a swap is fine


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (86400 * 3, "3d"), (-30, "0s")]
)
def test_ages(seconds: int, shown: str) -> None:
    assert presenters.format_age(stamp(seconds), NOW) == shown
    assert presenters.format_age("yesterday", NOW) == "?"


def test_badges_say_what_is_wrong() -> None:
    ok = Validation((), nix_checked=True)
    unchecked = Validation((), nix_checked=False, notes=("nix-instantiate not found",))
    stale = Validation((Issue("devenv.nix", "stale", "changed since"),), nix_checked=True)
    broken = Validation((Issue("devenv.nix", "nix", "syntax error, unexpected '}'", 3, 1),), nix_checked=True)
    assert presenters.badge("pending", ok) == ("✓ ok", "ok")
    assert presenters.badge("pending", unchecked) == ("✓ ok*", "warn")
    assert presenters.badge("pending", stale) == ("✗ stale", "bad")
    assert presenters.badge("pending", broken) == ("✗ nix", "bad")
    assert presenters.badge("pending", None) == ("…", "none")
    assert presenters.badge("applied", ok) == ("", "none")
    checks = presenters.validation_checks(broken)
    assert checks[0].ok is False and "devenv.nix:3:1" in checks[0].text
    assert [c.ok for c in presenters.validation_checks(unchecked)] == [None, True, True]


def test_queue_order_pending_oldest_first_then_in_flight_invalid_and_latest_decided() -> None:
    entries = [
        entry("new", "pending", 10),
        entry("old", "pending", 500),
        entry("done-long-ago", "applied", 900, decided_ago=800),
        entry("busy", "rebuilding", 60),
        entry("done-recently", "rejected", 700, decided_ago=5),
    ]
    quarantined = [Quarantined(Path("/x/quarantine/bad.json"), "missing field `agent`")]
    rows = presenters.queue_rows(entries, quarantined, {}, NOW)
    assert [row.key for row in rows] == ["old", "new", "busy", "quarantine:bad.json", "done-recently", "done-long-ago"]
    assert rows[0].age == "8m" and rows[3].state == "invalid"


def test_file_summary_counts_only_the_chosen_hunks() -> None:
    old = "".join(f"line {i}\n" for i in range(30))
    new = old.replace("line 2\n", "line two\n").replace("line 25\n", "line 25\nextra\n")
    every = presenters.file_summary("devenv.nix", old, new, None)
    assert (every.added, every.removed, every.hunks_selected, every.hunks_total) == (2, 1, 2, 2)
    second = presenters.file_summary("devenv.nix", old, new, {1})
    assert (second.added, second.removed, second.hunks_selected, second.partial) == (1, 0, 1, True)
    assert presenters.file_summary(".envrc", None, "use devenv\n", None).new_file
