"""Saved views: a named set of filters and an order, recalled from the command palette.

They are the operator's own (like k9s' aliases), kept in a small JSON file in the user's
configuration folder — not in the register, which every desk shares. A missing or unreadable
file is no saved views; writes replace the file atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .filters import FilterValues, View


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("tokenfleet", appauthor=False)) / "views.json"


@dataclass(frozen=True)
class SavedView:
    name: str
    view: View


class ViewStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def load(self) -> list[SavedView]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        views = []
        for item in data if isinstance(data, list) else []:
            try:
                views.append(SavedView(str(item["name"]), View(
                    FilterValues.from_dict(item.get("filters") or {}),
                    str(item.get("sort") or "id"), bool(item.get("descending")))))
            except (KeyError, TypeError):
                continue  # a hand-edited entry that makes no sense: skip it
        return views

    def save(self, name: str, view: View) -> None:
        """Add the view, or replace the one of that name."""
        name = name.strip()
        views = [v for v in self.load() if v.name != name] + [SavedView(name, view)]
        self._write(views)

    def delete(self, name: str) -> None:
        self._write([v for v in self.load() if v.name != name])

    def _write(self, views: list[SavedView]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([{"name": v.name, "filters": v.view.filters.as_dict(),
                                    "sort": v.view.sort, "descending": v.view.descending}
                                   for v in sorted(views, key=lambda v: v.name.lower())],
                                  ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)
