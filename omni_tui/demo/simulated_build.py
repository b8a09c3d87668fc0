"""The demo's rebuild when Nix is not available: says so on its first line, then imitates
`nix-build --log-format internal-json` for the packages and services devenv.nix names, so the
cockpit's progress line and log behave as with Nix. Nothing is built. It fails where the real demo
build fails (the broken mysql57 package, an unknown package) and on the two syntax slips a quick
scan can see (an unclosed bracket, a binding without its `;`).

Run as `python -m omni_tui.demo.simulated_build devenv.nix`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BANNER = "SIMULATED BUILD: Nix is not installed here, so this rebuild only imitates nix-build; nothing is built."

# The same package set as demo-build.nix (a test keeps the two in step).
PACKAGES: dict[str, tuple[str, str]] = {
    "git": ("git", "2.47.1"),
    "jq": ("jq", "1.7.1"),
    "curl": ("curl", "8.11.0"),
    "ripgrep": ("ripgrep", "14.1.1"),
    "fd": ("fd", "10.2.0"),
    "just": ("just", "1.37.0"),
    "httpie": ("httpie", "3.2.4"),
    "htop": ("htop", "3.3.0"),
    "openssl": ("openssl", "3.3.2"),
    "sqlite": ("sqlite", "3.46.1"),
    "uv": ("uv", "0.5.4"),
    "nodejs_20": ("nodejs", "20.18.1"),
    "python311": ("python3", "3.11.10"),
    "python312": ("python3", "3.12.7"),
    "redis": ("redis", "7.2.6"),
    "postgresql": ("postgresql", "16.5"),
    "mysql57": ("mysql", "5.7.44"),
}
BROKEN = {
    "mysql57": (
        "-- Running cmake version 3.30.5",
        "CMake Error at cmake/boost.cmake:88 (MESSAGE):",
        "  MySQL 5.7 requires exactly Boost 1.59.0, found 1.86.0",
        "-- Configuring incomplete, errors occurred!",
    ),
}
PYTHONS = {"3.11": "python311", "3.12": "python312"}
OPEN_CLOSE = {"{": "}", "[": "]", "(": ")"}
SIMPLE_BINDING = re.compile(r"^\s*[A-Za-z_][\w.-]*\s*=\s*[\w.-]*\s*$")  # on text with strings blanked


class BuildFailure(Exception):
    """Ends the imitation with Nix-style error messages (each starting `error:`), optionally located."""

    def __init__(self, *messages: str, path: str | None = None, line: int | None = None, column: int | None = None) -> None:
        super().__init__(messages[0])
        self.messages = messages
        self.location = {"file": path, "line": line, "column": column} if path else {}


@dataclass
class Emitter:
    delay: float
    next_id: int = 1

    def line(self, text: str) -> None:
        print(text, flush=True)

    def nix(self, **fields: object) -> None:
        self.line("@nix " + json.dumps(fields, separators=(",", ":")))

    def activity(self) -> int:
        self.next_id += 1
        return self.next_id

    def pause(self) -> None:
        if self.delay > 0:
            time.sleep(self.delay)


def _strip_strings_and_comments(text: str) -> str:
    """Blank out strings and comments (keeping line/column positions) so brackets inside them don't count."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text.startswith("''", i):
            end = text.find("''", i + 2)
            while end != -1 and text.startswith("'''", end):  # ''' escapes a '' inside an indented string
                end = text.find("''", end + 3)
            end = n if end == -1 else end + 2
        elif text[i] == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            end = min(end + 1, n)
        elif text[i] == "#":
            end = text.find("\n", i)
            end = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
        else:
            i += 1
            continue
        for j in range(i, end):
            if out[j] != "\n":
                out[j] = " "
        i = end
    return "".join(out)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _syntax(what: str, path: str, line: int, column: int) -> BuildFailure:
    return BuildFailure(
        f"error: syntax error, {what} (simulated check)\n\n       at {path}:{line}:{column}:", path=path, line=line, column=column
    )


def check_syntax(text: str, path: str) -> None:
    code = _strip_strings_and_comments(text)
    stack: list[tuple[str, int]] = []
    for offset, char in enumerate(code):
        if char in OPEN_CLOSE:
            stack.append((char, offset))
        elif char in OPEN_CLOSE.values():
            if not stack or OPEN_CLOSE[stack[-1][0]] != char:
                line, col = _position(text, offset)
                raise _syntax(f"unexpected '{char}'", path, line, col)
            stack.pop()
    if stack:
        line, col = _position(text, stack[-1][1])
        raise _syntax(f"unexpected end of file, '{stack[-1][0]}' is never closed", path, line, col)
    lines = code.split("\n")
    for number, (line, original) in enumerate(zip(lines, text.split("\n")), start=1):
        # On the blanked line a one-line string value is just spaces; the original says it was a "string".
        if not SIMPLE_BINDING.match(line) or not re.match(r'^[^=]*=\s*["\w]', original):
            continue
        following = next(((n, l) for n, l in enumerate(lines[number:], start=number + 1) if l.strip()), None)
        if following is None:
            continue
        n, nxt = following
        col = len(nxt) - len(nxt.lstrip()) + 1
        token = nxt.strip()[0]
        raise _syntax(f"unexpected '{token}', expecting ';'", path, n, col)


def wanted_derivations(text: str) -> list[str]:
    """Package attribute names devenv.nix uses, in order, plus the Python it enables."""
    code = _strip_strings_and_comments(text)
    names: list[str] = []
    for match in re.finditer(r"\bpkgs\.([A-Za-z_][\w-]*)", code):
        if match.group(1) not in names:
            names.append(match.group(1))
    if re.search(r"languages\.python(\.enable\s*=\s*true|\s*=\s*\{[^}]*\benable\s*=\s*true)", code):
        version = re.search(r'languages\.python[^}]*?\bversion\s*=\s*"([\d.]+)"', text, re.S)
        python = PYTHONS.get(version.group(1) if version else "3.11")
        if python is None:
            raise BuildFailure(
                f"error: languages.python.version: no Python {version.group(1) if version else '?'} in this nixpkgs (known: 3.11, 3.12)"
            )
        if python not in names:
            names.append(python)
    return names


def enabled_services(text: str) -> list[str]:
    code = _strip_strings_and_comments(text)
    found = re.findall(r"services\.(\w+)(?:\.enable\s*=\s*true|\s*=\s*\{[^}]*\benable\s*=\s*true)", code)
    return list(dict.fromkeys(found))


def _drv(name: str) -> str:
    """A made-up store path, named `simulated-…` so every build line in the log says what it is."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"/nix/store/{digest}-simulated-{name}.drv"


def imitate(text: str, path: str, out: Emitter) -> None:
    check_syntax(text, path)
    attrs = wanted_derivations(text)
    for attr in attrs:
        if attr not in PACKAGES:
            raise BuildFailure(f"error: attribute '{attr}' missing\n\n       at {path}: pkgs.{attr}")
    steps = [(f"{PACKAGES[a][0]}-{PACKAGES[a][1]}", a) for a in attrs]
    steps += [(f"{service}-service-config", None) for service in enabled_services(text)]
    steps.append(("devenv-shell-env", None))
    total = len(steps)
    builds = out.activity()
    out.nix(action="msg", level=3, msg=f"these {total} derivations will be built:")
    for name, _ in steps:
        out.nix(action="msg", level=3, msg=f"  {_drv(name)}")
    out.nix(action="start", id=builds, level=0, type=104, text="", fields=[])
    for done, (name, attr) in enumerate(steps):
        act = out.activity()
        out.nix(action="start", id=act, level=3, type=105, text=f"building '{_drv(name)}'", fields=[_drv(name), "", 1, 1])
        out.nix(action="result", id=builds, type=105, fields=[done, total, 1, 0])
        lines = [f"unpacking sources for {name}", f"configuring {name}", f"building {name}"]
        if attr in BROKEN:
            lines = lines[:2] + list(BROKEN[attr])
        for text_line in lines:
            out.nix(action="result", id=act, type=101, fields=[text_line])
            out.pause()
        out.nix(action="stop", id=act)
        if attr in BROKEN:
            out.nix(action="result", id=builds, type=105, fields=[done, total, 0, 1])
            raise BuildFailure(
                f"error: builder for '{_drv(name)}' failed with exit code 1",
                f"error: 1 dependencies of derivation '{_drv('devenv-shell-env')}' failed to build",
            )
    out.nix(action="result", id=builds, type=105, fields=[total, total, 0, 0])
    out.nix(action="stop", id=builds)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "devenv.nix").resolve()
    out = Emitter(delay=float(os.environ.get("OMNI_TUI_DEMO_BUILD_DELAY", "0.25")))
    out.line(BANNER)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        out.line(f"error: cannot read {path}: {err}")
        return 1
    try:
        imitate(text, str(path), out)
    except BuildFailure as failure:
        for message in failure.messages:
            out.nix(action="msg", level=0, msg=message, **failure.location)
        out.line("SIMULATED BUILD failed (exit 1)")
        return 1
    out.line("SIMULATED BUILD finished: nothing was built, devenv.nix was only scanned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
