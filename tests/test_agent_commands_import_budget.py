"""`status --json` and `propose --json`, which agents run all the time, stay within their import budget.

Most of their time is Python importing modules (docs/performance.md, "agent commands"), so the budget
is pinned here as the modules each one imports beyond `python -c pass`, read from `-X importtime`:
none of the heavy ones it has no use for, and no more modules in all than measured plus a little
room. A pending proposal's change card is computed by the first `status` and read back from the state
directory by the next (`core.card.stored`), so a repeated `status` loads neither tree-sitter nor the
card's readers — and prints the same document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

# Modules an agent command has no use for in a project with a pending proposal and no process running.
NEVER = (
    "textual",
    "rich",
    "asyncio",
    "psutil",
    "email",
    "http.client",
    "urllib.request",
    "subprocess",
    "shutil",
    "_strptime",
    "difflib",
    "socket",
    "tree_sitter",
    "omni_tui.core.card.nixparse",
    "omni_tui.core.card.secrets",
    "omni_tui.core.card.compare",
    "omni_tui.core.textdiff",
    "omni_tui.core.history",
    "omni_tui.core.rebuild",
    "omni_tui.core.buildlog",
    "omni_tui.core.terminal",  # ASCII JSON needs no escaping (`cli.base.print_json`)
    "omni_tui.core.processes.live",  # a manager's event streams: only once its socket is there
    "getpass",  # the user name comes from $USER or pwd (`core.workspace.default_who`)
    "termios",
    # Records are NamedTuples and plain classes (the process scan's too): `dataclasses` brings inspect,
    # ast, dis and tokenize, ≈ 5 ms of every call. A card computed afresh still needs it (core.card).
    "dataclasses",
    "inspect",
)
# Modules beyond `python -c pass`, as measured when this was written (status 82 — 99 before the process
# scan's imports went lazy and the user name stopped loading getpass, 93 before the process records
# stopped importing dataclasses —, propose 46, in a project with an omni-tui.toml, no $USER set) plus
# room for a few small ones: a module more is ≈ 0.3-1 ms of every call, and agents poll `status`.
BUDGET = {"status": 86, "propose": 52}
CONFIG = '[rebuild]\ncommand = "true"\n'  # as in bench/bench_startup.py: the TOML reader is part of the budget


def _env(cwd: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_", "OMNI_TUI_SANDBOX", "PYTHONPROFILEIMPORTTIME"))}
    stub = None if cwd is None else cwd.parent / "stub-bin"
    if stub is not None and stub.is_dir():
        env["PATH"] = f"{stub}{os.pathsep}{env.get('PATH', '')}"
    return env


def _imported(argv: list[str], cwd: Path, stdin: str = "") -> tuple[subprocess.CompletedProcess[str], list[str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], cwd=cwd, env=_env(cwd), input=stdin, capture_output=True, text=True, timeout=120
    )
    modules = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return done, modules


def _extra(modules: list[str], cwd: Path) -> list[str]:
    # The interpreter's own start, plus what an editable install's finder imports at every start
    # (scripts/setup installs with -e): the same count whether omni-tui was installed editable or not.
    _, interpreter = _imported(["-c", "import pathlib, urllib.parse, importlib.util"], cwd)
    return [m for m in modules if m not in set(interpreter)]


def _pending(project: Path) -> str:
    (project / "omni-tui.toml").write_text(CONFIG)
    # A nix-instantiate that accepts everything (used by `_imported`): the repeated `status` finds the
    # Nix check cached on any machine. Without Nix nothing is cached ("Nix could not run" is asked
    # again), and each call would import shutil and subprocess to look for it.
    stub = project.parent / "stub-bin"
    stub.mkdir(exist_ok=True)
    (stub / "nix-instantiate").write_text("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    (stub / "nix-instantiate").chmod(0o755)
    ws = Workspace.open(project, env={}, cwd=project)
    text = (project / "devenv.nix").read_text()
    new = text.replace("  packages =", "  services.redis.enable = true;\n\n  packages =", 1)
    return ProposalStore(ws).create({"devenv.nix": new}, title="Add redis", rationale="a queue", agent="test").id


def test_a_repeated_status_imports_nothing_heavy_and_stays_within_its_budget(project: Path) -> None:
    proposal_id = _pending(project)
    first, _ = _imported(["-m", "omni_tui", "status", "--json"], project)
    assert first.returncode == 0, first.stderr[-2000:]
    again, modules = _imported(["-m", "omni_tui", "status", "--json"], project)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout) == json.loads(first.stdout)  # the card read back is the card computed
    card = json.loads(again.stdout)["pending"][0]["card"]
    assert json.loads(again.stdout)["pending"][0]["id"] == proposal_id
    assert [e["name"] for e in card["services"]["enabled"]] == ["redis"]
    pulled = sorted(m for m in modules if m in NEVER)
    assert pulled == [], f"status --json imports {pulled}"
    extra = _extra(modules, project)
    assert len(extra) <= BUDGET["status"], f"status --json imports {len(extra)} modules beyond the interpreter's: {extra}"


def test_propose_imports_nothing_heavy_and_stays_within_its_budget(project: Path) -> None:
    (project / "omni-tui.toml").write_text(CONFIG)
    new = (project / "devenv.nix").read_text().replace("{", "{ # changed", 1)
    argv = ["-m", "omni_tui", "propose", "--new-content", "-", "--title", "t", "--why", "w", "--json", "devenv.nix"]
    done, modules = _imported(argv, project, stdin=new)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["id"]
    pulled = sorted(
        m
        for m in modules
        if m in NEVER
        or m in ("dataclasses", "inspect")  # its records are NamedTuples: nothing compiled per class at import
        or m.startswith(("omni_tui.core.gate", "omni_tui.core.card", "omni_tui.core.processes"))
    )
    assert pulled == [], f"propose imports {pulled}"
    extra = _extra(modules, project)
    assert len(extra) <= BUDGET["propose"], f"propose imports {len(extra)} modules beyond the interpreter's: {extra}"


def test_a_damaged_stored_card_is_computed_again(project: Path) -> None:
    _pending(project)
    first = subprocess.run(
        [sys.executable, "-m", "omni_tui", "status", "--json"], cwd=project, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr[-2000:]
    stored = list((project / ".devenv" / "omni" / "cache" / "cards").glob("*.json"))
    assert len(stored) == 1
    oversized = b'{"schema": "omni-tui/card@1", "risks": [], "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    for damage in (b"{not json", b'{"schema": "something else"}', b"[]", b"[" * 100_000, oversized):
        stored[0].write_bytes(damage)
        again = subprocess.run(
            [sys.executable, "-m", "omni_tui", "status", "--json"], cwd=project, env=_env(), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr[-2000:]
        assert json.loads(again.stdout)["pending"][0]["card"] == json.loads(first.stdout)["pending"][0]["card"]
        assert json.loads(stored[0].read_bytes())["schema"] == "omni-tui/card@1"  # written again


def test_the_status_a_person_reads_never_shows_a_stored_card(project: Path) -> None:
    """An agent can write the state directory: a card it forged there reaches `status --json` at most,
    never the text a person reads."""
    _pending(project)
    first = subprocess.run(
        [sys.executable, "-m", "omni_tui", "status", "--json"], cwd=project, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr[-2000:]
    (stored,) = (project / ".devenv" / "omni" / "cache" / "cards").glob("*.json")
    forged = json.loads(stored.read_bytes())
    forged["services"]["enabled"] = []
    forged["risks"] = []
    stored.write_text(json.dumps(forged))
    text = subprocess.run(
        [sys.executable, "-m", "omni_tui", "status"], cwd=project, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert text.returncode == 0, text.stderr[-2000:]
    card_lines = [line.split() for line in text.stdout.splitlines() if line.startswith("      ")]
    assert ["services", "+redis", ":6379"] in card_lines  # computed, not read back
    assert ["risks", "network", "service"] in card_lines


def test_a_stored_card_follows_the_files_on_disk(project: Path) -> None:
    """The key is the contents: once devenv.nix itself enables redis, the proposal's card no longer says it would."""
    _pending(project)

    def card() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "omni_tui", "status", "--json"], cwd=project, env=_env(), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)["pending"][0]["card"]  # type: ignore[no-any-return]

    assert card()["services"]["enabled"]  # type: ignore[index]
    nix = project / "devenv.nix"
    nix.write_text(nix.read_text().replace("  packages =", "  services.redis.enable = true;\n\n  packages =", 1))
    assert not card()["services"]["enabled"]  # type: ignore[index]
    assert len(list((project / ".devenv" / "omni" / "cache" / "cards").glob("*.json"))) == 2


def test_a_status_runs_no_cyclic_collection_and_leaves_none_for_the_exit(project: Path) -> None:
    """Everything `status` builds lives until the process ends a moment later: collecting cycles while it
    imports and works (≈ 20 collections), and over the whole heap at exit, is work for nothing."""
    _pending(project)
    code = (
        "import gc, sys\n"
        "from omni_tui.cli import main\n"
        "runs = []\n"
        "gc.callbacks.append(lambda phase, info: runs.append(info['generation']) if phase == 'start' else None)\n"
        "sys.argv = ['omni-tui', 'status', '--json']\n"
        "code = main()\n"
        "print(f'RESULT {code} {len(runs)} {gc.get_freeze_count()}', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=project, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    _, result, collections, frozen = done.stderr.strip().splitlines()[-1].split()
    assert result == "0" and json.loads(done.stdout)["pending"]
    assert collections == "0"
    assert int(frozen) > 10_000  # frozen: the exit's collection skips them


def test_json_output_skips_the_sanitiser_only_when_there_is_nothing_for_it(capsys: pytest.CaptureFixture[str]) -> None:
    """`print_json` loads `core.terminal` only for text beyond ASCII or with DEL: what it escapes."""
    from omni_tui.cli.base import print_json
    from omni_tui.core.terminal import inert_json

    for value in ({"title": "plain ascii", "n": [1, 2]}, {"t": "del\x7f"}, {"t": "c1\x9b[31m bidi\u202e tag\U000e0041 é"}):
        print_json(value)
        text = json.dumps(value, indent=2, ensure_ascii=False)
        assert capsys.readouterr().out == inert_json(text) + "\n"
        assert json.loads(inert_json(text)) == value


def test_a_repeated_status_of_a_project_that_imports_files_does_not_load_the_nix_parser(project: Path) -> None:
    # devenv.nix names nix/db.nix, which names extra.nix: the files the environment reads outside the
    # gate (`unguarded_reads`) need their path literals, kept on disk for agents after the first call.
    _pending(project)
    text = (project / "devenv.nix").read_text().replace("{\n", "{\n  imports = [ ./nix/db.nix ];\n", 1)
    (project / "devenv.nix").write_text(text)
    (project / "nix").mkdir()
    (project / "nix" / "db.nix").write_text("{ ... }: { imports = [ ./extra.nix ]; }\n")
    first, _ = _imported(["-m", "omni_tui", "status", "--json"], project)
    assert first.returncode == 0, first.stderr[-2000:]
    named = [(r["path"], r["by"]) for r in json.loads(first.stdout)["unguarded_reads"]]
    assert named == [("nix/db.nix", "devenv.nix"), ("nix/extra.nix", "nix/db.nix")]
    again, modules = _imported(["-m", "omni_tui", "status", "--json"], project)
    assert json.loads(again.stdout)["unguarded_reads"] == json.loads(first.stdout)["unguarded_reads"]
    pulled = sorted(m for m in modules if m in NEVER)
    assert pulled == [], f"status --json imports {pulled}"

    # An entry an agent rewrites fools only the agent's own JSON: the text a person reads parses afresh.
    entries = list((project / ".devenv" / "omni" / "cache" / "paths").glob("*.json"))
    assert len(entries) == 2  # devenv.nix and nix/db.nix, by content
    for entry in entries:
        entry.write_text("[]")
    assert json.loads(_imported(["-m", "omni_tui", "status", "--json"], project)[0].stdout)["unguarded_reads"] == []
    text_status = subprocess.run(
        [sys.executable, "-m", "omni_tui", "status"], cwd=project, env=_env(project), capture_output=True, text=True, timeout=120
    )
    assert "  nix/db.nix  (devenv.nix:" in text_status.stdout and "  nix/extra.nix  (nix/db.nix:1; absent" in text_status.stdout
