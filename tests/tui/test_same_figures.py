"""The CLI and the TUI show the same figures and offer the same choices (each was a drift)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import openpyxl
from textual.widgets import Input, Label, Tree

from inventory.cli import tui_cmd
from inventory.register.db import Register
from tests.conftest import FIXED_NOW, Tokenfleet
from tui.app import TokenfleetApp
from tui.screens.holders import HoldersScreen

from .conftest import settle

SIZE = (160, 45)


async def test_agency_counts_agree(sqlite_demo: Register, sqlite_url: str,
                                   make_app: Callable[..., TokenfleetApp],
                                   tokenfleet: Tokenfleet) -> None:
    """The CLI counted an agency's own devices, the TUI's tree its subtree's: both show both
    (the tree the total, a picked agency both)."""
    listed = {a["code"]: a for a in json.loads(tokenfleet.on(sqlite_url)(
        "agency", "list", "--format", "json").out)}
    app = make_app(sqlite_demo)
    shown: dict[str, tuple[str, str]] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, HoldersScreen)
        tree = app.screen.query_one("#agency-tree", Tree)
        city = tree.root.children[0]
        for node in [city, *city.children[:4]]:
            assert node.data is not None
            tree.select_node(node)
            await settle(pilot)
            title = str(app.screen.query_one("#holders-title", Label).render())
            shown[node.data.code] = (str(node.label), title)
    assert len(shown) == 5
    differ = 0
    for code, (label, title) in shown.items():
        own, total = listed[code]["devices"], listed[code]["devices_total"]
        assert label.startswith(f"{total:,} · {code} "), (label, listed[code])
        assert f"devices: {own:,} its own, {total:,} with its sub-agencies" in title, title
        differ += own != total
    assert differ  # the city holds no device itself: its own count differs from its total


def test_tui_start_offers_every_screen_of_the_app(tokenfleet: Tokenfleet) -> None:
    """``--start`` lacked ``desk``."""
    (start,) = [p for p in tui_cmd.tui.params if p.name == "start"]
    assert isinstance(start.type, click.Choice)
    assert tuple(start.type.choices) == tuple(TokenfleetApp.MODES)
    assert "desk" in TokenfleetApp.MODES
    code, out, _ = tokenfleet("tui", "--help")
    assert code == 0 and "desk" in out


async def test_the_tui_writes_the_report_the_cli_writes(sqlite_demo: Register, sqlite_url: str,
                                                        make_app: Callable[..., TokenfleetApp],
                                                        tokenfleet: Tokenfleet,
                                                        tmp_path: Path) -> None:
    """The TUI wrote its report in the operator's UI language, the CLI in Vietnamese."""
    app = make_app(sqlite_demo, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        app.screen.query_one("#report-path", Input).value = str(tmp_path / "tui.xlsx")
        app.screen.query_one("#report-month", Input).value = "2026-10"
        await pilot.click("#report-run")
        await settle(pilot)
    assert tokenfleet.on(sqlite_url)("report", "monthly", "--month", "2026-10", "--output",
                                     str(tmp_path / "cli.xlsx")).code == 0

    def sheets(name: str) -> list[str]:
        book = openpyxl.load_workbook(tmp_path / name, read_only=True)
        try:
            return list(book.sheetnames)
        finally:
            book.close()

    assert sheets("tui.xlsx") == sheets("cli.xlsx")
    assert sheets("cli.xlsx")[0] == "Tổng hợp"
    assert FIXED_NOW.year == 2026
