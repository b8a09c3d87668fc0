"""The argparse front: one function per subcommand, no domain logic."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("omni-tui: under construction", file=sys.stderr)
    return 2
