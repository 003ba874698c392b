"""One device: holder and agency, every certificate, PIN state, handovers, requests, history,
and how its certificate compares with the CA (``o`` asks the CA's OCSP responder)."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from inventory.ca.ocsp import OcspAnswer
from inventory.register.changes import Changes
from inventory.services import ca as ca_desk
from inventory.services.devices import DeviceDetail, device_detail

from ..actions import DeviceTarget, offered_actions
from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cell, cells
from ..widgets.list_table import ListTable
from ..widgets.nav_bar import NavBar
from .device_actions import ACTION_BINDINGS, DeviceActions

SECTIONS = (
    ("certificates", "detail.certificates", ("col.serial", "col.status", "form.not_before",
                                             "form.not_after", "form.subject")),
    ("handovers", "detail.handovers", ("col.when", "form.method", "col.holder",
                                       "form.tracking")),
    ("requests", "detail.requests", ("col.when", "col.kind", "col.status", "col.summary")),
    ("history", "detail.history", ("col.when", "col.actor", "col.action", "col.summary")),
)


class DeviceDetailScreen(ShowsWorkerErrors, DeviceActions, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "nav.back", id="back"),
        Binding("f5", "refresh", "nav.refresh", show=False),
        Binding("o", "ocsp", "ca.ocsp_key", tooltip="ca.ocsp_tip", id="ocsp"),
        *ACTION_BINDINGS,
    ]
    AUTO_FOCUS = "#detail-history"

    def __init__(self, device_id: int) -> None:
        super().__init__()
        self.device_id = device_id
        self.detail: DeviceDetail | None = None
        self.ca_line: str | None = None
        self.ocsp_line: str | None = None

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        yield NavBar(self.app.current_mode, id="nav-bar")
        with VerticalScroll(id="detail"):
            yield Static(t("devices.loading"), id="detail-summary")
            for key, title, columns in SECTIONS:
                yield Label(t(title), classes="section-title")
                table = ListTable(id=f"detail-{key}", cursor_type="row",
                                  show_cursor=key == "history")
                table.can_focus = key == "history"
                for col in columns:
                    table.add_column(t(col).split(" (")[0])
                yield table
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load(self) -> None:
        # the version comes along: actions are refused if the device moved on since
        c = ctx(self)
        detail = device_detail(c.register, self.device_id)
        check = ca_desk.device_check(c.register, self.device_id, now=c.now(),
                                     grace_days=c.settings.ca_grace_days)
        self.app.call_from_thread(self.show_ca, check)
        self.app.call_from_thread(self.show, detail)

    def show_ca(self, check: ca_desk.DeviceCheck) -> None:
        """This device's CA reconciliation in one line (the rules of ``ca check``)."""
        t = ctx(self).labels
        if not check.anchors:
            self.ca_line = t("ca.not_checked")
        elif not check.mismatches:
            self.ca_line = t("ca.ok")
        else:
            self.ca_line = "; ".join(f"{t.term('ca_mismatch', m.kind)}: "
                                     f"{m.describe(t.lang)}" for m in check.mismatches)

    def action_ocsp(self) -> None:
        if self.detail is None:
            return
        self.notify(ctx(self).labels("ca.ocsp_asking", serial=self.detail.serial))
        self.ask_ocsp(self.detail.serial, self.detail.kind)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ocsp")
    def ask_ocsp(self, serial: str, kind: str) -> None:
        c = ctx(self)
        answer = ca_desk.ask_ocsp(c.register, serial, c.settings, kind=kind)
        self.app.call_from_thread(self.show_ocsp, answer)

    def show_ocsp(self, answer: OcspAnswer) -> None:
        t = ctx(self).labels
        line = t(f"ca.ocsp_{answer.status}", cert=answer.certificate_serial,
                 this=t.datetime(answer.this_update),
                 next=t.datetime(answer.next_update) if answer.next_update else "—")
        if answer.revocation_time is not None:
            line += " " + t("ca.ocsp_revoked_at", at=t.datetime(answer.revocation_time),
                            reason=answer.revocation_reason or "—")
        self.ocsp_line = line
        self.notify(line, severity="information" if answer.status == "good" else "warning")
        if self.detail is not None:
            self.show(self.detail)

    def show(self, d: DeviceDetail) -> None:
        first = self.detail is None
        self.detail = d
        t = ctx(self).labels
        none = t("detail.none")
        holder, agency = d.holder, d.agency
        lines = [
            (t("detail.device"), d.serial),
            (t("detail.kind"), t.term("device_kind", d.kind)),
            (t("detail.status"), t.term("device_status", d.status)),
            (t("detail.holder"), f"{holder.full_name} — {holder.title or ''} "
                                 f"({holder.national_id})" if holder else none),
            (t("detail.agency"), f"{agency.code} {agency.name}" if agency else none),
            (t("detail.expiry"), t.date(d.not_after) or none),
            (t("detail.pin"), t.number(d.pin_tries_left) if d.pin_tries_left is not None
             else t("detail.unknown")),
            (t("detail.locks"), t.number(d.lock_count)),
            (t("detail.model"), " ".join(filter(None, (d.manufacturer, d.model))) or none),
            (t("detail.last_seen"), f"{t.datetime(d.last_seen_at)} {d.last_seen_reader or ''}"
             if d.last_seen_at else none),
            (t("detail.moves"), ", ".join(
                t.term("device_action", a) for a in offered_actions(d.status, holder is not None))
             or none),
            (t("ca.line"), self.ca_line or none),
            (t("ca.ocsp_line"), self.ocsp_line or t("ca.ocsp_hint")),
        ]
        if d.phone_number:
            lines.insert(3, (t("detail.phone"), d.phone_number))
        width = max(len(k) for k, _ in lines)
        self.query_one("#detail-summary", Static).update(
            cell("\n".join(f"{k.ljust(width)}  {v}" for k, v in lines)))
        rows: dict[str, list[tuple[str, ...]]] = {
            "certificates": [(c.serial, t.term("certificate_status", c.status),
                              t.date(c.not_before), t.date(c.not_after), c.subject or "")
                             for c in d.certificates],
            "handovers": [(t.date(h.handed_at), t.term("handover_method", h.method), h.holder,
                           h.tracking_no or "") for h in d.handovers],
            "requests": [(t.date(r.created_at), t.term("request_kind", r.kind),
                          t.term("request_state", r.state), r.external_ref or "")
                         for r in d.requests],
            "history": [(t.datetime(e.when), e.actor, t.term("event", e.action),
                         t.note(e.action, e.summary)) for e in d.history],
        }
        for key, values in rows.items():
            table = self.query_one(f"#detail-{key}", DataTable)
            table.clear()
            table.add_rows([cells(*v) for v in values])
        if first:  # keys typed while this page opened (a scanner's next key) go on to it
            self.app.key_gate.release()

    def current_target(self) -> DeviceTarget | None:
        d = self.detail
        if d is None:
            return None
        return DeviceTarget(d.id, d.serial, d.status, d.holder.id if d.holder else None,
                            d.kind, d.version)

    def after_action(self, result: str) -> None:
        self.load()

    def refresh_for_changes(self, changes: Changes) -> None:
        if self.device_id in changes.device_ids:
            self.load()
