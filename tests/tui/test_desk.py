"""The desk screen (key 6): requests and their workflow, the unlock desk, the alert ledger.

Runs on the demo city on both backends; alert ledger rows come from a real alert run through
the JSON-lines channel into a string buffer.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import func, select
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static, TabbedContent

from inventory import alerts
from inventory.cli import exit_codes
from inventory.desk import unlock_desk as unlock
from inventory.desk.requests import missing_documents
from inventory.register.models import AlertLedgerEntry, Device, Event, ServiceRequest, UnlockCase
from tests.conftest import FIXED_NOW
from tui.screens.desk import DeskScreen
from tui.screens.request_detail import RequestDetailModal
from tui.widgets.alerts_pane import AlertsPane
from tui.widgets.requests_pane import RequestsPane
from tui.widgets.unlock_pane import UnlockPane

from .conftest import ACTOR, settle

SIZE = (180, 50)


def _state(register, request_id: int) -> str:
    with register.read() as session:
        return session.get(ServiceRequest, request_id).state


async def _open_desk(pilot, tab: str) -> DeskScreen:
    await pilot.press("6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DeskScreen)
    screen.query_one(TabbedContent).active = tab
    await settle(pilot)
    return screen


async def _open_request(pilot, screen: DeskScreen, request_id: int) -> RequestDetailModal:
    pane = screen.query_one(RequestsPane)
    index = next(i for i, r in enumerate(pane.rows_shown) if r.id == request_id)
    table = pane.query_one("#requests", DataTable)
    table.focus()
    table.move_cursor(row=index)
    await pilot.press("enter")
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, RequestDetailModal) and modal.detail is not None
    return modal


async def test_requests_list_filter_cancel_and_refused_submit(demo_register, make_app):
    with demo_register.read() as session:
        total = session.scalar(select(func.count()).select_from(ServiceRequest))
        drafts = session.scalars(select(ServiceRequest).where(ServiceRequest.state == "draft")
                                 .order_by(ServiceRequest.id)).all()
        incomplete = next(r.id for r in drafts if missing_documents(r))
        to_cancel = next(r.id for r in drafts if r.id != incomplete)
    app = make_app(demo_register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_desk(pilot, "tab-requests")
        pane = screen.query_one(RequestsPane)
        assert len(pane.rows_shown) == total
        created = [r.created_at for r in pane.rows_shown]
        assert created == sorted(created, reverse=True)  # newest first
        pane.query_one("#request-state", Select).value = "draft"
        await settle(pilot)
        assert {r.state for r in pane.rows_shown} == {"draft"}

        # refused: the dossier lacks documents → message in place, state unchanged
        modal = await _open_request(pilot, screen, incomplete)
        assert "Dossier" in str(modal.query_one("#request-summary", Static).render())
        modal.query_one("#request-submit", Button).press()
        await settle(pilot)
        error = modal.query_one("#form-error", Static)
        assert error.has_class("shown") and "the dossier is missing" in str(error.render())
        assert _state(demo_register, incomplete) == "draft"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

        # success: cancel a draft through the modal's key
        modal = await _open_request(pilot, screen, to_cancel)
        await pilot.press("x")
        await settle(pilot)
        assert _state(demo_register, to_cancel) == "cancelled"
        assert modal.query_one("#request-submit", Button).disabled  # nothing left to do
        await pilot.press("escape")
        await settle(pilot)
        assert all(r.id != to_cancel for r in pane.rows_shown)  # list re-read (drafts only)
    with demo_register.read() as session:
        event = session.scalars(select(Event).where(Event.action == "request.cancel",
                                                    Event.entity_id == to_cancel)).one()
        assert event.actor == ACTOR


async def test_reject_needs_a_reason(demo_register, make_app):
    with demo_register.read() as session:
        submitted = session.scalar(select(ServiceRequest.id)
                                   .where(ServiceRequest.state == "submitted")
                                   .order_by(ServiceRequest.id))
    app = make_app(demo_register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_desk(pilot, "tab-requests")
        modal = await _open_request(pilot, screen, submitted)
        modal.query_one("#request-reject", Button).press()
        await settle(pilot)
        assert "say why" in str(modal.query_one("#form-error", Static).render())
        assert _state(demo_register, submitted) == "submitted"
        modal.query_one("#request-reason", Input).value = "wrong agency"
        modal.query_one("#request-reject", Button).press()
        await settle(pilot)
        assert _state(demo_register, submitted) == "rejected"
    with demo_register.read() as session:
        assert session.get(ServiceRequest, submitted).close_reason == "wrong agency"


async def test_unlock_desk_bring_in_and_unlock(demo_register, make_app):
    with demo_register.read() as session:
        open_cases = unlock.list_cases(session, open_only=True)
        assert open_cases
    app = make_app(demo_register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_desk(pilot, "tab-unlock")
        pane = screen.query_one(UnlockPane)
        assert pane.rows_shown and pane.rows_shown[0].closed_at is None  # open first
        assert "Open cases" in str(pane.query_one("#unlock-figures", Static).render())
        pane.query_one("#unlock-open-only", Checkbox).value = True
        await settle(pilot)
        assert [r.id for r in pane.rows_shown] == [c.id for c in open_cases]
        case = pane.rows_shown[0]

        pane.query_one("#bring-in", Button).press()  # nobody named: refused in place
        await settle(pilot)
        result = pane.query_one("#unlock-result", Static)
        assert result.has_class("refused") and "who brought it" in str(result.render())

        pane.query_one("#brought-by", Input).value = "Văn thư"
        pane.query_one("#bring-in", Button).press()
        await settle(pilot)
        assert not result.has_class("refused")
        assert pane.rows_shown[0].brought_by == "Văn thư"

        pane.query_one("#unlock-method", Select).value = "so_pin_reset"
        pane.query_one("#mark-unlocked", Button).press()
        await settle(pilot)
        assert not result.has_class("refused"), str(result.render())
        assert all(r.id != case.id for r in pane.rows_shown)  # closed: gone from "open only"
    with demo_register.read() as session:
        row = session.get(UnlockCase, case.id)
        assert row.closed_at is not None and row.unlock_method == "so_pin_reset"
        assert row.brought_by == "Văn thư"
        assert session.scalar(select(Device.status).where(Device.serial == case.serial)) \
            == "issued"


async def test_alerts_ack_snooze_and_bad_date(demo_register, make_app):
    settings = alerts.AlertSettings(managers=("boss@city.test",), lang="en")
    result = alerts.run_alerts(demo_register, settings, channels=("jsonl",), host="desk-test",
                               out=io.StringIO(), now=FIXED_NOW)
    assert exit_codes.for_alert_outcome(result.outcome) == exit_codes.ALERTS_SENT
    with demo_register.read() as session:
        newest = session.scalar(select(func.max(AlertLedgerEntry.id)))
    app = make_app(demo_register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_desk(pilot, "tab-alerts")
        pane = screen.query_one(AlertsPane)
        assert pane.rows_shown and pane.rows_shown[0].id == newest  # newest first
        assert "desk-test" in str(pane.query_one("#alerts-run", Static).render())
        table = pane.query_one("#alerts", DataTable)
        result_line = pane.query_one("#alerts-result", Static)

        first = pane.rows_shown[0]
        pane.query_one("#alert-ack", Button).press()
        await settle(pilot)
        assert not result_line.has_class("refused"), str(result_line.render())
        assert pane.rows_shown[0].state == "acked"

        # pick an alert of another condition for the snooze
        target_index = next(i for i, r in enumerate(pane.rows_shown) if r.state == "sent")
        target = pane.rows_shown[target_index]
        table.move_cursor(row=target_index)
        await settle(pilot)
        until_box = pane.query_one("#snooze-until", Input)
        until_box.value = "31/02/2030"
        pane.query_one("#alert-snooze", Button).press()
        await settle(pilot)
        assert result_line.has_class("refused") and "not a date" in str(result_line.render())
        with demo_register.read() as session:
            assert session.get(AlertLedgerEntry, target.id).state == "sent"

        until_box.value = "2030-01-31"
        until_box.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not result_line.has_class("refused"), str(result_line.render())
    with demo_register.read() as session:
        acked = session.get(AlertLedgerEntry, first.id)
        assert acked.state == "acked" and acked.acked_by == ACTOR
        snoozed = session.get(AlertLedgerEntry, target.id)
        assert snoozed.state == "snoozed"
        assert snoozed.snoozed_until.replace(tzinfo=UTC) == datetime(2030, 1, 31, tzinfo=UTC)
