"""What the benches share: the devenv.nix they start from, the tests' own (the `project` fixture's)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import SAMPLE_DEVENV_NIX as DEVENV_NIX  # noqa: E402

__all__ = ["DEVENV_NIX"]
