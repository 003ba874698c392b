"""The issue's "done means": keyboard only, on the demo register, on both backends.

Find a holder by typing her name without accents, open her token, see the certificate's
expiry, report it lost (confirmed), revoke it, and see both in the audit history.
"""

from __future__ import annotations

from sqlalchemy import select

from inventory.register.models import Certificate, Device, Holder
from tui.screens.device_detail import DeviceDetailScreen
from tui.widgets.device_table import DeviceTable

from .conftest import settle


async def test_find_her_token_report_it_lost_revoke_it_and_see_the_trail(demo_register,
                                                                         make_app):
    with demo_register.read() as session:
        serial, full_name, folded, not_after = session.execute(
            select(Device.serial, Holder.full_name, Holder.name_folded, Certificate.not_after)
            .join(Holder, Holder.id == Device.holder_id)
            .join(Certificate, (Certificate.device_id == Device.id)
                  & (Certificate.status == "active"))
            .where(Device.status == "issued", Device.kind == "usb_token",
                   Holder.full_name.contains(" Thị "))
            .order_by(Device.id)).first()
    assert folded != full_name.lower()  # her name has accents; we type it without
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *folded, "escape")
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        rows = [r.serial for r in table.rows_shown]
        assert serial in rows and all(r.holder_name == full_name for r in table.rows_shown
                                      if r.serial == serial)
        for _ in range(rows.index(serial)):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DeviceDetailScreen)
        summary = str(detail.query_one("#detail-summary").render())
        assert full_name in summary and f"{not_after:%Y-%m-%d}" in summary
        await pilot.press("l", "enter", "y")  # report lost, confirmed
        await settle(pilot)
        await pilot.press("x", "enter", "y")  # revoke, confirmed
        await settle(pilot)
        assert app.screen is detail
        assert "Revoked" in str(detail.query_one("#detail-summary").render())
        history = detail.query_one("#detail-history")
        actions = [str(history.get_row_at(i)[2]) for i in range(history.row_count)]
        assert actions[-2:] == ["Reported lost", "Revoked"]  # the events by name, not code
        certificates = detail.query_one("#detail-certificates")
        assert "Revoked" in [str(certificates.get_row_at(i)[1])
                             for i in range(certificates.row_count)]
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        assert next(r for r in table.rows_shown if r.serial == serial).status == "revoked"
