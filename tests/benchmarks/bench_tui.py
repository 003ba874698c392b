"""Benchmark of the terminal UI on a 1,000,000-device SQLite register (not a test).

    .venv/bin/python -m tests.benchmarks.bench_tui [--devices 1000000] [--db PATH]
        [--runs 5] [--json out.json]
    .venv/bin/python -m tests.benchmarks.bench_tui --compare old.json new.json

Builds the register once (the demo city, seed 7, the tests' fixed clock) into
``/tmp/tokenfleet_bench_1m.sqlite3`` and reuses it. Measures, against the issue's targets:

1. start → first screen with data: the real ``tokenfleet tui`` in tmux, from spawning the
   process until the screen shows data (devices table: its position line; dashboard: the
   device total), polled every 20 ms (target < 1.5 s);
2. keystroke in the search box → table updated: in-process (``App.run_test``), from the app
   receiving the edit to the new rows being in the table, debounce off (target p95 < 100 ms);
   the typed names include 1-, 2- and ≥3-letter prefixes (name index vs trigram index);
3. the dashboard filling in: in-process, when each figure is first shown after the app starts
   — the first one, and the last (the dashboard must not wait for its slowest figure);
4. RSS of the running app after paging and searching (target < 200 MB), from /proc.

The harness only uses what every version of the app has (the screens, ``Figure.show``,
``DeviceTable._show``), so an older checkout can be measured with this file on the same
register, one run after the other: ``--json`` keeps the figures, ``--compare`` prints the new
run's as ratios of the old one's (the goal: first screen and keystroke p95 ≤ 0.7×).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXED_NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
DEFAULT_DB = Path("/tmp/tokenfleet_bench_1m.sqlite3")
SEARCHES = ("nguyen van an", "tran thi", "dang quoc", "le minh", "pham thu ha", "vo",
            "hoang anh phuc", "5400000000012")


def _register_class() -> Any:
    try:
        from inventory.register.db import Register
    except ImportError:  # an older checkout: the flat layout
        from inventory.db import Register  # type: ignore[no-redef]
    return Register


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def build(path: Path, devices: int) -> None:
    if path.exists():
        return
    print(f"building {devices:,} devices into {path} (once; a few minutes)…", flush=True)
    from inventory.demo import city as demo

    partial = path.with_suffix(".partial")
    reg = _register_class().open(f"sqlite:///{partial}")
    with reg.session() as session:
        demo.generate(session.connection(), devices=devices, seed=7, now=FIXED_NOW)
    reg.dispose()
    os.replace(partial, path)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_in_tmux(db: Path, start: str, ready: Any, runs: int) -> tuple[list[float], float]:
    """Seconds from spawn to ``ready(screen)``, per run; and the RSS of the last run."""
    tmux = shutil.which("tmux")
    if tmux is None:
        raise SystemExit("tmux is needed for the start-up figure (apt-get install tmux)")
    command = Path(sys.executable).with_name("tokenfleet")
    times, rss = [], float("nan")
    for i in range(runs):
        name = f"bench-{start}-{i}-{time.monotonic_ns()}"
        base = [tmux, "-L", "tokenfleet-bench", "-f", "/dev/null"]
        t0 = time.perf_counter()
        shell = (f"exec env -u COLUMNS -u LINES TOKENFLEET_DATABASE_URL=sqlite:///{db} "
                 f"TOKENFLEET_LANG=en {command} tui --start {start}")
        for _attempt in range(5):  # the previous run's tmux server may still be exiting
            if subprocess.run([*base, "new-session", "-d", "-s", name, "-x", "160", "-y", "45",
                               shell], check=False).returncode == 0:
                break
            time.sleep(0.5)
            t0 = time.perf_counter()
        while True:
            shown = subprocess.run([*base, "capture-pane", "-p", "-t", name], check=True,
                                   capture_output=True, text=True).stdout
            if ready(shown):
                times.append(time.perf_counter() - t0)
                break
            if time.perf_counter() - t0 > 60:
                raise SystemExit(f"no data after 60 s; screen:\n{shown}")
            time.sleep(0.02)
        pid = int(subprocess.run([*base, "list-panes", "-t", name, "-F", "#{pane_pid}"],
                                 check=True, capture_output=True, text=True).stdout.split()[0])
        if i == runs - 1:
            for key in ["/", *"nguyen", "Escape", *["PageDown"] * 10, "End", "Home"]:
                subprocess.run([*base, "send-keys", "-t", name, key], check=True)
                time.sleep(0.15)
            time.sleep(1.0)
            rss = rss_mb(pid)
        subprocess.run([*base, "kill-session", "-t", name], check=False)
        gone(pid)  # the next start does not share the machine with this one's exit
    return times, rss


def gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until process ``pid`` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)


async def keystrokes(db: Path) -> tuple[list[float], float]:
    """Per keystroke: seconds from the edit reaching the screen to the rows being shown."""
    from tui.app import TokenfleetApp
    from tui.screens.devices import DevicesScreen
    from tui.widgets.device_table import DeviceTable

    latencies: list[float] = []
    pending: dict[str, float] = {}
    orig_changed = DevicesScreen.on_filter_bar_changed
    orig_show = DeviceTable._show

    def changed(self: DevicesScreen, event: Any) -> None:
        pending["t0"] = time.perf_counter()
        orig_changed(self, event)

    def show(self: DeviceTable, query: Any, window: Any) -> None:
        orig_show(self, query, window)
        if query == self.query_state and "t0" in pending:
            latencies.append(time.perf_counter() - pending.pop("t0"))

    DevicesScreen.on_filter_bar_changed = changed  # type: ignore[method-assign]
    DeviceTable._show = show  # type: ignore[method-assign,assignment]
    reg = _register_class().open(f"sqlite:///{db}")
    app = TokenfleetApp(reg, actor="bench", now=FIXED_NOW, start="devices", search_debounce=0,
                        poller_factory=lambda: None, watch_changes=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for text in SEARCHES:
            await pilot.press("slash")
            for ch in text:
                await pilot.press(ch if ch != " " else "space")
                await app.workers.wait_for_complete()
                await pilot.pause()
            await pilot.press("ctrl+a", "ctrl+k")  # clear the box for the next name
            await app.workers.wait_for_complete()
            await pilot.pause()
        rss = rss_mb(os.getpid())
    reg.dispose()
    return latencies, rss


async def dashboard_filling(db: Path) -> dict[str, float]:
    """Seconds after the app starts at which each dashboard figure is first shown."""
    from tui.app import TokenfleetApp
    from tui.widgets.figure import Figure

    shown: dict[str, float] = {}
    orig = Figure.show

    def show(self: Figure, value: Any, note: str = "") -> None:
        orig(self, value, note)
        shown.setdefault(str(self.id), time.perf_counter() - t0)

    Figure.show = show  # type: ignore[method-assign]
    reg = _register_class().open(f"sqlite:///{db}")
    app = TokenfleetApp(reg, actor="bench", now=FIXED_NOW, start="dashboard",
                        poller_factory=lambda: None, watch_changes=False)
    t0 = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        total = len(app.screen.query(Figure))
        deadline = time.perf_counter() + 120
        while len(shown) < total and time.perf_counter() < deadline:
            await pilot.pause(0.02)
    reg.dispose()
    Figure.show = orig  # type: ignore[method-assign]
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"),
                        help="Print NEW's figures as ratios of OLD's (two --json files).")
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    build(args.db, args.devices)

    def devices_ready(s: str) -> bool:
        return " of 1,000,000" in s or (" of " in s and "sorted by" in s)

    def dashboard_ready(s: str) -> bool:
        return "devices in the register" in s

    dev_times, rss_tui = start_in_tmux(args.db, "devices", devices_ready, args.runs)
    dash_times, _ = start_in_tmux(args.db, "dashboard", dashboard_ready, args.runs)
    keys, rss_inproc = asyncio.run(keystrokes(args.db))
    filling = [asyncio.run(dashboard_filling(args.db)) for _ in range(max(1, args.runs // 2))]
    first_figure = [min(f.values()) for f in filling]
    last_figure = [max(f.values()) for f in filling]
    by_figure = {k: statistics.median(f[k] for f in filling if k in f) for k in filling[0]}
    result: dict[str, Any] = {
        "load": os.getloadavg()[0], "db": str(args.db),
        "devices_start_median": statistics.median(dev_times), "devices_start": dev_times,
        "dashboard_start_median": statistics.median(dash_times), "dashboard_start": dash_times,
        "keystroke_p50": percentile(keys, 50), "keystroke_p95": percentile(keys, 95),
        "keystroke_max": max(keys), "keystrokes": len(keys),
        "first_figure_median": statistics.median(first_figure),
        "last_figure_median": statistics.median(last_figure),
        "figures": by_figure,
        "rss_tui_mb": rss_tui, "rss_harness_mb": rss_inproc,
    }
    print(f"register: {args.db} ({args.devices:,} devices); load {result['load']:.1f}")
    print(f"start → devices table with data: median {statistics.median(dev_times):.2f} s, "
          f"max {max(dev_times):.2f} s (target < 1.5 s; {runs(dev_times)})")
    print(f"start → dashboard with data:     median {statistics.median(dash_times):.2f} s, "
          f"max {max(dash_times):.2f} s ({runs(dash_times)})")
    print(f"dashboard filling in (in-process): first figure {result['first_figure_median']:.2f}"
          f" s, last {result['last_figure_median']:.2f} s; by figure: "
          + ", ".join(f"{k.removeprefix('fig-')} {v:.2f}"
                      for k, v in sorted(by_figure.items(), key=lambda kv: kv[1])))
    print(f"keystroke → table updated: n={len(keys)}, p50 {1000 * percentile(keys, 50):.0f} ms, "
          f"p95 {1000 * percentile(keys, 95):.0f} ms, max {1000 * max(keys):.0f} ms "
          f"(target p95 < 100 ms; debounce of 150 ms not included)")
    print(f"RSS of tokenfleet tui after search + paging: {rss_tui:.0f} MB (target < 200 MB); "
          f"in-process harness: {rss_inproc:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def compare(old_path: Path, new_path: Path) -> None:
    old: dict[str, Any] = json.loads(old_path.read_text())
    new: dict[str, Any] = json.loads(new_path.read_text())
    print(f"load during the runs: old {old['load']:.1f}, new {new['load']:.1f}")
    for key, what in (("devices_start_median", "start → devices table"),
                      ("dashboard_start_median", "start → dashboard"),
                      ("keystroke_p50", "keystroke p50"), ("keystroke_p95", "keystroke p95"),
                      ("first_figure_median", "dashboard: first figure"),
                      ("last_figure_median", "dashboard: last figure"),
                      ("rss_tui_mb", "RSS")):
        unit = "MB" if key.startswith("rss") else "s"
        print(f"{what:26} old {old[key]:8.3f} {unit}  new {new[key]:8.3f} {unit}  "
              f"ratio {new[key] / old[key]:.2f}×")


def runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
