"""The cockpit as the demo opens it: the real `CockpitApp`, with the header saying it is a demo and
a first notification telling a newcomer what is about to happen (and, loudly, when the rebuild is
only simulated)."""

from __future__ import annotations

import sys

from omni_tui.core.errors import OmniError
from omni_tui.core.workspace import Workspace
from omni_tui.demo.template import DemoFiles
from omni_tui.ui.app import CockpitApp

WELCOME = (
    "demo-agent will propose three changes to devenv.nix, one at a time, waiting for your decision: "
    "select one in Proposals, press a to approve or r to reject (with a reason). Later it edits the "
    "file directly: A accepts, u reverts. q quits and cleans everything up."
)


class DemoCockpit(CockpitApp):
    def __init__(self, ws: Workspace, files: DemoFiles) -> None:
        super().__init__(ws, display_root=f"DEMO · {ws.root}")
        self.demo_files = files

    def on_mount(self) -> None:
        self.notify(WELCOME, title="omni-tui demo", timeout=20)
        if self.demo_files.build.simulated:
            self.notify(
                f"{self.demo_files.build.reason}: each rebuild only imitates nix-build and builds nothing.",
                title="SIMULATED build",
                severity="warning",
                timeout=30,
            )


def run_demo_cockpit(ws: Workspace, files: DemoFiles) -> int:
    """Run the demo's cockpit until the person quits; the exit status for the CLI."""
    try:
        app = DemoCockpit(ws, files)
    except OmniError as exc:
        print(f"omni-tui: {exc}", file=sys.stderr)
        return 2
    app.run()
    return app.return_code or 0

