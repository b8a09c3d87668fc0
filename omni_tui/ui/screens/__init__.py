"""Modal screens: approve, reject, edit, confirm, process log, help. They take plain data and `dismiss(result)`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omni_tui.ui.screens.approve import ApproveScreen
    from omni_tui.ui.screens.confirm import ConfirmScreen
    from omni_tui.ui.screens.edit import EditScreen
    from omni_tui.ui.screens.help import HelpScreen, cockpit_help_sections, help_sections, open_cockpit_help
    from omni_tui.ui.screens.process_log import ProcessLogScreen
    from omni_tui.ui.screens.reject import RejectScreen
    from omni_tui.ui.screens.summaries import ApprovalCheck, ApprovalSummary, FileSummary, HelpEntry, HelpSection

# Loaded on first use (PEP 562): the cockpit imports `screens.relabel` before its first frame, and
# importing the package must not build every modal (the editor's TextArea, the help) by the way.
_WHERE = {
    "ApproveScreen": "approve",
    "ConfirmScreen": "confirm",
    "EditScreen": "edit",
    "HelpScreen": "help",
    "help_sections": "help",
    "cockpit_help_sections": "help",
    "open_cockpit_help": "help",
    "ProcessLogScreen": "process_log",
    "RejectScreen": "reject",
    "ApprovalCheck": "summaries",
    "ApprovalSummary": "summaries",
    "FileSummary": "summaries",
    "HelpEntry": "summaries",
    "HelpSection": "summaries",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ApprovalCheck",
    "ApprovalSummary",
    "ApproveScreen",
    "ConfirmScreen",
    "EditScreen",
    "FileSummary",
    "HelpEntry",
    "HelpScreen",
    "HelpSection",
    "ProcessLogScreen",
    "RejectScreen",
    "cockpit_help_sections",
    "help_sections",
    "open_cockpit_help",
]
