"""A card computed incrementally (the proposal re-parsed from the baseline's tree, its facts derived from the
baseline's, its grouping from the baseline's grouping) is byte for byte the card computed from nothing.

Random line edits of every file of ../shared/corpus/devenv-examples (read in place): bindings added, removed,
duplicated, moved and rewritten, lists defined twice, clashing option names, syntax errors, comments and
strings opened and not closed, edits at the very start and end of the file; chains of versions (each the base
of the next) as the cockpit meets them when proposals are approved one after another.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from card_corpus import corpus_files
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_tui.core.card import FilePair, compute_card, nixparse
from omni_tui.core.card.diff import clear_caches

LINES = [
    b"",
    b"  # a note",
    b'  env.ADDED = "x";',
    b'  env.TOKEN = "ghp_abcdefabcdefabcdefabcdefabcdefabcdef";',
    b"  packages = [ pkgs.git pkgs.hello ];",
    b"  packages = [ pkgs.git ];",
    b"  packages = lib.optionals pkgs.stdenv.isLinux [ pkgs.git ];",
    b"  packages = 5;",
    b"  services.redis.enable = true;",
    b"  services.redis = { enable = false; port = 7000; };",
    b"  languages.python.enable = true;",
    b'  processes.a.exec = "run";',
    b"  enterShell = ''\n    echo hi\n  '';",
    b'  env."a.b" = "1";',
    b'  env.a.b = "2";',
    b"  git-hooks.hooks.x.enable = true;",
    b"  pre-commit.hooks.x.enable = false;",
    b'  src = builtins.fetchGit { url = "x"; };',
    b"  imports = [ ./a.nix ];",
    b"  claude.code.enable = true;",
    b"  /*",
    b"  */",
    b"  ''",
    b"  {",
    b"  }",
    b"  x = ${y};",
    b"in",
]

CORPUS = corpus_files("**/*.nix")

edit = st.tuples(st.sampled_from(["insert", "delete", "duplicate", "move", "flip"]), st.integers(0, 10_000), st.integers(0, 10_000))


def mutate(source: bytes, edits: list[tuple[str, int, int]], pick: list[int]) -> bytes:
    lines = source.split(b"\n")
    for n, (op, at, to) in enumerate(edits):
        i = at % (len(lines) + 1)
        k = min(i, len(lines) - 1)
        if op == "insert":
            lines.insert(i, LINES[pick[n % len(pick)] % len(LINES)] if pick else b"")
        elif op == "delete" and len(lines) > 1:
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, lines[k])
        elif op == "move":
            lines.insert(to % len(lines), lines.pop(k))
        elif op == "flip":
            lines[k] = lines[k].replace(b"true", b"false") if b"true" in lines[k] else lines[k].replace(b"false", b"true")
    return b"\n".join(lines)


def cold(pairs: list[FilePair]) -> str:
    """The card with every cache emptied and each version read on its own (no incremental parse, no reuse)."""
    clear_caches()
    for pair in pairs:
        for data in (pair.before, pair.after):
            if data is not None:
                nixparse.parse_module(data)
    return json.dumps(compute_card(pairs).to_json(), sort_keys=True)


def warm(pairs: list[FilePair]) -> str:
    return json.dumps(compute_card(pairs).to_json(), sort_keys=True)


def facts_of(data: bytes, previous: bytes | None = None) -> Any:
    """Everything the facts say, with every line as the file has it (the card shows only what changed)."""
    f = nixparse.parse_module(data, previous)
    values = {p: (v.key, f.line(p), [f.item_line(p, n, i) for n, i in enumerate(v.items)]) for p, v in f.values.items()}
    return values, f.unparsed, f.fetchers, f.syntax_error


@settings(max_examples=250, deadline=None)
@given(
    st.sampled_from(CORPUS),
    st.lists(st.lists(edit, min_size=1, max_size=6), min_size=1, max_size=3),
    st.lists(st.integers(0, 1000), min_size=1, max_size=6),
)
def test_a_card_from_the_baselines_work_is_the_card_from_nothing(
    path: Path, rounds: list[list[tuple[str, int, int]]], pick: list[int]
) -> None:
    base = path.read_bytes()
    versions = [base]
    for edits in rounds:
        versions.append(mutate(versions[-1], edits, pick))
    clear_caches()
    nixparse.parse_module(base)  # the baseline, analysed once
    got = []
    for before, after in zip(versions, versions[1:]):  # each version the base of the next
        got.append(warm([FilePair("devenv.nix", before, after)]))
        got.append(warm([FilePair("devenv.nix", base, after)]))
        got.append(warm([FilePair("devenv.nix", after, before)]))
    want = []
    for before, after in zip(versions, versions[1:]):
        want.append(cold([FilePair("devenv.nix", before, after)]))
        want.append(cold([FilePair("devenv.nix", base, after)]))
        want.append(cold([FilePair("devenv.nix", after, before)]))
    assert got == want
    # The facts themselves, lines of unchanged bindings included (a card shows few of them).
    clear_caches()
    nixparse.parse_module(base)
    derived = [facts_of(after, before) for before, after in zip(versions, versions[1:])]
    fresh = []
    for v in versions[1:]:
        clear_caches()
        fresh.append(facts_of(v))
    assert derived == fresh


def test_the_derived_path_is_the_one_taken() -> None:
    """The equivalence above is not vacuous: a proposal to a cached baseline derives its facts from it."""
    path = next(p for p in CORPUS if p.parent.name == "scripts")
    base = path.read_bytes()
    end = base.rstrip().rfind(b"}")
    new = base[:end] + b'  env.ADDED = "x";\n' + base[end:]
    clear_caches()
    old = nixparse.parse_module(base)
    facts = nixparse.parse_module(new, base)
    assert facts.basis is not None and facts.basis[0]() is old
    assert ("env", "ADDED") in facts.basis[1]


def test_edits_cover_every_difference_and_nothing_else() -> None:
    """The line edits the incremental parse is given: outside them, old and new lines correspond one to one."""
    import random

    rng = random.Random(13)
    for path in CORPUS[:40]:
        old = path.read_bytes()
        for _ in range(20):
            edits = [
                (rng.choice(["insert", "delete", "duplicate", "move", "flip"]), rng.randrange(999), rng.randrange(999))
                for _ in range(rng.randrange(1, 5))
            ]
            new = mutate(old, edits, [rng.randrange(99) for _ in range(3)])
            a, b = old.split(b"\n"), new.split(b"\n")
            ranges = nixparse._edits(old, new)
            i = j = 0
            for la, ea, lb, eb in ranges:
                assert la >= i and lb >= j and la - i == lb - j and a[i:la] == b[j:lb]
                i, j = ea, eb
            assert a[i:] == b[j:]
            assert all(la < len(a) and lb < len(b) for la, _, lb, _ in ranges)  # never "after the last line"
