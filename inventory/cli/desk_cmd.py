"""``tokenfleet handover …`` (records and receipts) and ``tokenfleet unlock …`` (the unlock desk).

Registered by ``requests_cmd.register``; each command parses its input, calls the service desk
(``inventory.services.desk``) and shows the result. The handover record writer is imported
lazily.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from inventory.cli.context import FORMATS, AppContext, emit, parse_date, pass_app
from inventory.register.errors import ConfigurationError
from inventory.services import desk
from inventory.services.devices import DeviceRef


@click.group("handover")
def handover_group() -> None:
    """Handovers of devices to holders, and the printable handover record."""


@handover_group.command("list")
@click.option("--request", "request_id", type=int, help="Only this request's handovers.")
@click.option("--limit", type=click.IntRange(1), default=200, show_default=True)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def handover_list(app: AppContext, request_id: int | None, limit: int, fmt: str) -> None:
    """Handovers, newest first."""
    emit((asdict(h) for h in desk.list_handovers(app.register(), request_id=request_id,
                                                  limit=limit)), fmt)


@handover_group.command("received")
@click.argument("handover_id", type=int)
@click.option("--at", "at_text", help="When it was received (date; default now).")
@pass_app
def handover_received(app: AppContext, handover_id: int, at_text: str | None) -> None:
    """The holder (or the post) confirmed receipt."""
    h = desk.mark_received(app.register(), handover_id, actor=app.actor,
                           at=parse_date(at_text) if at_text else None)
    click.echo(f"handover #{h.id}: received {h.received_at:%Y-%m-%d}")


@handover_group.command("record")
@click.option("--request", "request_id", type=int, help="The handovers of this request.")
@click.option("--handover", "handover_ids", type=int, multiple=True,
              help="These handovers (repeatable).")
@click.option("--per", type=click.Choice(["handover", "batch"]), default="handover",
              show_default=True, help="One record per handover, or one for the whole batch.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The .xlsx to write (one sheet per record, two copies on each).")
@click.option("--pdf", is_flag=True, help="Also convert to PDF with LibreOffice.")
@click.option("--show-id-numbers", is_flag=True, help="Print full ID numbers.")
@pass_app
def handover_record(app: AppContext, request_id: int | None, handover_ids: tuple[int, ...],
                    per: str, output: Path, pdf: bool, show_id_numbers: bool) -> None:
    """Print the handover record (biên bản bàn giao)."""
    from reports.handover_record import convert_to_pdf, soffice_path, write_handover_records

    if pdf and soffice_path() is None:  # refuse before writing anything
        raise ConfigurationError("LibreOffice (soffice) is not installed: leave out --pdf")
    records = desk.handover_records(app.register(), request_id=request_id,
                                    handover_ids=handover_ids, per=per,
                                    show_id_numbers=show_id_numbers)
    write_handover_records(records, output)
    click.echo(f"{output}: {len(records)} record(s)")
    if pdf:
        click.echo(f"{convert_to_pdf(output)}")


@click.group("unlock")
def unlock_group() -> None:
    """The unlock desk: locked devices, who brought them in, how they were unlocked."""


@unlock_group.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only devices still locked.")
@click.option("--agency", "agency_code", metavar="CODE", help="An agency and its sub-agencies.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def unlock_list(app: AppContext, open_only: bool, agency_code: str | None, fmt: str) -> None:
    """Unlock cases: open ones first (oldest first), then closed ones."""
    emit((c.as_record() for c in desk.unlock_cases(app.register(), open_only=open_only,
                                                   agency_code=agency_code)), fmt)


@unlock_group.command("open")
@click.argument("serial")
@click.option("--reason", default="reported", show_default=True)
@pass_app
def unlock_open(app: AppContext, serial: str, reason: str) -> None:
    """A device is reported locked: mark it locked, which opens its case."""
    locked = desk.report_locked(app.register(), DeviceRef(serial), actor=app.actor,
                                reason=reason)
    click.echo(f"{locked.serial}: locked (lock #{locked.lock_count}); unlock case "
               f"#{locked.case_id if locked.case_id else '?'} open")


@unlock_group.command("bring")
@click.argument("serial")
@click.option("--by", "brought_by", required=True, help="Who brought the device in.")
@click.option("--at", "at_text", help="When (date; default now).")
@click.option("--note")
@pass_app
def unlock_bring(app: AppContext, serial: str, brought_by: str, at_text: str | None,
                 note: str | None) -> None:
    """A locked device was brought to the desk."""
    case = desk.bring_in(app.register(), DeviceRef(serial), brought_by=brought_by,
                         actor=app.actor, at=parse_date(at_text) if at_text else None, note=note)
    click.echo(f"{serial}: brought in by {case.brought_by} (case #{case.id})")


@unlock_group.command("close")
@click.argument("serial")
@click.option("--method", required=True, type=click.Choice(desk.UNLOCK_METHODS),
              help="How it was unlocked.")
@click.option("--at", "at_text", help="When (date; default now).")
@pass_app
def unlock_close(app: AppContext, serial: str, method: str, at_text: str | None) -> None:
    """The device is unlocked: it goes back to its holder and the case closes."""
    case = desk.mark_unlocked(app.register(), DeviceRef(serial), method=method,
                              actor=app.actor, at=parse_date(at_text) if at_text else None)
    assert case.closed_at is not None
    days = (case.closed_at - case.opened_at).total_seconds() / 86400
    click.echo(f"{serial}: unlocked ({method}) after {days:.1f} days (case #{case.id})")


@unlock_group.command("stats")
@click.option("--since", help="Unlocked on or after (date).")
@click.option("--until", help="Unlocked before (date).")
@click.option("--all-agencies", is_flag=True, help="One row per month, all agencies together.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def unlock_stats(app: AppContext, since: str | None, until: str | None, all_agencies: bool,
                 fmt: str) -> None:
    """Turnaround lock → unlock per agency and month (days: median, 90th percentile, max)."""
    emit((t.as_record() for t in desk.unlock_turnaround(
        app.register(), since=parse_date(since) if since else None,
        until=parse_date(until) if until else None, by_agency=not all_agencies)), fmt)
