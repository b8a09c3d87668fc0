"""omni-tui: a terminal cockpit where a person supervises AI agents changing a devenv environment."""

__version__ = "0.1.0"
