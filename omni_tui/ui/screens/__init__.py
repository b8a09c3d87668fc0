"""Modal screens: approve, reject, edit, confirm, process log, help. They take plain data and `dismiss(result)`."""

from omni_tui.ui.screens.approve import ApproveScreen
from omni_tui.ui.screens.confirm import ConfirmScreen
from omni_tui.ui.screens.edit import EditScreen
from omni_tui.ui.screens.help import HelpScreen, help_sections
from omni_tui.ui.screens.process_log import ProcessLogScreen
from omni_tui.ui.screens.reject import RejectScreen
from omni_tui.ui.screens.summaries import (
    ApprovalCheck,
    ApprovalSummary,
    FileSummary,
    HelpEntry,
    HelpSection,
)

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
    "help_sections",
]
