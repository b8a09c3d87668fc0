"""What an agent's write means for the gate: shared by the Claude Code, Codex and Gemini CLI hooks.

The per-agent adapters (`claude_code_hook`, `codex_hook`, `gemini_hook`) only translate their
client's JSON; everything they decide goes through here:

- `locate(path, ctx)`: the guarded file a write lands on, of ANY project, or None. Candidate
  projects: the file's own folder walked up to the nearest `devenv.nix` or existing state
  directory (`.devenv/omni/`, both for the path as written and with symlinks resolved), `-C`,
  `$CLAUDE_PROJECT_DIR` / `$GEMINI_PROJECT_DIR`, `$DEVENV_ROOT`, and the agent's cwd. Symlinks
  are resolved before comparing, so a link to `devenv.nix` (or a directory link above it) is
  the guarded file. A write into a state directory, to a guarded file that is itself a symlink,
  or to a path that cannot be resolved raises `Refused` with a one-line reason.
- `shell_refusal(command, ctx, hint)`: the reason to refuse a shell command that would write a
  guarded file (via `shell_writes`), or None.
- `propose_and_wait(...)`: submit the proposal, wait for the person, and say what happened;
  `propose_edits(...)`: the same for an agent's write, titled and explained as every hook does.

How each answer reaches the agent (pass, deny, block) is `hook_answers`.

Every failure here is turned into a refusal by the adapters: a hook that cannot decide denies.
"""

from __future__ import annotations

import fnmatch
import json
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from omni_tui.core.errors import OmniError, PathError, WorkspaceError

if TYPE_CHECKING:
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.core.workspace import Workspace

MARKER = "devenv.nix"
# What a project guards when its configuration cannot be read: the defaults and the configuration itself.
FALLBACK_GUARDED = ("devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "omni-tui.toml", "pyproject.toml")
TITLE_LIMIT = 72
RATIONALE_DIFF_LINES = 60
PROJECT_ENV = ("CLAUDE_PROJECT_DIR", "GEMINI_PROJECT_DIR")
LABELS = {"claude-code": "Claude Code", "codex": "Codex", "gemini-cli": "Gemini CLI"}


class HookInputError(OmniError):
    """The hook's stdin is not what the agent sends."""


class Refused(Exception):
    """The write targets (or may target) a guarded file and cannot become a proposal; `str()` is the one-line reason."""


class NotProposable(Refused):
    """The write lands where no proposal can go (omni-tui's state, an agent's own settings): refused, no hint."""


class ToolCall(NamedTuple):
    """The parts of a pre-tool payload the hooks use (Claude Code, Codex and Gemini send the same names)."""

    tool_name: str
    tool_input: Mapping[str, Any]
    cwd: Path
    session_id: str | None
    event: str


def parse_payload(text: str, *, default_cwd: Path, events: Sequence[str] = ("PreToolUse",)) -> ToolCall:
    """The payload from stdin, checked (HookInputError names what is wrong)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise HookInputError(f"stdin is not JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    except RecursionError:
        raise HookInputError("stdin is JSON nested too deeply to read") from None
    if not isinstance(data, dict):
        raise HookInputError(f"stdin must be a JSON object, not {type(data).__name__}")
    event = data.get("hook_event_name", events[0])
    if event not in events:
        raise HookInputError(f"this hook handles {' and '.join(events)} events, not {event!r}")
    tool_name = data.get("tool_name")
    if not isinstance(tool_name, str) or not tool_name:
        raise HookInputError("field 'tool_name' must be a non-empty string")
    tool_input = data.get("tool_input", {})
    if not isinstance(tool_input, dict):
        raise HookInputError(f"field 'tool_input' must be an object, not {type(tool_input).__name__}")
    cwd = data.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise HookInputError("field 'cwd' must be a string")
    session = data.get("session_id")
    return ToolCall(
        tool_name=tool_name,
        tool_input=tool_input,
        cwd=Path(cwd) if cwd else default_cwd,
        session_id=session if isinstance(session, str) else None,
        event=str(event),
    )


# -- where a write lands --------------------------------------------------------------------------


class Target(NamedTuple):
    """A guarded file a write lands on: its project and its path relative to the root."""

    ws: Workspace
    rel: str


class Context:
    """Where the agent runs and what it was told; caches the projects opened for one hook call."""

    # A plain class and NamedTuples, not dataclasses: the hook runs before every tool call, and
    # creating a dataclass costs about a millisecond at import.
    def __init__(self, cwd: Path, env: Mapping[str, str], explicit_root: str | None = None, tool: str = "write") -> None:
        self.cwd = cwd
        self.env = env
        self.explicit_root = explicit_root
        self.tool = tool
        self._opened: dict[Path, Workspace | Exception] = {}

    def __repr__(self) -> str:
        return f"Context(cwd={self.cwd!r}, explicit_root={self.explicit_root!r}, tool={self.tool!r})"

    def absolute(self, raw: str) -> Path:
        """`raw` as an absolute, lexically normalised path (relative to cwd; `~` expanded with $HOME)."""
        if raw.startswith("~"):
            home = self.env.get("HOME") or os.path.expanduser("~")
            raw = home + raw[1:] if raw == "~" or raw.startswith("~/") else raw
        return Path(os.path.normpath(self.cwd / raw))

    def workspace(self, root: Path) -> Workspace | Exception:
        if root not in self._opened:
            from omni_tui.core.workspace import Workspace

            try:
                self._opened[root] = Workspace.open(root, env=self.env, cwd=root)
            except (OmniError, OSError) as err:
                self._opened[root] = err
        return self._opened[root]

    def anchor_roots(self) -> list[Path]:
        """Projects the agent was pointed at, independent of any path: -C, the agents' project vars, $DEVENV_ROOT, cwd."""
        roots: list[Path] = []
        if self.explicit_root:
            from omni_tui.core.workspace import find_root

            try:
                roots.append(find_root(self.explicit_root, env={}, cwd=self.cwd))
            except WorkspaceError as err:
                raise Refused(f"omni-tui: -C {self.explicit_root}: {err}") from None
        starts = [self.env.get(name) for name in PROJECT_ENV] + [self.env.get("DEVENV_ROOT"), str(self.cwd)]
        for start in starts:
            if start:
                root = _project_of(_safe_resolve(Path(start)))
                if root is not None:
                    roots.append(root)
        return _unique(roots)

    def guarded_names(self) -> list[str]:
        """Every guarded path (relative) of the projects the agent was pointed at, then the defaults; in guarded() order."""
        names: list[str] = []
        try:
            roots = self.anchor_roots()
        except Refused:
            roots = []
        for root in roots:
            ws = self.workspace(root)
            if not isinstance(ws, Exception):
                names += [n for n in ws.guarded() if n not in names]
        return names + [n for n in FALLBACK_GUARDED if n not in names]


def _unique(paths: Sequence[Path]) -> list[Path]:
    seen: list[Path] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def _safe_resolve(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError, RuntimeError):
        return path


def _project_of(start: Path) -> Path | None:
    """The nearest folder from `start` upwards with a devenv.nix or an existing omni-tui state directory."""
    for folder in (start, *start.parents):
        try:
            if (folder / MARKER).is_file() or (folder / ".devenv" / "omni").is_dir():
                return folder
        except (OSError, ValueError):
            return None
    return None


def _resolve(raw: str, ctx: Context) -> tuple[Path, Path]:
    """(the path as written, made absolute; the same with every symlink resolved). Refused when it cannot be."""
    if "\x00" in raw:
        raise Refused("omni-tui: the path contains a NUL byte; refused")
    try:
        lexical = ctx.absolute(raw)
        resolved = Path(os.path.realpath(lexical))
        if resolved.is_symlink():  # realpath stops at a symlink loop
            raise Refused(f"omni-tui: {raw}: a symlink loop; refused, nothing was written")
        resolved.parent.exists()  # raises on paths the OS cannot even name
    except (OSError, ValueError, RuntimeError) as err:
        raise Refused(f"omni-tui: {raw!r}: cannot resolve this path ({type(err).__name__}); refused") from None
    return lexical, resolved


def locate(raw: str, ctx: Context) -> Target | None:
    """The guarded file (of any project) a write of `raw` lands on; None when it is none; Refused (see module doc)."""
    lexical, resolved = _resolve(raw, ctx)
    roots = _unique([r for r in (_project_of(resolved.parent), _project_of(lexical.parent)) if r is not None] + ctx.anchor_roots())
    _refuse_agent_settings(raw, lexical, resolved, roots, ctx)
    for root in roots:
        found = _check(root, lexical, resolved, raw, ctx)
        if found is not None:
            return found
    return None


# The agents' own hook, permission and trust settings: an agent that rewrites them switches its gate off.
PROJECT_AGENT_SETTINGS = (
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".codex/hooks.json",
    ".codex/config.toml",
    ".gemini/settings.json",
)
USER_AGENT_SETTINGS = (
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".codex/hooks.json",
    ".codex/config.toml",
    ".gemini/settings.json",
    ".gemini/trustedFolders.json",
)


def _refuse_agent_settings(raw: str, lexical: Path, resolved: Path, roots: Sequence[Path], ctx: Context) -> None:
    home = ctx.env.get("HOME")
    candidates = [root / rel for root in roots for rel in PROJECT_AGENT_SETTINGS]
    if home:
        candidates += [Path(home) / rel for rel in USER_AGENT_SETTINGS]
    codex_home = ctx.env.get("CODEX_HOME")
    if codex_home:
        candidates += [Path(codex_home) / "config.toml", Path(codex_home) / "hooks.json"]
    for path in candidates:
        if lexical == path or resolved == path or resolved == _safe_resolve(path) or _same_file(resolved, path):
            raise NotProposable(
                f"omni-tui: {raw} holds an agent's hooks, permissions or trust; agents may not change it while "
                "omni-tui guards this project (a person edits it)"
            )


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check(root: Path, lexical: Path, resolved: Path, raw: str, ctx: Context) -> Target | None:
    ws = ctx.workspace(root)
    if isinstance(ws, Exception):
        for name in FALLBACK_GUARDED:
            guarded = root / name
            if lexical == guarded or resolved == _safe_resolve(guarded):
                raise Refused(
                    f"omni-tui: {raw} is a guarded file of the project at {root}, which omni-tui cannot open "
                    f"({_one_line(ws)}); nothing was written"
                )
        return None
    state = _safe_resolve(ws.paths.state)
    if _inside(resolved, state) or _inside(lexical, ws.paths.state):
        raise NotProposable(f"omni-tui: {raw} is inside omni-tui's state directory {ws.paths.state}; agents never write there")
    for rel in ws.guarded():
        guarded = ws.root / rel
        if lexical == guarded or resolved == guarded or resolved == _safe_resolve(guarded) or _same_file(resolved, guarded):
            try:
                ws.resolve(rel)
            except PathError as err:  # e.g. devenv.nix replaced by a symlink: never let it through
                raise Refused(f"omni-tui: {ctx.tool} of a guarded file refused: {err}") from None
            return Target(ws, rel)
    return None


def _same_file(path: Path, guarded: Path) -> bool:
    """A hard link to a guarded file is that file: writing it in place changes the guarded bytes."""
    try:
        return os.path.samefile(path, guarded)
    except (OSError, ValueError):
        return False  # one of them does not exist


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__


# -- shell commands -------------------------------------------------------------------------------


def shell_refusal(command: str, ctx: Context, hint: str) -> str | None:
    """Why `command` must not run (it writes a guarded file), or None. `hint` says how to propose instead; `{rel}` is filled in."""
    from omni_tui.agents.shell_syntax import ShellSyntaxError
    from omni_tui.agents.shell_writes import shell_writes

    try:
        writes = shell_writes(command)
    except ShellSyntaxError as err:
        named = _named_guarded(command, ctx)
        if named is None:
            return None
        return f"omni-tui: {err}, and it names {named}, a guarded file: not run. {hint.format(rel=named)}"
    names: list[str] | None = None
    for write in writes:
        if write.kind == "path":
            if "$" in write.text or "`" in write.text:
                names = names if names is not None else ctx.guarded_names()
                tail = write.text.rstrip("/").rsplit("/", 1)[-1]
                if any(tail == name.rsplit("/", 1)[-1] for name in names):
                    return (
                        f"omni-tui: this command writes {write.text} ({write.how}), which may be the guarded "
                        f"file {tail}: not run. {hint.format(rel=tail)}"
                    )
                continue
            try:
                target = locate(write.text, ctx)
            except NotProposable as refusal:
                return f"{refusal} (this command writes there: {write.how}); it was not run"
            except Refused as refusal:
                return f"{refusal} (the command writes it: {write.how}). {hint.format(rel=write.text)}"
            if target is not None:
                return (
                    f"omni-tui: this command writes {target.rel} ({write.how}), a file guarded by omni-tui in "
                    f"{target.ws.root}: not run, nothing was written. {hint.format(rel=target.rel)}"
                )
        elif write.kind == "pattern":
            names = names if names is not None else ctx.guarded_names()
            tail = write.text.rstrip("/").rsplit("/", 1)[-1]
            for name in names:
                if fnmatch.fnmatchcase(name.rsplit("/", 1)[-1], tail):
                    return (
                        f"omni-tui: this command writes {write.text} ({write.how}), which matches the guarded "
                        f"file {name}: not run. {hint.format(rel=name)}"
                    )
        else:
            named = _named_guarded(write.text, ctx)
            if named is not None:
                return (
                    f"omni-tui: this command runs a program ({write.how}) that names {named}, a guarded file; "
                    f"whether it writes it cannot be checked, so it was not run. {hint.format(rel=named)}"
                )
    return None


def _named_guarded(text: str, ctx: Context) -> str | None:
    for name in ctx.guarded_names() + [".devenv/omni"]:
        if name.rsplit("/", 1)[-1] in text:
            return name
    return None


# -- proposing ------------------------------------------------------------------------------------


class Change(NamedTuple):
    rel: str
    old: bytes | None  # the bytes the agent's change was computed from (None: no such file)
    new: str


class FileEdit(NamedTuple):
    """One file of an agent's write: its current bytes and text (None: no such file) and the text the tool would write."""

    rel: str
    current: bytes | None
    old: str | None
    new: str


class Answer(NamedTuple):
    """What happened to a proposal: decided (the message says how) or still pending after the wait."""

    kind: Literal["decided", "pending"]
    proposal_id: str
    message: str


class Stopped(BaseException):
    """A termination signal arrived while the hook waited (a BaseException: no `except Exception` may swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.proposal_id: str | None = None
        self.withdrawn = False


# Stop signals whose handler ran. Python runs a handler between any two bytecodes, including inside code
# that discards every exception (a C call that clears errors), so the `Stopped` it raised can vanish; the
# wait re-raises it from here instead of waiting on after the agent gave up (seen once in CI: a hook that
# got SIGTERM kept waiting for a decision).
_RECEIVED: list[int] = []


def _stop(signum: int, _frame: object) -> None:
    _RECEIVED.append(signum)
    raise Stopped(signum)


def sleep_unless_stopped(seconds: float) -> None:
    """`time.sleep(seconds)`, raising `Stopped` before and after it if a stop signal has arrived."""
    if _RECEIVED:
        raise Stopped(_RECEIVED[0])
    time.sleep(seconds)
    if _RECEIVED:
        raise Stopped(_RECEIVED[0])


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def install_stop_handlers() -> None:
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop)


def _withdraw(store: ProposalStore, proposal_id: str, who: str, reason: str) -> bool:
    try:
        store.withdraw(proposal_id, who=who, reason=reason)
    except OmniError:
        return False  # decided (or being applied) meanwhile: leave it to the cockpit
    return True


def summary_title(what: str, rel: str, old: str | None, new: str) -> str:
    """`Edit devenv.nix: + services.postgres.enable = true;` — the first added (else removed) line."""
    if old is None:
        summary = "create the file"
    else:
        old_lines, new_lines = set(old.splitlines()), set(new.splitlines())
        added = [ln.strip() for ln in new.splitlines() if ln.strip() and ln not in old_lines]
        removed = [ln.strip() for ln in old.splitlines() if ln.strip() and ln not in new_lines]
        summary = (f"+ {added[0]}" if added else f"- {removed[0]}") if (added or removed) else "whitespace only"
    title = f"{what} {rel}: {summary}"
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


def rationale_text(intro: str, changes: Sequence[tuple[str, str | None, str]]) -> str:
    """`intro` followed by the unified diff of each (rel, old, new), cut at RATIONALE_DIFF_LINES lines."""
    from omni_tui.core.textdiff import unified_patch

    lines: list[str] = []
    for rel, old, new in changes:
        lines += unified_patch(old or "", new, rel).splitlines()
    if len(lines) > RATIONALE_DIFF_LINES:
        lines = lines[:RATIONALE_DIFF_LINES] + [f"… ({len(lines) - RATIONALE_DIFF_LINES} more diff lines)"]
    return intro + "\n\n" + "\n".join(lines)


def propose_and_wait(ws: Workspace, changes: Sequence[Change], *, agent: str, title: str, rationale: str, timeout_s: float) -> Answer:
    """Submit one proposal for `changes`, wait up to `timeout_s` for the person, and say what happened.

    A termination signal while waiting withdraws the proposal (nobody approves an orphan later) and
    re-raises `Stopped`.
    """
    from omni_tui.agents.outcome import card_note, explain, pending_message
    from omni_tui.core.audit import utc_now
    from omni_tui.core.proposals import FileChange, Proposal, ProposalStore, new_id
    from omni_tui.core.safefs import sha256_bytes

    proposal = Proposal(
        id=new_id(),
        agent=agent,
        title=title,
        rationale=rationale,
        created_at=utc_now(),
        changes=tuple(FileChange(path=c.rel, base_sha256=sha256_bytes(c.old), new_content=c.new) for c in changes),
    )
    store = ProposalStore(ws)
    paths = ", ".join(c.rel for c in changes)
    # A signal during submit would leave a proposal nobody withdraws: hold it until the proposal exists.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        proposal = store.submit(proposal)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a signal held meanwhile is raised here, inside the try
        card = _card(ws, proposal)
        decision = store.wait(proposal.id, timeout_s, sleep=sleep_unless_stopped)
    except Stopped as stop:
        stop.withdrawn = _withdraw(
            store, proposal.id, agent, f"the {LABELS.get(agent, agent)} hook was stopped by {stop.name} before a decision"
        )
        stop.proposal_id = proposal.id
        raise
    if decision is None:
        return Answer("pending", proposal.id, pending_message(proposal.id, paths, timeout_s) + card_note(card))
    if decision.status == "rejected" and decision.who == "policy":
        return Answer("decided", proposal.id, explain(decision, paths) + card_note(card))
    return Answer("decided", proposal.id, explain(decision, paths))


def propose_edits(
    ws: Workspace, edits: Sequence[FileEdit], call: ToolCall, *, agent: str, tool: str, action: str, timeout_s: float
) -> Answer:
    """`edits` (each one a change) as one proposal, titled after the first (`tool rel: + line`), with
    "<agent's label> asked to <action> [in session …]." and the diffs as rationale; wait; say what happened."""
    first = edits[0]
    more = f" (+{len(edits) - 1} more)" if len(edits) > 1 else ""
    session = f" in session {call.session_id}" if call.session_id else ""
    return propose_and_wait(
        ws,
        [Change(e.rel, e.current, e.new) for e in edits],
        agent=agent,
        title=summary_title(tool, first.rel + more, first.old, first.new),
        rationale=rationale_text(f"{LABELS.get(agent, agent)} asked to {action}{session}.", [(e.rel, e.old, e.new) for e in edits]),
        timeout_s=timeout_s,
    )


def _card(ws: Workspace, proposal: Any) -> Any:
    """The proposal's change card as submitted (None if it cannot be computed: the hook still answers)."""
    from omni_tui.core.card.project import proposal_card

    try:
        return proposal_card(ws, proposal)
    except Exception:  # noqa: BLE001 - agent bytes never break the hook
        return None


def decode_current(ws: Workspace, rel: str) -> tuple[bytes | None, str | None]:
    """The current bytes of `rel` and their text; Refused when the file is not UTF-8."""
    current = ws.read_current(rel)
    try:
        return current, None if current is None else current.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"omni-tui: {rel} is not valid UTF-8; edit it by hand, not through the agent") from None
