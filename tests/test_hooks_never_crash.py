"""Hostile input never crashes a hook into an exit code that lets the tool run: generated payloads and command lines.

Claude Code and Codex run the tool after exit 1 (or any code but 0 and 2); Gemini after a timeout. Whatever an
agent sends, every hook ends in 0 (pass, or a deny on stdout) or 2 (block, one line on stderr)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omni_tui.agents import claude_code_hook, codex_hook, gemini_hook
from omni_tui.agents.shell_syntax import ShellSyntaxError
from omni_tui.agents.shell_writes import shell_writes

SHELLISH = st.lists(
    st.sampled_from(
        list("ab.nix/ $'\"`()<>|&;\\\n\t-=*?[]{}~#!ie")
        + ["devenv.nix", "sed -i ", "cd ", "<<EOF\n", "\nEOF\n", "bash -c ", "$(", "tee ", "cp ", "F="]
    ),
    max_size=30,
).map("".join)
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["devenv.nix", "../devenv.nix", "\ud800", "\x1b[2J"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@given(SHELLISH)
@settings(max_examples=300, deadline=None)
def test_the_shell_reader_returns_writes_or_a_syntax_error(command: str) -> None:
    try:
        writes = shell_writes(command)
    except ShellSyntaxError:
        return
    assert all(w.kind in ("path", "pattern", "code") for w in writes)


def _payload(draw_tool: str, tool_input: Any, cwd: Any, event: str) -> str:
    return json.dumps({"hook_event_name": event, "tool_name": draw_tool, "tool_input": tool_input, "cwd": cwd})


@pytest.mark.parametrize(
    ("module", "event", "tools"),
    [
        (claude_code_hook, "PreToolUse", ["Edit", "MultiEdit", "Write", "Bash", "Read"]),
        (codex_hook, "PreToolUse", ["apply_patch", "Bash", "Edit"]),
        (gemini_hook, "BeforeTool", ["write_file", "replace", "run_shell_command"]),
    ],
)
def test_generated_payloads_end_in_0_or_2(module: Any, event: str, tools: list[str], tmp_path: Path) -> None:
    # No devenv project anywhere near: nothing can wait for a person, so every case answers at once.
    outside = tmp_path / "nowhere"
    outside.mkdir()

    @given(
        tool=st.sampled_from(tools),
        tool_input=st.one_of(
            JSONISH,
            st.fixed_dictionaries({"file_path": JSONISH, "content": JSONISH, "old_string": JSONISH, "new_string": JSONISH}),
            st.fixed_dictionaries({"command": st.one_of(SHELLISH, JSONISH)}),
        ),
        cwd=st.one_of(st.just(str(outside)), JSONISH),
    )
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def check(tool: str, tool_input: Any, cwd: Any) -> None:
        text = _payload(tool, tool_input, cwd, event)
        result = module.run(text, env={"HOME": str(outside)}, default_cwd=outside, timeout_s=0)
        assert result.exit_code in (0, 2)
        if result.exit_code == 2:
            assert result.stderr.startswith("omni-tui hook: ") and result.stderr.count("\n") == 1
        elif result.stdout:
            json.loads(result.stdout)

    check()
