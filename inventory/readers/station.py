"""One poller station: the readers of one PC, kept in the register.

A station is a PC with readers (the ``tokenfleet-poller`` service, ``poll --once``, or the TUI's
readers screen). :class:`StationPoller` is the one pipeline from its readers to the register:

    hardware poller ──events──▶ queue ──writer thread──▶ sync (lifecycle moves, last seen,
      (scan_once / watch)       (bounded buffer           unregistered devices, stocktake)
                                 while the database        + station_readers rows, heartbeat,
                                 is down)                  observation retention

``poll_once`` reads once and writes at once, in the caller's thread (a database error is the
caller's to report). ``watch`` never waits on the database: each event is queued and yielded at
once, so a screen shows the card before the register has learnt it. The writer thread applies the
queue in order, one transaction per event (a batch either landed or stays queued and is retried).
While the database is unreachable the queue grows up to ``buffer_limit`` events (the oldest are
dropped, with a warning); when it comes back the queue is caught up. Replaying a batch changes
nothing twice: the sync compares with the register's state (locked is not locked again, a known
certificate is not attached again). The writer also beats the station's heartbeat and drops raw
observations older than the retention.

The hardware package is imported only when a poller is made (it loads pyscard and PKCS#11).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import exc
from sqlalchemy.orm import Session

from inventory.readers.sync import (
    SyncReport,
    prune_observations,
    record_station_readers,
    station_heartbeat,
    sync_observations,
)
from inventory.register.db import Register
from inventory.register.errors import ConcurrentChangeError, DatabaseError, TokenfleetError
from inventory.register.models import utcnow

if TYPE_CHECKING:
    from inventory.readers.hardware import HardwareConfig
    from inventory.readers.hardware.observation import Observation, ReaderState, ScanResult
    from inventory.readers.hardware.poller import WatchEvent

log = logging.getLogger(__name__)

Transient = (DatabaseError, exc.DBAPIError)
"""What a database outage looks like: the batch stays queued and is retried."""


class ReaderSource(Protocol):
    """What the station needs from a hardware poller (``inventory.readers.hardware.Poller``;
    tests feed scripted ones)."""

    def watch(self, stop: threading.Event) -> Iterator[WatchEvent]: ...


@dataclass(frozen=True)
class Batch:
    at: datetime
    observations: tuple[Observation, ...]
    readers: tuple[ReaderState, ...] | None  # None: the readers did not change


@dataclass(frozen=True)
class PollResult:
    """One pass of ``poll --once``: what the sync did and the readers as they were."""

    report: SyncReport
    readers: tuple[ReaderState, ...]


class StationPoller:
    """The one pipeline from a station's readers to the register (see the module docstring).

    ``config`` says which sources to read (PC/SC readers are recorded as the station's reader
    rows only when PC/SC is read); ``poller_factory`` replaces the hardware poller (tests).
    """

    def __init__(self, register: Register, *, station: str,
                 config: HardwareConfig | None = None,
                 poller_factory: Callable[[], ReaderSource] | None = None,
                 retention: timedelta | None = None, buffer_limit: int = 10_000,
                 heartbeat_every: float = 30.0, retry_every: float = 1.0,
                 on_report: Callable[[SyncReport], None] | None = None,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.register, self.station, self.config = register, station, config
        self.poller_factory = poller_factory
        self.records_readers = config.use_pcsc if config is not None else True
        self.retention = retention
        self.buffer_limit = buffer_limit
        self.heartbeat_every, self.retry_every = heartbeat_every, retry_every
        self.on_report = on_report or (lambda _r: None)
        self.on_warning = on_warning or (lambda m: log.warning("%s", m))
        self._pending: deque[Batch] = deque()
        self._wake = threading.Condition()
        self._last_readers: tuple[ReaderState, ...] | None = None
        self._last_beat = 0.0
        self._outage = False
        self.dropped = 0
        self.landed = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------------ the hardware
    def _poller(self) -> ReaderSource:
        if self.poller_factory is not None:
            return self.poller_factory()
        from inventory.readers.hardware import Poller

        return Poller(self.config)

    def poll_once(self) -> PollResult:
        """Read every configured source once and write what was seen (``poll --once``)."""
        from inventory.readers.hardware import Poller

        with Poller(self.config) as poller:
            result: ScanResult = poller.scan_once()
        with self.register.session() as session:
            report = sync_observations(session, result.observations, host=self.station)
            report.warnings[:0] = list(result.warnings)
            self._record_readers(session, result.readers if self.records_readers else None,
                                 result.finished_at or utcnow())
            self._prune(session)
        return PollResult(report, result.readers)

    def watch(self, stop: threading.Event) -> Iterator[WatchEvent]:
        """Follow the readers until ``stop`` is set; every event is queued for the register and
        yielded at once (to print or show it). The writer runs while the generator does."""
        poller = self._poller()
        self.start()
        try:
            for event in poller.watch(stop):
                self.submit(event.observations,
                            event.readers if self.records_readers else None, event.at)
                yield event
        finally:
            close = getattr(poller, "close", None)
            if callable(close):
                close()
            self.stop()

    # ------------------------------------------------------------------ the queue
    def submit(self, observations: tuple[Observation, ...],
               readers: tuple[ReaderState, ...] | None = None,
               at: datetime | None = None) -> None:
        """Queue one event's observations (and the station's readers if they changed)."""
        if readers is not None and readers == self._last_readers:
            readers = None
        elif readers is not None:
            self._last_readers = readers
        if not observations and readers is None:
            return
        with self._wake:
            if len(self._pending) >= self.buffer_limit:
                self._pending.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    self.on_warning(f"register unreachable and {self.buffer_limit} events "
                                    f"buffered: dropped the oldest ({self.dropped} so far)")
            self._pending.append(Batch(at or utcnow(), observations, readers))
            self._wake.notify()

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------------ the register
    def _record_readers(self, session: Session, readers: tuple[ReaderState, ...] | None,
                        at: datetime) -> None:
        if readers is not None:
            record_station_readers(session, self.station, readers, at)
        else:
            station_heartbeat(session, self.station, at)

    def _prune(self, session: Session) -> None:
        if self.retention is not None:
            prune_observations(session, self.retention)

    def flush(self) -> bool:
        """Apply queued batches in order; False when the database is unreachable (kept)."""
        while True:
            with self._wake:
                if not self._pending:
                    return True
                batch = self._pending[0]
            try:
                with self.register.session() as session:
                    report = sync_observations(session, batch.observations, host=self.station)
                    if batch.readers is not None:  # as seen then; alive now (it was buffered?)
                        record_station_readers(session, self.station, batch.readers, batch.at)
                        station_heartbeat(session, self.station)
            except ConcurrentChangeError as err:  # retried after the pause
                self._note_outage(str(err))
                return False
            except Transient as err:
                self._note_outage(str(err).splitlines()[0])
                return False
            except TokenfleetError as err:  # cannot ever land: say so, do not block the queue
                self.on_warning(f"observations not recorded: {err}")
                report = None
            with self._wake:
                if self._pending and self._pending[0] is batch:
                    self._pending.popleft()
            if self._outage:
                self._outage = False
                self.on_warning("register reachable again: catching up")
            self.landed += 1
            if report is not None:
                self.on_report(report)

    def _note_outage(self, reason: str) -> None:
        if not self._outage:
            self._outage = True
            self.on_warning(f"register unreachable, buffering observations: {reason}")

    def heartbeat(self) -> bool:
        """Tell the register this station's poller is alive; drop expired observations."""
        try:
            with self.register.session() as session:
                station_heartbeat(session, self.station)
                self._prune(session)
        except Transient as err:
            self._note_outage(str(err).splitlines()[0])
            return False
        return True

    # ------------------------------------------------------------------ the writer thread
    def run(self, stop: threading.Event) -> None:
        """The writer loop: flush on every submit, retry while down, heartbeat regularly."""
        while True:
            ok = self.flush()
            now = time.monotonic()
            if ok and now - self._last_beat >= self.heartbeat_every and self.heartbeat():
                self._last_beat = now
            if stop.is_set():
                if ok:
                    self.flush()  # what was queued while the heartbeat was written
                return
            with self._wake:
                if self._pending and ok:
                    continue
                self._wake.wait(self.retry_every if not ok else
                                max(0.05, self.heartbeat_every - (now - self._last_beat)))

    def start(self) -> StationPoller:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(self._stop,),
                                        name=f"station-{self.station}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the writer after one last flush attempt (what cannot land is reported)."""
        self._stop.set()
        with self._wake:
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pending:
            self.on_warning(f"{len(self._pending)} observation batch(es) not recorded: the "
                            "register was unreachable")
