"""The person's answer to a `tampered` gate: see what was forged and where, then put back what the audit log vouches for, recorded.

`resolve(app)` reads what is forged and what resolving would do (`Gate.resolve_tampered(dry_run=True)`)
in a worker, asks in a danger `ConfirmScreen` listing both, and on yes runs `Gate.resolve_tampered()` in
a worker: the audit entry (`tamper_resolved`) names this cockpit's person, never an agent.
`header_note(state, state_dir)` is the header's one line naming the forged files.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Any

from omni_tui.core.errors import OmniError
from omni_tui.ui.messages import ActionDone
from omni_tui.ui.workers import post_workspace, run_action

if TYPE_CHECKING:
    from omni_tui.ui.app import CockpitApp


def header_note(state: Any, state_dir: Any) -> str:
    """`not in the audit log: decisions/X.json, baseline/devenv.nix · audit log cut or rewritten · proposals/
    replaced by a link` (paths relative to the state directory): what is wrong, by kind."""
    names: list[str] = []
    log = replaced = ""
    for forgery in getattr(state, "tampered", ()):
        try:
            name = os.path.relpath(forgery.path, str(state_dir))
        except ValueError:
            name = forgery.path
        if forgery.kind == "audit":
            log = "audit log cut or rewritten"
        elif forgery.kind == "folder":
            replaced += ("" if not replaced else ", ") + f"{name}/"
        else:
            names.append(name)
    parts = (["not in the audit log: " + ", ".join(names)] if names else []) + ([log] if log else [])
    return " · ".join(parts + ([f"{replaced} replaced by a link or file"] if replaced else []))


def describe(forged: list[Any], plan: list[str], who: str, state_dir: Any = None) -> str:
    """The confirmation's text; paths inside the state directory are shown relative to it."""
    prefix = f"{state_dir}{os.sep}" if state_dir is not None else None

    def short(text: str) -> str:
        return text.replace(prefix, "") if prefix else text

    lines = [f"What the audit log does not account for (in {state_dir}):" if state_dir else "What the audit log does not account for:"]
    lines += [f"  • {short(forgery.describe())}" for forgery in forged]
    lines += ["", "Resolving will:"]
    lines += [f"  • {short(line)}" for line in plan]
    lines += ["", f"This is recorded in the audit log as your decision ({who})."]
    return "\n".join(lines)


def resolve(app: CockpitApp) -> None:
    """Show what was forged and ask; nothing changes without the person's yes."""
    from omni_tui.ui.screens import ConfirmScreen

    def ask(forged: list[Any], plan: list[str]) -> None:
        detail = describe(forged, plan, app.gate.who, app.ws.paths.state)
        app.push_screen(
            ConfirmScreen("Resolve the tampered state?", detail, yes_label="Resolve and record", danger=True), partial(_confirmed, app)
        )

    def inspect() -> None:
        try:
            forged = app.gate.forgeries()
            plan = app.gate.resolve_tampered(dry_run=True)
        except OmniError as exc:
            app.post_message(ActionDone(f"Cannot resolve: {exc}", error=True))
            return
        if not forged:
            app.post_message(ActionDone("Nothing to resolve: every decision and baseline matches the audit log"))
            post_workspace(app, app.ws, app.gate, app.store)
            return
        app.call_from_thread(ask, forged, plan)

    app.run_worker(inspect, thread=True, group="gate", exit_on_error=False)


def _confirmed(app: CockpitApp, confirmed: bool | None) -> None:
    if not confirmed:
        return

    def do() -> str:
        done = app.gate.resolve_tampered()
        post_workspace(app, app.ws, app.gate, app.store)
        return "Resolved and recorded: " + "; ".join(done)

    app.run_worker(partial(run_action, app, do, "Resolve failed"), thread=True, group="gate", exit_on_error=False)
