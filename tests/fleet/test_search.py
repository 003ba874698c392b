"""Holder and agency search ignores case and diacritics (đ → d too), on both backends, through
an index rather than a full scan."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from inventory.fleet import lifecycle
from inventory.fleet.queries import DeviceFilter, device_page, find_agencies, find_holders
from inventory.register.text import fold


def test_fold():
    assert fold("Nguyễn Văn An") == "nguyen van an"
    assert fold("ĐẶNG QUỐC  Bảo") == "dang quoc bao"
    assert fold("Đỗ Thị Hương") == "do thi huong"


@pytest.fixture
def people(register):
    with register.session() as s:
        dn = lifecycle.add_agency(s, code="DN", name="Ủy ban nhân dân thành phố Đà Nẵng",
                                  actor="t")
        stttt = lifecycle.add_agency(s, code="STTTT", name="Sở Thông tin và Truyền thông",
                                     parent=dn, actor="t")
        for name in ("Nguyễn Văn An", "Nguyễn Văn Anh", "Đặng Quốc Bảo", "Trần Thị Đào",
                     "Lê Văn Nam"):
            holder = lifecycle.add_holder(s, full_name=name, agency=stttt, actor="t")
            device = lifecycle.add_device(s, kind="usb_token", serial=f"T-{holder.id}",
                                          actor="t")
            lifecycle.issue(s, device, holder, method="in_person", actor="t")
    return register


@pytest.mark.parametrize("query, expected", [
    ("nguyen van an", {"Nguyễn Văn An", "Nguyễn Văn Anh"}),
    ("NGUYỄN VĂN ANH", {"Nguyễn Văn Anh"}),
    ("dang quoc", {"Đặng Quốc Bảo"}),
    ("đặng", {"Đặng Quốc Bảo"}),
    ("dao", {"Trần Thị Đào"}),
    ("van", {"Nguyễn Văn An", "Nguyễn Văn Anh", "Lê Văn Nam"}),
    ("le", {"Lê Văn Nam"}),  # two letters: a prefix search on the folded-name index
    ("zzz", set()),
])
def test_find_holders(people, query, expected):
    with people.read() as s:
        assert {h.full_name for h in find_holders(s, query)} == expected


def test_device_search_by_name_and_serial_prefix(people):
    with people.read() as s:
        rows = device_page(s, DeviceFilter(search="dang quoc bao")).rows
        assert [r.holder_name for r in rows] == ["Đặng Quốc Bảo"]
        serial = rows[0].serial
        assert [r.serial for r in device_page(s, DeviceFilter(search=serial[:4])).rows]


def test_find_agencies(people):
    with people.read() as s:
        assert [a.code for a in find_agencies(s, "thong tin va truyen")] == ["STTTT"]
        assert [a.code for a in find_agencies(s, "da nang")] == ["DN"]


def test_search_uses_an_index(people):
    with people.read() as s:
        if s.get_bind().dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in s.execute(text(
                "EXPLAIN QUERY PLAN SELECT rowid FROM holder_search WHERE holder_search "
                "MATCH '\"nguyen van\"'")))
            assert "VIRTUAL TABLE INDEX" in plan
        else:
            s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(r[0] for r in s.execute(text(
                "EXPLAIN SELECT id FROM holders WHERE name_folded LIKE '%nguyen van%'")))
            assert "ix_search_holders_name_folded" in plan


def test_renamed_holder_is_found_by_new_name(people):
    with people.session() as s:
        (holder,) = find_holders(s, "le van nam")
        lifecycle.change_holder_details(s, holder, actor="t", full_name="Lê Văn Nhật")
    with people.read() as s:
        assert [h.full_name for h in find_holders(s, "le van nhat")] == ["Lê Văn Nhật"]
        assert find_holders(s, "le van nam") == []
