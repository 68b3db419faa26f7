"""The live view: `oomtui` / `oomtui play [SCENE]`.

The App owns an Engine (the Simulation plus pause/speed) and a 30 fps timer that advances
simulated time by wall time x speed. Every user action goes through a command object
(commands.py) and `apply_action`; each frame's events are handed to the panels, which redraw
only what those events (or the passing of time) changed.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll

from ..errors import UserError
from ..kernel.core import KernelError
from ..scene.actions import Action
from ..scene.load import DEFAULT_SCENE, LoadedScene, load_scene
from .commands import BY_ID, CommandError, bindings, palette_provider
from .engine import Engine
from .view import secs
from .widgets.game import CaptionBar, ObjectivePanel, OomFooter
from .widgets.panels import DecisionPanel, DmesgLog, FutexPanel, MemoryPanel, ReaperPanel, StatusBar
from .widgets.proctable import ProcessTable

FPS = 30
COMPACT_W, COMPACT_H = 112, 28
PANELS = ("reaper", "futex", "memory", "decision")


class OomApp(App):
    CSS_PATH = Path(__file__).with_name("oomtui.tcss")
    TITLE = "oomtui"
    BINDINGS = bindings()
    COMMANDS = App.COMMANDS | {palette_provider}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, scene: str | LoadedScene | None = None, *, policy: str | None = None,
                 kernel: str | None = None, paused: bool = False, speed: float = 1.0, fps: int = FPS,
                 autoplay: bool = False, big: bool = False, clock: bool = True, driver_class=None):
        """autoplay: run the scene's walkthrough through the commands, captions in a caption bar.
        big: the presenter layout. clock=False: no wall-clock timer (the recorder drives time)."""
        super().__init__(driver_class=driver_class)
        ls = scene if isinstance(scene, LoadedScene) else load_scene(scene or DEFAULT_SCENE)
        self.engine = Engine(ls, policy=policy, kernel=kernel, paused=paused, speed=speed)
        self.fps = fps
        self.panel_index = 0
        self._last_tick = time.monotonic()
        self._last_script_j = -1
        self._layout_size = None
        self.autoplay = autoplay
        self.big = big
        self.clock = clock
        self.steps: list = []  # the walkthrough still to run (autoplay)
        self.step_i = 0
        self.holding = False  # a hold step waits for a key
        self.on_step = None  # callback(step) when a walkthrough step runs (the recorder's markers)
        self.last_result = None  # (Result, Outcome) of the last scored end
        self.keep_scores = True  # False: do not touch the best-scores file (recordings, screenshots)
        self._in_steps = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        e = self.engine
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
                yield DmesgLog(e, id="dmesg")
            with VerticalScroll(id="side"):
                yield ObjectivePanel(e, id="goals")
                yield ReaperPanel(e, id="reaper", classes="panel")
                yield FutexPanel(e, id="futex", classes="panel")
                yield MemoryPanel(e, id="memory", classes="panel")
                yield DecisionPanel(e, id="decision", classes="panel")
        self.caption = CaptionBar(id="caption")
        yield self.caption
        yield OomFooter()

    def on_mount(self) -> None:
        self.status = self.query_one(StatusBar)
        self.dmesg = self.query_one(DmesgLog)
        self.goals = self.query_one(ObjectivePanel)
        self.panels = [self.query_one(f"#{p}") for p in PANELS]
        self.bigbar = self.query_one("#big") if self.big else None
        self.set_class(self.big, "-big")
        self._apply_layout()
        self.table.rebuild()
        self.table.focus()
        self.dmesg.reset()
        self._start_autoplay()
        self.after_events([], moved=True)
        self._last_tick = time.monotonic()
        if self.clock:
            self.set_interval(1 / self.fps, self._tick)

    def on_resize(self) -> None:
        self._apply_layout()

    @property
    def compact(self) -> bool:
        return self.has_class("-compact")

    def _apply_layout(self) -> None:
        self._layout_size = self.size
        w, h = self.size
        compact = w < COMPACT_W or h < COMPACT_H
        self.set_class(compact, "-compact")
        for i, p in enumerate(getattr(self, "panels", [])):
            p.set_class(i == self.panel_index, "-shown")
            p.set_class(compact, "-compact")
        goals = getattr(self, "goals", None)
        if goals is not None and goals.has_class("-compact") != compact:
            goals.set_class(compact, "-compact")
            goals._last = None
        side = self.query("#side")
        if side:
            side.first().border_title = PANELS_TITLE[self.panel_index] + "  (v: next panel)" if compact else None

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
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        e = self.engine
        if e.paused or len(self.screen_stack) > 1:  # time stands still while a dialog is open
            return
        j0 = e.k.jiffies
        events = e.frame(dt)
        if e.k.jiffies != j0 or events:
            self.after_events(events, moved=True)

    def after_events(self, events: list, moved: bool = True) -> None:
        """Hand one frame's events to every panel; each redraws only what changed."""
        e = self.engine
        if self.steps and not self._in_steps:
            self._run_due_steps()
        self.table.refresh()
        for p in self.panels:
            p.sync(events, moved)
        self.goals.sync(events, moved)
        if self.bigbar is not None:
            self.bigbar.sync(events, moved)
        self.dmesg.sync(events, moved)
        self._captions()
        if e.finished and not e.end_noted and not self._in_steps:
            e.end_noted = True
            if e.sim.scene.goals:
                self.finish()
            elif not e.paused:
                e.paused = True
                self.notify("The scene's script has run its course: paused. space runs on, r restarts, "
                            "p tries another policy.", title="End of scene", timeout=6)
        self.status.sync(events, moved)
        if self.compact and events:
            self._auto_panel(events)

    # ------------------------------------------------------------------ the game
    def finish(self) -> None:
        """The scene has reached its end: score it, keep the best score, show the result."""
        from ..scene.goals import evaluate
        from . import game
        from .screens.game import ResultScreen

        e = self.engine
        e.paused = True
        o = e.sim.outcome()
        result = evaluate(e.sim, o)
        self.last_result = (result, o)
        best = self.keep_scores and game.record_score(e.sim.id, result.score, result.max_score, result.won)
        nxt = game.next_story(e.sim.id)

        def done(choice: str | None) -> None:
            if choice == "restart":
                self.run_command("restart")
            elif choice == "next" and nxt:
                self.run_command("scene", scene=nxt)
            elif choice == "scenes":
                self.run_command("scene")

        self.push_screen(ResultScreen(e.sim.scene.title, e.k.policy.id, result, o, best, nxt), done)

    def run_to_end(self) -> None:
        """End the scene now: run the rest of it at once (the walkthrough too, holds skipped)."""
        e = self.engine
        self.holding = False
        while not e.finished and not e.k.panicked:
            events = e.advance(e.sim.duration - e.k.jiffies)
            self._in_steps = True  # one after_events at the end, not one per step
            try:
                self._run_due_steps(skip_holds=True)
            finally:
                self._in_steps = False
            if not events and e.stop_at is None and e.k.jiffies < e.sim.duration:
                break
        self.table.rebuild()
        self.dmesg.reset()
        for p in self.panels:
            p._last = None
        self.after_events([], moved=True)

    # ------------------------------------------------------------------ autoplay
    def _start_autoplay(self) -> None:
        self.step_i = 0
        self.holding = False
        self.steps = list(self.engine.sim.walkthrough) if self.autoplay else []
        self.engine.stop_at = self.steps[0].at if self.steps else None
        if self.autoplay and not self.steps:
            self.caption.say("This scene has no walkthrough: it runs on its own.")
        elif not self.autoplay:
            self.caption.clear()

    def _run_due_steps(self, skip_holds: bool = False) -> None:
        """Run every walkthrough step whose time has come, through the same commands as the keys."""
        from .game import step_commands

        e = self.engine
        guard, self._in_steps = self._in_steps, True
        try:
            while self.step_i < len(self.steps) and self.steps[self.step_i].at <= e.k.jiffies:
                st = self.steps[self.step_i]
                self.step_i += 1
                if st.action is not None:
                    for cid, params in step_commands(st.action):
                        self.run_command(cid, **params)
                if self.on_step is not None:
                    self.on_step(st)
                hold = st.hold and not skip_holds and self.on_step is None
                self.caption.say(st.caption, secs(st.at, e.k.hz, 2), hold=hold)
                if hold:
                    self.holding = True
                    e.paused = True
                    break
            e.stop_at = self.steps[self.step_i].at if self.step_i < len(self.steps) else None
        finally:
            self._in_steps = guard

    def release_hold(self) -> None:
        self.holding = False
        self.engine.paused = False
        self.engine.carry = 0.0
        self._last_tick = time.monotonic()
        if self.step_i:
            st = self.steps[self.step_i - 1]
            self.caption.say(st.caption, secs(st.at, self.engine.k.hz, 2))
        self._run_due_steps()
        self.after_events([], moved=False)

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

    def _captions(self) -> None:
        """Scripted actions that came due since the last frame, as a toast with their caption."""
        e = self.engine
        j = e.k.jiffies
        for at, action in e.sim.script:
            if self._last_script_j < at <= j:
                text = action.caption or action.describe()
                self.notify(f"{text}\n[dim]{action.describe()}[/dim]", title=f"script at {secs(at, e.k.hz)}",
                            timeout=4)
        self._last_script_j = j

    # ------------------------------------------------------------------ commands
    def action_command(self, command_id: str) -> None:
        if self.holding and command_id not in ("quit", "help"):
            self.release_hold()  # the key that ends a hold does nothing else
            return
        self.run_command(command_id)

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
            self.notify(syscall_text(s), title="syscall", severity="information" if ok else "error", timeout=6)
            if self.compact:
                self.cycle_panel("reaper")
            return
        if self._in_steps:
            return  # an autoplay step: its caption says it
        extra = ""
        if any(isinstance(x, ev.OomAborted) for x in events):
            a = next(x for x in events if isinstance(x, ev.OomAborted))
            extra = f"\naborted: blocked by pending victim {a.blocked_by} ({a.comm})"
        elif any(isinstance(x, ev.Kill) for x in events):
            extra = "\n" + ", ".join(f"killed {x.comm} {x.pid}" for x in events if isinstance(x, ev.Kill))
        self.notify(action.describe() + extra, timeout=3)

    # ------------------------------------------------------------------ view helpers used by commands
    def reset_view(self) -> None:
        self._last_script_j = -1
        self._start_autoplay()
        self.table.rebuild()
        self.dmesg.reset()
        for p in self.panels:
            p._last = None
        self.after_events([], moved=True)

    def open_filter(self) -> None:
        found = self.query("#filter")
        if found:
            inp = found.first()
        else:  # created on first use: one widget less to build at start-up
            from textual.widgets import Input

            inp = Input(placeholder="filter: comm, pid, tid or cgroup — enter applies, esc clears", id="filter")
            self.query_one("#left").mount(inp, before=self.dmesg)
        inp.value = self.table.filter
        inp.add_class("-open")
        inp.focus()

    def set_filter(self, text: str) -> None:
        self.table.filter = text.strip()
        self.table.rebuild()
        self.table.border_title = f"Processes  filter: {self.table.filter}" if self.table.filter else "Processes"

    def on_input_changed(self, event) -> None:
        if event.input.id == "filter":
            self.set_filter(event.value)

    def on_input_submitted(self, event) -> None:
        if event.input.id == "filter":
            event.input.remove_class("-open")
            self.table.focus()

    def on_key(self, event) -> None:
        if self.holding and event.key not in ("q", "question_mark", "f1", "ctrl+p", "ctrl+q", "ctrl+c"):
            self.release_hold()
            event.prevent_default()  # the key that ends a hold does nothing else
            event.stop()
            return
        inp = self.query("#filter")
        if event.key == "escape" and inp and inp.first().has_class("-open"):
            inp.first().remove_class("-open")
            self.set_filter("")
            self.table.focus()
            event.stop()

    # No refresh_bindings() on selection changes: nothing in the footer depends on the selection, and
    # each refresh recomposes the whole footer (its cost showed in the start-up and key latency).


PANELS_TITLE = {0: "OOM reaper", 1: "Futexes", 2: "Memory", 3: "OOM decision"}


def make_app(scene: str | LoadedScene | None = None, **kw) -> OomApp:
    """One factory for the CLI, the tests and the benchmarks."""
    return OomApp(scene, **kw)


def main(args) -> int:
    """`oomtui play`: args has .scene, .policy, .kernel, .paused, .speed, .autoplay, .big."""
    speed = getattr(args, "speed", None)
    speed = 1.0 if speed is None else speed
    if not 0.05 <= speed <= 100:  # also 0 and nan
        raise UserError(f"--speed {speed:g}: expected 0.05 to 100")
    app = make_app(getattr(args, "scene", None), policy=getattr(args, "policy", None),
                   kernel=getattr(args, "kernel", None), paused=bool(getattr(args, "paused", False)),
                   speed=speed, autoplay=bool(getattr(args, "autoplay", False)),
                   big=bool(getattr(args, "big", False)))
    app.run()
    return 0
