"""Reader hardware: PC/SC and PKCS#11 adapters returning observations (frozen dataclasses).

The only package that imports ``smartcard`` (pyscard, in ``pcsc``) and ``pkcs11``
(python-pkcs11, in ``p11``). Library exceptions become :mod:`inventory.register.errors` classes
at that boundary. Below the adapters, the protocol layer (``apdu``), the card edges
(``profiles``), ``atr``, ``tlv`` and ``observation`` need neither library:

    observation   Observation, ReaderState, ScanResult, CertificateInfo (what a poll saw)
    apdu          APDUs, status words → PinState / CardStatusError, Connection protocol
    profiles      card edges (PIV, PKI SIM) over an apdu.Connection
    pcsc, p11     the adapters (pyscard, python-pkcs11)
    poller        scan_once(HardwareConfig(...)) -> ScanResult;
                  Poller(config).watch(stop_event) -> Iterator[WatchEvent]

The poller's names are loaded on first use, so importing this package (or the observation
dataclasses) does not load pyscard or a PKCS#11 library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from inventory.readers.hardware.atr import AtrEntry, lookup_atr
from inventory.readers.hardware.observation import (
    CertificateInfo,
    Observation,
    ReaderState,
    ScanResult,
    normalise_serial,
)

if TYPE_CHECKING:
    from inventory.readers.hardware.poller import (
        HardwareConfig,
        Poller,
        WatchEvent,
        scan_once,
        watch,
    )

_FROM_POLLER = frozenset({"HardwareConfig", "Poller", "WatchEvent", "scan_once", "watch"})


def __getattr__(name: str) -> Any:
    if name in _FROM_POLLER:
        return getattr(importlib.import_module("inventory.readers.hardware.poller"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AtrEntry",
    "CertificateInfo",
    "HardwareConfig",
    "Observation",
    "Poller",
    "ReaderState",
    "ScanResult",
    "WatchEvent",
    "lookup_atr",
    "normalise_serial",
    "scan_once",
    "watch",
]
