"""Reader hardware: PC/SC and PKCS#11 adapters returning observations (frozen dataclasses).

The only package that imports ``smartcard`` (pyscard) and ``pkcs11`` (python-pkcs11). Library
exceptions become :mod:`inventory.register.errors` classes at the boundary (``pcsc``, ``p11``).

    scan_once(HardwareConfig(...)) -> ScanResult(observations, readers, warnings)
    Poller(config).watch(stop_event) -> Iterator[WatchEvent]
"""

from inventory.readers.hardware.atr import AtrEntry, lookup_atr
from inventory.readers.hardware.observation import (
    CertificateInfo,
    Observation,
    ReaderState,
    ScanResult,
    normalise_serial,
)
from inventory.readers.hardware.poller import HardwareConfig, Poller, WatchEvent, scan_once, watch

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
