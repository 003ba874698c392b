"""Reader-lab benchmark (not a test): run as root with the lab provisioned.

    .venv/bin/python -m tests.benchmarks.bench_hardware [--idle 60] [--trials 10]

Measures, against a private pcscd + emulated cards + SoftHSM2 (nothing mocked):
  1. card insertion → observation emitted by ``Poller.watch`` (pcscd's own 400 ms poll included);
  2. one ``scan_once`` over 8 cards + 32 SoftHSM tokens vs the same reads by a bare script
     (pyscard / python-pkcs11 / cryptography directly, no project code);
  3. CPU used by an idle watcher (8 cards in, SoftHSM module loaded) over ``--idle`` seconds.
Figures are medians of one run; compare them as ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.lab.pcscd import Pcscd, lab_problems, wait_reader
from tests.lab.softhsm import SOFTHSM_LIB, SoftHsmLab, TestCa
from tests.lab.vcard import InsertedCard, PivCard, PkiSimCard

PIV_AID = bytes.fromhex("A000000308000010000100")


# ------------------------------------------------------------------------------ bare script
def bare_pcsc_scan() -> int:
    """What a hand-written pyscard script would do for the same facts: returns cards read."""
    from cryptography import x509
    from smartcard import scard

    def tx(h: int, pci: int, apdu: bytes) -> tuple[bytes, int]:
        _rc, resp = scard.SCardTransmit(h, pci, list(apdu))
        data, sw = bytes(resp[:-2]), (resp[-2] << 8) | resp[-1]
        while sw >> 8 == 0x61:
            _rc, resp = scard.SCardTransmit(h, pci, [0, 0xC0, 0, 0, sw & 0xFF])
            data, sw = data + bytes(resp[:-2]), (resp[-2] << 8) | resp[-1]
        return data, sw

    def value53(data: bytes) -> bytes:  # 53 L ...: enough for this benchmark's objects
        if data[1] < 0x80:
            return data[2:]
        n = data[1] & 0x7F
        return data[2 + n:]

    _rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    _rc, names = scard.SCardListReaders(ctx, [])
    _rc, states = scard.SCardGetStatusChange(ctx, 0, [(n, scard.SCARD_STATE_UNAWARE)
                                                       for n in names])
    read = 0
    for name, state, _atr in states:
        if not state & scard.SCARD_STATE_PRESENT:
            continue
        _rc, h, proto = scard.SCardConnect(ctx, name, scard.SCARD_SHARE_SHARED,
                                           scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        pci = scard.SCARD_PCI_T1 if proto == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0
        scard.SCardBeginTransaction(h)
        _, sw = tx(h, pci, bytes([0, 0xA4, 4, 0, len(PIV_AID)]) + PIV_AID + b"\x00")
        if sw == 0x9000:
            chuid, _ = tx(h, pci, bytes.fromhex("00CB3FFF055C035FC10200"))
            _serial = chuid[-45:-29].hex()[-16:]
            for tag in ("5FC105", "5FC10A", "5FC10B", "5FC101"):
                data, sw = tx(h, pci, bytes.fromhex("00CB3FFF055C03" + tag + "00"))
                if sw == 0x9000:
                    inner = value53(data)
                    n = inner[1]
                    off = 2
                    if n & 0x80:
                        off = 2 + (n & 0x7F)
                        n = int.from_bytes(inner[2:off], "big")
                    der = inner[off : off + n]
                    cert = x509.load_der_x509_certificate(der)
                    _ = (cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                         cert.not_valid_after_utc, cert.not_valid_before_utc,
                         hashlib.sha256(der).hexdigest())
            _, sw = tx(h, pci, bytes.fromhex("00200080"))
        else:
            tx(h, pci, bytes.fromhex("00A4000C023F00"))
            tx(h, pci, bytes.fromhex("00A4000C022FE2"))
            tx(h, pci, bytes.fromhex("00B000000A"))
            tx(h, pci, bytes.fromhex("00200001"))
            tx(h, pci, bytes([0, 0xA4, 4, 0, len(PIV_AID)]) + PIV_AID + b"\x00")
        scard.SCardEndTransaction(h, scard.SCARD_LEAVE_CARD)
        scard.SCardDisconnect(h, scard.SCARD_LEAVE_CARD)
        read += 1
    scard.SCardReleaseContext(ctx)
    return read


def bare_pkcs11_scan() -> int:
    import pkcs11
    from cryptography import x509
    from pkcs11 import Attribute, ObjectClass, TokenFlag

    lib = pkcs11.lib(SOFTHSM_LIB)
    n = 0
    for slot in lib.get_slots(token_present=True):
        tok = slot.get_token()
        if not tok.flags & TokenFlag.TOKEN_INITIALIZED:
            continue
        _ = (tok.label, tok.serial, tok.manufacturer_id, tok.model, int(tok.flags))
        with tok.open() as session:
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                der = obj[Attribute.VALUE]
                cert = x509.load_der_x509_certificate(der)
                _ = (cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                     cert.not_valid_after_utc, cert.not_valid_before_utc,
                     hashlib.sha256(der).hexdigest(), obj[Attribute.ID])
        n += 1
    return n


def median_ms(fn: object, runs: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# ------------------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle", type=float, default=60.0, help="idle CPU window, seconds")
    ap.add_argument("--trials", type=int, default=10, help="insertions to time")
    ap.add_argument("--runs", type=int, default=20, help="scans to time")
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    problems = lab_problems()
    if problems:
        print("lab unavailable:", "; ".join(problems), file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="tokenfleet-bench-"))
    hsm = SoftHsmLab(tmp / "softhsm")
    hsm.activate()  # before any pkcs11.lib() in this process
    ca = TestCa()
    t0 = time.perf_counter()
    hsm.create_tokens(args.tokens, ca)
    print(f"setup: {args.tokens} SoftHSM tokens created in {time.perf_counter() - t0:.1f} s")

    from inventory.readers.hardware import HardwareConfig, Poller

    daemon = Pcscd(tmp / "pcscd")
    daemon.start()
    inserted: list[InsertedCard] = []
    try:
        # ---------------------------------------------------------------- 1. latency
        events: queue.Queue[tuple[float, str]] = queue.Queue()
        stop = threading.Event()
        poller = Poller(HardwareConfig())

        def run() -> None:
            for ev in poller.watch(stop):
                for o in ev.observations:
                    events.put((time.perf_counter(), o.serial or ""))
                for r in ev.removed:
                    events.put((time.perf_counter(), "removed:" + r))

        th = threading.Thread(target=run, daemon=True)
        th.start()
        reader = daemon.readers[14]
        latencies = []
        for i in range(args.trials):
            serial = f"{8500000000000000 + i}"
            t_insert = time.perf_counter()
            ic = InsertedCard(PivCard(serial, {"9A": ca.quick_cert(i + 1)}), 14).start()
            while True:
                t, s = events.get(timeout=10)
                if s == serial:
                    latencies.append((t - t_insert) * 1000)
                    break
            ic.stop()
            while True:
                _t, s = events.get(timeout=10)
                if s == "removed:" + reader:
                    break
        stop.set()
        th.join(5)
        poller.close()
        lat = sorted(latencies)
        med = statistics.median(lat)
        print(f"\n1. insertion → observation (watch), n={len(lat)}: median {med:.0f}"
              f" ms, min {lat[0]:.0f} ms, max {lat[-1]:.0f} ms (target < 600 ms; pcscd polls"
              " every 400 ms)")

        # ---------------------------------------------------------------- 2. one scan
        for i in range(8):
            card: PivCard
            if i % 4 == 3:
                card = PkiSimCard(f"89840480001234{i:05d}", tries_left=3)
            else:
                card = PivCard(f"{8400000000000200 + i}", {"9A": ca.quick_cert(i + 1)},
                               tries_left=3 - (i % 3))
            inserted.append(InsertedCard(card, i).start())
        for i in range(8):
            wait_reader(daemon.readers[i], True)
        config = HardwareConfig(pkcs11_modules=(SOFTHSM_LIB,))
        with Poller(config) as p:
            res = p.scan_once()
            assert len(res.observations) == 8 + args.tokens, (len(res.observations),
                                                              res.warnings)
            pcsc_only = Poller(HardwareConfig())
            p11_only = Poller(HardwareConfig(use_pcsc=False, pkcs11_modules=(SOFTHSM_LIB,)))
            assert bare_pcsc_scan() == 8 and bare_pkcs11_scan() == args.tokens
            # interleaved, so a noisy neighbour on the machine weighs on both sides alike
            pairs = [
                (p.scan_once, lambda: (bare_pcsc_scan(), bare_pkcs11_scan())),
                (pcsc_only.scan_once, bare_pcsc_scan),
                (p11_only.scan_once, bare_pkcs11_scan),
            ]
            figures = []
            for ours, bare in pairs:
                a, b = [], []
                for _ in range(args.runs):
                    a.append(median_ms(ours, 1))
                    b.append(median_ms(bare, 1))
                figures.append((statistics.median(a), statistics.median(b)))
            pcsc_only.close()
        (project_ms, bare_ms), (project_pcsc, bare_pcsc), (project_p11, bare_p11) = figures
        print(f"\n2. one scan, 8 cards + {args.tokens} SoftHSM tokens (median of {args.runs}):")
        print(f"   project scan_once        {project_ms:7.1f} ms   bare script {bare_ms:7.1f} ms"
              f"   ratio {project_ms / bare_ms:.2f}x (target ≤ 2x)")
        print(f"   PC/SC part only          {project_pcsc:7.1f} ms   bare {bare_pcsc:14.1f} ms"
              f"   ratio {project_pcsc / bare_pcsc:.2f}x")
        print(f"   PKCS#11 part only        {project_p11:7.1f} ms   bare {bare_p11:14.1f} ms"
              f"   ratio {project_p11 / bare_p11:.2f}x")

        # ---------------------------------------------------------------- 3. idle CPU
        stop = threading.Event()
        idle_poller = Poller(config)
        first = threading.Event()

        def idle_run() -> None:
            for _ev in idle_poller.watch(stop):
                first.set()

        th = threading.Thread(target=idle_run, daemon=True)
        th.start()
        first.wait(10)
        time.sleep(1.0)  # let the first full read finish before the window opens
        pcscd_pid = daemon.proc.pid if daemon.proc else None

        def pcscd_cpu() -> float:
            if pcscd_pid is None:
                return 0.0
            fields = Path(f"/proc/{pcscd_pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        r0, w0, d0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic(), pcscd_cpu()
        time.sleep(args.idle)
        r1, w1, d1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic(), pcscd_cpu()
        stop.set()
        th.join(5)
        idle_poller.close()
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        wall = w1 - w0
        print(f"\n3. idle watcher ({wall:.0f} s, 8 cards in, SoftHSM listed every 2 s):"
              f" {cpu * 1000:.0f} ms CPU = {100 * cpu / wall:.2f}% of a core (target < 1%);"
              f" pcscd itself {100 * (d1 - d0) / wall:.2f}%")
    finally:
        for ic in inserted:
            ic.stop()
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
