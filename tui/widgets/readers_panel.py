"""Readers and cards as they come and go, and the register's device for each card.

A thread worker follows ``Poller.watch`` (``inventory.readers.hardware``) until the panel goes away.
No PC/SC service, no pyscard, a reader failing: the panel says so in its message line and keeps
going; nothing here may take the app down.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label, Static

from inventory.register.errors import TokenfleetError
from inventory.register.models import Device, UnregisteredDevice

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cells, plain


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


def register_sync() -> Any:
    """``inventory.readers.sync.sync_observations`` if that feature is installed, else None."""
    if importlib.util.find_spec("inventory.readers.sync") is None:
        return None
    import inventory.readers.sync

    return getattr(inventory.readers.sync, "sync_observations", None)


def _default_poller() -> Any:
    from inventory.readers.hardware import HardwareConfig, Poller

    return Poller(HardwareConfig(pkcs11_modules=(), wait_timeout=0.5))


class ReadersPanel(ShowsWorkerErrors, Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[CardRow] = []
        self.unregistered: list[CardRow] = []
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
        yield Static(t("readers.sync_on" if register_sync() else "readers.sync_off"),
                     id="readers-sync")

    def on_mount(self) -> None:
        self.follow()
        self.load_unregistered()

    @work(thread=True, exclusive=True, exit_on_error=False, group="unregistered")
    def load_unregistered(self) -> None:
        with ctx(self).register.read() as session:
            rows = [CardRow(u.reader or "", "", u.serial, u.kind, "", False, u.manufacturer,
                            u.model, u.last_seen_at)
                    for u in session.scalars(select(UnregisteredDevice)
                                             .order_by(UnregisteredDevice.last_seen_at.desc())
                                             .limit(200))]
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

    @work(thread=True, exclusive=True, exit_on_error=False, group="readers")
    def follow(self) -> None:
        c = ctx(self)
        t = c.labels
        try:
            poller = (c.poller_factory or _default_poller)()
        except (ImportError, OSError, TokenfleetError) as err:
            self.app.call_from_thread(self._message, t("readers.unavailable", reason=str(err)))
            return
        try:
            sync = register_sync()
            for event in poller.watch(self._stop):
                notes = [t("readers.warning", message=w) for w in event.warnings]
                if sync is not None and event.observations:
                    # the register learns what was seen (last seen, PIN blocked → locked,
                    # unknown devices kept to claim) before the panel shows it
                    with c.register.session() as session:
                        notes += sync(session, event.observations, host=c.host).lines()
                rows = self._match(event)
                self.app.call_from_thread(self._show, rows, notes)
                if sync is not None and event.observations:
                    self.app.call_from_thread(self.load_unregistered)
        except (ImportError, OSError, TokenfleetError) as err:
            self.app.call_from_thread(self._message, t("readers.unavailable", reason=str(err)))
        finally:
            close = getattr(poller, "close", None)
            if callable(close):
                close()

    def _match(self, event: Any) -> list[CardRow]:
        """One row per reader; for each card, the device it is (looked up by serial)."""
        t = ctx(self).labels
        by_reader = {o.reader: o for o in event.observations}
        serials = {o.serial for o in event.observations if o.serial}
        known: dict[tuple[str, str], Device] = {}  # (kind, serial): a serial is unique per kind
        if serials:
            with ctx(self).register.read() as session:
                for d in session.scalars(select(Device).where(Device.serial.in_(serials))):
                    known[(d.kind, d.serial)] = d
                    _ = d.holder  # loaded while the session is open
                rows = self._rows(event, by_reader, known)
            return rows
        return self._rows(event, by_reader, known) if event.readers else [
            CardRow(t("readers.no_readers"), "", None, None, "", True)]

    def _rows(self, event: Any, by_reader: dict[str, Any],
              known: dict[tuple[str, str], Device]) -> list[CardRow]:
        t = ctx(self).labels
        rows = []
        names = [r.name for r in event.readers] + [n for n in by_reader
                                                   if n not in {r.name for r in event.readers}]
        states = {r.name: r for r in event.readers}
        for name in names:
            state, obs = states.get(name), by_reader.get(name)
            serial = obs.serial if obs else (state.serial if state else None)
            card = (obs.profile or t.term("device_kind", obs.kind)) if obs else (
                (state.profile or state.atr or t("desks.card")) if state and state.card_present
                else t("readers.empty"))
            if state is not None and state.error:
                card = f"{card} ({state.error})"
            kind = obs.kind if obs else None
            device = next((d for (k, sn), d in known.items()
                           if sn == serial and (kind is None or k == kind)), None) \
                if serial else None
            if device is not None:
                who = device.holder.full_name if device.holder else ""
                text, is_known = f"{t(f'device_status.{device.status}')} {who}".strip(), True
            elif serial:
                text, is_known = t("readers.unknown_card"), False
            else:
                text = t("readers.unidentified") if (state and state.card_present) else ""
                is_known = True
            rows.append(CardRow(name, card or "", serial, obs.kind if obs else None, text,
                                is_known, getattr(obs, "manufacturer", None),
                                getattr(obs, "model", None)))
        return rows

    def _message(self, text: str) -> None:
        self.query_one("#readers-message", Static).update(plain(text))

    def _show(self, rows: list[CardRow], warnings: list[str]) -> None:
        self.rows = rows
        table = self.query_one("#readers-table", DataTable)
        table.clear()
        for r in rows:
            table.add_row(*cells(r.reader, r.card, r.serial, r.device))
        self._message("\n".join(warnings) if warnings else
                      ctx(self).labels("readers.title") + f": {len(rows)}")
