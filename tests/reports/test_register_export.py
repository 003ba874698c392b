"""``export`` → ``import`` into a fresh register gives back the same devices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from inventory.fleet import importing
from inventory.register.db import Register
from inventory.register.models import Certificate, Device, Holder
from reports.register_export import COLUMNS, export_register

from .test_output import HOSTILE, _add_hostile_holders

CERTIFICATE_KEPT = ("in_stock", "issued", "locked")  # import attaches certificates only here


def _snapshot(register: Register) -> dict[tuple[str, str], dict[str, Any]]:
    with register.read() as s:
        rows = s.execute(
            select(Device.kind, Device.serial, Device.status, Device.lock_count,
                   Holder.full_name, Certificate.not_after)
            .outerjoin(Holder, Holder.id == Device.holder_id)
            .outerjoin(Certificate, (Certificate.device_id == Device.id)
                       & (Certificate.status == "active"))).all()
    return {(k, serial): {"status": status, "lock_count": locks, "holder": holder,
                          "not_after": not_after.replace(microsecond=0) if not_after else None}
            for k, serial, status, locks, holder, not_after in rows}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_round_trips(demo_register: Register, tmp_path: Path,
                                        suffix: str) -> None:
    _add_hostile_holders(demo_register)  # CSV too: the csv module reads the file whole
    path = tmp_path / f"register{suffix}"
    n = export_register(demo_register, path)
    original = _snapshot(demo_register)
    assert n == len(original)

    fresh = Register.open(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        result = importing.import_file(fresh, path, actor="t")
        assert result.created == n and not result.problems
        copy = _snapshot(fresh)
    finally:
        fresh.dispose()
    assert copy.keys() == original.keys()
    for key, was in original.items():
        now = copy[key]
        assert now["status"] == was["status"], key
        assert now["lock_count"] == was["lock_count"], key
        if was["status"] in ("issued", "locked", "lost", "revoked"):
            assert now["holder"] == was["holder"], key
        if was["status"] in CERTIFICATE_KEPT:
            assert now["not_after"] == was["not_after"], key


def test_export_writes_text_as_text_and_masks_ids(demo_register: Register,
                                                  tmp_path: Path) -> None:
    serials = _add_hostile_holders(demo_register)
    path = tmp_path / "register.xlsx"
    export_register(demo_register, path)
    ws = openpyxl.load_workbook(path)["register"]
    assert [c.value for c in ws[1]] == list(COLUMNS)
    holders = {}
    for row in ws.iter_rows(min_row=2):
        if row[0].value in serials:
            assert all(c.data_type in ("s", "n", "d") for c in row if c.value is not None)
            holders[row[0].value] = row[3].value
        nid = row[COLUMNS.index("national_id")].value
        assert nid is None or nid.startswith("********")
        started = row[COLUMNS.index("not_before")]
        assert started.value is None or started.is_date
    assert sorted(holders.values()) == sorted(HOSTILE)

    unmasked = tmp_path / "unmasked.csv"
    export_register(demo_register, unmasked, include_personal_data=True)
    with demo_register.read() as s:
        some_id = s.scalar(select(Holder.national_id).where(Holder.national_id.is_not(None))
                           .limit(1))
    assert some_id and some_id in unmasked.read_text(encoding="utf-8-sig")
