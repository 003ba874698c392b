"""Poller benchmark with the register (not a test): run as root with the lab provisioned.

    .venv/bin/python -m tests.benchmarks.bench_poll [--pg URL] [--trials 10] [--idle 30]

Against a private pcscd + emulated cards + SoftHSM2 and a real register (a SQLite file, and
PostgreSQL when ``--pg`` or ``TOKENFLEET_TEST_PG_URL`` gives a server, where a database
``tf_bench_poll`` is made afresh for each run):
  1. card insertion → the register shows it, through ``tokenfleet poll --watch`` running as a
     subprocess (pcscd's own 400 ms poll included); target < 0.6 s;
  2. one ``--once`` pass over 8 cards + 32 SoftHSM tokens INCLUDING the database sync (every
     device registered, steady state) vs the same reads by the bare script of
     ``bench_hardware`` (no project code, no database); target within 2x. The whole CLI run
     (process start included) is shown for information;
  3. CPU of the idle ``poll --watch`` process (heartbeat included); target < 1% of a core.
Figures are medians of one run; compare them as ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_hardware import bare_pcsc_scan, bare_pkcs11_scan
from tests.lab.pcscd import Pcscd, lab_problems, wait_reader
from tests.lab.softhsm import SOFTHSM_LIB, SoftHsmLab, TestCa, TokenSpec
from tests.lab.vcard import InsertedCard, PivCard, PkiSimCard

TOKENFLEET = str(Path(sys.executable).parent / "tokenfleet")


def prepare(url: str, serials: list[tuple[str, str]]) -> None:
    """A new register holding these (kind, serial) devices, issued to one holder."""
    from inventory.fleet import lifecycle
    from inventory.register.db import Register

    # The register is new (a fresh temporary file, a database created by main()): nothing to
    # empty, and the trail is append-only on PostgreSQL anyway.
    reg = Register.open(url, auto_upgrade=True)
    with reg.session() as s:
        agency = lifecycle.add_agency(s, code="BENCH", name="Sở Thông tin và Truyền thông",
                                      actor="bench")
        holder = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=agency, actor="bench")
        for kind, serial in serials:
            d = lifecycle.add_device(s, kind=kind, serial=serial, actor="bench")
            lifecycle.issue(s, d, holder, method="in_person", actor="bench")
    reg.dispose()


def last_seen(reg: object, serial: str) -> object:
    from sqlalchemy import select

    from inventory.register.models import Device

    with reg.read() as s:  # type: ignore[attr-defined]
        return s.scalar(select(Device.last_seen_at).where(Device.serial == serial))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_backend(name: str, url: str, daemon: Pcscd, ca: TestCa, specs: list[TokenSpec],
                  args: argparse.Namespace) -> None:
    from inventory.readers import sync
    from inventory.readers.hardware import HardwareConfig, Poller
    from inventory.register.db import Register

    print(f"\n=== {name} ===")
    trial_serials = [f"{8500000000000000 + i}" for i in range(args.trials)]
    fleet: list[tuple[str, object]] = []
    for i in range(8):
        if i % 4 == 3:
            fleet.append(("pki_sim", PkiSimCard(f"89840480001234{i:05d}", tries_left=3)))
        else:
            fleet.append(("usb_token", PivCard(f"{8400000000000200 + i}",
                                               {"9A": ca.quick_cert(i + 1)},
                                               tries_left=3 - (i % 3))))
    serials = ([("usb_token", s) for s in trial_serials]
               + [(k, c.iccid if isinstance(c, PkiSimCard) else c.serial)  # type: ignore[attr-defined]
                  for k, c in fleet]
               + [("usb_token", s.serial.lower()) for s in specs])
    prepare(url, serials)
    reg = Register.open(url)
    env = {**os.environ, "TOKENFLEET_DATABASE_URL": url}

    # ------------------------------------------------------------ 1. insertion → register
    watch = subprocess.Popen([TOKENFLEET, "poll", "--watch", "--station", "bench"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    inserted: list[InsertedCard] = []
    try:
        time.sleep(2.0)  # start-up: python, register, first pass over empty readers
        lat = []
        for i, serial in enumerate(trial_serials):
            t0 = time.perf_counter()
            ic = InsertedCard(PivCard(serial, {"9A": ca.quick_cert(i + 1)}), 14).start()
            deadline = t0 + 10
            while last_seen(reg, serial) is None:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{serial} never reached the register")
                time.sleep(0.005)
            lat.append((time.perf_counter() - t0) * 1000)
            ic.stop()
            wait_reader(daemon.readers[14], False)
        lat.sort()
        print(f"1. insertion → register row (poll --watch), n={len(lat)}: median "
              f"{statistics.median(lat):.0f} ms, min {lat[0]:.0f}, max {lat[-1]:.0f} "
              "(target < 600 ms)")

        # ------------------------------------------------------------ 3. idle CPU
        for i, (_kind, card) in enumerate(fleet):
            inserted.append(InsertedCard(card, i).start())  # type: ignore[arg-type]
        for i in range(8):
            wait_reader(daemon.readers[i], True)
        time.sleep(2.0)  # let the watcher read them
        c0, w0 = cpu_seconds(watch.pid), time.monotonic()
        time.sleep(args.idle)
        c1, w1 = cpu_seconds(watch.pid), time.monotonic()
        idle_line = (f"3. idle `poll --watch` ({w1 - w0:.0f} s, 8 cards in, PC/SC only): "
                     f"{(c1 - c0) * 1000:.0f} ms CPU = {100 * (c1 - c0) / (w1 - w0):.2f}% of a "
                     "core (target < 1%)")
    finally:
        watch.terminate()
        watch.wait(15)

    # ------------------------------------------------------------ 2. one pass with the sync
    config = HardwareConfig(pkcs11_modules=(SOFTHSM_LIB,))
    with Poller(config) as poller:

        def ours() -> int:
            result = poller.scan_once()
            with reg.session() as s:
                sync.sync_observations(s, result.observations, host="bench")
            return len(result.observations)

        assert ours() == 8 + len(specs)  # first pass attaches certificates: not timed
        a, b = [], []
        for _ in range(args.runs):  # interleaved: a noisy neighbour weighs on both alike
            t0 = time.perf_counter()
            ours()
            a.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            bare_pcsc_scan()
            bare_pkcs11_scan()
            b.append((time.perf_counter() - t0) * 1000)
    cli = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([TOKENFLEET, "poll", "--once", "--station", "bench", "--pkcs11-module",
                        SOFTHSM_LIB], env=env, check=True, stdout=subprocess.DEVNULL)
        cli.append((time.perf_counter() - t0) * 1000)
    pa, pb = statistics.median(a), statistics.median(b)
    print(f"2. one pass, 8 cards + {len(specs)} SoftHSM tokens, median of {args.runs}: "
          f"scan + sync {pa:.1f} ms vs bare reads {pb:.1f} ms = {pa / pb:.2f}x (target ≤ 2x); "
          f"whole `tokenfleet poll --once` process {statistics.median(cli):.0f} ms")
    print(idle_line)
    for ic in inserted:
        ic.stop()
    reg.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("TOKENFLEET_TEST_PG_URL"),
                    help="PostgreSQL URL (a scratch database); default TOKENFLEET_TEST_PG_URL")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    problems = lab_problems()
    if problems:
        print("lab unavailable:", "; ".join(problems), file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="tokenfleet-bench-poll-"))
    hsm = SoftHsmLab(tmp / "softhsm")
    hsm.activate()  # before any pkcs11.lib() in this process (and inherited by the CLI)
    ca = TestCa()
    specs = hsm.create_tokens(args.tokens, ca)
    daemon = Pcscd(tmp / "pcscd")
    daemon.start()
    try:
        backends = [("SQLite file", f"sqlite:///{tmp / 'register.sqlite3'}")]
        if args.pg:
            from sqlalchemy import create_engine, text

            from inventory.register.db import make_engine

            admin = create_engine(make_engine(args.pg).url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS tf_bench_poll WITH (FORCE)"))
                conn.execute(text("CREATE DATABASE tf_bench_poll"))
            backends.append(("PostgreSQL", admin.url.set(database="tf_bench_poll")
                             .render_as_string(hide_password=False)))
            admin.dispose()
        for name, url in backends:
            bench_backend(name, url, daemon, ca, specs, args)
    finally:
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
