"""Against the real lab: pcscd + vpcd readers + emulated cards (PIV token, PKI SIM) and SoftHSM2.

Every test here asks for the ``cards``/``pcscd``/``softhsm`` fixtures, which SKIP (or FAIL with
TOKENFLEET_REQUIRE_LAB=1) when the lab cannot run. PC/SC tests share one pcscd: run serially.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import pytest

from inventory.readers.hardware import HardwareConfig, Observation, Poller, WatchEvent, scan_once
from inventory.readers.hardware.p11 import Pkcs11Module
from inventory.register.errors import Pkcs11ModuleError
from tests.lab.pcscd import Pcscd, wait_reader
from tests.lab.softhsm import SOFTHSM_LIB, SoftHsmLab, TestCa, TokenSpec
from tests.lab.vcard import InsertedCard, PivCard, PkiSimCard
from tests.readers.conftest import CardSlots

pytestmark = pytest.mark.lab

PCSC_ONLY = HardwareConfig(use_pcsc=True)


def by_reader(observations: tuple[Observation, ...]) -> dict[str, Observation]:
    return {o.reader: o for o in observations}


def test_insert_is_recognised_with_serial_certs_expiry_and_tries(
    cards: CardSlots, test_ca: TestCa
) -> None:
    valid, expired = test_ca.quick_cert(1), test_ca.quick_cert(2, expired=True)
    card = PivCard("8400000000000101", {"9A": valid, "9C": expired}, tries_left=3)
    cards.insert(card, 0)
    result = scan_once(PCSC_ONLY)
    obs = by_reader(result.observations)[cards.reader(0)]
    assert (obs.source, obs.kind, obs.profile) == ("pcsc", "usb_token", "piv")
    assert obs.serial == "8400000000000101"
    assert obs.pin_tries_left == 3 and not obs.pin_blocked and not obs.pin_final_try
    assert obs.model == "emulated PIV token" and obs.atr == card.atr.hex().upper()
    assert [(c.slot, c.subject_cn, c.expired()) for c in obs.certificates] == [
        ("9A", "Nguyễn Văn An", False), ("9C", "Trần Thị Bích Ngọc", True)]
    panel = {r.name: r for r in result.readers}
    assert panel[cards.reader(0)].card_present and panel[cards.reader(0)].serial == obs.serial
    assert not panel[cards.reader(1)].card_present


def test_pull_leaves_the_reader_empty(cards: CardSlots) -> None:
    cards.insert(PivCard("8400000000000102"), 1)
    assert cards.reader(1) in by_reader(scan_once(PCSC_ONLY).observations)
    cards.pull(1)
    result = scan_once(PCSC_ONLY)
    assert cards.reader(1) not in by_reader(result.observations)
    assert not {r.name: r for r in result.readers}[cards.reader(1)].card_present


def test_blocked_and_final_try_cards(cards: CardSlots) -> None:
    cards.insert(PivCard("8400000000000103", tries_left=0), 2)
    cards.insert(PivCard("8400000000000104", tries_left=1), 3)
    seen = by_reader(scan_once(PCSC_ONLY).observations)
    blocked, last = seen[cards.reader(2)], seen[cards.reader(3)]
    assert blocked.pin_blocked and blocked.pin_tries_left == 0
    assert last.pin_final_try and last.pin_tries_left == 1 and not last.pin_blocked


def test_pki_sim_iccid(cards: CardSlots) -> None:
    cards.insert(PkiSimCard("8984048000123456789", tries_left=3), 4)
    obs = by_reader(scan_once(PCSC_ONLY).observations)[cards.reader(4)]
    assert (obs.kind, obs.profile, obs.serial) == ("pki_sim", "pki_sim", "8984048000123456789")
    assert obs.pin_tries_left == 3 and obs.model == "emulated PKI SIM"


def test_hundred_polls_never_spend_a_pin_try(cards: CardSlots, test_ca: TestCa) -> None:
    fleet = [PivCard("8400000000000105", {"9A": test_ca.quick_cert(1)}, tries_left=3),
             PivCard("8400000000000106", tries_left=1),
             PivCard("8400000000000107", tries_left=0),
             PkiSimCard("8984048000123450001", tries_left=2)]
    for i, card in enumerate(fleet):
        cards.insert(card, i)
    before = [c.tries for c in fleet]
    with Poller(PCSC_ONLY) as poller:
        for _ in range(100):
            result = poller.scan_once()
            assert len(result.observations) == len(fleet), result.warnings
    assert [c.tries for c in fleet] == before
    for card in fleet:
        assert len(card.verify_commands()) >= 100
        assert card.verify_commands_with_data() == []


def test_card_pulled_mid_read_records_nothing(cards: CardSlots, test_ca: TestCa) -> None:
    card = PivCard("8400000000000108", {"9A": test_ca.quick_cert(1)})
    card.pull_after = 3  # answers SELECT and CHUID, then vanishes in the middle of the certs
    cards.insert(card, 5)
    result = scan_once(PCSC_ONLY)
    assert cards.reader(5) not in by_reader(result.observations)
    cards.pull(5)  # the card thread is gone; wait for pcscd to see the reader empty
    assert cards.reader(5) not in by_reader(scan_once(PCSC_ONLY).observations)


def test_softhsm_tokens_read_without_login(softhsm: tuple[SoftHsmLab, list[TokenSpec]]) -> None:
    _lab, specs = softhsm
    result = scan_once(HardwareConfig(use_pcsc=False, pkcs11_modules=(SOFTHSM_LIB,)))
    seen = {o.serial: o for o in result.observations}
    assert len(seen) == len(specs) == 8 and not result.warnings
    for spec in specs:
        obs = seen[spec.serial.lower()]
        assert obs.label == spec.label and obs.source == "pkcs11"
        assert obs.reader.startswith(f"pkcs11:{SOFTHSM_LIB}#slot ")
        (cert,) = obs.certificates
        assert cert.subject_cn == spec.holder and spec.org in cert.subject
        assert cert.expired() == spec.expired
        assert not obs.pin_blocked and not obs.pin_count_low  # nobody ever tried a PIN


def test_softhsm_lock_flags_are_reported(softhsm: tuple[SoftHsmLab, list[TokenSpec]]) -> None:
    from pkcs11 import TokenFlag

    lab, _specs = softhsm
    flags = int(TokenFlag.USER_PIN_LOCKED | TokenFlag.USER_PIN_FINAL_TRY | TokenFlag.SO_PIN_LOCKED)
    lab.set_flags("VN-TOKEN-07", add=flags)
    try:
        module = Pkcs11Module(SOFTHSM_LIB)
        module.reinitialize()  # SoftHSM reads token files at C_Initialize
        obs = {o.label: o for o in module.scan()}["VN-TOKEN-07"]
        assert obs.pin_blocked and obs.pin_final_try and obs.so_pin_locked
        assert obs.pin_tries_left == 0
    finally:
        lab.set_flags("VN-TOKEN-07", clear=flags)
        Pkcs11Module(SOFTHSM_LIB).reinitialize()


def test_missing_module_fails_alone(softhsm: tuple[SoftHsmLab, list[TokenSpec]]) -> None:
    with pytest.raises(Pkcs11ModuleError, match=r"/nonexistent/libvendor\.so"):
        Pkcs11Module("/nonexistent/libvendor.so").summaries()
    config = HardwareConfig(use_pcsc=False,
                            pkcs11_modules=("/nonexistent/libvendor.so", SOFTHSM_LIB))
    result = scan_once(config)
    assert len(result.observations) == 8
    assert any("/nonexistent/libvendor.so" in w for w in result.warnings)


def test_opensc_over_emulated_piv_matches_pcsc(cards: CardSlots, opensc: str,
                                               test_ca: TestCa) -> None:
    fleet = {6: PivCard("8400000000000109", {"9A": test_ca.quick_cert(1)}, tries_left=3),
             7: PivCard("8400000000000110", {"9C": test_ca.quick_cert(2)}, tries_left=1),
             8: PivCard("8400000000000111", tries_left=0)}
    for i, card in fleet.items():
        cards.insert(card, i)
    module = Pkcs11Module(opensc)
    module.reinitialize()  # a previous test may have restarted pcscd under a loaded OpenSC
    result = scan_once(HardwareConfig(pkcs11_modules=(opensc,)))
    pcsc = {o.serial: o for o in result.observations if o.source == "pcsc"}
    p11 = {o.serial: o for o in result.observations if o.source == "pkcs11"}
    for card in fleet.values():
        assert card.serial in pcsc and card.serial in p11, (sorted(map(str, p11)), result.warnings)
    assert p11["8400000000000110"].pin_final_try and not p11["8400000000000110"].pin_blocked
    assert p11["8400000000000111"].pin_blocked
    assert not p11["8400000000000109"].pin_final_try and not p11["8400000000000109"].pin_blocked
    assert p11["8400000000000109"].fingerprints == pcsc["8400000000000109"].fingerprints
    for card in fleet.values():
        assert card.verify_commands_with_data() == []
        assert card.tries == {"8400000000000109": 3, "8400000000000110": 1,
                              "8400000000000111": 0}[card.serial]


# ------------------------------------------------------------------------------ watching
class Watching:
    """Poller.watch in a thread; events land in a queue; stop() joins it."""

    def __init__(self, config: HardwareConfig) -> None:
        self.events: queue.Queue[WatchEvent] = queue.Queue()
        self.stop_flag = threading.Event()
        self.poller = Poller(config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.poller.watch(self.stop_flag):
                self.events.put(event)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def next_matching(self, predicate: object, timeout: float = 15.0) -> WatchEvent:
        assert callable(predicate)
        while True:
            event = self.events.get(timeout=timeout)  # queue.Empty fails the test
            if predicate(event):
                return event

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        self.poller.close()
        assert self.error is None, self.error


@pytest.fixture
def watching() -> Iterator[list[Watching]]:
    started: list[Watching] = []
    yield started
    for w in started:
        w.stop()


def has_serial(serial: str) -> object:
    return lambda e: any(o.serial == serial for o in e.observations)


def test_watch_follows_insert_and_pull(cards: CardSlots, pcscd: Pcscd,
                                       watching: list[Watching]) -> None:
    w = Watching(HardwareConfig(wait_timeout=0.5))
    watching.append(w)
    w.next_matching(lambda e: any(r.name == cards.reader(9) for r in e.readers))
    cards.insert(PivCard("8400000000000112", tries_left=2), 9)
    event = w.next_matching(has_serial("8400000000000112"))
    assert next(o for o in event.observations if o.serial == "8400000000000112").pin_tries_left == 2
    cards.pull(9)
    w.next_matching(lambda e: cards.reader(9) in e.removed)


def test_watch_survives_pcscd_restart(cards: CardSlots, pcscd: Pcscd,
                                      watching: list[Watching]) -> None:
    w = Watching(HardwareConfig(wait_timeout=0.5))
    watching.append(w)
    cards.insert(PivCard("8400000000000113"), 10)
    w.next_matching(has_serial("8400000000000113"))
    pcscd.kill()  # SIGKILL: no goodbye to the clients
    cards.forget()
    w.next_matching(lambda e: any("PC/SC not available" in m for m in e.warnings))
    pcscd.start()
    card = PivCard("8400000000000114", tries_left=1)
    cards.insert(card, 10)
    event = w.next_matching(has_serial("8400000000000114"))
    obs = next(o for o in event.observations if o.serial == "8400000000000114")
    assert obs.pin_final_try and card.verify_commands_with_data() == []


def test_watch_without_pcscd_keeps_going_then_recovers(cards: CardSlots, pcscd: Pcscd,
                                                       watching: list[Watching]) -> None:
    pcscd.stop()
    cards.forget()
    w = Watching(HardwareConfig(wait_timeout=0.3))
    watching.append(w)
    first = w.next_matching(lambda e: bool(e.warnings))
    assert any("PC/SC not available" in m for m in first.warnings)
    pcscd.start()
    cards.insert(PivCard("8400000000000115"), 11)
    w.next_matching(has_serial("8400000000000115"))


def test_scan_without_pcscd_warns_once_instead_of_crashing(
    pcscd: Pcscd, caplog: pytest.LogCaptureFixture
) -> None:
    pcscd.stop()
    try:
        with Poller(PCSC_ONLY) as poller:
            for _ in range(5):
                result = poller.scan_once()
                assert result.observations == ()
                assert any("PC/SC not available" in w for w in result.warnings)
        logged = [r for r in caplog.records if "PC/SC not available" in r.getMessage()]
        assert len(logged) == 1  # one warning per outage, not one per poll
    finally:
        pcscd.start()
    wait_reader(pcscd.readers[0], present=False)


def test_reinserted_card_on_same_reader_is_read_again(cards: CardSlots) -> None:
    ic = cards.insert(PivCard("8400000000000116", tries_left=3), 12)
    assert isinstance(ic, InsertedCard)
    with Poller(PCSC_ONLY) as poller:
        assert by_reader(poller.scan_once().observations)[cards.reader(12)].pin_tries_left == 3
        cards.pull(12)
        cards.insert(PivCard("8400000000000116", tries_left=0), 12)
        assert by_reader(poller.scan_once().observations)[cards.reader(12)].pin_blocked
