"""Every private Textual API omni-tui touches (omni_tui.ui.textual_compat) still exists and still does
what the cockpit relies on: a Textual upgrade that moves one fails here, by name."""

from __future__ import annotations

import inspect
from pathlib import Path

import textual
from app_harness import cockpit, open_workspace, screen_text, wait_for
from textual import events
from textual.app import App, ComposeResult
from textual.keys import key_to_character
from textual.widgets import DataTable, Input

from omni_tui.ui import textual_compat
from omni_tui.ui.textual_compat import (
    LazyComponentClasses,
    after_type_ahead,
    app_is_closing,
    character_to_key,
    forward_type_ahead,
    note_key_for_type_ahead,
    refresh_truecolor_filter,
    require_update_dimensions,
    update_scrollbars,
)


def test_textual_is_the_pinned_version() -> None:
    # The helpers below were checked against this version; pyproject.toml pins it.
    assert textual.__version__ == "8.2.8"


def test_character_to_key_is_the_inverse_of_the_public_key_to_character() -> None:
    for character in ("?", " ", "a", "A", ","):
        assert key_to_character(character_to_key(character)) == character
    assert character_to_key("?") == "question_mark" and character_to_key("+") == "plus"


async def test_app_is_closing_follows_the_private_running_and_closing_flags() -> None:
    app = App[None]()
    assert {"_running", "_closing", "_closed"} <= set(vars(app))
    assert app_is_closing(app)  # not running yet
    async with app.run_test():
        assert not app_is_closing(app)
        app._closing = True
        assert app_is_closing(app)
        app._closing = False


def test_refresh_truecolor_filter_exists_with_the_theme_argument() -> None:
    parameters = list(inspect.signature(App._refresh_truecolor_filter).parameters)
    assert parameters == ["self", "theme"]
    assert callable(refresh_truecolor_filter)


async def test_require_update_dimensions_makes_a_data_table_recompute_its_width() -> None:
    class Table(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    app = Table()
    async with app.run_test() as pilot:
        table = app.query_one(DataTable)
        table.add_column("name", key="name")
        table.add_row("x")
        await pilot.pause()
        assert table._require_update_dimensions is False
        require_update_dimensions(table)
        assert table._require_update_dimensions is True
        await pilot.pause()
        assert table._require_update_dimensions is False  # taken on idle: the width was recomputed


def test_lazy_component_classes_leaves_out_what_the_widget_names() -> None:
    class Lazy(LazyComponentClasses, DataTable):  # type: ignore[misc]
        COMPONENT_CLASSES = {"lazy--a", "lazy--b"}
        ready = False

        def left_out_component_classes(self) -> frozenset[str]:
            return frozenset() if self.ready else frozenset({"lazy--b"})

    widget = Lazy()
    assert "lazy--a" in widget._get_component_classes() and "lazy--b" not in widget._get_component_classes()
    widget.ready = True
    assert "lazy--b" in widget._get_component_classes()
    # Textual calls it from its restyle: still the private name on DOMNode
    from textual.dom import DOMNode

    assert "_get_component_classes" in vars(DOMNode)


def test_run_action_uses_the_public_action_parser() -> None:
    from textual import actions

    assert actions.parse("app.approve") == ("app", "approve", ())
    assert actions.parse("approve") == ("", "approve", ())


async def test_type_ahead_reaches_a_modal_in_order() -> None:
    """The one type-ahead mechanism: keys a panel saw before a modal opened are re-sent to the modal."""
    from textual.screen import ModalScreen

    typed: list[str] = []

    class Modal(ModalScreen[str]):
        TYPE_AHEAD = True

        def compose(self) -> ComposeResult:
            yield Input()

        def on_key(self, event: events.Key) -> None:
            if event.is_printable and event.character:
                event.stop()
                self.query_one(Input).insert_text_at_cursor(event.character)

        def submit(self) -> None:
            after_type_ahead(self, self.query_one(Input), lambda: typed.append(self.query_one(Input).value))

    class Cockpit(App[None]):
        def on_key(self, event: events.Key) -> None:
            forward_type_ahead(self, event)

    app = Cockpit()
    async with app.run_test() as pilot:
        modal = Modal()
        await app.push_screen(modal)
        for char in "ok":
            key = events.Key(char, char)
            note_key_for_type_ahead(key)  # as the cockpit's panels container does
            app.post_message(key)
        await pilot.pause()
        modal.submit()
        await pilot.pause()
        await pilot.pause()
        assert typed == ["ok"]
    assert textual_compat.__doc__ and "type-ahead" in textual_compat.__doc__


def test_a_key_typed_while_the_app_closes_is_not_an_error() -> None:
    """A key a panel saw can still be queued for the App when its screens are gone (quitting while
    typing): forwarding it must not ask for the screen, which raises ScreenStackError then."""
    app = App()  # no screen on its stack, as at shutdown
    key = events.Key("x", "x")
    note_key_for_type_ahead(key)
    assert forward_type_ahead(app, key) is False


async def test_a_key_still_queued_as_the_cockpit_closes_is_dropped(project: Path) -> None:
    """Textual's key handling asks for the screen, which raises once the screens are gone: the cockpit
    drops a key that arrives then (typed as it quits) instead of ending in a traceback."""
    app = cockpit(open_workspace(project))
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
    assert not app.screen_stack
    await app.on_event(events.Key("u", "u"))


async def test_after_type_ahead_runs_after_a_key_the_input_takes_by_a_binding() -> None:
    """Pins the path a key's binding takes: backspace acts when the key has bubbled from the focused
    input up to the App (`Message._bubble_to`, each ancestor's queue in turn); a callback asked for by a
    priority binding handled before it must follow it there."""
    from textual.binding import Binding
    from textual.containers import Vertical
    from textual.screen import ModalScreen

    seen: list[str] = []

    class Modal(ModalScreen[str]):
        BINDINGS = [Binding("escape", "done", priority=True)]

        def compose(self) -> ComposeResult:
            with Vertical():
                yield Input("ab", select_on_focus=False)

        def action_done(self) -> None:
            after_type_ahead(self, self.query_one(Input), lambda: seen.append(self.query_one(Input).value))

    app = App[None]()
    async with app.run_test() as pilot:
        modal = Modal()
        await app.push_screen(modal)
        modal.query_one(Input).focus()
        await pilot.pause()
        app.post_message(events.Key("backspace", None))  # one burst: escape is handled before backspace acts
        app.post_message(events.Key("escape", None))
        for _ in range(20):
            await pilot.pause()
        assert seen == ["a"]


async def test_set_cells_replaces_many_cells_and_the_screen_shows_them() -> None:
    from textual.app import App as _App

    from omni_tui.ui.textual_compat import set_cells

    class Table(_App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    app = Table()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(DataTable)
        table.add_column("up", key="up")
        for i in range(3):
            table.add_row("1s", key=f"r{i}")
        await pilot.pause()
        set_cells(table, [(f"r{i}", "up", f"{i + 2}s") for i in range(3)])
        assert [table.get_cell(f"r{i}", "up") for i in range(3)] == ["2s", "3s", "4s"]
        await pilot.pause()
        rows = [table.render_line(y).text for y in range(1, 4)]
        assert [r.strip() for r in rows] == ["2s", "3s", "4s"]


async def test_arrange_rows_orders_and_drops_rows_and_the_screen_shows_them() -> None:
    from textual.app import App as _App

    from omni_tui.ui.textual_compat import arrange_rows

    class Table(_App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    app = Table()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(DataTable)
        table.add_column("name", key="name")
        for name in ("a", "b", "c", "d"):
            table.add_row(name, key=name)
        table.move_cursor(row=3)  # on "d"
        await pilot.pause()
        arrange_rows(table, ["d", "a", "c"])  # "b" is gone, "d" moves up
        assert table.row_count == 3
        assert [table.get_row_at(i)[0] for i in range(3)] == ["d", "a", "c"]
        assert table.cursor_row == 2  # clamped to the rows left
        await pilot.pause()
        rows = [table.render_line(y).text.strip() for y in range(1, 4)]
        assert rows == ["d", "a", "c"]
        table.add_row("e", key="e")  # the table goes on working: a new row lands at the bottom
        await pilot.pause()
        assert [table.get_row_at(i)[0] for i in range(4)] == ["d", "a", "c", "e"]


async def test_append_rows_adds_rows_as_add_row_does_and_the_screen_shows_them() -> None:
    from textual.app import App as _App
    from textual.widgets.data_table import DuplicateKey

    from omni_tui.ui.textual_compat import append_rows

    highlighted: list[str] = []

    class Table(_App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

        def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
            highlighted.append(event.row_key.value)

    app = Table()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(DataTable)
        table.add_column("name", key="name")
        table.add_column("age", key="age")
        keys = append_rows(table, [("a", ("a", "1s")), ("b", ("b",))])  # a short row gets None, as add_row fills it
        assert [key.value for key in keys] == ["a", "b"] and table.row_count == 2
        assert table.get_row("a") == ["a", "1s"] and table.get_row("b") == ["b", None]
        table.add_row("c", "3s", key="c")  # add_row goes on after them
        append_rows(table, [("d", ("d", "4s"))])
        assert [table.get_row_at(i)[0] for i in range(4)] == ["a", "b", "c", "d"]
        try:
            append_rows(table, [("a", ("again", ""))])
        except DuplicateKey:
            pass
        else:
            raise AssertionError("a key the table holds was added again")
        # A bad row in a batch (a key twice, one held already) leaves the table as it was: none of the batch.
        for batch in ([("e", ("e", "5s")), ("e", ("e", "6s"))], [("f", ("f", "6s")), ("c", ("c", "7s"))]):
            try:
                append_rows(table, batch)
            except DuplicateKey:
                pass
            else:
                raise AssertionError(f"a batch with a duplicate key was added: {batch}")
            assert table.row_count == 4 and "e" not in table.rows and "f" not in table.rows
        await wait_for(pilot, lambda: highlighted, what="the row the cursor found")  # a message: it comes when it comes
        rows = [table.render_line(y).text.split() for y in range(1, 5)]
        assert rows == [["a", "1s"], ["b"], ["c", "3s"], ["d", "4s"]]
        assert highlighted == ["a"]  # the cursor found a row to be on, once, as add_row announces it
        assert table.cursor_row == 0 and table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "a"
        assert table.virtual_size.height >= 5  # the header and the four rows: scrolled like add_row's rows


async def test_bindings_of_is_the_nodes_own_copy_and_keymap_of_what_set_keymap_was_given() -> None:
    from textual.binding import Binding

    from omni_tui.ui.textual_compat import bindings_of, keymap_of

    class Keys(App[None]):
        BINDINGS = [Binding("a", "bell", "Bell", id="bell")]

    app, other = Keys(), Keys()
    async with app.run_test():
        assert [b.id for _, b in bindings_of(app) if b.id] == ["bell"]
        assert bindings_of(app) is not bindings_of(other)  # per instance: relabelling one leaves the other
        app.set_keymap({"bell": "b"})
        assert dict(keymap_of(app)) == {"bell": "b"}


async def test_known_row_widths_grow_the_columns_and_size_the_table_as_textual_measuring_does() -> None:
    from rich.text import Text
    from textual.app import App as _App
    from textual.widgets import DataTable

    from omni_tui.ui.textual_compat import KnownRowWidths

    rows = [("a", "short"), ("bb", "a much longer cell"), ("ccc", "mid")]

    class Known(KnownRowWidths, DataTable):
        def known_widths(self, row_names: list[str]) -> dict[str, int] | None:
            cells = {name: text for name, text in rows}
            return {"name": max((len(n) for n in row_names), default=0), "text": max((len(cells[n]) for n in row_names), default=0)}

    class Tables(_App[None]):
        def compose(self) -> ComposeResult:
            yield Known(id="known")
            yield DataTable(id="measured")

    app = Tables()
    async with app.run_test(size=(60, 12)) as pilot:
        for table in app.query(DataTable):
            table.add_column(Text("Name"), key="name")
            table.add_column(Text("Text"), key="text")
            for name, text in rows:
                table.add_row(Text(name), Text(text), key=name)
        await pilot.pause()
        known, measured = app.query_one("#known", DataTable), app.query_one("#measured", DataTable)
        assert [c.content_width for c in known.columns.values()] == [c.content_width for c in measured.columns.values()] == [4, 18]
        assert known.virtual_size == measured.virtual_size


async def test_update_scrollbars_sizes_the_scrollbar_to_a_virtual_size_set_without_its_watcher() -> None:
    from textual.geometry import Size
    from textual.scroll_view import ScrollView

    class View(App[None]):
        def compose(self) -> ComposeResult:
            yield ScrollView()

    app = View()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(ScrollView)
        await pilot.pause()
        view.set_reactive(ScrollView.virtual_size, Size(10, 500))
        update_scrollbars(view, Size(10, 500))
        assert view.vertical_scrollbar.window_virtual_size == 500
        assert view.max_scroll_y == 490


async def test_a_capped_table_given_more_rows_keeps_its_box_without_a_relayout_and_its_scrollbar_follows() -> None:
    from rich.text import Text
    from textual.app import App as _App

    from omni_tui.ui.textual_compat import KnownRowWidths, arrange_rows

    # Not focusable: the focus settling (a blur restyles the table) lands at any time under load; only
    # the rows' effect is measured here.
    class Known(KnownRowWidths, DataTable, can_focus=False):
        DEFAULT_CSS = "Known { height: auto; max-height: 5; }"

        def known_widths(self, row_names: list[str]) -> dict[str, int] | None:
            return {"name": max((len(n) for n in row_names), default=0)}

    class Tables(_App[None]):
        def compose(self) -> ComposeResult:
            yield Known()

    app = Tables()
    async with app.run_test(size=(30, 12)) as pilot:
        table = app.query_one(Known)
        table.add_column(Text("Name"), key="name")
        names = [f"r{i:02}" for i in range(8)]
        for name in names:
            table.add_row(Text(name), key=name)
        await wait_for(pilot, lambda: table.outer_size.height == 5 and table.virtual_size.height == 9, what="capped: header + 8 rows")
        asked: list[bool] = []  # the table asking for a layout (its virtual size set as a layout reactive does)
        refresh = table.refresh
        table.refresh = lambda *args, **kwargs: (kwargs.get("layout") and asked.append(True), refresh(*args, **kwargs))[1]  # type: ignore[method-assign]
        for name in ("r08", "r09"):
            names.append(name)
            table.add_row(Text(name), key=name)
        arrange_rows(table, names)
        await pilot.pause()
        await pilot.pause()
        assert table.virtual_size.height == 11 and table.outer_size.height == 5
        assert table.vertical_scrollbar.window_virtual_size == 11
        # The table never asks for one. (The screen may still lay out under load for reasons of its own,
        # which a count of its layouts would blame on the rows: seen with OMNI_TUI_JITTER.)
        assert asked == []
        table.scroll_end(animate=False)  # lands after a refresh: waited for, as a person sees it
        await wait_for(pilot, lambda: table.render_line(table.size.height - 1).text.strip() == "r09", what="the last row at the bottom")


async def test_focused_title_colour_comes_from_the_component_class_only_while_focused() -> None:
    from textual.app import App as _App
    from textual.color import Color
    from textual.containers import Vertical

    from omni_tui.ui.textual_compat import FocusedTitleColour

    class Box(FocusedTitleColour, Vertical):
        DEFAULT_CSS = "Box { border: round white; border-title-color: red; } Box > .panel--focused-title { color: blue; }"
        COMPONENT_CLASSES = {"panel--focused-title"}
        focused_now = False

        def title_focused(self) -> bool:
            return self.focused_now

    class Boxes(_App[None]):
        def compose(self) -> ComposeResult:
            yield Box()

    app = Boxes()
    async with app.run_test(size=(20, 5)):
        box = app.query_one(Box)
        assert box._get_title_style_information(Color(0, 0, 0))[0] == Color.parse("red")
        box.focused_now = True
        assert box._get_title_style_information(Color(0, 0, 0))[0] == Color.parse("blue")
