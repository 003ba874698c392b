"""``DeviceFilter(device_ids=…)``: a set computed by another layer (the CA check), of any size."""

from __future__ import annotations

import pytest

from inventory.fleet import lifecycle
from inventory.fleet.queries import NARROW, DeviceFilter, count_devices, device_page
from inventory.register.db import Register


@pytest.mark.parametrize("extra", [0, NARROW + 1_000])
def test_any_number_of_ids(register: Register, extra: int) -> None:
    with register.session() as s:
        ids = [lifecycle.add_device(s, kind="usb_token", serial=f"T{n:03d}", actor="t").id
               for n in range(5)]
    wanted = frozenset(ids[:3]) | frozenset(range(10_000, 10_000 + extra))  # most unknown
    with register.read() as s:
        assert count_devices(s, DeviceFilter(device_ids=wanted)) == 3
        page = device_page(s, DeviceFilter(device_ids=wanted), limit=2)
        assert [r.serial for r in page.rows] == ["T000", "T001"] and page.next_key
        assert count_devices(s, DeviceFilter(device_ids=frozenset())) == 0
