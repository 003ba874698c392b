"""Fixtures for the reader lab: a private pcscd with 15 virtual readers, emulated cards living in
threads of the test process, SoftHSM2 tokens in a temp dir, OpenSC over the emulated PIV cards.

Skip rule: when the lab cannot run here (not root, pcscd or the vpcd driver missing — run
``.ci/lab-provision.sh``), the lab tests SKIP with the reason, unless ``TOKENFLEET_REQUIRE_LAB=1``
(CI sets it), in which case they FAIL. Pure-logic tests in this folder never need the lab.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing_tool
from tests.lab.pcscd import OPENSC_LIB, Pcscd, lab_problems, opensc_conf, wait_reader
from tests.lab.softhsm import SOFTHSM_LIB, SoftHsmLab, TestCa, TokenSpec
from tests.lab.vcard import EmulatedCard, InsertedCard


def _lab_missing(reason: str) -> None:
    missing_tool("LAB", "reader lab unavailable: " + reason)


def _require_lab() -> None:
    problems = lab_problems()
    if problems:
        _lab_missing("; ".join(problems))


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_lab()
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def test_ca(lab_dir: Path) -> TestCa:
    return TestCa()


@pytest.fixture(scope="session")
def softhsm(lab_dir: Path, test_ca: TestCa) -> tuple[SoftHsmLab, list[TokenSpec]]:
    """8 tokens; SOFTHSM2_CONF exported before this process first loads libsofthsm2."""
    lab = SoftHsmLab(lab_dir / "softhsm")
    lab.activate()
    return lab, lab.create_tokens(8, test_ca)


@pytest.fixture(scope="session")
def opensc(lab_dir: Path) -> str:
    """opensc-pkcs11.so with one slot per reader (set before the module is first loaded)."""
    if not Path(OPENSC_LIB).exists():
        _require_lab()
        pytest.skip(f"{OPENSC_LIB} missing")
    os.environ["OPENSC_CONF"] = str(opensc_conf(lab_dir / "opensc.conf"))
    return OPENSC_LIB


@pytest.fixture(scope="session")
def pcscd(lab_dir: Path) -> Iterator[Pcscd]:
    daemon = Pcscd(lab_dir / "pcscd")
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


class CardSlots:
    """Insert/pull emulated cards; everything still inserted is pulled at teardown."""

    def __init__(self, daemon: Pcscd) -> None:
        self.pcscd = daemon
        self.inserted: dict[int, InsertedCard] = {}

    def reader(self, index: int) -> str:
        return self.pcscd.readers[index]

    def insert(self, card: EmulatedCard, index: int, wait: bool = True) -> InsertedCard:
        if index >= self.pcscd.slots:  # the stock 2-reader driver (provisioning fell back)
            _lab_missing(f"reader {index} needed, the vpcd driver has {self.pcscd.slots}")
        assert index not in self.inserted, f"reader {index} already holds a card"
        ic = InsertedCard(card, index).start()
        self.inserted[index] = ic
        if wait:
            wait_reader(self.reader(index), present=True)
        return ic

    def pull(self, index: int, wait: bool = True) -> None:
        """Pull and wait for EMPTY (re-inserting earlier races pcscd's 400 ms poll)."""
        ic = self.inserted.pop(index)
        ic.stop()
        if wait and self.pcscd.proc is not None:
            wait_reader(self.reader(index), present=False)

    def forget(self) -> None:
        """After pcscd died: the cards' connections are gone with it."""
        for ic in self.inserted.values():
            ic.stop()
        self.inserted.clear()

    def pull_all(self) -> None:
        for index in list(self.inserted):
            self.pull(index)


@pytest.fixture
def cards(pcscd: Pcscd) -> Iterator[CardSlots]:
    slots = CardSlots(pcscd)
    try:
        yield slots
    finally:
        slots.pull_all()


__all__ = ["SOFTHSM_LIB", "CardSlots"]
