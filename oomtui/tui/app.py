"""The live view: `oomtui` / `oomtui play [SCENE]`.

The App owns an Engine (the Simulation plus pause/speed), a Sequencer (the briefing, walkthrough
steps, caption reading time, teach-mode cards) and a 30 fps timer that advances simulated time by
wall time x speed. Every user action goes through a command object (commands.py) and
`apply_action`; each frame's events are handed to the panels, which redraw only what those events
(or the passing of time) changed.

The host API that commands, tests, the recorder, the screenshot and the benchmarks use:
`advance(n)`, `next_event()`, `go_on()`, `redraw()`, `run_to_end()`, `apply_action(action)`,
`run_command(id, **params)` and `panel_text(id)`.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Static

from ..errors import UserError
from ..kernel.core import KernelError
from ..scene.actions import Action
from ..scene.load import DEFAULT_SCENE, LoadedScene, load_playable, load_scene
from . import sequencer as seqmod
from . import styles
from .commands import BY_ID, CommandError, bindings, keys_text
from .engine import Engine
from .sequencer import HOLDS_CLOCK, Sequencer
from .view import secs
from .widgets.dmesg import DmesgLog
from .widgets.game import BriefingPanel, CaptionBar, KeyBar, ObjectivePanel
from .widgets.panels import DecisionPanel, FutexPanel, MemoryPanel, ReaperPanel, StatusBar
from .widgets.proctable import ProcessTable

FPS = 30
COMPACT_W, COMPACT_H = 112, 28
MIN_W, MIN_H = 60, 16  # below this a notice replaces the view
TIGHT_H = 44  # below this (wide layout) the side panels drop their side and bottom borders
PANELS = ("reaper", "futex", "memory", "decision")
PANELS_TITLE = {0: "OOM reaper", 1: "Futexes", 2: "Memory", 3: "OOM decision"}
PAST_A_HOLD = ("quit", "interrupt", "help", "palette", "end", "teach")  # commands whose key a hold lets through


def palette_provider():
    """App.COMMANDS entry: textual.command is imported when the palette first opens."""
    from .palette import OomCommands

    return OomCommands


def side_width(w: int) -> int:
    """The side column grows with the terminal: 52 columns at 120, 84 at 200, 105 at 250."""
    return max(52, min(110, int(w * 0.42)))


class OomApp(styles.StyledApp, App):
    CSS_PATH = Path(__file__).with_name("oomtui.tcss")
    TITLE = "oomtui"
    BINDINGS = bindings() + [
        # the briefing, a teach card or a hold: enter goes on (space does too, through Pause)
        Binding("enter", "go_on", "Go on", show=False, priority=True, id="oomtui.go_on"),
        Binding("escape", "dismiss_briefing", "Close", show=False, priority=True, id="oomtui.escape"),
    ]
    COMMANDS = App.COMMANDS | {palette_provider}
    ENABLE_COMMAND_PALETTE = True

    # ------------------------------------------------------------------ colours: styles.StyledApp
    def _theme_changed(self, theme) -> None:
        """The roles have the new theme's colours: redraw what has them baked into its text."""
        for w in (*self.panels, self.goals):
            w._last = None
        self.status._last = ""
        self._seq_shown = -1
        self.dmesg.notify_style_update()
        self.dmesg.refresh()
        self.after_events([], moved=False)
        if self.config_path is not None and theme.name != self._saved_theme:
            self._save_theme(theme.name)

    _saved_theme = None  # the theme the config file has (main sets it): a change to it is saved

    def _save_theme(self, name: str) -> None:
        from .. import config

        try:
            config.save_theme(self.config_path, name)
        except UserError as err:  # a read-only home, an edited file: the game goes on, the player is told
            self.notify(str(err), title="Theme not saved", severity="warning", timeout=8)
            return
        self._saved_theme = name
        self.notify(f"{name}, saved in {self.config_path}", title="Theme", timeout=3)

    def __init__(self, scene: str | LoadedScene | None = None, *, policy: str | None = None,
                 kernel: str | None = None, paused: bool = False, speed: float = 1.0, fps: int = FPS,
                 autoplay: bool = False, big: bool = False, clock: bool = True, driver_class=None,
                 briefing: bool = False, teach: bool = False, reading: bool | None = None, holds: bool = True):
        """autoplay: run the scene's walkthrough through the commands, captions in a caption bar.
        big: the presenter layout. clock=False: no wall-clock timer (the recorder drives time).
        briefing: open on the scene's briefing, the clock at 0 until space. teach: stop at each
        kernel decision with a card. reading: captions hold time for their reading time (default:
        with the clock). holds: a hold step waits for a key."""
        super().__init__(driver_class=driver_class)
        ls = scene if isinstance(scene, LoadedScene) else load_scene(scene or DEFAULT_SCENE)
        self.engine = Engine(ls, policy=policy, kernel=kernel, paused=paused, speed=speed)
        self.start_paused = paused
        self.seq = Sequencer(self.engine, autoplay=autoplay, teach_mode=teach, briefing=briefing,
                             reading=clock if reading is None else reading, holds=holds, run_step=self._run_step)
        self.fps = fps
        self.panel_index = 0
        self._last_tick = time.monotonic()
        self._last_script_j = -1
        self._layout_size = None
        self._seq_shown = -1
        self._footer_state: tuple | None = None  # (paused, the wait that holds the clock): _sync_footer
        self.autoplay = autoplay
        self.big = big
        self.clock = clock
        self.config_path = None  # set by main: a theme chosen in the palette is saved in this config file
        self.on_step = None  # callback(step) when a walkthrough step runs (the recorder's markers)
        self.last_result = None  # (Result, Outcome) of the last scored end
        self.keep_scores = True  # False: do not touch the best-scores file (recordings, screenshots)
        self._in_step = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        e = self.engine
        self._layout_classes()  # before the widgets are first styled: no restyle at mount
        yield StatusBar(e, id="status")
        if self.big:
            from .widgets.game import BigBar

            yield BigBar(e, id="big")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                self.table = ProcessTable(e, id="tree")
                self.table.border_title = "Processes"
                self.table.narrow = self.big
                yield self.table
                # the filter Input is mounted here when / is first pressed
                yield BriefingPanel(e, id="briefing")
                yield DmesgLog(e, id="dmesg")
            with VerticalScroll(id="side"):
                # born with the classes _apply_layout would give them: a class changed after mount
                # restyles the widget
                compact = " -compact" if self.compact else ""
                yield ObjectivePanel(e, id="goals", classes=compact.strip())
                for i, cls in enumerate((ReaperPanel, FutexPanel, MemoryPanel, DecisionPanel)):
                    shown = " -shown" if i == self.panel_index else ""
                    yield cls(e, id=PANELS[i], classes="panel" + shown + compact)
        self.caption = CaptionBar(id="caption")
        yield self.caption
        yield Static("", id="toosmall")
        yield KeyBar(id="footer")

    def on_mount(self) -> None:
        self.status = self.query_one(StatusBar)
        self.status.seq = self.seq
        self.dmesg = self.query_one(DmesgLog)
        self.goals = self.query_one(ObjectivePanel)
        self.briefing_panel = self.query_one(BriefingPanel)
        self.panels = [self.query_one(f"#{p}") for p in PANELS]
        self.bigbar = self.query_one("#big") if self.big else None
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        styles.on_terminal(self)
        self._apply_layout()
        self.table.rebuild()
        self.table.focus()
        self.dmesg.reset()
        self.seq.start()
        self.after_events([], moved=True)
        self._last_tick = time.monotonic()
        if self.clock:
            self.set_interval(1 / self.fps, self._tick)
        from . import game

        game.warn_player(self.notify)  # a bad scores file found before start-up (moved aside): say so once
        if self.sigint_exits:
            import asyncio
            import signal

            # a SIGINT from outside (kill -INT; Ctrl-C is a key here) ends the view as Ctrl-C does: asyncio's own
            # handler cancelled the App, which then exited 0
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, lambda: self.exit(return_code=130))

    sigint_exits = False  # main sets it: the App owns the process's SIGINT

    def _refresh_notifications(self) -> None:
        """Notifications never cover a dialog: under a modal screen they wait (a dialog shows its own
        errors) and come back when it closes. Textual sets the rack's display inline, so CSS cannot
        do this; tests/tui/test_first_minute.py fails if Textual stops calling this."""
        from textual.css.query import NoMatches
        from textual.screen import ModalScreen
        from textual.widgets._toast import ToastRack

        if isinstance(self.screen, ModalScreen):
            try:
                self.screen.get_child_by_type(ToastRack).display = False
            except NoMatches:
                pass
            return
        if getattr(self, "dmesg", None) is not None and self.screen is self.screen_stack[0]:
            self._place_toasts()  # where the layout is now (dmesg shown since, the result screen closed)
        super()._refresh_notifications()

    def notify(self, message: str, *, markup: bool = False, title: str = "", **kw) -> None:  # type: ignore[override]
        """Plain text unless asked: notifications quote scene text (a comm "[/x]" raised MarkupError).
        In the compact layout a toast is a line or two over the top of the process tree (oomtui.tcss),
        its title leading its text."""
        if self.compact:
            if title:
                message = f"{escape(title) if markup else title}: {message}"
                title = ""
            message = message.replace("\n", " · ")
        super().notify(message, markup=markup, title=title, **kw)

    def action_command_palette(self) -> None:
        """Textual's palette, made safe at tiny sizes (palette.SafeCommandPalette)."""
        from .palette import SafeCommandPalette

        if self.use_command_palette and not SafeCommandPalette.is_open(self):
            self.push_screen(SafeCommandPalette(id="--command-palette"))

    def on_resize(self) -> None:
        self._apply_layout()

    @property
    def compact(self) -> bool:
        return self.has_class("-compact")

    def _layout_classes(self) -> None:
        """The App's layout classes for its size, changed together: each change of an App class
        restyles every widget (about 20 ms), so one update rather than one per class."""
        w, h = self.size
        compact = w < COMPACT_W or h < COMPACT_H
        want = {"-compact": compact, "-tight": not compact and h < TIGHT_H, "-toosmall": w < MIN_W or h < MIN_H,
                "-big": self.big}
        if any(self.has_class(c) != on for c, on in want.items()):
            self.set_classes({c for c in self.classes if c not in want} | {c for c, on in want.items() if on})

    def _apply_layout(self) -> None:
        self._layout_size = self.size
        w, h = self.size
        self._layout_classes()
        compact = self.compact
        small = self.query("#toosmall")
        if small:
            small.first().update(f"terminal too small ({w}×{h}, needs {MIN_W}×{MIN_H}); q quits")
        side = self.query("#side")
        if side:
            side.first().styles.width = None if compact else side_width(w)
        for i, p in enumerate(getattr(self, "panels", [])):
            p.set_class(i == self.panel_index, "-shown")
            p.set_class(compact, "-compact")
        goals = getattr(self, "goals", None)
        if goals is not None and goals.has_class("-compact") != compact:
            goals.set_class(compact, "-compact")
            goals._last = None
        dmesg = getattr(self, "dmesg", None)
        if dmesg is not None:
            dmesg.wrap = not compact
        if side:
            side.first().border_title = PANELS_TITLE[self.panel_index] + "  (v: next panel)" if compact else None
        brief = getattr(self, "briefing_panel", None)
        if brief is not None:
            self._briefing_displays()
            if self.seq.briefing:
                self._show_briefing()
            self.call_after_refresh(self._place_toasts)  # the layouts place them apart

    def _show_briefing(self) -> None:
        # play --paused: space closes the briefing and does not start the clock; its border says so
        self.briefing_panel.show_briefing(key_of=self._key_of, compact=self.compact, starts=not self.start_paused)

    def _briefing_displays(self) -> None:
        """The briefing stands where dmesg is (and, compact, where the side panel is). Displays, not an
        App class: a class on the App restyles every widget."""
        b = self.seq.briefing
        self.briefing_panel.display = b
        # on a small terminal a teach card, or the presenter's big numbers, take dmesg's rows, so the
        # process tree keeps some
        self.dmesg.display = not b and not (self.compact and (self.big or self.seq.card is not None))
        self.query_one("#side").display = not (b and self.compact)

    def cycle_panel(self, panel: str | None = None) -> None:
        if panel is not None:
            if panel not in PANELS:
                raise CommandError(f"panel: one of {', '.join(PANELS)}")
            self.panel_index = PANELS.index(panel)
        else:
            self.panel_index = (self.panel_index + 1) % len(PANELS)
        self._apply_layout()

    # ------------------------------------------------------------------ the clock
    def _tick(self) -> None:
        if self.size != self._layout_size:  # App.on_resize is not reliable: the App stops Resize
            self._apply_layout()
        self._sync_footer()
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        e = self.engine
        if e.paused or len(self.screen_stack) > 1:  # time stands still while a dialog is open
            return
        self.seq.tick(dt)
        if self.seq.waiting is not None:
            if self.seq.version != self._seq_shown:
                self.after_events([], moved=False)
            return
        j0 = e.k.jiffies
        events = self.seq.advance(e.take(dt))
        if e.k.jiffies != j0 or events or self.seq.version != self._seq_shown:
            self.after_events(events, moved=True)

    # ------------------------------------------------------------------ host API
    def advance(self, n: int) -> list:
        """Advance up to n jiffies as the clock would (walkthrough steps, teach stops), and redraw."""
        events = self.seq.advance(int(n))
        self.after_events(events, moved=True)
        return events

    def next_event(self) -> list:
        """Run to the next thing the kernel reports (stopping at walkthrough steps)."""
        e = self.engine
        before = e.k.jiffies
        events = e.next_event()
        self.seq.note_events(events)
        self.seq.start()
        if not events and e.k.jiffies == before:
            self.notify("Nothing is scheduled: the kernel is idle.", title="Next event")
        self.after_events(events)
        return events

    def go_on(self) -> str | None:
        """The key that ends the briefing, a teach card, a hold or a caption's reading time."""
        ended = self.seq.go_on()
        if ended == seqmod.BRIEFING and not self.start_paused:
            self.engine.paused = False
        if ended in (seqmod.HOLD,):
            self.engine.paused = False
        self.engine.carry = 0.0
        self._last_tick = time.monotonic()
        self.seq.start()
        self.after_events([], moved=False)
        return ended

    def redraw(self) -> None:
        """Redraw everything from the model (after time jumped or the scene changed)."""
        self.table.rebuild()
        self.dmesg.reset()
        for p in self.panels:
            p._last = None
        self.goals._last = None
        self.after_events([], moved=True)

    def panel_text(self, panel_id: str) -> str:
        """The plain text a panel shows now (for tests and tools)."""
        w = self.query_one(f"#{panel_id}")
        return w.plain() if hasattr(w, "plain") else str(w.render())

    def after_events(self, events: list, moved: bool = True) -> None:
        """Hand one frame's events to every panel; each redraws only what changed."""
        e = self.engine
        self.table.refresh()
        for p in self.panels:
            p.sync(events, moved)
        self.goals.sync(events, moved)
        if self.bigbar is not None:
            self.bigbar.sync(events, moved)
        self.dmesg.sync(events, moved)
        self._scripted(events)
        self._show_sequencer()
        if e.finished and not e.end_noted and not self.seq.waiting:
            e.end_noted = True
            if e.sim.scene.goals:
                self.finish()
            elif not e.paused:
                e.paused = True
                self.notify("The scene's script has run its course: paused. space runs on, r restarts, "
                            "p tries another policy.", title="End of scene", timeout=6)
        self.status.sync(events, moved)
        self._sync_footer()
        if self.compact and events and self.seq.card is None:  # a card brings its own panel forward
            self._auto_panel(events)

    def _show_sequencer(self) -> None:
        """The briefing, the current teach card or caption, as the sequencer has them."""
        s = self.seq
        if s.version == self._seq_shown:
            return
        self._seq_shown = s.version
        self._briefing_displays()
        if s.briefing:
            self._show_briefing()
        if s.card is not None:
            self.caption.card(s.card, more=len(s.cards) - 1, key_of=self._key_of)
            if self.compact and s.card.panel != PANELS[self.panel_index]:
                self.cycle_panel(s.card.panel)  # the panel the card says to watch (the reaper's countdown)
        elif s.caption is not None:
            text, at, hold = s.caption
            left = s.read_left if s.waiting == seqmod.READING else None
            go_on = keys_text(self._keymap.get("oomtui.go_on", "enter").split(","))
            self.caption.say(text, at, hold=hold, left=left, go_on=go_on)
        else:
            self.caption.clear()
        # after the next layout: the caption bar's new height is known only then (measured now, a toast
        # shown before a teach card covered the card's right half)
        self.call_after_refresh(self._place_toasts)

    def _key_of(self, command_id: str) -> str:
        """A command's key(s) for people, after the keymap (the config's)."""
        return BY_ID[command_id].keys_label(self._keymap)

    def _place_toasts(self) -> None:
        """Notifications never cover the caption bar, dmesg or the side panels: in the wide layout at the bottom
        of the process tree, above dmesg (or the briefing where it stands), the caption bar and the footer (at the
        bottom right, the script's toast of a replayed k8s report, 12 rows, and "End of scene" under it hid the
        OOM decision panel's ranking; over dmesg, they hid the kernel's lines that answer a move); in the compact
        one at the top of the process tree, over its top border and first rows (at the bottom they hid the side
        panel, where a move's effect shows, for their 4 seconds)."""
        from textual.widgets._toast import ToastRack

        for rack in self.screen.query(ToastRack):
            if self.compact:
                rack.styles.margin = (self.query_one("#main").region.y, 0, 0, 0)  # under the status bar (and --big's)
                continue
            cap = self.caption.outer_size.height if self.caption.display and self.caption.has_class("-shown") else 0
            below = sum(w.outer_size.height for w in (self.dmesg, self.briefing_panel) if w.display)
            rack.styles.margin = (0, 0, 1 + cap + below, 0)
            rack.styles.width = self.size.width - self.query_one("#side").outer_size.width  # toasts end at its left

    # ------------------------------------------------------------------ the game
    def finish(self) -> None:
        """The scene has reached its end: score it, keep the best score, show the result."""
        from ..scene.goals import evaluate
        from ..scene.trials import trials_of_play
        from . import game
        from .screens.game import ResultScreen

        e = self.engine
        e.paused = True
        o = e.sim.outcome()
        result = evaluate(e.sim, o)
        self.last_result = (result, o)
        best = self.keep_scores and game.record_score(e.sim.id, result.score, result.max_score, result.won)
        game.warn_player(self.notify)
        nxt = game.next_story(e.sim.id)

        def done(choice: str | None) -> None:
            if choice == "restart":
                self.run_command("restart")
            elif choice == "next" and nxt:
                self.run_command("scene", scene=nxt)
            elif choice == "scenes":
                self.run_command("scene")

        self.clear_notifications()
        races = trials_of_play(e.sim)  # a scene with [races]: the same moves, races let loose
        hint = e.sim.scene.game.hint if e.sim.scene.game is not None else None
        self.push_screen(ResultScreen(e.sim.scene.title, e.k.policy.id, result, o, best, nxt, races, hint), done)

    def run_to_end(self) -> None:
        """End the scene now: run the rest of it at once (the walkthrough too, holds and cards skipped)."""
        if self.engine.finished:
            self.engine.end_noted = False
        self.seq.run_rest()
        self.redraw()

    # ------------------------------------------------------------------ autoplay
    def _run_step(self, st) -> None:
        """A walkthrough step, through the same commands as the keys."""
        from .game import step_commands

        if st.action is not None:
            self._in_step = True
            try:
                for cid, params in step_commands(st.action):
                    self.run_command(cid, **params)
            finally:
                self._in_step = False
        if self.on_step is not None:
            self.on_step(st)

    def _auto_panel(self, events: list) -> None:
        """Compact layout: bring forward the panel the news is about."""
        from ..kernel import events as ev

        want = None
        for x in events:
            if isinstance(x, (ev.OomSelected, ev.OomAborted)):
                want = "decision"
            elif isinstance(x, ev.FutexEvent) and x.outcome in ("hung", "eownerdead"):
                want = "futex"
            elif isinstance(x, (ev.ReaperQueued, ev.ReaperTimer, ev.Reaped, ev.Syscall)):
                want = want or "reaper"
        if want is not None and PANELS[self.panel_index] != want:
            self.cycle_panel(want)

    def _scripted(self, events: list) -> None:
        """Scripted actions that came due since the last frame, as a toast with their caption."""
        e = self.engine
        j = e.k.jiffies
        for at, action in e.sim.script:
            if self._last_script_j < at <= j:
                text = escape(action.caption or action.describe())  # scene text, shown as it is
                self.notify(f"{text}\n[dim]{escape(action.describe())}[/dim]", title=f"script at {secs(at, e.k.hz)}",
                            timeout=4, markup=True)
        self._last_script_j = j

    # ------------------------------------------------------------------ keys
    def action_command(self, command_id: str) -> None:
        if self.seq.waiting == seqmod.HOLD and command_id not in PAST_A_HOLD:
            self.go_on()  # the key that ends a hold does nothing else
            return
        self.run_command(command_id)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # enter and esc in the filter's input (the main screen's only one) are the input's, apply and clear,
        # even while the briefing waits: `/ payments enter` from the briefing started the clock instead
        typing = self.focused is not None and self.focused.id == "filter"
        if action == "go_on":  # enter also cuts a caption's reading time short (a presenter who has read it)
            return self.seq.waiting is not None and len(self.screen_stack) == 1 and not typing
        if action == "command" and parameters == ("filter",):  # a priority key: the main screen's, not a dialog's,
            return len(self.screen_stack) == 1 and not typing  # and typed into the filter ("kubepods/burstable")
        if action == "dismiss_briefing":
            return self.seq.waiting in (seqmod.BRIEFING, seqmod.CARD) and len(self.screen_stack) == 1 and not typing
        return True

    def action_go_on(self) -> None:
        self.go_on()

    def action_dismiss_briefing(self) -> None:
        """Esc: close the briefing and look around first (the clock stays at 0, paused)."""
        looking = self.seq.waiting == seqmod.BRIEFING
        self.go_on()
        if looking:
            self.engine.paused = True
            self.after_events([], moved=False)

    def run_command(self, command_id: str, raise_errors: bool = False, **params) -> bool:
        """Run a command as a key press would; params replace what it takes from the selection.
        Errors (bad target, no selection) become a notification (or are raised with raise_errors)."""
        cmd = BY_ID.get(command_id)
        try:
            if cmd is None:
                raise CommandError(f"no command {command_id!r}; known: {', '.join(BY_ID)}")
            cmd.execute(self, **params)
        except (CommandError, KernelError, UserError, ValueError, TypeError) as err:
            if raise_errors:
                raise
            self.notify(str(err), title=cmd.title if cmd else "command", severity="error", timeout=5)
            return False
        return True

    def apply_action(self, action: Action) -> list:
        """The one way the TUI changes kernel state."""
        events = self.engine.apply(action)
        self.seq.note_events(events)
        self.after_events(events, moved=False)
        self.table.refresh()
        self._report(action, events)
        return events

    def _report(self, action: Action, events: list) -> None:
        from ..kernel import events as ev
        from ..report.timeline import syscall_text

        sys = [x for x in events if isinstance(x, ev.Syscall)]
        if sys:
            s = sys[-1]
            ok = s.ret == 0
            if self.seq.card is None:  # a teach card says it already
                self.notify(syscall_text(s), title="syscall", severity="information" if ok else "error", timeout=6)
            if self.compact:
                self.cycle_panel("reaper")
            return
        if self._in_step:
            return  # an autoplay step: its caption says it
        # what happened, not what was asked: a SIGTERM to a process with a handler kills nothing
        refused = any(isinstance(x, ev.CgroupMove) and x.errno for x in events)  # the write failed
        self.notify(action.effect(events, self.engine.k), title=action.describe(), markup=False, timeout=4,
                    severity="error" if refused else "information")

    # ------------------------------------------------------------------ dialogs (commands.Host)
    def ask_adj(self, pid: int, comm: str, current: int, done) -> None:
        from .screens.modals import AdjScreen

        self.push_screen(AdjScreen(pid, comm, current), done)

    def pick(self, title: str, items: list[tuple[str, str]], current: str | None, done) -> None:
        from .screens.modals import PickerScreen

        self.push_screen(PickerScreen(title, items, current), done)

    def pick_scene(self, current: str | None, done) -> None:
        from .screens.game import ScenePicker

        self.push_screen(ScenePicker(current, files=self.scene_files, paths=not self.served), done)

    def may_open(self, ref: str) -> bool:
        """Served to browsers, a session opens the scenes its picker lists and no other file of the server."""
        from ..scene.load import builtin_ids

        return not self.served or ref in builtin_ids() or ref in self.scene_files

    def show_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ------------------------------------------------------------------ view helpers used by commands
    def reset_view(self, briefing: bool = False) -> None:
        """A restart or a new scene: the view from the model, the walkthrough from its start."""
        self._last_script_j = -1
        self.seq.reset(briefing=briefing)
        if briefing:
            self.engine.paused = self.start_paused
        self.seq.start()
        self.redraw()

    brief_new_scenes = False  # interactive play opens every scene it switches to on its briefing
    scene_files: tuple[str, ...] = ()  # `--scenes DIR`: its scene files, offered in the scene picker
    served = False  # a browser session of `oomtui serve`: no scene paths, no scores file

    def open_filter(self) -> None:
        found = self.query("#filter")
        if found:
            inp = found.first()
        else:  # created on first use: one widget less to build at start-up
            from textual.widgets import Input

            inp = Input(placeholder="filter: comm, pid, tid or cgroup — enter applies, esc clears", id="filter")
            self.query_one("#left").mount(inp, before=self.query_one("#briefing"))
        inp.value = self.table.filter
        inp.add_class("-open")
        # focused at once (not by Widget.focus()'s call_later) as / is read (a priority key): the keys typed in
        # a burst after it ("/kill", tmux send-keys) are handed on to the input, not to the table and the
        # command keys (k: SIGKILL)
        self.screen.set_focus(inp)

    def set_filter(self, text: str) -> None:
        self.table.filter = text.strip()
        self.table.rebuild()
        flt = self.table.filter
        # an empty tree alone looked like a crash: say that nothing matched and how to get the rows back
        none = "" if self.table.rows else " — no match, esc clears"
        self.table.border_title = f"Processes  filter: {flt}{none}" if flt else "Processes"

    def on_input_changed(self, event) -> None:
        if event.input.id == "filter":
            self.set_filter(event.value)

    def on_input_submitted(self, event) -> None:
        if event.input.id == "filter":
            event.input.remove_class("-open")
            self.table.focus()

    def on_key(self, event) -> None:
        if self.seq.waiting == seqmod.HOLD and event.key not in ("ctrl+q", self.COMMAND_PALETTE_BINDING) and not any(
                event.key in BY_ID[c].keys(self._keymap) for c in PAST_A_HOLD):
            self.go_on()
            event.prevent_default()  # the key that ends a hold does nothing else
            event.stop()
            return
        if event.key == "escape" and self.table.filter and self.focused is self.table:
            self.set_filter("")  # esc clears an applied filter
            event.stop()
            return
        inp = self.query("#filter")
        if event.key == "escape" and inp and inp.first().has_class("-open"):
            inp.first().remove_class("-open")
            self.set_filter("")
            self.table.focus()
            event.stop()

    # No refresh_bindings() on selection changes: nothing in the footer depends on the selection.

    def footer_word(self, b: Binding) -> str:
        """KeyBar's word for a binding: its command's word for the state now (Pause.footer_word)."""
        cid = b.action.removeprefix("command('").removesuffix("')")
        return BY_ID[cid].footer_word(self) if cid in BY_ID else b.description

    def _sync_footer(self) -> None:
        """Refresh the footer's bindings when what a footer word depends on (pause, a wait) has changed."""
        state = (self.engine.paused, self.seq.waiting if self.seq.waiting in HOLDS_CLOCK else None)
        if state != self._footer_state:
            self._footer_state = state
            self.refresh_bindings()


def make_app(scene: str | LoadedScene | None = None, **kw) -> OomApp:
    """One factory for the CLI, the tests and the benchmarks."""
    return OomApp(scene, **kw)


def teach_default(ls: LoadedScene) -> bool:
    """Teach mode is on for story scenes the player has not won yet."""
    from . import game

    g = ls.scene.game
    if g is None or g.order is None:
        return False
    best = game.load_scores().get(ls.ref)
    return not (isinstance(best, dict) and best.get("won") is True)


def build(args) -> OomApp:
    """The App of `oomtui play`, its arguments checked (args has .scene, .policy, .kernel, .paused, .speed,
    .autoplay, .big, .teach, .record, .scenes, .served). The config file (oomtui/config.py) gives the theme,
    the keys, and the speed and layout the arguments leave unset; a bad one stops here, before anything
    starts. A browser session of `oomtui serve` (.served) reads none: its keys are the documented ones
    whoever serves, and a theme switched in it is saved nowhere. serve builds one to check its arguments."""
    from .. import config
    from ..scene.load import scene_files
    from . import game
    from .keys import check

    served = bool(getattr(args, "served", False))
    cfg = config.Config("(a browser session of oomtui serve: no config file)") if served else config.load()
    check(cfg)
    speed = getattr(args, "speed", None)
    speed = cfg.speed if speed is None else speed
    if not 0.05 <= speed <= 100:  # also 0 and nan
        raise UserError(f"--speed {speed:g}: expected 0.05 to 100")
    big = getattr(args, "big", None)
    if served:
        game.keep_scores_in_memory()  # before teach_default reads them
    files = scene_files(args.scenes) if getattr(args, "scenes", None) else []
    ls = load_playable(getattr(args, "scene", None) or DEFAULT_SCENE, getattr(args, "report", None))
    autoplay = bool(getattr(args, "autoplay", False))
    teach = getattr(args, "teach", None)
    if teach is None:
        teach = teach_default(ls) and not autoplay
    app = make_app(ls, policy=getattr(args, "policy", None), kernel=getattr(args, "kernel", None),
                   paused=bool(getattr(args, "paused", False)), speed=speed, autoplay=autoplay,
                   big=cfg.layout == "big" if big is None else big, briefing=not autoplay, teach=teach)
    app.brief_new_scenes = not autoplay
    if cfg.theme is not None:
        app.theme = cfg.theme
    if cfg.keys():
        app.set_keymap(cfg.keys())
    app.config_path, app._saved_theme = cfg.path, app.theme
    app.scene_files, app.served = tuple(files), served
    if getattr(args, "record", None) == "-":
        raise UserError("--record -: the session itself is drawn on stdout; give a file name")
    return app


def main(args) -> int:
    """`oomtui play`."""
    app = build(args)
    from ..cli import need_terminal

    need_terminal()  # after the arguments are checked: their errors come first, terminal or not
    live = None
    record = getattr(args, "record", None)
    if record:
        from ..record.live import LiveCast

        live = LiveCast(app, record)  # it hooks the driver: what the terminal gets goes to the cast too
    # what start-up built lives until exit: out of the collector's reach (cli._cmd_play disabled it)
    gc.freeze()
    gc.enable()
    app.sigint_exits = True
    app.run()
    if live is not None:
        print(live.save())
    # a crash (an exception in a handler or in rendering) prints its traceback and must not exit 0: Textual
    # sets return_code 1 for it, and keeps the exception in case a later exit() resets the code
    if getattr(app, "_exception", None) is not None:
        return 1
    if app.return_code == 130:  # Ctrl-C: as the command line says it (cli.main)
        print("oomtui: interrupted", file=sys.stderr)
        return 130
    return 0 if app.return_code in (None, 0) else 1
