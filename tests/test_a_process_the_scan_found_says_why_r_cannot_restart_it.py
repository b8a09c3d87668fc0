"""`R` on a process the psutil scan found (the demo's web and worker, run by honcho) says why it cannot
restart it and where to: it said "The psutil backend cannot restart processes", naming a Python library
and an internal word to a person who only pressed R."""

from __future__ import annotations

from omni_tui.core.processes.model import ProcessSnapshot
from omni_tui.core.processes.scan import ProjectScanner
from omni_tui.core.review import Focus, Panel, Review


class Scan:
    """The scanner as the review sees it: its name, what it can do, how it finds processes (no /proc scan)."""

    name = ProjectScanner.name
    actions = ProjectScanner.actions
    found_by = ProjectScanner.found_by


def test_r_on_a_scanned_process_names_it_says_why_and_points_to_its_manager() -> None:
    review = Review()
    review.selected_process = "web"
    review.processes = ProcessSnapshot("psutil", control=Scan())  # type: ignore[arg-type]
    why = review.why_unavailable("restart_process", Focus(panel=Panel.PROCESSES))
    assert why == (
        "Cannot restart web from here: it was found by scanning the project's processes (psutil), which can stop"
        " one but not restart it; restart it through the process manager that started it"
    )
    assert "backend" not in why
    assert review.why_unavailable("stop_process", Focus(panel=Panel.PROCESSES)) is None  # x still stops it
