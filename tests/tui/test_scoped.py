"""The TUI of an operator scoped to one agency (PostgreSQL row-level security): it shows and
changes that agency's subtree only, and the trail names the login."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from inventory.demo import city as demo
from inventory.fleet.queries import DeviceFilter, count_devices
from inventory.register.db import Register
from inventory.register.models import Device, Event
from tests.conftest import FIXED_NOW, PgLogins
from tui.screens.action_form import ActionForm
from tui.widgets.device_table import DeviceTable

from .conftest import settle
from .test_actions import open_detail

SUBTREE = "QHC"


@pytest.fixture
def city(pg_url: str) -> Iterator[Register]:
    reg = Register.open(pg_url)
    with reg.session() as s:
        demo.generate(s.connection(), devices=300, seed=7, now=FIXED_NOW)
    yield reg
    reg.dispose()


def _issued(reg: Register, inside: bool) -> str:
    with reg.read() as s:
        subtree = list(s.scalars(text(
            "SELECT a.id FROM agencies a JOIN agencies t ON a.path LIKE t.path || '%' "
            "WHERE t.code = :c"), {"c": SUBTREE}))
        where = Device.agency_id.in_(subtree) if inside else Device.agency_id.not_in(subtree)
        return str(s.scalar(select(Device.serial).where(Device.status == "issued", where)
                            .order_by(Device.id).limit(1)))


async def test_a_scoped_operator_works_on_its_subtree(city: Register, pg_logins: PgLogins,
                                                      make_app: Callable[..., Any]) -> None:
    olga = pg_logins.make("olga", "operator", agency=SUBTREE)
    mine = Register.open(pg_logins.url_of(olga))
    with city.read() as s:
        expected = count_devices(s, DeviceFilter(agency_code=SUBTREE))
    inside, outside = _issued(city, True), _issued(city, False)
    try:
        app = make_app(mine, actor=olga)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("2")
            await settle(pilot)
            table = app.screen.query_one(DeviceTable)
            assert 0 < table.total == expected < 300
            await pilot.press("slash", *outside, "escape")
            await settle(pilot)
            assert table.total == 0  # outside the scope: not there at all
            await pilot.press("escape")
            detail = await open_detail(app, pilot, inside)
            await pilot.press("m")  # mark locked (k moves up, as in every list)
            await settle(pilot)
            assert isinstance(app.screen, ActionForm)
            await pilot.press(*"PIN blocked", "enter")
            await settle(pilot)
            assert app.screen is detail
    finally:
        mine.dispose()
    with city.read() as s:
        assert s.scalar(select(Device.status).where(Device.serial == inside)) == "locked"
        assert s.scalar(select(Device.status).where(Device.serial == outside)) == "issued"
        last = s.execute(select(Event.action, Event.actor).order_by(Event.seq.desc())
                         .limit(1)).one()
    assert tuple(last) == ("device.lock", olga)
