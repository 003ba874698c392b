"""Import, export and the monthly report, each with a progress bar and its result in place.

Each runs what its command runs (``tokenfleet import``, ``export``, ``report monthly``), with the
same defaults: the report is ``reports.monthly.write_monthly`` (Vietnamese, by department).
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, ProgressBar, Static

from inventory.register.errors import TokenfleetError
from inventory.services import transfers

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import plain


class TransfersScreen(ShowsWorkerErrors, Screen[None]):
    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        yield Header()
        with VerticalScroll(id="transfers"):
            for key, path_key, run_key, extra in (
                ("import", "io.import_path", "io.run_import", True),
                ("export", "io.export_path", "io.run_export", False),
                ("report", "io.report_path", "io.run_report", False),
            ):
                with Vertical(classes="transfer", id=f"{key}-box"):
                    yield Label(t(f"io.{key}"), classes="section-title")
                    with Horizontal(classes="transfer-row"):
                        if key == "report":
                            yield Input(placeholder=t("io.report_month"), id="report-month")
                        yield Input(placeholder=t(path_key), id=f"{key}-path")
                        if extra:
                            yield Checkbox(t("io.dry_run"), id="import-dry-run")
                        yield Button(t(run_key), id=f"{key}-run", variant="primary")
                    yield ProgressBar(id=f"{key}-progress", show_eta=False)
                    yield Static("", id=f"{key}-result", markup=False)
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        key = (event.button.id or "").removesuffix("-run")
        path = self.query_one(f"#{key}-path", Input).value.strip()
        t = ctx(self).labels
        if not path:
            self._finished(key, t("form.need_value", field=t(f"io.{key}_path")), ok=False)
            return
        bar = self.query_one(f"#{key}-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self.query_one(f"#{key}-result", Static).update(t("io.running"))
        self.run_transfer(key, path)

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
                message = t("io.import_done", path=path, summary=summary)
            elif key == "export":
                from reports.register_export import export_register  # spreadsheets: on use

                export_register(c.register, Path(path))
                message = t("io.export_done", path=path)
            else:
                from reports.monthly import write_monthly

                month = self.query_one("#report-month", Input).value.strip()
                write_monthly(c.register, month=month or None, output=Path(path), now=c.now())
                message = t("io.report_done", path=path)
        except TokenfleetError as err:
            self.app.call_from_thread(self._finished, key, t.explain(err), False)
            return
        self.app.call_from_thread(self._finished, key, message, True)

    def _finished(self, key: str, message: str, ok: bool = True) -> None:
        bar = self.query_one(f"#{key}-progress", ProgressBar)
        bar.update(total=1, progress=1 if ok else 0)
        result = self.query_one(f"#{key}-result", Static)
        result.update(plain(message))
        result.set_class(not ok, "refused")
