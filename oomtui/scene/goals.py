"""Scene goals and scores: evaluated from the detected Outcome, never asserted by the scene author.

A goal kind is one struct (a tagged union on `kind`, decoded straight from [[goals]]) with its
keys, its text, its rule and when it is decided; nothing else dispatches on the kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Meta

from ..kernel.policy import POLICIES
from .sidesteps import ForfeitRec
from .struct import SceneStruct
from .units import Duration, Size, fmt_size, parse_duration, parse_size

if TYPE_CHECKING:
    from .sim import Outcome, Simulation

ACTION_COST = 10  # points per player action beyond par
FORFEIT_TEXT = "win by the lesson, not a sidestep"  # the result line a forfeited play adds
MET, FAILED, PENDING = "met", "failed", "pending"


class GoalResult(msgspec.Struct):
    text: str
    met: bool
    detail: str
    points: int


class Result(msgspec.Struct):
    won: bool
    score: int
    max_score: int
    actions: int
    par: int
    goals: list[GoalResult]
    saved_by: list[str]  # policies under which the same play wins
    # moves that sidestepped the lesson ([[sidesteps]] with verdict "forfeit"): the win is forfeited
    forfeits: list[ForfeitRec] = []


def _ms(d, hz: int) -> int:
    return parse_duration(d, hz) * 1000 // hz


def _first_kill_ms(o: Outcome) -> int | None:
    return min((k.t_ms for k in o.kills if k.signal == "SIGKILL"), default=None)


class Goal(SceneStruct, tag_field="kind", kw_only=True):
    text: Annotated[str | None, Meta(description="how the goal reads on screen (default: generated)")] = None
    points: int = 100

    def describe(self, hz: int) -> str:
        """How it reads on screen: the scene's text, else generated."""
        return self.text or self.default_text(hz)

    def default_text(self, hz: int) -> str:
        raise NotImplementedError

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        """(met, what happened)."""
        raise NotImplementedError

    def state(self, met: bool, o: Outcome, hz: int, now_ms: int) -> str:
        """While a scene runs: is the goal already decided? At the end every goal is decided (what
        evaluate says). By default a goal can only go from met to failed (a SIGKILL cannot be taken
        back, a HUNG waiter is hung forever): failed is final, met is not (yet)."""
        return PENDING if met else FAILED


class MemoryBack(Goal, tag="memory_back"):
    """`amount` freed within `within` of the first kill."""

    amount: Size
    within: Duration

    def default_text(self, hz: int) -> str:
        return f"free {fmt_size(parse_size(self.amount))} within {_ms(self.within, hz)} ms of the first kill"

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        first = _first_kill_ms(o)
        if first is None:
            return False, "nothing was killed"
        limit = _ms(self.within, hz)
        got = sum(f.freed_kb for f in o.freed if f.t_ms - first <= limit)
        return got >= parse_size(self.amount) // 1024, f"{got // 1024} MiB back within {limit} ms"

    def state(self, met: bool, o: Outcome, hz: int, now_ms: int) -> str:
        # memory freed inside the window stays freed; a window that has passed is closed
        if met:
            return MET
        first = _first_kill_ms(o)
        if first is not None and now_ms - first > _ms(self.within, hz):
            return FAILED
        return PENDING


class NoHungWaiters(Goal, tag="no_hung_waiters"):
    def default_text(self, hz: int) -> str:
        return "no futex waiter hangs"

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        hung = [w for w in o.waiters if w.outcome == "hung"]
        return not hung, (f"waiter {hung[0].tid} on {hung[0].futex} HUNG" if hung else "every waiter got an answer")


class MaxOomVictims(Goal, tag="max_oom_victims"):
    """At most `count` OOM victims."""

    count: int

    def default_text(self, hz: int) -> str:
        return "no second OOM victim" if self.count == 1 else f"at most {self.count} OOM victims"

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        n = len([k for k in o.kills if k.reason == "oom"])
        return n <= self.count, f"{n} OOM victim{'s' if n != 1 else ''}"


class Survives(Goal, tag="survives"):
    """Process `pid` is not killed."""

    pid: int

    def default_text(self, hz: int) -> str:
        return f"process {self.pid} survives"

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        killed = [k for k in o.kills if k.pid == self.pid and k.signal == "SIGKILL"]
        return not killed, (f"killed at {killed[0].t_ms} ms ({killed[0].reason})" if killed else "alive")


class NoLivelock(Goal, tag="no_livelock"):
    def default_text(self, hz: int) -> str:
        return "no OOM livelock"

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        return o.livelock is None, (f"livelock from {o.livelock.t_ms} ms" if o.livelock else "no livelock")


class OomBlockedUnder(Goal, tag="oom_blocked_under"):
    """The OOM killer blocked at most `within`."""

    within: Duration

    def default_text(self, hz: int) -> str:
        return f"the OOM killer is blocked at most {_ms(self.within, hz)} ms"

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        return o.oom_blocked_ms <= _ms(self.within, hz), f"blocked {o.oom_blocked_ms} ms"


class WaiterOutcome(Goal, tag="waiter_outcome"):
    """Waiter `tid` ends with `outcome`."""

    tid: int
    outcome: Literal["eownerdead", "acquired", "timedout", "blocked", "hung", "killed"]

    def default_text(self, hz: int) -> str:
        return f"waiter {self.tid} ends {self.outcome}"

    def evaluate(self, o: Outcome, hz: int) -> tuple[bool, str]:
        w = next((w for w in o.waiters if w.tid == self.tid), None)
        if w is None:
            return False, f"no waiter {self.tid}"
        return w.outcome == self.outcome, f"waiter {self.tid} {w.outcome}"

    def state(self, met: bool, o: Outcome, hz: int, now_ms: int) -> str:
        w = next((w for w in o.waiters if w.tid == self.tid), None)
        if w is None or w.outcome == "blocked":
            return PENDING
        return MET if met else FAILED


AnyGoal = MemoryBack | NoHungWaiters | MaxOomVictims | Survives | NoLivelock | OomBlockedUnder | WaiterOutcome


def evaluate(sim: Simulation, o: Outcome | None = None, *, others: bool = True) -> Result:
    """Score a finished (or running) simulation; with `others`, replay the same player actions under
    every other policy to say which one would have won."""
    o = o or sim.outcome()
    hz = sim.k.hz
    goals = []
    for g in sim.scene.goals:
        met, detail = g.evaluate(o, hz)
        goals.append(GoalResult(g.describe(hz), met, detail, g.points))
    par = sim.scene.game.par if sim.scene.game else 0
    actions = len(sim.played)
    max_score = sum(g.points for g in goals)
    score = max(0, sum(g.points for g in goals if g.met) - ACTION_COST * max(0, actions - par))
    won = bool(goals) and all(g.met for g in goals)
    forfeits = [ForfeitRec(sim.k.ms(at), a.describe(), s.reason) for at, a, s in sim.forfeits]
    if forfeits:
        # A move that skips the lesson forfeits the win and its points; the goals still say what
        # happened, and one more line (0 points, never met) says why, for screens that list goals.
        f = forfeits[0]
        goals.append(GoalResult(FORFEIT_TEXT, False, f"{f.move} at {f.t_ms} ms: {f.reason}", 0))
        won, score = False, 0
    saved_by: list[str] = []
    if others and goals and not forfeits:  # a forfeited play wins under no policy
        for pid in POLICIES:
            if pid == sim.k.policy.id:
                if won:
                    saved_by.append(pid)
                continue
            alt = sim.replay(pid)
            alt_o = alt.run(max(sim.k.jiffies, alt.k.jiffies))
            if all(g.evaluate(alt_o, hz)[0] for g in sim.scene.goals):
                saved_by.append(pid)
    return Result(won, score, max_score, actions, par, goals, saved_by, forfeits)
