# Recipes for working on omni-tui. `just` is on PyPI as rust-just.

# run the demo cockpit
demo *args:
    scripts/demo {{args}}

# run the whole test suite
test *args:
    scripts/test {{args}}

# print the benchmark figures
bench:
    scripts/setup && for b in bench/bench_*.py; do .venv/bin/python "$b"; done

# regenerate the snapshot SVGs after an intended UI change
snapshots:
    scripts/setup && .venv/bin/python -m pytest -q tests/test_snapshots.py --snapshot-update

# ruff (lint + format check), mypy (strict on omni_tui/core) and the layer contracts
lint:
    scripts/lint
