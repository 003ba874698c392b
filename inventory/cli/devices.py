"""``tokenfleet devices`` (the list) and ``tokenfleet device …`` (one device, lifecycle moves)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from inventory.cli.context import FORMATS, AppContext, emit, parse_date, pass_app
from inventory.fleet.certificates import CertificateData
from inventory.fleet.queries import DeviceFilter
from inventory.register.models import DEVICE_KINDS, DEVICE_STATUSES, HANDOVER_METHODS
from inventory.services import ca as ca_desk
from inventory.services import devices
from inventory.services.devices import DeviceRef, MoveResult, RenewResult

LIST_COLUMNS = ("serial", "kind", "status", "holder", "agency_code", "lock_count", "not_after",
                "last_seen_at")


def register(cli: click.Group) -> None:
    cli.add_command(devices_list)
    cli.add_command(device_group)


@click.command("devices")
@click.option("--status", "statuses", multiple=True, type=click.Choice(DEVICE_STATUSES),
              help="Only devices in this status (repeatable).")
@click.option("--kind", type=click.Choice(DEVICE_KINDS))
@click.option("--agency", "agency_code", metavar="CODE", help="An agency and its sub-agencies.")
@click.option("--expiring-within", type=click.IntRange(0), metavar="DAYS",
              help="Active certificate ends within DAYS (and has not ended yet).")
@click.option("--expired", is_flag=True, help="Active certificate has already ended.")
@click.option("--not-seen-for", type=click.IntRange(0), metavar="DAYS",
              help="Not seen by any poller for DAYS (or never).")
@click.option("--search", metavar="TEXT", help="Holder name (accents ignored) or serial prefix.")
@click.option("--ca-mismatch", type=click.Choice(["any", *ca_desk.CERTIFICATE_KINDS]),
              help="Only devices whose certificate does not match the CA (see `ca check`).")
@click.option("--sort", type=click.Choice(["id", "serial", "expiry"]), default="id",
              show_default=True)
@click.option("--limit", type=click.IntRange(1), help="At most this many rows.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def devices_list(app: AppContext, statuses: tuple[str, ...], kind: str | None,
                 agency_code: str | None, expiring_within: int | None, expired: bool,
                 not_seen_for: int | None, search: str | None, ca_mismatch: str | None,
                 sort: str, limit: int | None, fmt: str) -> None:
    """List devices (the whole register, or filtered)."""
    ids = None if ca_mismatch is None else ca_desk.mismatched_devices(
        app.register(), ca_mismatch, grace_days=app.settings.ca_grace_days)
    f = DeviceFilter(statuses=statuses, kind=kind, agency_code=agency_code, device_ids=ids,
                     expiring_within=timedelta(days=expiring_within)
                     if expiring_within is not None else None,
                     expired=expired, search=search,
                     not_seen_for=timedelta(days=not_seen_for) if not_seen_for is not None
                     else None)
    rows = devices.list_devices(app.register(), f, sort=sort, limit=limit)
    emit((r.as_record() for r in rows), fmt, LIST_COLUMNS if fmt != "json" else None)


@click.group("device")
def device_group() -> None:
    """One device: show it, add it, and move it through its lifecycle."""


@device_group.command("show")
@click.argument("serial")
@click.option("--kind", type=click.Choice(DEVICE_KINDS))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_app
def device_show(app: AppContext, serial: str, kind: str | None, fmt: str) -> None:
    """Everything about one device: holder, certificates, handovers, history."""
    detail = devices.device_detail(app.register(), DeviceRef(serial, kind)).as_record()
    if fmt == "json":
        click.echo(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    for key in ("serial", "kind", "status", "manufacturer", "model", "phone_number",
                "lock_count", "pin_tries_left", "not_after", "last_seen_at", "last_seen_reader"):
        if detail[key] is not None:
            click.echo(f"{key:17} {detail[key]}")
    if detail["holder"]:
        h = detail["holder"]
        click.echo(f"{'holder':17} {h['full_name']} — {h['title'] or ''} ({h['national_id']})")
    if detail["agency"]:
        click.echo(f"{'agency':17} {detail['agency']['code']} {detail['agency']['name']}")
    click.echo(f"{'allowed moves':17} {', '.join(detail['allowed_moves']) or '(none)'}")
    for c in detail["certificates"]:
        click.echo(f"certificate       {c['serial']} {c['status']} {c['not_before'][:10]} → "
                   f"{c['not_after'][:10]}")
    for h in detail["handovers"]:
        click.echo(f"handover          {h['handed_at'][:10]} {h['method']} to {h['holder']}"
                   + (f" (tracking {h['tracking_no']})" if h["tracking_no"] else ""))
    for e in detail["history"]:
        click.echo(f"event #{e['seq']:<9} {e['when'][:16]} {e['actor']}: {e['action']}"
                   + (f" — {e['summary']}" if e["summary"] else ""))


@device_group.command("add")
@click.argument("serial")
@click.option("--kind", type=click.Choice(DEVICE_KINDS), default="usb_token", show_default=True)
@click.option("--manufacturer")
@click.option("--model")
@click.option("--phone", "phone_number", help="Phone number (PKI SIM).")
@click.option("--notes")
@click.option("--cert", "cert_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The certificate already on the device (PEM or DER): serial, issuer, "
                   "subject, validity and fingerprint are read from it.")
@pass_app
def device_add(app: AppContext, serial: str, kind: str, manufacturer: str | None,
               model: str | None, phone_number: str | None, notes: str | None,
               cert_file: Path | None) -> None:
    """Add a new device to stock (with --cert: carrying its certificate)."""
    if cert_file is None:
        device = devices.add_device(app.register(), actor=app.actor, kind=kind, serial=serial,
                                    manufacturer=manufacturer, model=model,
                                    phone_number=phone_number, notes=notes)
        click.echo(f"{device.kind} {device.serial} added: {device.status}")
        return
    data = CertificateData.from_file(cert_file)  # read before anything is written
    result = devices.add_device_with_certificate(
        app.register(), data, actor=app.actor, kind=kind, serial=serial,
        manufacturer=manufacturer, model=model, phone_number=phone_number, notes=notes)
    click.echo(f"{result.device.kind} {result.device.serial} added: {result.device.status}, "
               f"certificate {result.certificate_serial} valid until "
               f"{result.not_after:%Y-%m-%d}")
    _warn_untrusted(result)


def _moved(result: MoveResult) -> None:
    device = result.device
    click.echo(f"{device.serial}: {result.before} → {device.status}"
               + (f" (lock count {device.lock_count})" if device.status == "locked" else ""))


@device_group.command("issue")
@click.argument("serial")
@click.option("--holder", "holder_ref", required=True, metavar="ID|CCCD|NAME")
@click.option("--method", type=click.Choice(HANDOVER_METHODS), required=True)
@click.option("--tracking-no", help="Postal tracking number (required for --method postal).")
@click.option("--kind", type=click.Choice(DEVICE_KINDS))
@pass_app
def device_issue(app: AppContext, serial: str, holder_ref: str, method: str,
                 tracking_no: str | None, kind: str | None) -> None:
    """Issue a device in stock to a holder, recording the handover."""
    _moved(devices.issue_device(app.register(), DeviceRef(serial, kind), holder_ref,
                                actor=app.actor, method=method, tracking_no=tracking_no))


def _simple_move(name: str, move: str, help_: str, note_help: str) -> click.Command:
    @click.command(name, help=help_)
    @click.argument("serial")
    @click.option("--note", help=note_help)
    @click.option("--kind", type=click.Choice(DEVICE_KINDS))
    @pass_app
    def command(app: AppContext, serial: str, note: str | None, kind: str | None) -> None:
        _moved(devices.move_device(app.register(), DeviceRef(serial, kind), move,
                                   actor=app.actor, note=note))
    return command


for _name, _move, _help, _note in (
    ("lock", "lock", "Mark an issued device locked (PIN blocked); counts a lock-out.",
     "Why (e.g. 'brought to the desk')."),
    ("unlock", "unlock", "Mark a locked device unlocked (recovered).", "How it was unlocked."),
    ("lose", "report_lost", "Report an issued or locked device lost.", "Circumstances."),
    ("revoke", "revoke", "Revoke a device and its certificates.", "Reason."),
    ("return", "return_to_stock", "Take an issued device back into stock.", "Note."),
    ("retire", "retire", "Retire a device in stock or revoked.", "Note."),
):
    device_group.add_command(_simple_move(_name, _move, _help, _note))


@device_group.command("renew")
@click.argument("serial")
@click.option("--cert", "cert_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The new certificate (PEM or DER): serial, issuer, subject, validity and "
                   "fingerprint are read from it.")
@click.option("--cert-serial", help="Without a file: the new certificate's serial number.")
@click.option("--not-before", metavar="DATE", help="Without a file: valid from.")
@click.option("--not-after", metavar="DATE", help="Without a file: valid until.")
@click.option("--subject", help="Without a file: the subject.")
@click.option("--fingerprint", help="Without a file: SHA-256 fingerprint (hex).")
@click.option("--kind", type=click.Choice(DEVICE_KINDS))
@pass_app
def device_renew(app: AppContext, serial: str, cert_file: Path | None, cert_serial: str | None,
                 not_before: str | None, not_after: str | None, subject: str | None,
                 fingerprint: str | None, kind: str | None) -> None:
    """Renewal: put a new certificate on an issued device, superseding the current one.

    Give the certificate file (--cert); typing its fields is for when there is no file."""
    typed = (cert_serial, not_before, not_after, subject, fingerprint)
    if cert_file is not None:
        if any(v is not None for v in typed):
            raise click.UsageError("--cert reads the certificate itself: give no typed "
                                   "--cert-serial/--not-before/--not-after/--subject/"
                                   "--fingerprint with it")
        data = CertificateData.from_file(cert_file)
    elif cert_serial and not_before and not_after:
        data = CertificateData(serial=cert_serial, not_before=parse_date(not_before),
                               not_after=parse_date(not_after), subject=subject,
                               fingerprint_sha256=fingerprint)
    else:
        raise click.UsageError("give the certificate file (--cert FILE), or without one "
                               "--cert-serial, --not-before and --not-after")
    result = devices.renew_device(app.register(), DeviceRef(serial, kind), data,
                                  actor=app.actor)
    click.echo(f"{result.device.serial}: certificate {result.certificate_serial} valid until "
               f"{result.not_after:%Y-%m-%d}")
    _warn_untrusted(result)


def _warn_untrusted(result: RenewResult) -> None:
    if result.untrusted:
        click.echo(f"tokenfleet: warning: {result.device.serial}: certificate "
                   f"{result.certificate_serial} does not chain to a trust anchor "
                   f"({result.untrusted})", err=True)
