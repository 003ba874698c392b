"""Saved views and filter values: plain data kept in the operator's own JSON file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW
from tui.filters import FilterValues, View
from tui.typeahead import action_name
from tui.views import ViewStore


def test_a_view_survives_the_file_and_replaces_one_of_its_name(tmp_path: Path) -> None:
    store = ViewStore(tmp_path / "cfg" / "views.json")
    assert store.load() == []
    mine = View(FilterValues(status="locked", agency_code="SYT", agency_name="Sở Y tế",
                             expiring_days=30), sort="expiry", descending=True)
    store.save("Khóa ở SYT", mine)
    store.save("Kho", View(FilterValues(status="in_stock")))
    store.save("Khóa ở SYT", View(FilterValues(status="locked")))
    names = {v.name: v.view for v in store.load()}
    assert set(names) == {"Khóa ở SYT", "Kho"}
    assert names["Khóa ở SYT"] == View(FilterValues(status="locked"))
    store.delete("Kho")
    assert [v.name for v in store.load()] == ["Khóa ở SYT"]


def test_an_unreadable_views_file_is_no_views(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    path.write_text("{not json", encoding="utf-8")
    assert ViewStore(path).load() == []
    path.write_text('[{"name": "ok", "filters": {"status": "lost", "future_field": 1}}, '
                    '{"nameless": true}]', encoding="utf-8")
    (only,) = ViewStore(path).load()
    assert only.name == "ok" and only.view.filters == FilterValues(status="lost")


def test_filter_values_build_the_query_and_lose_one_filter_at_a_time() -> None:
    v = FilterValues(search=" an ", status="issued", agency_code="SYT", agency_name="Sở Y tế",
                     expiring_days=30)
    f = v.device_filter(FIXED_NOW)
    assert (f.statuses, f.agency_code, f.search, f.expiring_within) == \
        (("issued",), "SYT", "an", timedelta(days=30))
    assert v.active() == ["search", "status", "agency_code", "expiring_days"]
    assert v.without("agency_code").agency_name == ""
    assert FilterValues(not_seen_days=30).device_filter(FIXED_NOW).statuses == \
        ("issued", "locked")
    assert FilterValues(locked_only=True, status="issued").statuses == ("locked",)


def test_action_names_of_bindings() -> None:
    assert action_name("switch_mode('devices')") == "switch_mode"
    assert action_name("app.search") == "search"
    assert action_name("select_cursor") == "select_cursor"
