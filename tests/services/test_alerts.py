"""The alert ledger, the heartbeat, acknowledge and snooze, on both backends."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from inventory import alerts
from inventory.register.config import AlertSettings
from inventory.register.errors import NotFoundError, ValidationError
from inventory.register.models import utcnow
from inventory.services import alerts as alert_desk
from inventory.services.devices import DeviceRef, move_device

from .conftest import ACTOR, City


@pytest.fixture
def ledger(city: City) -> City:
    """TOK-2 locked ten days ago, TOK-1's certificate ending soon: one run on jsonl."""
    move_device(city.register, DeviceRef("TOK-2"), "lock", actor=ACTOR)
    alerts.run_alerts(city.register, AlertSettings(managers=("boss@city.test",)),
                      channels=("jsonl",), host="desk-1", out=io.StringIO(),
                      now=utcnow() + timedelta(days=10))
    return city


def test_the_ledger_newest_first(ledger: City) -> None:
    rows = alert_desk.alert_ledger(ledger.register)
    assert rows and [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
    assert {r.state for r in rows} == {"sent"} and "TOK-2" in {r.serial for r in rows}
    assert all(r.serial == "TOK-2" for r in alert_desk.alert_ledger(ledger.register,
                                                                     serial="TOK-2"))
    assert alert_desk.alert_ledger(ledger.register, state="acked") == []
    assert len(alert_desk.alert_ledger(ledger.register, limit=1)) == 1
    with pytest.raises(ValidationError, match="alert state"):
        alert_desk.alert_ledger(ledger.register, state="gone")


def test_status_ack_and_snooze(ledger: City) -> None:
    status = alert_desk.alert_status(ledger.register)
    assert status.last_run is not None and status.last_run.host == "desk-1"
    assert status.ledger["sent"] > 0 and status.ledger["acked"] == 0
    ran = status.last_run.started_at
    assert status.healthy(ran + timedelta(hours=1), overdue_after=2)
    assert not status.healthy(ran + timedelta(hours=3), overdue_after=2)
    assert alert_desk.last_run(ledger.register) == status.last_run

    first = alert_desk.alert_ledger(ledger.register)[0]
    assert alert_desk.acknowledge_alert(ledger.register, actor=ACTOR, alert_id=first.id) >= 1
    assert alert_desk.alert_ledger(ledger.register)[0].state == "acked"
    until = datetime(2030, 1, 31, tzinfo=UTC)
    n = alert_desk.snooze_alert(ledger.register, actor=ACTOR, until=until, serial="TOK-2")
    assert n >= 1
    assert {r.state for r in alert_desk.alert_ledger(ledger.register, serial="TOK-2")} == {
        "snoozed"}
    with pytest.raises(NotFoundError):
        alert_desk.acknowledge_alert(ledger.register, actor=ACTOR, alert_id=999_999)
    with pytest.raises(ValidationError, match="not in the future"):
        alert_desk.snooze_alert(ledger.register, actor=ACTOR, alert_id=first.id,
                                until=datetime(2020, 1, 1, tzinfo=UTC))
