"""Issue 13, "lost or mangled values": text from the register reaches the screen as written.

A holder may be named like Rich markup (the checks allow brackets), and a register filled
before the checks may hold control characters and escapes. Tables, trees, options, labels and
the detail summary show such text as text: never styled, never a crash on a stray ``[/]``, and
control characters visible as ``\\x1b``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rich.text import Text
from sqlalchemy import update
from textual.widgets import DataTable, Static, Tree

from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.models import Holder
from tui.app import TokenfleetApp
from tui.screens.holders import HoldersScreen
from tui.widgets.device_table import DeviceTable

from .conftest import settle

MARKUP = "[bold red]Nguyễn[/] An [/x]"
ESCAPES = "\x1b[2J\x1b]0;owned\x07Chuyên viên"


@pytest.fixture
def hostile(sqlite_url: str) -> Iterator[Register]:
    register = Register.open(sqlite_url, auto_upgrade=True)
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name="[b]Sở[/b] Tài chính", actor="t")
        holder = lifecycle.add_holder(s, full_name=MARKUP, agency=agency, actor="t")
        device = lifecycle.add_device(s, kind="usb_token", serial="HOSTILE-1", actor="t")
        lifecycle.issue(s, device, holder, method="in_person", actor="t")
    with register.session() as s:  # as a register filled before the checks may hold it
        s.execute(update(Holder).values(title=ESCAPES))
    yield register
    register.dispose()


def plain_cells(table: DataTable[object]) -> list[str]:
    out = []
    for row in range(table.row_count):
        for value in table.get_row_at(row):
            assert isinstance(value, Text) and not [s for s in value.spans if s.style]
            out.append(value.plain)
    return out


async def test_lost_or_mangled_values_markup_and_escapes_show_as_text(
        hostile: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    app = make_app(hostile)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert MARKUP in plain_cells(app.screen.query_one(DeviceTable))
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HoldersScreen)
        tree: Tree[object] = screen.query_one("#agency-tree", Tree)
        tree_labels = [str(n.label) for n in tree.root.children]
        assert any("[b]Sở[/b] Tài chính" in label for label in tree_labels), tree_labels
        tree.select_node(tree.root.children[0])
        await settle(pilot)
        cells = plain_cells(screen.query_one("#holders", DataTable))
        assert MARKUP in cells
        assert "\\x1b[2J\\x1b]0;owned\\x07Chuyên viên" in cells  # escapes shown, not acted on
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")  # the device's detail
        await settle(pilot)
        summary = app.screen.query_one("#detail-summary", Static).render()
        assert MARKUP in str(summary)
