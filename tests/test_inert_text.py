"""No agent text reaches a terminal raw: titles, agent names, reasons and quarantined file names that
carry OSC 52 (clipboard), OSC 2 (window title), CSI, C1 and bidi controls are shown escaped by the
plain CLI output (status, audit, wait, withdraw, errors), stay escaped in `--json`, and in a real
tmux pane with `set-clipboard on` leave the clipboard, the buffers and the pane title untouched."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import unicodedata
import uuid
from pathlib import Path

from omni_tui.core.terminal import FORMAT_CHARS, InertWriter, inert, inert_json, sanitize

OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # "pwned" into the clipboard
OSC2 = "\x1b]2;owned-title\x07"
BIDI = "\u202eexe.txt\u202c \u2066iso\u2069 zero\u200bwidth"
HOSTILE_TITLE = f"Add ripgrep {OSC52}{OSC2}\x9b31m {BIDI}"
HOSTILE_AGENT = f"claude{OSC2}\u202e"
RAW = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e", "\u202c", "\u2066", "\u2069", "\u200b")


def _cli(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEVENV_ROOT", "DEVENV_DOTFILE")}
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", *args], cwd=project, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def _propose(project: Path, title: str = HOSTILE_TITLE, agent: str = HOSTILE_AGENT) -> str:
    new = (project / "devenv.nix").read_text().replace("pkgs.jq ]", "pkgs.jq pkgs.ripgrep ]")
    done = _cli(
        project, "propose", "devenv.nix", "--new-content", "-", "--title", title, "--why", f"because\n{OSC52}", "--agent", agent, stdin=new
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _assert_inert(text: str) -> None:
    raw = [hex(ord(ch)) for ch in RAW if ch in text]
    assert not raw, f"raw control/bidi characters reached the terminal: {raw} in {text!r}"


# -- the function ------------------------------------------------------------------------------


def test_every_control_and_invisible_format_character_is_shown_escaped() -> None:
    hidden = [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs", "Zl", "Zp")]
    assert len(hidden) > 150
    for cp in hidden:
        shown = inert(chr(cp))
        assert shown != chr(cp) and shown.isascii() and shown.isprintable(), hex(cp)
    assert inert("\u202e") == "\\u202e" and inert("\x1b") == "\\x1b" and inert("\U000e0041") == "\\U000e0041"
    assert inert("a\nb\tc", multiline=True) == "a\nb\tc"
    assert inert("a\nb") == "a\\x0ab"
    # plain text, accents, CJK, emoji without joiners: untouched
    assert inert("café 漢字 ✓ 🚀 nbsp\u00a0x") == "café 漢字 ✓ 🚀 nbsp\u00a0x"
    assert "\u202e" in FORMAT_CHARS


def test_json_output_keeps_the_values_but_no_raw_c1_or_bidi() -> None:
    value = {"title": HOSTILE_TITLE + "\U000e0041"}
    text = inert_json(json.dumps(value, ensure_ascii=False))
    _assert_inert(text)
    assert json.loads(text) == value


def test_the_log_view_sanitiser_shows_bidi_escaped_too() -> None:
    assert sanitize("\x1b[31mred\u202e\x1b[0m").text == "red\\u202e"


def test_the_cockpit_has_no_second_sanitiser_of_its_own() -> None:
    import omni_tui.ui.widgets.proposal_queue as queue

    # Every widget and screen calls core.terminal.inert itself: no UI copy that could drift.
    assert not hasattr(queue, "plain") and queue.inert is inert
    _assert_inert(inert(HOSTILE_TITLE))


def test_the_mcp_servers_stderr_passes_through_inert() -> None:
    out = io.StringIO()
    writer = InertWriter(out)
    writer.write(f"Error executing tool propose_change: {HOSTILE_TITLE}\n")
    _assert_inert(out.getvalue())
    assert out.getvalue().endswith("\n") and not writer.isatty()


# -- the CLI as a person sees it ------------------------------------------------------------


def test_status_and_audit_print_an_agents_escape_sequences_and_bidi_visibly(project: Path) -> None:
    proposal_id = _propose(project)
    status = _cli(project, "status", "--no-nix")
    assert status.returncode == 0, status.stderr
    _assert_inert(status.stdout)
    assert "\\x1b]52;c;cHduZWQ=\\x07" in status.stdout and "\\u202eexe.txt\\u202c" in status.stdout
    assert proposal_id in status.stdout
    audit = _cli(project, "audit")
    assert audit.returncode == 0, audit.stderr
    _assert_inert(audit.stdout)
    assert "\\x1b]2;owned-title\\x07" in audit.stdout and "claude\\x1b]2;" in audit.stdout


def test_json_documents_carry_the_agent_text_exactly_but_escaped(project: Path) -> None:
    _propose(project)
    status = _cli(project, "status", "--json", "--no-nix")
    _assert_inert(status.stdout)
    assert json.loads(status.stdout)["pending"][0]["title"] == HOSTILE_TITLE.strip()
    audit = _cli(project, "audit", "--json")
    _assert_inert(audit.stdout)
    assert json.loads(audit.stdout.splitlines()[-1])["reason"] == HOSTILE_TITLE.strip()


def test_wait_withdraw_and_errors_print_agent_text_inert(project: Path) -> None:
    proposal_id = _propose(project)
    withdrawn = _cli(project, "withdraw", proposal_id, "--reason", f"never mind {OSC52}\u202e", "--agent", HOSTILE_AGENT)
    assert withdrawn.returncode == 0, withdrawn.stderr
    _assert_inert(withdrawn.stdout)
    waited = _cli(project, "wait", proposal_id)
    assert waited.returncode == 13
    _assert_inert(waited.stdout)
    assert "never mind \\x1b]52;" in waited.stdout
    unknown = _cli(project, "wait", f"nope{OSC2}\u202e")
    assert unknown.returncode == 2
    _assert_inert(unknown.stderr)
    assert unknown.stderr.count("\n") == 1


def test_a_quarantined_file_name_is_shown_inert(project: Path) -> None:
    _cli(project, "status", "--no-nix")  # creates the state directory
    proposals = project / ".devenv" / "omni" / "proposals"
    bad = proposals / f"evil{OSC2}\u202e.json"
    bad.write_text("{ not json")
    old = time.time() - 60  # past the settle time: quarantined at once
    os.utime(bad, (old, old))
    status = _cli(project, "status", "--no-nix")
    assert "quarantined:" in status.stdout, status.stdout + status.stderr
    _assert_inert(status.stdout)
    assert "evil\\x1b]2;owned-title\\x07\\u202e" in status.stdout


# -- a real terminal ------------------------------------------------------------------------------


def _tmux(socket: str, *args: str) -> str:
    done = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"tmux {' '.join(args)}: {done.stderr}"
    return done.stdout


def _wait_for(condition, what: str, timeout_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_status_and_audit_in_tmux_leave_clipboard_and_pane_title_untouched(need_tmux: None, project: Path, tmp_path: Path) -> None:
    _propose(project)
    socket = f"omni-tui-inert-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "done"
    script = tmp_path / "run.sh"
    cmd = " ".join(f"'{a}'" for a in (sys.executable, "-m", "omni_tui"))
    script.write_text(f"cd '{project}'\n{cmd} status --no-nix\n{cmd} audit\necho finished > '{done}'\nexec sleep 600\n")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": os.environ.get("XDG_STATE_HOME", str(tmp_path)),
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env_args = " ".join(f"{k}='{v}'" for k, v in env.items())
    try:
        _tmux(socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "50", "sleep 600")
        _tmux(socket, "set-option", "-g", "set-clipboard", "on")
        _tmux(socket, "set-option", "-g", "allow-rename", "on")
        _tmux(socket, "select-pane", "-t", "t", "-T", "untouched")
        _tmux(socket, "respawn-pane", "-k", "-t", "t", f"env -i {env_args} sh '{script}'")
        _wait_for(done.exists, "status and audit to finish")
        screen = _tmux(socket, "capture-pane", "-p", "-J", "-S", "-200", "-t", "t")
        assert _tmux(socket, "list-buffers") == "", "an OSC 52 in agent text set the clipboard"
        assert _tmux(socket, "display-message", "-p", "-t", "t", "#{pane_title}").strip() == "untouched"
        assert "\\u202eexe.txt\\u202c" in screen, screen  # the bidi override is visible, not obeyed
        assert "pending:   1" in screen
        # The same sequence written raw does reach tmux: the check above would have seen it.
        _tmux(socket, "respawn-pane", "-k", "-t", "t", "printf '\\033]52;c;cHduZWQ=\\a\\033]2;owned\\a'; exec sleep 600")
        _wait_for(lambda: _tmux(socket, "list-buffers") != "", "the control OSC 52 to land")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)
