"""Scan and watch: the API the CLI and the TUI call.

``scan_once`` reads everything present once. ``Poller.watch`` blocks in SCardGetStatusChange
(at most ``wait_timeout`` seconds at a time, so a stop flag or SIGINT is honoured and an idle
watcher costs next to no CPU), reads a card when it arrives, lists PKCS#11 slots every
``pkcs11_interval`` seconds (modules may not support slot events), and re-reads what is present
every ``refresh_interval`` seconds (a card left in the reader can get blocked by another program).

Failures are survived, never hidden: pcscd absent or restarted → a warning in the event and in
the log (once per outage) and the context is rebuilt; a card pulled mid-read → no observation at
all (never half a device); a PKCS#11 module that cannot load → a warning, the others go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from inventory.readers.hardware.atr import lookup_atr
from inventory.readers.hardware.observation import (
    Observation,
    ReaderState,
    ScanResult,
    format_atr,
    utcnow,
)
from inventory.readers.hardware.p11 import Pkcs11Module, SlotSummary
from inventory.readers.hardware.pcsc import (
    MAX_WATCHED_READERS,
    PNP_NOTIFICATION,
    PcscClient,
    ReaderStatus,
)
from inventory.readers.hardware.profiles import read_card
from inventory.readers.hardware.tlv import TlvError
from inventory.register.errors import (
    CardRemovedError,
    PcscUnavailableError,
    Pkcs11ModuleError,
    ReaderError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HardwareConfig:
    """Which sources to poll and how often; the CLI builds it from settings and flags."""

    use_pcsc: bool = True
    pkcs11_modules: tuple[str, ...] = ()
    wait_timeout: float = 1.0  # longest block in pcscd: how fast stop/SIGINT is honoured
    pkcs11_interval: float = 2.0  # slot listing in watch mode
    pkcs11_reinit_interval: float = 60.0  # C_Finalize/C_Initialize: tokens made by others appear
    refresh_interval: float = 60.0  # re-read everything present (PIN state of cards left in)


@dataclass(frozen=True)
class WatchEvent:
    """Something changed: new observations, devices gone, or a warning. ``readers`` is the
    whole readers panel as it is now."""

    at: datetime
    readers: tuple[ReaderState, ...]
    observations: tuple[Observation, ...] = ()
    removed: tuple[str, ...] = ()  # PC/SC reader names or PKCS#11 slot names emptied
    warnings: tuple[str, ...] = ()


@dataclass
class _WatchState:
    known: dict[str, ReaderStatus] = field(default_factory=dict)
    states: list[tuple[str, int]] = field(default_factory=list)
    relist: bool = True
    pnp: bool = True
    slots: dict[tuple[str, int], SlotSummary] = field(default_factory=dict)
    last_p11: float = 0.0
    last_reinit: float = 0.0
    last_refresh: float = 0.0
    outage: bool = False
    broken_modules: set[str] = field(default_factory=set)


class Poller:
    """Owns the PC/SC context and the loaded PKCS#11 modules; not thread-safe (one per loop)."""

    def __init__(self, config: HardwareConfig | None = None) -> None:
        self.config = config or HardwareConfig()
        self._pcsc = PcscClient() if self.config.use_pcsc else None
        self._modules = [Pkcs11Module(p) for p in self.config.pkcs11_modules]
        self._readers: dict[str, ReaderState] = {}
        self._stop = threading.Event()

    # ------------------------------------------------------------------ one pass
    def scan_once(self) -> ScanResult:
        started = utcnow()
        observations: list[Observation] = []
        warnings: list[str] = []
        if self._pcsc is not None:
            try:
                names = self._pcsc.list_readers()
                statuses: list[ReaderStatus] = []
                for i in range(0, len(names), 16):
                    statuses += self._pcsc.status_now(names[i : i + 16])
                self._readers = {}
                for st in statuses:
                    obs, warning = self._read_reader(st, started)
                    if obs is not None:
                        observations.append(obs)
                    if warning:
                        warnings.append(warning)
            except PcscUnavailableError as exc:
                warnings.append(str(exc))
            except ReaderError as exc:  # a reader vanished between listing and status
                warnings.append(str(exc))
        for module in self._modules:
            try:
                observations += module.scan(started)
            except Pkcs11ModuleError as exc:
                warnings.append(str(exc))
        return ScanResult(
            observations=tuple(observations),
            readers=tuple(self._readers.values()),
            warnings=tuple(warnings),
            started_at=started,
            finished_at=utcnow(),
        )

    def _read_reader(
        self, st: ReaderStatus, now: datetime
    ) -> tuple[Observation | None, str | None]:
        """Read one reader's card. A card pulled mid-read gives (None, None): nothing recorded."""
        assert self._pcsc is not None
        atr_hex = format_atr(st.atr)
        if not st.present:
            self._readers[st.name] = ReaderState(st.name, False)
            return None, None
        try:
            with self._pcsc.connect(st.name) as conn, conn.transaction():
                read = read_card(conn, conn.atr)
                atr = conn.atr
        except CardRemovedError:
            self._readers[st.name] = ReaderState(st.name, False)
            return None, None
        except PcscUnavailableError:
            raise
        except ReaderError as exc:
            self._readers[st.name] = ReaderState(st.name, True, atr_hex, error=str(exc))
            return None, str(exc)
        except (TlvError, ValueError, IndexError) as exc:  # a card edge we misread: say so
            msg = f"reader {st.name!r}: unreadable answer ({exc})"
            self._readers[st.name] = ReaderState(st.name, True, atr_hex, error=msg)
            return None, msg
        entry = lookup_atr(atr)
        obs = Observation(
            source="pcsc",
            reader=st.name,
            kind=read.kind,
            serial=read.serial,
            seen_at=now,
            atr=format_atr(atr),
            label=read.label,
            manufacturer=entry.manufacturer if entry else None,
            model=entry.model if entry else None,
            pin_tries_left=read.pin.tries_left,
            pin_blocked=read.pin.blocked,
            pin_final_try=read.pin.tries_left == 1,
            certificates=read.certificates,
            profile=read.profile,
        )
        self._readers[st.name] = ReaderState(
            st.name, True, format_atr(atr), profile=read.profile, serial=read.serial
        )
        return obs, None

    # ------------------------------------------------------------------ watching
    def stop(self) -> None:
        """Make ``watch`` return within ``wait_timeout`` (safe from a signal handler)."""
        self._stop.set()

    def watch(self, stop: threading.Event | None = None) -> Iterator[WatchEvent]:
        """Yield a :class:`WatchEvent` whenever something changed, until ``stop`` is set.

        The first event describes everything present (every reader and token is new).
        """
        stop_flag = stop or self._stop
        ws = _WatchState()
        now = time.monotonic()
        ws.last_refresh = ws.last_reinit = now
        while not stop_flag.is_set() and not self._stop.is_set():
            at = utcnow()
            observations: list[Observation] = []
            removed: list[str] = []
            warnings: list[str] = []
            pcsc_changed = False
            refresh = time.monotonic() - ws.last_refresh >= self.config.refresh_interval
            if refresh:
                ws.last_refresh = time.monotonic()
            if self._pcsc is not None:
                pcsc_changed = self._watch_pcsc(ws, at, observations, removed, warnings, refresh,
                                                stop_flag)
            else:
                stop_flag.wait(self.config.wait_timeout)
            if self._modules and (
                pcsc_changed or refresh
                or time.monotonic() - ws.last_p11 >= self.config.pkcs11_interval
            ):
                self._watch_pkcs11(ws, at, observations, removed, warnings, refresh)
            if observations or removed or warnings or pcsc_changed:
                yield WatchEvent(
                    at=at,
                    readers=tuple(self._readers[n] for n in sorted(self._readers)),
                    observations=tuple(observations),
                    removed=tuple(removed),
                    warnings=tuple(warnings),
                )

    def _watch_pcsc(
        self,
        ws: _WatchState,
        at: datetime,
        observations: list[Observation],
        removed: list[str],
        warnings: list[str],
        refresh: bool,
        stop_flag: threading.Event,
    ) -> bool:
        """One wait in pcscd and the reads it calls for; True when the readers panel changed."""
        assert self._pcsc is not None
        try:
            if ws.relist:
                names = self._pcsc.list_readers()
                if len(names) > MAX_WATCHED_READERS:
                    log.warning("watching the first %d of %d readers", MAX_WATCHED_READERS,
                                len(names))
                names = names[:MAX_WATCHED_READERS]
                ws.states = [(n, 0) for n in names] + [(PNP_NOTIFICATION, 0)]
                for gone in set(self._readers) - set(names):
                    del self._readers[gone]
                    ws.known.pop(gone, None)
                    removed.append(gone)
                ws.relist = False
                changes = self._pcsc.get_status_change(ws.states, 0)
            else:
                changes = self._pcsc.get_status_change(ws.states, self.config.wait_timeout)
            if ws.outage:
                ws.outage = False
                for module in self._modules:  # OpenSC's own PC/SC context died too
                    module.mark_stale()
        except PcscUnavailableError as exc:
            ws.relist = True
            ws.known.clear()  # a new pcscd restarts its event counters: re-read all on return
            if not ws.outage:
                ws.outage = True
                warnings.append(str(exc))
            stop_flag.wait(self.config.wait_timeout)  # pcscd gone: retry at a calm pace
            return False
        except ReaderError as exc:  # a reader vanished while we waited on it
            log.info("relisting readers: %s", exc)
            ws.relist = True
            return True
        if changes is None:
            changes = []
        ws.states = [(c.name, c.event_state) for c in changes] or ws.states
        changed = False
        for st in changes:
            if st.name == PNP_NOTIFICATION:
                prev_pnp = ws.known.get(PNP_NOTIFICATION)
                if prev_pnp is not None and prev_pnp.event_state != st.event_state:
                    ws.relist = True
                ws.known[PNP_NOTIFICATION] = st
                continue
            if st.gone:  # unplugged: forget it now, relist next round
                ws.relist = True
                ws.known.pop(st.name, None)
                if self._readers.pop(st.name, None) is not None:
                    removed.append(st.name)
                changed = True
                continue
            prev = ws.known.get(st.name)
            ws.known[st.name] = st
            new_card = st.present and (
                prev is None or not prev.present or prev.event_count != st.event_count
                or prev.atr != st.atr
            )
            if new_card or (refresh and st.present):
                changed = True
                obs, warning = self._read_reader(st, at)
                if obs is not None:
                    observations.append(obs)
                if warning:
                    warnings.append(warning)
            elif not st.present and (prev is None or prev.present):
                changed = True
                self._readers[st.name] = ReaderState(st.name, False)
                if prev is not None:
                    removed.append(st.name)
        return changed

    def _watch_pkcs11(
        self,
        ws: _WatchState,
        at: datetime,
        observations: list[Observation],
        removed: list[str],
        warnings: list[str],
        refresh: bool,
    ) -> None:
        ws.last_p11 = time.monotonic()
        reinit = ws.last_p11 - ws.last_reinit >= self.config.pkcs11_reinit_interval
        if reinit:
            ws.last_reinit = ws.last_p11
        for module in self._modules:
            try:
                if reinit:
                    module.mark_stale()
                current = {s.slot_id: s for s in module.summaries()}
                ws.broken_modules.discard(module.path)
            except Pkcs11ModuleError as exc:
                if module.path not in ws.broken_modules:  # say it once per failure spell
                    ws.broken_modules.add(module.path)
                    warnings.append(str(exc))
                continue
            changed = {
                sid for sid, s in current.items()
                if refresh or ws.slots.get((module.path, sid)) != s
            }
            for (path, sid) in [k for k in ws.slots if k[0] == module.path]:
                if sid not in current:
                    del ws.slots[(path, sid)]
                    removed.append(module.reader_name(sid))
            if changed:
                try:
                    found = module.scan(at, only=changed)
                except Pkcs11ModuleError as exc:
                    warnings.append(str(exc))
                    continue
                observations.extend(found)
                read_ok = {int(o.reader.rsplit(" ", 1)[1]) for o in found}
                for sid in changed & read_ok:
                    ws.slots[(module.path, sid)] = current[sid]

    def close(self) -> None:
        if self._pcsc is not None:
            self._pcsc.close()

    def __enter__(self) -> Poller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scan_once(config: HardwareConfig | None = None) -> ScanResult:
    """One pass over every configured source."""
    with Poller(config) as poller:
        return poller.scan_once()


def watch(config: HardwareConfig | None = None,
          stop: threading.Event | None = None) -> Iterator[WatchEvent]:
    """Follow inserts, pulls and lock-outs until ``stop`` is set (see :meth:`Poller.watch`)."""
    with Poller(config) as poller:
        yield from poller.watch(stop)


__all__ = ["HardwareConfig", "Poller", "WatchEvent", "scan_once", "watch"]
