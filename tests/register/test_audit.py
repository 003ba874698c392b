"""Tampering with any audit row is caught by ``audit verify``, naming the first broken event."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from inventory.cli import exit_codes
from inventory.register import audit
from inventory.register.errors import AuditChainBrokenError
from inventory.register.models import Event
from tests.conftest import CliResult, run_tokenfleet, trail_unlocked


def _event_ids(register) -> list[int]:
    with register.read() as s:
        return list(s.scalars(select(Event.id).order_by(Event.seq)))


def _verify_cli(url: str) -> CliResult:
    return run_tokenfleet("--db", url, "audit", "verify")


def test_intact_chain_verifies(demo_register, db_url):
    with demo_register.read() as s:
        result = audit.verify(s)
    assert result.events == len(_event_ids(demo_register))


@pytest.mark.parametrize("column, value", [
    ("actor", "'mallory'"),
    ("summary", "'edited'"),
    ("occurred_at", "occurred_at"),  # rewritten below per backend
    ("after", "NULL"),
])
def test_edited_event_is_detected(demo_register, column, value):
    victim = _event_ids(demo_register)[40]
    with trail_unlocked(demo_register.engine) as conn:
        if column == "occurred_at":
            shift = ("datetime(occurred_at, '+1 second')"
                     if conn.dialect.name == "sqlite" else "occurred_at + interval '1 second'")
            value = shift
        conn.execute(text(f"UPDATE events SET {column} = {value} WHERE id = :id"),
                     {"id": victim})
    with pytest.raises(AuditChainBrokenError) as err, demo_register.read() as s:
        audit.verify(s)
    assert err.value.event_id == victim


def test_deleted_event_in_the_middle_is_detected(demo_register):
    ids = _event_ids(demo_register)
    with trail_unlocked(demo_register.engine) as conn:
        conn.execute(text("DELETE FROM events WHERE id = :id"), {"id": ids[10]})
    with pytest.raises(AuditChainBrokenError, match="missing") as err, demo_register.read() as s:
        audit.verify(s)
    assert err.value.event_id == ids[9]


def test_deleted_last_event_is_detected(demo_register):
    ids = _event_ids(demo_register)
    with trail_unlocked(demo_register.engine) as conn:
        conn.execute(text("DELETE FROM events WHERE id = :id"), {"id": ids[-1]})
    with pytest.raises(AuditChainBrokenError, match="deleted"), demo_register.read() as s:
        audit.verify(s)


def test_rehashed_forgery_is_detected(demo_register):
    """Recomputing the edited event's own hash does not help: the next event no longer links."""
    ids = _event_ids(demo_register)
    with demo_register.read() as s:
        ev = s.get(Event, ids[5])
        assert ev is not None
        forged = audit.event_hash(seq=ev.seq, occurred_at=ev.occurred_at, actor="mallory",
                                  action=ev.action, entity_type=ev.entity_type,
                                  entity_id=ev.entity_id, device_id=ev.device_id,
                                  summary=ev.summary, before=ev.before, after=ev.after,
                                  prev_hash=ev.prev_hash)
    with trail_unlocked(demo_register.engine) as conn:
        conn.execute(text("UPDATE events SET actor = 'mallory', hash = :h WHERE id = :id"),
                     {"h": forged, "id": ids[5]})
    with pytest.raises(AuditChainBrokenError, match="link") as err, demo_register.read() as s:
        audit.verify(s)
    assert err.value.event_id == ids[6]


def test_cli_audit_verify_exit_codes(demo_register, db_url):
    ok = _verify_cli(db_url)
    assert ok.code == 0, ok.err
    victim = _event_ids(demo_register)[3]
    with trail_unlocked(demo_register.engine) as conn:
        conn.execute(text("UPDATE events SET summary = 'x' WHERE id = :id"), {"id": victim})
    from inventory.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--db", db_url, "audit", "verify"])
    assert exit_.value.code == exit_codes.for_error(AuditChainBrokenError)
