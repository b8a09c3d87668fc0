"""Widgets: data in through messages and setters, pixels out. No files, no subprocesses."""
