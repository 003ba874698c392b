"""Finding your way as k9s and lazygit users expect (issue 14, "Finding your way"): a visible
focus ring, arrows and j/k everywhere, ``[``/``]`` for the desk's tabs, Enter from a search box to
its list, an agency picker instead of codes typed by heart, filters as chips with their unit,
saved views, a checkbox that looks unticked, no idle progress bar animating."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Checkbox, DataTable, ProgressBar, Tree

from inventory.register.db import Register
from tui.app import TokenfleetApp
from tui.screens.agency_picker import AgencyPicker
from tui.screens.desk import DeskScreen
from tui.screens.devices import DevicesScreen
from tui.widgets.device_table import DeviceTable
from tui.widgets.figure import Figure
from tui.widgets.filter_chips import Chip
from tui.widgets.tick_box import TickBox

from .conftest import settle


async def test_the_focused_widget_is_framed(sqlite_demo: Register,
                                            make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: no visible focus. Failed before: a focused table looked like any other."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        assert app.screen.focused is table
        focused_colour = table.styles.border_top[1]
        await pilot.press("slash")
        await settle(pilot)
        assert app.screen.focused is not table
        assert table.styles.border_top[1] != focused_colour
        assert table.styles.border_top[0] != ""  # the frame stays: the layout does not jump


async def test_arrows_and_hjkl_move_between_dashboard_tiles(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: arrows did not move between dashboard tiles. Failed before."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        first = app.screen.query_one("#fig-status-in_stock", Figure)
        assert app.screen.focused is first
        await pilot.press("right")
        assert app.screen.focused is app.screen.query_one("#fig-status-issued")
        await pilot.press("down")
        assert isinstance(app.screen.focused, Figure)
        assert app.screen.focused.id == "fig-kind-pki_sim"
        await pilot.press("k")
        assert app.screen.focused.id == "fig-status-issued"
        await pilot.press("j", "j")
        assert app.screen.focused.id.startswith("fig-expiring-")
        await pilot.press("left")
        assert app.screen.focused.id == "fig-expiring-7"


async def test_j_and_k_move_in_every_list(sqlite_demo: Register,
                                          make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: j/k did nothing. Failed before."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        await pilot.press("j", "j", "j", "k")
        assert table.cursor_row == 2
        await pilot.press("3")
        await settle(pilot)
        tree = app.screen.query_one(Tree)
        tree.focus()
        await pilot.press("j")
        assert tree.cursor_line == 1
        await pilot.press("6")
        await settle(pilot)
        requests = app.screen.query_one("#requests", DataTable)
        assert app.screen.focused is requests
        await pilot.press("j")
        assert requests.cursor_row == 1


async def test_brackets_switch_desk_tabs_from_anywhere_on_the_desk(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: ←/→ scrolled the table unless the tab strip had focus (5–8 Tab presses).
    Failed before: ``]`` did nothing."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        tabs = screen.query_one("#desk-tabs")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert tabs.active == "tab-unlock"  # type: ignore[attr-defined]
        assert screen.focused is screen.query_one("#unlock-cases")
        screen.query_one("#brought-by").focus()  # even from a text field
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert tabs.active == "tab-alerts"  # type: ignore[attr-defined]
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert tabs.active == "tab-requests"  # type: ignore[attr-defined]
        assert screen.focused is screen.query_one("#requests")


async def test_the_agency_filter_is_picked_from_the_tree_by_folded_name(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: the agency filter needed a code typed by heart. Failed before: no picker."""
    app = make_app(sqlite_demo, lang="vi")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        await pilot.click("#agency-filter")
        await settle(pilot)
        assert isinstance(app.screen, AgencyPicker)
        picker = app.screen
        await pilot.press(*"so tai chinh")  # no accents: Sở Tài chính
        await settle(pilot)
        assert picker.shown and "Tài chính" in picker.shown[0].name
        code = picker.shown[0].code
        await pilot.press("enter")  # to the list, the best match highlighted
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one(DeviceTable)
        assert table.query_state.filter.agency_code == code
        chips = [str(c.render()) for c in screen.query(Chip)]
        assert any("Tài chính" in c for c in chips)


async def test_filters_show_as_chips_with_their_unit_and_a_chip_removes_its_filter(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: "Expiring" had no unit. Failed before: no chip said "≤ 30 ngày"."""
    app = make_app(sqlite_demo, lang="vi")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("right")  # the dashboard's "expiring within 30 days" is a figure away
        app.screen.query_one("#fig-expiring-30").focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        (chip,) = screen.query(Chip)
        assert "≤ 30 ngày" in str(chip.render())
        chip.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not list(screen.query(Chip))
        assert screen.query_one(DeviceTable).query_state.filter.expiring_within is None


async def test_a_saved_view_comes_back_from_the_command_palette(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp], tmp_path: Path) -> None:
    app = make_app(sqlite_demo, views_path=tmp_path / "views.json")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        screen.query_one("#locked-filter", Checkbox).value = True
        await settle(pilot)
        await pilot.press("v", *"locked ones", "enter")
        await settle(pilot)
        await pilot.press("c")  # clear every filter
        await settle(pilot)
        assert not screen.query_one(DeviceTable).query_state.filter.statuses
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"locked ones")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one(DeviceTable).query_state.filter.statuses == ("locked",)
        assert screen.query_one("#locked-filter", Checkbox).value


async def test_an_unticked_checkbox_shows_no_tick(sqlite_demo: Register,
                                                  make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: an unticked checkbox looked ticked (its "X" only changed colour). Failed
    before."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        box = app.screen.query_one("#locked-filter", TickBox)
        assert "X" not in str(box.render()) and "✓" not in str(box.render())
        box.value = True
        await pilot.pause()
        assert "✓" in str(box.render())


async def test_idle_progress_bars_are_not_shown(sqlite_demo: Register,
                                                make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: idle progress bars animated "--%". Failed before: they were displayed."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        bars = list(app.screen.query(ProgressBar))
        assert bars and not any(bar.display for bar in bars)
