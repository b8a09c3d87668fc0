"""core.buildlog: Nix internal-json and plain Nix/devenv output → phase, counts, display lines, errors.

The `@nix` lines below are copied from real `nix-build --log-format internal-json -v` runs (Nix 2.8);
tests/test_rebuild_nix.py runs real Nix end to end.
"""

from __future__ import annotations

from omni_tui.core.buildlog import (
    BuildLogParser,
    BuildProgress,
    DisplayLine,
    NixError,
    ProgressChanged,
    format_elapsed,
    short_name,
)

A = "/nix/store/yq286mcdclsqzraaq6ai1icf6wgaq7nz-a-1.0.drv"
B = "/nix/store/3c2z8hwdpf4nywajx4wwxxa2iir84sdr-b-2.0.drv"

SUCCESS = f"""@nix {{"action":"start","id":10,"level":6,"text":"querying info about missing paths","type":0}}
@nix {{"action":"stop","id":10}}
@nix {{"action":"msg","level":3,"msg":"these 2 derivations will be built:"}}
@nix {{"action":"msg","level":3,"msg":"  {A}"}}
@nix {{"action":"msg","level":3,"msg":"  {B}"}}
@nix {{"action":"start","id":11,"level":0,"text":"","type":102}}
@nix {{"action":"start","id":12,"level":0,"text":"","type":104}}
@nix {{"action":"start","id":13,"level":0,"text":"","type":103}}
@nix {{"action":"result","fields":[0,1,0,0],"id":12,"type":105}}
@nix {{"action":"result","fields":[0,0,0,0],"id":13,"type":105}}
@nix {{"action":"result","fields":[101,0],"id":11,"type":106}}
@nix {{"action":"result","fields":[0,2,0,0],"id":12,"type":105}}
@nix {{"action":"start","fields":["{A}","",1,1],"id":14,"level":3,"text":"building '{A}'","type":105}}
@nix {{"action":"result","fields":[0,2,1,0],"id":12,"type":105}}
@nix {{"action":"result","fields":["building a-1.0"],"id":14,"type":101}}
@nix {{"action":"result","fields":["\\u001b[31mred\\u001b[0m"],"id":14,"type":101}}
@nix {{"action":"result","fields":[1,2,0,0],"id":12,"type":105}}
@nix {{"action":"stop","id":14}}
@nix {{"action":"start","fields":["{B}","",1,1],"id":15,"level":3,"text":"building '{B}'","type":105}}
@nix {{"action":"result","fields":[1,2,1,0],"id":12,"type":105}}
@nix {{"action":"result","fields":["buildPhase"],"id":15,"type":104}}
@nix {{"action":"result","fields":["building b-2.0"],"id":15,"type":101}}
@nix {{"action":"result","fields":[2,2,0,0],"id":12,"type":105}}
@nix {{"action":"stop","id":15}}
@nix {{"action":"stop","id":13}}
@nix {{"action":"stop","id":12}}
@nix {{"action":"stop","id":11}}
/nix/store/v7f35qx93rz9b20snq9p597skvyg8gls-b-2.0""".splitlines()

FAILURE = f"""@nix {{"action":"msg","level":3,"msg":"this derivation will be built:"}}
@nix {{"action":"start","id":20,"level":0,"text":"","type":104}}
@nix {{"action":"result","fields":[0,1,0,0],"id":20,"type":105}}
@nix {{"action":"start","fields":["{A}","",1,1],"id":21,"level":3,"text":"building '{A}'","type":105}}
@nix {{"action":"result","fields":[0,1,1,0],"id":20,"type":105}}
@nix {{"action":"result","fields":["about to fail"],"id":21,"type":101}}
@nix {{"action":"result","fields":[0,0,0,1],"id":20,"type":105}}
@nix {{"action":"stop","id":21}}
@nix {{"action":"stop","id":20}}
@nix {{"action":"msg","column":null,"file":null,"level":0,"line":null,"msg":"\\u001b[31;1merror:\\u001b[0m builder for '\\u001b[35;1m{A}\\u001b[0m' failed with exit code 3","raw_msg":"builder for '{A}' failed with exit code 3"}}""".splitlines()

SYNTAX = (
    '@nix {"action":"msg","column":7,"file":"/tmp/s.nix","level":0,"line":1,"msg":"\\u001b[31;1merror:\\u001b[0m '
    "syntax error, unexpected ';'\\n\\n       \\u001b[34;1mat \\u001b[35;1m/tmp/s.nix:1:7\\u001b[0m:\\n\\n            1| { a = ; }"
    '\\n             |       \\u001b[31;1m^\\u001b[0m","raw_msg":"syntax error, unexpected \';\'"}'
)


def run(lines: list[str]) -> tuple[BuildLogParser, list]:
    parser = BuildLogParser()
    events = [event for line in lines for event in parser.feed(line)]
    return parser, events


def shown(events: list) -> list[str]:
    return [e.text for e in events if isinstance(e, DisplayLine)]


def test_successful_internal_json_build_counts_and_log_lines() -> None:
    parser, events = run(SUCCESS)
    assert (parser.progress.phase, parser.progress.done, parser.progress.expected) == ("building", 2, 2)
    lines = shown(events)
    assert [line for line in lines if "> " in line] == ["a-1.0> building a-1.0", "a-1.0> \x1b[31mred\x1b[0m", "b-2.0> building b-2.0"]
    assert "these 2 derivations will be built:" in lines
    assert f"building '{A}'" in lines
    assert "querying info about missing paths" not in lines  # level 6 is debug noise
    assert lines[-1] == "/nix/store/v7f35qx93rz9b20snq9p597skvyg8gls-b-2.0"
    parser.finish(0)
    assert parser.progress.phase == "done"
    assert parser.progress.summary(7) == "done 2/2 · 0:07"


def test_progress_names_the_running_derivation() -> None:
    parser, events = run(SUCCESS[:14])
    assert parser.progress.current == ("a-1.0",)
    assert parser.progress.summary(7) == "building 0/2 · a-1.0 · 0:07"
    summaries = [e.progress.summary() for e in events if isinstance(e, ProgressChanged)]
    assert "building 0/2 · a-1.0" in summaries


def test_failing_build_reports_failed_phase_and_error_text() -> None:
    parser, events = run(FAILURE)
    errors = [e.text for e in events if isinstance(e, NixError)]
    assert errors == [f"error: builder for '{A}' failed with exit code 3"]
    assert parser.progress.phase == "failed"
    assert parser.progress.failed == 1
    assert parser.progress.expected == 1  # Nix lowers its figure on failure; the announced one stays
    assert parser.progress.last_error == errors[0]
    assert "a-1.0> about to fail" in shown(events)
    assert parser.progress.summary(3) == "failed · 0/1 built · 1 failed · 0:03"


def test_syntax_error_keeps_nix_message_with_position() -> None:
    parser, events = run([SYNTAX])
    (error,) = [e.text for e in events if isinstance(e, NixError)]
    assert error.startswith("error: syntax error, unexpected ';'")
    assert "at /tmp/s.nix:1:7:" in error
    assert parser.progress.phase == "failed"
    assert len(shown(events)) == 6  # the message is shown line by line


def test_literal_result_type_104_with_counts_is_accepted() -> None:
    parser, _ = run(
        ['@nix {"action":"start","id":5,"level":0,"text":"","type":104}', '@nix {"action":"result","id":5,"type":104,"fields":[3,5,1,0]}']
    )
    assert (parser.progress.phase, parser.progress.done, parser.progress.expected, parser.progress.running) == ("building", 3, 5, 1)


def test_plain_nix_output_gives_phase_counts_and_errors() -> None:
    parser, events = run(
        [
            "these 3 derivations will be built:",
            f"  {A}",
            f"building '{A}'...",
            "building a-1.0",
            f"building '{B}'...",
        ]
    )
    assert (parser.progress.phase, parser.progress.done, parser.progress.expected) == ("building", 1, 3)
    assert parser.progress.current == ("b-2.0",)
    assert shown(events)[3] == "building a-1.0"
    parser.feed(f"error: builder for '{B}' failed with exit code 2;")
    parser.feed("       last 10 log lines:")
    parser.feed("       > boom")
    assert parser.progress.phase == "failed"
    assert parser.progress.last_error == f"error: builder for '{B}' failed with exit code 2;\n       last 10 log lines:\n       > boom"
    parser.feed("unrelated line")
    parser.feed("   indented but after the error ended")
    assert parser.progress.last_error.endswith("> boom")


def test_plain_copying_and_devenv_phases() -> None:
    parser, _ = run(["these 4 paths will be fetched (1.2 MiB download, 5.0 MiB unpacked):"])
    assert parser.progress.phase == "copying"
    parser, _ = run(["copying path '/nix/store/abc-hello' from 'https://cache.nixos.org'..."])
    assert parser.progress.phase == "copying"
    parser, _ = run(["• Evaluating shell", "• Building shell ..."])
    assert parser.progress.phase == "building"
    parser.finish(0)
    assert parser.progress.summary() == "done"


def test_a_builds_own_output_does_not_change_the_phase() -> None:
    parser, _ = run(["these 2 derivations will be built:", f"building '{A}'...", "copying files to $out", "Evaluating tests"])
    assert (parser.progress.phase, parser.progress.current) == ("building", ("a-1.0",))


def test_finish_with_failure_and_garbage_lines() -> None:
    parser, events = run(["@nix {not json", "@nix [1,2]", "\x1b[2Jplain"])
    assert shown(events) == ["@nix {not json", "@nix [1,2]", "\x1b[2Jplain"]
    parser.finish(1)
    assert parser.progress.phase == "failed"
    assert parser.progress.summary(65) == "failed · 1:05"


def test_helpers() -> None:
    assert short_name(A) == "a-1.0"
    assert short_name("/nix/store/v7f35qx93rz9b20snq9p597skvyg8gls-b-2.0") == "b-2.0"
    assert short_name("hello") == "hello"
    assert format_elapsed(3725) == "1:02:05"
    assert BuildProgress(phase="building", done=1, expected=4, current=("x", "y", "z")).summary() == "building 1/4 · x +2"


def test_internal_json_copying_phase_and_counts() -> None:
    path = "/nix/store/v7f35qx93rz9b20snq9p597skvyg8gls-hello-2.12"
    parser, events = run(
        [
            '@nix {"action":"start","id":30,"level":0,"text":"","type":103}',
            f'@nix {{"action":"start","id":31,"level":3,"text":"copying path \'{path}\' from \'https://cache.nixos.org\'","type":100,"fields":["{path}","https://cache.nixos.org","local"]}}',
            '@nix {"action":"result","id":30,"type":105,"fields":[0,4,1,0]}',
        ]
    )
    assert parser.progress.phase == "copying"
    assert parser.progress.summary(2) == "copying 0/4 paths · 0:02"
    assert f"copying path '{path}' from 'https://cache.nixos.org'" in shown(events)
    parser.feed('@nix {"action":"result","id":30,"type":105,"fields":[4,4,0,0]}')
    assert (parser.progress.copied, parser.progress.to_copy) == (4, 4)
