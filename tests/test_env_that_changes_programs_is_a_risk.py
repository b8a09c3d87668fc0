"""An `env.*` that makes the shell's programs do something else is a risk on the card, saying what it
does: `env.BASH_ENV = "./.hook.sh"` runs a file before every bash script, `LD_PRELOAD` loads a library
into every program, a proxy or a CA file sends and trusts traffic elsewhere. The card said "no risks"."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import SIZE, cockpit, open_workspace, propose_now, screen_text, wait_for

from omni_tui.core.card.diff import FilePair, compute_card

BEFORE = b'{ pkgs, ... }:\n{\n  env.GREET = "hello";\n  env.LD_PRELOAD = "/old.so";\n  packages = [ pkgs.git ];\n}\n'


def causes(after: bytes, before: bytes = BEFORE) -> list[tuple[int | None, str]]:
    card = compute_card([FilePair("devenv.nix", before, after)])
    return [(c["line"], c["why"]) for r in card.risks if r["risk"] == "env_changes_programs" for c in r["causes"]]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('env.BASH_ENV = "./.hook.sh";', 'BASH_ENV = "./.hook.sh" — every bash script runs this file first'),
        ('env.NODE_OPTIONS = "--require ./x.js";', 'NODE_OPTIONS = "--require ./x.js" — every node process takes these options'),
        ('env.HTTPS_PROXY = "http://proxy.example:3128";', "— HTTPS traffic goes through this proxy"),
        ('env.SSL_CERT_FILE = "./ca.pem";', '"./ca.pem" — TLS trusts the certificates in this file'),
        ('env.PATH = "./bin:$PATH";', "— commands are looked up here"),
        ('env.GIT_CONFIG_KEY_0 = "core.sshCommand";', "— git takes this configuration key"),
    ],
)
def test_an_added_variable_that_changes_programs_says_what_it_does(line: str, says: str) -> None:
    after = BEFORE.replace(b"  packages", f"  {line}\n  packages".encode())
    found = causes(after)
    assert len(found) == 1 and found[0][0] == 5 and says in found[0][1], found


def test_a_changed_one_is_flagged_a_removed_or_harmless_one_is_not() -> None:
    assert [line for line, _ in causes(BEFORE.replace(b"/old.so", b"/tmp/x.so"))] == [4]  # changed: flagged again
    assert causes(BEFORE.replace(b'  env.LD_PRELOAD = "/old.so";\n', b"")) == []
    assert causes(BEFORE.replace(b"hello", b"hi").replace(b"  packages", b'  env.DEBUG = "1";\n  packages')) == []


def test_a_proxy_with_credentials_is_masked_in_the_cause() -> None:
    found = causes(BEFORE.replace(b"  packages", b'  env.HTTPS_PROXY = "http://alice:s3cretpass@proxy:3128";\n  packages'))
    assert found and "s3cretpass" not in found[0][1] and "alice:" in found[0][1], found


async def test_the_badge_shows_in_the_cockpit(project: Path) -> None:
    app = cockpit(open_workspace(project))
    async with app.run_test(size=SIZE) as pilot:
        new = (project / "devenv.nix").read_text().replace('env.GREET = "hello";', 'env.GREET = "hello";\n  env.BASH_ENV = "./.hook.sh";')
        pid = propose_now(project, "devenv.nix", new, title="Quieter scripts")
        await wait_for(
            pilot, lambda: app.review.selected_key == pid and "env changes programs" in screen_text(app), what="the badge on the card"
        )
