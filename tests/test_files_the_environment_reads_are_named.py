"""The files devenv reads besides the guarded ones are found and named (`core.card.reads`), so a person
learns where the gate does not reach: devenv.yaml's imports, Nix path literals (imports, `import`,
`readFile`, `${./x}`), followed through the .nix files they name — never outside the project, never
through a symlink — and `omni-tui status` lists the unguarded ones, in text and in JSON; the change card
names each path a change adds to a file it does not carry (`reads_unreviewed_file`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omni_tui.core.card import FilePair, compute_card
from omni_tui.core.card.reads import MAX_FILES, Read, nix_paths, reads, unguarded
from omni_tui.core.gate import Gate
from omni_tui.core.workspace import Workspace

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "devenv-examples"
DEFAULT_GUARDED = ["devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc"]


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def found(root: Path, guarded: list[str] | None = None) -> list[tuple[str, str, int, bool, bool]]:
    return [tuple(r)[:5] for r in reads(root, guarded or DEFAULT_GUARDED)]  # type: ignore[misc]


def test_path_literals_are_read_from_the_parse_not_from_comments_or_string_text() -> None:
    source = b"""{ pkgs, ... }: {
  imports = [ ./nix/a.nix ../b.nix ];
  # imports = [ ./commented.nix ];
  enterShell = ''
    source ${./setup.sh}
    echo ./not-a-path
  '';
  x = "see ./plain-text.nix";
  y = import ./default.nix { inherit pkgs; };
  z = ./gen/${pkgs.system}.nix;
  home = ~/home.nix;
  channel = <nixpkgs>;
  docs = "https://devenv.sh/basics/";
}
"""
    assert nix_paths(source) == [("./nix/a.nix", 2), ("../b.nix", 2), ("./setup.sh", 5), ("./default.nix", 9)]


def test_a_path_with_a_literal_string_after_it_is_the_file_it_names() -> None:
    source = b"""{
  a = import (./. + "/nix/db.nix");
  b = ./nix + "/extra.nix";
  c = "${./.}/scripts/setup.sh";
  d = ''
    source ${./hooks}/enter.sh --quiet
  '';
  e = ./. + "/${name}.nix";
}
"""
    # The last one is named at evaluation time: only the folder it starts from is known.
    assert nix_paths(source) == [
        ("./nix/db.nix", 2),
        ("./nix/extra.nix", 3),
        ("./scripts/setup.sh", 4),
        ("./hooks/enter.sh", 6),
        ("./.", 8),
    ]


def test_a_module_naming_no_path_has_none() -> None:
    assert nix_paths(b"{ pkgs, ... }: {\n  # https://devenv.sh/basics/\n  packages = [ pkgs.git ];\n}\n") == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus of devenv examples is not next to the project")
def test_devenvs_own_examples_name_what_they_read() -> None:
    # Read in place. The corpus keeps devenv.nix and devenv.yaml only, so the files they name are absent.
    expected = {
        "imports": [("file.nix", "devenv.yaml", 2), ("folder/devenv.nix", "devenv.yaml", 3)],
        "compose": [("projectA/devenv.nix", "devenv.yaml", 2), ("projectB/devenv.nix", "devenv.yaml", 3)],
        "go": [("default.nix", "devenv.nix", 26)],
        "python": [("requirements.txt", "devenv.nix", 9)],
        "scripts": [("file-script.sh", "devenv.nix", 38)],
        "ruby": [(".ruby-version", "devenv.nix", 10)],
        "rust": [("app", "devenv.nix", 5)],
    }
    for name, want in expected.items():
        assert [(r.path, r.by, r.line) for r in reads(CORPUS / name, DEFAULT_GUARDED)] == want, name
    # An input's path (`root/projectA`, `simple/examples/simple`) is not a file of the project.
    assert reads(CORPUS / "compose_projectB", DEFAULT_GUARDED) == []
    assert reads(CORPUS / "simple-remote", DEFAULT_GUARDED) == []
    named = [d.name for d in sorted(CORPUS.iterdir()) if (d / "devenv.nix").is_file() and reads(d, DEFAULT_GUARDED)]
    assert sorted(named) == sorted(expected), "a corpus project names a file this test does not expect"


def test_imports_are_followed_through_the_nix_files_they_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "devenv.nix": "{ ... }: {\n  imports = [ ./nix/db.nix ./pkgs ];\n  enterShell = builtins.readFile ./setup.sh;\n  src = ./.;\n}\n",
            "nix/db.nix": "{ ... }: {\n  imports = [ ./extra.nix ../devenv.nix ];\n}\n",  # back to devenv.nix: a cycle
            "nix/extra.nix": "{ ... }: { imports = [ ./db.nix ]; env.X = builtins.readFile ./x.txt; }\n",
            "nix/x.txt": "x\n",
            "pkgs/default.nix": "{ ... }: { }\n",
            "setup.sh": "echo hi\n",
        },
    )
    assert found(tmp_path) == [
        ("nix/db.nix", "devenv.nix", 2, True, False),
        ("pkgs/default.nix", "devenv.nix", 2, True, False),  # a folder: Nix reads its default.nix
        ("setup.sh", "devenv.nix", 3, True, False),
        ("nix/extra.nix", "nix/db.nix", 2, True, False),
        ("nix/x.txt", "nix/extra.nix", 1, True, False),
    ]


def test_a_devenv_yaml_folder_import_reads_its_devenv_nix_and_devenv_yaml(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "devenv.nix": "{ ... }: { }\n",
            "devenv.yaml": "inputs:\n  nixpkgs:\n    url: github:cachix/devenv-nixpkgs/rolling\nimports:\n  - ./backend\n  - ./shared.nix\n  - nixpkgs/some/path\n",
            "backend/devenv.nix": "{ ... }: { imports = [ ./db.nix ]; }\n",
            "backend/devenv.yaml": "imports:\n  - ./tools\n",
            "backend/db.nix": "{ ... }: { }\n",
            "shared.nix": "{ ... }: { }\n",
        },
    )
    assert [(r.path, r.by, r.line, r.exists) for r in reads(tmp_path, DEFAULT_GUARDED)] == [
        ("backend/devenv.nix", "devenv.yaml", 5, True),
        ("backend/devenv.yaml", "devenv.yaml", 5, True),
        ("shared.nix", "devenv.yaml", 6, True),
        ("backend/db.nix", "backend/devenv.nix", 1, True),
        ("backend/tools/devenv.nix", "backend/devenv.yaml", 2, False),  # absent: creating it is a change
    ]


def test_nothing_outside_the_project_or_through_a_symlink_is_opened_only_named(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    outside = tmp_path / "elsewhere"
    write(outside, {"evil.nix": "{ ... }: { imports = [ ./deeper.nix ]; }\n", "deeper.nix": "{ ... }: { }\n"})
    write(
        root,
        {
            "devenv.nix": (
                "{ ... }: {\n"
                "  imports = [ ../elsewhere/evil.nix ./link.nix ./linkdir/inner.nix ];\n"
                f"  a = import {root}/inside.nix;\n"
                "  b = /nix/store/0000000000000000000000000000000-x/default.nix;\n"
                f"  c = {outside}/evil.nix;\n"
                "}\n"
            ),
            "inside.nix": "{ ... }: { }\n",
        },
    )
    os.symlink(outside / "evil.nix", root / "link.nix")
    os.symlink(outside, root / "linkdir")
    assert found(root) == [
        ("../elsewhere/evil.nix", "devenv.nix", 2, True, True),
        ("link.nix", "devenv.nix", 2, True, True),
        ("linkdir/inner.nix", "devenv.nix", 2, True, True),
        ("inside.nix", "devenv.nix", 3, True, False),  # an absolute path inside the project is one of its files
        (f"{outside}/evil.nix", "devenv.nix", 5, True, True),
    ]
    # deeper.nix (named only by the file outside) was never read.
    assert all("deeper" not in r.path for r in reads(root, DEFAULT_GUARDED))


def test_the_guarded_files_are_not_unguarded_and_a_long_chain_ends(tmp_path: Path) -> None:
    files = {"devenv.nix": "{ ... }: { imports = [ ./devenv.local.nix ./m0.nix ]; }\n", "devenv.local.nix": "{ ... }: { }\n"}
    for i in range(MAX_FILES + 50):
        files[f"m{i}.nix"] = f"{{ ... }}: {{ imports = [ ./m{i + 1}.nix ]; }}\n"
    write(tmp_path, files)
    result = unguarded(tmp_path, DEFAULT_GUARDED)
    assert "devenv.local.nix" not in [r.path for r in result]
    assert result[0] == Read("m0.nix", "devenv.nix", 1, True)
    assert MAX_FILES - 5 <= len(result) <= MAX_FILES + 1  # followed up to the bound, then it stops


def test_a_file_that_does_not_parse_names_nothing_and_breaks_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"devenv.nix": "{ imports = [ ./a.nix ", "devenv.yaml": "imports: [./x.nix\n  - : :\n"})
    # No exception, and nothing named: devenv cannot evaluate these either (the card says `unparsed`).
    assert reads(tmp_path, DEFAULT_GUARDED) == []


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    return subprocess.run([sys.executable, "-m", "omni_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_status_lists_the_unguarded_reads_until_they_are_guarded(project: Path) -> None:
    text = (project / "devenv.nix").read_text().replace("{\n", "{\n  imports = [ ./nix/db.nix ];\n", 1)
    write(project, {"devenv.nix": text, "nix/db.nix": '{ ... }: {\n  enterShell = "source ${./hook.sh}";\n}\n'})
    line = text.splitlines().index("  imports = [ ./nix/db.nix ];") + 1
    result = run_cli("status", "--no-nix", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = lines.index("not guarded: the environment reads these too; an agent can change them unseen (add them to [guard] files):")
    assert lines[at + 1 : at + 3] == [
        f"  nix/db.nix  (devenv.nix:{line})",
        "  nix/hook.sh  (nix/db.nix:2; absent: creating it changes the environment)",
    ]
    doc = json.loads(run_cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert doc["unguarded_reads"] == [
        {"path": "nix/db.nix", "by": "devenv.nix", "line": line, "exists": True, "outside": False, "acknowledged": False},
        {"path": "nix/hook.sh", "by": "nix/db.nix", "line": 2, "exists": False, "outside": False, "acknowledged": False},
    ]
    # Guarded (the person accepts the configuration that says so), they are the gate's: no longer listed.
    (project / "omni-tui.toml").write_text('[guard]\nfiles = ["devenv.nix", "nix/db.nix", "nix/hook.sh"]\n')
    Gate(Workspace.open(project)).accept_direct(rebuild=None)
    result = run_cli("status", "--no-nix", cwd=project)
    assert "not guarded" not in result.stdout, result.stdout
    assert json.loads(run_cli("status", "--json", "--no-nix", cwd=project).stdout)["unguarded_reads"] == []


def test_files_left_unguarded_on_purpose_are_listed_as_such_not_warned_about(project: Path) -> None:
    text = (project / "devenv.nix").read_text().replace("{\n", "{\n  imports = [ ../shared/base.nix ./nix/db.nix ];\n", 1)
    write(project, {"devenv.nix": text, "nix/db.nix": "{ ... }: { }\n", "../shared/base.nix": "{ ... }: { }\n"})
    (project / "omni-tui.toml").write_text('[guard]\nunguarded_ok = ["../shared/base.nix"]\n')
    result = run_cli("status", "--no-nix", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  nix/db.nix  (devenv.nix:4)" in lines
    assert "unguarded on purpose ([guard] unguarded_ok): ../shared/base.nix" in lines
    assert not any(line.startswith("  ../shared/base.nix") for line in lines)
    reads_json = json.loads(run_cli("status", "--json", "--no-nix", cwd=project).stdout)["unguarded_reads"]
    assert [(r["path"], r["outside"], r["acknowledged"]) for r in reads_json] == [
        ("../shared/base.nix", True, True),
        ("nix/db.nix", False, False),
    ]


def test_status_says_nothing_of_it_when_everything_read_is_guarded(project: Path) -> None:
    result = run_cli("status", "--no-nix", cwd=project)
    assert result.returncode == 0 and "not guarded" not in result.stdout
    assert json.loads(run_cli("status", "--json", "--no-nix", cwd=project).stdout)["unguarded_reads"] == []


def test_a_hostile_import_name_reaches_the_terminal_inert(project: Path) -> None:
    (project / "devenv.yaml").write_text('imports:\n  - "./\\e]0;owned\\a\\e[2J.nix"\n')
    result = run_cli("status", "--no-nix", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b]0;owned" in result.stdout


def _risk_causes(card: object, risk: str) -> list[tuple[int | None, str]]:
    return [(c["line"], c["why"]) for r in card.risks if r["risk"] == risk for c in r["causes"]]  # type: ignore[attr-defined]


def test_the_card_names_a_file_a_change_makes_the_environment_read_without_carrying_it() -> None:
    before = b"{ pkgs, ... }: {\n  packages = [ pkgs.git ];\n  x = import ./old.nix;\n}\n"
    after = b'{ pkgs, ... }: {\n  packages = [ pkgs.git ];\n  x = import ./old.nix;\n  enterShell = "source ${./hook.sh}";\n  imports = [ ./nix/db.nix ];\n}\n'
    card = compute_card([FilePair("devenv.nix", before, after)])
    assert _risk_causes(card, "reads_unreviewed_file") == [
        (4, "./hook.sh — the environment reads this file; its content is not part of this change"),
        (5, "./nix/db.nix — the environment reads this file; its content is not part of this change"),
    ]  # ./old.nix was read before the change: not its doing
    assert {r["risk"]: r["severity"] for r in card.risks}["reads_unreviewed_file"] == "warning"
    # A change that carries the file it makes devenv read shows its content: no risk for that one.
    carried = compute_card([FilePair("devenv.nix", before, after), FilePair("nix/db.nix", None, b"{ ... }: { }\n")])
    assert [why.split(" ")[0] for _, why in _risk_causes(carried, "reads_unreviewed_file")] == ["./hook.sh"]
    # In a module below the root, the path is the module's: nix/sub.nix naming ./x.nix reads nix/x.nix.
    nested = compute_card(
        [FilePair("nix/sub.nix", b"{ ... }: { }\n", b"{ ... }: { imports = [ ./x.nix ]; }\n"), FilePair("nix/x.nix", None, b"{ }")]
    )
    assert _risk_causes(nested, "reads_unreviewed_file") == []
    # A path whose string is on the next line: an edit of that string is a new file read.
    split = b'{ ... }: {\n  x = import (./. +\n    "/nix/a.nix");\n}\n'
    moved = compute_card([FilePair("devenv.nix", split, split.replace(b"/nix/a.nix", b"/nix/b.nix"))])
    assert [why.split(" ")[0] for _, why in _risk_causes(moved, "reads_unreviewed_file")] == ["./nix/b.nix"]
    # ...and an edit beside an unchanged path adds none.
    beside = compute_card([FilePair("devenv.nix", split, split.replace(b"{ ... }: {\n", b'{ ... }: {\n  env.A = "1";\n'))])
    assert _risk_causes(beside, "reads_unreviewed_file") == []
    # `./.` is the whole folder: said so.
    folder = compute_card([FilePair("devenv.nix", before, before.replace(b"}\n", b'  y = import (./. + "/${name}.nix");\n}\n'))])
    assert _risk_causes(folder, "reads_unreviewed_file") == [
        (4, "./. — the environment reads the project's folder, none of it in this change")
    ]


def test_an_absolute_path_through_the_name_the_project_was_opened_by_is_inside(tmp_path: Path) -> None:
    real = tmp_path / "real"
    alias = tmp_path / "alias"  # the project opened through a symlinked folder, as /tmp may be
    os.symlink(real, alias, target_is_directory=True)
    write(real, {"devenv.nix": f"{{ ... }}: {{ imports = [ {alias}/nix/db.nix {real}/nix/db.nix ]; }}\n", "nix/db.nix": "{ }"})
    assert found(alias) == [("nix/db.nix", "devenv.nix", 1, True, False)]


def test_the_card_of_a_configuration_change_says_what_it_does_to_the_guard() -> None:
    before = b'[rebuild]\ncommand = "true"\n'
    after = b'[rebuild]\ncommand = "true"\n[guard]\nfiles = ["nix/db.nix", "devenv.yaml"]\nunguarded_ok = ["../shared.nix"]\n'
    card = compute_card([FilePair("omni-tui.toml", before, after)])
    assert [why for _, why in _risk_causes(card, "agent_permissions")] == [
        "omni-tui.toml configures the gate itself (guarded files, rebuild command, policy)",
        "[guard] files + nix/db.nix: then an unapproved edit until you accept its content",
        # devenv.nix is guarded whatever the list says: not "let go"
        "[guard] files - devenv.local.nix: changes to it are no longer asked about",
        "[guard] files - .envrc: changes to it are no longer asked about",
        "[guard] unguarded_ok + ../shared.nix: read by the environment, no longer warned about",
    ]
    broken = compute_card([FilePair("omni-tui.toml", before, b"[guard\nfiles = [")])
    assert [why for _, why in _risk_causes(broken, "agent_permissions")] == [
        "omni-tui.toml configures the gate itself (guarded files, rebuild command, policy)"
    ]
