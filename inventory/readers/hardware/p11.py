"""PKCS#11 adapter: the only module that talks to python-pkcs11.

Every module (.so) is loaded once per process (a second ``C_Initialize`` of the same library
fails), kept in :data:`_LOADED`, and read without ``C_Login``: token info (label, serial, PIN
flags) and the public certificate objects. Library exceptions become
:class:`~inventory.register.errors.Pkcs11ModuleError` here; one failing module never stops the
others.

Named ``p11`` so that ``import pkcs11`` always means the library.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pkcs11
from pkcs11 import Attribute, ObjectClass, TokenFlag
from pkcs11.exceptions import PKCS11Error

from inventory.readers.hardware.observation import (
    CertificateInfo,
    Observation,
    normalise_serial,
    utcnow,
)
from inventory.register.errors import Pkcs11ModuleError

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as Pkcs11Lib

log = logging.getLogger(__name__)

_LOADED: dict[str, Pkcs11Lib] = {}
_LOCK = threading.Lock()


def _load(path: str) -> Pkcs11Lib:
    """dlopen + C_Initialize once per path and process."""
    with _LOCK:
        lib = _LOADED.get(path)
        if lib is None:
            if not os.path.exists(path):
                raise Pkcs11ModuleError(path, "file not found")
            try:
                lib = pkcs11.lib(path)
            except (PKCS11Error, OSError, RuntimeError) as exc:
                raise Pkcs11ModuleError(path, f"cannot load: {exc or type(exc).__name__}") from exc
            _LOADED[path] = lib
        return lib


@dataclass(frozen=True)
class SlotSummary:
    """The cheap part of a slot (C_GetTokenInfo only): enough to notice a change."""

    slot_id: int
    serial: str | None
    label: str
    flags: int


class Pkcs11Module:
    """One PKCS#11 module, read-only and without login."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lib: Pkcs11Lib | None = None
        self._needs_reinit = False

    @property
    def lib(self) -> Pkcs11Lib:
        if self._lib is None:
            self._lib = _load(self.path)
        return self._lib

    def reinitialize(self) -> None:
        """C_Finalize + C_Initialize: makes tokens created by another process visible (SoftHSM)
        and recovers modules whose reader connection broke (OpenSC after a pcscd restart)."""
        try:
            self.lib.reinitialize()
            self._needs_reinit = False
        except PKCS11Error as exc:
            raise Pkcs11ModuleError(self.path, f"reinitialise failed: {exc!r}") from exc

    def _slots(self) -> list[pkcs11.Slot]:
        if self._needs_reinit:
            self.reinitialize()
        last: PKCS11Error | None = None
        for _ in range(3):  # "buffer too small" when a token arrives mid-call: ask again
            try:
                return list(self.lib.get_slots(token_present=True))
            except PKCS11Error as exc:
                last = exc
        self._needs_reinit = True
        raise Pkcs11ModuleError(self.path, f"cannot list slots: {last!r}") from last

    def summaries(self) -> list[SlotSummary]:
        """Slots with an initialised token, token info only (no objects read)."""
        out = []
        for slot in self._slots():
            try:
                tok = slot.get_token()
            except PKCS11Error:  # token pulled / deleted since the listing
                continue
            flags = int(tok.flags)
            if not flags & TokenFlag.TOKEN_INITIALIZED:
                continue
            out.append(SlotSummary(slot.slot_id, normalise_serial(tok.serial), tok.label, flags))
        return out

    def reader_name(self, slot_id: int) -> str:
        return f"pkcs11:{self.path}#slot {slot_id}"

    def scan(self, now: datetime | None = None, only: set[int] | None = None) -> list[Observation]:
        """An observation per initialised token (or only for the slot ids in ``only``)."""
        seen_at = now or utcnow()
        out = []
        for slot in self._slots():
            if only is not None and slot.slot_id not in only:
                continue
            try:
                obs = self._read_slot(slot, seen_at)
            except PKCS11Error as exc:
                # a token pulled mid-read: record nothing rather than half a device
                log.info("%s slot %s: read abandoned (%r)", self.path, slot.slot_id, exc)
                continue
            if obs is not None:
                out.append(obs)
        return out

    def _read_slot(self, slot: pkcs11.Slot, seen_at: datetime) -> Observation | None:
        tok = slot.get_token()
        flags = int(tok.flags)
        if not flags & TokenFlag.TOKEN_INITIALIZED:
            return None
        certs: list[CertificateInfo] = []
        with tok.open() as session:  # R/O public session: no C_Login, ever
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                try:
                    der = obj[Attribute.VALUE]
                except PKCS11Error:
                    continue
                try:
                    key_id = obj[Attribute.ID]
                except PKCS11Error:
                    key_id = b""
                try:
                    certs.append(CertificateInfo.from_der(bytes(der), slot=bytes(key_id).hex()))
                except ValueError:
                    log.info("%s: a certificate object is not X.509 DER; skipped", self.path)
        return Observation(
            source="pkcs11",
            reader=self.reader_name(slot.slot_id),
            kind="usb_token",
            serial=normalise_serial(tok.serial),
            seen_at=seen_at,
            label=tok.label or None,
            manufacturer=(tok.manufacturer_id or "").strip() or None,
            model=(tok.model or "").strip() or None,
            pin_blocked=bool(flags & TokenFlag.USER_PIN_LOCKED),
            pin_final_try=bool(flags & TokenFlag.USER_PIN_FINAL_TRY),
            pin_count_low=bool(flags & TokenFlag.USER_PIN_COUNT_LOW),
            so_pin_locked=bool(flags & TokenFlag.SO_PIN_LOCKED),
            pin_tries_left=(0 if flags & TokenFlag.USER_PIN_LOCKED else
                            1 if flags & TokenFlag.USER_PIN_FINAL_TRY else None),
            token_flags=flags,
            certificates=tuple(sorted(certs, key=lambda c: (c.slot or "", c.fingerprint_sha256))),
            profile="pkcs11",
            module=self.path,
        )

    def mark_stale(self) -> None:
        """Ask for a C_Finalize/C_Initialize before the next read (after an error)."""
        self._needs_reinit = True
