"""The one date parser: what people type and what spreadsheets hold, as aware datetimes.

People write ``dd/mm/yyyy`` (Vietnamese forms), ``yyyy-mm-dd`` or ``dd-mm-yyyy``/``dd.mm.yyyy``;
exports carry ISO date-times; Excel cells arrive as ``date``/``datetime``. A value without a
time zone is taken as UTC (a bare date is UTC midnight). Anything else raises
``ValidationError`` naming the value (and what it was for).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from inventory.register.errors import ValidationError

FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S%z",
           "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f%z")
HINT = "dd/mm/yyyy or yyyy-mm-dd"


def utcnow() -> datetime:
    """Now, aware, in UTC: the register's clock."""
    return datetime.now(UTC)


def parse_date(value: str | date, what: str = "") -> datetime:
    """A date (or date-time) as an aware datetime; ``what`` names it in the error."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    for fmt in FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValidationError(f"{what + ' ' if what else ''}{text!r} is not a date ({HINT})")


def cell_date(value: object, what: str = "") -> datetime | None:
    """A spreadsheet cell as a date: None when the cell is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value if isinstance(value, date) else str(value), what)
