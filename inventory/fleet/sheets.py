"""Sheets as offices really save them: reading ``.xlsx``/``.csv`` and telling what each column is.

Reading: workbooks through python-calamine (the first sheet); CSV files as Excel writes them on
any desk — UTF-8 with or without a byte-order mark, UTF-16 ("Unicode text"), separated by ``,``
or (on a Vietnamese-locale Windows) ``;`` or tabs, CRLF line ends, quoted cells holding commas,
quotes and line breaks. The separator is the one under which a header row naming a serial is
found; the whole file goes through the ``csv`` module (never ``splitlines``), and a cell our
own CSV writer protected from spreadsheets (``'=…``) reads back as it was written.

Headers are matched by the words they contain, not against a list of whole headers: "Số serial",
"Serial thiết bị", "Số serial token" and "Số seri USB Token" are all the device serial, while
"Số serial CTS" or "Serial chứng thư số" is the certificate's. A kind named in a serial header
("Serial SIM") is the kind of the rows that do not say theirs. The first row within
``HEADER_SEARCH_ROWS`` that has a serial column is the header (agencies put titles above).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inventory.register import checks
from inventory.register.errors import ImportFileError, StorageIOError, ValidationError
from inventory.register.text import csv_unescape, fold

HEADER_SEARCH_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")

# Our export's column names, matched whole (after folding, "_" as a space).
EXACT: dict[str, str] = {name.replace("_", " "): name for name in (
    "serial", "kind", "status", "holder", "holder_key", "title", "national_id", "email", "phone",
    "agency_code", "agency", "manufacturer", "model", "phone_number", "lock_count",
    "certificate_serial", "not_before", "not_after", "last_seen_at", "notes")}

CERTIFICATE_WORDS = ("cts", "chung thu", "certificate", "cert", "chung chi so")
IGNORED = ("stt", "so thu tu", "ngay sinh", "noi cap", "ngay cap cccd", "ngay cap cmnd",
           "ordinal")


@dataclass(frozen=True)
class Rule:
    """A field named by any of ``phrases`` (word sequences), unless one of ``unless`` is there."""

    field: str
    phrases: tuple[str, ...]
    unless: tuple[str, ...] = ()


# Order matters: the first rule that matches names the column.
RULES: tuple[Rule, ...] = (
    Rule("lock_count", ("so lan khoa", "lock count", "lan bi khoa", "so lan bi khoa")),
    Rule("last_seen_at", ("last seen", "lan cuoi thay", "thay lan cuoi")),
    Rule("not_after", ("het han", "expiry", "expires", "expiration", "not after", "valid until",
                       "den ngay", "het hieu luc", "ngay ket thuc", "han su dung", "thoi han")),
    Rule("not_before", ("not before", "ngay hieu luc", "hieu luc tu", "co hieu luc", "valid from",
                        "tu ngay", "ngay bat dau", "ngay cap", "ngay phat hanh", "issued on",
                        "start date")),
    Rule("holder_key", ("holder key", "ma nguoi dung", "ma chu the")),
    Rule("national_id", ("cccd", "cmnd", "dinh danh", "can cuoc", "national id", "id number",
                         "cmt", "so cmt")),
    Rule("email", ("email", "e mail", "thu dien tu", "mail")),
    Rule("phone_number", ("so thue bao", "thue bao di dong", "sim phone", "phone number",
                          "msisdn", "so dien thoai sim", "so sim", "dien thoai sim")),
    Rule("phone", ("dien thoai", "phone", "sdt", "di dong", "mobile"), unless=("pki",)),
    Rule("agency_code", ("ma don vi", "ma co quan", "agency code", "ma dv", "ma so don vi",
                         "ma to chuc")),
    Rule("agency", ("don vi", "co quan", "agency", "noi cong tac", "to chuc", "organisation",
                    "organization")),
    Rule("title", ("chuc vu", "chuc danh", "title", "position")),
    Rule("kind", ("loai thiet bi", "loai", "kind", "device type", "chung loai", "type"),
         unless=("yeu cau", "request")),
    Rule("status", ("trang thai", "status", "tinh trang")),
    Rule("manufacturer", ("hang san xuat", "nha san xuat", "manufacturer", "vendor", "hang")),
    Rule("model", ("model", "dong thiet bi", "mau thiet bi", "kieu")),
    Rule("notes", ("ghi chu", "notes", "note", "remark", "remarks")),
    Rule("serial", ("serial", "seri", "se ri", "so hieu", "ma thiet bi", "iccid", "sn",
                    "device serial")),
    Rule("holder", ("ho va ten", "ho ten", "full name", "name", "nguoi su dung", "chu the",
                    "ten thue bao", "nguoi duoc cap", "nguoi dung", "ten nguoi", "holder",
                    "subscriber", "thue bao")),
)
# A certificate word turns these into the certificate's fields ("Số serial CTS").
CERTIFICATE_FIELDS = {"serial": "certificate_serial", "not_before": "not_before",
                      "not_after": "not_after"}
_DEVICE_HINTS = (("usb token", "usb_token"), ("token", "usb_token"), ("usb", "usb_token"),
                 ("sim", "pki_sim"), ("iccid", "pki_sim"))


def _words(header: Any) -> str:
    """A header folded to its words, padded with spaces for whole-word phrase search."""
    text = fold(str(header or "")).replace("_", " ")
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text).split()) + " "


def _has(words: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {p} " in words for p in phrases)


def field_of(header: Any) -> tuple[str | None, str | None]:
    """(field, kind hint) a header names; (None, None) for a column we do not read."""
    words = _words(header)
    bare = words.strip()
    if not bare or (_has(words, IGNORED) and not _has(words, ("serial", "seri"))):
        return None, None
    if bare in EXACT:
        return EXACT[bare], None
    certificate = _has(words, CERTIFICATE_WORDS)
    for rule in RULES:
        if _has(words, rule.phrases) and not _has(words, rule.unless):
            name = rule.field
            if certificate and name in CERTIFICATE_FIELDS:
                return CERTIFICATE_FIELDS[name], None
            if certificate and name in ("kind", "status", "notes"):
                return None, None  # the certificate's subject, kind, state …: not read
            hint = next((k for p, k in _DEVICE_HINTS if f" {p} " in words), None) \
                if name == "serial" else None
            return name, hint
    if certificate and _has(words, ("so", "ma", "number")):
        return "certificate_serial", None  # "Số CTS", "Mã chứng thư"
    return None, None


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as spreadsheets name columns)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


@dataclass(frozen=True)
class ColumnUse:
    """What one column of the file feeds (``import --dry-run`` prints these)."""

    index: int
    header: str
    field: str | None
    note: str = ""

    @property
    def letter(self) -> str:
        return column_letter(self.index)

    def __str__(self) -> str:
        target = f"→ {self.field}" if self.field else "(not read)"
        return f"column {self.letter} {self.header!r} {target}" + (
            f" ({self.note})" if self.note else "")


@dataclass
class Sheet:
    """A table with its header found: which column feeds which field, and the data rows."""

    path: Path
    header_row: int  # 0-based index in ``rows``
    columns: dict[int, str]  # column index → field
    uses: list[ColumnUse]
    rows: list[list[Any]]
    kind_hint: str | None = None
    from_csv: bool = False
    headers: dict[int, str] = field(default_factory=dict)

    def where(self, index: int) -> str:
        """"column G (Số serial)" for messages."""
        return f"column {column_letter(index)} ({self.headers.get(index, '')})"


def _header_row(rows: list[list[Any]]) -> int | None:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(field_of(cell)[0] == "serial" for cell in row):
            return i
    return None


def map_columns(path: Path, rows: list[list[Any]], *, from_csv: bool = False) -> Sheet:
    if not any(str(c).strip() for r in rows for c in r if c is not None):
        raise ImportFileError(str(path), "the file is empty")
    at = _header_row(rows)
    if at is None:
        raise ImportFileError(str(path), f"no serial column in the first {HEADER_SEARCH_ROWS} "
                              "rows (expected a header such as 'Số serial' or 'serial')")
    columns: dict[int, str] = {}
    uses: list[ColumnUse] = []
    headers: dict[int, str] = {}
    taken: dict[str, int] = {}
    hints: set[str] = set()
    for i, cell in enumerate(rows[at]):
        header = " ".join(str(cell).split()) if cell is not None else ""
        if not header:
            continue
        headers[i] = header
        name, hint = field_of(cell)
        if name is None:
            uses.append(ColumnUse(i, header, None))
        elif name in taken:
            uses.append(ColumnUse(i, header, None, f"column {column_letter(taken[name])} "
                                                   f"already gives {name}"))
        else:
            taken[name] = i
            columns[i] = name
            uses.append(ColumnUse(i, header, name, f"kind {hint} unless a row says" if hint
                                  else ""))
            if hint:
                hints.add(hint)
    return Sheet(path, at, columns, uses, rows, kind_hint=hints.pop() if len(hints) == 1
                 else None, from_csv=from_csv, headers=headers)


# --- reading ---------------------------------------------------------------------------------

def header_key(cell: Any) -> str | None:
    """The field a header names (None for a column not read)."""
    return field_of(cell)[0]


def _readable(path: Path) -> None:
    """Refuse a path that names no file, or one that cannot be read (one line naming it:
    a missing file or a folder is bad input, 65; permission denied or a failing disk is an
    I/O error, 74 — never "not an Excel workbook")."""
    try:
        with path.open("rb") as f:
            f.read(1)
    except FileNotFoundError as err:
        raise ImportFileError(str(path), "no such file") from err
    except IsADirectoryError as err:
        raise ImportFileError(str(path), "is a folder, not a file") from err
    except OSError as err:
        raise StorageIOError(str(path), f"cannot be read: {(err.strerror or str(err)).lower()}"
                             ) from err


def read_table(path: Path) -> list[list[Any]]:
    """Every row of the first sheet (xlsx) or of the CSV file, as Python values, unmapped."""
    _readable(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path)
    if suffix in (".csv", ".txt", ".tsv"):
        text = _decode(path)
        return [[csv_unescape(c) for c in r] for r in _parse(text, _delimiter(text))]
    raise ImportFileError(str(path), f"unsupported file type {suffix or '(none)'}: use .xlsx "
                          "or .csv")


def read_sheet(path: Path) -> Sheet:
    """The first sheet of a workbook or a CSV file, its header found and its columns named."""
    _readable(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return map_columns(path, _read_workbook(path))
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    raise ImportFileError(str(path), f"unsupported file type {suffix or '(none)'}: use .xlsx "
                          "or .csv")


def _read_workbook(path: Path) -> list[list[Any]]:
    if not zipfile.is_zipfile(path):
        raise ImportFileError(str(path), "is not an Excel workbook (.xlsx is a zip file; "
                              "this one is something else)")
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        rows: list[list[Any]] = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        return rows  # already a list of lists: no copy
    except Exception as err:  # calamine raises its own error types
        raise ImportFileError(str(path), f"cannot read the workbook: {err}") from err


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise StorageIOError(str(path), f"cannot be read: {(err.strerror or str(err)).lower()}"
                             ) from err
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _utf16(path, raw, "utf-16")
    head = raw[:400]
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and not head[::2].count(0):
        return _utf16(path, raw, "utf-16-le")  # "Unicode text" without its byte-order mark
    if len(head) >= 4 and head[::2].count(0) > len(head) // 4 and not head[1::2].count(0):
        return _utf16(path, raw, "utf-16-be")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # Windows-1252, Windows-1258 and the old TCVN3/VNI font encodings cannot be told apart
        # byte for byte: guessing would store mangled names, so the file is refused
        raise ImportFileError(str(path), "is not UTF-8 text: in Excel, save it as 'CSV UTF-8 "
                              "(Comma delimited)' (or as .xlsx) and import that") from err


def _utf16(path: Path, raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as err:
        raise ImportFileError(str(path), f"is not readable as UTF-16 text: {err.reason} at "
                              f"byte {err.start}") from err


def _parse(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                      doublequote=True, skipinitialspace=False, strict=False)


def _delimiter(text: str) -> str:
    """The separator under which a header row (one naming a serial, else the most columns we
    read) is found in the first rows."""
    best: tuple[int, int, str] | None = None
    for delimiter in DELIMITERS:
        head = [list(r) for r in itertools.islice(_parse(text, delimiter), HEADER_SEARCH_ROWS)]
        at = _header_row(head)
        known = max((sum(1 for c in r if field_of(c)[0]) for r in head), default=0)
        score = (1 if at is not None else 0, known, delimiter)
        if best is None or score[:2] > best[:2]:
            best = score
    return best[2] if best else ","


def _read_csv(path: Path) -> Sheet:
    text = _decode(path)
    delimiter = _delimiter(text)
    try:
        rows = [[csv_unescape(c) for c in r] for r in _parse(text, delimiter)]
    except csv.Error as err:
        raise ImportFileError(str(path), f"is not a readable CSV file: {err}") from err
    return map_columns(path, rows, from_csv=True)


def text_cell(value: Any, what: str) -> str | None:
    """A cell that holds text even when Excel stored a number (serials, ICCIDs, ID numbers,
    phone numbers). A number is exact only up to 15 digits in Excel: a longer one was already
    rounded, and is refused rather than stored wrong."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise ValidationError(f"{what} {value!r} is a number with decimals: format "
                                         "the column as text in Excel and type it again")
        number = int(value)
        if len(str(abs(number))) > 15:
            raise ValidationError(
                f"{what} was stored by Excel as the number {number}, which has more digits "
                "than a spreadsheet keeps exactly (15): format the column as text and type it "
                "again")
        return str(number)
    return checks.text(value, what)
