"""``tokenfleet alerts …``: the cron job (``run``), its heartbeat (``status``), and ack/snooze."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import click

from inventory import alerts
from inventory.cli import exit_codes
from inventory.cli.context import FORMATS, AppContext, emit, parse_date, pass_app
from inventory.register.errors import ConfigurationError
from inventory.register.models import ALERT_STATES, utcnow
from inventory.services import alerts as alert_desk

RUN_HELP = f"""Send the alerts that are due (run it hourly from cron).

Each warning goes to the agency's contact e-mail (or the nearest parent agency's) and to the
fleet managers (TOKENFLEET_MANAGERS_EMAIL), once per threshold. SMTP settings and credentials
come only from the environment (TOKENFLEET_SMTP_*).

{exit_codes.help_text(exit_codes.ALERT_RUN)}
"""
STATUS_HELP = f"""When the alert job last ran, whether it succeeded, whether it is overdue.

{exit_codes.help_text(exit_codes.ALERT_STATUS)}
"""

PLAN_COLUMNS = ("serial", "holder", "agency_code", "rule", "threshold_days", "days", "detail",
                "recipients")
PLAN_LINE = "{:<20} {:<26} {:<10} {:<15} {:>9} {:>5}  {:<32}  {}"
LIST_COLUMNS = ("id", "state", "rule", "threshold", "serial", "recipient", "attempts", "sent_at",
                "snoozed_until", "last_error")


def register(cli: click.Group) -> None:
    cli.add_command(alerts_group)


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise click.BadParameter(f"{value!r} is not an ISO date/time", param_hint="--now") from err
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def print_plan(result: alerts.RunResult, fmt: str) -> None:
    """The dry run's list. The table is written in blocks straight from the alerts, not a
    click.echo per row: a first run on a big register can list hundreds of thousands."""
    if fmt != "table":
        emit(({**r, "recipients": " ".join(r["recipients"])} if fmt == "csv" else r
              for r in result.planned_records()), fmt, PLAN_COLUMNS if fmt == "csv" else None)
        return
    if not result.planned:
        click.echo("(nothing to send)")
        return
    out = sys.stdout
    out.write(PLAN_LINE.format("SERIAL", "HOLDER", "AGENCY", "RULE", "THRESHOLD", "DAYS",
                               "DETAIL", "RECIPIENTS") + "\n")
    codes = {i: a.code for i, a in result.agencies.items()}
    block: list[str] = []
    for a, to in result.planned:
        block.append(PLAN_LINE.format(
            a.serial or "", a.holder or "", codes.get(a.agency_id or 0, ""), a.rule,
            a.threshold, a.days, a.detail or "", " ".join(to)))
        if len(block) >= 5000:
            out.write("\n".join(block) + "\n")
            block.clear()
    out.write("\n".join(block) + "\n" if block else "")
    out.flush()


@click.group("alerts")
def alerts_group() -> None:
    """Expiry and lock alerts: the cron job, its heartbeat, acknowledge and snooze."""


@alerts_group.command("run", help=RUN_HELP)
@click.option("--dry-run", is_flag=True, help="Print every alert that would be sent; record "
              "nothing, send nothing.")
@click.option("--channel", "channels", multiple=True, type=click.Choice(alerts.runner.CHANNELS),
              help="smtp (digests by mail, the default) and/or jsonl (one JSON object per alert "
                   "on stdout). Repeatable.")
@click.option("--rule", "rules", multiple=True, type=click.Choice(alerts.rules.RULE_ORDER),
              help="Only these rules (repeatable; default: all).")
@click.option("--no-managers", is_flag=True, help="Leave the managers' summary for a later run "
              "(e.g. hourly runs with --no-managers, one daily run without).")
@click.option("--now", "now_text", metavar="ISO", help="Pretend it is this time (for tests).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="Output of --dry-run.")
@pass_app
@click.pass_context
def alerts_run(ctx: click.Context, app: AppContext, dry_run: bool, channels: tuple[str, ...],
               rules: tuple[str, ...], no_managers: bool, now_text: str | None,
               fmt: str) -> None:
    now = _parse_now(now_text) or utcnow()
    channels = channels or ("smtp",)
    try:
        settings = alerts.AlertSettings.from_env()
        smtp = alerts.SmtpSettings.from_env() if "smtp" in channels and not dry_run else None
    except ConfigurationError as err:
        if not dry_run:  # leave a heartbeat saying why, so `alerts status` shows it
            alerts.runner.record_failed_run(app.register(), app.settings.host,
                                            f"configuration error: {err}", now)
        raise
    result = alert_desk.run_job(app.register(), settings, channels=channels,
                                host=app.settings.host, out=sys.stdout, smtp=smtp, now=now,
                                dry_run=dry_run, managers=not no_managers,
                                rules=rules or alerts.rules.RULE_ORDER,
                                seal_key=app.settings.seal_key)
    if dry_run:
        print_plan(result, fmt)
    for warning in result.warnings:
        click.echo(f"tokenfleet: alerts: {warning}", err=True)
    if not dry_run:
        c = result.counts
        click.echo(f"alerts: {result.outcome}: {c['messages_sent']} message(s) sent, "
                   f"{c['messages_failed']} failed, {c['alerts']} alert(s)", err=True)
    ctx.exit(exit_codes.for_alert_outcome(result.outcome))


@alerts_group.command("status", help=STATUS_HELP)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
@click.pass_context
def alerts_status(ctx: click.Context, app: AppContext, fmt: str) -> None:
    try:
        settings = alerts.AlertSettings.from_env()
    except ConfigurationError:
        settings = alerts.AlertSettings()
    now = utcnow()
    every = timedelta(hours=settings.overdue_hours)
    status = alert_desk.alert_status(app.register())
    run = status.last_run
    record = {"last_run_started": run.started_at if run else None,
              "last_run_finished": run.finished_at if run else None,
              "host": run.host if run else None,
              "outcome": run.outcome if run else "never ran",
              "last_success": run.last_success_at if run else None,
              "overdue": run.overdue(now, every) if run else True,
              "error": run.error if run else None,
              **{f"run_{k}": v for k, v in (run.counts if run else {}).items()},
              **{f"ledger_{s}": n for s, n in status.ledger.items()}}
    if fmt == "table":
        for key, value in record.items():
            click.echo(f"{key:<20} {'' if value is None else value}")
    else:
        emit([record], fmt)
    healthy = status.healthy(now, overdue_after=settings.overdue_hours)
    ctx.exit(exit_codes.OK if healthy else exit_codes.FAILURE)


@alerts_group.command("list")
@click.option("--state", type=click.Choice(ALERT_STATES), help="Only alerts in this state.")
@click.option("--device", "serial", metavar="SERIAL", help="Only this device's alerts.")
@click.option("--limit", type=click.IntRange(1), default=200, show_default=True)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def alerts_list(app: AppContext, state: str | None, serial: str | None, limit: int,
                fmt: str) -> None:
    """The alert ledger, newest first: what was sent (or failed) to whom."""
    rows = alert_desk.alert_ledger(app.register(), state=state, serial=serial, limit=limit)
    emit((asdict(r) for r in rows), fmt, LIST_COLUMNS if fmt != "json" else None)


@alerts_group.command("ack")
@click.argument("alert_id", type=int, required=False)
@click.option("--device", "serial", metavar="SERIAL", help="Every alert of this device.")
@pass_app
def alerts_ack(app: AppContext, alert_id: int | None, serial: str | None) -> None:
    """Acknowledge an alert: no more warnings about it (any threshold, any recipient)."""
    n = alert_desk.acknowledge_alert(app.register(), actor=app.actor, alert_id=alert_id,
                                     serial=serial)
    click.echo(f"acknowledged ({n} ledger row(s))")


@alerts_group.command("snooze")
@click.argument("alert_id", type=int, required=False)
@click.option("--device", "serial", metavar="SERIAL", help="Every alert of this device.")
@click.option("--until", "until_text", required=True, metavar="DATE",
              help="YYYY-MM-DD or dd/mm/yyyy: silent until then (UTC midnight).")
@pass_app
def alerts_snooze(app: AppContext, alert_id: int | None, serial: str | None,
                  until_text: str) -> None:
    """Silence an alert until a date; then its tightest crossed threshold is due again."""
    until = parse_date(until_text)
    n = alert_desk.snooze_alert(app.register(), actor=app.actor, until=until,
                                alert_id=alert_id, serial=serial)
    click.echo(f"snoozed until {until:%Y-%m-%d} ({n} ledger row(s))")
