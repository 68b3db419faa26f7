"""What holds simulated time besides the pause key: the briefing a scene opens on, walkthrough steps
and their holds, caption reading time, and teach-mode cards.

No Textual here. The App, the recorder, the screenshot and the tests drive one Sequencer beside the
Engine: `advance(n)` moves time at most n jiffies and stops where a step, a hold, a caption being
read or a teach card says so; `go_on()` is the key that lets it continue; `tick(dt)` spends
wall-clock reading time. Walkthrough steps run through `run_step`, which the host points at the
same command objects the keys use.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Callable

from ..scene.actions import Step
from . import teach
from .engine import Engine
from .view import secs

BRIEFING, CARD, HOLD, READING = "briefing", "card", "hold", "reading"
HOLDS_CLOCK = (BRIEFING, CARD, HOLD)  # waits that keep the clock stopped until the player goes on


class Sequencer:
    def __init__(self, engine: Engine, *, autoplay: bool = False, teach_mode: bool = False,
                 briefing: bool = False, reading: bool = True, holds: bool = True,
                 run_step: Callable[[Step], None] | None = None) -> None:
        """autoplay: run the walkthrough (its first caption is the briefing). teach_mode: stop at
        each kernel decision with a card. briefing: open on the briefing, the clock at 0 until
        go_on(). reading: a caption holds time for its reading time (tick() spends it). holds: a
        hold step waits for go_on()."""
        self.engine = engine
        self.autoplay = autoplay
        self.teach = teach_mode
        self.reading = reading
        self.holds = holds
        self.run_step = run_step or (lambda step: None)
        self.version = 0  # bumps whenever what the UI shows (caption, card, briefing) changes
        self.reset(briefing)

    # ------------------------------------------------------------------ state
    def reset(self, briefing: bool = False) -> None:
        """A new scene or a restart: back to the first step."""
        e = self.engine
        self.steps: list[Step] = list(e.sim.walkthrough) if self.autoplay else []
        self.step_i = 0
        self.cards: deque[teach.Card] = deque()
        self.briefing = briefing
        self.hold = False
        self.read_left = 0.0  # wall-clock seconds the current caption still holds time
        self.caption: tuple[str, str, bool] | None = None  # (text, at, hold)
        self.first_abort = True
        if self.autoplay:
            # autoplay opens with the briefing as its first caption
            text = teach.briefing(e.sim.scene, e.sim.walkthrough, e.k.hz, key_of=str).caption()
            if not self.steps:
                text += " This scene has no walkthrough: it runs on its own."
            self.caption = (text, "", False)
            if self.reading:
                self.read_left = teach.reading_time(text, e.speed)
        e.stop_at = self._next_at()
        self.version += 1

    @property
    def waiting(self) -> str | None:
        """What time waits for now, if anything."""
        if self.briefing:
            return BRIEFING
        if self.cards:
            return CARD
        if self.hold:
            return HOLD
        if self.read_left > 0:
            return READING
        return None

    @property
    def card(self) -> teach.Card | None:
        return self.cards[0] if self.cards else None

    def go_on(self) -> str | None:
        """The key that lets time continue: ends the briefing, the current card, a hold or the
        reading of a caption. Returns what it ended."""
        w = self.waiting
        if w == BRIEFING:
            self.briefing = False
        elif w == CARD:
            self.cards.popleft()
        elif w == HOLD:
            self.hold = False
            if self.caption is not None:
                self.caption = (self.caption[0], self.caption[1], False)
        elif w == READING:
            self.read_left = 0.0
        if w is not None:
            self.version += 1
        return w

    def owed(self) -> float:
        """Seconds a recording pauses for what time waits on now (a hold, a card, a caption)."""
        w = self.waiting
        if w == READING:
            return self.read_left
        if w == CARD:
            return teach.reading_time(self.cards[0].text())
        if w == HOLD:
            return HOLD_S
        return 0.0

    def tick(self, dt: float) -> None:
        """dt wall-clock seconds passed: spend them on the caption being read (each whole second is
        shown: its countdown is how a newcomer tells a caption being read from a hung clock)."""
        if self.read_left > 0 and not self.briefing and not self.cards and not self.hold:
            shown = math.ceil(self.read_left)
            self.read_left = max(0.0, self.read_left - dt)
            if math.ceil(self.read_left) != shown:
                self.version += 1

    def set_teach(self, on: bool) -> None:
        self.teach = on
        if not on and self.cards:
            self.cards.clear()
        self.version += 1

    # ------------------------------------------------------------------ time
    def start(self) -> None:
        """Run what is due at the current jiffy (steps at t=0) without moving time."""
        self._run_due()

    def advance(self, n: int) -> list:
        """Advance at most n jiffies: stop at each walkthrough step (and after it while its caption
        is read or held), and in teach mode at the first jiffy with a kernel decision."""
        e = self.engine
        out: list = []
        self._run_due()
        while n > 0 and self.waiting is None and not e.k.panicked:
            j0 = e.k.jiffies
            # teach mode moves one jiffy at a time so that it stops at the decision itself
            events = e.advance(1 if self.teach else n)
            out += events
            moved = e.k.jiffies - j0
            n -= moved
            if self.teach and events:
                self._cards(events)
            self._run_due()
            if moved == 0:
                break
        return out

    def note_events(self, events: list) -> None:
        """Events that came from a player's action (process_mrelease returning is a decision too)."""
        if self.teach and events:
            self._cards(events)

    def _cards(self, events: list) -> None:
        new = teach.cards(events, self.engine.k, first_abort=self.first_abort)
        self.first_abort = teach.first_abort_after(events, self.first_abort)
        if new:
            self.cards.extend(new)
            self.version += 1

    def _next_at(self) -> int | None:
        return self.steps[self.step_i].at if self.step_i < len(self.steps) else None

    def _run_due(self, skip_holds: bool = False) -> None:
        """Run every walkthrough step whose time has come; a hold or a caption to read stops there."""
        e = self.engine
        while self.step_i < len(self.steps) and self.steps[self.step_i].at <= e.k.jiffies:
            if self.waiting is not None and not skip_holds:
                break
            st = self.steps[self.step_i]
            self.step_i += 1
            self.run_step(st)
            hold = st.hold and self.holds and not skip_holds
            self.caption = (st.caption, secs(st.at, e.k.hz, 2), hold)
            self.version += 1
            if hold:
                self.hold = True
                break
            if self.reading and not skip_holds:
                self.read_left = teach.reading_time(st.caption, e.speed)
                break
        e.stop_at = self._next_at()

    def run_rest(self) -> list:
        """End the scene now: every remaining step at its time, holds, cards and reading skipped."""
        e = self.engine
        self.briefing = self.hold = False
        self.cards.clear()
        self.read_left = 0.0
        out: list = []
        self._run_due(skip_holds=True)
        for _ in range(len(self.steps) + 2):  # each pass runs to the next step or the end
            if e.finished or e.k.panicked:
                break
            out += e.advance(e.sim.duration - e.k.jiffies)
            self._run_due(skip_holds=True)
        self.version += 1
        return out


HOLD_S = 3.0  # a hold step pauses a recording this long
