"""Every workflow finishes in the TUI (issue 14, "Workflows that cannot be finished here"): a
request is filed's dossier attached with a file picker, submitted, completed from the CA's answer
typed in or imported from its sheet; the monthly report goes to the reports folder by default and
says where it went."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from textual.widgets import DataTable, Input, TabbedContent

from inventory.desk import requests
from inventory.register.db import Register
from inventory.register.models import Device, ServiceRequest
from tests.conftest import FIXED_NOW
from tui.app import TokenfleetApp
from tui.screens.attach_document import AttachDocument
from tui.screens.complete_request import CompleteRequest
from tui.screens.desk import DeskScreen
from tui.screens.file_picker import FilePicker
from tui.screens.request_detail import RequestDetailModal
from tui.widgets.requests_pane import RequestsPane

from .conftest import settle


def renewal_request(register: Register, n: int = 1) -> tuple[int, list[str]]:
    """A draft renewal for the holders of ``n`` issued devices of one agency (dossier empty)."""
    with register.session() as session:
        devices = session.scalars(select(Device).where(Device.status == "issued",
                                                       Device.holder_id.is_not(None))
                                  .order_by(Device.agency_id, Device.id)).all()
        agency_id = devices[0].agency_id
        mine = [d for d in devices if d.agency_id == agency_id][:n]
        assert len(mine) == n
        req = requests.new_request(
            session, kind="renewal", agency=mine[0].agency, actor="desk",  # type: ignore[arg-type]
            subscribers=[requests.Subscriber(device_serial=d.serial) for d in mine])
        return req.id, [d.serial for d in mine]


def state_of(register: Register, request_id: int) -> str:
    with register.read() as session:
        return session.get_one(ServiceRequest, request_id).state


async def open_request(pilot: object, request_id: int) -> RequestDetailModal:
    app = pilot.app  # type: ignore[attr-defined]
    await pilot.press("6")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, DeskScreen)
    screen.query_one(TabbedContent).active = "tab-requests"
    await settle(pilot)  # type: ignore[arg-type]
    pane = screen.query_one(RequestsPane)
    table = pane.query_one("#requests", DataTable)
    table.focus()
    table.move_cursor(row=next(i for i, r in enumerate(pane.rows_shown) if r.id == request_id))
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, RequestDetailModal)
    return app.screen


async def test_a_request_is_attached_submitted_and_completed_in_the_tui(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp], tmp_path: Path) -> None:
    """Issue 14: a request could not be submitted (no way to attach the missing documents) or
    completed (no form for the CA's answer). Failed before: no ``a``, and ``c`` was refused."""
    request_id, (serial,) = renewal_request(sqlite_demo)
    scan = tmp_path / "don-de-nghi.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned")
    app = make_app(sqlite_demo, reports_dir=tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        modal = await open_request(pilot, request_id)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AttachDocument)
        await pilot.press("enter")  # the first missing document: pick its file
        await settle(pilot)
        assert isinstance(app.screen, FilePicker)
        await pilot.press("ctrl+u", *str(scan), "enter")
        await settle(pilot)
        assert app.screen is modal
        while True:  # the rest came on paper
            with sqlite_demo.read() as session:
                missing = requests.missing_documents(requests.get_request(session, request_id))
            if not missing:
                break
            await pilot.press("a")
            await settle(pilot)
            await pilot.press("p")
            await settle(pilot)
        with sqlite_demo.read() as session:
            dossier = requests.get_request(session, request_id).dossier
        assert any(entry.get("file") == str(scan) for entry in dossier.values())
        assert scan.name in str(modal.query_one("#request-summary").render())
        await pilot.press("s")
        await settle(pilot)
        assert state_of(sqlite_demo, request_id) == "submitted"
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CompleteRequest)
        start = FIXED_NOW.date()
        end = (FIXED_NOW + timedelta(days=3 * 365)).date()
        await pilot.press(*"CERT-RENEW-1", "enter", *f"{start:%d/%m/%Y}", "enter",
                          *f"{end:%d/%m/%Y}", "enter")
        await settle(pilot)
        assert app.screen is modal
        assert state_of(sqlite_demo, request_id) == "completed"
    with sqlite_demo.read() as session:
        device = session.scalars(select(Device).where(Device.serial == serial)).one()
        assert device.active_certificate is not None
        assert device.active_certificate.serial == "CERT-RENEW-1"


async def test_the_cas_answer_sheet_is_imported_from_the_desk(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp], tmp_path: Path) -> None:
    """Issue 14: no way to import the CA's answer in the TUI. Failed before: no ``i``."""
    request_id, _ = renewal_request(sqlite_demo, n=2)
    with sqlite_demo.session() as session:
        req = requests.get_request(session, request_id)
        requests.attach_documents(session, req, [d.key for d in requests.DOSSIER[req.kind]],
                                  actor="desk")
        requests.submit(session, req, actor="desk")
        items = [item.id for item in req.items]
    answer = tmp_path / "tra-loi-ca.csv"
    with answer.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Mã hồ sơ", "Serial chứng thư", "Ngày hiệu lực", "Ngày hết hạn"])
        for n, item in enumerate(items, start=1):
            writer.writerow([f"R{request_id}-{item}", f"CA-{n}", "15/11/2026", "14/11/2029"])
    app = make_app(sqlite_demo, reports_dir=tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, FilePicker)
        await pilot.press("ctrl+u", *str(answer), "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        said = str(app.screen.query_one("#requests-result").render())
        assert f"#{request_id}" in said
    assert state_of(sqlite_demo, request_id) == "completed"


async def test_the_report_defaults_to_last_month_in_the_reports_folder(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp], tmp_path: Path) -> None:
    """Issue 14: no default month or folder; "Wrote fleet-2026-11.xlsx" without the path (it
    went to the working directory). Failed before."""
    folder = tmp_path / "bao-cao"
    app = make_app(sqlite_demo, lang="vi", reports_dir=folder)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#report-month", Input).value == "10/2026"
        assert screen.query_one("#report-path", Input).value == str(folder)
        await pilot.click("#report-run")
        await settle(pilot, rounds=8)
        written = folder / "fleet-2026-10.xlsx"
        said = str(screen.query_one("#report-result").render())
        assert written.is_file()
        assert str(written) in said and str(folder) in said  # the path, and where to open it
