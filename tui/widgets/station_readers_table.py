"""Every poller station's readers as their pollers last reported them
(``inventory.services.stations.station_readers``).

Pollers on other hosts write their readers to the register; this table re-reads them every few
seconds (heartbeats write no audit event) and when the register announces a change. A station
whose poller stopped sending heartbeats is shown as gone quiet rather than hidden. While the
register is unreachable the table keeps its last rows (the readers panel says why).
"""


from __future__ import annotations

from typing import Any

from sqlalchemy import exc
from textual import work
from textual.widgets import DataTable

from inventory.readers.sync import StationReaderRow
from inventory.register.errors import DatabaseError
from inventory.services.stations import station_readers

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cells as safe_cells

REFRESH_SECONDS = 3.0
COLUMNS = ("col.station", "col.reader", "col.card", "col.serial", "col.updated", "col.alive")


class StationReadersTable(ShowsWorkerErrors, DataTable[Any]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_shown: list[StationReaderRow] = []

    def on_mount(self) -> None:
        t = ctx(self).labels
        for key in COLUMNS:
            self.add_column(t(key), key=key)
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)

    @work(thread=True, exclusive=True, exit_on_error=False, group="station-readers")
    def reload(self) -> None:
        # heartbeats are real time even when the screens' clock is fixed (tests, snapshots)
        try:
            rows = station_readers(ctx(self).register)
        except (DatabaseError, exc.DBAPIError):
            return  # the register is unreachable: keep the last rows (the panel says so)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[StationReaderRow]) -> None:
        t = ctx(self).labels
        self.rows_shown = rows
        cursor = self.cursor_row
        self.clear()
        for r in rows:
            style = "" if r.alive else "dim"
            card = (r.profile or t("stations.card")) if r.card_present else t("readers.empty")
            if r.error:
                card = f"{card} ({r.error})"
            cells = (r.station, r.reader, card, r.serial or "",
                     t.datetime(r.updated_at, seconds=True),
                     t("stations.alive") if r.alive else t("stations.quiet"))
            self.add_row(*safe_cells(*cells, style=style))
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
