"""What needs doing at a glance: status and kind counts, expiries, locked, lost, unseen,
this month's work. Each figure opens the list it counts; the arrows (and h/j/k/l) move between
them as they are laid out.

Every figure is one read model of ``inventory.services.dashboard``, read on its own (a thread
worker each) and shown the moment it arrives: the screen never waits for its slowest figure.
The cheap counts go first (the total is on screen at once), the others start when they are in.
Any change to the register re-reads them, whether the dashboard is in sight or not.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Label, Static
from textual.worker import get_current_worker

from inventory.register.domain import DEVICE_KINDS, DEVICE_STATUSES
from inventory.services.figures import EXPIRY_WINDOWS, MONTH_ACTIONS, MonthCounts, StatusKindCounts

from ..bindings import localise_bindings
from ..context import ctx
from ..early import answered, result_or
from ..errors import ShowsWorkerErrors
from ..widgets.figure import Figure
from .mode_screen import ModeScreen

if TYPE_CHECKING:
    from inventory.alerts.ledger import RunInfo
    from inventory.register.changes import Changes

REFRESH_DEBOUNCE = 0.5  # seconds: a burst of changes is read once


class DashboardScreen(ShowsWorkerErrors, ModeScreen):
    MODE = "dashboard"
    AUTO_FOCUS = ".figure"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "refresh", "nav.refresh", id="refresh")]

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self.extras: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        c = ctx(self)
        yield self.nav_bar()
        with VerticalScroll(id="dashboard"):
            yield Static(t("devices.loading"), id="dash-total")
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
                    yield Figure(t("dash.expiring_in", days=t.number(d)), {"expiring": d},
                                 id=f"fig-expiring-{d}")
            yield Label(t("dash.attention"), classes="section-title")
            with Grid(classes="figures"):
                yield Figure(t("dash.locked_waiting"), {"status": "locked"}, id="fig-locked")
                yield Figure(t("device_status.lost"), {"status": "lost"}, id="fig-lost")
                yield Figure(t("dash.not_seen", days=t.number(c.not_seen_days)),
                             {"not_seen": c.not_seen_days}, id="fig-not-seen")
            yield Label(t("dash.month", month=t.month(c.now())), id="dash-month",
                        classes="section-title")
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
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(REFRESH_DEBOUNCE, self.load)

    # ------------------------------------------------------------------ reading
    def load(self) -> None:
        """The cheap counts first; every other figure as soon as they are in."""
        self._timer = None
        self._read("counts", self.show_counts, then=self._rest)

    def _rest(self) -> None:
        for d in EXPIRY_WINDOWS:
            self._read(f"expiring-{d}", partial(self._show_figure, f"#fig-expiring-{d}"))
        self._read("locked-oldest", self.show_locked_oldest)
        self._read("not-seen", partial(self._show_figure, "#fig-not-seen"))
        self._read("month", self.show_month)
        self._read("alerts", self.show_alert_run)
        self._read("turnaround", self.show_turnaround)
        self._read("open-cases", self.show_open_cases)

    def _reader(self, name: str) -> Callable[[], Any]:
        """Figure ``name`` read now (``inventory.services.dashboard.figure_reads``)."""
        c = ctx(self)

        def read() -> Any:
            from inventory.services.dashboard import figure_reads

            return figure_reads(c.now(), not_seen_days=c.not_seen_days)[name](c.register)
        return read

    def _read(self, name: str, show: Callable[[Any], None],
              then: Callable[[], None] | None = None) -> None:
        early = ctx(self).take_early(name)  # begun before the interface was built (tui.early)
        if answered(early):
            show(early.result())  # in the screen's first frame
            if then is not None:  # the other figures' readers wait until it is painted
                self.call_after_refresh(then)
            return
        read = self._reader(name)

        def work() -> None:
            value = result_or(early, read)
            if get_current_worker().is_cancelled:
                return
            self.app.call_from_thread(show, value)
            if then is not None:
                self.app.call_from_thread(then)

        self.run_worker(work, thread=True, exclusive=True, exit_on_error=False,
                        group=f"dash-{name}", name=f"dashboard {name}")

    # ------------------------------------------------------------------ showing
    def _show_figure(self, selector: str, value: int, note: str = "") -> None:
        self.query_one(selector, Figure).show(value, note)

    def show_counts(self, counts: StatusKindCounts) -> None:
        t = ctx(self).labels
        self.query_one("#dash-total", Static).update(t("dash.total", total=t.number(counts.total)))
        for s in DEVICE_STATUSES:
            self._show_figure(f"#fig-status-{s}", counts.by_status.get(s, 0))
        for k in DEVICE_KINDS:
            self._show_figure(f"#fig-kind-{k}", counts.by_kind.get(k, 0))
        locked = self.query_one("#fig-locked", Figure)
        locked.show(counts.by_status.get("locked", 0), locked.note)
        self._show_figure("#fig-lost", counts.by_status.get("lost", 0))

    def show_locked_oldest(self, days: int | None) -> None:
        t = ctx(self).labels
        locked = self.query_one("#fig-locked", Figure)
        locked.note = t("dash.locked_oldest", days=t.number(days)) if days is not None else ""
        if locked.value is not None:
            locked.show(locked.value, locked.note)

    def show_month(self, month: MonthCounts) -> None:
        t = ctx(self).labels
        self.query_one("#dash-month", Label).update(t("dash.month", month=t.month(month.start)))
        for a in MONTH_ACTIONS:
            self._show_figure(f"#fig-month-{a.replace('.', '-')}", month.counts.get(a, 0))

    def show_alert_run(self, run: RunInfo | None) -> None:
        t = ctx(self).labels
        self.extras["alerts"] = (
            t("dash.alerts_last_run", when=t.datetime(run.started_at),
              outcome=t.inline("alert_run_outcome", run.outcome))
            if run is not None else t("dash.alerts_never"))
        self._show_extras()

    def show_turnaround(self, days: float | None) -> None:
        t = ctx(self).labels
        if days is None:
            self.extras.pop("turnaround", None)
        else:
            self.extras["turnaround"] = t("dash.unlock_turnaround", days=t.number(days))
        self._show_extras()

    def show_open_cases(self, n: int) -> None:
        t = ctx(self).labels
        self.extras["cases"] = t("dash.open_cases", n=t.number(n))
        self._show_extras()

    def _show_extras(self) -> None:
        self.query_one("#dash-extras", Static).update(
            "\n".join(self.extras[k] for k in ("cases", "turnaround", "alerts")
                      if k in self.extras))

    def on_figure_opened(self, event: Figure.Opened) -> None:
        self.app.call_later(self.app.open_figure, event.target)  # type: ignore[attr-defined]
