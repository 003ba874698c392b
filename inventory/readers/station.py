"""The writing half of a watching poller: observations go to the register from their own thread.

The hardware loop (``Poller.watch``) never waits on the database: it hands each event to
:meth:`StationSync.submit`, which queues it. The writer thread applies the queue in order, one
transaction per event (so a batch either landed or stays queued and is retried). While the
database is unreachable the queue grows up to ``buffer_limit`` events (the oldest are dropped,
with a warning); when it comes back the queue is caught up. Replaying a batch changes nothing
twice: the sync compares with the register's state (locked is not locked again, a known
certificate is not attached again). The writer also keeps this station's readers and heartbeat
in ``station_readers`` so other screens see them.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import exc

from inventory.readers.sync import (
    SyncReport,
    prune_observations,
    record_station_readers,
    station_heartbeat,
)
from inventory.readers.sync import sync_observations as apply_observations
from inventory.register.db import Register
from inventory.register.errors import ConcurrentChangeError, DatabaseError, TokenfleetError
from inventory.register.models import utcnow

if TYPE_CHECKING:
    from inventory.readers.hardware.observation import Observation, ReaderState

log = logging.getLogger(__name__)

Transient = (DatabaseError, exc.DBAPIError)


@dataclass(frozen=True)
class Batch:
    at: datetime
    observations: tuple[Observation, ...]
    readers: tuple[ReaderState, ...] | None  # None: the readers did not change


class StationSync:
    """Queue + writer thread for one station's poller (``start``/``stop``, or ``run`` yourself)."""

    def __init__(self, register: Register, *, station: str, buffer_limit: int = 10_000,
                 heartbeat_every: float = 30.0, retry_every: float = 1.0,
                 retention: timedelta | None = None,
                 on_report: Callable[[SyncReport], None] | None = None,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.register, self.station = register, station
        self.buffer_limit = buffer_limit
        self.heartbeat_every, self.retry_every = heartbeat_every, retry_every
        self.retention = retention
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

    # ------------------------------------------------------------------ hardware side
    def submit(self, observations: tuple[Observation, ...],
               readers: tuple[ReaderState, ...] | None = None,
               at: datetime | None = None) -> None:
        """Queue one event's observations (and the readers panel if it changed)."""
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

    # ------------------------------------------------------------------ database side
    def flush(self) -> bool:
        """Apply queued batches in order; False when the database is unreachable (kept)."""
        while True:
            with self._wake:
                if not self._pending:
                    return True
                batch = self._pending[0]
            try:
                with self.register.session() as session:
                    report = apply_observations(session, batch.observations, host=self.station)
                    if batch.readers is not None:
                        record_station_readers(session, self.station, batch.readers, batch.at)
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
        try:
            with self.register.session() as session:
                station_heartbeat(session, self.station)
                if self.retention is not None:
                    prune_observations(session, self.retention)
        except Transient as err:
            self._note_outage(str(err).splitlines()[0])
            return False
        return True

    def run(self, stop: threading.Event) -> None:
        """The writer loop: flush on every submit, retry while down, heartbeat regularly."""
        import time

        while True:
            ok = self.flush()
            now = time.monotonic()
            if ok and now - self._last_beat >= self.heartbeat_every and self.heartbeat():
                self._last_beat = now
            if stop.is_set():
                return
            with self._wake:
                if self._pending and ok:
                    continue
                self._wake.wait(self.retry_every if not ok else
                                max(0.05, self.heartbeat_every - (now - self._last_beat)))

    def start(self) -> StationSync:
        self._thread = threading.Thread(target=self.run, args=(self._stop,),
                                        name=f"station-sync-{self.station}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the writer after one last flush attempt (what cannot land is reported)."""
        self._stop.set()
        with self._wake:
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pending:
            self.on_warning(f"{len(self._pending)} observation batch(es) not recorded: the "
                            "register was unreachable")
