"""The handover record converts to PDF through LibreOffice (skips without it, except in CI)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from inventory.desk.handovers import handover_records
from inventory.register.db import Register
from reports.handover_record import convert_to_pdf, write_handover_records

from .conftest import T0


def test_handover_record_pdf(register: Register, office: dict[str, Any], tmp_path: Path,
                             soffice: str) -> None:
    with register.read() as s:
        (record,) = handover_records(s, handover_ids=[1])
    assert record.handed_at == T0 - timedelta(days=299)
    pdf = convert_to_pdf(write_handover_records([record], tmp_path / "bb.xlsx"), soffice=soffice)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.count(b"/Type/Page") - data.count(b"/Type/Pages") \
        == 1  # two copies fit on one sheet
