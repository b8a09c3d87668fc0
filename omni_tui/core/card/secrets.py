"""What looks like a secret, and its masking: every string that goes into a card passes through here.

A value is a secret when its name says so (`password`, `token`, `secret`, `apiKey`, `*_KEY`, …) and it
holds literal text, or when its text looks like one wherever it is (provider token prefixes, JWTs,
private-key blocks, credentials in a URL, `NAME=value` with a secret-looking NAME). Masked text keeps
its shape where that helps a person (`postgres://alice:••••@db`), never any of the secret.
Control and invisible format characters are escaped here too (by `core.terminal.inert`, the one
sanitiser), so card text is inert in a terminal.
"""

from __future__ import annotations

import re

from omni_tui.core import terminal

MASK = "••••"
_MAX = 240

_SECRET_NAME = re.compile(
    r"(?i)(passw(or)?d|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|credential|"
    r"(^|[_.-])pwd($|[_.-])|(^|[_.-])key($|[_.-])|(^|[_.-])auth($|[_.-])|(?-i:[a-z0-9]Key$))"
)
# Well-known token shapes (GitHub, GitLab, OpenAI/Anthropic, Stripe, Slack, AWS, Google, JWT, PEM).
_TOKEN = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|"
    r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|"
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))"
)
_URL_CREDS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@'\"]+):([^@/\s'\"]+)@")
_ASSIGN = re.compile(r"(?i)\b([A-Za-z_][A-Za-z0-9_.-]*)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s;'\"&|]+)")


def secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def mask_text(text: str) -> tuple[str, bool]:
    """`text` with every secret-looking part masked, and whether any was (a reference like `${x}` is not a secret)."""
    found = False

    def token(m: re.Match[str]) -> str:
        nonlocal found
        found = True
        return MASK

    def creds(m: re.Match[str]) -> str:
        nonlocal found
        if "${" not in m.group(2) and "$" != m.group(2)[:1]:
            found = True
        return f"{m.group(1)}:{MASK}@"

    def assign(m: re.Match[str]) -> str:
        nonlocal found
        name, sep, value = m.group(1), m.group(2), m.group(3)
        if not secret_name(name) or value.strip("\"'") in ("", MASK) or value.lstrip("\"'").startswith("$"):
            return m.group(0)
        found = True
        quote = value[0] if value[:1] in "\"'" else ""
        return f"{name}{sep}{quote}{MASK}{quote}"

    out = _TOKEN.sub(token, text)
    out = _URL_CREDS.sub(creds, out)
    out = _ASSIGN.sub(assign, out)
    return out, found


def mask_value(name: str, text: str, *, literal: bool) -> tuple[str, bool]:
    """A value named `name`: wholly masked when the name is secret-looking and the text is literal."""
    if literal and text and secret_name(name) and not text.startswith("${"):
        return MASK, True
    return mask_text(text)


def inert(text: str, limit: int = _MAX) -> str:
    """`core.terminal.inert`, cut to `limit` characters: safe to print anywhere, and one line — a name
    holding a line break (`processes."web\\n  Packages"`) would otherwise draw lines of a card of its own."""
    out = terminal.inert(text)
    return out if len(out) <= limit else out[: limit - 1] + "…"
