"""The help screen (`?`) at 60 and 80 columns: a description too long for its line continues under the
description column, never under the keys, so a wrapped word never reads like a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import cockpit, open_workspace, ready, screen_text, wait_for

from omni_tui.ui.screens import HelpScreen


@pytest.mark.parametrize("size", [(60, 30), (80, 24)])
async def test_wrapped_help_descriptions_continue_under_the_description_column(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help")
        sections = {section.title: section for section in app.screen.sections if section.entries}
        body = app.screen.query_one("#help-body")
        # The help is longer than a page at these sizes: read it once it is laid out (scrollable).
        await wait_for(pilot, lambda: body.max_scroll_y > 0, what="the help laid out")
        wrapped = 0
        seen_titles: set[str] = set()
        section = None
        # every section of the help, scrolled into view one page at a time
        while True:
            region = body.content_region
            rows = screen_text(app).splitlines()[region.y : region.bottom]
            lines = [row[region.x : region.right - body.scrollbar_size_vertical].rstrip() for row in rows]
            for content in lines:
                if not content.strip():
                    continue
                if content.strip() in sections:
                    section = sections[content.strip()]
                    seen_titles.add(section.title)
                    continue
                if section is None:
                    continue  # the last page, pulled back over lines already read: from its next title on
                width = max(len(entry.key) for entry in section.entries)
                keys = {entry.key for entry in section.entries}
                indent = len(content) - len(content.lstrip(" "))
                if indent == 2 and content[2 : 2 + width].rstrip() in keys and content[2 + width : 4 + width] == "  ":
                    continue  # a key and its description
                # a continuation line: it starts under the description column (padding 2 + key column + 2)
                wrapped += 1
                assert indent == 2 + width + 2, (content, "\n".join(lines))
            if body.scroll_y >= body.max_scroll_y:
                break
            before = body.scroll_y
            body.scroll_page_down(animate=False)
            await wait_for(pilot, lambda: body.scroll_y != before, what="the next page of the help")
            if body.scroll_y - before != region.height:
                section = None  # the last page overlaps the one before
            await wait_for(pilot, lambda: screen_text(app).splitlines()[region.y : region.bottom] != rows, what="the page drawn")
        assert seen_titles == set(sections)
        assert wrapped, "no description wrapped at this width: the test shows nothing"
