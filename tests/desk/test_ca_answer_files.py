"""The CA's answer naming certificate files: the certificate itself gives serial, issuer,
validity and fingerprint; typed columns on the same row must agree with it."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inventory.desk import requests as rq
from inventory.desk.ca_exchange import import_answer
from inventory.fleet.certificates import name_key
from inventory.fleet.queries import get_device
from inventory.register.errors import ImportFileError
from tests.ca.pki import der, make_pki, pem

from .conftest import T0, event_count
from .test_ca_exchange import PEOPLE, _submitted_batch

HEADER = ["Số CCCD", "Họ và tên", "Số serial token", "Tệp chứng thư", "Serial chứng thư",
          "Ngày hết hạn"]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def test_answer_with_certificate_files(register: Any, office: Any, tmp_path: Path) -> None:
    rid = _submitted_batch(register, PEOPLE)
    pki = make_pki()
    first, second = pki.ca.issue("Người một"), pki.ca.issue("Đặng Quốc Bảo")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "1.cer").write_bytes(der(first))
    (tmp_path / "certs" / "2.pem").write_bytes(pem(second))
    answer = write(tmp_path / "answer.csv", [
        ["001090000001", "x", "TK9001", "certs/1.cer", "", ""],
        ["001090000002", "Đặng Quốc Bảo", "TK9002", "certs/2.pem", f"{second.serial_number:x}",
         f"{second.not_valid_after_utc:%d/%m/%Y}"],
    ])
    result = import_answer(register, answer, actor="clerk",
                           handover=rq.HandoverPlan(method="cipher_org"),
                           at=T0 + timedelta(days=9))
    assert result.requests == (rid,)
    with register.read() as s:
        cert = get_device(s, "TK9002").active_certificate
        assert cert is not None
        assert cert.serial == f"{second.serial_number:X}"
        assert cert.der == der(second) and cert.not_after == second.not_valid_after_utc
        assert cert.issuer_key == name_key(pki.ca.cert.subject.public_bytes())
        assert cert.chain == "pending"  # validated by the CA layer when it reconciles
        other = get_device(s, "TK9001").active_certificate
        assert other is not None and other.serial == f"{first.serial_number:X}"


@pytest.mark.parametrize("case", ["serial", "date", "missing", "not_a_cert"])
def test_a_file_that_disagrees_or_is_unreadable_refuses_the_answer(
        register: Any, office: Any, tmp_path: Path, case: str) -> None:
    rid = _submitted_batch(register, PEOPLE)
    pki = make_pki()
    cert = pki.ca.issue("Đặng Quốc Bảo")
    (tmp_path / "c.cer").write_bytes(b"junk" if case == "not_a_cert" else der(cert))
    (tmp_path / "ok.cer").write_bytes(der(pki.ca.issue("Người một")))
    typed_serial = "DEAD" if case == "serial" else ""
    typed_date = "01/01/2031" if case == "date" else ""
    name = "nope.cer" if case == "missing" else "c.cer"
    answer = write(tmp_path / "answer.csv", [
        ["001090000001", "x", "TK9001", "ok.cer", "", ""],
        ["001090000002", "B", "TK9002", name, typed_serial, typed_date],
    ])
    with register.read() as s:
        before = event_count(s)
    with pytest.raises(ImportFileError) as err:
        import_answer(register, answer, actor="clerk")
    expected = {"serial": "the sheet says DEAD", "date": "expiry date",
                "missing": "cannot read", "not_a_cert": "not an X.509 certificate"}[case]
    assert "row 3:" in str(err.value) and expected in str(err.value)
    assert "row 2:" not in str(err.value)
    with register.read() as s:
        assert rq.get_request(s, rid).state == "submitted"
        assert event_count(s) == before
