"""A cast's chapters: a marker at each kernel decision, for every scene, walkthrough or not.

A chapter is named as teach mode names the decision (a card's heading and subject: "queue_oom_reaper()
armed the timer — app (100)"), so a presenter who knows the cards knows the chapters. A reap, a livelock
and a panic, which have no card, and a player's move in a live session are named as `oomtui run`'s
timeline names them. No Textual here: `record` and `play --record` both use it.
"""

from __future__ import annotations

from ..kernel import events as ev
from ..kernel.core import Kernel
from ..report.timeline import describe
from ..tui import teach


class Chapters:
    """Reads the kernel's event log from where the last call stopped, so each event counts once whichever
    way it came (a frame, a walkthrough step, a player's key, "end & score")."""

    def __init__(self, moves: bool = False) -> None:
        self.moves = moves  # a live session: each move of the player is a chapter too
        self.k: Kernel | None = None
        self.seen = 0
        self.first_abort = True

    def take(self, k: Kernel) -> list[str]:
        """The chapters of what the kernel reported since the last call, in the order it happened."""
        if k is not self.k:  # a restart or another scene: a new kernel, read from its start
            self.k, self.seen, self.first_abort = k, 0, True
        new = k.events[self.seen:]
        self.seen = len(k.events)
        out: list[str] = []
        decisions: list = []  # events up to the next one without a card

        def cards() -> None:
            out.extend(c.chapter() for c in teach.cards(decisions, k, first_abort=self.first_abort))
            self.first_abort = teach.first_abort_after(decisions, self.first_abort)
            decisions.clear()

        for e in new:
            line = None
            if isinstance(e, (ev.Reaped, ev.Livelock, ev.Panic)) or (
                    self.moves and isinstance(e, ev.ActionApplied) and not e.scripted):
                line = describe(e, k)  # None for a reap the reaper skipped: its timer's card says so
            if line is None:
                decisions.append(e)
            else:  # in the log's order: an oom_reaper that gave up comes before the OOM kill that follows
                cards()
                out.append(line[1])
        cards()
        return out
