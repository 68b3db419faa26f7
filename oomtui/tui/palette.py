"""The command palette's provider (imported when the palette first opens)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..kernel.policy import POLICIES
from .commands import COMMANDS

if TYPE_CHECKING:
    from .app import OomApp


class OomCommands(Provider):
    """The palette: the commands that make sense now, worded for the current selection, plus one
    entry per policy and per built-in scene."""

    def _entries(self):
        app: OomApp = self.app  # type: ignore[assignment]
        for c in COMMANDS:
            if c.id in ("palette", "select"):
                continue
            if c.available(app):
                yield c.label(app), c.help(), (lambda c=c: app.run_command(c.id))
        cur = app.engine.k.policy.id
        for p in POLICIES.values():
            if p.id != cur:
                yield (f"Policy: {p.id} ({p.kernels})", p.title,
                       (lambda pid=p.id: app.run_command("policy", policy=pid)))

    async def discover(self) -> Hits:
        for text, help_, cb in self._entries():
            yield DiscoveryHit(text, cb, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_, cb in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cb, help=help_)
