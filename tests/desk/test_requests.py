"""Requests from draft to completed, and every bad input refused with nothing half-done."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from inventory.desk import requests as rq
from inventory.desk.figures import list_requests, pending_requests, request_turnaround
from inventory.desk.handovers import handover_records, mark_received
from inventory.fleet import lifecycle
from inventory.fleet.queries import agency_by_code, get_device
from inventory.register import audit
from inventory.register.errors import MoveNotAllowedError, ValidationError
from inventory.register.models import Device, Event, Handover, Holder, ServiceRequest
from inventory.vocabulary import Vocabulary
from reports.handover_record import write_handover_records
from tests.conftest import cert_serial, holder_name

from .conftest import T0, cert, event_count

NEW_DOCS = [d.key for d in rq.DOSSIER["new_issuance"]]


def _ten_new(prefix: str = "") -> list[rq.Subscriber]:
    return [rq.Subscriber(full_name=f"{prefix}Phạm Thị Hoa {n}", title="Chuyên viên",
                          email=f"hoa{n}@syt.danang.gov.vn", phone=f"09123456{n:02d}",
                          national_id=f"0480950000{n:02d}", device_kind="usb_token")
            for n in range(1, 11)]


def test_batch_of_ten_new_tokens_goes_from_draft_to_completed(register, office, tmp_path):
    with register.session() as s:
        req = rq.new_request(s, kind="new_issuance", agency=agency_by_code(s, "SYT"),
                             subscribers=_ten_new(), actor="clerk", channel="ca_portal", at=T0)
        rid = req.id
        assert [d.key for d in rq.missing_documents(req)] == NEW_DOCS
        rq.attach_documents(s, req, NEW_DOCS, actor="clerk", at=T0 + timedelta(hours=1))
        rq.submit(s, req, actor="clerk", external_ref="125/STTTT-CNTT", at=T0 + timedelta(days=1))
    with register.session() as s:
        req = rq.get_request(s, rid)
        answers = {item.id: rq.Answer(device_serial=f"NEW{n:03d}", certificate=cert(f"C{n:03d}"))
                   for n, item in enumerate(req.items, start=1)}
        rq.complete(s, req, actor="clerk", answers=answers,
                    handover=rq.HandoverPlan(method="postal", tracking_no="RR123456789VN"),
                    at=T0 + timedelta(days=6))
    with register.read() as s:
        req = rq.get_request(s, rid)
        assert req.state == "completed" and req.closed_by == "clerk"
        devices = s.scalars(select(Device).where(Device.serial.like("NEW%"))).unique().all()
        assert len(devices) == 10
        assert {d.status for d in devices} == {"issued"}
        assert all(d.active_certificate is not None for d in devices)
        assert {d.agency.code for d in devices} == {"SYT"}
        handovers = s.scalars(select(Handover).where(Handover.request_id == rid)).all()
        assert len(handovers) == 10 and {h.tracking_no for h in handovers} == {"RR123456789VN"}
        assert {i.device_id for i in req.items} == {d.id for d in devices}
        actions = [e.action for e in s.scalars(select(Event).order_by(Event.seq))]
        for action, times in (("request.new", 1), ("request.dossier", 1), ("request.submit", 1),
                              ("request.complete", 1), ("holder.add", 13), ("device.issue", 13),
                              ("certificate.attach", 13)):
            assert actions.count(action) == times, action
        assert audit.verify(s).events == len(actions)
        records = handover_records(s, request_id=rid, per="handover")
    assert len(records) == 10
    out = write_handover_records(records, tmp_path / "bien_ban.xlsx")
    book = CalamineWorkbook.from_path(str(out))
    assert len(book.sheet_names) == 10
    cells = [str(c) for r in book.get_sheet_by_index(0).to_python() for c in r]
    assert cells.count("ĐẠI DIỆN BÊN GIAO") == 2 and cells.count("ĐẠI DIỆN BÊN NHẬN") == 2
    assert "NEW001" in cells and "RR123456789VN" in " ".join(cells)
    assert "USB Token" in cells and "postal" not in " ".join(cells)
    assert ("Hình thức bàn giao: Qua dịch vụ bưu chính công ích; số hiệu bưu gửi: RR123456789VN"
            in cells)
    assert "048095000001" not in " ".join(cells)  # ID numbers masked on the printout


def test_batch_record_prints_all_devices_on_one_sheet(register, office, tmp_path):
    with register.session() as s:
        req = rq.new_request(s, kind="new_issuance", agency=agency_by_code(s, "SYT"),
                             subscribers=_ten_new()[:3], actor="clerk", at=T0)
        rq.attach_documents(s, req, NEW_DOCS, actor="clerk")
        rq.submit(s, req, actor="clerk", at=T0)
        rq.complete(s, req, actor="clerk", at=T0 + timedelta(days=2), answers={
            i.id: rq.Answer(device_serial=f"B{n}", certificate=cert(f"BC{n}"))
            for n, i in enumerate(req.items)})
        records = handover_records(s, request_id=req.id, per="batch")
        mark_received(s, s.scalars(select(Handover).where(Handover.request_id == req.id)).first(),
                      actor="clerk", at=T0 + timedelta(days=3))
    assert len(records) == 1 and len(records[0].lines) == 3
    book = CalamineWorkbook.from_path(str(write_handover_records(records, tmp_path / "b.xlsx")))
    cells = [str(c) for r in book.get_sheet_by_index(0).to_python() for c in r]
    assert {"B0", "B1", "B2"} <= set(cells) and cells.count("ĐẠI DIỆN BÊN NHẬN") == 2


def test_renewal_revocation_change_and_recovery_perform_their_moves(register, office):
    h = office["holders"]
    with register.session() as s:
        lifecycle.lock(s, get_device(s, "TOK002"), actor="poller", reason="poll: PIN blocked")
        syt = agency_by_code(s, "SYT")
        made = {
            "renewal": rq.new_request(s, kind="renewal", agency=syt, actor="c",
                                      subscribers=[rq.Subscriber(holder_id=h["Nguyễn Văn An"])]),
            "recovery": rq.new_request(s, kind="recovery", agency=syt, actor="c",
                                       subscribers=[rq.Subscriber(device_serial="TOK002")]),
            "change_info": rq.new_request(s, kind="change_info", agency=syt, actor="c",
                                          subscribers=[rq.Subscriber(
                                              holder_id=h["Nguyễn Văn An"],
                                              changes={"title": "Phó Giám đốc"})]),
        }
        for req in made.values():
            rq.attach_documents(s, req, [d.key for d in rq.DOSSIER[req.kind]], actor="c")
            rq.submit(s, req, actor="c", at=T0)
        renewal = made["renewal"]
        rq.complete(s, renewal, actor="c", at=T0 + timedelta(days=3),
                    answers={renewal.items[0].id: rq.Answer(certificate=cert("RENEWED"))})
        rq.complete(s, made["recovery"], actor="c", at=T0 + timedelta(days=4))
        rq.complete(s, made["change_info"], actor="c", at=T0 + timedelta(days=5))
        revoke = rq.new_request(s, kind="revocation", agency=syt, actor="c", subscribers=[
            rq.Subscriber(device_serial="TOK001", reason="nghỉ hưu")])
        rq.attach_documents(s, revoke, [d.key for d in rq.DOSSIER["revocation"]], actor="c")
        rq.submit(s, revoke, actor="c", at=T0)
    with register.read() as s:
        assert cert_serial(get_device(s, "TOK001")) == "RENEWED"
        assert get_device(s, "TOK002").status == "issued"
        assert s.get(Holder, h["Nguyễn Văn An"]).title == "Phó Giám đốc"
    with register.session() as s:
        rq.complete(s, rq.get_request(s, revoke.id), actor="c", at=T0 + timedelta(days=6))
    with register.read() as s:
        assert get_device(s, "TOK001").status == "revoked"
        figures = {(t.by, t.key): t for t in request_turnaround(s)}
        assert figures[("kind", "recovery")].median_days == 4.0
        assert figures[("kind", "revocation")].completed == 1
        assert figures[("agency", "SYT")].completed == 4
        assert figures[("agency", "SYT")].median_days == 4.5
        assert len(list_requests(s, state="completed", agency_code="DN")) == 4
        assert list_requests(s, kind="recovery")[0].subscribers == 1


def test_completing_when_the_device_state_forbids_the_move_changes_nothing(register, office):
    with register.session() as s:
        for serial in ("TOK001", "TOK002"):
            lifecycle.lock(s, get_device(s, serial), actor="op", at=T0)
        req = rq.new_request(s, kind="recovery", agency=agency_by_code(s, "SYT"), actor="c",
                             subscribers=[rq.Subscriber(device_serial="TOK001"),
                                          rq.Subscriber(device_serial="TOK002")])
        rq.attach_documents(s, req, [d.key for d in rq.DOSSIER["recovery"]], actor="c")
        rq.submit(s, req, actor="c", at=T0)
        rid = req.id
        # meanwhile the desk unlocked the second token itself
        lifecycle.unlock(s, get_device(s, "TOK002"), actor="desk", how="so_pin_reset")
    with register.read() as s:
        before = event_count(s)
    with pytest.raises(MoveNotAllowedError) as err, register.session() as s:
        rq.complete(s, rq.get_request(s, rid), actor="c")
    assert "TOK002" in str(err.value) and "issued" in str(err.value)
    assert f"request #{rid}" in str(err.value)
    with register.read() as s:
        assert get_device(s, "TOK001").status == "locked"
        assert rq.get_request(s, rid).state == "submitted"
        assert event_count(s) == before


def test_a_request_for_a_device_in_the_wrong_state_is_refused_when_filed(register, office):
    with pytest.raises(MoveNotAllowedError, match="TOK001 is issued: cannot unlock it"), \
            register.session() as s:
        rq.new_request(s, kind="recovery", agency=agency_by_code(s, "SYT"), actor="c",
                       subscribers=[rq.Subscriber(device_serial="TOK001")])


@pytest.mark.parametrize("bad", ["12345", "04820000000X", "0482 0000 0001"])
def test_bad_national_id_is_refused(register, office, bad):
    subs = [*_ten_new()[:2], rq.Subscriber(full_name="Võ Văn Sai", national_id=bad)]
    with pytest.raises(ValidationError, match="national ID number") as err, \
            register.session() as s:
        rq.new_request(s, kind="new_issuance", agency=agency_by_code(s, "SYT"),
                       subscribers=subs, actor="c")
    assert bad.strip() in str(err.value)
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_duplicate_holder_in_a_batch_is_refused(register, office):
    hid = office["holders"]["Nguyễn Văn An"]
    subs = [rq.Subscriber(holder_id=hid), rq.Subscriber(holder_id=office["holders"]
                                                        ["Trần Thị Bình"]),
            rq.Subscriber(national_id="048200000001")]  # the same holder by ID number
    with pytest.raises(ValidationError, match=r"subscriber 3 \(Nguyễn Văn An\) appears twice.*"
                                              r"first as subscriber 1"), register.session() as s:
        rq.new_request(s, kind="renewal", agency=agency_by_code(s, "SYT"), subscribers=subs,
                       actor="c")
    new_twice = [*_ten_new()[:2], _ten_new()[0]]
    with pytest.raises(ValidationError, match=r"subscriber 3 .* appears twice"), \
            register.session() as s:
        rq.new_request(s, kind="new_issuance", agency=agency_by_code(s, "SYT"),
                       subscribers=new_twice, actor="c")
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_holder_of_another_agency_and_missing_dossier_are_refused(register, office):
    with pytest.raises(ValidationError, match="belongs to STC, not to SYT"), \
            register.session() as s:
        rq.new_request(s, kind="renewal", agency=agency_by_code(s, "SYT"), actor="c",
                       subscribers=[rq.Subscriber(holder_id=office["holders"]["Lê Văn Cường"])])
    with register.session() as s:
        req = rq.new_request(s, kind="renewal", agency=agency_by_code(s, "SYT"), actor="c",
                             subscribers=[rq.Subscriber(device_serial="TOK001")])
        rq.attach_documents(s, req, ["don_de_nghi"], actor="c")
        rid = req.id
    with pytest.raises(ValidationError, match=r"missing List of subscribers "
                       r"\(danh_sach_thue_bao\)") as refused, register.session() as s:
        rq.submit(s, rq.get_request(s, rid), actor="c")
    assert Vocabulary("vi").explain(refused.value) == (
        f"Hồ sơ #{rid} (gia hạn) còn thiếu: danh sách thuê bao đề nghị, công văn đề nghị của "
        "cơ quan, tổ chức.")
    with pytest.raises(ValidationError, match="unknown document"), register.session() as s:
        rq.attach_documents(s, rq.get_request(s, rid), ["bien_ban_ban_giao"], actor="c")
    with register.session() as s:
        rq.cancel(s, rq.get_request(s, rid), actor="c", reason="nộp nhầm")
    with pytest.raises(ValidationError, match="is cancelled: cannot submit"), \
            register.session() as s:
        rq.submit(s, rq.get_request(s, rid), actor="c")


def test_reject_and_pending(register, office):
    with register.session() as s:
        syt = agency_by_code(s, "SYT")
        old = rq.new_request(s, kind="renewal", agency=syt, actor="c", at=T0,
                             subscribers=[rq.Subscriber(device_serial="TOK001")])
        fresh = rq.new_request(s, kind="renewal", agency=syt, actor="c", at=T0 + timedelta(20),
                               subscribers=[rq.Subscriber(device_serial="TOK002")])
        ids = old.id, fresh.id
    with register.read() as s:
        stuck = pending_requests(s, older_than=timedelta(days=10), now=T0 + timedelta(days=25))
        assert [r.id for r in stuck] == [ids[0]]
        assert stuck[0].missing_documents == "don_de_nghi, danh_sach_thue_bao, cong_van"
    with pytest.raises(ValidationError, match="say why"), register.session() as s:
        rq.reject(s, rq.get_request(s, ids[0]), actor="c", reason=" ")
    with register.session() as s:
        rq.reject(s, rq.get_request(s, ids[0]), actor="c", reason="hồ sơ thiếu")
    with register.read() as s:
        req = rq.get_request(s, ids[0])
        assert (req.state, req.close_reason) == ("rejected", "hồ sơ thiếu")


def test_postal_handover_needs_a_tracking_number(register, office, tmp_path: Path):
    with register.session() as s:
        req = rq.new_request(s, kind="new_issuance", agency=agency_by_code(s, "SYT"),
                             subscribers=_ten_new()[:1], actor="c")
        rq.attach_documents(s, req, NEW_DOCS, actor="c")
        rq.submit(s, req, actor="c")
        rid, item_id = req.id, req.items[0].id
    with pytest.raises(ValidationError, match="tracking number"), register.session() as s:
        rq.complete(s, rq.get_request(s, rid), actor="c",
                    answers={item_id: rq.Answer(device_serial="STOCK01", certificate=cert("X"))},
                    handover=rq.HandoverPlan(method="postal"))
    with register.session() as s:  # a token from stock is issued, not created again
        rq.complete(s, rq.get_request(s, rid), actor="c",
                    answers={item_id: rq.Answer(device_serial="STOCK01", certificate=cert("X"))},
                    handover=rq.HandoverPlan(method="cipher_org"))
    with register.read() as s:
        assert get_device(s, "STOCK01").status == "issued"
        assert holder_name(get_device(s, "STOCK01")) == "Phạm Thị Hoa 1"


def test_new_issuance_of_a_stock_token_chosen_when_filing(register, office):
    with pytest.raises(MoveNotAllowedError, match="TOK001 is issued: cannot issue it"), \
            register.session() as s:
        rq.new_request(s, kind="new_issuance", agency=agency_by_code(s, "SYT"), actor="c",
                       subscribers=[rq.Subscriber(holder_id=office["holders"]["Trần Thị Bình"],
                                                  device_serial="TOK001")])
    with register.session() as s:
        req = rq.new_request(s, kind="new_issuance", agency=agency_by_code(s, "SYT"), actor="c",
                             subscribers=[rq.Subscriber(
                                 holder_id=office["holders"]["Trần Thị Bình"],
                                 device_serial="STOCK01")])
        rq.attach_documents(s, req, NEW_DOCS, actor="c")
        rq.submit(s, req, actor="c")
        rq.complete(s, req, actor="c", answers={req.items[0].id: rq.Answer(certificate=cert("S"))})
    with register.read() as s:
        device = get_device(s, "STOCK01")
        assert (device.status, holder_name(device)) == ("issued", "Trần Thị Bình")
        assert cert_serial(device) == "S"


def test_a_dossier_document_names_the_file_that_holds_it(register: Any, office: Any,
                                                         tmp_path: Any) -> None:
    scan = tmp_path / "cong-van-12.pdf"
    scan.write_bytes(b"%PDF")
    with register.session() as s:
        req = rq.new_request(s, kind="renewal", agency=agency_by_code(s, "SYT"), actor="c",
                             subscribers=[rq.Subscriber(device_serial="TOK001")])
        rq.attach_documents(s, req, ["cong_van"], actor="c", file=str(scan))
        rq.attach_documents(s, req, ["don_de_nghi"], actor="c")  # on paper
        dossier = dict(req.dossier)
    assert dossier["cong_van"]["file"] == str(scan)
    assert "file" not in dossier["don_de_nghi"]
