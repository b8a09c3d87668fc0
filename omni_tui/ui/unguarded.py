"""Files the environment reads that the gate does not guard, told to the person: once per set of them.

`devenv.nix` can import `nix/db.nix` or source `./setup.sh`; an agent editing those changes the
environment without touching a guarded file (`core.card.reads`). After the first frame, and whenever
the guarded files' texts or the approved configuration change, a worker looks again; a set of such
files not told before is told in a warning naming each one and the fix (the Guard key, `g`: it adds them
to `[guard] files`), the Changes panel's subtitle keeps the count, and `Review.guardable` holds those
inside the project, which the Guard key adds.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from omni_tui.core.card.project import unguarded_reads
from omni_tui.core.terminal import inert

if TYPE_CHECKING:
    from collections.abc import Iterable

    from omni_tui.core.card.reads import Read
    from omni_tui.core.workspace import Workspace
    from omni_tui.ui.app import CockpitApp
    from omni_tui.ui.messages import GuardedFile

SHOWN = 5  # files named in the warning; the rest are counted (`omni-tui status` lists them all)
TOAST_S = 20.0


def describe(reads: list[Read], guard_key: str = "g") -> str:
    """The warning's text: what is read, by which line, and what to do."""
    lines = ["The environment reads these files, which omni-tui does not guard: an agent can change them unseen."]
    for read in reads[:SHOWN]:
        note = "outside the project: cannot be guarded" if read.outside else ("absent" if not read.exists else "")
        # One line each: a name from devenv.yaml is an agent's text, and a line break in it would forge lines.
        lines.append(f"  {inert(read.path)}  ({inert(read.by)}:{read.line}{'; ' + note if note else ''})")
    if len(reads) > SHOWN:
        lines.append(f"  and {len(reads) - SHOWN} more (omni-tui status)")
    if any(not read.outside for read in reads):
        lines.append(
            f"Guard them with {guard_key} (adds them to [guard] files in omni-tui.toml), or list them in [guard] unguarded_ok to leave them so."
        )
    else:
        lines.append("List them in [guard] unguarded_ok in omni-tui.toml to leave them so.")
    return "\n".join(lines)


class UnguardedReads:
    """The last set found (`reads`), and the looks that find it (see the module docstring)."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        self.reads: list[Read] = []
        self._looked: tuple[tuple[str, str | None], ...] | None = None  # the texts last looked at
        self._told: frozenset[str] = frozenset()
        self._asked = 0  # looks asked for; only the newest one's answer is taken
        self.looks = 0  # looks finished (a test waits for one that finds nothing)

    def files_read(self, files: Iterable[GuardedFile]) -> None:
        """The guarded files were read: look again when a definition file's text or the approved configuration changed."""
        # The definition files as they are, and the approved configuration (`[guard] files`, `unguarded_ok`).
        texts = tuple(
            (f.path, f.current if f.path.endswith((".nix", ".yaml")) else f.baseline)
            for f in files
            if f.path.endswith((".nix", ".yaml", ".toml"))
        )
        if texts == self._looked:
            return
        self._looked = texts
        self._asked += 1
        # After the frame that shows the change: the look (a parse) must not share the GIL with it.
        look = partial(
            self.app.run_worker, partial(self._find, self.app.ws, self._asked), thread=True, group="unguarded", exit_on_error=False
        )
        self.app.call_after_refresh(look)

    def _find(self, ws: Workspace, asked: int) -> None:
        try:
            ws.recheck_config()  # an accepted configuration may have moved files in or out of the guard
            found: list[Read] | None = unguarded_reads(ws)
        except Exception:  # noqa: BLE001 - agent bytes must never take the cockpit down; the card says what it cannot read
            found = None
        self.app.call_from_thread(self._found, found, asked)

    def _found(self, found: list[Read] | None, asked: int) -> None:
        if asked != self._asked:
            return  # an older look that finished after a newer one was asked for: the newer one tells
        self.looks += 1
        if found is None:
            return
        found = [read for read in found if not read.acknowledged]  # `[guard] unguarded_ok`: left so on purpose
        counted = len(self.reads)
        self.reads = found
        guardable = tuple(read.path for read in found if not read.outside)
        if guardable != self.app.review.guardable:
            self.app.review.guardable = guardable  # what the Guard action adds
            self.app.bindings_may_have_changed()
        paths = frozenset(read.path for read in found)
        if paths - self._told:
            self.app.notify(
                describe(found, self.app.review.keys.get("guard_unguarded", "g")), title="Not guarded", severity="warning", timeout=TOAST_S
            )
        self._told = paths
        if len(found) != counted:  # the Changes panel's subtitle counts them; nothing else there depends on them
            self.app.workspace.show_changes()
