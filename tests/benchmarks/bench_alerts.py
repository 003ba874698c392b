"""Benchmark: ``alerts run --dry-run`` on a 1,000,000-device SQLite register.

Compares each rule's whole dry run (the rule, ledger look-ups, recipients, sorting, printing)
with the one raw SQL query that finds the same rows (fetched whole with sqlite3), then all rules
together with the sum of those queries. Run: ``.venv/bin/python -m tests.benchmarks.bench_alerts``
(``--devices N`` for a smaller register, ``--register FILE`` for an existing one). The register
is built once into /tmp and reused. The CA rule has work only when trust anchors and a CRL are
held (``bench_ca`` sets them up).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from inventory.alerts import AlertSettings
from inventory.alerts.rules import RULE_ORDER
from inventory.cli.alerts_cmd import print_plan
from inventory.demo import city as demo
from inventory.register.db import Register
from inventory.services import alerts as alert_desk

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def build(path: Path, devices: int) -> str:
    """Build (once) a demo register of ``devices`` devices at ``path``; return its URL."""
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    tmp = path.with_suffix(".building")
    for leftover in tmp.parent.glob(tmp.name + "*"):
        leftover.unlink()
    reg = Register.open(f"sqlite:///{tmp}")
    started = time.perf_counter()
    with reg.session() as session:
        session.execute(text("PRAGMA cache_size=-262144"))
        demo.generate(session.connection(), devices=devices, seed=11, now=NOW,
                      progress=lambda done, total: print(f"  {done}/{total}", file=sys.stderr)
                      if done % 100_000 == 0 else None)
    reg.engine.dispose()
    os.replace(tmp, path)
    print(f"built {devices} devices in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


# Each rule's raw SQL: the one query that finds the same rows, fetched whole with sqlite3.
RAW_QUERIES: dict[str, tuple[tuple[str, ...], str, Callable[[datetime, AlertSettings],
                                                            tuple[str, ...]]]] = {
    "certificates": (("cert_expiring", "cert_expired"), """
        SELECT c.id, c.not_after, c.serial, d.id, d.serial, d.agency_id, h.full_name
        FROM certificates c JOIN devices d ON d.id = c.device_id
        LEFT JOIN holders h ON h.id = d.holder_id
        WHERE c.status = 'active' AND c.not_after < ? AND d.status IN ('issued', 'locked')""",
        lambda now, s: (ts(now + timedelta(days=max(s.thresholds))),)),
    "locked": (("device_locked",), """
        SELECT d.id, d.serial, d.agency_id, d.lock_count, d.status_changed_at, h.full_name
        FROM devices d LEFT JOIN holders h ON h.id = d.holder_id
        WHERE d.status = 'locked' AND d.status_changed_at < ?""",
        lambda now, s: (ts(now - timedelta(days=s.locked_days)),)),
    "unseen": (("device_unseen",), """
        SELECT d.id, d.serial, d.agency_id, d.last_seen_at, h.full_name
        FROM devices d LEFT JOIN holders h ON h.id = d.holder_id
        WHERE d.last_seen_at IS NOT NULL AND d.last_seen_at < ?
          AND d.status IN ('issued', 'locked')""",
        lambda now, s: (ts(now - timedelta(days=s.unseen_days)),)),
    "pending": (("request_pending",), """
        SELECT id, kind, external_ref, agency_id, submitted_at FROM service_requests
        WHERE state = 'submitted' AND submitted_at < ?""",
        lambda now, s: (ts(now - timedelta(days=s.pending_days)),)),
    # the CA rule: a bare pass over the active certificates (+status: its fastest plan, a
    # table scan), looked up in the CRLs held (see bench_ca)
    "ca": (("ca_mismatch",), """
        SELECT serial, issuer_key FROM certificates WHERE +status = 'active'""",
        lambda now, s: ()),
}


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--register", type=Path, help="an existing SQLite register file")
    parser.add_argument("--now", help="ISO time the rules run at (default: the demo's clock)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    path = args.register or Path(f"/tmp/tokenfleet_bench_{args.devices}.sqlite3")
    url = f"sqlite:///{path}" if args.register else build(path, args.devices)
    if args.build_only:
        return
    now = datetime.fromisoformat(args.now) if args.now else NOW
    register = Register.open(url)  # upgrades the reused file to the current schema
    settings = AlertSettings()
    raw = sqlite3.connect(str(path))
    crl_serials: set[str] = set()
    for (entries,) in raw.execute("SELECT entries FROM ca_crls"):
        crl_serials |= set(entries.split("\n"))

    def raw_rule(sql: str, params: tuple[str, ...], key: str) -> int:
        rows = raw.execute(sql, params).fetchall()
        if key == "ca":
            return sum(1 for serial, _issuer in rows if serial in crl_serials)
        return len(rows)

    def dry_run(rules: tuple[str, ...]) -> int:
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            result = alert_desk.run_job(register, settings, channels=("smtp",), host="bench",
                                        out=sink, now=now, dry_run=True, rules=rules)
            print_plan(result, "table")
        return len(result.planned)

    tokenfleet = str(Path(sys.executable).with_name("tokenfleet"))
    env = dict(os.environ, TOKENFLEET_DATABASE_URL=url)

    def command(rules: tuple[str, ...]) -> int:
        cmd = [tokenfleet, "alerts", "run", "--dry-run", "--now", now.isoformat()]
        for rule in rules if rules != RULE_ORDER else ():
            cmd += ["--rule", rule]
        return subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False).returncode

    load = os.getloadavg()
    print(f"register: {path}; rules at {now:%Y-%m-%d %H:%M}; load average {load[0]:.2f}")
    total_raw = 0.0
    for key, (rules, sql, params) in RAW_QUERIES.items():
        bound = params(now, settings)

        def raw_pass(sql: str = sql, bound: tuple[str, ...] = bound, key: str = key) -> int:
            return raw_rule(sql, bound, key)

        def rule_run(rules: tuple[str, ...] = rules) -> int:
            return dry_run(rules)

        raw_s, found = median_time(raw_pass, args.repeat)
        total_raw += raw_s
        in_s, n = median_time(rule_run, args.repeat)
        print(f"{key:<13} raw SQL {raw_s * 1000:7.0f} ms ({found} rows); dry run "
              f"{in_s * 1000:7.0f} ms, {n} alerts: {in_s / raw_s:.1f}x")
    in_s, n = median_time(lambda: dry_run(RULE_ORDER), args.repeat)
    cmd_s, code = median_time(lambda: command(RULE_ORDER), max(3, args.repeat // 2))
    print(f"all rules     raw SQL {total_raw * 1000:7.0f} ms (every query); dry run "
          f"{in_s * 1000:7.0f} ms, {n} alerts: {in_s / total_raw:.1f}x; "
          f"`tokenfleet alerts run --dry-run` {cmd_s * 1000:.0f} ms "
          f"({cmd_s / total_raw:.1f}x, exit {code})")
    after = os.getloadavg()
    print(f"load average after: {after[0]:.2f}")
    raw.close()
    register.dispose()


if __name__ == "__main__":
    main()
