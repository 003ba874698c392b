"""Readers and cards as they come and go, and the register's device for each card.

This TUI is a poller station while the panel is shown: a thread worker runs the station's one
pipeline (``inventory.services.stations.station_poller``, as ``tokenfleet poll --watch`` does),
which writes what the readers see to the register from its own writer thread — buffered while
the database is down — and keeps this station's reader rows, heartbeat and observation retention.
The panel shows each event's cards at once, and matches them to the register's devices again
when the station reports that the batch landed (:class:`ReadersPanel.Landed`).

No PC/SC service, no pyscard, a reader failing, the register unreachable: the panel says so in
its message line and keeps going; nothing here may take the app down.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from inventory.readers.station import ReaderSource
from inventory.readers.sync import SyncReport
from inventory.register.errors import DatabaseError, TokenfleetError
from inventory.services import stations
from inventory.services.stations import CardDevice
from inventory.services.unregistered import unregistered_devices

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cells, plain

if TYPE_CHECKING:  # the hardware package loads pyscard: only the station's poller needs it
    from inventory.readers.hardware.observation import Observation, ReaderState


@dataclass(frozen=True)
class CardRow:
    reader: str
    card: str
    serial: str | None
    kind: str | None
    device: str  # status and holder, or why there is none
    known: bool
    manufacturer: str | None = None
    model: str | None = None
    seen_at: datetime | None = None


@dataclass(frozen=True)
class Seen:
    """What the readers show now: the last event's readers and observations."""

    readers: tuple[ReaderState, ...] = ()
    observations: tuple[Observation, ...] = ()


def _default_poller() -> ReaderSource:
    from inventory.readers.hardware import HardwareConfig, Poller

    return Poller(HardwareConfig(pkcs11_modules=(), wait_timeout=0.5))


class ReadersPanel(ShowsWorkerErrors, Vertical):
    @dataclass
    class Landed(Message):
        """The station wrote a batch to the register (posted from its writer thread)."""

        report: SyncReport

    @dataclass
    class Warned(Message):
        """The station has something to say: the register unreachable, back, a batch lost."""

        text: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[CardRow] = []
        self.unregistered: list[CardRow] = []
        self.seen = Seen()
        self.event_notes: list[str] = []  # the last event's warnings (a reader failing …)
        self.station_notes: list[str] = []  # what the last batch changed, or the outage
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        yield Static(t("readers.waiting"), id="readers-message", markup=False)
        table: DataTable[str] = DataTable(id="readers-table", cursor_type="row")
        for col in ("col.reader", "col.card", "col.serial", "col.device"):
            table.add_column(t(col))
        yield table
        yield Label(t("readers.unregistered"), classes="section-title")
        unregistered: DataTable[str] = DataTable(id="unregistered-table", cursor_type="row")
        for col in ("col.serial", "col.kind", "col.last_seen", "col.reader"):
            unregistered.add_column(t(col))
        yield unregistered
        yield Static(t("readers.station", station=ctx(self).host), id="readers-sync",
                     markup=False)

    def on_mount(self) -> None:
        self.follow()
        self.load_unregistered()

    @work(thread=True, exclusive=True, exit_on_error=False, group="unregistered")
    def load_unregistered(self) -> None:
        rows = [CardRow(u.reader or "", "", u.serial, u.kind, "", False, u.manufacturer, u.model,
                        u.last_seen_at)
                for u in unregistered_devices(ctx(self).register, limit=200)]
        self.app.call_from_thread(self._show_unregistered, rows)

    def _show_unregistered(self, rows: list[CardRow]) -> None:
        self.unregistered = rows
        table = self.query_one("#unregistered-table", DataTable)
        table.clear()
        t = ctx(self).labels
        for r in rows:
            table.add_row(*cells(r.serial, t.term("device_kind", r.kind),
                                 t.datetime(r.seen_at), r.reader))

    def on_unmount(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()

    @property
    def selected(self) -> CardRow | None:
        """The row under the cursor of the focused table (live cards, or seen-unregistered)."""
        table = self.query_one("#readers-table", DataTable)
        rows = self.rows
        if self.screen.focused is self.query_one("#unregistered-table", DataTable):
            table, rows = self.query_one("#unregistered-table", DataTable), self.unregistered
        if not rows or not 0 <= table.cursor_row < len(rows):
            return None
        return rows[table.cursor_row]

    # ------------------------------------------------------------------ the station
    def _post(self, message: Message) -> None:
        """From the station's writer thread; the app may be gone by then."""
        with contextlib.suppress(RuntimeError):  # the event loop closed at exit
            self.post_message(message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="readers")
    def follow(self) -> None:
        c = ctx(self)
        t = c.labels
        station = stations.station_poller(
            c.register, station=c.host, poller_factory=c.poller_factory or _default_poller,
            retention_days=c.observation_retention_days,
            on_report=lambda report: self._post(self.Landed(report)),
            on_warning=lambda text: self._post(self.Warned(text)))
        try:
            for event in station.watch(self._stop):
                self.seen = Seen(event.readers, event.observations)
                self.event_notes = [t("readers.warning", message=w) for w in event.warnings]
                self.app.call_from_thread(self._show, self._match(self.seen))
        except (ImportError, OSError, TokenfleetError) as err:
            self.app.call_from_thread(self._message, t("readers.unavailable", reason=str(err)))

    def on_readers_panel_landed(self, message: Landed) -> None:
        """The register learnt what was seen (last seen, PIN blocked → locked, unknown devices
        kept to claim): match the cards again and list the unregistered ones."""
        self.station_notes = message.report.lines()
        self.rematch()
        if message.report.unregistered:
            self.load_unregistered()

    def on_readers_panel_warned(self, message: Warned) -> None:
        self.station_notes = [ctx(self).labels("readers.warning", message=message.text)]
        self._message(self._notes_text(len(self.rows)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="readers-match")
    def rematch(self) -> None:
        rows = self._match(self.seen)
        self.app.call_from_thread(self._show, rows)

    # ------------------------------------------------------------------ cards → devices
    def _match(self, seen: Seen) -> list[CardRow]:
        """One row per reader; for each card, the device it is (looked up by serial)."""
        t = ctx(self).labels
        serials = {o.serial for o in seen.observations if o.serial}
        if not serials:
            return self._rows(seen, {}) if seen.readers else [
                CardRow(t("readers.no_readers"), "", None, None, "", True)]
        try:
            known = stations.devices_by_serial(ctx(self).register, serials)
        except (DatabaseError, exc.DBAPIError):  # the station buffers; show the cards anyway
            return self._rows(seen, None)
        return self._rows(seen, known)

    def _rows(self, seen: Seen, known: dict[tuple[str, str], CardDevice] | None
              ) -> list[CardRow]:
        """``known`` is None when the register could not be asked."""
        t = ctx(self).labels
        by_reader = {o.reader: o for o in seen.observations}
        names = [r.name for r in seen.readers] + [n for n in by_reader
                                                  if n not in {r.name for r in seen.readers}]
        states = {r.name: r for r in seen.readers}
        rows = []
        for name in names:
            state, obs = states.get(name), by_reader.get(name)
            serial = obs.serial if obs else (state.serial if state else None)
            card = (obs.profile or t.term("device_kind", obs.kind)) if obs else (
                (state.profile or state.atr or t("stations.card")) if state and state.card_present
                else t("readers.empty"))
            if state is not None and state.error:
                card = f"{card} ({state.error})"
            rows.append(self._row(name, card or "", serial, obs, state, known))
        return rows

    def _row(self, name: str, card: str, serial: str | None, obs: Observation | None,
             state: ReaderState | None, known: dict[tuple[str, str], CardDevice] | None
             ) -> CardRow:
        t = ctx(self).labels
        kind = obs.kind if obs else None
        device = _device(known or {}, serial, kind)
        if device is not None:
            text, is_known = (f"{t(f'device_status.{device.status}')} {device.holder or ''}"
                              .strip(), True)
        elif serial and known is None:
            text, is_known = "", True  # not looked up: nothing to claim yet
        elif serial:
            text, is_known = t("readers.unknown_card"), False
        else:
            text = t("readers.unidentified") if (state and state.card_present) else ""
            is_known = True
        return CardRow(name, card, serial, kind, text, is_known,
                       obs.manufacturer if obs else None, obs.model if obs else None)

    def _message(self, text: str) -> None:
        self.query_one("#readers-message", Static).update(plain(text))

    def _notes_text(self, n_rows: int) -> str:
        notes = self.event_notes + self.station_notes
        return "\n".join(notes) if notes else ctx(self).labels("readers.title") + f": {n_rows}"

    def _show(self, rows: list[CardRow]) -> None:
        self.rows = rows
        table = self.query_one("#readers-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(*cells(r.reader, r.card, r.serial or "", r.device))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
        self._message(self._notes_text(len(rows)))


def _device(known: dict[tuple[str, str], CardDevice], serial: str | None,
            kind: str | None) -> CardDevice | None:
    """A serial is unique per kind; a card whose kind was not read matches either."""
    if not serial:
        return None
    if kind is not None:
        return known.get((kind, serial))
    return next((d for (_k, sn), d in known.items() if sn == serial), None)
