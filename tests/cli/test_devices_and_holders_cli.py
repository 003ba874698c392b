"""The CLI shows what the services return: device detail JSON, agency counts, holders."""

from __future__ import annotations

import json

from sqlalchemy import make_url

from inventory.register.access import os_user
from inventory.register.db import Register
from inventory.services import devices, holders
from inventory.services.devices import DeviceRef
from tests.conftest import Tokenfleet


def test_device_show_json_is_the_detail_record(demo_register: Register, db_url: str,
                                               tokenfleet: Tokenfleet) -> None:
    cli = tokenfleet.on(db_url)
    serial = json.loads(cli("devices", "--status", "issued", "--limit", "1", "--format",
                            "json").out)[0]["serial"]
    shown = json.loads(cli("device", "show", serial, "--format", "json").out)
    assert shown == devices.device_detail(demo_register, DeviceRef(serial)).as_record()
    assert list(shown) == ["serial", "kind", "status", "manufacturer", "model",
                           "phone_number", "lock_count", "pin_tries_left", "holder", "agency",
                           "not_after", "last_seen_at", "last_seen_reader", "allowed_moves",
                           "certificates", "handovers", "requests", "history"]


def test_agency_list_shows_own_and_total(demo_register: Register, db_url: str,
                                         tokenfleet: Tokenfleet) -> None:
    listed = json.loads(tokenfleet.on(db_url)("agency", "list", "--format", "json").out)
    by_code = {a.code: a.devices for a in holders.agencies(demo_register)}
    assert {a["code"]: (a["devices"], a["devices_total"]) for a in listed} == {
        code: (c.own, c.total) for code, c in by_code.items()}
    city = listed[0]
    assert city["devices_total"] == sum(a["devices"] for a in listed) > city["devices"]


def test_holder_edit_needs_a_change(demo_register: Register, db_url: str,
                                    tokenfleet: Tokenfleet) -> None:
    code, _, err = tokenfleet.on(db_url)("holder", "edit", "1")
    assert code == 2 and "nothing to change" in err


def test_unregistered_list_and_claim(register: Register, db_url: str,
                                     tokenfleet: Tokenfleet) -> None:
    from datetime import UTC, datetime

    from inventory.readers import sync
    from inventory.readers.hardware import Observation

    with register.session() as session:
        sync.sync_observations(session, [Observation(
            source="pcsc", reader="Virtual PCD 00 07", kind="usb_token", serial="8400000000000206",
            seen_at=datetime(2026, 11, 20, tzinfo=UTC), pin_tries_left=3,
            manufacturer="tokenfleet", model="emulated PIV token")], host="station-1")
    # the trail names who is connected: the login (PostgreSQL) or the OS user (SQLite)
    me = make_url(db_url).username or os_user()
    cli = tokenfleet.on(db_url, actor=me)
    (row,) = json.loads(cli("unregistered", "list", "--format", "json").out)
    assert (row["serial"], row["model"], row["host"], row["certificates"]) == (
        "8400000000000206", "emulated PIV token", "station-1", "")
    code, out, _ = cli("unregistered", "claim", "8400000000000206")
    assert code == 0 and "usb_token 8400000000000206: claimed into the register (in stock, " \
                         "0 certificate(s))" in out
    assert json.loads(cli("unregistered", "list", "--format", "json").out) == []
    detail = devices.device_detail(register, DeviceRef("8400000000000206"))
    assert detail.status == "in_stock" and detail.history[-1].actor == me
