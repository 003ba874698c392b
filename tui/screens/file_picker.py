"""Pick a file: type or paste a path, or walk the folders (Enter opens a folder, picks a file).

Used wherever a workflow needs a file the register does not hold: a scanned dossier document,
the CA's answer sheet, a spreadsheet to import. ``suffixes`` limits what is listed and accepted
(``.xlsx``, ``.csv``); a folder typed in the box opens in the tree.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, Static

from ..context import ctx
from ..widgets.search_box import SearchBox
from ..widgets.vim_keys import VIM_KEYS


class FolderTree(DirectoryTree):
    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS

    def __init__(self, path: Path, suffixes: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(path, **kwargs)  # type: ignore[arg-type]
        self.suffixes = suffixes

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")
                and (not self.suffixes or p.is_dir() or p.suffix.lower() in self.suffixes)]


class FilePicker(ModalScreen[Path | None]):
    """Returns the file picked (an existing file matching ``suffixes``), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "nav.back", show=False)]

    def __init__(self, title: str, start: Path | None = None,
                 suffixes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.title_text = title
        start = (start or Path.cwd()).expanduser()
        self.folder = start if start.is_dir() else start.parent
        self.suffixes = tuple(s.lower() for s in suffixes)

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with Vertical(id="file-picker-box", classes="modal-box"):
            yield Label(self.title_text, classes="modal-title")
            yield SearchBox(value=str(self.folder), placeholder=t("file_picker.path"),
                            id="file-path")
            yield FolderTree(self.folder, self.suffixes, id="file-tree")
            yield Static("", id="form-error", markup=False)
            hint = t("file_picker.hint")
            if self.suffixes:
                hint += " " + t("file_picker.kinds", kinds=", ".join(self.suffixes))
            yield Static(hint, classes="hint", markup=False)

    def on_mount(self) -> None:
        box = self.query_one(SearchBox)
        box.focus()
        box.cursor_position = len(box.value)
        self.app.key_gate.release()  # type: ignore[attr-defined]

    def refuse(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.add_class("shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.app.key_gate.release()  # type: ignore[attr-defined]
        path = Path(event.value.strip()).expanduser()
        if path.is_dir():
            self.query_one(FolderTree).path = path
            self.query_one(FolderTree).focus()
            return
        self.pick(path)

    def pick(self, path: Path) -> None:
        t = ctx(self).labels
        if not path.is_file():
            self.refuse(t("file_picker.no_file", path=str(path)))
        elif self.suffixes and path.suffix.lower() not in self.suffixes:
            self.refuse(t("file_picker.wrong_kind", path=str(path),
                          kinds=", ".join(self.suffixes)))
        else:
            self.dismiss(path.resolve())

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one(SearchBox).value = str(event.path)
        self.pick(Path(event.path))

    def on_directory_tree_directory_selected(self,
                                             event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        box = self.query_one(SearchBox)
        box.value = str(event.path)
