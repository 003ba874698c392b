"""What every command shares: settings, the register (opened on first use), output helpers."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from inventory.register import dates
from inventory.register.config import Settings, default_database_url
from inventory.register.errors import ValidationError
from inventory.register.text import csv_safe

if TYPE_CHECKING:  # SQLAlchemy and the models are imported when the register is opened: a
    # command that forks first (``tokenfleet tui``, ``tui.early``) has not paid for them yet
    from sqlalchemy import Engine

    from inventory.register.access import Identity
    from inventory.register.db import Register

FORMATS = click.Choice(["table", "json", "csv"])


@dataclass
class AppContext:
    settings: Settings
    claimed_as: str = "--actor "  # how the user said who they are, for the refusal message
    _register: Register | None = field(default=None, repr=False)
    _identity: Identity | None = field(default=None, repr=False)
    explicit_db: bool = False
    """The register was named (``--db``/``TOKENFLEET_DATABASE_URL``): it is never created by
    accident; only ``db upgrade`` and ``demo`` may create it."""

    @classmethod
    def create(cls, *, db_url: str | None = None, actor: str | None = None) -> AppContext:
        settings = Settings.from_env()
        if db_url:
            settings = replace(settings, database_url=db_url)
        claimed_as = "--actor " if actor else "TOKENFLEET_ACTOR="
        if actor:
            from inventory.register import checks

            settings = replace(settings, actor=checks.actor(actor))
        # Anything but the default embedded register was named by someone, and may be a typo.
        return cls(settings, claimed_as,
                   explicit_db=settings.database_url != default_database_url())

    def identity(self) -> Identity:
        """Who is connected (the login on PostgreSQL, the OS user on SQLite); a claimed
        ``--actor``/``TOKENFLEET_ACTOR`` that names someone else is refused here."""
        if self._identity is None:
            from inventory.register import access

            with self.register().read() as session:
                identity = access.identify(session)
            access.check_claim(identity, self.settings.actor, self.claimed_as)
            self._identity = identity
        return self._identity

    @property
    def actor(self) -> str:
        return self.identity().name

    def register(self, *, auto_upgrade: bool | None = None, create: bool = False,
                 existing: bool = False) -> Register:
        """The register, opened once. The embedded default is created and upgraded on first
        use; a register named explicitly must exist unless ``create`` (db upgrade, demo);
        ``existing``: only one that exists at the current schema (nothing created, nothing
        upgraded). A claimed actor is checked as soon as it is opened, whatever the command."""
        if self._register is None:
            from inventory.register.db import Register

            self._register = Register.open(
                self.settings.database_url, auto_upgrade=False if existing else auto_upgrade,
                create=not existing and (create or not self.explicit_db))
            if self.settings.actor:
                self.identity()
        return self._register

    def engine(self, *, create: bool = False) -> Engine:
        """A bare engine (schema and backup commands), under the same creation rule."""
        from inventory.register.db import make_engine

        return make_engine(self.settings.database_url, create=create or not self.explicit_db)

    def close(self) -> None:
        if self._register is not None:
            self._register.dispose()
            self._register = None


pass_app = click.make_pass_decorator(AppContext)


def parse_date(value: str) -> datetime:
    """A date typed on the command line (``inventory.register.dates``: ``YYYY-MM-DD``,
    ``dd/mm/yyyy`` …); a bad one is a usage error (exit 2), as a bad option value is."""
    try:
        return dates.parse_date(value)
    except ValidationError as err:
        raise click.BadParameter(str(err)) from err


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def emit(records: Iterable[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> int:
    """Print records as an aligned table, JSON (one array) or CSV; returns how many."""
    out = sys.stdout
    if fmt == "json":
        rows = [{k: _plain(v) for k, v in r.items()} for r in records]
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return len(rows)
    if fmt == "csv":
        writer: csv.DictWriter[str] | None = None
        n = 0
        for r in records:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(columns or r.keys()),
                                        extrasaction="ignore")
                writer.writeheader()
            writer.writerow({k: csv_safe(_plain(v)) for k, v in r.items()})
            n += 1
        return n
    rows = list(records)
    if not rows:
        click.echo("(nothing)")
        return 0
    cols = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [min(max(len(c), *(len(row[i]) for row in cells)), 40) for i, c in enumerate(cols)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return len(rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
