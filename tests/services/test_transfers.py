"""The transfers services (import, backup, restore) that the CLI and the TUI both call."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import func, select

from inventory.register.db import Register
from inventory.register.models import Device, Event
from inventory.services import devices, transfers

ROOT = Path(__file__).resolve().parents[2]


def test_import_sheet_then_again_changes_nothing(register: Register, tmp_path: Path) -> None:
    sheet = tmp_path / "ds.csv"
    sheet.write_text("Số serial;Loại thiết bị;Trạng thái\nT-1;Token ký số;Trong kho\n"
                     "8984040000000000017;SIM ký số;Trong kho\n", encoding="utf-8-sig")
    first = transfers.import_sheet(register, sheet, actor="le.thu")
    assert (first.created, first.problems) == (2, [])
    again = transfers.import_sheet(register, sheet, actor="le.thu")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert devices.device_detail(register, devices.DeviceRef("T-1")).status == "in_stock"


def test_backup_and_restore_through_the_services(register: Register, tmp_path: Path) -> None:
    sheet = tmp_path / "ds.csv"
    sheet.write_text("serial\nT-1\n", encoding="utf-8")
    transfers.import_sheet(register, sheet, actor="admin")
    target = tmp_path / "r.backup"
    transfers.backup_register(register, target)
    later = tmp_path / "later.csv"
    later.write_text("serial\nT-2\n", encoding="utf-8")
    transfers.import_sheet(register, later, actor="admin")
    outcome = transfers.restore_register(register.engine, target)
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == outcome.events > 0
        assert list(s.scalars(select(Device.serial))) == ["T-1"]


def _calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and isinstance(n.func.value, ast.Name)}


def test_cli_and_tui_import_through_the_same_service() -> None:
    cli = _calls(ROOT / "inventory/cli/io_cmd.py")
    tui = _calls(ROOT / "tui/screens/transfers.py")
    assert "transfers.import_sheet" in cli and "transfers.import_sheet" in tui
    db = _calls(ROOT / "inventory/cli/db_cmd.py")
    assert {"transfers.backup_register", "transfers.restore_register"} <= db
