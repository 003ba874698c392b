"""The CA reconciliation in the TUI: the devices filter, the line on the device detail screen,
and ``o`` asking the CA's OCSP responder (a real one on loopback)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from textual.widgets import Select, Static

from inventory.register.config import Settings
from tests.ca.conftest import Fleet, fleet, pki  # noqa: F401 - fixtures
from tests.ca.pki import NOW, OcspResponder
from tests.ca.test_reconcile import EXPECTED, scenario
from tui.app import TokenfleetApp
from tui.screens.device_detail import DeviceDetailScreen
from tui.widgets.device_table import DeviceTable

from .conftest import settle


async def test_filter_detail_line_and_ocsp_key(
        fleet: Fleet, make_app: Callable[..., TokenfleetApp]) -> None:  # noqa: F811
    scenario(fleet)
    fleet.pki.ca.revoked[fleet.serials["CA-REVOKED"]] = NOW - dt.timedelta(days=3)
    responder = OcspResponder(fleet.pki.ca)
    with responder.serving() as url:
        app = make_app(fleet.register, now=NOW, settings=Settings(ocsp_url=url, ca_timeout=20))
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("2")
            await settle(pilot)
            app.screen.query_one("#ca-filter", Select).value = "any"
            await settle(pilot)
            table = app.screen.query_one(DeviceTable)
            assert {r.serial for r in table.rows_shown} == {s for _, s in EXPECTED}
            app.screen.query_one("#ca-filter", Select).value = "revoked_here_valid_at_ca"
            await settle(pilot)
            assert [r.serial for r in table.rows_shown] == ["HERE-OLD"]
            app.screen.query_one("#ca-filter", Select).value = "revoked_at_ca_in_use"
            await settle(pilot)
            await pilot.press("slash", *"CA-REVOKED", "escape", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DeviceDetailScreen)
            summary = str(app.screen.query_one("#detail-summary", Static).render())
            assert "Revoked by the CA, device in use: revoked by the CA on" in summary
            assert "press o to ask the CA" in summary
            await pilot.press("o")
            await settle(pilot)
            summary = str(app.screen.query_one("#detail-summary", Static).render())
            assert "REVOKED" in summary and "key_compromise" in summary
    assert responder.requests == 1


async def test_detail_line_when_clean_or_unchecked(
        fleet: Fleet, make_app: Callable[..., TokenfleetApp]) -> None:  # noqa: F811
    fleet.add("OK", fleet.file_cert("Người dùng"))
    app = make_app(fleet.register, now=NOW)

    async def line(pilot: Any) -> str:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"OK", "escape", "enter")
        await settle(pilot)
        text = str(app.screen.query_one("#detail-summary", Static).render())
        await pilot.press("escape")
        return text

    async with app.run_test(size=(160, 45)) as pilot:
        assert "not checked (no trust anchors)" in await line(pilot)
    from tests.ca.conftest import trust

    trust(fleet)
    app = make_app(fleet.register, now=NOW)
    async with app.run_test(size=(160, 45)) as pilot:
        assert "matches the CA" in await line(pilot)
