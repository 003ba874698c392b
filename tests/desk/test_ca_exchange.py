"""The intake list sent to the CA, and the CA's answer that completes requests in bulk."""

from __future__ import annotations

import csv
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from inventory.desk import requests as rq
from inventory.desk.ca_exchange import import_answer
from inventory.desk.figures import intake_rows
from inventory.fleet.queries import agency_by_code, get_device
from inventory.register import audit
from inventory.register.errors import ImportFileError
from reports.requests_export import write_intake
from tests.conftest import cert_serial, holder_name

from .conftest import T0, event_count


def _submitted_batch(register, names: list[tuple[str, str]], kind: str = "new_issuance") -> int:
    with register.session() as s:
        subs = [rq.Subscriber(full_name=name, national_id=nid, title="Chuyên viên",
                              email=f"{nid}@danang.gov.vn", phone="0905000000")
                for name, nid in names]
        req = rq.new_request(s, kind=kind, agency=agency_by_code(s, "SYT"), subscribers=subs,
                             actor="c", at=T0)
        rq.attach_documents(s, req, [d.key for d in rq.DOSSIER[kind]], actor="c")
        rq.submit(s, req, actor="c", external_ref="77/SYT-VP", at=T0 + timedelta(days=1))
        return req.id


PEOPLE = [("=HYPERLINK(\"http://x\")", "001090000001"), ("Đặng Quốc Bảo", "001090000002")]


def _write_answer(path: Path, rows: list[list[str]]) -> Path:
    header = ["Mã hồ sơ", "Số CCCD", "Họ và tên", "Số serial token", "Serial chứng thư",
              "Ngày hiệu lực", "Ngày hết hạn"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def test_intake_export_masks_ids_unless_asked_and_never_writes_formulas(register, office,
                                                                       tmp_path):
    rid = _submitted_batch(register, PEOPLE)
    with register.read() as s:
        masked = list(intake_rows(s))
        full = list(intake_rows(s, show_id_numbers=True))
    assert [r.national_id for r in masked] == ["********0001", "********0002"]
    assert [r.national_id for r in full] == ["001090000001", "001090000002"]
    assert {r.request_kind for r in full} == {"new_issuance"} and full[0].agency == "Sở Y tế"
    assert write_intake(full, tmp_path / "intake.xlsx") == 2
    sheet = CalamineWorkbook.from_path(str(tmp_path / "intake.xlsx")).get_sheet_by_index(0)
    rows = sheet.to_python()
    assert rows[2][:5] == ["Mã hồ sơ", "Họ và tên", "Chức vụ", "Cơ quan, đơn vị", "Số CCCD/CMND"]
    assert rows[3][1] == PEOPLE[0][0]  # text, not a formula
    assert rows[3][7:9] == ["Cấp mới", "USB Token"]  # the CA's words, never a code
    assert rows[3][4] == "001090000001" and rows[3][0] == f"R{rid}-{full[0].ref.split('-')[1]}"
    with zipfile.ZipFile(tmp_path / "intake.xlsx") as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
    write_intake(full, tmp_path / "intake.csv")
    text = (tmp_path / "intake.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "Cấp mới" in text and "new_issuance" not in text


def test_ca_answer_completes_the_requests_in_bulk(register, office, tmp_path):
    rid = _submitted_batch(register, PEOPLE)
    with register.read() as s:
        refs = [r.ref for r in intake_rows(s)]
    answer = _write_answer(tmp_path / "answer.csv", [
        [refs[0], "", "x", "TK9001", "CERT-1", "05/03/2026", "05/03/2029"],
        ["", "001090000002", "Đặng Quốc Bảo", "TK9002", "CERT-2", "2026-03-05", "2029-03-05"],
    ])
    result = import_answer(register, answer, actor="clerk",
                           handover=rq.HandoverPlan(method="cipher_org"),
                           at=T0 + timedelta(days=9))
    assert result.requests == (rid,) and result.subscribers == 2
    with register.read() as s:
        assert rq.get_request(s, rid).state == "completed"
        device = get_device(s, "TK9002")
        assert (device.status, holder_name(device)) == ("issued", "Đặng Quốc Bảo")
        assert cert_serial(device) == "CERT-2"
        audit.verify(s)


def test_ca_answer_naming_an_unknown_subscriber_is_refused_whole(register, office, tmp_path):
    rid = _submitted_batch(register, PEOPLE)
    answer = _write_answer(tmp_path / "answer.csv", [
        ["", "001090000001", "A", "TK9001", "CERT-1", "05/03/2026", "05/03/2029"],
        ["", "001090000002", "B", "TK9002", "CERT-2", "05/03/2026", "05/03/2029"],
        ["", "079123456789", "Người Lạ", "TK9003", "CERT-3", "05/03/2026", "05/03/2029"],
        ["R999-1", "", "Ai Đó", "TK9004", "CERT-4", "05/03/2026", "05/03/2029"],
    ])
    with register.read() as s:
        before = event_count(s)
    with pytest.raises(ImportFileError) as err:
        import_answer(register, answer, actor="clerk")
    message = str(err.value)
    assert "row 4: subscriber Người Lạ (ID ********6789) is in no submitted request" in message
    assert "row 5: reference R999-1 (Ai Đó) names no subscriber" in message
    with register.read() as s:
        assert rq.get_request(s, rid).state == "submitted"
        assert event_count(s) == before


def test_a_partly_answered_batch_is_refused(register, office, tmp_path):
    rid = _submitted_batch(register, PEOPLE)
    answer = _write_answer(tmp_path / "answer.csv", [
        ["", "001090000002", "B", "TK9002", "CERT-2", "05/03/2026", "05/03/2029"]])
    with pytest.raises(ImportFileError, match=rf"row 2: request #{rid} has 2 subscribers but "
                                              r"the answer covers 1; missing: =HYPERLINK"):
        import_answer(register, answer, actor="clerk")
    bad_date = _write_answer(tmp_path / "bad.csv", [
        ["", "001090000002", "B", "TK9002", "CERT-2", "hôm qua", "05/03/2029"]])
    with pytest.raises(ImportFileError, match="row 2: valid-from date 'hôm qua' is not a date"):
        import_answer(register, bad_date, actor="clerk")


def test_ca_answer_in_xlsx_completes_a_renewal(register, office, tmp_path):
    with register.session() as s:
        req = rq.new_request(s, kind="renewal", agency=agency_by_code(s, "SYT"), actor="c",
                             subscribers=[rq.Subscriber(device_serial="TOK001")])
        rq.attach_documents(s, req, [d.key for d in rq.DOSSIER["renewal"]], actor="c")
        rq.submit(s, req, actor="c", at=T0)
        rid = req.id
    path = tmp_path / "tra_loi.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    for col, value in enumerate(["Số CCCD", "Serial chứng thư", "Ngày hiệu lực", "Ngày hết hạn"]):
        ws.write_string(0, col, value)
    for col, value in enumerate(["048200000001", "RENEW-1", "01/04/2026", "01/04/2029"]):
        ws.write_string(1, col, value)
    book.close()
    import_answer(register, path, actor="clerk")
    with register.read() as s:
        assert rq.get_request(s, rid).state == "completed"
        assert cert_serial(get_device(s, "TOK001")) == "RENEW-1"
