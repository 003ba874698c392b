"""Security benchmark (issue 12): what database-enforced roles, the append-only trail's triggers,
row-level security and the replay in ``audit verify`` cost.

    .venv/bin/python -m tests.benchmarks.bench_security moves [--seconds 8] [--rounds 3]
        [--pg URL] [--baseline /work/baseline]
    .venv/bin/python -m tests.benchmarks.bench_security scoped --pg URL_OF_A_1M_REGISTER
        [--agency QHC]
    .venv/bin/python -m tests.benchmarks.bench_security verify [--pg URL] [--sqlite FILE]
        [--baseline /work/baseline]

``moves``: lifecycle moves per second with 1 and 8 writers on SQLite and PostgreSQL, the code
before this work (``--baseline``, a checkout with its own ``.venv``) and this code one after the
other, alternating for ``--rounds``; on PostgreSQL this code's writers are operator logins of
their own (so every trigger and policy is on their path), the old code's the superuser.
``scoped``: on a 1,000,000-device PostgreSQL register (``tokenfleet demo --devices 1000000``),
the first page and the full result of ``devices`` for an operator scoped to an agency (row-level
security) against the owner's unscoped ``devices --agency`` of the same subtree.
``verify``: ``audit verify`` (chain, then replay to every device) against a plain scan of
``events`` (every row read through the driver), and the old code's verify, on 1M registers.
Prints medians and ratios with the load average. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[2]
DEVICES_PER_WRITER = 20


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- compatibility: run with the old layout (inventory.lifecycle) or the new one -------------

def _mods() -> dict[str, Any]:
    """This interpreter's code: the layered layout (new) or the flat one before it (old)."""
    new = importlib.util.find_spec("inventory.fleet") is not None
    names = (("inventory.fleet.lifecycle", "inventory.fleet.queries", "inventory.register.db")
             if new else ("inventory.lifecycle", "inventory.queries", "inventory.db"))
    lifecycle, queries, db = (importlib.import_module(n) for n in names)
    # database roles came with seals (issue 12): main before it has the layered layout too
    roles = new and importlib.util.find_spec("inventory.register.seal") is not None
    return {"lifecycle": lifecycle, "get_device": queries.get_device, "Register": db.Register,
            "make_engine": db.make_engine, "new": new, "roles": roles}


# --- moves -----------------------------------------------------------------------------------

def _worker_moves(url: str, seconds: float) -> dict[str, float]:
    """In this interpreter's code: set up 8 writers' devices, then moves/s with 1 and 8."""
    from sqlalchemy import create_engine, make_url, text

    m = _mods()
    Register, lifecycle, get_device = m["Register"], m["lifecycle"], m["get_device"]
    reg = Register.open(url, auto_upgrade=True)
    owner = make_url(url).username or "bench"
    with reg.session() as s:
        agency = lifecycle.add_agency(s, code="B", name="Sở Bench", actor=owner)
        holder = lifecycle.add_holder(s, full_name="Nguyễn Văn Bench", agency=agency,
                                      actor=owner)
        for w in range(8):
            for i in range(DEVICES_PER_WRITER):
                d = lifecycle.add_device(s, kind="usb_token", serial=f"W{w}-{i}", actor=owner)
                lifecycle.issue(s, d, holder, method="in_person", actor=owner)
    logins: list[str] = []
    postgres = url.startswith("postgresql")
    if postgres and m["roles"]:  # each desk logs in as its own operator
        from inventory.register import operators

        for w in range(8):
            name = f"bench_desk{w}_{uuid.uuid4().hex[:6]}"
            with reg.session() as s:
                operators.set_operator(s, name, "operator", actor=owner)
            logins.append(name)
    reg.dispose()

    def desk_url(w: int) -> str:
        if not logins:
            return url
        return make_url(url).set(username=logins[w]).render_as_string(hide_password=False)

    def throughput(writers: int) -> float:
        done = [0] * writers
        stop = time.monotonic() + seconds

        def desk(w: int) -> None:
            r = Register.open(desk_url(w))
            actor = logins[w] if logins else f"desk{w}"
            i = 0
            while time.monotonic() < stop:
                with r.session() as s:
                    device = get_device(s, f"W{w}-{i % DEVICES_PER_WRITER}")
                    move = "lock" if device.status == "issued" else "unlock"
                    lifecycle.apply_move(s, device, move, actor=actor)
                done[w] += 1
                i += 1
            r.dispose()

        threads = [threading.Thread(target=desk, args=(w,)) for w in range(writers)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(done) / (time.monotonic() - t0)

    result = {"one": throughput(1), "eight": throughput(8)}
    if logins:
        admin = create_engine(m["make_engine"](url).url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in logins:
                conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()
    return result


def _scratch_pg(pg: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, make_url, text

    base = make_url(pg).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"tf_bench_sec_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def _run_worker(tree: Path, args: list[str]) -> dict[str, Any]:
    python = tree / ".venv" / "bin" / "python"
    out = subprocess.run([str(python), str(Path(__file__)), *args], cwd=tree, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_moves(args: argparse.Namespace) -> None:
    trees = {"old": Path(args.baseline), "new": HERE}
    backends = [("SQLite", None)] + ([("PostgreSQL", args.pg)] if args.pg else [])
    print(f"moves per second, {args.seconds:.0f} s per figure, {args.rounds} rounds "
          f"(load {_load()})")
    for name, pg in backends:
        figures: dict[str, dict[str, list[float]]] = {t: {"one": [], "eight": []} for t in trees}
        for _ in range(args.rounds):
            for label, tree in trees.items():
                if pg:
                    url, drop = _scratch_pg(pg)
                else:
                    tmp = tempfile.mkdtemp(prefix="tf-bench-sec-")
                    url, drop = f"sqlite:///{tmp}/r.sqlite3", None
                try:
                    got = _run_worker(tree, ["_moves", url, str(args.seconds)])
                finally:
                    if drop:
                        drop()
                for k in ("one", "eight"):
                    figures[label][k].append(got[k])
        for k, writers in (("one", 1), ("eight", 8)):
            old, new = _median(figures["old"][k]), _median(figures["new"][k])
            print(f"{name:10} {writers} writer{'s' if writers > 1 else ' '}: old {old:7.0f}/s  "
                  f"new {new:7.0f}/s  new is {old / new:4.2f}× slower  "
                  f"(rounds old {[round(v) for v in figures['old'][k]]}, "
                  f"new {[round(v) for v in figures['new'][k]]})")
    print(f"(load after: {_load()})")


# --- scoped devices at 1M --------------------------------------------------------------------

def _timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return _median(times), result


def bench_scoped(args: argparse.Namespace) -> None:
    from sqlalchemy import make_url

    from inventory.fleet.queries import DeviceFilter, count_devices, device_page, iter_devices
    from inventory.register import operators
    from inventory.register.db import Register

    owner = Register.open(args.pg)
    name = f"bench_scoped_{uuid.uuid4().hex[:6]}"
    with owner.session() as s:
        operators.set_operator(s, name, "operator", actor=str(make_url(args.pg).username),
                               agency_code=args.agency)
    scoped = Register.open(make_url(args.pg).set(username=name)
                           .render_as_string(hide_password=False))
    subtree = DeviceFilter(agency_code=args.agency)
    print(f"devices of agency {args.agency}'s subtree at 1M, median of {args.repeat} "
          f"(load {_load()})")
    try:
        rows = {}
        for label, reg, f in (("owner --agency", owner, subtree), ("scoped login", scoped,
                                                                   DeviceFilter())):
            with reg.read() as s:
                device_page(s, f, limit=50)  # warm the cache and the plan
                first, page = _timed(lambda s=s, f=f: device_page(s, f, limit=50), args.repeat)
                full, n = _timed(lambda s=s, f=f: sum(1 for _ in iter_devices(s, f)),
                                 max(1, args.repeat // 3))
                count, total = _timed(lambda s=s, f=f: count_devices(s, f), args.repeat)
            rows[label] = (first, full, n, [r.serial for r in page.rows], count, total)
            print(f"  {label:15} first page {first * 1000:7.1f} ms   full result {full:6.2f} s "
                  f"({n} devices)   count {count * 1000:6.1f} ms")
        (f1, a1, n1, p1, c1, t1), (f2, a2, n2, p2, c2, t2) = rows.values()
        assert n1 == n2 == t1 == t2 and p1 == p2, "the scoped login must see exactly the subtree"
        print(f"  scoped / owner: first page {f2 / f1:4.2f}×, full result {a2 / a1:4.2f}×, "
              f"count {c2 / c1:4.2f}× (load {_load()})")
    finally:
        scoped.dispose()
        with owner.session() as s:
            operators.disable_operator(s, name, actor=str(make_url(args.pg).username))
        owner.dispose()
        from sqlalchemy import create_engine, text

        admin = create_engine(make_url(args.pg).set(drivername="postgresql+psycopg"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


# --- audit verify at 1M ----------------------------------------------------------------------

def _worker_old_verify(url: str) -> dict[str, float]:
    """The code before this work: its verify, on the same database (no revision check)."""
    from sqlalchemy.orm import Session

    layered = importlib.util.find_spec("inventory.register") is not None
    audit = importlib.import_module("inventory.register.audit" if layered else "inventory.audit")
    engine = importlib.import_module("inventory.register.db" if layered
                                     else "inventory.db").make_engine(url)
    t0 = time.perf_counter()
    with Session(engine) as s:
        result = audit.verify(s)
    return {"seconds": time.perf_counter() - t0, "events": result.events}


def _plain_scan(url: str) -> tuple[float, int]:
    from sqlalchemy import select

    from inventory.register.db import Register
    from inventory.register.models import Event

    reg = Register.open(url)
    cols = [c for c in Event.__table__.c]
    t0 = time.perf_counter()
    with reg.read() as s:
        n = 0
        with s.connection().execute(select(*cols).execution_options(yield_per=5000)) as rows:
            for _ in rows:
                n += 1
    reg.dispose()
    return time.perf_counter() - t0, n


def bench_verify(args: argparse.Namespace) -> None:
    from inventory.fleet import replay
    from inventory.register.db import Register

    targets = [(n, u) for n, u in (("PostgreSQL", args.pg), ("SQLite", args.sqlite and
                                   f"sqlite:///{args.sqlite}")) if u]
    for name, url in targets:
        print(f"{name}: audit verify at 1M (load {_load()})")
        scan, n = _plain_scan(url)
        print(f"  plain scan of events ({n} rows through the driver): {scan:6.1f} s")
        reg = Register.open(url)
        t0 = time.perf_counter()
        with reg.read() as s:
            chain = replay.check_register(s)  # the chain, and (meanwhile on PG) the replay
        t1 = time.perf_counter()
        with reg.read() as s:
            found = replay.discrepancies(s)
        t2 = time.perf_counter()
        reg.dispose()
        assert not found, found[:3]
        print(f"  audit verify (chain and replay): {t1 - t0:6.1f} s ({chain.events} events) → "
              f"{(t1 - t0) / scan:4.2f}× the plain scan; the replay alone {t2 - t1:5.1f} s → "
              f"{(t2 - t1) / scan:4.2f}×")
        if args.baseline:
            old = _run_worker(Path(args.baseline), ["_old_verify", url])
            print(f"  old code's verify (chain only): {old['seconds']:6.1f} s → new "
                  f"{(t1 - t0) / old['seconds']:4.2f}× of it (load {_load()})")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):  # a worker, in either code tree
        sys.path.insert(0, os.getcwd())
        worker = {"_moves": lambda: _worker_moves(sys.argv[2], float(sys.argv[3])),
                  "_old_verify": lambda: _worker_old_verify(sys.argv[2])}[sys.argv[1]]
        print(json.dumps(worker()))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    moves = sub.add_parser("moves")
    moves.add_argument("--seconds", type=float, default=8)
    moves.add_argument("--rounds", type=int, default=3)
    moves.add_argument("--pg", default=os.environ.get("TOKENFLEET_TEST_PG_URL"))
    moves.add_argument("--baseline", default="/work/baseline")
    scoped = sub.add_parser("scoped")
    scoped.add_argument("--pg", required=True)
    scoped.add_argument("--agency", default="QHC")
    scoped.add_argument("--repeat", type=int, default=9)
    verify = sub.add_parser("verify")
    verify.add_argument("--pg")
    verify.add_argument("--sqlite")
    verify.add_argument("--baseline", default="/work/baseline")
    args = parser.parse_args()
    {"moves": bench_moves, "scoped": bench_scoped, "verify": bench_verify}[args.what](args)


if __name__ == "__main__":
    main()
