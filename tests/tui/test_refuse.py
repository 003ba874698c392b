"""A move the device's state does not allow is refused when its key is pressed — before any form
or confirmation — naming the states it is allowed from, in the UI's language (issue 14, "Moves
refused too late")."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from textual.widgets import Select

from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.models import Device, Holder
from tui.app import TokenfleetApp
from tui.screens.action_form import ActionForm
from tui.screens.confirm import ConfirmModal
from tui.screens.device_detail import DeviceDetailScreen

from .conftest import settle
from .test_actions import a_device, events_of, open_detail


def notices(app: TokenfleetApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_revoke_on_a_revoked_device_is_refused_at_the_key(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: on a revoked device ``x`` asked "Are you sure? … cannot be undone" and only
    after ``y`` said it cannot be revoked. Failed before: a form, then a confirmation."""
    device = a_device(demo_register, "revoked")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        detail = await open_detail(app, pilot, device.serial)
        before = events_of(demo_register, device.id)
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is detail  # no form, no confirmation
        assert not isinstance(app.screen, ActionForm | ConfirmModal)
        (said,) = notices(app)
        assert device.serial in said and "cannot revoke" in said
        assert "(allowed from: issued, locked, lost)" in said  # the states, in words
        assert events_of(demo_register, device.id) == before


async def test_unlock_opens_no_form_on_an_issued_device_in_vietnamese(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: ``u`` opened a full form first, and refusals were English in the Vietnamese
    UI. Failed before."""
    device = a_device(demo_register, "issued")
    app = make_app(demo_register, lang="vi")
    async with app.run_test(size=(160, 45)) as pilot:
        await open_detail(app, pilot, device.serial)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, DeviceDetailScreen)
        (said,) = notices(app)
        assert ("không thể" in said and "Bị khóa" in said.capitalize()) or "bị khóa" in said
        assert "cannot" not in said


async def test_renew_and_retire_are_refused_from_the_list_too(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    device = a_device(demo_register, "in_stock")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *device.serial, "escape")
        await settle(pilot)
        await pilot.press("n")  # renew: only an issued device
        await settle(pilot)
        assert not isinstance(app.screen, ActionForm)
        assert "cannot renew" in notices(app)[-1]


async def test_the_issue_form_checks_the_device_first_and_says_so_in_vietnamese(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: the issue form complained about the postal tracking number before noticing
    the device was already issued (in English in the Vietnamese UI). Failed before."""
    device = a_device(demo_register, "in_stock")
    app = make_app(demo_register, lang="vi", watch_changes=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_detail(app, pilot, device.serial)
        with demo_register.session() as session:  # another desk issues it meanwhile
            holder = session.scalars(select(Holder).order_by(Holder.id)).first()
            assert holder is not None
            lifecycle.issue(session, session.get_one(Device, device.id), holder,
                            method="in_person", actor="other-desk")
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ActionForm)
        await pilot.press(*"nguyen")
        await settle(pilot)
        await pilot.press("enter", "enter")  # the first holder found
        await settle(pilot)
        form.query_one("#method", Select).value = "postal"  # and no tracking number
        form.submit()
        await settle(pilot)
        said = str(form.query_one("#form-error").render())
        assert "vận đơn" not in said and "tracking" not in said
        assert device.serial in said and ("người khác" in said or "Đang sử dụng" in said)
