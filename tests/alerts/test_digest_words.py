"""Digests speak the reader's language: words from the vocabulary, no raw code, Vietnamese
numbers and dates, and a subject that arrives with every space it was written with."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest

from inventory.alerts.channels import build_message
from inventory.alerts.digest import Digest, render
from inventory.alerts.rules import AgencyInfo, Alert
from inventory.fleet import lifecycle
from inventory.fleet.queries import agency_by_code, get_device
from inventory.register.db import Register
from inventory.register.models import ServiceRequest

from .conftest import ACTOR, NOW, City, Mailbox, at, run_cli

CODES = ("recovery", "request_pending", "device_locked", "cert_expiring", "usb_token",
         "in_stock", "issued")


def _pending_recovery(register: Register) -> None:
    with register.session() as s:
        s.add(ServiceRequest(kind="recovery", state="submitted",
                             agency_id=agency_by_code(s, "B").id,
                             external_ref="642/STTTT-CNTT", created_by=ACTOR,
                             submitted_at=NOW - timedelta(days=9)))


def test_an_agencys_digest_is_vietnamese_through_and_through(alert_env, smtp_server,
                                                             register: Register,
                                                             city: City) -> None:
    mailbox, _ = smtp_server
    _pending_recovery(register)
    with register.session() as s:
        lifecycle.lock(s, get_device(s, city.dev_b), actor=ACTOR, at=NOW - timedelta(days=10))
    assert run_cli("alerts", "run", "--now", at(0)) == 10
    (digest_b,) = mailbox.to("b@city.test")
    text, html = Mailbox.parts(digest_b)
    # the pending request by its kind's name, not "recovery 642/STTTT-CNTT"
    assert "Khôi phục thiết bị lưu khóa bí mật 642/STTTT-CNTT" in text
    assert "Hồ sơ chờ xử lý lâu (quá 7 ngày) (1)" in text
    assert "Thiết bị bị khóa (quá 3 ngày) (1)" in text
    # dates day first; the certificate ends on 20/11/2026, 5 days after NOW
    assert "20/11/2026 (còn 5 ngày)" in text and "2026-11-20" not in text
    assert "05/11/2026 (10 ngày trước)" in text
    for part in (text, html, str(digest_b["Subject"])):
        words = set(part.replace("|", " ").split())
        assert not words & set(CODES), part
    assert digest_b["Subject"] == "[tokenfleet] 3 cảnh báo thiết bị ký số — Quận Hải Châu"


def test_the_managers_subject_keeps_its_spaces_over_smtp(alert_env, smtp_server,
                                                         register: Register,
                                                         city: City) -> None:
    mailbox, _ = smtp_server
    assert run_cli("alerts", "run", "--now", at(0)) == 10
    (summary,) = mailbox.to("boss@city.test")
    assert summary["Subject"] == ("[tokenfleet] 2 cảnh báo thiết bị ký số — tổng hợp toàn "
                                  "thành phố")


@pytest.mark.parametrize("who", ["tổng hợp toàn thành phố",
                                 "Sở Tài chính, UBND quận Hải Châu, Trung tâm Công nghệ thông "
                                 "tin và Truyền thông"])
def test_every_subject_survives_folding(who: str) -> None:
    """Python 3.11's ``EmailMessage`` dropped the space at some folds ("thiết bị kýsố"):
    every count and padding that used to lose one arrives whole."""
    for count in range(1, 2000, 13):
        for pad in range(0, 30, 3):
            subject = f"{'x' * pad}[tokenfleet] {count} cảnh báo thiết bị ký số — {who}"
            digest = Digest("a@city.test", subject, "text", "<p>html</p>", [])
            raw = build_message(digest, "tokenfleet@city.test").as_bytes()
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert parsed["Subject"] == subject


def _alerts(n: int) -> list[Alert]:
    return [Alert("device_unseen", i, 90, 0, 120, NOW - timedelta(days=120), 1, i, f"T{i:05}",
                  "Lê Văn Nam") for i in range(n)]


def test_numbers_and_dates_by_language() -> None:
    agencies = {1: AgencyInfo(1, "B", "Quận Hải Châu", "b@city.test")}
    vi = render("b@city.test", _alerts(1200), agencies, "vi")
    assert vi.subject.startswith("[tokenfleet] 1.200 cảnh báo thiết bị ký số")
    assert "Thiết bị lâu không thấy (quá 90 ngày) (1.200)" in vi.text
    assert "18/07/2026 (120 ngày trước)" in vi.text
    en = render("b@city.test", _alerts(1200), agencies, "en")
    assert en.subject.startswith("[tokenfleet] 1,200 signing-device alert(s)")
    assert "Device not seen (over 90 days) (1,200)" in en.text
    assert "2026-07-18 (120 days ago)" in en.text
