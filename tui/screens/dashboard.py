"""What needs doing at a glance: status and kind counts, expiries, locked, lost, unseen,
this month's work. Each figure opens the list it counts."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from inventory.register.changes import Changes
from inventory.register.models import DEVICE_KINDS, DEVICE_STATUSES
from inventory.services.dashboard import (
    EXPIRY_WINDOWS,
    MONTH_ACTIONS,
    DashboardFigures,
    StatusKindCounts,
    dashboard_figures,
    status_and_kind_counts,
)

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..widgets.figure import Figure


class DashboardScreen(ShowsWorkerErrors, Screen[None]):
    BINDINGS = [Binding("f5", "refresh", "nav.refresh", id="refresh")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        c = ctx(self)
        yield Header()
        with VerticalScroll(id="dashboard"):
            yield Static("", id="dash-total")
            yield Label(t("dash.by_status"), classes="section-title")
            with Grid(classes="figures"):
                for s in DEVICE_STATUSES:
                    yield Figure(t(f"device_status.{s}"), {"status": s}, id=f"fig-status-{s}")
            yield Label(t("dash.by_kind"), classes="section-title")
            with Grid(classes="figures"):
                for k in DEVICE_KINDS:
                    yield Figure(t(f"device_kind.{k}"), {"kind": k}, id=f"fig-kind-{k}")
            yield Label(t("dash.expiring"), classes="section-title")
            with Grid(classes="figures"):
                for d in EXPIRY_WINDOWS:
                    yield Figure(t("dash.expiring_in", days=d), {"expiring": d},
                                 id=f"fig-expiring-{d}")
            yield Label(t("dash.attention"), classes="section-title")
            with Grid(classes="figures"):
                yield Figure(t("dash.locked_waiting"), {"status": "locked"}, id="fig-locked")
                yield Figure(t("device_status.lost"), {"status": "lost"}, id="fig-lost")
                yield Figure(t("dash.not_seen", days=c.not_seen_days),
                             {"not_seen": c.not_seen_days}, id="fig-not-seen")
            yield Label("", id="dash-month", classes="section-title")
            with Grid(classes="figures"):
                for a in MONTH_ACTIONS:
                    yield Figure(t(f"event.{a}"), {"events": a},
                                 id=f"fig-month-{a.replace('.', '-')}")
            yield Static("", id="dash-extras")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def refresh_for_changes(self, changes: Changes) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard")
    def load(self) -> None:
        c = ctx(self)
        # the cheap counts first, so the screen has data while the rest is counted
        self.app.call_from_thread(self.show_counts, status_and_kind_counts(c.register))
        figures = dashboard_figures(c.register, c.now(), not_seen_days=c.not_seen_days)
        self.app.call_from_thread(self.show, figures)

    def show_counts(self, counts: StatusKindCounts) -> None:
        t = ctx(self).labels
        self.query_one("#dash-total", Static).update(t("dash.total", total=t.number(counts.total)))
        for s in DEVICE_STATUSES:
            self.query_one(f"#fig-status-{s}", Figure).show(counts.by_status.get(s, 0))
        for k in DEVICE_KINDS:
            self.query_one(f"#fig-kind-{k}", Figure).show(counts.by_kind.get(k, 0))

    def show(self, f: DashboardFigures) -> None:
        t = ctx(self).labels
        self.query_one("#dash-total", Static).update(t("dash.total", total=t.number(f.total)))
        for s in DEVICE_STATUSES:
            self.query_one(f"#fig-status-{s}", Figure).show(f.by_status.get(s, 0))
        for k in DEVICE_KINDS:
            self.query_one(f"#fig-kind-{k}", Figure).show(f.by_kind.get(k, 0))
        for d in EXPIRY_WINDOWS:
            self.query_one(f"#fig-expiring-{d}", Figure).show(f.expiring[d])
        oldest = (t("dash.locked_oldest", days=t.number(f.locked_oldest_days))
                  if f.locked_oldest_days is not None else "")
        self.query_one("#fig-locked", Figure).show(f.locked, oldest)
        self.query_one("#fig-lost", Figure).show(f.lost)
        self.query_one("#fig-not-seen", Figure).show(f.not_seen)
        self.query_one("#dash-month", Label).update(
            t("dash.month", month=t.month(f.month_start)))
        for a in MONTH_ACTIONS:
            self.query_one(f"#fig-month-{a.replace('.', '-')}", Figure).show(f.month[a])
        extras = []
        run = f.alerts_last_run
        extras.append(t("dash.alerts_last_run", when=t.datetime(run.started_at),
                        outcome=t.inline("alert_run_outcome", run.outcome))
                      if run is not None else t("dash.alerts_never"))
        if f.unlock_turnaround_days is not None:
            extras.append(t("dash.unlock_turnaround", days=t.number(f.unlock_turnaround_days)))
        self.query_one("#dash-extras", Static).update("\n".join(extras))

    def on_figure_opened(self, event: Figure.Opened) -> None:
        self.app.call_later(self.app.open_figure, event.target)  # type: ignore[attr-defined]
