"""The monthly workbook, written with XlsxWriter in constant-memory mode.

Every sheet has the title, the period and the generation time on top, a frozen header row that
repeats on every printed page, landscape fit-to-width print setup, and number/date formats.
All text goes through ``write_string`` (with formula/URL/number conversion off besides), so a
holder called ``=HYPERLINK(…)`` stays text. Totals are real formulas carrying their computed
value, so Excel shows them at once and recomputes them when leadership edits a count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from inventory.register.files import GuardedFile
from inventory.register.models import DEVICE_STATUSES
from inventory.register.seal import PROPERTY as SEAL_PROPERTY
from inventory.vocabulary import DOMAINS

from .figures import FIGURE_KEYS, KIND_STATUS_COLUMNS, AgencyCounts, AgencyTally
from .labels import Labels
from .pointintime import Period
from .tables import Column

HEADER_ROW = 4  # rows 0–2: title, period, generated; row 3 blank
SHEETS = ("summary", "by_agency", "expiring", "activity", "locked_lost", "ca", "register")
CHART_COL = 8  # right of the tables (the status table is 7 columns wide)
URGENCY = ((30, "#F4B6B6"), (60, "#F9D7A8"), (90, "#FFF2B3"))
# Excel number formats of dates, as ``inventory.vocabulary.formats`` writes them in text
DATE_FORMATS = {"vi": {"date": "dd/mm/yyyy", "datetime": "dd/mm/yyyy hh:mm", "month": "mm/yyyy"},
                "en": {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "month": "yyyy-mm"}}


def _header_footer(text: str) -> str:
    return text.replace("&", "&&")


class MonthlyWorkbook:
    def __init__(self, path: Path, labels: Labels, period: Period, generated_at: datetime,
                 personal_data: bool, scope: str | None = None):
        self.labels, self.period, self.generated_at = labels, period, generated_at
        self.personal_data = personal_data
        self.scope = scope  # a scoped login's note: the report covers its subtree only
        self.file = GuardedFile(path)  # a full disk raises once, cleanly (files.GuardedFile)
        self.book = xlsxwriter.Workbook(self.file, {
            "constant_memory": True, "remove_timezone": True, "strings_to_formulas": False,
            "strings_to_urls": False, "strings_to_numbers": False,
        })
        L = labels
        self.book.set_properties({
            "title": f"{L('title.report')} {self._month(period)}",
            "subject": L("period", month=self._month(period), end=L.date(period.last_day)),
            "author": "tokenfleet", "company": "tokenfleet",
            "keywords": "PKI, token, SIM, tokenfleet", "created": generated_at.replace(
                tzinfo=None),
            "comments": L("generated", at=L.datetime(generated_at)),
        })
        f = self.book.add_format
        self.fmt = {
            "title": f({"bold": True, "font_size": 14}),
            "subtitle": f({"italic": True, "font_color": "#555555"}),
            "header": f({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True,
                         "valign": "top"}),
            "text": f({}),
            "int": f({"num_format": "#,##0"}),
            "float": f({"num_format": "0.0"}),
            "date": f({"num_format": DATE_FORMATS[labels.lang]["date"]}),
            "datetime": f({"num_format": DATE_FORMATS[labels.lang]["datetime"]}),
            "month": f({"num_format": DATE_FORMATS[labels.lang]["month"]}),
            "total_text": f({"bold": True, "top": 1}),
            "total_int": f({"bold": True, "top": 1, "num_format": "#,##0"}),
            "sub_text": f({"bold": True, "italic": True, "bg_color": "#F2F2F2"}),
            "sub_int": f({"bold": True, "italic": True, "bg_color": "#F2F2F2",
                          "num_format": "#,##0"}),
            "change": f({"num_format": "+#,##0;-#,##0;0"}),
            "change_float": f({"num_format": "+0.0;-0.0;0.0"}),
        }
        self.urgency = [(days, f({"bg_color": color})) for days, color in URGENCY]
        self.sheets: dict[str, Worksheet] = {
            key: self.book.add_worksheet(labels(f"sheet.{key}")) for key in SHEETS}

    # --- cells ---------------------------------------------------------------------------------

    def _month(self, period: Period) -> str:
        return self.labels.month(date(period.year, period.month, 1))

    def cell(self, ws: Worksheet, row: int, col: int, value: Any, type_: str,
             fmt: Any = None) -> None:
        """Write one value by its column type; text is always a string, never a formula."""
        if value is None or value == "":
            return
        if type_ in DOMAINS:
            ws.write_string(row, col, self.labels.term(type_, value), fmt)
        elif type_ in ("date", "datetime"):
            ws.write_datetime(row, col, value, fmt or self.fmt[type_])
        elif type_ in ("int", "float"):
            ws.write_number(row, col, value, fmt or self.fmt[type_])
        else:
            ws.write_string(row, col, str(value), fmt)

    def _writer(self, ws: Worksheet, type_: str) -> Any:
        """A per-column writer chosen once, not per cell (the Register sheet has millions)."""
        if type_ in DOMAINS:
            term, write = self.labels.term, ws.write_string
            return lambda row, col, value: write(row, col, term(type_, value))
        if type_ in ("date", "datetime", "int", "float"):
            fmt = self.fmt[type_]
            write = ws.write_datetime if type_ in ("date", "datetime") else ws.write_number
            return lambda row, col, value: write(row, col, value, fmt)
        write = ws.write_string
        return lambda row, col, value: write(row, col, str(value))

    def _top(self, ws: Worksheet, key: str) -> None:
        L = self.labels
        ws.write_string(0, 0, f"{L('title.report')} — {L(f'title.{key}')}", self.fmt["title"])
        ws.write_string(1, 0, L("period", month=self._month(self.period),
                                end=L.date(self.period.last_day)), self.fmt["subtitle"])
        note = L("generated", at=L.datetime(self.generated_at))
        if not self.personal_data:
            note += "  " + L("masked_note")
        if self.scope:
            note += "  " + self.scope
        ws.write_string(2, 0, note, self.fmt["subtitle"])

    def _print_setup(self, ws: Worksheet, key: str, header_row: int = HEADER_ROW) -> None:
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header_row)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_header("&L" + _header_footer(self.labels(f"title.{key}"))
                      + "&R" + _header_footer(self._month(self.period)))
        ws.set_footer("&C&P / &N")

    def _headers(self, ws: Worksheet, row: int, titles: list[str]) -> None:
        for col, title in enumerate(titles):
            ws.write_string(row, col, title, self.fmt["header"])
        ws.set_row(row, 32)

    # --- list sheets ---------------------------------------------------------------------------

    def list_sheet(self, key: str, columns: tuple[Column, ...],
                   rows: Iterable[tuple[Any, ...]]) -> int:
        """A plain table with autofilter and frozen header; returns the number of rows."""
        ws = self.sheets[key]
        self._top(ws, key)
        for col, c in enumerate(columns):
            ws.set_column(col, col, c.width)
        self._headers(ws, HEADER_ROW, [self.labels(f"col.{c.key}") for c in columns])
        row = HEADER_ROW
        writers = [self._writer(ws, c.type) for c in columns]
        types = [c.type for c in columns]
        notes = [(types.index("note"), types.index("event"))] if "note" in types else []
        for values in rows:
            row += 1
            for note_col, event_col in notes:  # the codes a recorded note holds, named
                values = (*values[:note_col], self.labels.note(values[event_col],
                                                               values[note_col]),
                          *values[note_col + 1:])
            for col, value in enumerate(values):
                if value is not None and value != "":
                    writers[col](row, col, value)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.autofilter(HEADER_ROW, 0, max(row, HEADER_ROW), len(columns) - 1)
        self._print_setup(ws, key)
        if key == "expiring" and row > HEADER_ROW:
            days = xl_rowcol_to_cell(HEADER_ROW + 1, 1, col_abs=True)
            for limit, fmt in self.urgency:
                ws.conditional_format(HEADER_ROW + 1, 0, row, len(columns) - 1, {
                    "type": "formula", "criteria": f"={days}<{limit}", "format": fmt,
                    "stop_if_true": True})
        return row - HEADER_ROW

    # --- by agency -----------------------------------------------------------------------------

    def by_agency(self, tally: AgencyTally) -> None:
        ws, L = self.sheets["by_agency"], self.labels
        self._top(ws, "by_agency")
        titles = [L("col.agency_code"), L("col.agency")]
        titles += [f"{L.term('device_kind', k)}: {L.inline('device_status', s)}"
                   for k, s in KIND_STATUS_COLUMNS]
        titles += [L("col.total"), L("col.locked"), L("col.expiring_30"), L("col.expiring_90")]
        self._headers(ws, HEADER_ROW, titles)
        ws.set_column(0, 0, 12)
        ws.set_column(1, 1, 42)
        ws.set_column(2, len(titles) - 1, 10)
        first_num, n_ks = 2, len(KIND_STATUS_COLUMNS)
        total_col, locked_col = first_num + n_ks, first_num + n_ks + 1
        locked_cols = [first_num + i for i, (_, s) in enumerate(KIND_STATUS_COLUMNS)
                       if s == "locked"]
        last_col = len(titles) - 1

        groups: list[tuple[int | None, list[AgencyCounts]]] = []
        for counts in tally.sorted_rows():
            group = tally.agencies.rollup(counts.agency_id, 1) if tally.level >= 2 else None
            if not groups or groups[-1][0] != group:
                groups.append((group, []))
            groups[-1][1].append(counts)

        row = HEADER_ROW
        first_data = HEADER_ROW + 1
        for group, members in groups:
            group_first = row + 1
            for counts in members:
                row += 1
                info = tally.agencies.info(counts.agency_id)
                if info:
                    ws.write_string(row, 0, info.code)
                    ws.write_string(row, 1, info.name)
                else:
                    ws.write_string(row, 1, L("no_agency"))
                for i, (k, s) in enumerate(KIND_STATUS_COLUMNS):
                    ws.write_number(row, first_num + i, counts.count(k, s), self.fmt["int"])
                span = (f"{xl_rowcol_to_cell(row, first_num)}:"
                        f"{xl_rowcol_to_cell(row, first_num + n_ks - 1)}")
                ws.write_formula(row, total_col, f"=SUM({span})", self.fmt["int"], counts.total)
                ws.write_formula(row, locked_col, "=" + "+".join(
                    xl_rowcol_to_cell(row, c) for c in locked_cols), self.fmt["int"],
                    counts.status_total("locked"))
                ws.write_number(row, locked_col + 1, counts.expiring_30, self.fmt["int"])
                ws.write_number(row, locked_col + 2, counts.expiring_90, self.fmt["int"])
            info = tally.agencies.info(group)
            if tally.level >= 2 and info is not None:
                row += 1
                ws.write_string(row, 1, L("subtotal", name=info.name), self.fmt["sub_text"])
                self._subtotals(ws, row, group_first, row - 1, first_num, last_col, members,
                                self.fmt["sub_int"])
        row += 1
        ws.write_string(row, 1, L("grand_total"), self.fmt["total_text"])
        self._subtotals(ws, row, first_data, row - 1, first_num, last_col,
                        list(tally.rows.values()), self.fmt["total_int"])
        ws.freeze_panes(HEADER_ROW + 1, 2)
        ws.autofilter(HEADER_ROW, 0, row - 1, last_col)
        self._print_setup(ws, "by_agency")

    def _subtotals(self, ws: Worksheet, row: int, first: int, last: int, first_col: int,
                   last_col: int, members: list[AgencyCounts], fmt: Any) -> None:
        """``SUBTOTAL(9, …)`` skips the subtotals inside its range, so totals never double."""
        values = self._column_sums(members)
        for col in range(first_col, last_col + 1):
            ref = f"{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(max(last, first), col)}"
            ws.write_formula(row, col, f"=SUBTOTAL(9,{ref})", fmt, values[col - first_col])

    @staticmethod
    def _column_sums(members: list[AgencyCounts]) -> list[int]:
        sums = [sum(m.count(k, s) for m in members) for k, s in KIND_STATUS_COLUMNS]
        sums += [sum(m.total for m in members), sum(m.status_total("locked") for m in members),
                 sum(m.expiring_30 for m in members), sum(m.expiring_90 for m in members)]
        return sums

    # --- summary -------------------------------------------------------------------------------

    def summary(self, now: dict[str, Any], before: dict[str, Any],
                trend: list[tuple[str, int, int]], tally: AgencyTally,
                seal: str | None = None) -> None:
        ws, L = self.sheets["summary"], self.labels
        self._top(ws, "summary")
        ws.set_column(0, 0, 46)
        ws.set_column(1, 3, 14)
        self._headers(ws, HEADER_ROW, [
            L("col.figure"), L("col.this_month", month=self._month(self.period)),
            L("col.prev_month", month=self._month(self.period.previous())), L("col.change")])
        row = HEADER_ROW
        for key in FIGURE_KEYS:
            row += 1
            is_float = key == "median_unlock_days"
            kind = key.removeprefix("in_use.")
            ws.write_string(row, 0, L("fig.in_use.kind", kind=L.term("device_kind", kind))
                            if key.startswith("in_use.") and kind in DOMAINS["device_kind"]
                            else L(f"fig.{key}"))
            num = self.fmt["float" if is_float else "int"]
            for col, value in ((1, now[key]), (2, before[key])):
                if value is not None:
                    ws.write_number(row, col, value, num)
            if now[key] is not None and before[key] is not None:
                b, c = xl_rowcol_to_cell(row, 1), xl_rowcol_to_cell(row, 2)
                ws.write_formula(row, 3, f"={b}-{c}",
                                 self.fmt["change_float" if is_float else "change"],
                                 round(now[key] - before[key], 1) if is_float
                                 else now[key] - before[key])

        # 12-month trend, and the chart drawn from it
        row += 2
        ws.write_string(row, 0, L("title.trend"), self.fmt["subtitle"])
        row += 1
        trend_header = row
        for col, title in enumerate((L("col.month"), L("col.issued"), L("col.renewed"))):
            ws.write_string(row, col, title, self.fmt["header"])
        for month, issued, renewed in trend:
            row += 1
            year, number = month.split("-")
            ws.write_datetime(row, 0, datetime(int(year), int(number), 1), self.fmt["month"])
            ws.write_number(row, 1, issued, self.fmt["int"])
            ws.write_number(row, 2, renewed, self.fmt["int"])
        sheet = L("sheet.summary")
        chart = self.book.add_chart({"type": "column"})
        for col, color in ((1, "#4F81BD"), (2, "#9BBB59")):
            chart.add_series({
                "name": [sheet, trend_header, col],
                "categories": [sheet, trend_header + 1, 0, row, 0],
                "values": [sheet, trend_header + 1, col, row, col],
                "fill": {"color": color}})
        chart.set_title({"name": L("chart.trend")})
        chart.set_legend({"position": "bottom"})
        ws.insert_chart(HEADER_ROW, CHART_COL, chart, {"x_scale": 1.4, "y_scale": 1.1})

        # devices by status per top-level agency, and its stacked bar chart
        row += 2
        ws.write_string(row, 0, L("chart.by_status"), self.fmt["subtitle"])
        row += 1
        status_header = row
        self._headers(ws, row, [L("col.agency")] + [L.term("device_status", s)
                                                    for s in DEVICE_STATUSES])
        for counts in tally.sorted_rows(tally.top):
            row += 1
            info = tally.agencies.info(counts.agency_id)
            ws.write_string(row, 0, info.name if info else L("no_agency"))
            for i, status in enumerate(DEVICE_STATUSES, start=1):
                ws.write_number(row, i, counts.status_total(status), self.fmt["int"])
        bars = self.book.add_chart({"type": "bar", "subtype": "stacked"})
        for i, _status in enumerate(DEVICE_STATUSES, start=1):
            bars.add_series({"name": [sheet, status_header, i],
                             "categories": [sheet, status_header + 1, 0, row, 0],
                             "values": [sheet, status_header + 1, i, row, i]})
        if seal:  # the chain's head at the month's end, kept outside the database
            row += 2
            ws.write_string(row, 0, L("seal"), self.fmt["subtitle"])
            ws.write_string(row + 1, 0, seal)
            self.book.set_custom_property(SEAL_PROPERTY, seal)
        bars.set_title({"name": L("chart.by_status")})
        bars.set_legend({"position": "bottom"})
        bars.set_y_axis({"reverse": True})
        ws.insert_chart(HEADER_ROW + 20, CHART_COL, bars, {
            "x_scale": 1.6, "y_scale": max(1.5, 0.12 * len(tally.top))})
        self._print_setup(ws, "summary")
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.activate()

    def close(self) -> None:
        try:
            self.book.close()
        finally:
            self.file.close()

