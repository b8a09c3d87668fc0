"""What the shell check reads in a command line — the table in docs/agents.md ("What the shell check catches"),
each row a case here — and what a hook answers for it with a real project."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni_tui.agents.gatekeep import Context, shell_refusal
from omni_tui.agents.shell_syntax import ShellSyntaxError, ShellWrite
from omni_tui.agents.shell_writes import shell_writes
from omni_tui.core.workspace import Workspace


def paths(command: str) -> set[str]:
    return {w.text for w in shell_writes(command) if w.kind == "path"}


@pytest.mark.parametrize(
    ("command", "written"),
    [
        ("echo x > devenv.nix", "devenv.nix"),
        ("echo x >> devenv.nix", "devenv.nix"),
        ("echo x >| devenv.nix", "devenv.nix"),
        ("make &> devenv.nix", "devenv.nix"),
        ("cmd 2> devenv.nix", "devenv.nix"),
        ("cat > devenv.nix <<'EOF'\n{ it's }\nEOF", "devenv.nix"),
        ("echo x | tee -a devenv.nix", "devenv.nix"),
        ("sed -i 's/a/b/' devenv.nix", "devenv.nix"),
        ("sed -i.bak -e 's/a/b/' devenv.nix", "devenv.nix"),
        ("sed --in-place 's/a/b/' devenv.nix", "devenv.nix"),
        ("sed -Ei 's/a/b/' devenv.nix", "devenv.nix"),
        ("perl -pi -e 's/a/b/' devenv.nix", "devenv.nix"),
        ("perl -i.orig -pe 's/a/b/' devenv.nix", "devenv.nix"),
        ("ruby -i -pe 'sub(/a/, %q(b))' devenv.nix", "devenv.nix"),
        ("gawk -i inplace '{print}' devenv.nix", "devenv.nix"),
        ("cp /tmp/x devenv.nix", "devenv.nix"),
        ("cp /tmp/devenv.nix .", "./devenv.nix"),
        ("cp -t . /tmp/devenv.nix", "./devenv.nix"),
        ("install -m 644 /tmp/x devenv.nix", "devenv.nix"),
        ("mv /tmp/x devenv.nix", "devenv.nix"),
        ("mv devenv.nix /tmp/old.nix", "devenv.nix"),
        ("ln -sf /tmp/x devenv.nix", "devenv.nix"),
        ("ln -s devenv.nix /tmp/link.nix", "devenv.nix"),
        ("ln devenv.nix hard.nix", "devenv.nix"),
        ("cp -l devenv.nix copy.nix", "devenv.nix"),
        ("rm -f devenv.nix", "devenv.nix"),
        ("unlink devenv.nix", "devenv.nix"),
        ("truncate -s 0 devenv.nix", "devenv.nix"),
        ("touch devenv.local.nix", "devenv.local.nix"),
        ("dd if=/dev/zero of=devenv.nix bs=1 count=0", "devenv.nix"),
        ("patch devenv.nix fix.diff", "devenv.nix"),
        ("git checkout -- devenv.nix", "devenv.nix"),
        ("git restore devenv.nix", "devenv.nix"),
        ("rsync -a /tmp/x devenv.nix", "devenv.nix"),
        ("sudo -u me env A=1 nice -n 5 tee devenv.nix", "devenv.nix"),
        ("timeout 5 cp /tmp/x devenv.nix", "devenv.nix"),
        ("bash -c 'echo x > devenv.nix'", "devenv.nix"),
        ('sh -ec "sed -i s/a/b/ devenv.nix"', "devenv.nix"),
        ("eval 'rm devenv.nix'", "devenv.nix"),
        ("echo $(cp /tmp/x devenv.nix)", "devenv.nix"),
        ("echo `rm devenv.nix`", "devenv.nix"),
        ("bash <<'EOF'\nrm devenv.nix\nEOF", "devenv.nix"),
        ("cd sub; ls && cp a devenv.nix || true", "sub/devenv.nix"),
        ("cd sub && sed -i s/a/b/ ../devenv.nix", "sub/../devenv.nix"),
        ("(cd sub && make); sed -i s/a/b/ devenv.nix", "devenv.nix"),
        ("cd /srv/app && rm devenv.nix", "/srv/app/devenv.nix"),
        ("cd $WHERE && rm devenv.nix", "$UNKNOWN_DIR/devenv.nix"),
        ("F=devenv.nix; sed -i s/a/b/ $F", "devenv.nix"),
        ('export F=devenv.nix && echo x | tee "${F}"', "devenv.nix"),
        ("echo x > $'devenv.nix'", "devenv.nix"),
        ('echo "not a <<EOF heredoc"\nsed -i s/a/b/ devenv.nix', "devenv.nix"),
        ("find . -name x -exec cp /tmp/x devenv.nix \\;", "devenv.nix"),
        ("xargs -n1 rm < list.txt devenv.nix", "devenv.nix"),
    ],
)
def test_writes_that_are_caught(command: str, written: str) -> None:
    assert written in paths(command)


@pytest.mark.parametrize(
    ("command", "kind", "text"),
    [
        ("rm devenv.*", "pattern", "devenv.*"),
        ("find . -name 'devenv.nix' -delete", "pattern", "devenv.nix"),
        ("python3 -c \"open('devenv.nix','w').write('')\"", "code", "open('devenv.nix','w').write('')"),
        ("node -e \"require('fs').writeFileSync('devenv.nix','')\"", "code", "require('fs').writeFileSync('devenv.nix','')"),
        ("python3 - <<'PY'\nopen('devenv.nix', 'w')\nPY", "code", "open('devenv.nix', 'w')"),
        ("python3 <<< \"open('devenv.nix','w')\"", "code", "open('devenv.nix','w')"),
        ("perl -e 'unlink q(devenv.nix)'", "code", "unlink q(devenv.nix)"),
    ],
)
def test_globs_and_interpreter_programs_are_reported_for_the_caller_to_match(command: str, kind: str, text: str) -> None:
    assert ShellWrite(kind, text, next(w.how for w in shell_writes(command) if w.text == text)) in shell_writes(command)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "command",
    [
        "cat devenv.nix",
        "grep -n redis devenv.nix",
        "nix-instantiate --parse devenv.nix",
        "sed -n '1,5p' devenv.nix",
        "cp devenv.nix /tmp/backup.nix",
        "diff devenv.nix /tmp/x 2>&1",
        "echo 'a > devenv.nix'",
        "devenv shell -- true",
        "git diff devenv.nix",
    ],
)
def test_reads_are_not_writes(command: str) -> None:
    assert "devenv.nix" not in paths(command) and not [w for w in shell_writes(command) if w.kind != "path"]


def test_an_unclosed_quote_is_a_syntax_error() -> None:
    with pytest.raises(ShellSyntaxError):
        shell_writes("echo 'unclosed > devenv.nix")


def test_shells_nested_too_deep_are_refused_as_unreadable() -> None:
    command = "rm devenv.nix"
    for _ in range(12):
        command = f"bash -c {command!r}"
    with pytest.raises(ShellSyntaxError):
        shell_writes(command)


# -- what the hooks make of it, with a real project ---------------------------------------------------------

HINT = "Propose {rel} instead."


@pytest.fixture
def ctx(project: Path) -> Context:
    Workspace.open(project, env={})
    return Context(cwd=project, env={})


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("sed -i s/a/b/ devenv.nix", "this command writes devenv.nix (sed -i), a file guarded by omni-tui"),
        ("rm -f devenv.*", "this command writes devenv.* (rm), which matches the guarded file devenv.nix"),
        ("python3 -c \"open('devenv.nix','w')\"", "runs a program (python -c) that names devenv.nix, a guarded file"),
        ("cp x $ROOT/devenv.nix", "this command writes $ROOT/devenv.nix (cp), which may be the guarded file devenv.nix"),
        ("echo 'oops > devenv.nix", "and it names devenv.nix, a guarded file: not run"),
        ("cp /tmp/x sub/../devenv.nix", "this command writes devenv.nix (cp)"),
    ],
)
def test_the_refusal_says_what_and_how_to_propose(ctx: Context, command: str, reason: str) -> None:
    (ctx.cwd / "sub").mkdir(exist_ok=True)
    refusal = shell_refusal(command, ctx, HINT)
    assert refusal is not None and reason in refusal and refusal.endswith("instead.") and "\n" not in refusal


def test_a_symlink_to_devenv_nix_is_the_guarded_file(ctx: Context) -> None:
    (ctx.cwd / "alias.nix").symlink_to(ctx.cwd / "devenv.nix")
    refusal = shell_refusal("echo x >> alias.nix", ctx, HINT)
    assert refusal is not None and "writes devenv.nix (>> redirection)" in refusal


@pytest.mark.parametrize(
    "command", ["echo hi > notes.txt", "cat devenv.nix | wc -l", "python3 -c 'print(1)'", "rm -rf build/", "sed -i s/a/b/ src/app.py"]
)
def test_other_commands_pass(ctx: Context, command: str) -> None:
    assert shell_refusal(command, ctx, HINT) is None


def test_a_write_into_the_state_directory_is_refused_without_a_proposal_hint(ctx: Context) -> None:
    refusal = shell_refusal("echo '{}' > .devenv/omni/decisions/x.json", ctx, HINT)
    assert refusal is not None and "is inside omni-tui's state directory" in refusal
    assert refusal.endswith("(this command writes there: > redirection); it was not run") and "Propose" not in refusal


def test_a_link_to_devenv_nix_is_refused_as_a_second_name_for_it(ctx: Context) -> None:
    refusal = shell_refusal("ln -s devenv.nix /tmp/alias.nix", ctx, HINT)
    assert refusal is not None and "this command writes devenv.nix (ln (a link to it))" in refusal
