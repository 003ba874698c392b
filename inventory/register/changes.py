"""Seeing other desks' work without pressing refresh.

Every change appends to the audit trail, so "what changed" is "events after the chain position
I last saw". On PostgreSQL a trigger announces each append (``LISTEN tokenfleet_changes``) and a
watcher wakes at once; on SQLite the watcher checks the one-row ``audit_head`` (a primary-key
read, microseconds) a few times a second, which works across processes on one machine.
"""

from __future__ import annotations

import select as selectmod
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from inventory.register.db import Register
from inventory.register.models import AuditHead, Event

CHANNEL = "tokenfleet_changes"
SQLITE_CHECK_INTERVAL = 0.25


@dataclass(frozen=True)
class Changes:
    """What other writers did since the last look."""

    seq: int
    device_ids: frozenset[int]
    actions: frozenset[str]


class ChangeWatcher:
    """Blocks in :meth:`wait` until the register changed (or the timeout passed)."""

    def __init__(self, register: Register, since: int | None = None):
        self.register = register
        self.seq = self.head() if since is None else since
        self._listener: Any = None

    def head(self) -> int:
        return self.head_of(self.register)

    @staticmethod
    def head_of(register: Register) -> int:
        """The sequence number of the newest change in the trail (0 when empty). A Core query
        on the table's columns: it needs no ORM mapper configured (~50 ms on a process's first
        ORM query), as the first read of ``tokenfleet tui``'s early reader (``tui.early``)."""
        head = AuditHead.__table__.c
        with register.engine.connect() as conn:
            return conn.scalar(select(head.last_seq).where(head.id == 1)) or 0

    def _listen(self) -> Any:
        if self._listener is None:
            import psycopg

            url = self.register.engine.url.set(drivername="postgresql")
            self._listener = psycopg.connect(url.render_as_string(hide_password=False),
                                             autocommit=True, connect_timeout=5)
            self._listener.execute(f"LISTEN {CHANNEL}")
        return self._listener

    def _block(self, timeout: float) -> None:
        if self.register.engine.dialect.name != "postgresql":
            deadline = time.monotonic() + timeout
            while self.head() <= self.seq and time.monotonic() < deadline:
                time.sleep(min(SQLITE_CHECK_INTERVAL, max(deadline - time.monotonic(), 0)))
            return
        conn = self._listen()
        ready, _, _ = selectmod.select([conn.pgconn.socket], [], [], timeout)
        if ready:
            for _ in conn.notifies(timeout=0):
                pass

    def wait(self, timeout: float = 1.0) -> Changes | None:
        """The changes since the last call, waiting up to ``timeout`` seconds for some."""
        if self.head() <= self.seq:
            try:
                self._block(timeout)
            except Exception:  # a lost listener: fall back to the head check next time
                self.close()
        head = self.head()
        if head <= self.seq:
            return None
        with self.register.engine.connect() as conn:
            rows = conn.execute(select(Event.device_id, Event.action)
                                .where(Event.seq > self.seq, Event.seq <= head)).all()
        self.seq = head
        return Changes(seq=head, device_ids=frozenset(d for d, _ in rows if d is not None),
                       actions=frozenset(a for _, a in rows))

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None
