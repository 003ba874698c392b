"""The monthly report's CA sheet: the mismatches of `ca check`, in the workbook and as CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from reports.monthly import monthly_report
from reports.pointintime import last_complete_month
from tests.ca.conftest import Fleet, fleet, pki  # noqa: F401 - fixtures
from tests.ca.pki import NOW
from tests.ca.test_reconcile import EXPECTED, scenario

from .conftest import sheet_rows


def test_ca_sheet_lists_every_mismatch(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    scenario(fleet)
    period = last_complete_month(NOW)
    out = tmp_path / "fleet.xlsx"
    result = monthly_report(fleet.register, period=period, output=out, lang="en", now=NOW)
    assert result.rows["ca"] == len(EXPECTED)
    rows = sheet_rows(out, "CA check")
    labels = {"Revoked by the CA, device in use": "revoked_at_ca_in_use",
              "Revoked here, not by the CA": "revoked_here_valid_at_ca",
              "Issuer not trusted": "unknown_issuer"}
    assert {(labels[r[0]], r[1]) for r in rows} == EXPECTED
    revoked = next(r for r in rows if r[1] == "CA-REVOKED")
    assert revoked[2] == "Nguyễn Văn An" and revoked[3] == "STTTT"
    vi = tmp_path / "vi.xlsx"
    monthly_report(fleet.register, period=period, output=vi, now=NOW)
    assert any(r[0] == "CA đã thu hồi, thiết bị vẫn đang dùng"
               for r in sheet_rows(vi, "Đối chiếu CA"))
    folder = tmp_path / "csv"
    monthly_report(fleet.register, period=period, output=folder, fmt="csv", now=NOW)
    with (folder / "ca.csv").open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert {(r["ca_kind"], r["serial"]) for r in records} == EXPECTED
