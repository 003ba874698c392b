"""``tokenfleet ca …``: trust anchors, CRLs, reconciliation with the CA, OCSP for one device."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inventory.cli import exit_codes
from inventory.cli.context import FORMATS, AppContext, emit, pass_app
from inventory.register.models import DEVICE_KINDS
from inventory.services import ca as ca_desk
from inventory.services.ca import KINDS

CHECK_COLUMNS = ("kind", "serial", "holder", "agency_code", "certificate_serial", "detail")
CHECK_HELP = f"""List every mismatch between the register and the CA.

\b
  revoked_at_ca_in_use      the CA revoked the active certificate, the device is issued/locked
  revoked_here_valid_at_ca  revoked here more than TOKENFLEET_CA_GRACE_DAYS (7) ago, not on
                            the CA's CRL: the revocation request was not carried out
  unknown_issuer            the certificate does not chain to a trust anchor
  crl_stale                 a trust anchor's CRL is past its next update

{exit_codes.help_text(exit_codes.CA_CHECK)}
"""


def register(cli: click.Group) -> None:
    cli.add_command(ca_group)


@click.group("ca")
def ca_group() -> None:
    """Reconcile the register with the CA: trust anchors, CRLs, OCSP."""


@ca_group.group("trust")
def trust_group() -> None:
    """The CA certificates (roots, intermediates) the office trusts."""


@trust_group.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def trust_add(app: AppContext, file: Path) -> None:
    """Trust the CA certificate(s) in FILE (PEM, a PEM bundle, or DER). Admins only."""
    change = ca_desk.add_trust(app.register(), file, actor=app.actor)
    for a in change.added:
        click.echo(f"trusted #{a.id}: {a.subject} (SHA-256 {a.fingerprint_sha256[:16]}…, "
                   f"valid until {a.not_after:%Y-%m-%d})")
    for subject in change.already_held:
        click.echo(f"already trusted: {subject}")
    click.echo(f"{change.revalidated} certificate file(s) validated again")


@trust_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def trust_list(app: AppContext, fmt: str) -> None:
    """The trust anchors, with the CRL held for each."""
    rows = [a.as_record() for a in ca_desk.list_trust(app.register())]
    if fmt == "table":
        for r in rows:
            r["fingerprint_sha256"] = str(r["fingerprint_sha256"])[:16] + "…"
    emit(rows, fmt, ("id", "subject", "fingerprint_sha256", "not_after", "root", "crl_number",
                     "crl_next_update") if fmt == "table" else None)


@trust_group.command("remove")
@click.argument("anchor", metavar="ID|FINGERPRINT")
@pass_app
def trust_remove(app: AppContext, anchor: str) -> None:
    """Stop trusting an anchor (by id, or 8+ hex digits of its fingerprint); its CRL goes too."""
    change = ca_desk.remove_trust(app.register(), anchor, actor=app.actor)
    click.echo(f"no longer trusted: {change.removed[0]}"
               + (" (its CRL was dropped)" if change.crls_dropped else ""))
    click.echo(f"{change.revalidated} certificate file(s) validated again")


@ca_group.group("crl")
def crl_group() -> None:
    """Certificate revocation lists."""


@crl_group.command("import")
@click.argument("source", metavar="FILE|URL")
@pass_app
def crl_import(app: AppContext, source: str) -> None:
    """Import a CRL (DER or PEM) from a file or an http(s) URL.

    It must be signed by a trust anchor and newer than the CRL held for its issuer; otherwise
    nothing is stored (exit 65). A URL that does not answer in TOKENFLEET_CA_TIMEOUT seconds
    gives exit 74.
    """
    result = ca_desk.import_crl(app.register(), source, actor=app.actor,
                                   timeout=app.settings.ca_timeout)
    what = {"new": "imported", "replaced": "imported (replaces the older CRL)",
            "unchanged": "already held: nothing changed"}[result.outcome]
    click.echo(f"CRL of {result.issuer}: {what}; number {result.crl_number or '-'}, "
               f"{result.entries} revoked, issued {result.this_update:%Y-%m-%d %H:%M}, next "
               + (f"{result.next_update:%Y-%m-%d %H:%M}" if result.next_update else "-"))
    if result.expired:
        click.echo("tokenfleet: warning: this CRL is past its next update (crl_stale until a "
                   "newer one is imported)", err=True)


@ca_group.command("check", help=CHECK_HELP)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="Only these kinds (repeatable; default: all).")
@pass_app
@click.pass_context
def ca_check(ctx: click.Context, app: AppContext, fmt: str, kinds: tuple[str, ...]) -> None:
    result = ca_desk.check(app.register(), grace_days=app.settings.ca_grace_days,
                              kinds=kinds or KINDS)
    for warning in result.warnings:
        click.echo(f"tokenfleet: ca check: {warning}", err=True)
    records = [m.as_record(app.settings.lang) for m in result.mismatches]
    emit(records, fmt, CHECK_COLUMNS if fmt != "json" else None)
    ctx.exit(exit_codes.FAILURE if result.mismatches else exit_codes.OK)


OCSP_HELP = f"""Ask the CA's OCSP responder about a device's certificate (good / revoked / unknown).

The responder is TOKENFLEET_OCSP_URL if set, else the one the certificate names.

{exit_codes.help_text(exit_codes.CA_OCSP)}
"""


@ca_group.command("ocsp", help=OCSP_HELP)
@click.argument("serial")
@click.option("--kind", type=click.Choice(DEVICE_KINDS))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_app
@click.pass_context
def ca_ocsp(ctx: click.Context, app: AppContext, serial: str, kind: str | None,
            fmt: str) -> None:
    answer = ca_desk.ask_ocsp(app.register(), serial, app.settings, kind=kind)
    if fmt == "json":
        record = {k: v.isoformat() if hasattr(v, "isoformat") else v
                  for k, v in answer.as_record().items()}
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{answer.device_serial}: certificate {answer.certificate_serial} is "
                   f"{answer.status.upper()} ({answer.url})")
        if answer.revocation_time:
            click.echo(f"  revoked at   {answer.revocation_time:%Y-%m-%d %H:%M:%S} UTC"
                       + (f" ({answer.revocation_reason})" if answer.revocation_reason else ""))
        click.echo(f"  produced at  {answer.produced_at:%Y-%m-%d %H:%M:%S} UTC")
        click.echo(f"  this update  {answer.this_update:%Y-%m-%d %H:%M:%S} UTC")
        if answer.next_update:
            click.echo(f"  next update  {answer.next_update:%Y-%m-%d %H:%M:%S} UTC")
    for warning in answer.warnings:
        click.echo(f"tokenfleet: ca ocsp: warning: {warning}", err=True)
    ctx.exit(exit_codes.OK if answer.status == "good" else exit_codes.FAILURE)
