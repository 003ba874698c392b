"""Import, export and the monthly report, each with its result in place.

Each runs what its command runs (``tokenfleet import``, ``export``, ``report monthly``), with the
same defaults: the report is ``reports.monthly.write_monthly`` — last month, into the reports
folder (``TOKENFLEET_REPORTS_DIR``) — and the result names the file written in full and how to
open its folder. Files to import are picked with the file picker (``f``, or the button). A
progress bar shows only while something runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Input, Label, ProgressBar, Static

from inventory.register.errors import TokenfleetError
from inventory.services import transfers
from reports.pointintime import last_complete_month, parse_month

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import plain
from ..widgets.tick_box import TickBox
from .file_picker import FilePicker
from .mode_screen import ModeScreen

IMPORT_SUFFIXES = (".xlsx", ".csv")


class TransfersScreen(ShowsWorkerErrors, ModeScreen):
    MODE = "transfers"
    AUTO_FOCUS = "#import-pick"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "pick_import", "io.pick", id="pick")]

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        c = ctx(self)
        t = c.labels
        month = last_complete_month(c.now())
        yield self.nav_bar()
        with VerticalScroll(id="transfers"):
            with Vertical(classes="transfer", id="import-box"):
                yield Label(t("io.import"), classes="section-title")
                with Horizontal(classes="transfer-row"):
                    yield Input(placeholder=t("io.import_path"), id="import-path")
                    yield Button(t("io.pick_button"), id="import-pick")
                    yield TickBox(t("io.dry_run"), id="import-dry-run")
                    yield Button(t("io.run_import"), id="import-run", variant="primary")
                yield ProgressBar(id="import-progress", show_eta=False)
                yield Static("", id="import-result", classes="result", markup=False)
            with Vertical(classes="transfer", id="export-box"):
                yield Label(t("io.export"), classes="section-title")
                with Horizontal(classes="transfer-row"):
                    yield Input(value=str(c.reports_dir / f"tokenfleet-{c.now():%Y-%m-%d}.xlsx"),
                                placeholder=t("io.export_path"), id="export-path")
                    yield Button(t("io.run_export"), id="export-run", variant="primary")
                yield ProgressBar(id="export-progress", show_eta=False)
                yield Static("", id="export-result", classes="result", markup=False)
            with Vertical(classes="transfer", id="report-box"):
                yield Label(t("io.report"), classes="section-title")
                with Horizontal(classes="transfer-row"):
                    yield Input(value=t.month(month.start), placeholder=t("io.report_month"),
                                id="report-month")
                    yield Input(value=str(c.reports_dir), placeholder=t("io.report_path"),
                                id="report-path")
                    yield Button(t("io.run_report"), id="report-run", variant="primary")
                yield ProgressBar(id="report-progress", show_eta=False)
                yield Static(t("io.report_hint"), id="report-result", classes="result",
                             markup=False)
        yield Footer()

    # ------------------------------------------------------------------ picking a file
    def action_pick_import(self) -> None:
        t = ctx(self).labels
        typed = self.query_one("#import-path", Input).value.strip()

        def picked(path: Path | None) -> None:
            if path is not None:
                self.query_one("#import-path", Input).value = str(path)
                self.set_focus(self.query_one("#import-run", Button))

        self.app.push_screen(FilePicker(t("io.import"), Path(typed) if typed else None,
                                        IMPORT_SUFFIXES), picked)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "import-pick":
            self.action_pick_import()
            return
        key = (event.button.id or "").removesuffix("-run")
        path = self.query_one(f"#{key}-path", Input).value.strip()
        t = ctx(self).labels
        if not path:
            self._finished(key, t("form.need_value", field=t(f"io.{key}_path")), ok=False)
            return
        bar = self.query_one(f"#{key}-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.add_class("running")
        self.query_one(f"#{key}-result", Static).update(t("io.running"))
        self.run_transfer(key, path)

    # ------------------------------------------------------------------ running
    @work(thread=True, exclusive=True, exit_on_error=False, group="transfer")
    def run_transfer(self, key: str, path: str) -> None:
        c = ctx(self)
        t = c.labels
        try:
            if key == "import":
                dry = self.query_one("#import-dry-run", Checkbox).value
                result = transfers.import_sheet(c.register, Path(path), actor=c.actor,
                                                 dry_run=dry)
                summary = ", ".join(t(f"io.result.{k}", n=t.number(v))
                                    for k, v in vars(result).items() if isinstance(v, int))
                message = t("io.import_done", path=str(Path(path).resolve()), summary=summary)
            elif key == "export":
                from reports.register_export import export_register  # spreadsheets: on use

                target = Path(path).expanduser()
                target.parent.mkdir(parents=True, exist_ok=True)
                export_register(c.register, target)
                message = self._written(target)
            else:
                from reports.monthly import default_output, write_monthly

                text = self.query_one("#report-month", Input).value.strip()
                period = parse_month(text) if text else last_complete_month(c.now())
                target = Path(path).expanduser()
                if target.suffix.lower() != ".xlsx":  # a folder: the report's own name in it
                    target = target / default_output(period, "xlsx").name
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                except OSError as err:
                    self.app.call_from_thread(self._finished, key,
                                              f"{target.parent}: {err.strerror}", False)
                    return
                report = write_monthly(c.register, month=period.label(), output=target,
                                       now=c.now())
                message = self._written(report.path)
        except TokenfleetError as err:
            self.app.call_from_thread(self._finished, key, t.explain(err), False)
            return
        self.app.call_from_thread(self._finished, key, message, True)

    def _written(self, path: Path) -> str:
        """Where the file went, in full, and how to open its folder."""
        t = ctx(self).labels
        written = path.resolve()
        return "\n".join((t("io.written", path=str(written)),
                          t("io.open_folder", folder=str(written.parent))))

    def _finished(self, key: str, message: str, ok: bool = True) -> None:
        bar = self.query_one(f"#{key}-progress", ProgressBar)
        bar.remove_class("running")  # an idle bar is not shown (it would animate "--%")
        if ok:
            bar.update(total=1, progress=1)
        result = self.query_one(f"#{key}-result", Static)
        result.update(plain(message))
        result.set_class(not ok, "refused")
