"""Sorting never filters: every device is listed in every sort, on both backends, page by page.

Issue 14: sorting by expiry silently added "expiring within 100 years" — devices without a
certificate (in stock) and with an expired one vanished while the footer still counted them,
and a serial search of an in-stock device found nothing. Failed before: the expiry sort listed
only the devices with a current certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from inventory.fleet import lifecycle
from inventory.fleet.queries import DeviceFilter, DeviceRow, count_devices, device_page
from inventory.register.db import Register
from tests.conftest import FIXED_NOW

NOW = FIXED_NOW


@pytest.fixture
def mixed(register: Register) -> Register:
    """Nine devices: four with a current certificate, two expired, three without any."""
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="SYT", name="Sở Y tế", actor="t")
        holder = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=agency, actor="t")
        for n, days in enumerate((300, -20, None, 40, 10, None, -400, 90, None), start=1):
            d = lifecycle.add_device(s, kind="usb_token", serial=f"S{n:02d}", actor="t")
            if days is not None:
                lifecycle.attach_certificate(s, d, lifecycle.CertificateData(
                    serial=f"C{n}", not_before=NOW - timedelta(days=800),
                    not_after=NOW + timedelta(days=days)), actor="t")
            if n % 2:
                lifecycle.issue(s, d, holder, method="in_person", actor="t")
    return register


def all_pages(session: Any, f: DeviceFilter, sort: str, descending: bool,
              limit: int) -> list[DeviceRow]:
    rows: list[DeviceRow] = []
    after: Sequence[Any] | None = None
    while True:
        page = device_page(session, f, sort=sort, after=after, limit=limit,
                           descending=descending)
        rows += page.rows
        if page.next_key is None:
            return rows
        after = page.next_key


@pytest.mark.parametrize("sort", ["id", "serial", "expiry"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [1, 2, 4, 50])
def test_every_sort_lists_every_device_once(mixed: Register, sort: str, descending: bool,
                                            limit: int) -> None:
    f = DeviceFilter(now=NOW)
    with mixed.read() as s:
        rows = all_pages(s, f, sort, descending, limit)
        assert len(rows) == len({r.id for r in rows}) == count_devices(s, f) == 9


def test_by_expiry_undated_devices_come_last_and_first_when_reversed(mixed: Register) -> None:
    f = DeviceFilter(now=NOW)
    with mixed.read() as s:
        up = [r.serial for r in all_pages(s, f, "expiry", False, 2)]
        down = [r.serial for r in all_pages(s, f, "expiry", True, 2)]
    assert up == ["S07", "S02", "S05", "S04", "S08", "S01", "S03", "S06", "S09"]
    assert down == list(reversed(up))


def test_a_serial_search_sorted_by_expiry_finds_an_in_stock_device(mixed: Register) -> None:
    with mixed.read() as s:
        for serial in ("S06", "S02", "S04"):  # no certificate, expired, current
            rows = device_page(s, DeviceFilter(search=serial, now=NOW), sort="expiry").rows
            assert [r.serial for r in rows] == [serial]


def test_an_expiry_filter_still_keeps_only_dated_devices(mixed: Register) -> None:
    f = DeviceFilter(expiring_within=timedelta(days=60), now=NOW)
    with mixed.read() as s:
        rows = all_pages(s, f, "expiry", False, 1)
        assert [r.serial for r in rows] == ["S05", "S04"] and count_devices(s, f) == 2
