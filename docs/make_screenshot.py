"""Regenerate docs/screenshot.svg: the dashboard on the demo city (fixed seed and clock).

    .venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from inventory.demo import city as demo
from inventory.register.db import Register
from tui.app import TokenfleetApp

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
TARGET = Path(__file__).resolve().parent / "screenshot.svg"


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        register = Register.open(f"sqlite:///{Path(tmp) / 'demo.sqlite3'}")
        with register.session() as session:
            demo.generate(session.connection(), devices=5000, seed=1, now=NOW)
        app = TokenfleetApp(register, actor="demo", lang="en", now=NOW, watch_changes=False,
                            poller_factory=lambda: iter(()))
        async with app.run_test(size=(160, 45)) as pilot:
            for _ in range(40):
                await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            app.save_screenshot(filename=TARGET.name, path=str(TARGET.parent))
        register.dispose()
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    asyncio.run(main())
