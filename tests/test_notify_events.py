"""Notifications: the event JSON a `[notify] command` reads, OSC 9 / OSC 777 bytes (tmux passthrough)
that never carry an agent's escape sequences, which terminals get them by default, the rate limit, and
a real command run for each event without ever blocking the caller (a failing one reported once)."""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time
from pathlib import Path

import pytest

from omni_tui.core.config import NotifyConfig, parse_config
from omni_tui.core.errors import ConfigError
from omni_tui.core.notify import (
    EVENTS,
    NotifyEvent,
    RateLimiter,
    osc9,
    osc777,
    osc_enabled,
    printable,
    terminal_sequences,
    terminal_supports_osc,
    tmux_passthrough,
)
from omni_tui.ui.notifier import Notifier

HOSTILE_TITLE = "add jq\x1b]0;pwned\x07\x1b[2J\x9b31m\u202etxt.exe\r\nrm -rf ~"
HOSTILE_AGENT = "ag\x1bPtmux;\x1b\x1b]52;c;ZXZpbA==\x07\x1b\\ent"


def hostile(event: str = "proposal") -> NotifyEvent:
    return NotifyEvent(event, "/home/p/proj", "20261204-abc", HOSTILE_TITLE, HOSTILE_AGENT, {"risks": ["runs_on_cd"]})


def wait_until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within the upper bound")
        time.sleep(0.02)


# -- the pure part ------------------------------------------------------------------------------------


def test_the_json_carries_agent_text_as_plain_data_exactly() -> None:
    doc = json.loads(hostile().json_line())
    assert doc == {
        "event": "proposal",
        "project": "/home/p/proj",
        "proposal_id": "20261204-abc",
        "title": HOSTILE_TITLE,
        "agent": HOSTILE_AGENT,
        "card": {"risks": ["runs_on_cd"]},
    }
    assert b"\x1b" not in hostile().json_line() and hostile().json_line().count(b"\n") == 1


def test_an_unknown_event_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        NotifyEvent("approved", "/p")


@pytest.mark.parametrize("tmux", [False, True])
def test_osc_notifications_never_carry_an_agents_escape_sequences(tmux: bool) -> None:
    env = {"TMUX": "/tmp/tmux-0/default,1,0"} if tmux else {}
    out = terminal_sequences(hostile(), env)
    if tmux:
        assert out.startswith("\x1bPtmux;\x1b\x1b]9;") and out.count("\x1bPtmux;") == 2
        inner = out.replace("\x1bPtmux;", "").replace("\x1b\x1b", "\x1b").replace("\x1b\\\x1b\\", "\x1b\\")
    else:
        inner = out
    # Exactly the two sequences we frame; every other byte is printable text.
    assert inner.startswith("\x1b]9;") and "\x1b]777;notify;omni-tui: proposal waiting;" in inner
    assert inner.count("\x1b") == 4 and inner.count("\x1b\\") == 2
    text = inner.replace("\x1b]9;", "").replace("\x1b]777;notify;", "").replace("\x1b\\", "")
    assert text.isprintable() and "\x07" not in text and "\u202e" not in text and "\x9b" not in text
    assert "add jq" in text and "\\x1b" in text  # the escape is shown, visibly, not sent


def test_notification_text_is_cut_to_a_bubbles_length() -> None:
    long = NotifyEvent("proposal", "/p", "x", "t" * 10_000, "a")
    assert len(osc777("omni-tui", long.body())) < 300
    assert len(osc9("x" * 10_000)) < 300
    assert printable("a;b\nc", 10) == "a,b c"
    assert printable("x" * 20, 5) == "xxxx…"


def test_tmux_passthrough_doubles_every_escape_inside() -> None:
    assert tmux_passthrough("\x1b]9;hi\x1b\\") == "\x1bPtmux;\x1b\x1b]9;hi\x1b\x1b\\\x1b\\"


@pytest.mark.parametrize(
    "env, shown",
    [
        ({"TERM_PROGRAM": "iTerm.app"}, True),
        ({"TERM_PROGRAM": "WezTerm"}, True),
        ({"TERM_PROGRAM": "ghostty"}, True),
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM": "foot"}, True),
        ({"WT_SESSION": "4f1c"}, True),
        ({"TERM": "tmux-256color", "KITTY_WINDOW_ID": "1"}, True),
        ({"TERM": "tmux-256color", "TERM_PROGRAM": "tmux", "ITERM_SESSION_ID": "w0t0p0:1"}, True),
        ({"TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"}, True),  # over ssh from iTerm2
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "tmux-256color", "TMUX": "x"}, False),
        ({"TERM_PROGRAM": "textual"}, False),  # a browser session (xterm.js)
        ({}, False),
    ],
)
def test_desktop_notifications_are_on_by_default_only_where_the_terminal_says_it_shows_them(env: dict[str, str], shown: bool) -> None:
    assert terminal_supports_osc(env) is shown
    assert osc_enabled("auto", env) is shown
    assert osc_enabled("on", env) and not osc_enabled("off", {"TERM_PROGRAM": "iTerm.app"})


def test_the_rate_limit_lets_n_through_per_window_and_counts_the_rest() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 60.0, clock=lambda: now[0])
    assert [limiter.allow() for _ in range(5)] == [(True, 0), (True, 0), (False, 0), (False, 0), (False, 0)]
    now[0] = 61.0
    assert limiter.allow() == (True, 3)


def test_notify_config_is_checked_key_by_key() -> None:
    config = parse_config({"notify": {"command": "notify-send x", "terminal": "on", "events": ["proposal"], "max_per_minute": 3}}, "t")
    assert config.notify == NotifyConfig(terminal="on", command="notify-send x", events=("proposal",), max_per_minute=3)
    assert parse_config({}, "t").notify.terminal == "auto"
    for bad, word in [
        ({"terminal": "yes"}, "terminal"),
        ({"events": ["approved"]}, "approved"),
        ({"colour": 1}, "colour"),
        ({"max_per_minute": 0}, "max_per_minute"),
        ({"command": ""}, "command"),
    ]:
        with pytest.raises(ConfigError, match=word):
            parse_config({"notify": bad}, "omni-tui.toml")


# -- a real command ------------------------------------------------------------------------------------


def recorder(tmp_path: Path, *, exit_code: int = 0, sleep: float = 0.0) -> tuple[str, Path]:
    """A command that appends the JSON it reads on stdin to a file (one line per event)."""
    out = tmp_path / "received.jsonl"
    script = tmp_path / "record.py"
    script.write_text(
        "import sys, time\n"
        f"data = sys.stdin.read()\nopen({str(out)!r}, 'a').write(data)\n"
        f"time.sleep({sleep})\n"
        f"if {exit_code}: sys.stderr.write('webhook said 500\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", out


def make_notifier(tmp_path: Path, command: str, **config: object) -> tuple[Notifier, list[str], list[str], list[str]]:
    bells: list[str] = []
    written: list[str] = []
    reports: list[str] = []
    notifier = Notifier(
        NotifyConfig(command=command, **config),  # type: ignore[arg-type]
        root=tmp_path,
        env={},
        via="terminal",
        ring_bell=lambda: bells.append("bell"),
        write_terminal=written.append,
        report=reports.append,
    )
    return notifier, bells, written, reports


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_command_receives_the_json_of_every_event(tmp_path: Path) -> None:
    command, out = recorder(tmp_path)
    notifier, bells, written, reports = make_notifier(tmp_path, command)
    for event in EVENTS:
        notifier.event(hostile(event))
    wait_until(lambda: len(lines(out)) == len(EVENTS))
    received = lines(out)
    assert [doc["event"] for doc in received] == list(EVENTS)
    assert all(doc["title"] == HOSTILE_TITLE and doc["agent"] == HOSTILE_AGENT for doc in received)
    assert all(set(doc) == {"event", "project", "proposal_id", "title", "agent", "card"} for doc in received)
    assert bells == ["bell"] * len(EVENTS) and written == [] and reports == []  # no OSC: env says nothing
    notifier.stop()


def test_a_failing_command_is_reported_once_and_the_events_go_on(tmp_path: Path) -> None:
    command, out = recorder(tmp_path, exit_code=3)
    notifier, _, _, reports = make_notifier(tmp_path, command)
    for _ in range(3):
        notifier.event(hostile())
    wait_until(lambda: len(lines(out)) == 3)
    wait_until(lambda: len(reports) >= 1)
    notifier.stop()
    assert notifier._thread is not None
    notifier._thread.join(30)
    assert len(reports) == 1 and "exit 3" in reports[0] and "webhook said 500" in reports[0]


def test_a_hanging_command_never_blocks_the_cockpit_and_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    command, out = recorder(tmp_path, sleep=600)
    notifier, bells, _, reports = make_notifier(tmp_path, command, timeout_s=0.5)
    returned = threading.Event()
    notifier.event(hostile())
    returned.set()  # event() came back while the command still sleeps
    notifier.event(hostile("rebuild_failed"))
    assert returned.is_set() and len(bells) == 2
    wait_until(lambda: len(reports) == 1)
    assert "still running after 0.5 s; stopped" in reports[0]
    wait_until(lambda: len(lines(out)) == 2)  # the next event ran after the first was stopped


def test_over_the_rate_limit_events_are_dropped_and_counted(tmp_path: Path) -> None:
    command, out = recorder(tmp_path)
    notifier, _, _, _ = make_notifier(tmp_path, command, max_per_minute=2)
    now = [0.0]
    notifier.limiter.clock = lambda: now[0]
    for _ in range(5):
        notifier.event(hostile())
    now[0] = 120.0
    notifier.event(hostile("rebuild_finished"))
    wait_until(lambda: len(lines(out)) == 3)
    received = lines(out)
    assert [doc["event"] for doc in received] == ["proposal", "proposal", "rebuild_finished"]
    assert received[2]["dropped_before"] == 3
    notifier.stop()


def test_events_left_out_in_config_are_not_sent(tmp_path: Path) -> None:
    command, out = recorder(tmp_path)
    notifier, bells, _, _ = make_notifier(tmp_path, command, events=("rebuild_failed",))
    notifier.event(hostile("proposal"))
    notifier.event(hostile("rebuild_failed"))
    wait_until(lambda: len(lines(out)) == 1)
    assert lines(out)[0]["event"] == "rebuild_failed" and bells == ["bell"]
    notifier.stop()


def test_osc_is_written_when_on_and_not_in_a_browser_session(tmp_path: Path) -> None:
    for via, setting, expected in [("terminal", "on", 1), ("terminal", "off", 0), ("web", "auto", 0), ("web", "on", 1)]:
        written: list[str] = []
        Notifier(
            NotifyConfig(terminal=setting),
            root=tmp_path,
            env={"TERM_PROGRAM": "WezTerm"},
            via=via,
            ring_bell=lambda: None,
            write_terminal=written.append,
            report=lambda _: None,
        ).event(hostile())
        assert len(written) == expected, (via, setting)


def test_two_cockpits_on_one_project_run_the_command_once_per_event(tmp_path: Path) -> None:
    """A pair has two cockpits open (a terminal and a browser): both see the proposal; one runs the command."""
    from omni_tui.core.notify import claim, event_key

    command, out = recorder(tmp_path)
    folder = tmp_path / "state" / "notified"
    cockpits = []
    for _ in range(2):
        notifier, _, _, _ = make_notifier(tmp_path, command)
        notifier.claim = lambda event: (key := event_key(event, 1000.0)) is None or claim(folder, key, 1000.0)
        cockpits.append(notifier)
    for notifier in cockpits:
        notifier.event(hostile("proposal"))
        notifier.event(hostile("stale"))
    cockpits[0].event(hostile("rebuild_finished"))  # its own rebuild: nothing to share
    wait_until(lambda: len(lines(out)) == 3)
    for notifier in cockpits:
        notifier.stop()
        assert notifier._thread is not None
        notifier._thread.join(30)
    assert sorted(doc["event"] for doc in lines(out)) == ["proposal", "rebuild_finished", "stale"]
