"""The environment mark on every command omni-tui itself runs in a project (rebuilds, Nix parse checks).

Those commands run in the project's directory but are not the project's processes: the psutil scan
leaves out marked processes and their descendants. Its own module so the hook's fast path and the
scan can import it without the runner.
"""

REBUILD_MARK = "OMNI_TUI_REBUILD"
