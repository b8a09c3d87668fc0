"""The card of a proposal (the files on disk → what it proposes) and of the files on disk (baseline → now)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from omni_tui.core.card.diff import Card, FilePair, cached_card
from omni_tui.core.card.reads import Read, unguarded

if TYPE_CHECKING:
    from omni_tui.core.proposals.documents import Proposal
    from omni_tui.core.workspace import Workspace


def proposal_pairs(ws: Workspace, proposal: Proposal) -> list[FilePair]:
    return [FilePair(c.path, ws.read_current(c.path), c.new_content.encode("utf-8")) for c in proposal.changes]


def proposal_card(ws: Workspace, proposal: Proposal) -> Card:
    """What approving `proposal` would do to the project as it is on disk now."""
    return cached_card(proposal_pairs(ws, proposal))


def contents_card(ws: Workspace, contents: dict[str, str]) -> Card:
    """The card of writing `contents` ({path: text}) over the files on disk (an agent's proposed edit)."""
    return cached_card([FilePair(path, ws.read_current(path), text.encode("utf-8")) for path, text in contents.items()])


def current_pairs(ws: Workspace, paths: list[str] | None = None) -> list[FilePair]:
    return [FilePair(rel, ws.read_baseline(rel), ws.read_current(rel)) for rel in (paths if paths is not None else ws.guarded())]


def current_card(ws: Workspace, paths: list[str] | None = None) -> Card:
    """The approved baseline → the guarded files on disk now: what `devenv shell` would pick up (`explain --current`)."""
    return cached_card(current_pairs(ws, paths))


def card_summary(pairs: Sequence[FilePair]) -> dict[str, Any] | None:
    """What a decision's audit entry keeps of the card: categories with counts and risk names, never values.

    None only if the card could not be computed: a decision is never blocked by its description.
    """
    try:
        return cached_card(pairs).summary()
    except Exception:  # noqa: BLE001 - hostile bytes must not stop a person's decision from being recorded
        return None


def unguarded_reads(ws: Workspace, *, stored: bool = False) -> list[Read]:
    """What the workspace's guarded files (as they are on disk) read that the gate does not guard.

    `stored` (`status --json`, which agents poll): each module's path literals are kept on disk by content
    (`stored.stored_paths`), so a project whose devenv.nix names a file does not load the Nix parser on
    every call; what a person reads and the cockpit compute them afresh."""
    from omni_tui.core.errors import OmniError

    def read(rel: str) -> bytes | None:
        try:
            return ws.read_current(rel)
        except OmniError:  # replaced by a symlink or a folder: the gate shows that itself
            return None

    paths_of = None
    if stored:
        from functools import partial

        from omni_tui.core.card.stored import stored_paths

        paths_of = partial(stored_paths, ws.paths.state / "cache" / "paths")
    return unguarded(ws.root, ws.guarded(), read, ok=ws.config.guard.unguarded_ok, paths_of=paths_of)
