"""The demo city is written through the register's own rules and trail (issue 11).

Its chain replays (``inventory.fleet.replay``) to every device's row; every move in it is one
the lifecycle's ``MOVES`` allows, with the state ``next_state`` gives; its events have the shape
the lifecycle writes by hand; and the chain verifies. On both backends.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from inventory.fleet import lifecycle, replay
from inventory.register import audit
from inventory.register.db import Register
from inventory.register.models import Certificate, Device, Event


def test_the_demo_chain_replays_to_every_device_row(demo_register: Register) -> None:
    with demo_register.read() as s:
        replayed = {r.device_id: r for r in replay.replay(s)}
        rows = s.execute(select(Device.id, Device.status, Device.holder_id, Device.agency_id,
                                Device.lock_count)).all()
        active = dict(s.execute(select(Certificate.device_id, Certificate.serial)
                                .where(Certificate.status == "active")).all())
        assert replay.discrepancies(s) == []
        assert audit.verify(s).events == s.scalar(select(func.count()).select_from(Event))
    assert len(rows) == len(replayed) == 300
    assert {status for _, status, *_ in rows} >= {"issued", "locked", "lost", "revoked",
                                                  "retired", "in_stock"}
    assert sum(1 for _, _, _, _, locks in rows if locks) > 0 and active
    for device_id, status, holder_id, agency_id, lock_count in rows:
        r = replayed[device_id]
        assert (r.status, r.holder_id, r.agency_id, r.lock_count, r.certificate_serial) == (
            status, holder_id, agency_id, lock_count, active.get(device_id)), device_id


def test_every_demo_move_is_one_the_lifecycle_allows(demo_register: Register) -> None:
    """Replayed in Python through ``lifecycle.next_state``: each move starts where the device's
    previous event left it and ends where ``MOVES`` says."""
    last: dict[int, dict[str, Any]] = {}
    moves: Counter[str] = Counter()
    with demo_register.read() as s:
        for device_id, action, before, after in s.execute(
                select(Event.device_id, Event.action, Event.before, Event.after)
                .where(Event.entity_type == "device").order_by(Event.seq)):
            name = action.removeprefix("device.")
            if name == "add":
                assert before is None and after["status"] == "in_stock"
                last[device_id] = lifecycle.device_state(after)
                continue
            assert name in lifecycle.MOVES, action
            state = lifecycle.device_state(before)
            assert state == last[device_id], (device_id, action)
            expected = lifecycle.next_state(state, name, holder_id=after["holder_id"],
                                            agency_id=after["agency_id"])
            assert lifecycle.device_state(after) == expected, (device_id, action)
            last[device_id] = expected
            moves[name] += 1
        locks = dict(s.execute(select(Device.id, Device.lock_count)).all())
    assert set(moves) == set(lifecycle.MOVES) - {"return_to_stock"}  # the demo returns none
    assert all(last[d]["lock_count"] == n for d, n in locks.items())


def _shapes(register: Register) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per action: the keys its events carry in before and after (the first seen)."""
    found: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    with register.read() as s:
        for action, before, after in s.execute(
                select(Event.action, Event.before, Event.after).order_by(Event.seq)):
            found.setdefault(action, (frozenset(before or ()), frozenset(after or ())))
    return found


def test_demo_events_have_the_shape_the_lifecycle_writes(demo_register: Register,
                                                        tmp_path: Any) -> None:
    by_hand = Register.open(f"sqlite:///{tmp_path / 'by-hand.sqlite3'}")
    at = datetime(2026, 1, 5, tzinfo=UTC)
    with by_hand.session() as s:
        agency = lifecycle.add_agency(s, code="A", name="Sở A", actor="t")
        holder = lifecycle.add_holder(s, full_name="Lê Văn Bình", agency=agency, actor="t")
        d = lifecycle.add_device(s, kind="usb_token", serial="H1", actor="t")
        lifecycle.issue(s, d, holder, method="postal", tracking_no="RR1VN", actor="t")
        for n, action in enumerate(("certificate.attach", "certificate.renew")):
            lifecycle.attach_certificate(s, d, lifecycle.CertificateData(
                serial=f"C{n}", not_before=at, not_after=at.replace(year=2029),
                fingerprint_sha256=f"{n:064x}"), actor="t", action=action)
        for move in ("lock", "unlock", "lock", "report_lost", "revoke", "retire"):
            lifecycle.apply_move(s, d, move, actor="t")
    demo, hand = _shapes(demo_register), _shapes(by_hand)
    by_hand.dispose()
    compared = [a for a in hand if a.startswith(("device.", "certificate.", "agency.add"))]
    assert len(compared) == 10
    for action in compared:
        assert demo[action] == hand[action], action


def test_demo_lock_counts_are_the_lock_events(demo_register: Register) -> None:
    with demo_register.read() as s:
        locks: defaultdict[int, int] = defaultdict(int)
        for device_id, n in s.execute(select(Event.device_id, func.count())
                                      .where(Event.action == "device.lock")
                                      .group_by(Event.device_id)):
            assert device_id is not None
            locks[device_id] = n
        rows = s.execute(select(Device.id, Device.lock_count)).all()
    assert all(locks[d] == n for d, n in rows) and sum(locks.values()) > 0
