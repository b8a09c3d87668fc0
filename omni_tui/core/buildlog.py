"""Rebuild output → build progress and display lines.

Understands Nix's `--log-format internal-json` (`@nix {...}` lines) as Nix 2.x writes it, plus plain
Nix and devenv output. Nix activity and result types (from Nix's `logging.hh`):

- activities: 100 copy path, 101 file transfer, 102 realise, 103 copy paths, 104 builds (the
  overall counter), 105 build (one derivation), 108 substitute;
- results: 101 build log line, 104 set phase (`buildPhase`, ...), 105 progress
  `[done, expected, running, failed]`, 106 set expected `[activity type, count]`.

Build counts therefore arrive as result 105 on the activity of type 104; a result of type 104 with
four integers is accepted as counts too (older descriptions of the format say so).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from omni_tui.core.terminal import plain

ACT_COPY_PATH = 100
ACT_FILE_TRANSFER = 101
ACT_COPY_PATHS = 103
ACT_BUILDS = 104
ACT_BUILD = 105
ACT_SUBSTITUTE = 108
RES_BUILD_LOG_LINE = 101
RES_SET_PHASE = 104
RES_PROGRESS = 105
RES_SET_EXPECTED = 106
RES_POST_BUILD_LOG_LINE = 107

PHASES = ("evaluating", "building", "copying", "done", "failed")
MAX_ERROR_LINES = 40
# Nix message levels: 0 error, 1 warn, 2 notice, 3 info, 4 talkative, 5 chatty, 6 debug, 7 vomit.
DEFAULT_MAX_LEVEL = 3

_STORE_NAME = re.compile(r"^/nix/store/[0-9a-z]{32}-(.*?)(?:\.drv)?$")
_WILL_BUILD = re.compile(r"^these (\d+) derivations will be built:|^this derivation will be built:")
_WILL_FETCH = re.compile(r"^these (\d+) paths will be fetched|^this path will be fetched")
_BUILDING = re.compile(r"^building '(/nix/store/[^']+)'")
_COPYING = re.compile(r"^(?:copying path|copying \d+ paths|downloading) ")
_ERROR = re.compile(r"^error(?:\s*\(.*?\))?:")
_DEVENV_PHASE = re.compile(r"^\W*(evaluating|building|downloading|copying)\b", re.IGNORECASE)
# A plain line whose first character is a letter or digit can only mean something to `_plain` when it
# starts with one of these words (lower-cased): every other such line is display text and nothing else.
_PLAIN_KEYWORDS = ("error", "these ", "this ", "building", "copying", "downloading", "evaluating")
# A line starting with anything but an ASCII letter or digit, or with a status word (error, these, this,
# building, copying, downloading, evaluating), may mean something: `feed_lines` looks at those only.
# (A newline first: the regex engine then skips to each newline at memchr speed, where `^` with
# MULTILINE tries every position.)
# A plain `building '/nix/store/…'` line of printable ASCII is counted in bulk (`_count_building`).
_SIMPLE_BUILDING = "building '/nix/store/[ -&(-~]+'[ -~]*(?:\n|$)"
# The first lookahead is a one-character test that turns most lines away at once: a letter that no
# status word starts with (b, c, d, e, t), or a digit (sre tries the lookaheads after every newline).
_SLOW_START = re.compile(
    f"\n(?=[^0-9AaF-SU-Zf-su-z])(?!{_SIMPLE_BUILDING})(?=[^0-9A-Za-z]|(?i:error|these |this |building|copying|downloading|evaluating))"
)
_BUILDING_AT = "\nbuilding '/nix/store/"


def short_name(store_path: str) -> str:
    """`/nix/store/<hash>-hello-2.12.drv` → `hello-2.12` (anything else unchanged)."""
    m = _STORE_NAME.match(store_path)
    return m.group(1) if m else store_path


def format_elapsed(seconds: float) -> str:
    """`7` → `0:07`, `3725` → `1:02:05`."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class BuildProgress:
    """Where a rebuild is: phase, build counts, what builds now, the last error."""

    phase: str = "evaluating"
    done: int = 0
    expected: int = 0
    running: int = 0
    failed: int = 0
    current: tuple[str, ...] = ()  # short names of the derivations building now
    last_error: str | None = None
    copied: int = 0
    to_copy: int = 0

    def summary(self, elapsed_s: float | None = None) -> str:
        """One line: `building 2/5 · hello-2.12 · 0:07`."""
        parts: list[str] = []
        if self.phase == "building":
            parts.append(f"building {self.done}/{self.expected}" if self.expected else "building")
            if self.current:
                more = f" +{len(self.current) - 1}" if len(self.current) > 1 else ""
                parts.append(self.current[0] + more)
        elif self.phase == "copying":
            parts.append(f"copying {self.copied}/{self.to_copy} paths" if self.to_copy else "copying")
        elif self.phase == "done":
            parts.append(f"done {self.done}/{self.expected}" if self.expected else "done")
        elif self.phase == "failed":
            parts.append("failed")
            if self.expected:
                parts.append(f"{self.done}/{self.expected} built")
            if self.failed:
                parts.append(f"{self.failed} failed")
        else:
            parts.append(self.phase)
        if elapsed_s is not None:
            parts.append(format_elapsed(elapsed_s))
        return " · ".join(parts)


@dataclass(frozen=True)
class DisplayLine:
    """A line for the log view (raw text: may hold SGR colours; the view sanitises). `source`: the drv."""

    text: str
    source: str | None = None
    level: int = 3


@dataclass(frozen=True)
class ProgressChanged:
    progress: BuildProgress


@dataclass(frozen=True)
class NixError:
    """A Nix `error:` message, plain text (colours removed), possibly several lines."""

    text: str


BuildEvent = DisplayLine | ProgressChanged | NixError


@dataclass
class _Activity:
    type: int
    name: str = ""
    phase: str | None = None


@dataclass
class BuildLogParser:
    """Feed it the rebuild's lines in order; read `.progress` or the events each line yields."""

    max_level: int = DEFAULT_MAX_LEVEL
    progress: BuildProgress = field(default_factory=BuildProgress)
    _activities: dict[int, _Activity] = field(default_factory=dict)
    _error_lines: list[str] | None = None  # plain-output error being collected
    _plain_started: int = 0
    _building: str | None = None  # a plain `building '…'` path `feed_lines` has not applied to the progress yet

    def feed(self, line: str) -> list[BuildEvent]:
        if line.startswith("@nix {"):
            try:
                obj = json.loads(line[5:])
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                self._error_lines = None
                return self._json(obj)
        return self._plain(line)

    def feed_lines(self, lines: list[str], text: str | None = None) -> list[str]:
        """Feed many lines; return their display texts (raw: may hold SGR colours). The hot path.

        Same result as `feed` line by line, without an event object per line. A line that is not
        `@nix ` JSON and starts with a letter or digit no status word starts with is display text as it
        is: one regular expression over the whole batch finds the other lines, and the runs between
        them are copied from `lines` as slices (no new string per line). Plain `building '/nix/store/…'`
        lines only count until the next line that needs the progress. `text`, when given, is
        `"\n".join(lines)` (the line splitter has it already).
        """
        if not lines:
            return []
        joined = "\n" + (text if text is not None else "\n".join(lines))
        size = len(joined)
        if text is None and joined.count("\n") != len(lines):
            lines = joined[1:].split("\n")  # a line held a newline: it shows as two, as `feed` does
        find, count = joined.find, joined.count
        out: list[str] = []
        # `pos`: where the next line not yet taken starts in `joined`; `row`: its index in `lines`.
        row = 0

        def take(begin: int) -> int:
            """Lines one by one from `begin` while an error message is being collected; where the next starts."""
            nonlocal row
            while True:
                stop = find("\n", begin)
                if stop < 0:
                    stop = size
                self._one(lines[row], out)
                row += 1
                if self._error_lines is None or stop + 1 > size:
                    return stop + 1
                begin = stop + 1

        # An error message collected at the end of the last batch may go on (or end) in this one's first lines.
        pos = take(1) if self._error_lines is not None else 1
        for m in _SLOW_START.finditer(joined):
            begin = m.start() + 1
            if begin < pos:
                continue  # taken already while an error message was being collected
            if begin > pos:
                skip = count("\n", pos, begin)
                out.extend(lines[row : row + skip])
                row += skip
                self._count_building(joined, pos - 1, begin - 1)
            pos = take(begin)
        if pos <= size:
            out.extend(lines[row:] if row else lines)
            self._count_building(joined, pos - 1, size)
        if self._building is not None:
            self._apply_building(self._building)
            self._building = None
        return out

    def _count_building(self, joined: str, lo: int, hi: int) -> None:
        """The plain `building '…'` lines in `joined[lo:hi]` (all simple: the others were taken one by one)."""
        n = joined.count(_BUILDING_AT, lo, hi)
        if n:
            self._plain_started += n
            last = joined.rfind(_BUILDING_AT, lo, hi) + len(_BUILDING_AT) - len("/nix/store/")
            self._building = joined[last : joined.find("'", last)]

    def _one(self, line: str, out: list[str]) -> None:
        """A line the batch scan could not take as it is."""
        if self._error_lines is None:
            if line[:1].isalnum() and not line[:12].lower().startswith(_PLAIN_KEYWORDS):
                out.append(line)  # `éléphant`, `Errors: 0`: display text after all
                return
            if line.startswith("building '/nix/store/") and line.isprintable():
                end = line.find("'", 10)
                if end > 10:
                    self._plain_started += 1
                    self._building = line[10:end]
                    out.append(line)
                    return
        if self._building is not None:
            self._apply_building(self._building)
            self._building = None
        for event in self.feed(line):
            if type(event) is DisplayLine:
                out.append(event.text)

    def _apply_building(self, drv: str) -> None:
        """What `_plain` does for `building '<drv>'`, once for a run of such lines (the counts only grow)."""
        done = max(self.progress.done, self._plain_started - 1)
        expected = max(self.progress.expected, self._plain_started)
        self._set(phase="building", done=done, expected=expected, running=1, current=(short_name(drv.removesuffix("...")),))

    def finish(self, exit_code: int | None) -> list[BuildEvent]:
        """The command ended: the phase becomes done (exit 0) or failed."""
        self._error_lines = None
        if exit_code == 0:
            done = max(self.progress.done, self.progress.expected)
            return self._set(phase="done", done=done, running=0, current=())
        return self._set(phase="failed", running=0, current=())

    # -- internal-json ---------------------------------------------------------------------------

    def _json(self, obj: dict[str, Any]) -> list[BuildEvent]:
        action = obj.get("action")
        if action == "msg":
            return self._msg(obj)
        if action == "start":
            return self._start(obj)
        if action == "stop":
            return self._stop(obj)
        if action == "result":
            return self._result(obj)
        return []

    def _msg(self, obj: dict[str, Any]) -> list[BuildEvent]:
        text = str(obj.get("msg", ""))
        level = obj.get("level", 3)
        level = level if isinstance(level, int) else 3
        events: list[BuildEvent] = []
        flat = plain(text)
        if level == 0 or _ERROR.match(flat):
            error = "\n".join(plain(part) for part in text.split("\n")).strip("\n")
            events.extend(DisplayLine(part, level=0) for part in text.split("\n"))
            events.append(NixError(error))
            failed = self.progress.failed
            if "builder for" in flat and "failed" in flat:
                failed = max(failed, 1)
            events.extend(self._set(phase="failed", last_error=error, failed=failed))
            return events
        if level <= self.max_level:
            events.extend(DisplayLine(part, level=level) for part in text.split("\n"))
        m = _WILL_BUILD.match(flat)
        if m:
            expected = int(m.group(1)) if m.group(1) else 1
            # Nix's announcement is authoritative: it already left out what is cached or substituted.
            events.extend(self._set(phase="building", expected=expected))
        elif _WILL_FETCH.match(flat) and self.progress.phase == "evaluating":
            events.extend(self._set(phase="copying"))
        return events

    def _start(self, obj: dict[str, Any]) -> list[BuildEvent]:
        act_id, act_type = obj.get("id"), obj.get("type")
        if not isinstance(act_id, int) or not isinstance(act_type, int):
            return []
        fields = obj.get("fields") or []
        text = str(obj.get("text") or "")
        level = obj.get("level", 3)
        activity = _Activity(act_type)
        self._activities[act_id] = activity
        events: list[BuildEvent] = []
        if text and isinstance(level, int) and level <= self.max_level:
            events.append(DisplayLine(text, level=level))
        if act_type == ACT_BUILD:
            drv = fields[0] if fields and isinstance(fields[0], str) else _quoted(text)
            activity.name = short_name(drv) if drv else "build"
            current = self.progress.current + (activity.name,)
            events.extend(self._set(phase="building", current=current))
        elif act_type in (ACT_COPY_PATH, ACT_SUBSTITUTE, ACT_FILE_TRANSFER):
            if fields and isinstance(fields[0], str):
                activity.name = short_name(fields[0])
            if self.progress.phase in ("evaluating",) or (self.progress.phase == "building" and not self.progress.current):
                events.extend(self._set(phase="copying"))
        return events

    def _stop(self, obj: dict[str, Any]) -> list[BuildEvent]:
        activity = self._activities.pop(obj.get("id"), None)  # type: ignore[arg-type]
        if activity is None or activity.type != ACT_BUILD:
            return []
        current = list(self.progress.current)
        if activity.name in current:
            current.remove(activity.name)
        return self._set(current=tuple(current))

    def _result(self, obj: dict[str, Any]) -> list[BuildEvent]:
        res_type = obj.get("type")
        fields = obj.get("fields") or []
        activity = self._activities.get(obj.get("id"))  # type: ignore[arg-type]
        if res_type in (RES_BUILD_LOG_LINE, RES_POST_BUILD_LOG_LINE):
            text = str(fields[0]) if fields else ""
            source = activity.name if activity and activity.name else None
            return [DisplayLine(f"{source}> {text}" if source else text, source=source)]
        counts = len(fields) == 4 and all(isinstance(v, int) for v in fields)
        if res_type == RES_PROGRESS and counts and activity is not None:
            done, expected, running, failed = fields
            if activity.type == ACT_BUILDS:
                phase = self.progress.phase
                if phase in ("evaluating", "copying") and (running or expected):
                    phase = "building" if running or not self.progress.to_copy else phase
                # Nix also lowers `expected` when a build fails (its dependents are dropped): only then
                # does the earlier figure stay the better one. Otherwise the lower figure is the truth
                # (an incremental build first counts every derivation, then only those not yet valid).
                if failed:
                    expected = max(expected, self.progress.expected)
                return self._set(phase=phase, done=done, expected=expected, running=running, failed=failed)
            if activity.type == ACT_COPY_PATHS:
                phase = self.progress.phase
                if running and not self.progress.current and phase in ("evaluating", "building"):
                    phase = "copying"
                return self._set(phase=phase, copied=done, to_copy=expected)
            return []
        if res_type == RES_SET_PHASE:
            if counts:  # a literal "type 104" carrying build counts
                done, expected, running, failed = fields
                if failed:
                    expected = max(expected, self.progress.expected)
                return self._set(phase="building", done=done, expected=expected, running=running, failed=failed)
            if activity is not None and fields and isinstance(fields[0], str):
                activity.phase = fields[0]
            return []
        if res_type == RES_SET_EXPECTED and len(fields) == 2 and all(isinstance(v, int) for v in fields):
            if fields[0] == ACT_BUILD and (not self.progress.failed or fields[1] > self.progress.expected):
                return self._set(expected=fields[1])
        return []

    # -- plain Nix / devenv output ---------------------------------------------------------------

    def _plain(self, line: str) -> list[BuildEvent]:
        events: list[BuildEvent] = [DisplayLine(line)]
        flat = plain(line)
        stripped = flat.strip()
        if self._error_lines is not None:
            if flat[:1].isspace() or not stripped:
                if len(self._error_lines) < MAX_ERROR_LINES:
                    self._error_lines.append(flat.rstrip())
                    text = "\n".join(self._error_lines).strip("\n")
                    events.extend(self._set(last_error=text))
                return events
            self._error_lines = None
        if _ERROR.match(stripped):
            self._error_lines = [stripped]
            events.append(NixError(stripped))
            failed = self.progress.failed
            if "builder for" in stripped and "failed" in stripped:
                failed += 1
            events.extend(self._set(phase="failed", last_error=stripped, failed=failed))
            return events
        m = _WILL_BUILD.match(stripped)
        if m:
            expected = int(m.group(1)) if m.group(1) else 1
            events.extend(self._set(phase="building", expected=self.progress.expected + expected))
            return events
        if _WILL_FETCH.match(stripped):
            if self.progress.phase == "evaluating":
                events.extend(self._set(phase="copying"))
            return events
        m = _BUILDING.match(stripped)
        if m:
            self._plain_started += 1
            done = max(self.progress.done, self._plain_started - 1)
            expected = max(self.progress.expected, self._plain_started)
            name = short_name(m.group(1).removesuffix("..."))
            events.extend(self._set(phase="building", done=done, expected=expected, running=1, current=(name,)))
            return events
        if _COPYING.match(stripped):
            if not self.progress.current and self.progress.phase != "failed":
                events.extend(self._set(phase="copying"))
            return events
        m = _DEVENV_PHASE.match(stripped)
        # Not while a derivation builds: its own output ("copying files…") says nothing about the phase.
        if m and self.progress.phase != "failed" and not self.progress.current:
            word = m.group(1).lower()
            phase = {"downloading": "copying"}.get(word, word)
            if phase != self.progress.phase:
                events.extend(self._set(phase=phase))
        return events

    def _set(self, **changes: object) -> list[BuildEvent]:
        new = replace(self.progress, **changes)  # type: ignore[arg-type]
        if new == self.progress:
            return []
        self.progress = new
        return [ProgressChanged(new)]


def _quoted(text: str) -> str:
    m = re.search(r"'([^']+)'", text)
    return m.group(1) if m else ""
