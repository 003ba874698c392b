"""Numbers and dates as each language writes them, and sentences said from an error's facts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from inventory.register.errors import TokenfleetError
from inventory.vocabulary import (
    Vocabulary,
    format_date,
    format_datetime,
    format_month,
    format_number,
    inline,
)

WHEN = datetime(2026, 11, 28, 14, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(("value", "vi", "en"), [
    (20000, "20.000", "20,000"),
    (1234567, "1.234.567", "1,234,567"),
    (-4200, "-4.200", "-4,200"),
    (0, "0", "0"),
    (999, "999", "999"),
    (2.5, "2,5", "2.5"),
    (12.0, "12", "12"),
    (1234.56, "1.234,6", "1,234.6"),
])
def test_numbers(value: float, vi: str, en: str) -> None:
    assert format_number(value, "vi") == vi
    assert format_number(value, "en") == en


def test_numbers_with_fixed_decimals() -> None:
    assert format_number(1234.5, "vi", decimals=2) == "1.234,50"
    assert format_number(1234.5, "en", decimals=2) == "1,234.50"
    assert format_number(3.0, "vi", decimals=1) == "3,0"
    with pytest.raises(TypeError):
        format_number(True, "vi")


def test_dates_and_times() -> None:
    assert format_date(WHEN, "vi") == "28/11/2026"
    assert format_date(date(2026, 1, 5), "vi") == "05/01/2026"
    assert format_date(WHEN, "en") == "2026-11-28"
    assert format_datetime(WHEN, "vi") == "28/11/2026 14:05"
    assert format_datetime(WHEN, "en") == "2026-11-28 14:05"
    assert format_datetime(WHEN, "vi", seconds=True) == "28/11/2026 14:05:09"
    assert format_month(WHEN, "vi") == "11/2026"
    assert format_month(WHEN, "en") == "2026-11"
    assert format_date(None, "vi") == format_datetime(None, "en") == ""
    with pytest.raises(ValueError):
        format_date(WHEN, "de")


def test_labels_inside_a_sentence_keep_acronyms() -> None:
    assert inline("Bị khóa") == "bị khóa"
    assert inline("USB Token") == "USB Token"
    assert inline("SIM PKI") == "SIM PKI"
    assert inline("CA khôi phục") == "CA khôi phục"
    assert inline("In stock") == "in stock"


def test_the_request_form_takes_its_full_name_for_the_kind() -> None:
    vi, en = Vocabulary("vi"), Vocabulary("en")
    assert vi.document("renewal", "don_de_nghi") == "Đơn đề nghị gia hạn chứng thư số"
    assert vi.document("renewal", "cong_van") == "Công văn đề nghị của cơ quan, tổ chức"
    assert en.document("recovery", "bien_ban_ban_giao") == "Device handover record"


class _Refusal(TokenfleetError):
    def __init__(self, **facts: object) -> None:
        super().__init__("device T1 is revoked: cannot revoke it")
        self.key, self.facts = "move_not_allowed", facts


def test_a_refusal_is_said_in_the_readers_language_from_its_facts() -> None:
    err = _Refusal(serial="T1", status="revoked", action="revoke",
                   allowed=["issued", "locked", "lost"])
    said = Vocabulary("vi").explain(err)
    assert said == ("Thiết bị T1 đang ở trạng thái «đã thu hồi»: không thể thu hồi (chỉ được "
                    "khi thiết bị ở trạng thái: đang sử dụng, bị khóa, bị mất).")
    assert Vocabulary("en").explain(err).startswith("Device T1 is revoked: cannot revoke")
    # facts that do not fit the sentence: the error's own text, never a crash
    assert Vocabulary("vi").explain(_Refusal(serial="T1")) == str(err)
    assert Vocabulary("vi").explain(ValueError("plain")) == "plain"
    assert Vocabulary("vi").error_title(err) == "Có lỗi"


def test_a_recorded_note_has_its_codes_named() -> None:
    vi = Vocabulary("vi")
    assert vi.note("device.issue", "to Lê Văn Nam (postal)") == \
        "to Lê Văn Nam (qua dịch vụ bưu chính công ích)"
    assert vi.note("device.unlock", "so_pin_reset") == "đặt lại mã PIN bằng SO PIN"
    assert vi.note("unlock_case.close", "T1: ca_recovery") == "T1: CA khôi phục"
    assert vi.note("device.lock", "PIN blocked (postal)") == "PIN blocked (postal)"  # not its
    assert vi.note("device.issue", None) == ""
