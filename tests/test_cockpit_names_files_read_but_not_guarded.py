"""The cockpit tells the person which files the environment reads that the gate does not guard — once
per new set of them, after the first frame — and the Changes panel keeps the count while it is clean."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, open_workspace, screen_text, wait_for

from omni_tui.core.gate import Gate
from omni_tui.core.workspace import Workspace


def _importing(project: Path, *paths: str) -> str:
    text = (project / "devenv.nix").read_text()
    return text.replace("{\n", "{\n  imports = [ " + " ".join(paths) + " ];\n", 1)


async def test_an_imported_file_is_named_with_the_fix_and_a_new_one_is_told_again(project: Path) -> None:
    (project / "nix").mkdir()
    (project / "nix" / "db.nix").write_text("{ ... }: { services.postgres.enable = true; }\n")
    (project / "devenv.nix").write_text(_importing(project, "./nix/db.nix"))
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "Not guarded" in screen_text(app), what="the warning")
        text = screen_text(app)
        assert "nix/db.nix  (devenv.nix:" in text and "Guard them with g" in text
        await wait_for(pilot, lambda: "no changes · 1 unguarded" in screen_text(app), what="the count under Changes")
        before = sum("Not guarded" in n.title for n in app._notifications)
        # The same set is not told twice; a file the agent makes devenv.nix read is.
        (project / "setup.sh").write_text("echo hi\n")
        (project / "devenv.nix").write_text(
            _importing(project, "./nix/db.nix").replace("{\n", '{\n  enterShell = "source ${./setup.sh}";\n', 1)
        )
        await wait_for(
            pilot,
            lambda: (
                sum("Not guarded" in n.title for n in app._notifications) > before
                and any("setup.sh  (devenv.nix:" in n.message for n in app._notifications)
            ),
            what="the warning naming setup.sh",
        )


async def test_a_file_left_unguarded_on_purpose_leaves_the_count_once_the_person_accepts_it(project: Path) -> None:
    (project / "setup.sh").write_text("echo hi\n")
    (project / "devenv.nix").write_text(
        (project / "devenv.nix").read_text().replace("{\n", '{\n  enterShell = "source ${./setup.sh}";\n', 1)
    )
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "no changes · 1 unguarded" in screen_text(app), what="the count under Changes")
        with (project / "omni-tui.toml").open("a") as config:
            config.write('[guard]\nunguarded_ok = ["setup.sh"]\n')
        Gate(Workspace.open(project)).accept_direct(rebuild=None)  # the person accepts it (here: from a shell)
        await wait_for(pilot, lambda: "no changes against the baseline" in screen_text(app), what="the count gone")
        assert app.unguarded.reads == []


async def test_nothing_is_said_when_everything_read_is_guarded_or_left_so_on_purpose(project: Path) -> None:
    (project / "devenv.nix").write_text(_importing(project, "./devenv.local.nix", "../shared.nix"))
    (project / "devenv.local.nix").write_text("{ ... }: { }\n")
    (project.parent / "shared.nix").write_text("{ ... }: { }\n")
    ws = open_workspace(project, extra='[guard]\nunguarded_ok = ["../shared.nix"]\n')
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
        await wait_for(pilot, lambda: app.unguarded.looks >= 1, what="the look done")
        assert app.unguarded.reads == []
        assert "Not guarded" not in screen_text(app) and "no changes against the baseline" in screen_text(app)


async def test_the_count_is_whole_at_80x24(project: Path) -> None:
    (project / "setup.sh").write_text("echo hi\n")
    (project / "devenv.nix").write_text(
        (project / "devenv.nix").read_text().replace("{\n", '{\n  enterShell = "source ${./setup.sh}";\n', 1)
    )
    app = cockpit(open_workspace(project))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "no changes · 1 unguarded" in screen_text(app), what="the count under Changes, not cut")


def test_a_name_with_a_line_break_stays_on_its_line_in_the_warning() -> None:
    from omni_tui.core.card.reads import Read
    from omni_tui.ui.unguarded import describe

    text = describe([Read("x.nix\nAll files are guarded.", "devenv.yaml", 2, False)])
    assert "\nAll files are guarded." not in text
    assert "  x.nix\\x0aAll files are guarded.  (devenv.yaml:2; absent)" in text.splitlines()
