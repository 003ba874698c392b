"""What every command shares: settings, the register (opened on first use), output helpers."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import click

from inventory.register import dates
from inventory.register.config import Settings
from inventory.register.db import Register
from inventory.register.errors import ValidationError

FORMATS = click.Choice(["table", "json", "csv"])


@dataclass
class AppContext:
    settings: Settings
    _register: Register | None = field(default=None, repr=False)

    @classmethod
    def create(cls, *, db_url: str | None = None, actor: str | None = None) -> AppContext:
        settings = Settings.from_env()
        if db_url:
            settings = replace(settings, database_url=db_url)
        if actor:
            settings = replace(settings, actor=actor)
        return cls(settings)

    @property
    def actor(self) -> str:
        return self.settings.actor

    def register(self, *, auto_upgrade: bool | None = None) -> Register:
        """The register, opened once; the embedded SQLite default is created/upgraded."""
        if self._register is None:
            self._register = Register.open(self.settings.database_url,
                                           auto_upgrade=auto_upgrade)
        return self._register

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
            writer.writerow({k: _plain(v) for k, v in r.items()})
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
