"""The dossier of one request: pick a document, then its file (or say it came on paper).

Returns what to do; the request's modal does it (``inventory.desk.requests.attach_documents``) so
the refusal of a closed dossier shows where the request is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ..context import ctx
from ..widgets.pick_list import PickList


@dataclass(frozen=True)
class PickLine:
    key: str
    label: str
    attached: bool
    file: str | None = None


@dataclass(frozen=True)
class DossierChoice:
    key: str
    how: Literal["file", "paper", "detach"]


class AttachDocument(ModalScreen[DossierChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "nav.back", show=False),
        Binding("p", "choose('paper')", "attach.paper", show=False),
        Binding("d", "choose('detach')", "attach.detach", show=False),
    ]

    def __init__(self, request_id: int, lines: list[PickLine]) -> None:
        super().__init__()
        self.request_id = request_id
        # the missing documents first: those are the ones to attach
        self.lines = sorted(lines, key=lambda line: line.attached)

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with Vertical(id="attach-box", classes="modal-box"):
            yield Label(t("attach.title", id=self.request_id), classes="modal-title")
            yield PickList(*(Option(self._line(line), id=line.key) for line in self.lines),
                           id="dossier-options")
            yield Static(t("attach.hint"), classes="hint", markup=False)

    def _line(self, line: PickLine) -> str:
        mark = "[✓]" if line.attached else "[ ]"
        text = f"{mark} {line.label}"
        if line.attached:
            text += f" — {line.file}" if line.file else f" — {ctx(self).labels('attach.on_paper')}"
        return text

    def on_mount(self) -> None:
        self.query_one(PickList).focus()
        self.app.key_gate.release()  # type: ignore[attr-defined]

    def _highlighted(self) -> str | None:
        options = self.query_one(PickList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    def action_choose(self, how: Literal["file", "paper", "detach"]) -> None:
        key = self._highlighted()
        if key is not None:
            self.dismiss(DossierChoice(key, how))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.dismiss(DossierChoice(event.option.id, "file"))
