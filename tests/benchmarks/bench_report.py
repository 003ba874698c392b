"""Monthly-report benchmark (not a test): 100,000 devices with years of audit events.

    .venv/bin/python -m tests.benchmarks.bench_report [--devices 100000] [--db /tmp/...]

Builds (once, then reuses) a demo register on a SQLite file, then runs in fresh subprocesses:
  1. ``tokenfleet report monthly`` (the real command) → wall time and peak RSS;
  2. the floor: the same cells (read back from the report's own CSV output) written with
     XlsxWriter constant_memory, no styling, no database → wall time and peak RSS.
Peak RSS comes from ``os.wait4`` per child. Figures are one run; compare them as ratios.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKENFLEET = str(ROOT / ".venv" / "bin" / "tokenfleet")
TABLES = ("register", "expiring", "activity", "locked_lost", "by_agency", "summary", "trend",
          "status_by_top_agency")


def ensure_register(url: str, devices: int) -> None:
    from sqlalchemy import func, select

    from inventory.demo import city as demo
    from inventory.register.db import Register
    from inventory.register.models import Device

    reg = Register.open(url)
    try:
        with reg.read() as s:
            have = s.scalar(select(func.count()).select_from(Device)) or 0
        if have == devices:
            return
        if have:
            raise SystemExit(f"{url} holds {have} devices, not {devices}: delete it first")
        started = time.perf_counter()
        with reg.session() as s:
            summary = demo.generate(s.connection(), devices=devices, seed=5)
        print(f"generated {summary.devices} devices, {summary.events} events in "
              f"{time.perf_counter() - started:.0f} s")
    finally:
        reg.dispose()


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[:3]}… failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss / 1024


def floor(folder: str, out: str) -> None:
    """The plainest writer of the same cells: constant_memory, write_string, no formats."""
    import xlsxwriter

    csv.field_size_limit(1 << 20)
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    for table in TABLES:
        ws = book.add_worksheet(table)
        with open(Path(folder) / f"{table}.csv", encoding="utf-8-sig", newline="") as fh:
            for r, row in enumerate(csv.reader(fh)):
                for c, value in enumerate(row):
                    if value:
                        ws.write_string(r, c, value)
    book.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--db", default="/tmp/tokenfleet-bench-report.sqlite3")
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    env = {**os.environ, "TOKENFLEET_DATABASE_URL": url}
    # in a child, so this process stays small: a child's peak RSS includes its parent's at fork
    subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_report", "--ensure", url,
                    str(args.devices)], check=True, env=env)
    with tempfile.TemporaryDirectory() as tmp:
        report = f"{tmp}/fleet.xlsx"
        wall, rss = run([TOKENFLEET, "report", "monthly", "--output", report], env)
        csv_wall, csv_rss = run([TOKENFLEET, "report", "monthly", "--format", "csv",
                                 "--output", f"{tmp}/csv"], env)
        floor_wall, floor_rss = run([sys.executable, "-m", "tests.benchmarks.bench_report",
                                     "--floor", f"{tmp}/csv", f"{tmp}/floor.xlsx"], env)
        cells = 0
        for table in TABLES:
            with open(f"{tmp}/csv/{table}.csv", encoding="utf-8-sig", newline="") as fh:
                cells += sum(sum(1 for v in row if v) for row in csv.reader(fh))
        size, floor_size = os.path.getsize(report), os.path.getsize(f"{tmp}/floor.xlsx")
    print(f"devices {args.devices:,}; cells written {cells:,}")
    print(f"report monthly (xlsx): {wall:6.1f} s  peak RSS {rss:5.0f} MB  ({size / 1e6:.1f} MB)")
    print(f"report monthly (csv):  {csv_wall:6.1f} s  peak RSS {csv_rss:5.0f} MB")
    print(f"floor (XlsxWriter constant_memory, no styling, no database): {floor_wall:6.1f} s  "
          f"peak RSS {floor_rss:5.0f} MB  ({floor_size / 1e6:.1f} MB)")
    print(f"ratio report / floor: {wall / floor_wall:.2f}x wall (target ≤ 2x); "
          f"peak memory {rss:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--floor":
        floor(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "--ensure":
        ensure_register(sys.argv[2], int(sys.argv[3]))
    else:
        main()
