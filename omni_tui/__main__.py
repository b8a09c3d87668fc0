"""`python -m omni_tui` runs the same CLI as the `omni-tui` script."""

from omni_tui.cli import main

raise SystemExit(main())
