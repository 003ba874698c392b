"""Many desks benchmark (issue 8): lifecycle-move throughput with 1 and 8 concurrent writers on
SQLite and PostgreSQL, and the latency from a move in one process to another process seeing it.

    .venv/bin/python -m tests.benchmarks.bench_desks [--seconds 10] [--pg URL]

PostgreSQL comes from ``--pg`` or ``TOKENFLEET_TEST_PG_URL`` (a scratch database is created
on that server and dropped after). Not part of the test suite; no figure is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
import uuid
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

from sqlalchemy import create_engine, text

from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.register.changes import ChangeWatcher
from inventory.register.db import Register, make_engine

DEVICES_PER_WRITER = 20


def setup(url: str, writers: int) -> None:
    reg = Register.open(url, auto_upgrade=True)
    with reg.session() as s:
        agency = lifecycle.add_agency(s, code="B", name="Sở Bench", actor="bench")
        holder = lifecycle.add_holder(s, full_name="Nguyễn Văn Bench", agency=agency,
                                      actor="bench")
        for w in range(writers):
            for i in range(DEVICES_PER_WRITER):
                d = lifecycle.add_device(s, kind="usb_token", serial=f"W{w}-{i}", actor="bench")
                lifecycle.issue(s, d, holder, method="in_person", actor="bench")
    reg.dispose()


def throughput(url: str, writers: int, seconds: float) -> float:
    done = [0] * writers
    stop = time.monotonic() + seconds

    def desk(w: int) -> None:
        reg = Register.open(url)
        i = 0
        while time.monotonic() < stop:
            serial = f"W{w}-{i % DEVICES_PER_WRITER}"
            with reg.session() as s:
                device = get_device(s, serial)
                move = "lock" if device.status == "issued" else "unlock"
                lifecycle.apply_move(s, device, move, actor=f"desk{w}")
            done[w] += 1
            i += 1
        reg.dispose()

    threads = [threading.Thread(target=desk, args=(w,)) for w in range(writers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def _watch(url: str, ready: EventType, seen: mp.Queue, count: int) -> None:
    reg = Register.open(url)
    watcher = ChangeWatcher(reg)
    ready.set()
    while count:
        if watcher.wait(timeout=2.0):
            seen.put(time.time())
            count -= 1
    watcher.close()
    reg.dispose()


def latency(url: str, samples: int) -> list[float]:
    ctx = mp.get_context("spawn")
    ready, seen = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_watch, args=(url, ready, seen, samples))
    proc.start()
    ready.wait(30)
    time.sleep(0.5)
    reg = Register.open(url)
    out = []
    for i in range(samples):
        with reg.session() as s:
            device = get_device(s, f"W0-{i % DEVICES_PER_WRITER}")
            lifecycle.apply_move(s, device, "lock" if device.status == "issued" else "unlock",
                                 actor="latency")
        committed = time.time()
        out.append((seen.get(timeout=10) - committed) * 1000)
        time.sleep(0.15)
    proc.join(10)
    reg.dispose()
    return out


def run(name: str, url: str, seconds: float) -> None:
    setup(url, 8)
    one = throughput(url, 1, seconds)
    eight = throughput(url, 8, seconds)
    lat = sorted(latency(url, 20))
    print(f"{name:10} 1 writer {one:7.0f} moves/s   8 writers {eight:7.0f} moves/s "
          f"({eight / one:4.2f}× of one)   move → other process sees it: p50 "
          f"{statistics.median(lat):6.1f} ms, p95 {lat[int(len(lat) * .95) - 1]:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pg", default=os.environ.get("TOKENFLEET_TEST_PG_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'desks.sqlite3'}", args.seconds)
    if args.pg:
        admin = create_engine(make_engine(args.pg).url, isolation_level="AUTOCOMMIT")
        name = f"tf_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        try:
            run("PostgreSQL", admin.url.set(database=name).render_as_string(hide_password=False),
                args.seconds)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            admin.dispose()


if __name__ == "__main__":
    main()
