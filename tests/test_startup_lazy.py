"""Start-up shortcuts keep what a person sees: highlighting arrives right after a plain first draw, the
cockpit module does not import pygments, the theme chosen in `__init__` is the one drawn (without
Textual's re-parse), the workspace watcher (a thread since start-up avoids anyio) still falls back to
polling, the cockpit's CLI path skips the agents' parser."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from app_harness import SIZE, notices, open_workspace, screen_text, wait_for
from rich.terminal_theme import TerminalTheme
from textual.app import App, ComposeResult
from textual.color import Color

from omni_tui import cli
from omni_tui.core import highlight
from omni_tui.core.workspace import Workspace
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.themes import log_terminal_theme
from omni_tui.ui.widgets.diff_view import DiffView
from omni_tui.ui.workers import WorkspaceWatcher

OLD = '{\n  env.GREET = "hello";\n  packages = [ pkgs.git ];\n}\n'
NEW = OLD.replace("pkgs.git", "pkgs.git pkgs.jq")


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffView(id="dv")


def row_colours(dv: DiffView, y: int) -> set[object]:
    return {seg.style.color for seg in dv.render_line(y) if seg.style}


def colours(theme: TerminalTheme) -> tuple[object, ...]:
    return (theme.background_color, theme.foreground_color, *(theme.ansi_colors[n] for n in range(16)))


def line_with(dv: DiffView, needle: str) -> int:
    for y in range(dv.size.height):
        if needle in dv.render_line(y).text:
            return y
    raise AssertionError(f"{needle!r} not on screen")


async def test_a_view_draws_plain_first_then_highlights_without_being_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a fresh process: no lexer built yet for Nix.
    monkeypatch.setattr(highlight, "_prepared", set())
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        first_draw = row_colours(dv, line_with(dv, "GREET"))
        for _ in range(50):
            await pilot.pause(0.02)
            if highlight.prepared("nix"):
                break
        assert highlight.prepared("nix")
        await pilot.pause()
        string = dv.get_component_rich_style("diff-view--tok-string", partial=True).color
        assert string not in first_draw  # the first draw: plain
        assert string in row_colours(dv, line_with(dv, "GREET"))  # "hello" in the string colour now


@pytest.mark.parametrize(("asked", "shown", "problem"), [("omni-light", "omni-light", False), ("no-such", "omni-dark", True)])
async def test_the_theme_chosen_at_start_is_drawn_without_a_css_reparse(
    project: Path, monkeypatch: pytest.MonkeyPatch, asked: str, shown: str, problem: bool
) -> None:
    reparses: list[bool] = []
    refresh_css = App.refresh_css

    def counting(self: App[object], animate: bool = True) -> None:
        reparses.append(animate)
        refresh_css(self, animate)

    monkeypatch.setattr(App, "refresh_css", counting)
    app = CockpitApp(Workspace.open(project, env={}, cwd=project), watch=False, poll_processes=False, theme=asked)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        theme = app.get_theme(shown)
        assert theme is not None and app.theme == shown
        assert app.screen.styles.background == Color.parse(theme.background)
        assert app.has_class(f"-theme-{shown}", "-light-mode" if not theme.dark else "-dark-mode")
        assert colours(app.ansi_theme) == colours(log_terminal_theme(theme))  # the logs' ANSI palette
        assert reparses == []
        if problem:
            await wait_for(pilot, lambda: notices(app, "no-such"), what="the toast naming the unknown theme")
        app.theme = "omni-high-contrast"  # a later change still goes through Textual: re-parsed, palette follows
        await pilot.pause()
        assert reparses and colours(app.ansi_theme) == colours(log_terminal_theme(app.get_theme("omni-high-contrast")))


async def test_when_inotify_fails_the_threaded_watcher_falls_back_to_polling(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, handle = WorkspaceWatcher.run, WorkspaceWatcher.handle
    handled: list[tuple[bool, bool]] = []

    def inotify_gone(self: WorkspaceWatcher, *, force_polling: bool = False) -> None:
        if not force_polling:
            raise OSError("OS file watch limit reached")
        run(self, force_polling=True)

    def counting(self: WorkspaceWatcher, files: bool, state: bool) -> None:
        handled.append((files, state))
        handle(self, files, state)

    monkeypatch.setattr(WorkspaceWatcher, "run", inotify_gone)
    monkeypatch.setattr(WorkspaceWatcher, "handle", counting)
    app = CockpitApp(open_workspace(project), poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.background.watcher_polling and handled, what="polling, after the start-up catch-up read")
        assert "CLEAN" in screen_text(app)
        nix = project / "devenv.nix"
        original = nix.read_text()
        writes: list[float] = []

        def edited_and_seen() -> bool:
            # The poller sees writes made after its first scan of the directory: until the edit shows,
            # edit again every half second.
            if "UNAPPROVED EDITS" in screen_text(app):
                return True
            if not writes or time.monotonic() - writes[-1] > 0.5:
                writes.append(time.monotonic())
                nix.write_text(original.replace("pkgs.jq", "pkgs.jq" + " pkgs.htop" * len(writes)))
            return False

        await wait_for(pilot, edited_and_seen, what="the edit seen by polling")
        assert any("watch workspace failed: OS file watch limit reached" in line for line in app.log_view.lines)


def test_importing_the_cockpit_does_not_import_pygments() -> None:
    code = "import sys, omni_tui.ui.app; print('pygments' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_importing_the_cockpit_leaves_the_card_readers_to_the_first_card() -> None:
    # The gate and the cockpit import the card package for `Card` / `FilePair`; tree-sitter, the
    # secret patterns and the readers load in the worker that computes the first card.
    readers = ["tree_sitter", "omni_tui.core.card.nixparse", "omni_tui.core.card.secrets", "omni_tui.core.card.compare"]
    code = f"import sys, omni_tui.ui.app; print([m for m in {readers!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    card = "from omni_tui.core.card import FilePair, compute_card; print(compute_card([FilePair('devenv.nix', b'{ }', b'{ packages = [ pkgs.jq ]; }')]).categories())"
    out = subprocess.run([sys.executable, "-c", card], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['packages']"


def test_command_names_are_the_parsers_subcommands() -> None:
    assert cli.command_names() == cli.build_parser()[1]


AGENT_COMMANDS_NEVER_IMPORT = ("asyncio", "psutil", "http.client", "email", "textual", "_strptime", "rich")


def _imported(args: list[str], cwd: Path) -> set[str]:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("DEVENV_", "PC_"))}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "omni_tui", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}


def test_status_and_propose_import_only_what_they_use(project: Path) -> None:
    """`status --json` and `propose` are what agents call: no event loop, no psutil on Linux, no HTTP or
    email packages (process-compose is not running), no Textual, no strptime."""
    new = project / "new.nix"
    new.write_text((project / "devenv.nix").read_text().replace("{", "{ # changed", 1))
    propose = _imported(
        ["propose", "-C", str(project), "--new-content", str(new), "--title", "t", "--why", "w", "--json", "devenv.nix"], project
    )
    status = _imported(["status", "--json", "-C", str(project)], project)
    for name, modules in (("propose", propose), ("status --json", status)):
        assert "omni_tui.core.workspace" in modules
        pulled = sorted(m for m in modules if m in AGENT_COMMANDS_NEVER_IMPORT)
        assert pulled == [], f"{name} imports {pulled}"
    assert "omni_tui.core.processes.scan" in status  # it does list the processes, without psutil


def test_the_cockpit_module_leaves_the_modals_and_process_backends_for_later() -> None:
    """Importing the cockpit (all that comes before its first frame) loads no modal screen and no process
    backend: those come on first use (PEP 562 in ui/screens and core/processes)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import omni_tui.cli, omni_tui.ui.app"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    modules = {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "omni_tui.ui.app" in modules
    early = sorted(
        m
        for m in modules
        if m.startswith(("omni_tui.ui.screens.", "omni_tui.core.processes."))
        and m not in ("omni_tui.ui.screens.relabel", "omni_tui.core.processes.model", "omni_tui.core.processes.runtime")
    )
    assert early == []


def test_the_cockpit_module_leaves_the_build_log_parser_and_the_process_model_to_their_first_use() -> None:
    """The rebuild runner and its log's parser load with the first rebuild and the process model with the
    first scan (both after the first frame): none is imported with the cockpit (the command it would run
    is resolved by `core.config.resolve_command`)."""
    later = ("omni_tui.core.buildlog", "omni_tui.core.rebuild", "omni_tui.core.processes.model", "importlib.resources", "rich._emoji_codes")
    # The notifier and the presence registry: with the first notification and `WhereThePersonIs.start`.
    later += ("omni_tui.core.notify", "omni_tui.ui.notifier", "omni_tui.core.presence", "queue")
    # The build-group records (the gate's lock, `status`) and the decision line (a rebuild's end).
    later += ("omni_tui.core.build_group", "omni_tui.core.decision_line")
    code = f"import sys, omni_tui.cli, omni_tui.ui.app; print([m for m in {later!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


async def test_the_cockpit_styles_each_widget_once_on_its_way_to_the_first_frame(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No second full restyle when the screen first resumes (every node was styled when mounted), and the
    phone-size switcher is not made (nor its stylesheet parsed) until the terminal is that narrow; what a
    person sees is the same (the snapshots), and the phone switcher shows its tabs once it is."""
    from textual.css.stylesheet import Stylesheet

    from omni_tui.ui.widgets.log_view import LogView
    from omni_tui.ui.widgets.panel_switcher import PanelSwitcher

    styled: list[str] = []
    apply = Stylesheet.apply

    def counting(self: Stylesheet, node: object, **kwargs: object) -> None:
        if isinstance(node, (LogView, PanelSwitcher)):
            styled.append(type(node).__name__)
        apply(self, node, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Stylesheet, "apply", counting)
    app = CockpitApp(Workspace.open(project, env={}, cwd=project), watch=False, poll_processes=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "Rebuild log" in screen_text(app), what="the first frame")
        assert styled.count("LogView") == 1
        assert not app.main.query(PanelSwitcher)  # mounted the first time the terminal is phone-sized
        await pilot.resize_terminal(60, 30)
        await wait_for(pilot, lambda: "Procs" in screen_text(app), what="the phone switcher's tabs")
        assert screen_text(app).splitlines()[1].lstrip().startswith("Changes")  # the row under the header


def test_the_cockpit_module_creates_few_dataclasses_on_its_way_to_the_first_frame() -> None:
    """A dataclass costs ≈ 1 ms to create on Python 3.11 (each generated method compiled apart), and the
    cockpit imports these modules before its first frame: immutable records on that path are NamedTuples
    (the diff rows, the detail panel's files and checks, the review's check keys and focus, the guarded
    files, the key table, the diff notes, the theme load, presence) and the cockpit's Textual messages
    have hand-written `__init__`s (`CardReady` too); the detail panel's `ProposalView` is a NamedTuple; the
    notifier's and the rebuild runner's records load after the first frame with their modules; the review
    state is a plain class, the gate state a NamedTuple, the diff's `Hunk` and `FileDiff` written-out classes
    (tests/test_textdiff.py keeps their dataclass behaviour). Budget: 1 omni-tui dataclass left (the
    queue's rows)."""
    code = (
        "import dataclasses, json\n"
        "made = []\n"
        "process = dataclasses._process_class\n"
        "def counting(cls, *args, **kwargs):\n"
        "    made.append(f'{cls.__module__}.{cls.__qualname__}')\n"
        "    return process(cls, *args, **kwargs)\n"
        "dataclasses._process_class = counting\n"
        "import omni_tui.cli, omni_tui.cli.cockpit, omni_tui.ui.app\n"
        "print(json.dumps([m for m in made if m.startswith('omni_tui.')]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    made = __import__("json").loads(out.stdout)
    records = ("DiffLine", "UnifiedRow", "Cell", "SplitRow", "DetailFile", "proposal_detail.Check", "CheckKey", "Focus", "GuardedFile")
    records += ("ActionSpec", "diff_paint.Note", "ThemeLoad", "Presence", "ProposalView", "CardReady", "review.Review", "GateState")
    records += ("textdiff.Hunk", "textdiff.FileDiff")
    assert [m for m in made if m.endswith(records)] == []
    assert not [m for m in made if m.startswith("omni_tui.ui.messages.")]
    assert len(made) <= 1, made


async def test_only_the_chosen_shipped_theme_is_read_before_the_first_frame_and_the_palette_still_lists_them_all(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other shipped themes are read when the theme list is first looked at (the palette, a switch);
    with theme files of the person's own, every file is read at start (an override or a broken file is
    dealt with, and reported, as before)."""
    from omni_tui.ui import themes

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    read: list[str] = []
    parse = themes.parse_theme

    def counting(text: str, source: str) -> object:
        read.append(Path(source).stem)
        return parse(text, source)

    monkeypatch.setattr(themes, "parse_theme", counting)
    app = CockpitApp(Workspace.open(project, env={}, cwd=project), watch=False, poll_processes=False, theme="omni-light")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "Rebuild log" in screen_text(app), what="the first frame")
        assert read == ["omni-light"] and app.theme == "omni-light"
        late = tmp_path / "config" / "omni-tui" / "themes"
        late.mkdir(parents=True)
        (late / "late.toml").write_text('name = "late"\nprimary = "#00ff00"\n')
        listed = set(app.available_themes)  # the palette's list: the shipped themes, as at start (no "late")
        assert set(themes.SHIPPED_THEMES) | {"textual-dark"} <= listed and "late" not in listed
        (late / "late.toml").unlink()
        app.theme = "omni-high-contrast"
        await pilot.pause()
        assert app.current_theme.name == "omni-high-contrast"
        assert app.screen.styles.background == Color.parse(app.current_theme.background)

    user = tmp_path / "config" / "omni-tui" / "themes"
    user.mkdir(parents=True, exist_ok=True)
    (user / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\n')
    read.clear()
    app = CockpitApp(Workspace.open(project, env={}, cwd=project), watch=False, poll_processes=False, theme="omni-light")
    assert sorted(read) == ["mine", "omni-dark", "omni-high-contrast", "omni-light"]
    assert app.get_theme("mine") is not None and app.theme == "omni-light"
