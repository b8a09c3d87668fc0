"""Validation: UTF-8, size limit, Nix syntax with line and column, stale bases."""

from __future__ import annotations

import pytest

from omni_tui.core.validate import check_bytes, nix_parse, validate_contents

GOOD_NIX = "{ pkgs, ... }:\n{\n  packages = [ pkgs.git ];\n}\n"


def test_utf8_and_size() -> None:
    assert check_bytes("devenv.nix", b"ok", 10) == []
    (issue,) = check_bytes("devenv.nix", "café".encode("latin-1"), 100)
    assert issue.kind == "encoding" and issue.message == "not valid UTF-8 (byte 0xe9 at offset 3)"
    (issue,) = check_bytes("devenv.nix", b"x" * 11, 10)
    assert issue.kind == "size" and "11 bytes is over the size limit of 10 bytes" in issue.message


def test_nix_syntax_error_has_line_and_column(need_nix: None) -> None:
    issue, note = nix_parse("devenv.nix", "{ pkgs, ... }:\n{\n  packages = [ pkgs.git ;\n}\n")
    assert note is None and issue is not None
    assert (issue.kind, issue.line, issue.column) == ("nix", 3, 25)
    assert issue.message.startswith("syntax error")
    assert issue.describe().startswith("devenv.nix:3:25: syntax error")
    assert nix_parse("devenv.nix", GOOD_NIX) == (None, None)


def test_validation_of_a_proposal(need_nix: None) -> None:
    validation = validate_contents({"devenv.nix": GOOD_NIX.replace("];", ""), ".envrc": "use devenv\n"}, max_bytes=1000)
    assert not validation.ok and validation.nix_checked
    (issue,) = validation.issues
    assert issue.kind == "nix" and issue.line == 4
    assert validation.summary().startswith("devenv.nix:4:")
    ok = validate_contents({"devenv.nix": GOOD_NIX}, max_bytes=1000)
    assert ok.ok and ok.summary() == "ok" and ok.to_json() == {"ok": True, "nix_checked": True, "issues": [], "notes": []}


def test_stale_base_is_an_issue() -> None:
    validation = validate_contents({".envrc": "x\n"}, max_bytes=1000, current_hashes={".envrc": "b" * 64}, base_hashes={".envrc": "a" * 64})
    assert validation.stale and validation.issues[0].message.startswith("changed on disk since the proposal was made")
    created = validate_contents({".envrc": "x\n"}, max_bytes=1000, current_hashes={".envrc": "b" * 64}, base_hashes={".envrc": None})
    assert created.issues[0].message.startswith("created on disk")


def test_without_nix_the_check_is_skipped_and_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    validation = validate_contents({"devenv.nix": "{ broken"}, max_bytes=1000)
    assert validation.ok and not validation.nix_checked
    assert validation.notes == ("nix-instantiate not found: Nix syntax not checked",)
    assert validation.summary() == "ok (Nix syntax not checked)"


def test_the_projects_own_devenv_nix_parses(need_nix: None) -> None:
    from pathlib import Path

    own = Path(__file__).resolve().parent.parent / "devenv.nix"
    assert nix_parse("devenv.nix", own.read_text()) == (None, None)


def test_a_nul_byte_is_an_encoding_issue_because_nix_reads_a_different_file_than_the_diff_shows() -> None:
    # nix-instantiate stops a string at NUL: `"h\0i"` parses and evaluates as "h" while the person's diff
    # shows `h\x00i`. A guarded text file with a NUL byte is never "size/encoding ok".
    (issue,) = check_bytes("devenv.nix", b'{ env.X = "h\x00i"; }', 1000)
    assert issue.kind == "encoding" and issue.message == "contains a NUL byte (at offset 12): not a text file"
    validation = validate_contents({"devenv.nix": '{ env.X = "h\x00i"; }'}, max_bytes=1000, nix=False)
    assert not validation.ok and [i.kind for i in validation.issues] == ["encoding"]
