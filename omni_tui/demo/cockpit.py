"""The cockpit as the demo opens it: the real `CockpitApp`, with the header saying it is a demo and
a first notification telling a newcomer what is about to happen (and, loudly, when the rebuild is
only simulated)."""

from __future__ import annotations

import sys
import textwrap

from omni_tui.core.errors import OmniError
from omni_tui.core.workspace import Workspace
from omni_tui.demo.template import DemoFiles
from omni_tui.ui.app import CockpitApp

# The Rebuild log's text width at 80x24 (its scroll bar shown): the log does not wrap, a longer line is
# cut at the panel's edge ("r rejec", "A accepts," without "u reverts" did so).
WELCOME_WIDTH = 44
WELCOME_LINES = (
    "omni-tui demo: demo-agent will propose three",
    "changes to devenv.nix and waits for you.",
    "Select one in Proposals: a approves,",
    "r rejects (with a reason the agent reads).",
    "Later it edits the file directly:",
    "A accepts, u reverts. q quits and cleans up.",
)
WELCOME = " ".join(WELCOME_LINES)

# The toast sits over the Rebuild log it points to: it says so, and how to close it before it goes.
TOAST = "a approves, r rejects, q quits. The Rebuild log under this note walks you through the demo (a click closes the note)."


class DemoCockpit(CockpitApp):
    def __init__(self, ws: Workspace, files: DemoFiles) -> None:
        super().__init__(ws, display_root=f"DEMO · {ws.root}")
        self.demo_files = files

    def on_mount(self) -> None:
        # One short toast (at 80x24 a toast covers part of the Proposals panel); the whole welcome stays
        # readable in the Rebuild log, which is empty until the first approval.
        build = self.demo_files.build
        simulated = f"SIMULATED build ({build.reason}): each rebuild only imitates nix-build and builds nothing."
        lines = [*WELCOME_LINES, *(textwrap.wrap(simulated, WELCOME_WIDTH) if build.simulated else [])]
        self.log_view.write_lines(lines)
        if build.simulated:
            self.notify(f"{TOAST} {simulated}", title="omni-tui demo · SIMULATED build", severity="warning", timeout=12)
        else:
            self.notify(TOAST, title="omni-tui demo", timeout=8)


def run_demo_cockpit(ws: Workspace, files: DemoFiles) -> int:
    """Run the demo's cockpit until the person quits; the exit status for the CLI."""
    try:
        app = DemoCockpit(ws, files)
    except OmniError as exc:
        print(f"omni-tui: {exc}", file=sys.stderr)
        return 2
    app.run()
    return app.return_code or 0
