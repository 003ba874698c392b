"""The dashboard's figures and this month's events, on both backends."""

from __future__ import annotations

import io
from datetime import timedelta

from inventory import alerts
from inventory.fleet.counts import count_by_status
from inventory.register.config import AlertSettings
from inventory.register.db import Register
from inventory.services import dashboard
from inventory.services.devices import DeviceRef, move_device
from tests.conftest import FIXED_NOW

from .conftest import ACTOR, City


def test_figures_agree_with_the_register(demo_register: Register) -> None:
    f = dashboard.dashboard_figures(demo_register, FIXED_NOW)
    with demo_register.read() as session:
        cross = count_by_status(session)
    assert f.total == sum(cross.values()) == 300
    assert f.by_status == {s: sum(n for (_, st), n in cross.items() if st == s)
                           for s in {st for _, st in cross}}
    assert f.locked == f.by_status.get("locked", 0) and f.lost == f.by_status.get("lost", 0)
    assert list(f.expiring) == list(dashboard.EXPIRY_WINDOWS)
    assert list(f.expiring.values()) == sorted(f.expiring.values())
    assert f.month_start == FIXED_NOW.replace(day=1, hour=0)
    assert f.alerts_last_run is None and f.not_seen_days == dashboard.NOT_SEEN_DAYS
    cheap = dashboard.status_and_kind_counts(demo_register)
    assert (cheap.by_status, cheap.by_kind, cheap.total) == (f.by_status, f.by_kind, 300)


def test_the_heartbeat_and_this_months_events(city: City) -> None:
    now = FIXED_NOW + timedelta(days=400)  # after the city was built, in a new month
    move_device(city.register, DeviceRef("TOK-2"), "lock", actor=ACTOR)
    alerts.run_alerts(city.register, AlertSettings(), channels=("jsonl",), host="desk-1",
                      out=io.StringIO())
    f = dashboard.dashboard_figures(city.register, now)
    assert f.alerts_last_run is not None and f.alerts_last_run.host == "desk-1"
    assert f.month == dict.fromkeys(dashboard.MONTH_ACTIONS, 0)  # all of it happened before
    assert f.locked == 1 and f.locked_oldest_days is not None
    events = dashboard.events_since(city.register, "device.issue",
                                    FIXED_NOW - timedelta(days=3650), now)
    assert sorted(e.serial or "" for e in events) == ["TOK-1", "TOK-2", "TOK-3", "TOK-4"]
    assert {e.actor for e in events} == {ACTOR}
