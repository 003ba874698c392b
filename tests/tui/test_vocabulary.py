"""The Vietnamese TUI shows words, never codes: dashboard, device history, request detail and the
desk panes are read back from the running app (Pilot) and searched for every code of the
vocabulary; numbers and dates are written the Vietnamese way."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Select, Static, TabbedContent
from textual.widgets._tabbed_content import ContentTab

from inventory import alerts
from inventory.desk.requests import missing_documents
from inventory.register.db import Register
from inventory.register.models import Device, Event, ServiceRequest
from inventory.vocabulary import DOMAINS
from tests.conftest import FIXED_NOW
from tui.app import TokenfleetApp
from tui.screens.desk import DeskScreen
from tui.screens.device_detail import DeviceDetailScreen
from tui.screens.request_detail import RequestDetailModal
from tui.strings import en, vi

from .conftest import ACTOR, IdlePoller, settle

SIZE = (180, 50)
# Codes of these domains must never show in the Vietnamese UI (roles, agency kinds and unlock
# sources are left out: "poller@desk", "demo" and agency names may hold such English words).
SHOWN_DOMAINS = ("device_kind", "device_status", "device_action", "certificate_status",
                 "handover_method", "unlock_method", "request_kind", "request_state",
                 "request_step", "document", "alert_rule", "alert_state", "alert_run_outcome",
                 "event")
CODES = sorted({code for d in SHOWN_DOMAINS for code in DOMAINS[d]}, key=len, reverse=True)
RAW = re.compile(r"(?<![\w.@/-])(" + "|".join(re.escape(c) for c in CODES) + r")(?![\w.@-])")
ENGLISH = re.compile(r"\((sent|active|failed|running)\)|\b(allowed from|cannot|missing)\b")


def test_the_tui_string_tables_hold_no_domain_word() -> None:
    for table in (en.STRINGS, vi.STRINGS):
        shadowing = sorted(k for k in table if k.split(".", 1)[0] in DOMAINS)
        assert shadowing == [], "domain words live in inventory/vocabulary/terms.py"


def _texts(screen: Screen[Any]) -> Iterator[str]:
    """Every piece of text the screen shows: labels, statics, buttons, tabs, table cells."""
    widgets: list[Widget] = [screen, *screen.query("*")]
    for widget in widgets:
        if not widget.display:
            continue
        if isinstance(widget, DataTable):
            for column in widget.columns.values():
                yield str(column.label)
            for row in range(widget.row_count):
                yield from (str(cell) for cell in widget.get_row_at(row))
        elif isinstance(widget, Button | ContentTab):
            yield str(widget.label)
        elif isinstance(widget, Static):
            yield str(widget.render())
        elif isinstance(widget, Select) and widget.selection is not None:
            yield str(dict((v, k) for k, v in widget._options).get(widget.selection, ""))


def assert_only_words(screen: Screen[Any], where: str) -> str:
    shown = "\n".join(_texts(screen))
    raw = sorted({m.group(1) for m in RAW.finditer(shown)})
    assert raw == [], f"{where}: raw codes on screen: {raw}"
    english = sorted({m.group(0) for m in ENGLISH.finditer(shown)})
    assert english == [], f"{where}: English in the Vietnamese UI: {english}"
    return shown


def _app(register: Register) -> TokenfleetApp:
    return TokenfleetApp(register, actor=ACTOR, lang="vi", now=FIXED_NOW, search_debounce=0,
                         poller_factory=lambda: IdlePoller())


async def test_dashboard_and_device_history_speak_vietnamese(sqlite_demo: Register) -> None:
    with sqlite_demo.read() as session:
        # a device whose history has the most kinds of events (renewals, handovers, locks)
        device_id = session.execute(
            select(Event.device_id).where(Event.device_id.is_not(None))
            .group_by(Event.device_id)
            .order_by(func.count(func.distinct(Event.action)).desc(), Event.device_id)
            .limit(1)).scalar_one()
        assert device_id is not None
        total = session.scalar(select(func.count()).select_from(Device))
    app = _app(sqlite_demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = assert_only_words(app.screen, "dashboard")
        assert f"{total:,}".replace(",", ".") in shown  # Vietnamese thousands
        assert "Tháng này (11/2026)" in shown and "Đang sử dụng" in shown
        app.push_screen(DeviceDetailScreen(device_id))
        await settle(pilot)
        shown = assert_only_words(app.screen, "device detail")
        # dates day first (the notes recorded in the audit trail are shown as written)
        history = app.screen.query_one("#detail-history", DataTable)
        when = [str(history.get_row_at(i)[0]) for i in range(history.row_count)]
        assert when and all(re.fullmatch(r"\d\d/\d\d/20\d\d \d\d:\d\d", w) for w in when)
        summary = str(app.screen.query_one("#detail-summary", Static).render())
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", summary)
        assert "Nhập kho" in shown  # the device.add event, by name


async def test_desk_panes_and_a_request_speak_vietnamese(demo_register: Register) -> None:
    settings = alerts.AlertSettings(managers=("boss@city.test",), lang="vi")
    alerts.run_alerts(demo_register, settings, channels=("jsonl",), host="desk-test",
                      out=io.StringIO(), now=FIXED_NOW)
    with demo_register.read() as session:
        drafts = session.scalars(select(ServiceRequest).where(ServiceRequest.state == "draft")
                                 .order_by(ServiceRequest.id)).all()
        incomplete = next(r.id for r in drafts if missing_documents(r))
    app = _app(demo_register)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        shown = assert_only_words(screen, "requests pane")
        assert "Đơn đề nghị" in shown  # missing documents by name, not don_de_nghi
        for tab, where in (("tab-unlock", "unlock pane"), ("tab-alerts", "alerts pane")):
            screen.query_one(TabbedContent).active = tab
            await settle(pilot)
            shown = assert_only_words(screen, where)
        assert "Đã gửi" in shown  # the ledger state and the run's outcome, in words

        app.push_screen(RequestDetailModal(incomplete))
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, RequestDetailModal)
        modal.query_one("#request-submit", Button).press()
        await settle(pilot)
        shown = assert_only_words(modal, "request detail")
        refusal = str(modal.query_one("#form-error", Static).render())
        assert refusal.startswith(f"Hồ sơ #{incomplete} (") and "còn thiếu:" in refusal
        assert re.search(r"\b\d\d/\d\d/20\d\d \d\d:\d\d\b", shown)


async def test_a_refused_move_is_said_in_vietnamese(sqlite_demo: Register) -> None:
    with sqlite_demo.read() as session:
        serial = session.scalars(select(Device.serial).where(Device.status == "in_stock")
                                 .order_by(Device.id)).first()
    assert serial is not None
    app = _app(sqlite_demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *serial, "escape", "m")  # mark locked: refused at the key
        await settle(pilot)
        (refusal,) = [str(n.message) for n in app._notifications]
    assert refusal == (f"Thiết bị {serial} đang ở trạng thái «trong kho»: không thể đánh dấu "
                       "bị khóa (chỉ được khi thiết bị ở trạng thái: đang sử dụng).")
