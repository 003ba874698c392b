"""Holders and agencies, and the two device counts of an agency, on both backends."""

from __future__ import annotations

import pytest

from inventory.register.errors import NotFoundError, ValidationError
from inventory.services import holders
from inventory.services.holders import DeviceCounts

from .conftest import ACTOR, City


def _counts_by_code(city: City) -> dict[str, DeviceCounts]:
    return {a.code: a.devices for a in holders.agencies(city.register)}


def test_own_and_total_device_counts(city: City) -> None:
    assert _counts_by_code(city) == {
        "HN": DeviceCounts(own=0, total=4), "SYT": DeviceCounts(own=1, total=3),
        "SYT-BV": DeviceCounts(own=2, total=2), "STP": DeviceCounts(own=1, total=1)}
    by_id = holders.agency_device_counts(city.register)
    listed = {a.id: a.devices for a in holders.agencies(city.register)}
    assert {i: c for i, c in listed.items() if c.total} == by_id


def test_the_tree_in_order_and_level_by_level(city: City) -> None:
    rows = holders.agencies(city.register)
    assert [(a.code, a.level) for a in rows] == [("HN", 0), ("SYT", 1), ("SYT-BV", 2),
                                                 ("STP", 1)]
    (top,) = holders.agency_children(city.register, None)
    assert (top.code, top.has_children) == ("HN", True)
    below = holders.agency_children(city.register, top.id)
    assert [(a.code, a.has_children) for a in below] == [("STP", False), ("SYT", True)]
    assert [a.code for a in holders.agencies(city.register, search="y te")] == ["SYT"]


def test_merge_moves_devices_and_counts_follow(city: City) -> None:
    kept = holders.merge_agency(city.register, "STP", "SYT", actor=ACTOR)
    assert kept.code == "SYT"
    counts = _counts_by_code(city)
    assert counts["SYT"] == DeviceCounts(own=2, total=4) and counts["STP"] == DeviceCounts()
    renamed = holders.rename_agency(city.register, "SYT", "Sở Y tế Hà Nội", actor=ACTOR)
    assert renamed.name == "Sở Y tế Hà Nội"


def test_find_show_and_edit_holders(city: City) -> None:
    (an,) = holders.find_holders(city.register, "nguyen van an")
    assert (an.agency_code, an.national_id) == ("SYT-BV", "********1234")
    (shown,) = holders.find_holders(city.register, "nguyen van an", show_id_numbers=True)
    assert shown.national_id == "001090001234"
    detail = holders.holder_detail(city.register, "001090001234")
    assert detail.id == city.holder_id and [d.serial for d in detail.devices] == ["TOK-1",
                                                                                  "TOK-2"]
    holders.edit_holder(city.register, "001090001234", actor=ACTOR,
                        changes={"phone": "0912345678"}, agency_code="SYT")
    moved = holders.holder_detail(city.register, str(city.holder_id))
    assert (moved.agency_code, moved.phone) == ("SYT", "0912345678")
    assert _counts_by_code(city)["SYT"] == DeviceCounts(own=3, total=3)  # devices followed
    assert [h.full_name for h in holders.holders_of_agency(
        city.register, next(a.id for a in holders.agencies(city.register)
                            if a.code == "SYT"))] == ["Nguyễn Văn An", "Trần Thị Bích"]
    with pytest.raises(ValidationError, match="unknown holder field"):
        holders.edit_holder(city.register, city.holder_id, actor=ACTOR,
                            changes={"agency_id": "1"})
    with pytest.raises(NotFoundError):
        holders.add_holder(city.register, actor=ACTOR, full_name="X", agency_code="NOPE")
