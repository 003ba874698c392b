"""The monthly report as CSV files, one per table, for systems that want data, not a workbook.

Headers are stable machine keys (``agency_code``, ``usb_token_issued``) and values stay codes
and ISO dates whatever ``--lang`` says, so a script reading them never breaks on a translation.
Files are UTF-8 with a BOM so that Excel opens Vietnamese names correctly; text that a
spreadsheet would run as a formula is written as text (``csv_safe``, as every CSV writer does).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from inventory.register.models import DEVICE_STATUSES
from inventory.register.text import csv_safe

from .figures import FIGURE_KEYS, KIND_STATUS_COLUMNS, AgencyTally
from .tables import Column


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else csv_safe(value)


class MonthlyCsv:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []

    def _write(self, name: str, header: list[str], rows: Iterable[Iterable[Any]]) -> int:
        path = self.folder / f"{name}.csv"
        n = 0
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_plain(v) for v in row])
                n += 1
        self.files.append(path)
        return n

    def list_sheet(self, key: str, columns: tuple[Column, ...],
                   rows: Iterable[tuple[Any, ...]]) -> int:
        return self._write(key, [c.key for c in columns], rows)

    def by_agency(self, tally: AgencyTally) -> None:
        header = ["agency_code", "agency"] + [f"{k}_{s}" for k, s in KIND_STATUS_COLUMNS]
        header += ["total", "locked", "expiring_30", "expiring_90"]
        rows = []
        for c in tally.sorted_rows():
            info = tally.agencies.info(c.agency_id)
            rows.append([info.code if info else "", info.name if info else ""]
                        + [c.count(k, s) for k, s in KIND_STATUS_COLUMNS]
                        + [c.total, c.status_total("locked"), c.expiring_30, c.expiring_90])
        self._write("by_agency", header, rows)

    def summary(self, now: dict[str, Any], before: dict[str, Any],
                trend: list[tuple[str, int, int]], tally: AgencyTally,
                seal: str | None = None) -> None:
        rows = []
        for key in FIGURE_KEYS:
            a, b = now[key], before[key]
            change = None if a is None or b is None else round(a - b, 1)
            rows.append([key, a, b, change])
        self._write("summary", ["figure", "this_month", "previous_month", "change"], rows)
        self._write("trend", ["month", "issued", "renewed"], trend)
        status_rows = []
        for c in tally.sorted_rows(tally.top):
            info = tally.agencies.info(c.agency_id)
            status_rows.append([info.code if info else "", info.name if info else ""]
                               + [c.status_total(s) for s in DEVICE_STATUSES])
        self._write("status_by_top_agency", ["agency_code", "agency", *DEVICE_STATUSES],
                    status_rows)
        if seal:  # the chain's head at the month's end: `audit verify --seal seal.txt`
            path = self.folder / "seal.txt"
            path.write_text(seal + "\n", encoding="utf-8")
            self.files.append(path)

    def close(self) -> None:
        """Nothing to flush: each file is closed as soon as it is written."""
