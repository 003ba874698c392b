"""``tokenfleet request …`` (certification requests), plus the ``handover`` and ``unlock`` desks.

Each command parses its input, calls the service desk (``inventory.services.desk``, which the
TUI's desk calls too) and shows the result. Writers of spreadsheets live in ``reports`` and are
imported inside the commands that need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from inventory.cli.context import FORMATS, AppContext, emit, parse_date, pass_app
from inventory.fleet.lifecycle import CertificateData
from inventory.register.models import DEVICE_KINDS, HANDOVER_METHODS, REQUEST_KINDS, REQUEST_STATES
from inventory.services import desk

LIST_COLUMNS = ("id", "kind", "state", "agency_code", "subscribers", "external_ref",
                "created_at", "submitted_at", "closed_at", "days_open", "missing_documents")


def register(cli: click.Group) -> None:
    from inventory.cli.desk_cmd import handover_group, unlock_group

    cli.add_command(request_group)
    cli.add_command(handover_group)
    cli.add_command(unlock_group)


@click.group("request")
def request_group() -> None:
    """Certification requests: new issuance, renewal, change of information, revocation,
    recovery (draft → submitted → completed, or rejected / cancelled)."""


@request_group.command("new")
@click.option("--kind", required=True, type=click.Choice(REQUEST_KINDS))
@click.option("--agency", "agency_code", required=True, metavar="CODE")
@click.option("--holder", "holders", multiple=True, metavar="REF",
              help="An existing holder (id, ID number or name); repeatable.")
@click.option("--device", "devices", multiple=True, metavar="SERIAL",
              help="A device the request concerns (renewal, revocation, recovery); repeatable.")
@click.option("--subscribers", "subscribers_file", type=click.Path(path_type=Path),
              help="A batch from .xlsx/.csv: name, title, ID number, e-mail, phone, serial.")
@click.option("--name", help="A new subscriber's full name (new issuance of one).")
@click.option("--national-id", help="The new subscriber's ID number (CCCD, 12 digits).")
@click.option("--title")
@click.option("--email")
@click.option("--phone")
@click.option("--device-kind", type=click.Choice(DEVICE_KINDS), default="usb_token",
              show_default=True)
@click.option("--change", "changes", multiple=True, metavar="FIELD=VALUE",
              help=f"Change of information: {', '.join(desk.CHANGEABLE_FIELDS)}.")
@click.option("--reason", help="Revocation: why.")
@click.option("--external-ref", metavar="NO", help="Request-system number or dispatch number.")
@click.option("--channel", type=click.Choice(["ca_portal", "document_system"]))
@click.option("--doc", "docs", multiple=True, metavar="KEY", help="Attached document; repeatable.")
@pass_app
def request_new(app: AppContext, kind: str, agency_code: str, holders: tuple[str, ...],
                devices: tuple[str, ...], subscribers_file: Path | None, name: str | None,
                national_id: str | None, title: str | None, email: str | None,
                phone: str | None, device_kind: str, changes: tuple[str, ...],
                reason: str | None, external_ref: str | None, channel: str | None,
                docs: tuple[str, ...]) -> None:
    """File a draft request for one subscriber or a batch of one agency's subscribers."""
    change_map: dict[str, Any] = {}
    for change in changes:
        field, sep, value = change.partition("=")
        if not sep:
            raise click.BadParameter(f"{change!r} is not FIELD=VALUE", param_hint="--change")
        change_map[field.strip()] = value.strip()
    subs: list[desk.Subscriber] = []
    if name or national_id:
        subs.append(desk.Subscriber(full_name=name, national_id=national_id, title=title,
                                    email=email, phone=phone, device_kind=device_kind))
    if subscribers_file:
        subs += desk.subscribers_from_file(subscribers_file)
    req = desk.new_request(app.register(), kind=kind, agency_code=agency_code, actor=app.actor,
                           holders=holders, devices=devices, subscribers=subs,
                           device_kind=device_kind, changes=change_map, reason=reason,
                           external_ref=external_ref, channel=channel, documents=docs)
    missing = ", ".join(req.missing_documents) or "none"
    click.echo(f"request #{req.id} ({kind}, draft) for {req.subscribers} subscriber(s) of "
               f"{agency_code}; documents missing: {missing}")


@request_group.command("list")
@click.option("--kind", type=click.Choice(REQUEST_KINDS))
@click.option("--state", type=click.Choice(REQUEST_STATES))
@click.option("--agency", "agency_code", metavar="CODE", help="An agency and its sub-agencies.")
@click.option("--pending-over", type=click.IntRange(0), metavar="DAYS",
              help="Only drafts and submitted requests waiting longer than DAYS.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def request_list(app: AppContext, kind: str | None, state: str | None, agency_code: str | None,
                 pending_over: int | None, fmt: str) -> None:
    """List requests, newest first."""
    rows = desk.list_requests(app.register(), kind=kind, state=state, agency_code=agency_code,
                              pending_over_days=pending_over)
    emit((r.as_record() for r in rows), fmt, LIST_COLUMNS if fmt != "json" else None)


@request_group.command("show")
@click.argument("request_id", type=int)
@click.option("--show-id-numbers", is_flag=True, help="Show national ID numbers unmasked.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_app
def request_show(app: AppContext, request_id: int, show_id_numbers: bool, fmt: str) -> None:
    """One request: its steps, dossier checklist and subscribers."""
    req = desk.request_detail(app.register(), request_id, show_id_numbers=show_id_numbers)
    head = {"id": req.id, "kind": req.kind, "state": req.state, "agency": req.agency_code,
            "external_ref": req.external_ref, "channel": req.channel,
            "created": f"{req.created_at:%Y-%m-%d %H:%M} by {req.created_by}",
            "submitted": f"{req.submitted_at:%Y-%m-%d %H:%M} by {req.submitted_by}"
            if req.submitted_at else None,
            "closed": f"{req.closed_at:%Y-%m-%d %H:%M} by {req.closed_by}"
            if req.closed_at else None, "close_reason": req.close_reason}
    dossier = [{"document": d.key, "label": d.label(app.settings.lang),
                "attached": d.attached} for d in req.dossier]
    items = [{"line": i.line, "ref": i.ref, "subscriber": i.name, "national_id": i.national_id,
              "device_kind": i.device_kind, "device": i.device_serial, "details": i.details}
             for i in req.subscribers]
    if fmt == "json":
        emit([head | {"dossier": dossier, "subscribers": items}], "json")
        return
    for key, value in head.items():
        if value is not None:
            click.echo(f"{key:>13}: {value}")
    click.echo("\ndossier:")
    for d in dossier:
        click.echo(f"  [{'x' if d['attached'] else ' '}] {d['label']} ({d['document']})")
    click.echo("")
    emit(items, "table")


@request_group.command("attach")
@click.argument("request_id", type=int)
@click.argument("documents", nargs=-1, required=True)
@click.option("--detach", is_flag=True, help="Untick the documents instead.")
@click.option("--note", help="e.g. the document's number.")
@pass_app
def request_attach(app: AppContext, request_id: int, documents: tuple[str, ...], detach: bool,
                   note: str | None) -> None:
    """Tick documents of the dossier checklist (keys as `request show` lists them)."""
    req = desk.attach_documents(app.register(), request_id, documents, actor=app.actor,
                                detach=detach, note=note)
    missing = ", ".join(req.missing_documents) or "none"
    click.echo(f"request #{req.id}: documents missing: {missing}")


@request_group.command("submit")
@click.argument("request_id", type=int)
@click.option("--external-ref", metavar="NO", help="The CA system's number or dispatch number.")
@pass_app
def request_submit(app: AppContext, request_id: int, external_ref: str | None) -> None:
    """Mark a request sent to the CA (the dossier must be complete)."""
    req = desk.request_step(app.register(), request_id, "submit", actor=app.actor,
                            external_ref=external_ref)
    click.echo(f"request #{req.id} submitted" + (f" as {req.external_ref}"
                                                 if req.external_ref else ""))


@request_group.command("complete")
@click.argument("request_id", type=int)
@click.option("--device-serial", help="Issuance of one: the device handed over.")
@click.option("--cert-serial", help="Issuance/renewal of one: the new certificate's serial.")
@click.option("--not-before", help="Certificate valid from (YYYY-MM-DD or dd/mm/yyyy).")
@click.option("--not-after", help="Certificate valid until.")
@click.option("--method", type=click.Choice(HANDOVER_METHODS), default="in_person",
              show_default=True, help="How issued devices are handed over.")
@click.option("--tracking-no", help="Postal handover: the tracking number.")
@pass_app
def request_complete(app: AppContext, request_id: int, device_serial: str | None,
                     cert_serial: str | None, not_before: str | None, not_after: str | None,
                     method: str, tracking_no: str | None) -> None:
    """Perform the request's lifecycle moves and close it (batches: use `import-answer`)."""
    cert = None
    if cert_serial:
        if not (not_before and not_after):
            raise click.UsageError("--cert-serial needs --not-before and --not-after")
        cert = CertificateData(serial=cert_serial, not_before=parse_date(not_before),
                               not_after=parse_date(not_after))
    req = desk.complete_request(app.register(), request_id, actor=app.actor,
                                device_serial=device_serial, certificate=cert,
                                handover=desk.HandoverPlan(method=method,
                                                           tracking_no=tracking_no))
    click.echo(f"request #{req.id} completed ({req.subscribers} subscriber(s))")


@request_group.command("reject")
@click.argument("request_id", type=int)
@click.option("--reason", required=True)
@pass_app
def request_reject(app: AppContext, request_id: int, reason: str) -> None:
    """The CA (or the desk) refused the request."""
    desk.request_step(app.register(), request_id, "reject", actor=app.actor, reason=reason)
    click.echo(f"request #{request_id} rejected")


@request_group.command("cancel")
@click.argument("request_id", type=int)
@click.option("--reason")
@pass_app
def request_cancel(app: AppContext, request_id: int, reason: str | None) -> None:
    """The agency withdrew the request."""
    desk.request_step(app.register(), request_id, "cancel", actor=app.actor, reason=reason)
    click.echo(f"request #{request_id} cancelled")


@request_group.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The .xlsx (or .csv) to write.")
@click.option("--since", help="Submitted on or after (date).")
@click.option("--until", help="Submitted before (date).")
@click.option("--show-id-numbers", is_flag=True,
              help="Write full ID numbers (the copy for the CA needs them).")
@pass_app
def request_export(app: AppContext, output: Path, since: str | None, until: str | None,
                   show_id_numbers: bool) -> None:
    """The CA intake list: one row per subscriber of the submitted requests."""
    from reports.requests_export import write_intake

    n = write_intake(desk.intake(app.register(), since=parse_date(since) if since else None,
                                 until=parse_date(until) if until else None,
                                 show_id_numbers=show_id_numbers), output)
    click.echo(f"{output}: {n} subscriber(s)"
               + ("" if show_id_numbers else " (ID numbers masked: --show-id-numbers for the CA)"))


@request_group.command("import-answer")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--method", type=click.Choice(HANDOVER_METHODS), default="in_person",
              show_default=True, help="How the issued devices are handed over.")
@click.option("--tracking-no", help="Postal handover: the tracking number.")
@pass_app
def request_import_answer(app: AppContext, path: Path, method: str,
                          tracking_no: str | None) -> None:
    """Complete requests from the CA's answer (certificate serials per subscriber)."""
    result = desk.import_answer(app.register(), path, actor=app.actor,
                                handover=desk.HandoverPlan(method=method,
                                                           tracking_no=tracking_no))
    click.echo(f"{path}: completed {len(result.requests)} request(s) "
               f"({', '.join(f'#{r}' for r in result.requests)}) for "
               f"{result.subscribers} subscriber(s)")


@request_group.command("stats")
@click.option("--since", help="Completed on or after (date).")
@click.option("--until", help="Completed before (date).")
@click.option("--pending-over", type=click.IntRange(0), default=14, show_default=True,
              metavar="DAYS", help="Also count requests waiting longer than DAYS.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def request_stats(app: AppContext, since: str | None, until: str | None, pending_over: int,
                  fmt: str) -> None:
    """Turnaround: median and 90th-percentile days per request kind and per agency."""
    figures = desk.request_figures(app.register(), since=parse_date(since) if since else None,
                                   until=parse_date(until) if until else None,
                                   pending_over_days=pending_over)
    stuck = figures.pending
    emit([t.as_record() for t in figures.turnaround], fmt)
    if fmt == "table":
        click.echo(f"\npending longer than {pending_over} days: {len(stuck)}"
                   + (f" (#{', #'.join(str(r.id) for r in stuck[:20])})" if stuck else ""))
