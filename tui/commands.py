"""Command palette (ctrl+p): every screen, the theme, help, saved views, and every device
action."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .actions import ACTION_KEYS
from .context import ctx
from .modes import SCREENS


class TokenfleetCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        t = ctx(self.app).labels
        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = [
            (t(f"nav.{mode}"), partial(app.switch_mode, mode), t("app.title"))
            for mode in SCREENS
        ]
        commands += [
            (t("nav.help"), partial(app.run_action, "help"), "? / F1"),
            (t("nav.theme"), partial(app.run_action, "toggle_theme"), "ctrl+t"),
            (t("nav.search"), partial(app.run_action, "search"), "/"),
        ]
        for saved in ctx(self.app).views.load():
            commands.append((t("palette.view", name=saved.name),
                             partial(app.call_later, app.show_view,  # type: ignore[attr-defined]
                                     saved.view),
                             t("palette.saved_view")))
        screen = self.screen
        if hasattr(screen, "action_save_view"):
            commands.append((t("palette.save_view"), screen.action_save_view, "v"))
        if hasattr(screen, "action_device_action"):
            for name, key in ACTION_KEYS.items():
                commands.append((t(f"device_action.{name}"),
                                 partial(screen.action_device_action, name), key))
        return commands

    async def discover(self) -> Hits:
        for name, run, help_ in self._commands():
            yield DiscoveryHit(name, run, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_ in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_)
