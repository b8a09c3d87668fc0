"""The real devenv projects the change card is tested against: ../shared/corpus/devenv-examples, read in place.

Never copied into the repository. Missing is a failure, not a skip: CI has ../shared beside the clone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "devenv-examples"


def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the devenv corpus is missing: expected {CORPUS} (../shared/corpus/devenv-examples beside the clone)")
    return CORPUS


def corpus_file(rel: str) -> bytes:
    return (corpus_dir() / rel).read_bytes()


def corpus_files(pattern: str) -> list[Path]:
    files = sorted(corpus_dir().glob(pattern))
    if not files:
        pytest.fail(f"no {pattern} under {CORPUS}")
    return files
