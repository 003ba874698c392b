"""``tokenfleet report monthly``: the leadership workbook (or CSV files) for one month.

Everything is read in one read-only transaction (REPEATABLE READ on PostgreSQL) so every sheet
describes the same instant, and written to a temporary file beside the target that replaces it
only when complete: a failed run leaves no half-written report behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from inventory.ca.reconcile import reconcile
from inventory.register import access, seal
from inventory.register.config import Settings
from inventory.register.db import Register
from inventory.register.errors import TokenfleetError, ValidationError
from inventory.register.files import cause_os_error, check_folder, os_error
from inventory.register.models import utcnow

from .csv_output import MonthlyCsv
from .figures import AgencyTally, issuance_trend, month_figures
from .labels import LANGUAGES, Labels
from .pointintime import (
    OPEN_CASES,
    AgencyResolver,
    DeviceAt,
    Period,
    devices_at,
    last_complete_month,
    lifecycle_events,
    parse_month,
)
from .tables import (
    ACTIVITY_COLUMNS,
    CA_COLUMNS,
    EXPIRING_COLUMNS,
    LOCKED_LOST_COLUMNS,
    REGISTER_COLUMNS,
    RowMaker,
)
from .workbook import MonthlyWorkbook

FORMATS = ("xlsx", "csv")
EXPIRING_HORIZON = timedelta(days=90)
DEFAULT_LANG = "vi"  # leadership reads Vietnamese, whatever the operator's UI language
DEFAULT_AGENCY_LEVEL = 1  # departments and districts


@dataclass
class ReportResult:
    path: Path
    period: Period
    rows: dict[str, int] = field(default_factory=dict)
    seal: str | None = None  # the audit chain's seal at the month's end, as the report carries it


def default_output(period: Period, fmt: str) -> Path:
    return Path(f"fleet-{period.label()}" + (".xlsx" if fmt == "xlsx" else ""))


def _check_target(path: Path, fmt: str) -> None:
    """Refuse an output we cannot write before spending minutes on the report."""
    if fmt == "xlsx" and path.suffix.lower() != ".xlsx":
        raise ValidationError(f"output {path}: an Excel report needs a name ending in .xlsx")
    if fmt == "xlsx" and path.is_dir():
        raise ValidationError(f"output {path} is a folder: give a file name ending in .xlsx")
    if fmt == "csv" and path.exists() and not path.is_dir():
        raise ValidationError(f"output {path} is a file: --format csv writes into a folder")
    check_folder(path, writable=True)


def write_monthly(register: Register, *, month: str | None = None, output: Path | None = None,
                  fmt: str = "xlsx", agency_level: int | None = None, lang: str | None = None,
                  include_personal_data: bool = False, now: datetime | None = None,
                  ca_grace_days: int = 7) -> ReportResult:
    """What ``tokenfleet report monthly`` and the TUI's report box both call, with the same
    defaults: ``month`` as typed (``YYYY-MM``; None: the last complete month), ``None`` for
    ``agency_level`` and ``lang`` meaning ``DEFAULT_AGENCY_LEVEL`` and ``DEFAULT_LANG``. The
    report's seal is signed with ``TOKENFLEET_SEAL_KEY`` when that is set."""
    return monthly_report(
        register, period=parse_month(month) if month else None, output=output, fmt=fmt,
        agency_level=DEFAULT_AGENCY_LEVEL if agency_level is None else agency_level,
        lang=lang or DEFAULT_LANG, include_personal_data=include_personal_data, now=now,
        seal_key=Settings.from_env().seal_key, ca_grace_days=ca_grace_days)


def monthly_report(register: Register, *, period: Period | None = None,
                   output: Path | None = None, fmt: str = "xlsx",
                   agency_level: int = DEFAULT_AGENCY_LEVEL, lang: str = DEFAULT_LANG,
                   include_personal_data: bool = False, now: datetime | None = None,
                   seal_key: str | None = None, ca_grace_days: int = 7) -> ReportResult:
    """Write the report of ``period`` (default: the last complete month) to ``output``; it
    carries the seal of the audit chain at the month's end (signed with ``seal_key``)."""
    now = now or utcnow()
    period = period or last_complete_month(now)
    if fmt not in FORMATS:
        raise ValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        raise ValidationError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    if agency_level < 0:
        raise ValidationError(f"agency level {agency_level} must be 0 (the city) or more")
    if period.start > now:
        raise ValidationError(f"month {period.label()} has not begun yet")
    output = output or default_output(period, fmt)
    _check_target(output, fmt)
    parent = output.parent if str(output.parent) else Path(".")
    try:
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=parent))
    except OSError as err:
        raise os_error(err, output) from err
    try:
        target = tmp_dir / output.name if fmt == "xlsx" else tmp_dir
        result = ReportResult(output, period)
        _build(register, period, target, fmt, agency_level, Labels(lang),
               include_personal_data, now, result, seal_key, ca_grace_days)
        if fmt == "xlsx":
            os.replace(target, output)
        else:
            output.mkdir(exist_ok=True)
            for file in sorted(tmp_dir.iterdir()):
                os.replace(file, output / file.name)
    except OSError as err:
        raise os_error(err, output) from err
    except TokenfleetError:
        raise
    except Exception as err:  # XlsxWriter wraps the OSError of a full disk in its own error
        cause = cause_os_error(err)
        if cause is None:
            raise
        raise os_error(cause, output) from err
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return result


def _build(register: Register, period: Period, target: Path, fmt: str, level: int,
           labels: Labels, personal: bool, now: datetime, result: ReportResult,
           seal_key: str | None, ca_grace_days: int) -> None:
    at = period.end
    with register.read() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        agencies = AgencyResolver(session, at)
        maker = RowMaker(agencies, at, personal, labels.lang)
        tally = AgencyTally(agencies, level, at)
        # A scoped login (row-level security) sees its agency's subtree: every sheet says so.
        identity = access.identify(session)
        scope = (labels("scope_note", agency=identity.agency_code or "-", login=identity.name)
                 if identity.scoped else None)
        out: Any = (MonthlyWorkbook(target, labels, period, now, personal, scope)
                    if fmt == "xlsx" else MonthlyCsv(target))

        # One pass over the month-end state feeds the Register sheet and the tally, and keeps
        # the two short lists (expiring soon, open cases) for their sheets: the state is the
        # costly part, so it is computed once.
        expiring: list[DeviceAt] = []
        open_cases: list[DeviceAt] = []

        def register_rows() -> Iterator[tuple[Any, ...]]:
            for device in devices_at(session, at, agencies):
                tally.add(device)
                if device.status in OPEN_CASES:
                    open_cases.append(device)
                if device.expires_within(at, EXPIRING_HORIZON.days):
                    expiring.append(device)
                yield maker.register(device)

        try:
            result.rows["register"] = out.list_sheet("register", REGISTER_COLUMNS,
                                                     register_rows())
            expiring.sort(key=lambda d: (d.not_after, d.device_id))
            open_cases.sort(key=lambda d: (d.since, d.device_id))
            result.rows["expiring"] = out.list_sheet("expiring", EXPIRING_COLUMNS,
                                                     maker.rows(expiring, "expiring"))
            result.rows["activity"] = out.list_sheet("activity", ACTIVITY_COLUMNS, maker.rows(
                lifecycle_events(session, period.start, at), "activity"))
            result.rows["locked_lost"] = out.list_sheet(
                "locked_lost", LOCKED_LOST_COLUMNS,
                maker.rows(open_cases, "locked_lost"))
            # The CA reconciliation is of the CRLs held now (the CA's past lists are not kept)
            mismatches = reconcile(session, now=now,
                                   grace=timedelta(days=ca_grace_days)).mismatches
            result.rows["ca"] = out.list_sheet("ca", CA_COLUMNS, maker.rows(mismatches, "ca"))
            figures_now = month_figures(session, period)
            figures_before = month_figures(session, period.previous())
            month_seal = seal.as_of(session, at)
            if seal_key:
                month_seal = seal.sign(month_seal, seal_key)
            result.seal = month_seal.line
            out.summary(figures_now, figures_before, issuance_trend(session, period), tally,
                        seal=month_seal.line)
            out.by_agency(tally)
            result.rows["by_agency"] = len(tally.rows)
        finally:
            out.close()
