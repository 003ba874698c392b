"""Every Summary and By-agency figure against an independent count written as plain SQL.

The report finds each device's state with window functions; these counts find it with
``NOT EXISTS`` (no later event), so a mistake in either shows up as a difference.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import bindparam, text

from inventory.register.db import Register
from inventory.register.models import DEVICE_KINDS, DEVICE_STATUSES, UTCDateTime
from reports.figures import FIGURE_KEYS
from reports.monthly import monthly_report
from reports.pointintime import Period
from tests.conftest import FIXED_NOW

from .conftest import HEADER_ROW, MONTH


def _field(dialect: str, name: str, column: str = "e.after") -> str:
    if dialect == "sqlite":
        return f"json_extract({column}, '$.{name}')"
    return f"({column} ->> '{name}')"


def _state_sql(dialect: str) -> str:
    """Each device's snapshot from its latest device event before :t."""
    return f"""
        SELECT e.device_id AS device_id, {_field(dialect, 'status')} AS status,
               {_field(dialect, 'kind')} AS kind,
               CAST({_field(dialect, 'agency_id')} AS INTEGER) AS agency_id
        FROM events e
        WHERE e.entity_type = 'device' AND e.occurred_at < :t
          AND NOT EXISTS (
            SELECT 1 FROM events l
            WHERE l.entity_type = 'device' AND l.device_id = e.device_id
              AND l.occurred_at < :t
              AND (l.occurred_at > e.occurred_at
                   OR (l.occurred_at = e.occurred_at AND l.seq > e.seq)))"""


CERT_SQL = """
    SELECT c.device_id AS device_id, c.not_after AS not_after FROM certificates c
    WHERE c.created_at < :t AND NOT EXISTS (
        SELECT 1 FROM certificates n
        WHERE n.device_id = c.device_id AND n.created_at < :t
          AND (n.created_at > c.created_at OR (n.created_at = c.created_at AND n.id > c.id)))"""


def _query(register: Register, sql: str, **params: Any) -> list[Any]:
    stmt = text(sql).bindparams(*(bindparam(k, type_=UTCDateTime()) for k, v in params.items()
                                  if isinstance(v, datetime)))
    with register.read() as s:
        return list(s.execute(stmt, params).all())


def independent_figures(register: Register, period: Period) -> dict[str, Any]:
    dialect = register.engine.dialect.name
    t = period.end
    states = _query(register, _state_sql(dialect), t=t)
    by = Counter((kind, status) for _, status, kind, _ in states)
    fig: dict[str, Any] = {
        f"in_use.{k}": by[(k, "issued")] + by[(k, "locked")] for k in DEVICE_KINDS}
    fig["in_use.total"] = fig["in_use.usb_token"] + fig["in_use.pki_sim"]
    for key, action in (("issued", "device.issue"), ("renewed", "certificate.renew"),
                        ("revoked", "device.revoke"), ("locked", "device.lock"),
                        ("unlocked", "device.unlock"), ("lost", "device.report_lost")):
        fig[key] = _query(register, "SELECT count(*) FROM events WHERE action = :a AND "
                          "occurred_at >= :s AND occurred_at < :e",
                          a=action, s=period.start, e=t)[0][0]
    for days in (30, 60, 90):
        fig[f"expiring_{days}"] = _query(register, f"""
            SELECT count(*) FROM ({_state_sql(dialect)}) st JOIN ({CERT_SQL}) ce
              ON ce.device_id = st.device_id
            WHERE st.status IN ('issued', 'locked') AND ce.not_after >= :t
              AND ce.not_after < :h""", t=t, h=t + timedelta(days=days))[0][0]
    fig["locked_now"] = sum(n for (_, s), n in by.items() if s == "locked")
    fig["lost_now"] = sum(n for (_, s), n in by.items() if s == "lost")
    # The unlock turnaround is the unlock desk's (its cases, lock → unlock, two decimals), so
    # the report and the desk agree; in the demo every case is a lock event and the unlock
    # event that ended it, so counting from the events gives the same median.
    cases = _query(register, """
        SELECT opened_at, closed_at FROM unlock_cases
        WHERE outcome = 'unlocked' AND closed_at >= :s AND closed_at < :e""",
                   s=period.start, e=t)
    spans = sorted((_aware(c) - _aware(o)).total_seconds() / 86400 for o, c in cases)
    pairs = _query(register, """
        SELECT u.occurred_at, (SELECT max(l.occurred_at) FROM events l
                               WHERE l.device_id = u.device_id AND l.action = 'device.lock'
                                 AND l.occurred_at <= u.occurred_at)
        FROM events u WHERE u.action = 'device.unlock' AND u.occurred_at >= :s
          AND u.occurred_at < :e""", s=period.start, e=t)
    from_events = sorted((_aware(u) - _aware(lk)).total_seconds() / 86400 for u, lk in pairs
                         if lk is not None)
    assert spans == pytest.approx(from_events)
    fig["median_unlock_days"] = round(statistics.median(spans), 2) if spans else None
    return fig


def _aware(value: Any) -> datetime:
    """Plain SQL returns SQLite's text or PostgreSQL's datetime: make both aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture
def report(demo_register: Register, tmp_path: Path) -> Path:
    out = tmp_path / "fleet.xlsx"
    monthly_report(demo_register, period=MONTH, output=out, lang="en", now=FIXED_NOW)
    return out


def test_every_summary_figure_matches_an_independent_count(demo_register: Register,
                                                          report: Path) -> None:
    now = independent_figures(demo_register, MONTH)
    before = independent_figures(demo_register, MONTH.previous())
    assert now["in_use.total"] > 0 and now["issued"] > 0  # the demo month is not empty
    ws = openpyxl.load_workbook(report)["Summary"]
    assert ws.cell(HEADER_ROW, 2).value == "2026-10"
    assert ws.cell(HEADER_ROW, 3).value == "2026-09"
    for i, key in enumerate(FIGURE_KEYS):
        row = HEADER_ROW + 1 + i
        assert ws.cell(row, 2).value == now[key], key
        assert ws.cell(row, 3).value == before[key], key
        if now[key] is not None and before[key] is not None:
            assert ws.cell(row, 4).value == f"=B{row}-C{row}", key  # a real formula


def test_by_agency_rows_match_independent_counts(demo_register: Register, report: Path) -> None:
    dialect = demo_register.engine.dialect.name
    t = MONTH.end
    counts: Counter[tuple[str, str, str]] = Counter()
    for code, kind, status, n in _query(demo_register, f"""
            SELECT top.code, st.kind, st.status, count(*)
            FROM ({_state_sql(dialect)}) st
            JOIN agencies a ON a.id = st.agency_id
            JOIN agencies top ON top.level = 1 AND a.path LIKE top.path || '%'
            GROUP BY top.code, st.kind, st.status""", t=t):
        counts[(code, kind, status)] = n
    no_agency = Counter({(kind, status): n for kind, status, n in _query(demo_register, f"""
            SELECT st.kind, st.status, count(*) FROM ({_state_sql(dialect)}) st
            WHERE st.agency_id IS NULL GROUP BY st.kind, st.status""", t=t)})
    expiring = {days: Counter(dict(_query(demo_register, f"""
            SELECT top.code, count(*)
            FROM ({_state_sql(dialect)}) st JOIN ({CERT_SQL}) ce ON ce.device_id = st.device_id
            JOIN agencies a ON a.id = st.agency_id
            JOIN agencies top ON top.level = 1 AND a.path LIKE top.path || '%'
            WHERE st.status IN ('issued', 'locked') AND ce.not_after >= :t
              AND ce.not_after < :h
            GROUP BY top.code""", t=t, h=t + timedelta(days=days)))) for days in (30, 90)}
    total_devices = _query(demo_register, f"SELECT count(*) FROM ({_state_sql(dialect)}) x",
                           t=t)[0][0]

    ws = openpyxl.load_workbook(report)["By agency"]
    kind_status = [(k, s) for k in DEVICE_KINDS for s in DEVICE_STATUSES]
    seen = set()
    row = HEADER_ROW + 1
    while ws.cell(row, 2).value != "Grand total":
        code = ws.cell(row, 1).value
        expected = [no_agency[ks] if code is None else counts[(code, *ks)]
                    for ks in kind_status]
        assert [ws.cell(row, 3 + i).value for i in range(12)] == expected, code
        assert ws.cell(row, 15).value == f"=SUM(C{row}:N{row})"
        assert ws.cell(row, 16).value == f"=E{row}+K{row}"
        if code is not None:
            assert ws.cell(row, 17).value == expiring[30][code], code
            assert ws.cell(row, 18).value == expiring[90][code], code
        seen.add(code)
        row += 1
    assert {c for c, _, _ in counts} <= seen
    assert ws.cell(row, 15).value == f"=SUBTOTAL(9,O{HEADER_ROW + 1}:O{row - 1})"
    # the cached result of the grand total (what Excel shows before recalculating)
    cached = openpyxl.load_workbook(report, data_only=True)["By agency"]
    assert cached.cell(row, 15).value == total_devices
    assert cached.cell(row, 18).value == sum(expiring[90].values())


def test_deeper_agency_level_has_real_subtotals(demo_register: Register,
                                                tmp_path: Path) -> None:
    out = tmp_path / "level2.xlsx"
    monthly_report(demo_register, period=MONTH, output=out, agency_level=2, lang="en",
                   now=FIXED_NOW)
    ws = openpyxl.load_workbook(out)["By agency"]
    cached = openpyxl.load_workbook(out, data_only=True)["By agency"]
    labels = [ws.cell(r, 2).value for r in range(HEADER_ROW + 1, ws.max_row + 1)]
    subtotal_rows = [HEADER_ROW + 1 + i for i, v in enumerate(labels)
                     if str(v).startswith("Subtotal ")]
    assert subtotal_rows, "level 2 groups units under their department or district"
    for r in subtotal_rows:
        assert str(ws.cell(r, 15).value).startswith("=SUBTOTAL(9,O")
    grand = HEADER_ROW + labels.index("Grand total") + 1
    detail = [r for r in range(HEADER_ROW + 1, grand) if r not in subtotal_rows]
    assert cached.cell(grand, 15).value == sum(cached.cell(r, 15).value for r in detail)
    assert cached.cell(grand, 15).value == sum(cached.cell(r, 15).value
                                               for r in subtotal_rows) + sum(
        cached.cell(r, 15).value for r in detail if ws.cell(r, 1).value is None)
