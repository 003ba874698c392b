"""``tokenfleet poll`` (one pass, or a long-running watcher), ``stocktake`` and ``unregistered``.

``poll`` is a thin front on the station pipeline (``inventory.services.stations``, a
:class:`~inventory.readers.station.StationPoller`); the TUI's readers screen runs the same. The
hardware package (pyscard, python-pkcs11) is imported only when a poller is made, so the rest of
the CLI works on a machine without reader libraries.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import click

from inventory.cli.context import AppContext, emit, pass_app
from inventory.readers import sync
from inventory.readers.station import StationPoller
from inventory.register import access
from inventory.register.errors import ConfigurationError
from inventory.register.text import csv_safe
from inventory.services import stations, unregistered


def _hardware_config(app: AppContext, modules: tuple[str, ...], no_pcsc: bool,
                     no_pkcs11: bool, wait_timeout: float = 1.0) -> Any:
    from inventory.readers.hardware import HardwareConfig

    paths = () if no_pkcs11 else (modules or app.settings.pkcs11_modules)
    if no_pcsc and not paths:
        raise ConfigurationError("nothing to poll: --no-pcsc and no PKCS#11 module (give "
                                 "--pkcs11-module PATH or set TOKENFLEET_PKCS11_MODULES)")
    return HardwareConfig(use_pcsc=not no_pcsc, pkcs11_modules=tuple(paths),
                          wait_timeout=wait_timeout)


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def _seen_line(seen: dict[str, Any]) -> str:
    pin = "PIN blocked" if seen["pin_blocked"] else (
        f"{seen['pin_tries_left']} PIN tries left" if seen["pin_tries_left"] is not None
        else "PIN state unknown")
    who = (f"{seen['status']}" + (f", {seen['holder']}" if seen["holder"] else "")
           if seen["registered"] else "not in the register")
    certs = "; ".join(f"cert {c['serial']} {c['subject_cn'] or ''} until "
                      f"{c['not_after']:%Y-%m-%d}{' (EXPIRED)' if c['expired'] else ''}"
                      for c in seen["certificates"])
    return (f"{seen['kind']} {seen['serial']} at {seen['reader']} [{'+'.join(seen['sources'])}]:"
            f" {who}; {pin}" + (f"; {certs}" if certs else ""))


def _pkcs11_option(f: Any) -> Any:
    f = click.option("--pkcs11-module", "modules", multiple=True, metavar="PATH",
                     help="PKCS#11 module to load (repeatable; default "
                          "TOKENFLEET_PKCS11_MODULES).")(f)
    f = click.option("--no-pcsc", is_flag=True, help="Do not use PC/SC readers.")(f)
    f = click.option("--no-pkcs11", is_flag=True, help="Do not load PKCS#11 modules.")(f)
    f = click.option("--desk", "desk_alias", metavar="NAME", hidden=True,
                     help="Old name of --station (kept for existing service units).")(f)
    return click.option("--station", metavar="NAME",
                        help="This poller station's name in the register (default "
                             "TOKENFLEET_HOST or the host name). The audit trail names the "
                             "station's database login (PostgreSQL) or poller@NAME (SQLite).")(f)


@click.command("poll")
@click.option("--once", "mode", flag_value="once", default=True,
              help="One pass: print what was seen and what changed (default).")
@click.option("--watch", "mode", flag_value="watch",
              help="Keep watching (event-driven) until SIGINT/SIGTERM.")
@_pkcs11_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output of --once.")
@pass_app
def poll(app: AppContext, mode: str, modules: tuple[str, ...], no_pcsc: bool, no_pkcs11: bool,
         station: str | None, desk_alias: str | None, fmt: str) -> None:
    """Read the readers and PKCS#11 tokens and bring the register up to date."""
    station = station or desk_alias or app.settings.host
    poller = _station(app, station,
                      _hardware_config(app, modules, no_pcsc, no_pkcs11,
                                       0.5 if mode == "watch" else 1.0))
    if mode == "watch":
        _watch(poller)
        return
    result = poller.poll_once()
    report = result.report
    if fmt == "json":
        out = report.as_dict() | {"readers": [r.__dict__ for r in result.readers]}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=_plain))
        return
    for seen in report.seen:
        click.echo(_seen_line(seen))
    if not report.seen:
        click.echo("no device seen")
    for line in report.lines():
        click.echo(line)
    if not report.changes:
        click.echo("no changes")


def _station(app: AppContext, station: str, config: Any) -> StationPoller:
    def on_report(report: sync.SyncReport) -> None:
        for line in report.lines():
            click.echo(line)

    def on_warning(message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    return stations.station_poller(
        app.register(), station=station, config=config, on_report=on_report,
        on_warning=on_warning, retention_days=app.settings.observation_retention_days)


def _watch(station: StationPoller) -> None:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    with station.register.read() as session:
        actor = access.station_actor(session, station.station)
    click.echo(f"watching as {actor} at station {station.station} (Ctrl-C to stop)")
    for event in station.watch(stop):
        for w in event.warnings:
            station.on_warning(w)
        for gone in event.removed:
            click.echo(f"removed: {gone}")
    click.echo("stopped")


# --- stocktake ---------------------------------------------------------------------------------

@click.group("stocktake")
def stocktake_group() -> None:
    """Count an agency's devices by putting each in a reader while pollers run."""


@stocktake_group.command("start")
@click.option("--agency", "agency_code", required=True, metavar="CODE",
              help="The agency whose subtree is counted.")
@pass_app
def stocktake_start(app: AppContext, agency_code: str) -> None:
    """Open a stocktake: the register's expected devices are listed; pollers tick them."""
    from inventory.readers import stocktake

    with app.register().session() as s:
        take = stocktake.start(s, agency_code, app.actor)
        result = stocktake.status(s, take.id)
    click.echo(f"stocktake #{take.id} for {agency_code}: {result.counts['expected']} devices "
               "expected; put each in a reader, then `tokenfleet stocktake finish`")


def _show(result: Any, fmt: str, output: str | None) -> None:
    columns = ["outcome", "kind", "serial", "status", "holder", "agency", "scans",
               "first_seen_at", "last_seen_host", "last_seen_reader"]
    if output:
        import csv

        from inventory.register.files import atomic_output

        with atomic_output(Path(output)) as tmp, \
                open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for r in result.records():
                writer.writerow({k: _csv_cell(r.get(k)) for k in columns})
        click.echo(f"{output}: {len(result.records())} rows", err=True)
        return
    if fmt == "json":
        click.echo(json.dumps(result.summary() | {
            "seen": result.seen, "missing": result.missing, "unexpected": result.unexpected,
            "duplicates": [d["serial"] for d in result.duplicates]},
            ensure_ascii=False, indent=2, default=_plain))
        return
    if fmt == "table":
        s = result.summary()
        click.echo(f"stocktake #{s['id']} {s['agency']} ({s['state']}): expected "
                   f"{s['expected']}, seen {s['seen']}, missing {s['missing']}, unexpected "
                   f"{s['unexpected']}, duplicate scans {s['duplicates']}")
    emit(result.records(), fmt, columns)


def _csv_cell(value: Any) -> Any:
    """No cell is ever a formula when the file is opened in a spreadsheet."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return csv_safe(value)


_format = click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]),
                       default="table", show_default=True)
_output = click.option("--output", type=click.Path(dir_okay=False), metavar="FILE.csv",
                       help="Write the result as CSV to FILE.")


@stocktake_group.command("status")
@click.option("--id", "take_id", type=int, help="A past stocktake (default: the open or last).")
@_format
@_output
@pass_app
def stocktake_status(app: AppContext, take_id: int | None, fmt: str, output: str | None) -> None:
    """Seen, missing, unexpected and duplicate-scanned devices so far."""
    from inventory.readers import stocktake

    with app.register().read() as s:
        _show(stocktake.status(s, take_id), fmt, output)


@stocktake_group.command("finish")
@_format
@_output
@pass_app
def stocktake_finish(app: AppContext, fmt: str, output: str | None) -> None:
    """Close the open stocktake and print its result."""
    from inventory.readers import stocktake

    with app.register().session() as s:
        result = stocktake.finish(s, app.actor)
    _show(result, fmt, output)


# --- unregistered devices ----------------------------------------------------------------------

@click.group("unregistered")
def unregistered_group() -> None:
    """Devices pollers saw that the register does not know."""


@unregistered_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@pass_app
def unregistered_list(app: AppContext, fmt: str) -> None:
    """Unknown devices, most recently seen first."""
    emit(({"kind": u.kind, "serial": u.serial, "first_seen_at": u.first_seen_at,
           "last_seen_at": u.last_seen_at, "host": u.host, "reader": u.reader,
           "manufacturer": u.manufacturer, "model": u.model, "label": u.label,
           "certificates": "; ".join(u.certificate_subjects)}
          for u in unregistered.unregistered_devices(app.register())), fmt)


@unregistered_group.command("claim")
@click.argument("serial")
@click.option("--kind", type=click.Choice(["usb_token", "pki_sim"]),
              help="Needed only if a token and a SIM share the serial.")
@pass_app
def unregistered_claim(app: AppContext, serial: str, kind: str | None) -> None:
    """Enter an unregistered device in the register (in stock, with its certificates)."""
    result = unregistered.claim_device(app.register(), serial, actor=app.actor, kind=kind)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"{result.device.kind} {result.device.serial}: claimed into the register "
               f"(in stock, {result.certificates} certificate(s))")


def register(cli: click.Group) -> None:
    cli.add_command(poll)
    cli.add_command(stocktake_group)
    cli.add_command(unregistered_group)


__all__ = ["register"]
