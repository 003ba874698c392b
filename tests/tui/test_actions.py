"""Lifecycle actions from the UI, on SQLite and PostgreSQL: forms, confirmation, refusals.

Every action goes through ``inventory.fleet.lifecycle``; the tests read the register afterwards to
see the move and its audit event, and that a refused or invalid action changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from textual.widgets import Input, Select

from inventory.register.models import Device, Event, Holder
from tui.screens.action_form import ActionForm
from tui.screens.confirm import ConfirmModal
from tui.screens.device_detail import DeviceDetailScreen
from tui.widgets.device_table import DeviceTable
from tui.widgets.holder_picker import HolderPicker

from .conftest import ACTOR, settle


@dataclass(frozen=True)
class Snapshot:
    id: int
    serial: str
    status: str
    lock_count: int
    holder_id: int | None
    holder_name: str | None


def _snap(d: Device) -> Snapshot:
    return Snapshot(d.id, d.serial, d.status, d.lock_count, d.holder_id,
                    d.holder.full_name if d.holder else None)


def a_device(register, status: str, *, with_holder: bool | None = None,
             after_id: int = 0) -> Snapshot:
    with register.read() as session:
        stmt = select(Device).where(Device.status == status, Device.id > after_id
                                    ).order_by(Device.id)
        if with_holder:
            stmt = stmt.where(Device.holder_id.is_not(None))
        return _snap(session.scalars(stmt).first())


def reread(register, device_id: int) -> Snapshot:
    with register.read() as session:
        return _snap(session.get(Device, device_id))


def events_of(register, device_id: int) -> list[str]:
    with register.read() as session:
        actions = session.scalars(select(Event.action).where(Event.device_id == device_id)
                                  .order_by(Event.seq))
        return [a for a in actions if a.startswith(("device.", "certificate."))]


async def open_detail(app, pilot, serial: str) -> DeviceDetailScreen:
    """Find a device by serial in the devices table and open it, keyboard only."""
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("slash", *serial, "escape")
    await settle(pilot)
    table = app.screen.query_one(DeviceTable)
    assert table.selected is not None and table.selected.serial == serial
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, DeviceDetailScreen)
    return app.screen


async def test_lock_then_unlock_from_the_detail(demo_register, make_app):
    device = a_device(demo_register, "issued")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        detail = await open_detail(app, pilot, device.serial)
        await pilot.press("m")  # mark locked (j/k move in lists)
        assert isinstance(app.screen, ActionForm)
        await pilot.press(*"PIN blocked at the desk", "enter")
        await settle(pilot)
        assert app.screen is detail
        assert reread(demo_register, device.id).status == "locked"
        assert reread(demo_register, device.id).lock_count == device.lock_count + 1
        assert "Locked" in str(detail.query_one("#detail-summary").render())
        await pilot.press("u", "enter")
        await settle(pilot)
        assert reread(demo_register, device.id).status == "issued"
    assert events_of(demo_register, device.id)[-2:] == ["device.lock", "device.unlock"]


async def test_a_refused_move_opens_nothing_and_changes_nothing(demo_register, make_app):
    device = a_device(demo_register, "in_stock")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        detail = await open_detail(app, pilot, device.serial)
        before = events_of(demo_register, device.id)
        await pilot.press("x")  # revoke a device in stock: refused at the key
        await settle(pilot)
        assert app.screen is detail
        (notice,) = [str(n.message) for n in app._notifications]
        assert f"Device {device.serial} is in stock: cannot revoke" in notice
    assert reread(demo_register, device.id).status == "in_stock"
    assert events_of(demo_register, device.id) == before


async def test_validation_errors_are_shown_in_place(demo_register, make_app):
    device = a_device(demo_register, "issued")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_detail(app, pilot, device.serial)
        await pilot.press("n")  # renew
        form = app.screen
        assert isinstance(form, ActionForm)
        await pilot.press(*"CERT-NEW-1", "tab", *"2026-13-45", "tab", *"2028-11-15", "enter")
        await settle(pilot)
        assert "is not a date" in str(form.query_one("#form-error").render())
        # a valid renewal then works from the same form
        form.query_one("#not-before", Input).value = "2026-11-15"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ActionForm)
    with demo_register.read() as session:
        dev = session.get(Device, device.id)
        assert dev.active_certificate is not None
        assert dev.active_certificate.serial == "CERT-NEW-1"
        assert any(c.status == "superseded" for c in dev.certificates)
    assert events_of(demo_register, device.id)[-1] == "certificate.renew"


async def test_issue_to_a_holder_by_post_needs_a_tracking_number(demo_register, make_app):
    device = a_device(demo_register, "in_stock")
    with demo_register.read() as session:
        h = session.scalars(select(Holder).order_by(Holder.id)).first()
        holder_id, name_folded = h.id, h.name_folded
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_detail(app, pilot, device.serial)
        await pilot.press("i")
        form = app.screen
        assert isinstance(form, ActionForm)
        await pilot.press(*name_folded)  # without accents
        await settle(pilot)
        picker = form.query_one("#holder-picker", HolderPicker)
        assert any(h.id == holder_id for h in picker.found)
        index = next(i for i, h in enumerate(picker.found) if h.id == holder_id)
        await pilot.press("enter")  # into the list
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        assert picker.picked is not None and picker.picked.id == holder_id
        form.query_one("#method", Select).value = "postal"
        form.submit()
        await settle(pilot)
        assert "needs a tracking number" in str(form.query_one("#form-error").render())
        assert reread(demo_register, device.id).status == "in_stock"
        form.query_one("#tracking", Input).value = "EB123456789VN"
        form.submit()
        await settle(pilot)
        assert not isinstance(app.screen, ActionForm)
    dev = reread(demo_register, device.id)
    assert dev.status == "issued" and dev.holder_id == holder_id
    assert events_of(demo_register, device.id)[-1] == "device.issue"


async def test_destructive_moves_ask_first_and_cancel_changes_nothing(demo_register, make_app):
    device = a_device(demo_register, "issued")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_detail(app, pilot, device.serial)
        await pilot.press("l", "enter")  # report lost
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert reread(demo_register, device.id).status == "issued"
        await pilot.press("escape")  # close the form
        await pilot.press("l", "enter", "y")
        await settle(pilot)
        assert reread(demo_register, device.id).status == "lost"
        await pilot.press("x", "enter", "y")
        await settle(pilot)
        assert reread(demo_register, device.id).status == "revoked"
        await pilot.press("t", "enter", "y")
        await settle(pilot)
        assert reread(demo_register, device.id).status == "retired"
    assert events_of(demo_register, device.id)[-3:] == [
        "device.report_lost", "device.revoke", "device.retire"]


async def test_return_to_stock_and_edit_holder_from_the_table(demo_register, make_app):
    device = a_device(demo_register, "issued", with_holder=True)
    other = a_device(demo_register, "issued", with_holder=True, after_id=device.id)
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *device.serial, "escape")
        await settle(pilot)
        await pilot.press("e")  # edit the holder of the selected device
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ActionForm)
        assert form.query_one("#full-name", Input).value == device.holder_name
        form.query_one("#phone", Input).value = "0905 123 456"
        form.query_one("#national-id", Input).value = "12345"
        form.submit()
        await settle(pilot)
        assert "is not 12 digits" in str(form.query_one("#form-error").render())
        form.query_one("#national-id", Input).value = ""
        form.submit()
        await settle(pilot)
        assert not isinstance(app.screen, ActionForm)
        await pilot.press("a")  # the menu offers only allowed actions
        menu = app.screen
        options = menu.query_one("#action-options")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert "return_to_stock" in ids and "unlock" not in ids and "issue" not in ids
        options.highlighted = ids.index("return_to_stock")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        assert table.selected is not None and table.selected.status == "in_stock"
    with demo_register.read() as session:
        assert session.get(Holder, device.holder_id).phone == "0905 123 456"
        assert session.get(Device, other.id).status == "issued"
    assert reread(demo_register, device.id).status == "in_stock"
    with demo_register.read() as session:
        actions = list(session.scalars(select(Event.action).where(Event.actor == ACTOR)
                                       .order_by(Event.seq)))
    assert [a for a in actions if a.startswith(("device.", "holder."))] == [
        "holder.change", "device.return_to_stock"]
