"""The start screen's first reads, done by a second process while the interface is built.

``tokenfleet tui`` used to spend its first second importing SQLAlchemy and the register's
models, then Textual, then laying out the screen — one after the other, on one core. Now the
command forks first (``begin``): the child opens the register (only as it is: it creates and
upgrades nothing, the app's own open does that), reads the head of the audit trail, then each
of the start screen's reads — every dashboard figure, the cheap counts first; or the devices
list's first page and its count — through the same service functions the screens call, and
sends each answer up a pipe as soon as it has it; then it exits. Meanwhile the app imports only
Textual and lays out its first frame, which shows an answer that is in (and takes the others as
they come). It opens the register itself once that frame is painted and the first answer is
in — not before, so that its own imports do not slow the reader down — and every later read is
its own.

Nothing is missed: the change watcher starts from the head the child read before its first
read, so a change made in between reaches the screen like any other. A read the child could
not answer (it failed, or there is no ``fork`` here) is ``Unanswered``: the screen reads it
itself, and shows its own error if there is one.

No Textual and no SQLAlchemy at import: this module is imported before either.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeGuard

from inventory.register.dates import utcnow

if TYPE_CHECKING:
    from inventory.fleet.listing import Page
    from inventory.register.db import Register

WINDOW = 60  # rows the devices table holds: a tall terminal shows about 40
STARTS = ("dashboard", "devices")  # the start screens whose first frame shows the register
WAIT = 10.0  # seconds the app waits for the reader's first answer before it connects itself
_HEADER = struct.Struct(">I")


class Unanswered(Exception):
    """The early reader did not answer this read: the screen reads it itself."""


def first_page(register: Register) -> Page:
    """The devices list as it opens: no filter, in id order."""
    from inventory.fleet.listing import DeviceFilter
    from inventory.services.devices import device_page

    return device_page(register, DeviceFilter(), limit=WINDOW)


def device_total(register: Register) -> int:
    """How many devices the list holds as it opens (its position line's "of N")."""
    from inventory.fleet.listing import DeviceFilter
    from inventory.services.devices import count_devices

    return count_devices(register, DeviceFilter())


def reads(start: str, now: datetime) -> dict[str, Callable[[Register], Any]]:
    """The ``start`` screen's first reads by name, in the order they are read and shown."""
    if start == "dashboard":
        from inventory.services.dashboard import figure_reads

        return figure_reads(now)
    if start == "devices":
        return {"first-page": first_page, "count": device_total}
    return {}


@dataclass
class EarlyRead:
    """The answers as they come in: the trail's head before the first read, and one future
    per read (taken once, by the screen that shows it)."""

    since: Future[int] = field(default_factory=Future)
    first: threading.Event = field(default_factory=threading.Event)
    """Set when the first answer is in (or none will come): the app connects only then, so
    that its own imports do not slow the reader down."""
    _futures: dict[str, Future[Any]] = field(default_factory=dict)
    _taken: set[str] = field(default_factory=set)
    _ended: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, name: str) -> Future[Any] | None:
        """The answer to read ``name``, perhaps still to come; None once taken, or when the
        reader has ended without it."""
        with self._lock:
            if name in self._taken or (self._ended and name not in self._futures):
                return None
            self._taken.add(name)
            return self._futures.setdefault(name, Future())

    def answer(self, name: str, value: Any) -> None:
        with self._lock:
            future = self._futures.setdefault(name, Future())
        if not future.done():
            future.set_result(value)
        self.first.set()

    def end(self) -> None:
        """No more answers: a read not answered is read by its screen."""
        with self._lock:
            self._ended = True
            futures = [*self._futures.values(), self.since]
        for future in futures:
            if not future.done():
                future.set_exception(Unanswered())
        self.first.set()


def answered(value: Future[Any] | None) -> TypeGuard[Future[Any]]:
    """Whether an early read's answer is in (and not an error): the screen shows it at once,
    in its first frame; otherwise its worker waits for it."""
    return value is not None and value.done() and value.exception() is None


def result_or(value: Future[Any] | None, read: Callable[[], Any]) -> Any:
    """The early answer if there is one; else (none begun, or ``Unanswered``) ``read()``."""
    if value is not None:
        try:
            return value.result()
        except Unanswered:
            pass
    return read()


def begin(open_register: Callable[[], Register], start: str,
          now: datetime | None = None) -> EarlyRead | None:
    """Fork the reader of the ``start`` screen's first reads (None: the screen has none, or
    this system cannot fork), as of ``now`` (default: the clock's now; tests fix it, as they
    fix the app's). Call it before any thread or database connection exists."""
    if start not in STARTS or not hasattr(os, "fork"):
        return None
    receive_fd, send_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(receive_fd)
        os.close(send_fd)
        return None
    if pid == 0:  # the reader
        os.close(receive_fd)
        _read_and_send(send_fd, open_register, start, now)  # never returns
    os.close(send_fd)
    early = EarlyRead()
    threading.Thread(target=_receive, args=(receive_fd, pid, early), name="early reads",
                     daemon=True).start()
    return early


def _read_and_send(fd: int, open_register: Callable[[], Register], start: str,
                   now: datetime | None) -> None:
    """The child: open, read, send each answer; exit without running anything of the
    parent's (no atexit, no buffered output flushed twice)."""
    try:
        gc.disable()  # a short-lived process: collecting would only slow the imports
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)  # the terminal is the app's
        os.dup2(quiet, 2)
        from inventory.register.changes import ChangeWatcher

        register = open_register()
        _send(fd, "since", ChangeWatcher.head_of(register))
        for name, read in reads(start, now or utcnow()).items():
            _send(fd, name, read(register))
    except BaseException:  # whatever it is, the screens read for themselves
        pass
    finally:
        os._exit(0)


def _send(fd: int, name: str, value: Any) -> None:
    data = pickle.dumps((name, value), protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int, pid: int, early: EarlyRead) -> None:
    """The parent's side: each answer into its future as it arrives. The answers are plain
    values (``inventory.services.figures``, ``inventory.fleet.listing``): unpacking them imports
    no SQLAlchemy — but the alert run's, which comes last."""
    try:
        with os.fdopen(fd, "rb") as pipe:
            while header := pipe.read(_HEADER.size):
                if len(header) < _HEADER.size:
                    break
                (size,) = _HEADER.unpack(header)
                body = pipe.read(size)
                if len(body) < size:
                    break
                try:
                    name, value = pickle.loads(body)
                except Exception:  # not unpacked: its screen reads it
                    continue
                if name == "since":
                    early.since.set_result(value)
                else:
                    early.answer(name, value)
    except OSError:
        pass
    finally:
        early.end()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
