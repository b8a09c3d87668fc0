"""What the demo's scripted agent does, as data: three proposals (one good, one that fails to
build, one with a Nix syntax error) and one direct edit, each a titled, reasoned edit of devenv.nix.

Each edit is a function of the file's *current* text (whatever the person approved, edited or
rolled back before), so the script keeps working whatever happened to the earlier steps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Edit = Callable[[str], str]


@dataclass(frozen=True)
class Step:
    kind: str  # "proposal" or "direct"
    title: str
    why: str
    edit: Edit
    expect: str  # what the demo expects a person to see: "builds", "fails to build", "does not parse", "direct edit"


def add_package(text: str, attr: str) -> str:
    """Add `pkgs.<attr>` as the last entry of the `packages = [ ... ];` list (or create the list)."""
    if re.search(rf"\bpkgs\.{re.escape(attr)}\b", text):
        return text
    match = re.search(r"(?ms)^(?P<indent>[ \t]*)packages\s*=\s*\[(?P<body>.*?)\];", text)
    if match is None:
        return insert_before_processes(text, f"  packages = [ pkgs.{attr} ];\n\n")
    body = match.group("body")
    if "\n" in body:
        entry_indent = match.group("indent") + "  "
        new_body = body.rstrip(" \t") + f"{entry_indent}pkgs.{attr}\n{match.group('indent')}"
    else:
        new_body = body.rstrip() + f" pkgs.{attr} "
    return text[: match.start("body")] + new_body + text[match.end("body") :]


def insert_before_processes(text: str, block: str) -> str:
    """Insert a block of attributes before `processes` (or before the module's closing brace)."""
    match = re.search(r"(?m)^[ \t]*processes\b", text)
    if match is None:
        match = re.search(r"(?m)^\}\s*$", text)
    if match is None:
        return text.rstrip("\n") + "\n" + block
    return text[: match.start()] + block + text[match.start() :]


def set_env(text: str, name: str, value: str, comment: str = "") -> str:
    """Set `env.<name> = "<value>";`, replacing an existing binding or adding one after the last env line."""
    line = f'env.{name} = "{value}";' + (f"  # {comment}" if comment else "")
    existing = re.search(rf"(?m)^(?P<indent>[ \t]*)env\.{re.escape(name)}\s*=.*$", text)
    if existing:
        return text[: existing.start()] + existing.group("indent") + line + text[existing.end() :]
    last_env = None
    for last_env in re.finditer(r"(?m)^[ \t]*env\.[\w]+\s*=.*$", text):  # noqa: B007 (the last match is kept)
        pass
    if last_env is None:
        return insert_before_processes(text, f"  {line}\n\n")
    return text[: last_env.end()] + "\n  " + line + text[last_env.end() :]


def good_change(text: str) -> str:
    text = add_package(text, "ripgrep")
    text = set_env(text, "REDIS_URL", "redis://127.0.0.1:6379/0")
    if not re.search(r"services\.redis", text):
        text = insert_before_processes(text, "  services.redis = {\n    enable = true;\n    port = 6379;\n  };\n\n")
    return text


def failing_change(text: str) -> str:
    text = add_package(text, "mysql57")
    return set_env(text, "LEGACY_DB_URL", "mysql://legacy@127.0.0.1:3306/orders")


def syntax_error_change(text: str) -> str:
    text = add_package(text, "uv")
    pinned, count = re.subn(r'(?m)^(?P<indent>[ \t]*)version = "[\d.]+";', r'\g<indent>version = "3.12"', text, count=1)
    if count:
        return pinned
    # No version line to bump: add one, with the same slip (the missing `;`).
    return insert_before_processes(text, '  languages.python.version = "3.12"\n\n')


def direct_change(text: str) -> str:
    return set_env(text, "LOG_LEVEL", "debug", "temporarily verbose while chasing the worker's retry bug")


STEPS: tuple[Step, ...] = (
    Step(
        "proposal",
        "Add ripgrep and a local Redis for the job queue",
        "The worker is moving its job queue from Postgres polling to Redis lists (see the queue "
        "refactor). Enabling services.redis gives every developer a Redis on 127.0.0.1:6379 and "
        "REDIS_URL points the app at it; ripgrep is for the new `just todo` recipe.",
        good_change,
        "builds",
    ),
    Step(
        "proposal",
        "Add the MySQL 5.7 client for the legacy order import",
        "The one-off import of orders from the old shop reads its MySQL 5.7 dump directly; the 5.7 "
        "client is the version that understands its auth plugin. LEGACY_DB_URL is where the "
        "import script looks for the database.",
        failing_change,
        "fails to build",
    ),
    Step(
        "proposal",
        "Move to Python 3.12 and add uv",
        "Python 3.12's faster startup cuts the test suite by about 15%, and uv replaces pip for "
        "installing the app's dependencies (much faster cold installs in CI).",
        syntax_error_change,
        "does not parse",
    ),
    Step(
        "direct",
        "Turn on debug logging (edited devenv.nix directly)",
        "Chasing the worker's retry bug needs debug logs; edited the file directly instead of "
        "proposing, so the cockpit shows it as an unapproved edit to accept (A) or revert (u).",
        direct_change,
        "direct edit",
    ),
)
