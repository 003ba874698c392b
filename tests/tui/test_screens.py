"""Dashboard, holders and agencies, events, help, palette, theme, language, import/export."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from textual.widgets import DataTable, Input, ProgressBar, Tree

from inventory.fleet.counts import count_by_status
from inventory.register.models import Device, Holder
from tui.app import TokenfleetApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.devices import DevicesScreen
from tui.screens.events import EventsScreen
from tui.screens.help import HelpScreen
from tui.screens.holders import HoldersScreen
from tui.screens.transfers import TransfersScreen
from tui.widgets.device_table import DeviceTable
from tui.widgets.figure import Figure

from .conftest import settle


async def test_dashboard_figures_open_their_lists(sqlite_demo, make_app):
    with sqlite_demo.read() as session:
        counts = count_by_status(session)
    lost = sum(n for (_, s), n in counts.items() if s == "lost")
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        figure = app.screen.query_one("#fig-lost", Figure)
        assert str(figure.label).startswith(f"{lost:,}")
        assert "oldest waits" in str(app.screen.query_one("#fig-locked", Figure).label)
        figure.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DevicesScreen)
        table = app.screen.query_one(DeviceTable)
        assert table.total == lost and {r.status for r in table.rows_shown} == {"lost"}
        await pilot.press("1")
        await settle(pilot)
        app.screen.query_one("#fig-month-device-revoke", Figure).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventsScreen)
        assert app.screen.query_one("#events").row_count > 0


async def test_agency_tree_holder_search_and_their_devices(sqlite_demo, make_app):
    with sqlite_demo.read() as session:
        h = session.scalars(select(Holder).join(Device, Device.holder_id == Holder.id)
                            .order_by(Holder.id)).first()
        holder_id, folded = h.id, h.name_folded
        total = session.scalar(select(func.count()).select_from(Device)
                               .where(Device.agency_id.is_not(None)))
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HoldersScreen)
        tree = screen.query_one("#agency-tree", Tree)
        city = tree.root.children[0]
        assert str(city.label).startswith(f"{total:,} · ")  # the city counts its whole subtree
        assert city.is_expanded and city.children  # children loaded lazily
        tree.select_node(city.children[0])
        await settle(pilot)
        assert screen.query_one("#holders", DataTable).row_count > 0
        await pilot.press("slash", *folded)
        await settle(pilot)
        assert any(r.id == holder_id for r in screen.holders)
        index = next(i for i, r in enumerate(screen.holders) if r.id == holder_id)
        screen.query_one("#holders", DataTable).move_cursor(row=index)
        await settle(pilot)
        devices = screen.query_one("#holder-devices", DeviceTable)
        assert devices.rows_shown and {r.holder_id for r in devices.rows_shown} == {holder_id}


async def test_help_palette_theme_and_search_key(sqlite_demo, make_app):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        dark = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != dark and app.current_theme.dark is False
        await pilot.press("slash")  # from anywhere: the devices' search box
        await settle(pilot)
        assert isinstance(app.screen, DevicesScreen) and app.screen.focused is not None \
            and app.screen.focused.id == "search"
        await pilot.press("escape", "ctrl+p")
        await pilot.press(*"Holders")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HoldersScreen)


async def test_vietnamese_labels(sqlite_demo):
    app = TokenfleetApp(sqlite_demo, actor="t", lang="vi", search_debounce=0)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert "Thiết bị theo trạng thái" in [str(w.render()) for w in app.screen.query(
            ".section-title")]
        footer_keys = {b.description for _, b, _, _ in app.screen.active_bindings.values()}
        assert "Tổng quan" in footer_keys


def test_every_label_exists_in_both_languages():
    from tui.strings import en, vi

    assert set(en.STRINGS) == set(vi.STRINGS)


async def test_import_runs_with_progress_and_reports_in_place(sqlite_demo, make_app,
                                                              tmp_path: Path):
    good = tmp_path / "devices.csv"
    good.write_text("serial,kind,status\nIMP-0001,usb_token,in_stock\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("serial,kind,status\n,usb_token,flying\n", encoding="utf-8")
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TransfersScreen)
        screen.query_one("#import-path", Input).value = str(bad)
        await pilot.click("#import-run")
        await settle(pilot)
        assert "bad.csv: row 2" in str(screen.query_one("#import-result").render())
        screen.query_one("#import-path", Input).value = str(good)
        await pilot.click("#import-run")
        await settle(pilot)
        assert "Imported" in str(screen.query_one("#import-result").render())
        assert screen.query_one("#import-progress", ProgressBar).percentage == 1.0
    with sqlite_demo.read() as session:
        assert session.scalar(select(Device.status).where(Device.serial == "IMP-0001")) \
            == "in_stock"


async def test_export_and_monthly_report_write_their_files(sqlite_demo, make_app,
                                                           tmp_path: Path):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#export-path", Input).value = str(tmp_path / "register.xlsx")
        await pilot.click("#export-run")
        await settle(pilot)
        assert "Wrote" in str(screen.query_one("#export-result").render())
        screen.query_one("#report-path", Input).value = str(tmp_path / "fleet.xlsx")
        screen.query_one("#report-month", Input).value = "2026-10"
        await pilot.click("#report-run")
        await settle(pilot)
        assert "Wrote" in str(screen.query_one("#report-result").render())
        screen.query_one("#export-path", Input).value = str(tmp_path / "register.pdf")
        await pilot.click("#export-run")
        await settle(pilot)
        assert "must end in .xlsx or .csv" in str(screen.query_one("#export-result").render())
    assert (tmp_path / "register.xlsx").stat().st_size > 0
    assert (tmp_path / "fleet.xlsx").stat().st_size > 0
