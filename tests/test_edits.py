"""Claude Code's Edit / MultiEdit / Write semantics as pure functions (omni_tui.agents.edits)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni_tui.agents.edits import (
    EditSpec,
    apply_edit,
    apply_multi_edit,
    apply_tool,
    edit_specs,
    file_path_of,
    find_actual_string,
)
from omni_tui.core.errors import PatchError, ProposalError

NIX = """{ pkgs, ... }:

{
  packages = [ pkgs.git pkgs.jq ];

  languages.python.enable = true;
  languages.go.enable = true;
}
"""


def test_edit_replaces_the_single_occurrence() -> None:
    out = apply_edit(NIX, EditSpec("pkgs.jq", "pkgs.jq pkgs.ripgrep"), "devenv.nix")
    assert "packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];" in out
    assert out.replace(" pkgs.ripgrep", "") == NIX


def test_edit_refuses_an_ambiguous_old_string_and_names_the_count() -> None:
    with pytest.raises(PatchError, match=r"devenv.nix: old_string occurs 2 times and replace_all is false"):
        apply_edit(NIX, EditSpec(".enable = true;", ".enable = false;"), "devenv.nix")


def test_edit_with_replace_all_replaces_every_occurrence() -> None:
    out = apply_edit(NIX, EditSpec(".enable = true;", ".enable = false;", replace_all=True))
    assert out.count(".enable = false;") == 2 and ".enable = true;" not in out


def test_edit_of_a_missing_string_is_a_one_line_error() -> None:
    with pytest.raises(PatchError) as info:
        apply_edit(NIX, EditSpec("services.postgres.enable = true;\n  x = 1;", "y"), "devenv.nix")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("devenv.nix: old_string not found in the file: 'services.postgres.enable = true;⏎")


def test_edit_with_identical_strings_is_refused() -> None:
    with pytest.raises(PatchError, match="no changes to make"):
        apply_edit(NIX, EditSpec("pkgs.git", "pkgs.git"))


def test_edit_of_a_missing_file_is_refused_unless_old_string_is_empty() -> None:
    with pytest.raises(PatchError, match="the file does not exist"):
        apply_edit(None, EditSpec("a", "b"), "devenv.local.nix")
    assert apply_edit(None, EditSpec("", "{ }\n")) == "{ }\n"
    assert apply_edit("  \n", EditSpec("", "{ }\n")) == "{ }\n"
    with pytest.raises(PatchError, match="already exists and is not empty"):
        apply_edit(NIX, EditSpec("", "{ }\n"))


def test_edit_deleting_a_line_takes_its_newline() -> None:
    out = apply_edit(NIX, EditSpec("  languages.go.enable = true;", ""))
    assert out == NIX.replace("  languages.go.enable = true;\n", "")


def test_edit_matches_curly_quotes_and_keeps_the_file_style() -> None:
    text = "description = \u201cthe \u2018dev\u2019 shell\u201d;\n"
    assert find_actual_string(text, '"the') == "\u201cthe"
    out = apply_edit(text, EditSpec("\"the 'dev' shell\"", "\"the 'test' shell, don't\""))
    assert out == "description = \u201cthe \u2018test\u2019 shell, don\u2019t\u201d;\n"


def test_edit_keeps_crlf_line_endings() -> None:
    crlf = NIX.replace("\n", "\r\n")
    out = apply_edit(crlf, EditSpec("pkgs.jq ];\n", "pkgs.jq pkgs.curl ];\n"))
    assert out == NIX.replace("pkgs.jq ];", "pkgs.jq pkgs.curl ];").replace("\n", "\r\n")


def test_multi_edit_applies_in_order_on_the_running_result() -> None:
    # ".enable = true;" occurs twice in NIX; after edit 1 only once, so edit 2 is unique.
    out = apply_multi_edit(
        NIX,
        [
            EditSpec("languages.python.enable = true;", "languages.python.enable = false;"),
            EditSpec(".enable = true;", ".enable = false;"),
        ],
        "devenv.nix",
    )
    assert ".enable = true;" not in out and out.count(".enable = false;") == 2


def test_multi_edit_refuses_editing_text_an_earlier_edit_introduced() -> None:
    with pytest.raises(PatchError, match="edit 2: old_string is a substring of a new_string from an earlier edit"):
        apply_multi_edit(NIX, [EditSpec("pkgs.jq", "pkgs.jq pkgs.curl"), EditSpec("pkgs.curl", "pkgs.wget")], "devenv.nix")


def test_multi_edit_is_all_or_nothing_and_names_the_failing_edit() -> None:
    with pytest.raises(PatchError, match=r"^edit 2 of 2: devenv.nix: old_string not found"):
        apply_multi_edit(NIX, [EditSpec("pkgs.jq", "pkgs.curl"), EditSpec("nope", "x")], "devenv.nix")


def test_multi_edit_can_create_a_missing_file_with_an_empty_first_old_string() -> None:
    assert apply_multi_edit(None, [EditSpec("", "{ a = 1; }\n")]) == "{ a = 1; }\n"
    # As in Claude Code, later edits may not target text the creating edit introduced.
    with pytest.raises(PatchError, match="edit 2: old_string is a substring"):
        apply_multi_edit(None, [EditSpec("", "{ a = 1; }\n"), EditSpec("a = 1", "a = 2")])


def test_multi_edit_needs_edits_and_a_change() -> None:
    with pytest.raises(ProposalError, match="at least one edit"):
        apply_multi_edit(NIX, [])
    with pytest.raises(PatchError, match="leave the file exactly as it was"):
        apply_multi_edit(NIX, [EditSpec("pkgs.jq", "pkgs.X"), EditSpec("pkgs.git pkgs.X", "pkgs.git pkgs.jq")])


def test_apply_tool_dispatches_each_payload_shape() -> None:
    assert apply_tool("Write", {"file_path": "/p/devenv.nix", "content": "{ }\n"}, NIX) == "{ }\n"
    assert apply_tool("Write", {"file_path": "/p/new.nix", "content": "{ }\n"}, None) == "{ }\n"
    edit = {"file_path": "/p/devenv.nix", "old_string": "pkgs.git ", "new_string": ""}
    assert "[ pkgs.jq ]" in apply_tool("Edit", edit, NIX)
    multi = {"file_path": "/p/devenv.nix", "edits": [{"old_string": "pkgs.git", "new_string": "pkgs.gitFull", "replace_all": False}]}
    assert "pkgs.gitFull pkgs.jq" in apply_tool("MultiEdit", multi, NIX)


@pytest.mark.parametrize(
    ("tool", "payload", "message"),
    [
        ("Edit", {"file_path": "x", "new_string": "b"}, "tool_input: missing field 'old_string'"),
        ("Edit", {"file_path": "x", "old_string": 1, "new_string": "b"}, "field 'old_string' must be a str, not int"),
        ("Edit", {"file_path": "x", "old_string": "a", "new_string": "b", "replace_all": "yes"}, "'replace_all' must be a bool"),
        ("MultiEdit", {"file_path": "x", "edits": "a"}, "field 'edits' must be a list"),
        ("MultiEdit", {"file_path": "x", "edits": [3]}, r"tool_input.edits\[0\] must be an object"),
        ("Write", {"file_path": "x"}, "missing field 'content'"),
        ("Bash", {"command": "ls"}, "'Bash' is not an edit tool"),
    ],
)
def test_malformed_payloads_name_the_problem(tool: str, payload: dict, message: str) -> None:
    with pytest.raises(ProposalError, match=message):
        apply_tool(tool, payload, NIX)


def test_file_path_must_be_a_non_empty_string() -> None:
    assert file_path_of({"file_path": "devenv.nix"}) == "devenv.nix"
    for bad, message in (([], "tool_input must be an object"), ({}, "missing field 'file_path'"), ({"file_path": " "}, "is empty")):
        with pytest.raises(ProposalError, match=message):
            file_path_of(bad)
    assert edit_specs("Edit", {"old_string": "a", "new_string": "b", "replace_all": None}) == [EditSpec("a", "b", False)]


lines = st.lists(st.text(alphabet="abc {}=;\n\"'", min_size=0, max_size=12), min_size=1, max_size=8)


@given(prefix=lines, suffix=lines, old=st.text(alphabet="xyz", min_size=1, max_size=6), new=st.text(alphabet="pq\n", max_size=6))
def test_a_unique_replacement_changes_only_that_span(prefix: list[str], suffix: list[str], old: str, new: str) -> None:
    head, tail = "\n".join(prefix), "\n".join(suffix)
    content = head + "<" + old + ">" + tail
    out = apply_edit(content, EditSpec("<" + old + ">", "<" + new + ">"))
    assert out == head + "<" + new + ">" + tail
