"""The game's widgets: the objective panel, the caption bar (autoplay), the presenter's big numbers."""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from ...kernel.page_types import PAGE_SIZE
from ...scene.goals import FAILED, MET, PENDING
from ...scene.units import fmt_size
from .. import game
from ..styles import R
from ..view import secs
from .panels import Panel

MARK = {MET: (" ✓ ", "badge_ok"), FAILED: (" ✗ ", "alarm"), PENDING: (" … ", "goal_pending")}  # label, role


def diff_style(difficulty: str) -> Style:
    """A scene's difficulty (intro, easy, medium, hard) as its style role."""
    return getattr(R, f"diff_{difficulty}", R.dim)


class ObjectivePanel(Panel):
    """The scene's goals with a live ✓/✗ where already decided, par and the hint on demand."""

    TITLE = "Objective"
    DEFAULT_CSS = """
    ObjectivePanel { border: round $accent; border-title-color: $text-accent; }
    """

    def __init__(self, engine, **kw) -> None:
        super().__init__(engine, **kw)
        self.show_hint = False
        self._states: list[game.GoalState] = []
        self._at = -1
        self._gen = -1

    @property
    def has_goals(self) -> bool:
        return bool(self.engine.sim.scene.goals)

    def sync(self, events: list, moved: bool) -> None:
        e = self.engine
        self.display = self.has_goals
        if not self.has_goals:
            return
        k = e.k
        stale = (self._gen != e.generation or events or e.finished
                 or (moved and k.jiffies - self._at >= max(1, k.hz // 4)))
        if stale or self._last is None:
            if stale:
                self._states = game.live_goals(e.sim)
                self._at, self._gen = k.jiffies, e.generation
            self.show(self.render_text())

    def toggle_hint(self) -> None:
        self.show_hint = not self.show_hint
        self._last = None
        self.show(self.render_text())

    def render_text(self) -> Text:
        e = self.engine
        sc = e.sim.scene
        g = sc.game
        compact = self.has_class("-compact")
        t = Text(no_wrap=compact, overflow="ellipsis")
        if not self._states and sc.goals:
            self._states = game.live_goals(e.sim)
        hint_key = f"{self.app._key_of('hint')} hint" if g is not None and g.hint else None
        end_key = f"{self.app._key_of('end')} end"
        if compact:  # one line, cut at its end: the keys first (at 80 columns they were the part cut)
            t.append(" · ".join(k for k in (hint_key, end_key) if k) + "  ", R.dim)
        for i, s in enumerate(self._states):
            if compact:
                if i:
                    t.append(" ")
            elif i:
                t.append("\n")
            mark, role = MARK[s.state]
            t.append(mark, R[role])
            t.append(" " + s.text, R.strong)
            if not compact and s.detail:
                t.append(f"\n    {s.detail}", R.dim)
        t.append("\n" if not compact else "  ")
        par = g.par if g else 0
        if g is not None:
            t.append(g.difficulty, diff_style(g.difficulty) + R.strong)
            t.append(" · ", R.dim)
        t.append(f"par {par} · moves {len(e.sim.played)}", R.label)
        if compact:
            return t
        if hint_key and self.show_hint:
            t.append("\nhint ", R.accent)
            t.append(g.hint, R.italic)
        elif hint_key:
            t.append(f" · {hint_key}", R.dim)
        t.append(f" · {end_key}", R.dim)
        return t


class KeyBar(Widget):
    """The footer: the keys of the screen's shown bindings on one line, as htop and btop draw theirs.

    One widget rather than Textual's Footer (a widget per key, each with two styled parts): at
    start-up its twelve keys were over half of all style passes, and every binding refresh rebuilt
    them. Keys that do not fit are left out whole, never cut; a click presses the key; the command
    palette's key stands at the right edge. It redraws only when what it shows changes."""

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; }
    KeyBar > .keybar--key { color: $footer-key-foreground; background: $footer-key-background;
                            text-style: bold; }
    KeyBar > .keybar--description { color: $footer-description-foreground;
                                    background: $footer-description-background; }
    KeyBar > .keybar--edge { color: $foreground 20%; }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--edge"}
    ALLOW_SELECT = False

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._shown: tuple = ()
        self._spans: list[tuple[int, int, str, bool, str]] = []  # start, end, key, enabled, tooltip

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._shown = self._signature()

    def _signature(self) -> tuple:
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        word = getattr(self.app, "footer_word", None)  # the App may word a key by its state ("space run")
        keys, seen = [], set()
        for _, b, enabled, tooltip in self.screen.active_bindings.values():
            if (b.show or b.key == palette) and b.action not in seen:  # one key per action
                seen.add(b.action)
                keys.append((b.key, self.app.get_key_display(b), word(b) if word else b.description, enabled,
                             tooltip or b.tooltip or b.description, b.key == palette))
        return tuple(keys)

    def _bindings_changed(self, screen) -> None:
        shown = self._signature()
        if shown != self._shown:
            self._shown = shown
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        desc_style = self.get_component_rich_style("keybar--description", partial=True)
        width = self.size.width
        palette = [k for k in self._shown if k[5]]
        room = width - sum(len(k[1]) + len(k[2]) + 4 for k in palette)
        t = Text(no_wrap=True, overflow="crop")
        self._spans = []
        for key, display, description, enabled, tooltip, is_palette in self._shown:
            if is_palette:
                continue
            part = len(display) + len(description) + 3
            if t.cell_len + part > room:
                break  # the rest would not fit: left out whole (help and quit come first)
            start = t.cell_len
            dim = Style(dim=not enabled)
            t.append(f" {display}", key_style + dim)
            t.append(f" {description} ", desc_style + dim)
            self._spans.append((start, t.cell_len, key, enabled, tooltip))
        for key, display, description, enabled, tooltip, _ in palette:
            t.append(" " * max(0, width - t.cell_len - len(display) - len(description) - 4))
            start = t.cell_len
            t.append("▏", self.get_component_rich_style("keybar--edge", partial=True))
            t.append(f"{display}", key_style)
            t.append(f" {description} ", desc_style)
            self._spans.append((start, t.cell_len, key, enabled, tooltip))
        return t

    def _key_at(self, x: int):
        return next((s for s in self._spans if s[0] <= x < s[1]), None)

    def on_click(self, event) -> None:
        span = self._key_at(event.x)
        if span is None:
            return
        if span[3]:
            self.app.simulate_key(span[2])
        else:
            self.app.bell()

    def on_mouse_move(self, event) -> None:
        span = self._key_at(event.x)
        self.tooltip = span[4] if span else None


class CaptionBar(Static):
    """Autoplay captions, docked above the footer; a hold step waits here for a key."""

    DEFAULT_CSS = """
    CaptionBar { height: auto; max-height: 4; background: $primary-muted; color: $text; padding: 0 1;
                 display: none; }
    CaptionBar.-shown { display: block; }
    CaptionBar.-hold { background: $warning-muted; }
    CaptionBar.-reading { max-height: 7; border-top: solid $warning; border-title-align: right;
                          border-title-color: $text; border-title-style: bold; }
    CaptionBar.-card { max-height: 8; background: $primary-darken-2; color: $text;
                       border-top: wide $accent; border-title-color: $text; border-title-style: bold;
                       border-title-align: right; padding: 0 1; }
    App.-compact CaptionBar.-card { max-height: 6; }
    """

    def say(self, text: str, at: str = "", hold: bool = False, left: float | None = None,
            go_on: str = "enter") -> None:
        """left: the seconds the caption still holds the clock for its reading, counted down in the bar
        (go_on is the key that cuts them short)."""
        t = Text()
        if at:
            t.append(f"{at}  ", R.dim)
        t.append(text, R.strong)
        if hold:
            t.append("   ")
            t.append(" ⏸ press any key to go on ", R.badge_warn)
        # the countdown in the top border, where no caption length can push it off
        self.border_title = f"{math.ceil(left)} s to read · {go_on} goes on" if left is not None and not hold else None
        self.update(t)
        self.set_class(True, "-shown")
        self.set_class(hold, "-hold")
        self.set_class(self.border_title is not None, "-reading")
        self.set_class(False, "-card")

    def card(self, card, key_of, more: int = 0) -> None:
        """A teach-mode card: what the kernel just did and what the player can do now; key_of(command id)
        is a command's key in force."""
        from textual.content import Content

        self.update(Content.assemble(
            (" TEACH ", "bold $text on $accent"), " ", (card.title, "bold"), "\n",
            card.what, "\n", (card.now, "italic $text-muted")))
        # the keys stand in the top border, where no card length can push them off
        self.border_title = (f"{key_of('pause')} continues{f' ({more} more)' if more else ''} · "
                             f"{key_of('teach')} teach mode off · {key_of('end')} end & score")
        self.set_class(True, "-shown")
        self.set_class(False, "-hold")
        self.set_class(False, "-reading")
        self.set_class(True, "-card")

    def clear(self) -> None:
        self.border_title = None
        self.update("")
        for cls in ("-shown", "-hold", "-reading", "-card"):
            self.set_class(False, cls)


class BigBar(Horizontal):
    """Presenter layout: simulated time, the reaper countdown and free memory in large digits."""

    DEFAULT_CSS = """
    BigBar { height: 5; dock: top; margin-top: 1; background: $surface; }
    BigBar > Vertical { width: 1fr; height: 5; padding: 0 2; }
    BigBar Digits { width: auto; color: $text-primary; text-style: bold; }
    BigBar .biglabel { color: $text-muted; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    BigBar #big-reaper Digits { color: $text-warning; }
    BigBar #big-free Digits { color: $text-success; }
    """

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self._last: tuple = ()

    def compose(self):
        from textual.widgets import Digits

        for wid, label in (("big-time", "simulated time (s)"), ("big-reaper", "OOM reaper timer (s)"),
                           ("big-free", "free memory (MiB)")):
            with Vertical(id=wid):
                yield Digits("", id=f"{wid}-d")
                yield Static(label, classes="biglabel", id=f"{wid}-l")

    def values(self) -> tuple[str, str, str, str]:
        e = self.engine
        k = e.k
        t = secs(k.jiffies, k.hz, 2, unit="")
        running = [tr for tr in e.obs.timers if tr.result is None and tr.delay > 0]
        if running:
            tr = running[-1]
            left = max(0, tr.fires_at - k.jiffies)
            # the unit first: at 80 columns the label is cut after it
            reaper, label = secs(left, k.hz, 2, unit=""), f"OOM reaper timer (s): {tr.comm} {tr.pid}"
        elif e.obs.timers:
            tr = e.obs.timers[-1]
            reaper, label = "-", f"OOM reaper: {tr.result} ({tr.comm} {tr.pid})"
        else:
            reaper, label = "-", "OOM reaper timer (s)"
        free = fmt_size(max(0, k.free_pages()) * PAGE_SIZE)  # "80 KiB": not 0 MiB
        return t, reaper, free, label

    def sync(self, events: list | None = None, moved: bool = True) -> None:
        if not self.children:
            return  # `m` mounted it and a tick came before its compose(): the next tick fills it in
        vals = self.values()
        if vals == self._last:
            return
        self._last = vals
        t, reaper, free, label = vals
        self.query_one("#big-time-d").update(t)
        self.query_one("#big-reaper-d").update(reaper)
        self.query_one("#big-reaper-l", Static).update(label)
        number, unit = free.split()
        self.query_one("#big-free-d").update(number)
        self.query_one("#big-free-l", Static).update(f"free memory ({unit})")


def key_events(o, limit: int = 9) -> list[str]:
    """What happened, in time order and a few lines, from a scene Outcome."""
    rows: list[tuple[float, str]] = []
    for x in o.kills:
        rows.append((x.t_ms, f"{x.signal} → {x.comm} {x.pid} ({x.reason})"))
    for r in o.reaps:
        # the reaper panel's words: "skipped" left a newcomer asking why (MMF_OOM_SKIP was already set)
        what = {"skipped": "nothing to do for", "unable": "unable to reap"}.get(r.result, r.result)
        rows.append((r.t_ms, f"{r.by}: {what} {r.comm} {r.pid}" + (f", {fmt_size(r.freed_kb * 1024)}" if r.freed_kb else "")))
    for w in o.waiters:
        rows.append((w.t_ms if w.t_ms is not None else o.t_ms, f"waiter {w.tid} on {w.futex}: {w.outcome.upper()}"))
    for s in o.syscalls:
        rows.append((s.t_ms, f"{s.name}() = {s.ret}" + (f" {s.errno}" if s.errno else "")))
    if o.livelock is not None:
        rows.append((o.livelock.t_ms, f"OOM LIVELOCK on {o.livelock.comm} {o.livelock.pid}"))
    rows.sort(key=lambda r: r[0])
    out = [f"{t:>6} ms  {text}" for t, text in rows[:limit]]
    if len(rows) > limit:
        out.append(f"          + {len(rows) - limit} more")
    if o.oom_blocked_ms:
        out.append(f"          the OOM killer was blocked {o.oom_blocked_ms} ms in all")
    return out


class BriefingPanel(Static):
    """The briefing a scene opens on: the story in a few lines, the objective as a checklist, the
    keys that matter here, and "space to start". It stands where dmesg is, under the process tree."""

    DEFAULT_CSS = """
    BriefingPanel { height: auto; max-height: 70%; border: round $accent; border-title-color: $text-accent;
                    border-title-style: bold; border-subtitle-color: $text; border-subtitle-style: bold;
                    border-subtitle-background: $success-darken-1; padding: 0 1; display: none;
                    background: $surface; overflow-y: auto; scrollbar-size-vertical: 1; }
    """

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self.border_title = "Briefing"

    def show_briefing(self, key_of=None, compact: bool = False, starts: bool = True) -> None:
        """compact (80x24): no blank lines, the keys on one line; "space to start" is always in the
        bottom border, where no terminal height can push it off. starts False (play --paused): space
        only closes the briefing and the clock waits for the next space, so the border says that."""
        from textual.content import Content

        from ..teach import briefing

        e = self.engine
        b = briefing(e.sim.scene, e.sim.walkthrough, e.k.hz, key_of=key_of, starts=starts)
        gap = [] if compact else ["\n"]
        parts: list = [] if compact else [(b.title, "bold $text-accent"), "\n"]
        parts += [b.text, "\n"]
        if b.goals:
            parts += gap + [("Objective", "bold"), "\n"]
            for g in b.goals:
                parts += ["  ☐ ", (g, "bold"), "\n"]
        if compact:
            # a key and its word on one line: a line that would split them breaks before the key
            room, col = self.app.size.width - 5, 0  # border, padding and a scrollbar
            for i, (key, what) in enumerate(b.keys):
                word = f" {what.split(',')[0]}"
                sep = " · " if i else ""
                if col and col + len(sep) + len(key) + len(word) > room:
                    sep, col = "\n", 0
                parts += [sep, (key, "bold $text-warning"), word]
                col += len(sep.strip("\n")) + len(key) + len(word)
        else:
            parts += gap + [("Keys here", "bold"), "\n"]
            for key, what in b.keys:
                parts += ["  ", (f"{key:>5}", "bold $text-warning"), f"  {what}\n"]
            parts += ["\n", ("The tree above lists every process with its oom_badness POINTS; the panels beside it "
                              "show the kernel's moves as they happen.", "$text-muted")]
        self.update(Content.assemble(*parts))
        self.border_title = f"Briefing: {b.title}" if compact else "Briefing"
        space = key_of("pause") if key_of else "space"
        self.border_subtitle = (f"{space} to start · esc to look around first" if starts
                                else f"{space} to close · {space} again starts the clock")

    def plain(self) -> str:
        return str(self.render())
