"""The unlock desk: a lock opens a case, the desk closes it, the month's figures show it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from inventory.desk import unlock_desk as unlock
from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.register import audit
from inventory.register.errors import MoveNotAllowedError, NotFoundError, ValidationError
from inventory.register.models import Device, Event, UnlockCase
from inventory.register.stats import percentile

from .conftest import T0, event_count


def test_a_locked_token_brought_to_the_desk_is_unlocked_and_counted(register, office):
    locked_at = T0
    with register.session() as s:
        lifecycle.lock(s, get_device(s, "TOK001"), actor="op", reason="reported by holder",
                       at=locked_at)
    with register.read() as s:
        (case,) = unlock.list_cases(s, open_only=True)
        assert (case.serial, case.source, case.agency_code, case.closed_at) == \
            ("TOK001", "reported", "SYT", None)
    with register.session() as s:
        unlock.bring_in(s, get_device(s, "TOK001"), brought_by="Nguyễn Văn An", actor="desk",
                        at=locked_at + timedelta(days=1))
        case_row = unlock.mark_unlocked(s, get_device(s, "TOK001"), method="so_pin_reset",
                                        actor="desk", at=locked_at + timedelta(days=2, hours=12))
        assert case_row.brought_by == "Nguyễn Văn An"
    with register.read() as s:
        assert get_device(s, "TOK001").status == "issued"
        assert unlock.list_cases(s, open_only=True) == []
        (closed,) = unlock.list_cases(s)
        assert (closed.unlock_method, closed.days) == ("so_pin_reset", 2.5)
        march = unlock.unlock_turnaround(s, since=datetime(2026, 3, 1, tzinfo=UTC),
                                         until=datetime(2026, 4, 1, tzinfo=UTC))
        assert [(t.month, t.agency_code, t.unlocked, t.median_days) for t in march] == \
            [("2026-03", "SYT", 1, 2.5)]
        actions = [e.action for e in s.scalars(select(Event).order_by(Event.seq))]
        assert actions[-5:] == ["unlock_case.open", "device.lock", "unlock_case.brought",
                                "unlock_case.close", "device.unlock"]
        audit.verify(s)


def test_the_poller_opens_and_closes_cases_through_the_lifecycle(register, office):
    with register.session() as s:
        for n, serial in enumerate(("TOK001", "TOK002", "TOK003")):
            lifecycle.lock(s, get_device(s, serial), actor="poller@ban-mot-cua",
                           reason="poll: PIN blocked", at=T0 + timedelta(days=n))
    with register.session() as s:
        for n, serial in enumerate(("TOK001", "TOK002", "TOK003")):
            lifecycle.unlock(s, get_device(s, serial), actor="poller@ban-mot-cua",
                             how="seen_healthy", at=T0 + timedelta(days=2 + 3 * n))
    with register.read() as s:
        cases = unlock.list_cases(s)
        assert {c.source for c in cases} == {"poller"}
        assert sorted(c.days or 0.0 for c in cases) == [2.0, 4.0, 6.0]
        (month,) = unlock.unlock_turnaround(s, by_agency=False)
        assert (month.unlocked, month.median_days, month.p90_days, month.max_days) == \
            (3, 4.0, 5.6, 6.0)
        by_agency = {t.agency_code: t.unlocked for t in unlock.unlock_turnaround(s)}
        assert by_agency == {"SYT": 1, "SYT-TT": 1, "STC": 1}


def test_refused_moves_and_bad_desk_input_change_nothing(register, office):
    with register.read() as s:
        before = event_count(s)
    with pytest.raises(MoveNotAllowedError), register.session() as s:
        lifecycle.unlock(s, get_device(s, "TOK001"), actor="desk")
    with pytest.raises(NotFoundError, match="TOK001 is issued and has no open unlock case"), \
            register.session() as s:
        unlock.bring_in(s, get_device(s, "TOK001"), brought_by="ai đó", actor="desk")
    with register.session() as s:
        lifecycle.lock(s, get_device(s, "TOK001"), actor="op", at=T0)
    with register.read() as s:
        before = event_count(s)
    with pytest.raises(ValidationError, match="unlock method 'magic'"), register.session() as s:
        unlock.mark_unlocked(s, get_device(s, "TOK001"), method="magic", actor="desk")
    with pytest.raises(ValidationError, match="who brought it"), register.session() as s:
        unlock.bring_in(s, get_device(s, "TOK001"), brought_by="  ", actor="desk")
    with pytest.raises(MoveNotAllowedError), register.session() as s:
        lifecycle.lock(s, get_device(s, "TOK001"), actor="op")
    with register.read() as s:
        assert event_count(s) == before
        assert s.scalar(select(func.count()).select_from(UnlockCase)) == 1


def test_a_device_locked_before_the_desk_existed_still_counts(register, office):
    with register.session() as s:
        lifecycle.lock(s, get_device(s, "TOK001"), actor="op", at=T0)
        s.query(UnlockCase).delete()  # as if locked before migration 0007
    with register.session() as s:
        lifecycle.unlock(s, get_device(s, "TOK001"), actor="desk", how="vendor_tool",
                         at=T0 + timedelta(days=3))
    with register.read() as s:
        (case,) = unlock.list_cases(s)
        assert (case.days, case.unlock_method) == (3.0, "vendor_tool")


def test_demo_has_open_and_closed_cases(demo_register):
    with demo_register.read() as s:
        cases = unlock.list_cases(s, limit=100_000)
        open_cases = [c for c in cases if c.closed_at is None]
        closed = [c for c in cases if c.closed_at is not None]
        locked = s.scalar(select(func.count()).select_from(Device)
                          .where(Device.status == "locked"))
        assert len(open_cases) == locked > 0
        assert closed and all(c.days is not None and c.days >= 0 for c in closed)
        assert unlock.unlock_turnaround(s)


def test_percentile_interpolates_between_ranks():
    assert percentile([2.0], 90) == 2.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([2, 4, 6], 90) == pytest.approx(5.6)
    with pytest.raises(ValueError):
        percentile([], 50)


@pytest.mark.parametrize("move", ["report_lost", "revoke"])
def test_a_locked_device_lost_or_revoked_closes_its_case_in_the_same_move(register, office,
                                                                           move: str) -> None:
    """Issue 14: a locked device reported lost left its case open (604 open cases for 603
    locked devices) and ``unlock list --open`` hid it by joining on the device's status.
    Failed before: the case stayed open and the open count disagreed with the locked count."""
    with register.session() as s:
        for serial in ("TOK001", "TOK002"):
            lifecycle.lock(s, get_device(s, serial), actor="op", at=T0)
    with register.session() as s:
        lifecycle.apply_move(s, get_device(s, "TOK001"), move, actor="desk",
                             at=T0 + timedelta(days=1))
    with register.read() as s:
        locked = s.scalar(select(func.count()).select_from(Device)
                          .where(Device.status == "locked"))
        assert unlock.count_open_cases(s) == locked == 1
        assert [c.serial for c in unlock.list_cases(s, open_only=True)] == ["TOK002"]
        (closed,) = [c for c in unlock.list_cases(s) if c.serial == "TOK001"]
        outcome = "lost" if move == "report_lost" else "revoked"
        assert (closed.outcome, closed.closed_at, closed.unlock_method) == \
            (outcome, T0 + timedelta(days=1), None)
        assert unlock.unlock_turnaround(s) == []  # closed, but not unlocked: no turnaround
        actions = [e.action for e in s.scalars(select(Event).order_by(Event.seq))][-2:]
        assert actions == ["unlock_case.close", f"device.{move}"]
        audit.verify(s)


def test_a_refused_move_out_of_locked_leaves_the_case_open(register, office):
    with register.session() as s:
        lifecycle.lock(s, get_device(s, "TOK001"), actor="op", at=T0)
    with pytest.raises(MoveNotAllowedError), register.session() as s:
        lifecycle.retire(s, get_device(s, "TOK001"), actor="desk")
    with register.read() as s:
        assert unlock.count_open_cases(s) == 1
