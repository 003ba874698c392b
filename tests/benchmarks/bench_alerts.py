"""Benchmark: ``alerts run --dry-run`` on a 1,000,000-device SQLite register.

Compares the whole dry run (rules, ledger look-ups, recipients, printing) with the one raw SQL
query that finds the same certificates. Run: ``.venv/bin/python -m tests.benchmarks.bench_alerts``
(``--devices N`` for a smaller register). The register is built once into /tmp and reused.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from inventory.alerts import AlertSettings, run_alerts
from inventory.alerts.rules import RULE_ORDER
from inventory.cli.alerts_cmd import print_plan
from inventory.demo import city as demo
from inventory.register.db import Register

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
CERT_RULES = ("cert_expiring", "cert_expired")


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


RAW_QUERY = """
SELECT c.id, c.not_after, c.serial, d.id, d.serial, d.agency_id, h.full_name
FROM certificates c
JOIN devices d ON d.id = c.device_id
LEFT JOIN holders h ON h.id = d.holder_id
WHERE c.status = 'active' AND c.not_after < ? AND d.status IN ('issued', 'locked')
"""


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    path = Path(f"/tmp/tokenfleet_bench_{args.devices}.sqlite3")
    url = build(path, args.devices)
    if args.build_only:
        return
    register = Register.open(url)  # upgrades the reused file to the current schema
    settings = AlertSettings()
    horizon = (NOW + timedelta(days=max(settings.thresholds))).strftime("%Y-%m-%d %H:%M:%S.%f")

    raw = sqlite3.connect(str(path))
    plan = raw.execute("EXPLAIN QUERY PLAN " + RAW_QUERY, (horizon,)).fetchall()
    raw_s, rows = median_time(lambda: raw.execute(RAW_QUERY, (horizon,)).fetchall(), args.repeat)
    raw.close()

    def dry_run(rules: tuple[str, ...]) -> int:
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            result = run_alerts(register, settings, channels=("smtp",), host="bench",
                                out=sink, now=NOW, dry_run=True, rules=rules)
            print_plan(result, "table")
        return len(result.planned)

    tokenfleet = str(Path(sys.executable).with_name("tokenfleet"))
    env = dict(os.environ, TOKENFLEET_DATABASE_URL=url)

    def command(rules: tuple[str, ...]) -> int:
        args = [tokenfleet, "alerts", "run", "--dry-run", "--now", NOW.isoformat()]
        for rule in rules if rules != RULE_ORDER else ():
            args += ["--rule", rule]
        return subprocess.run(args, env=env, stdout=subprocess.DEVNULL, check=False).returncode

    print(f"register: {args.devices} devices ({path})")
    print(f"query plan: {' / '.join(str(p[-1]) for p in plan)}")
    print(f"raw SQL (sqlite3, fetch all): {raw_s * 1000:.0f} ms, {len(rows)} certificates")  # type: ignore[arg-type]
    for label, rules in (("certificate rules", CERT_RULES), ("all rules", RULE_ORDER)):
        in_s, n = median_time(lambda rules=rules: dry_run(rules), args.repeat)
        cmd_s, code = median_time(lambda rules=rules: command(rules), max(3, args.repeat // 2))
        print(f"dry run, {label}: {n} alerts; in-process {in_s * 1000:.0f} ms "
              f"({in_s / raw_s:.1f}x raw); `tokenfleet alerts run --dry-run` command "
              f"{cmd_s * 1000:.0f} ms ({cmd_s / raw_s:.1f}x raw, exit {code})")
    register.dispose()


if __name__ == "__main__":
    main()
