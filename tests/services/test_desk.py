"""The service desk (requests, handovers, the unlock desk) that the CLI and the TUI both call,
on both backends."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import timedelta
from typing import Any

import pytest

from inventory.register.errors import MoveNotAllowedError, NotFoundError, ValidationError
from inventory.register.models import utcnow
from inventory.services import desk, devices
from inventory.services.devices import DeviceRef

from .conftest import ACTOR, City


def _plain(value: Any) -> bool:
    """A read model holds plain values and read models, never an ORM row."""
    if is_dataclass(value):
        return all(_plain(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return not hasattr(value, "_sa_instance_state")


def test_a_revocation_from_draft_to_completed(city: City) -> None:
    filed = desk.new_request(city.register, kind="revocation", agency_code="SYT-BV",
                             actor=ACTOR, devices=["TOK-2"], reason="left the hospital",
                             documents=["don_de_nghi"])
    assert (filed.state, filed.subscribers) == ("draft", 1)
    assert filed.missing_documents == ("ly_do_thu_hoi", "bien_ban_ban_giao", "cong_van")
    with pytest.raises(ValidationError, match="dossier is missing"):
        desk.request_step(city.register, filed.id, "submit", actor=ACTOR)
    filed = desk.attach_documents(city.register, filed.id, list(filed.missing_documents),
                                  actor=ACTOR)
    assert filed.missing_documents == ()
    submitted = desk.request_step(city.register, filed.id, "submit", actor=ACTOR,
                                  external_ref="12/SYT")
    assert (submitted.state, submitted.external_ref) == ("submitted", "12/SYT")

    detail = desk.request_detail(city.register, filed.id)
    assert _plain(detail)
    assert (detail.kind, detail.agency_code, detail.state) == ("revocation", "SYT-BV",
                                                               "submitted")
    assert [step for step, _, _ in detail.history] == ["created", "submitted"]
    assert [d.key for d in detail.dossier if d.attached] == [d.key for d in detail.dossier]
    assert detail.dossier[0].label("vi") == "Đơn đề nghị thu hồi chứng thư số"
    (line,) = detail.subscribers
    assert (line.name, line.device_serial, line.details) == ("Nguyễn Văn An", "TOK-2",
                                                              "left the hospital")
    assert line.national_id != "001090001234"  # masked unless asked
    assert desk.request_detail(city.register, filed.id,
                               show_id_numbers=True).subscribers[0].national_id == "001090001234"
    assert detail.allows("complete") and not detail.allows("submit")

    assert [r.id for r in desk.list_requests(city.register, state="submitted")] == [filed.id]
    assert desk.list_requests(city.register, agency_code="STP") == []
    done = desk.request_step(city.register, filed.id, "complete", actor=ACTOR)
    assert done.state == "completed"
    assert devices.device_detail(city.register, DeviceRef("TOK-2")).status == "revoked"
    assert [step for step, _, _ in
            desk.request_detail(city.register, filed.id).history] == ["created", "submitted",
                                                                       "completed"]
    assert desk.request_figures(city.register).turnaround[0].completed == 1


def test_a_refused_step_changes_nothing(city: City) -> None:
    filed = desk.new_request(city.register, kind="renewal", agency_code="SYT-BV", actor=ACTOR,
                             devices=["TOK-1"])
    with pytest.raises(ValidationError, match="say why"):
        desk.request_step(city.register, filed.id, "reject", actor=ACTOR, reason=" ")
    with pytest.raises(ValidationError, match="unknown request step"):
        desk.request_step(city.register, filed.id, "approve", actor=ACTOR)
    with pytest.raises(ValidationError, match="cannot complete"):
        desk.request_step(city.register, filed.id, "complete", actor=ACTOR)
    assert desk.request_detail(city.register, filed.id).state == "draft"
    cancelled = desk.request_step(city.register, filed.id, "cancel", actor=ACTOR)
    assert cancelled.state == "cancelled"
    assert desk.list_requests(city.register, pending_over_days=0) == []
    with pytest.raises(NotFoundError):
        desk.request_detail(city.register, 999_999)


def test_waiting_requests_longest_first(city: City) -> None:
    desk.new_request(city.register, kind="renewal", agency_code="SYT-BV", actor=ACTOR,
                     devices=["TOK-1"])
    later = utcnow() + timedelta(days=20)
    (row,) = desk.list_requests(city.register, pending_over_days=14, now=later)
    assert row.state == "draft" and row.days_open >= 20
    assert desk.list_requests(city.register, pending_over_days=30, now=later) == []
    assert desk.list_requests(city.register, pending_over_days=14, state="submitted",
                              now=later) == []


def test_the_unlock_desk(city: City) -> None:
    locked = desk.report_locked(city.register, DeviceRef("TOK-2"), actor=ACTOR)
    assert (locked.serial, locked.lock_count) == ("TOK-2", 1) and locked.case_id is not None
    (case,) = desk.unlock_cases(city.register, open_only=True)
    assert (case.id, case.serial, case.closed_at) == (locked.case_id, "TOK-2", None)
    assert desk.unlock_cases(city.register, open_only=True, agency_code="STP") == []
    with pytest.raises(ValidationError, match="who brought it"):
        desk.bring_in(city.register, DeviceRef("TOK-2"), brought_by=" ", actor=ACTOR)
    with pytest.raises(NotFoundError, match="no open unlock case"):
        desk.bring_in(city.register, DeviceRef("TOK-1"), brought_by="An", actor=ACTOR)
    brought = desk.bring_in(city.register, DeviceRef("TOK-2"), brought_by=" Nguyễn Văn An ",
                            actor=ACTOR)
    assert (brought.id, brought.brought_by) == (locked.case_id, "Nguyễn Văn An")
    with pytest.raises(ValidationError, match="unlock method"):
        desk.mark_unlocked(city.register, DeviceRef("TOK-2"), method="magic", actor=ACTOR)
    closed = desk.mark_unlocked(city.register, DeviceRef("TOK-2"), method="so_pin_reset",
                                actor=ACTOR)
    assert _plain(closed)
    assert (closed.id, closed.unlock_method, closed.outcome) == (locked.case_id,
                                                                 "so_pin_reset", "unlocked")
    assert closed.closed_at is not None and closed.days is not None
    assert devices.device_detail(city.register, DeviceRef("TOK-2")).status == "issued"
    with pytest.raises(MoveNotAllowedError):
        desk.mark_unlocked(city.register, DeviceRef("TOK-2"), method="so_pin_reset",
                           actor=ACTOR)
    (month,) = desk.unlock_turnaround(city.register, by_agency=False)
    assert month.unlocked == 1 and month.agency_code is None


def test_handovers_listed_received_and_printed(city: City) -> None:
    rows = desk.list_handovers(city.register)
    assert len(rows) == 4 and _plain(rows)
    assert {r.serial for r in rows} == {"TOK-1", "TOK-2", "TOK-3", "TOK-4"}
    first = min(rows, key=lambda r: r.id)
    with pytest.raises(ValidationError, match="before it was handed over"):
        desk.mark_received(city.register, first.id, actor=ACTOR,
                           at=first.handed_at - timedelta(days=1))
    received = desk.mark_received(city.register, first.id, actor=ACTOR)
    assert received.received_at is not None and received.id == first.id
    with pytest.raises(NotFoundError):
        desk.mark_received(city.register, 999_999, actor=ACTOR)
    (record,) = desk.handover_records(city.register, handover_ids=[first.id])
    assert record.number == f"{first.id}/BBBG" and record.lines[0].device_serial == first.serial
    assert desk.list_handovers(city.register, limit=1)[0].id == max(r.id for r in rows)
