"""``tokenfleet request …`` (certification requests), plus the ``handover`` and ``unlock`` desks.

Writers of spreadsheets live in ``reports`` and are imported inside the commands that need them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from inventory.cli.context import FORMATS, AppContext, emit, parse_date, pass_app
from inventory.desk import requests as rq
from inventory.desk.ca_exchange import import_answer
from inventory.desk.figures import intake_rows, list_requests, pending_requests, request_turnaround
from inventory.fleet.lifecycle import CertificateData, mask_national_id
from inventory.fleet.queries import agency_by_code, get_holder
from inventory.fleet.sheets import header_key, read_table
from inventory.register import checks
from inventory.register.errors import ImportFileError, RowProblem, ValidationError
from inventory.register.models import (
    DEVICE_KINDS,
    HANDOVER_METHODS,
    REQUEST_KINDS,
    REQUEST_STATES,
    utcnow,
)
from inventory.register.text import cell_text

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


def subscribers_from_file(path: Path) -> list[rq.Subscriber]:
    """A batch's subscribers from .xlsx/.csv (headers as in device imports: 'Họ và tên', …)."""
    table = read_table(path)
    header_at = next((i for i, r in enumerate(table) if any(cell_text(c) for c in r)), None)
    if header_at is None:
        raise ImportFileError(str(path), "the file is empty")
    columns = {i: key for i, c in enumerate(table[header_at]) if (key := header_key(c))}
    if not {"holder", "national_id", "serial"} & set(columns.values()):
        raise ImportFileError(str(path), f"row {header_at + 1}: no name ('Họ và tên'), ID number "
                              "or device serial column")
    subs, problems = [], []
    for index in range(header_at + 1, len(table)):
        v = {key: cell_text(table[index][i]) for i, key in columns.items()
             if i < len(table[index])}
        if not any(v.values()):
            continue
        try:
            kind = checks.kind(v["kind"]) if v.get("kind") else "usb_token"
        except ValidationError as err:
            problems.append(RowProblem(index + 1, str(err)))
            continue
        subs.append(rq.Subscriber(full_name=v.get("holder"), title=v.get("title"),
                                  email=v.get("email"), phone=v.get("phone"),
                                  national_id=v.get("national_id"),
                                  device_serial=v.get("serial"), device_kind=kind))
    if problems:
        raise ImportFileError(str(path), f"{len(problems)} bad row(s); no request was filed",
                              problems)
    return subs


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
              help=f"Change of information: {', '.join(rq.CHANGEABLE_FIELDS)}.")
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
    with app.register().session() as s:
        subs: list[rq.Subscriber] = []
        subs += [rq.Subscriber(holder_id=get_holder(s, ref).id, device_kind=device_kind,
                               changes=change_map, reason=reason) for ref in holders]
        subs += [rq.Subscriber(device_serial=serial, changes=change_map, reason=reason)
                 for serial in devices]
        if name or national_id:
            subs.append(rq.Subscriber(full_name=name, national_id=national_id, title=title,
                                      email=email, phone=phone, device_kind=device_kind))
        if subscribers_file:
            subs += subscribers_from_file(subscribers_file)
        req = rq.new_request(s, kind=kind, agency=agency_by_code(s, agency_code),
                             subscribers=subs, actor=app.actor, external_ref=external_ref,
                             channel=channel)
        if docs:
            rq.attach_documents(s, req, docs, actor=app.actor)
        missing = ", ".join(d.key for d in rq.missing_documents(req)) or "none"
        click.echo(f"request #{req.id} ({kind}, draft) for {len(req.items)} subscriber(s) of "
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
    with app.register().read() as s:
        if pending_over is not None:
            rows = [r for r in pending_requests(s, older_than=timedelta(days=pending_over),
                                                kind=kind, agency_code=agency_code)
                    if not state or r.state == state]
        else:
            rows = list_requests(s, kind=kind, state=state, agency_code=agency_code)
        emit((r.as_record() for r in rows), fmt, LIST_COLUMNS if fmt != "json" else None)


@request_group.command("show")
@click.argument("request_id", type=int)
@click.option("--show-id-numbers", is_flag=True, help="Show national ID numbers unmasked.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_app
def request_show(app: AppContext, request_id: int, show_id_numbers: bool, fmt: str) -> None:
    """One request: its steps, dossier checklist and subscribers."""
    with app.register().read() as s:
        req = rq.get_request(s, request_id)
        head = {"id": req.id, "kind": req.kind, "state": req.state, "agency": req.agency.code,
                "external_ref": req.external_ref, "channel": req.channel,
                "created": f"{req.created_at:%Y-%m-%d %H:%M} by {req.created_by}",
                "submitted": f"{req.submitted_at:%Y-%m-%d %H:%M} by {req.submitted_by}"
                if req.submitted_at else None,
                "closed": f"{req.closed_at:%Y-%m-%d %H:%M} by {req.closed_by}"
                if req.closed_at else None, "close_reason": req.close_reason}
        dossier = [{"document": d.key, "label": d.label(app.settings.lang), "attached": ok}
                   for d, ok in rq.dossier_checklist(req)]
        items = []
        for n, item in enumerate(req.items, start=1):
            nid = rq.subscriber_national_id(item)
            items.append({"line": n, "ref": f"R{req.id}-{item.id}",
                          "subscriber": rq.subscriber_label(item),
                          "national_id": nid if show_id_numbers else mask_national_id(nid),
                          "device_kind": item.device_kind,
                          "device": item.device.serial if item.device else None,
                          "details": ", ".join(f"{k}={v}" for k, v in
                                               (item.details.get("changes") or {}).items())
                          or item.details.get("reason")})
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
    with app.register().session() as s:
        req = rq.attach_documents(s, rq.get_request(s, request_id), documents, actor=app.actor,
                                  detach=detach, note=note)
        missing = ", ".join(d.key for d in rq.missing_documents(req)) or "none"
        click.echo(f"request #{req.id}: documents missing: {missing}")


@request_group.command("submit")
@click.argument("request_id", type=int)
@click.option("--external-ref", metavar="NO", help="The CA system's number or dispatch number.")
@pass_app
def request_submit(app: AppContext, request_id: int, external_ref: str | None) -> None:
    """Mark a request sent to the CA (the dossier must be complete)."""
    with app.register().session() as s:
        req = rq.submit(s, rq.get_request(s, request_id), actor=app.actor,
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
    with app.register().session() as s:
        req = rq.get_request(s, request_id)
        answers = {}
        if cert_serial or device_serial:
            if len(req.items) != 1:
                raise ValidationError(f"request #{req.id} has {len(req.items)} subscribers: "
                                      "complete it with `request import-answer`")
            cert = None
            if cert_serial:
                if not (not_before and not_after):
                    raise click.UsageError("--cert-serial needs --not-before and --not-after")
                cert = CertificateData(serial=cert_serial, not_before=parse_date(not_before),
                                       not_after=parse_date(not_after))
            answers[req.items[0].id] = rq.Answer(device_serial=device_serial, certificate=cert)
        rq.complete(s, req, actor=app.actor, answers=answers,
                    handover=rq.HandoverPlan(method=method, tracking_no=tracking_no))
        click.echo(f"request #{req.id} completed ({len(req.items)} subscriber(s))")


@request_group.command("reject")
@click.argument("request_id", type=int)
@click.option("--reason", required=True)
@pass_app
def request_reject(app: AppContext, request_id: int, reason: str) -> None:
    """The CA (or the desk) refused the request."""
    with app.register().session() as s:
        rq.reject(s, rq.get_request(s, request_id), actor=app.actor, reason=reason)
        click.echo(f"request #{request_id} rejected")


@request_group.command("cancel")
@click.argument("request_id", type=int)
@click.option("--reason")
@pass_app
def request_cancel(app: AppContext, request_id: int, reason: str | None) -> None:
    """The agency withdrew the request."""
    with app.register().session() as s:
        rq.cancel(s, rq.get_request(s, request_id), actor=app.actor, reason=reason)
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

    with app.register().read() as s:
        n = write_intake(intake_rows(s, since=parse_date(since) if since else None,
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
    result = import_answer(app.register(), path, actor=app.actor,
                           handover=rq.HandoverPlan(method=method, tracking_no=tracking_no))
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
    with app.register().read() as s:
        rows = [t.as_record() for t in request_turnaround(
            s, since=parse_date(since) if since else None,
            until=parse_date(until) if until else None)]
        stuck = pending_requests(s, older_than=timedelta(days=pending_over), now=utcnow())
    emit(rows, fmt)
    if fmt == "table":
        click.echo(f"\npending longer than {pending_over} days: {len(stuck)}"
                   + (f" (#{', #'.join(str(r.id) for r in stuck[:20])})" if stuck else ""))
