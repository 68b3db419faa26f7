"""The command palette's provider (imported when the palette first opens)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

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
            # Content, not str: a str prompt is parsed as markup, and a comm "[/x]" raised MarkupError
            yield DiscoveryHit(Content(text), cb, text=text, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_, cb in self._entries():
            score = matcher.match(text)
            if score > 0:
                # highlight() parses its text as markup: markup-like scene text is shown plain instead
                yield Hit(score, matcher.highlight(text) if "[" not in text else Content(text), cb, text=text,
                          help=help_)


class SafeCommandPalette(CommandPalette):
    """Textual's palette, made safe on a tiny terminal (Textual 8 bugs): paging (pageup/pagedown) a
    command list with no area on screen is a no-op (OptionList._move_page raised KeyError), and the
    list keeps a minimum width (wrapping its options to width 0 raised ValueError)."""

    DEFAULT_CSS = """
    SafeCommandPalette CommandList { min-width: 12; }
    """

    def _action_command_list(self, action: str) -> None:
        if action.startswith("page_") and not self.query_one(CommandList).scrollable_content_region:
            return
        super()._action_command_list(action)
