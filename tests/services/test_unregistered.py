"""Devices pollers saw that the register does not know, and claiming them, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inventory.readers import sync
from inventory.readers.hardware import Observation
from inventory.register.errors import DuplicateError, NotFoundError
from inventory.services import unregistered
from inventory.services.devices import DeviceRef, device_detail

from .conftest import ACTOR, City

SEEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


@pytest.fixture
def seen(city: City) -> City:
    with city.register.session() as session:
        sync.sync_observations(session, [Observation(
            source="pcsc", reader="Virtual PCD 00", kind="usb_token", serial="ZZ-99",
            seen_at=SEEN, pin_tries_left=3, manufacturer="Bit4id", model="miniLector")],
            host="station-1")
    return city


def test_list_then_claim(seen: City) -> None:
    (row,) = unregistered.unregistered_devices(seen.register)
    assert (row.serial, row.kind, row.manufacturer, row.reader, row.host) == (
        "ZZ-99", "usb_token", "Bit4id", "Virtual PCD 00", "station-1")
    result = unregistered.claim_device(seen.register, "ZZ-99", actor=ACTOR)
    assert result.claimed and (result.device.serial, result.device.status) == ("ZZ-99",
                                                                              "in_stock")
    assert unregistered.unregistered_devices(seen.register) == []
    detail = device_detail(seen.register, DeviceRef("ZZ-99"))
    assert detail.manufacturer == "Bit4id" and detail.history[-1].actor == ACTOR
    with pytest.raises(NotFoundError, match="no unregistered device"):
        unregistered.claim_device(seen.register, "ZZ-99", actor=ACTOR)


def test_a_screen_may_add_what_no_poller_saw(seen: City) -> None:
    with pytest.raises(NotFoundError):
        unregistered.claim_device(seen.register, "NEW-1", actor=ACTOR)
    added = unregistered.claim_device(seen.register, "NEW-1", actor=ACTOR, kind="usb_token",
                                      add_if_unseen=True, manufacturer="Feitian", model="")
    assert not added.claimed and added.device.status == "in_stock"
    assert device_detail(seen.register, DeviceRef("NEW-1")).model is None
    with pytest.raises(DuplicateError):
        unregistered.claim_device(seen.register, "NEW-1", actor=ACTOR, add_if_unseen=True)
