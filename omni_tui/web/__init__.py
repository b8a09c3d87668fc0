"""The browser cockpit: `omni-tui serve` (textual-serve behind a token and Host/Origin checks)."""
