"""Modal screens: approve, reject, edit, process log, help."""
