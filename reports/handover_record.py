"""The printable handover record (biên bản bàn giao): ``.xlsx``, and PDF through LibreOffice.

Each record is one worksheet holding two identical copies, one for each side, separated by a cut
line, each with its signature blocks ("ĐẠI DIỆN BÊN GIAO" / "ĐẠI DIỆN BÊN NHẬN"). The sheet is set
up to print on one A4 page. Text is always written as text, never as a formula. The record is a
Vietnamese administrative form: device kinds, handover methods and dates are written by
``inventory.vocabulary`` in Vietnamese.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from inventory.desk.handovers import HandoverRecord
from inventory.register.errors import ConfigurationError, ValidationError
from inventory.register.files import GuardedFile, atomic_output, guarded_file
from inventory.vocabulary import Vocabulary

GIVER = "Sở Thông tin và Truyền thông (Trung tâm Công nghệ thông tin và Truyền thông)"
COPY_LABELS = ("Bản 1: Bên giao giữ", "Bản 2: Bên nhận giữ")
LINE_HEADERS = ("STT", "Họ và tên", "Chức vụ", "Số CCCD", "Loại thiết bị", "Số serial thiết bị",
                "Serial chứng thư số", "Hạn chứng thư")
WIDTHS = (5, 24, 18, 14, 11, 20, 26, 12)
WORDS = Vocabulary("vi")
PDF_TIMEOUT_S = 120


def _sheet_name(record: HandoverRecord, used: set[str]) -> str:
    base = "BB " + record.number.replace("/", "-")[:25]
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base[:27]} {n}"
    used.add(name)
    return name


def write_handover_records(records: Sequence[HandoverRecord], path: Path) -> Path:
    """One worksheet per record, two copies on each; returns ``path``."""
    if not records:
        raise ValidationError("no handover to print")
    if path.suffix.lower() != ".xlsx":
        raise ValidationError(f"{path}: the handover record is written as .xlsx")
    with atomic_output(path) as tmp:
        _write(records, tmp)
    return path


def _write(records: Sequence[HandoverRecord], path: Path) -> None:
    with guarded_file(path) as fh:
        _write_book(records, fh)


def _write_book(records: Sequence[HandoverRecord], fh: GuardedFile) -> None:
    book = xlsxwriter.Workbook(fh, {"strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False,
                                           "remove_timezone": True})
    try:
        fmt = _formats(book)
        used: set[str] = set()
        for record in records:
            ws = book.add_worksheet(_sheet_name(record, used))
            for col, width in enumerate(WIDTHS):
                ws.set_column(col, col, width)
            ws.set_paper(9)  # A4
            ws.fit_to_pages(1, 1)
            ws.set_margins(left=0.4, right=0.4, top=0.4, bottom=0.4)
            row = _copy(ws, fmt, record, 0, COPY_LABELS[0])
            ws.merge_range(row + 1, 0, row + 1, len(WIDTHS) - 1,
                           "- " * 70 + " (cắt theo đường này)", fmt["cut"])
            _copy(ws, fmt, record, row + 3, COPY_LABELS[1])
    finally:
        book.close()


def _formats(book: xlsxwriter.Workbook) -> dict[str, Any]:
    f = book.add_format
    return {
        "center_bold": f({"bold": True, "align": "center"}),
        "center_italic": f({"italic": True, "align": "center"}),
        "title": f({"bold": True, "align": "center", "font_size": 14}),
        "text": f({"text_wrap": True, "valign": "top"}),
        "copy": f({"italic": True, "align": "right", "font_color": "#555555"}),
        "head": f({"bold": True, "border": 1, "align": "center", "valign": "vcenter",
                   "text_wrap": True, "bg_color": "#EEEEEE"}),
        "cell": f({"border": 1, "text_wrap": True, "valign": "vcenter"}),
        "cut": f({"align": "center", "font_color": "#888888"}),
    }


def _merged(ws: Worksheet, row: int, text: str, cell_format: Any) -> None:
    ws.merge_range(row, 0, row, len(WIDTHS) - 1, "", cell_format)
    ws.write_string(row, 0, text, cell_format)


def _copy(ws: Worksheet, fmt: dict[str, Any], r: HandoverRecord, top: int, copy_label: str
          ) -> int:
    """Write one copy starting at ``top``; returns the last row used."""
    row = top
    _merged(ws, row, copy_label, fmt["copy"])
    _merged(ws, row + 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", fmt["center_bold"])
    _merged(ws, row + 2, "Độc lập - Tự do - Hạnh phúc", fmt["center_bold"])
    _merged(ws, row + 4, "BIÊN BẢN BÀN GIAO THIẾT BỊ LƯU KHÓA BÍ MẬT", fmt["title"])
    _merged(ws, row + 5, f"Số: {r.number}", fmt["center_italic"])
    d = r.handed_at
    lines = [
        f"Hôm nay, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}, chúng tôi gồm:",
        f"BÊN GIAO: {GIVER}",
        f"BÊN NHẬN: {r.agency_name}" + (f" — Ông/Bà {r.receiver_name}"
                                       if r.receiver_name != r.agency_name else ""),
        f"Hình thức bàn giao: {WORDS.term('handover_method', r.method)}"
        + (f"; số hiệu bưu gửi: {r.tracking_no}" if r.tracking_no else ""),
    ]
    if r.request_id:
        lines.append(f"Theo yêu cầu số {r.request_id}"
                     + (f" (văn bản số {r.external_ref})" if r.external_ref else ""))
    lines.append(f"Bên giao bàn giao cho bên nhận {len(r.lines)} thiết bị lưu khóa bí mật "
                 "như sau:")
    row += 7
    for text in lines:
        _merged(ws, row, text, fmt["text"])
        row += 1
    for col, header in enumerate(LINE_HEADERS):
        ws.write_string(row, col, header, fmt["head"])
    for n, line in enumerate(r.lines, start=1):
        row += 1
        values = (str(n), line.holder_name, line.title or "", line.national_id,
                  WORDS.term("device_kind", line.device_kind), line.device_serial,
                  line.certificate_serial or "", WORDS.date(line.certificate_not_after))
        for col, value in enumerate(values):
            ws.write_string(row, col, value, fmt["cell"])
    row += 2
    _merged(ws, row, "Biên bản được lập thành 02 bản có giá trị như nhau, mỗi bên giữ 01 bản.",
            fmt["text"])
    row += 2
    ws.merge_range(row, 0, row, 3, "", fmt["center_bold"])
    ws.write_string(row, 0, "ĐẠI DIỆN BÊN GIAO", fmt["center_bold"])
    ws.merge_range(row, 4, row, 7, "", fmt["center_bold"])
    ws.write_string(row, 4, "ĐẠI DIỆN BÊN NHẬN", fmt["center_bold"])
    ws.merge_range(row + 1, 0, row + 1, 3, "", fmt["center_italic"])
    ws.write_string(row + 1, 0, "(Ký, ghi rõ họ tên)", fmt["center_italic"])
    ws.merge_range(row + 1, 4, row + 1, 7, "", fmt["center_italic"])
    ws.write_string(row + 1, 4, "(Ký, ghi rõ họ tên)", fmt["center_italic"])
    return row + 6  # room to sign


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(xlsx: Path, *, soffice: str | None = None) -> Path:
    """``soffice --headless --convert-to pdf``; the PDF lands beside the workbook."""
    exe = soffice or soffice_path()
    if exe is None:
        raise ConfigurationError("LibreOffice (soffice) is not installed: the .xlsx was written, "
                                 "no PDF")
    try:
        # A private profile: a second soffice (or the user's open LibreOffice) would otherwise
        # hold the profile lock and the conversion would silently do nothing.
        with tempfile.TemporaryDirectory(prefix="tokenfleet-soffice-") as profile:
            done = subprocess.run([exe, f"-env:UserInstallation={Path(profile).as_uri()}",
                                   "--headless", "--convert-to", "pdf", "--outdir",
                                   str(xlsx.parent), str(xlsx)], capture_output=True, text=True,
                                  timeout=PDF_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ConfigurationError(f"LibreOffice failed to convert {xlsx}: {err}") from err
    pdf = xlsx.with_suffix(".pdf")
    if done.returncode != 0 or not pdf.exists():
        raise ConfigurationError(f"LibreOffice failed to convert {xlsx}: "
                                 f"{(done.stderr or done.stdout).strip()[:300]}")
    return pdf
