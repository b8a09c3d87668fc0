"""The footer's one row, laid out without an app: `key description` entries one blank apart, a group as
` np Hunk`, the palette's key docked at the right end; when the row is too narrow the entries that give
way leave first to last (a group with its label), and what still does not fit is cut at the edge."""

from __future__ import annotations

from omni_tui.ui.widgets.key_bar_layout import KeyCap, KeyEntry, Piece, lay_out, piece_at


def _key(key: str, description: str, action: str, *, enabled: bool = True) -> KeyEntry:
    return KeyEntry((KeyCap(key, key, action, enabled),), description)


APPROVE = _key("a", "Approve", "approve")
SPLIT = _key("s", "Split", "toggle_split")
HUNK = KeyEntry((KeyCap("n", "n", "next_hunk"), KeyCap("p", "p", "previous_hunk")), "Hunk", grouped=True)
ZOOM = _key("z", "Zoom", "maximize")
QUIT = _key("q", "Quit", "quit")
PALETTE = KeyEntry((KeyCap("ctrl+p", "^p", "command_palette"),), "Commands", palette=True)
ROW = (APPROVE, HUNK, SPLIT, ZOOM, QUIT, PALETTE)
GIVES_WAY = ("toggle_split", "next_hunk", "maximize")


def text(pieces: list[Piece], width: int) -> str:
    row = [" "] * width
    for piece in pieces:
        for offset, char in enumerate(piece.text):
            if piece.x + offset < width:
                row[piece.x + offset] = char
    return "".join(row)


def test_a_wide_row_shows_every_entry_and_docks_the_palette_at_the_right_end() -> None:
    row = text(lay_out(ROW, 60, GIVES_WAY), 60)
    assert row == "a Approve  np Hunk s Split z Zoom q Quit       ▏^p Commands "


def test_a_narrow_row_leaves_out_what_gives_way_first_to_last_and_keeps_the_rest() -> None:
    # 41 columns: without Split (8) the flow is 33 wide, the palette 13: too wide; Hunk goes too.
    row = text(lay_out(ROW, 41, GIVES_WAY), 41)
    assert row == "a Approve z Zoom q Quit     ▏^p Commands "
    assert "Split" not in row and "Hunk" not in row and " np" not in row  # the group leaves with its label
    # Wider: Split comes back before Hunk would (it gave way first).
    wider = text(lay_out(ROW, 52, GIVES_WAY), 52)
    assert "z Zoom" in wider and "np Hunk" in wider and "Split" not in wider


def test_what_never_gives_way_is_cut_at_the_edge_not_drawn_past_it() -> None:
    pieces = lay_out(ROW, 20, GIVES_WAY)
    assert text(pieces, 20) == "a Appro▏^p Commands "  # docked: the palette keeps its place, the flow is cut before it
    assert all(piece.end <= 7 for piece in pieces if piece.x < 7)  # nothing of the flow under the palette


def test_a_narrow_cockpit_puts_the_palette_inline_after_the_others() -> None:
    row = text(lay_out((APPROVE, QUIT, PALETTE), 40, dock_palette=False), 40)
    assert row.rstrip() == "a Approve q Quit ^p Commands"


def test_a_click_finds_the_key_under_it_each_key_of_a_group_its_own_and_none_on_a_gap_or_label() -> None:
    pieces = lay_out(ROW, 60, GIVES_WAY)
    row = text(pieces, 60)

    def at(column: int) -> tuple[int, int] | None:
        piece = piece_at(pieces, column)
        return (piece.entry, piece.key) if piece is not None and piece.entry >= 0 else None

    assert at(row.index("Approve")) == (0, 0)  # the description presses its key too
    assert at(row.index("np")) == (1, 0) and at(row.index("np") + 1) == (1, 1)
    assert at(row.index("Hunk")) is None  # a group's label is not a key
    assert at(row.index("Approve") + len("Approve")) is None  # the blank between entries
    assert at(row.index("^p")) == (5, 0) and at(row.index("▏")) is None
