"""What the report looks like on disk: text stays text, CSV folders, languages, masking, the
CLI's defaults and refusals, and LibreOffice opening the workbook."""

from __future__ import annotations

import csv
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from inventory.cli import main
from inventory.fleet import lifecycle
from inventory.register import seal
from inventory.register.db import Register
from inventory.register.models import Agency, Device, Event
from reports.monthly import monthly_report
from reports.pointintime import last_complete_month
from tests.conftest import FIXED_NOW

from .conftest import HEADER_ROW, MONTH, sheet_rows

HOSTILE = ['=HYPERLINK("http://evil.example/","click")', "+1", "-2", "@SUM(A1:A9)"]
IN_MONTH = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)


def _add_hostile_holders(register: Register) -> list[str]:
    with register.session() as s:
        agency = s.scalars(select(Agency).where(Agency.level == 2).order_by(Agency.id)).first()
        assert agency is not None
        serials = []
        for i, name in enumerate(HOSTILE):
            device = lifecycle.add_device(s, kind="usb_token", serial=f"=EVIL{i}", actor="t",
                                          at=IN_MONTH)
            holder = lifecycle.add_holder(s, full_name=name, agency=agency, actor="t",
                                          title="-chief", at=IN_MONTH)
            lifecycle.issue(s, device, holder, method="in_person", actor="t", at=IN_MONTH)
            serials.append(device.serial)
    return serials


def test_hostile_text_is_never_a_formula(demo_register: Register, tmp_path: Path) -> None:
    serials = _add_hostile_holders(demo_register)
    out = tmp_path / "fleet.xlsx"
    monthly_report(demo_register, period=MONTH, output=out, lang="en", now=FIXED_NOW)
    book = openpyxl.load_workbook(out)
    found = 0
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in HOSTILE or cell.value in serials or cell.value == "-chief":
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    found += 1
    # holder, title and serial on Register, Activity, Locked & lost (issued: not there)
    assert found >= 3 * len(HOSTILE) + 2 * len(HOSTILE)
    register_rows = {r[0]: r for r in sheet_rows(out, "Register")}
    assert [register_rows[s][4] for s in serials] == HOSTILE


def test_vietnamese_by_default_and_ids_masked(demo_register: Register, tmp_path: Path) -> None:
    out = tmp_path / "fleet.xlsx"
    monthly_report(demo_register, period=MONTH, output=out, now=FIXED_NOW)
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["Tổng hợp", "Theo đơn vị", "Sắp hết hạn", "Hoạt động",
                               "Bị khóa - mất", "Đối chiếu CA", "Danh sách thiết bị"]
    title = next(book["Tổng hợp"].iter_rows(max_row=1, values_only=True))[0]
    assert title.startswith("Báo cáo tháng")
    book.close()
    rows = sheet_rows(out, "Danh sách thiết bị")
    ids = [r[6] for r in rows if r[6]]
    assert ids and all(i.startswith("********") and len(i) == 12 for i in ids)
    assert {r[2] for r in rows} <= {"Trong kho", "Đang sử dụng", "Bị khóa", "Bị mất",
                                    "Đã thu hồi", "Đã thanh lý"}


def test_personal_data_only_when_asked(demo_register: Register, tmp_path: Path) -> None:
    out = tmp_path / "fleet.xlsx"
    monthly_report(demo_register, period=MONTH, output=out, lang="en",
                   include_personal_data=True, now=FIXED_NOW)
    ids = [r[6] for r in sheet_rows(out, "Register") if r[6]]
    assert ids and all(i.isdigit() for i in ids)


def test_csv_writes_one_file_per_table(demo_register: Register, tmp_path: Path) -> None:
    folder = tmp_path / "fleet-2026-10"
    xlsx = tmp_path / "fleet.xlsx"
    monthly_report(demo_register, period=MONTH, output=folder, fmt="csv", now=FIXED_NOW)
    monthly_report(demo_register, period=MONTH, output=xlsx, lang="en", now=FIXED_NOW)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["activity.csv", "by_agency.csv", "ca.csv", "expiring.csv",
                     "locked_lost.csv", "register.csv", "seal.txt", "status_by_top_agency.csv",
                     "summary.csv", "trend.csv"]

    def read(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    register = read("register.csv")
    assert len(register) == len(sheet_rows(xlsx, "Register"))
    assert {r["kind"] for r in register} <= {"usb_token", "pki_sim"}
    assert all("*" in r["national_id"] for r in register if r["national_id"])
    summary = {r["figure"]: r for r in read("summary.csv")}
    ws = openpyxl.load_workbook(xlsx)["Summary"]
    assert int(summary["issued"]["this_month"]) == ws.cell(HEADER_ROW + 4, 2).value
    assert len(read("expiring.csv")) == len(sheet_rows(xlsx, "Expiring"))


def test_the_report_carries_the_seal_of_its_month_end(demo_register: Register,
                                                     tmp_path: Path) -> None:
    out, folder = tmp_path / "fleet.xlsx", tmp_path / "csv"
    result = monthly_report(demo_register, period=MONTH, output=out, lang="en", now=FIXED_NOW)
    monthly_report(demo_register, period=MONTH, output=folder, fmt="csv", now=FIXED_NOW)
    with demo_register.read() as s:
        expected = seal.as_of(s, MONTH.end)
        last_before = s.scalar(select(func.max(Event.seq)).where(Event.occurred_at < MONTH.end))
    assert expected.position == last_before and result.seal == expected.line
    book = openpyxl.load_workbook(out)
    assert book.custom_doc_props[seal.PROPERTY].value == expected.line
    cells = [c for row in book["Summary"].iter_rows(values_only=True) for c in row if c]
    assert expected.line in cells
    assert (folder / "seal.txt").read_text(encoding="utf-8").strip() == expected.line
    (read_back,) = seal.read(str(out))
    assert (read_back.position, read_back.hash, read_back.time) == \
        (expected.position, expected.hash, MONTH.end)


def test_default_month_is_the_last_complete_one(demo_register: Register,
                                                tmp_path: Path) -> None:
    assert last_complete_month(FIXED_NOW) == MONTH
    assert last_complete_month(datetime(2026, 1, 1, tzinfo=UTC)).label() == "2025-12"
    result = monthly_report(demo_register, output=tmp_path / "x.xlsx", now=FIXED_NOW)
    assert result.period == MONTH


def _cli(register: Register, *args: str) -> int:
    url = register.engine.url.render_as_string(hide_password=False)
    try:
        main(["--db", url, "report", "monthly", *args])
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_cli_writes_the_report(demo_register: Register, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fleet.xlsx"
    assert _cli(demo_register, "--month", "2026-10", "--output", str(out), "--lang", "en",
                "--agency-level", "2") == 0
    assert "report for 2026-10 written" in capsys.readouterr().out
    assert openpyxl.load_workbook(out, read_only=True).sheetnames[0] == "Summary"


@pytest.mark.parametrize(("args", "message"), [
    (["--month", "2026-13"], "13 is not a month number"),
    (["--month", "October"], "is not in the form YYYY-MM"),
    (["--output", "/nonexistent-dir/fleet.xlsx"], "folder /nonexistent-dir does not exist"),
    (["--output", "/proc/fleet.xlsx"], "/proc/fleet.xlsx: cannot be created"),
    (["--output", "fleet.pdf"], "needs a name ending in .xlsx"),
    (["--month", "2099-01"], "has not begun yet"),
])
def test_cli_refuses_bad_input(demo_register: Register, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str], args: list[str],
                               message: str) -> None:
    before = sorted(os.listdir(tmp_path))
    assert _cli(demo_register, *args) != 0
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert sorted(os.listdir(tmp_path)) == before  # nothing half-written


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_libreoffice_converts_and_recalculates(demo_register: Register, tmp_path: Path,
                                               soffice: str) -> None:
    _add_hostile_holders(demo_register)
    out = tmp_path / "fleet.xlsx"
    monthly_report(demo_register, period=MONTH, output=out, agency_level=2, lang="en",
                   now=FIXED_NOW)
    converted = tmp_path / "converted"
    env = {**os.environ, "HOME": str(tmp_path)}  # a private LibreOffice profile
    for target in ("pdf", "xlsx"):
        proc = subprocess.run(
            [soffice, "--headless", "--norestore", "--convert-to", target, "--outdir",
             str(converted), str(out)], capture_output=True, text=True, env=env, timeout=300,
            check=False)
        assert proc.returncode == 0, proc.stderr
        assert (converted / f"fleet.{target}").stat().st_size > 0, proc.stdout + proc.stderr
    assert (converted / "fleet.pdf").read_bytes().startswith(b"%PDF")
    # LibreOffice recalculated every formula: the totals still add up, hostile text is text
    ours = openpyxl.load_workbook(out, data_only=True)
    theirs = openpyxl.load_workbook(converted / "fleet.xlsx", data_only=True)
    for sheet in ("Summary", "By agency"):
        mine = [[c.value for c in r] for r in ours[sheet].iter_rows(min_row=HEADER_ROW)]
        recalculated = [[c.value for c in r]
                        for r in theirs[sheet].iter_rows(min_row=HEADER_ROW)]
        assert recalculated[:len(mine)] == mine, sheet
    names = {c.value for r in theirs["Register"].iter_rows() for c in r}
    assert set(HOSTILE) <= names
    with demo_register.read() as s:
        assert s.scalar(select(Device.id).where(Device.serial == "=EVIL0")) is not None
