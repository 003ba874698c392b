"""Every screen is usable at 80×24 (issue 14, "Small terminals"): the search box shows what is
typed, the footer is not cut, the agency tree keeps its counts."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Footer, Tree

from inventory.register.db import Register
from tui.app import TokenfleetApp

from .conftest import settle

SMALL = (80, 24)


async def test_the_search_box_shows_what_was_typed_at_80_columns(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: at 90×25 the box showed "▊  i   ▎" after typing "nguyen thi". Failed
    before: the box was squeezed to a few columns."""
    app = make_app(sqlite_demo, lang="vi")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"nguyen thi")
        await settle(pilot)
        box = app.screen.query_one("#search")
        assert box.size.width >= 50  # beside the CA filter: a full name or serial fits
        assert "nguyen thi" in str(box.render_line(1).text if box.size.height > 1
                                   else box.render_line(0).text)


async def test_the_footer_is_not_cut_at_80_columns(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: at 90 columns the footer was cut at "5 Nhậ". Failed before: the footer's keys
    needed more than the width."""
    app = make_app(sqlite_demo, lang="vi")
    async with app.run_test(size=SMALL) as pilot:
        for key in "123456":
            await pilot.press(key)
            await settle(pilot)
            footer = app.screen.query_one(Footer)
            needed = sum(child.outer_size.width for child in footer.children)
            assert needed <= footer.size.width, (key, needed)


async def test_agency_tree_labels_keep_their_counts_at_80_columns(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: tree labels lost their counts (cut at the right). Failed before: the count
    came last."""
    app = make_app(sqlite_demo, lang="vi")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await settle(pilot)
        tree = app.screen.query_one(Tree)
        lines = [tree.render_line(y).text for y in range(min(tree.size.height, 8))]
        labelled = [line for line in lines if "·" in line]
        assert labelled and all(any(ch.isdigit() for ch in line.split("·")[0])
                                for line in labelled)
