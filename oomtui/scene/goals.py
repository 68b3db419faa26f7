"""Scene goals and scores: evaluated from the detected Outcome, never asserted by the scene author."""

from __future__ import annotations

import msgspec

from .schema import GoalSpec
from .sidesteps import ForfeitRec
from .sim import Outcome, Simulation
from .units import fmt_size, parse_duration, parse_size

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


def goal_text(g: GoalSpec, hz: int) -> str:
    if g.text:
        return g.text
    def ms(d) -> str:
        return f"{parse_duration(d, hz) * 1000 // hz} ms"

    return {
        "memory_back": lambda: f"free {fmt_size(parse_size(g.amount or 0))} within {ms(g.within or '0')} of the first kill",
        "no_hung_waiters": lambda: "no futex waiter hangs",
        "max_oom_victims": lambda: "no second OOM victim" if g.count == 1 else f"at most {g.count} OOM victims",
        "survives": lambda: f"process {g.pid} survives",
        "no_livelock": lambda: "no OOM livelock",
        "oom_blocked_under": lambda: f"the OOM killer is blocked at most {ms(g.within or '0')}",
        "waiter_outcome": lambda: f"waiter {g.tid} ends {g.outcome}",
    }[g.kind]()


def evaluate_goal(g: GoalSpec, o: Outcome, hz: int) -> tuple[bool, str]:
    if g.kind == "memory_back":
        first = min((k.t_ms for k in o.kills if k.signal == "SIGKILL"), default=None)
        if first is None:
            return False, "nothing was killed"
        limit = parse_duration(g.within or 0, hz) * 1000 // hz
        want = parse_size(g.amount or 0) // 1024
        got = sum(f.freed_kb for f in o.freed if f.t_ms - first <= limit)
        return got >= want, f"{got // 1024} MiB back within {limit} ms"
    if g.kind == "no_hung_waiters":
        hung = [w for w in o.waiters if w.outcome == "hung"]
        return not hung, (f"waiter {hung[0].tid} on {hung[0].futex} HUNG" if hung else "every waiter got an answer")
    if g.kind == "max_oom_victims":
        n = len([k for k in o.kills if k.reason == "oom"])
        return n <= (g.count or 0), f"{n} OOM victim{'s' if n != 1 else ''}"
    if g.kind == "survives":
        killed = [k for k in o.kills if k.pid == g.pid and k.signal == "SIGKILL"]
        return not killed, (f"killed at {killed[0].t_ms} ms ({killed[0].reason})" if killed else "alive")
    if g.kind == "no_livelock":
        return o.livelock is None, (f"livelock from {o.livelock.t_ms} ms" if o.livelock else "no livelock")
    if g.kind == "oom_blocked_under":
        limit = parse_duration(g.within or 0, hz) * 1000 // hz
        return o.oom_blocked_ms <= limit, f"blocked {o.oom_blocked_ms} ms"
    w = next((w for w in o.waiters if w.tid == g.tid), None)
    if w is None:
        return False, f"no waiter {g.tid}"
    return w.outcome == g.outcome, f"waiter {g.tid} {w.outcome}"


def goal_state(g: GoalSpec, met: bool, o: Outcome, hz: int, now_ms: int) -> str:
    """While a scene runs: is the goal already decided? A SIGKILL cannot be taken back, a HUNG
    waiter is hung forever, memory freed inside the window stays freed, a window that has passed is
    closed. At the end every goal is decided (what `evaluate` says)."""
    k = g.kind
    if k in ("survives", "max_oom_victims", "no_hung_waiters", "no_livelock", "oom_blocked_under"):
        # these can only go from met to failed: failed is final, met is not (yet)
        return PENDING if met else FAILED
    if k == "memory_back":
        if met:
            return MET
        first = min((x.t_ms for x in o.kills if x.signal == "SIGKILL"), default=None)
        if first is not None:
            limit = parse_duration(g.within or 0, hz) * 1000 // hz
            if now_ms - first > limit:
                return FAILED
        return PENDING
    if k == "waiter_outcome":
        w = next((w for w in o.waiters if w.tid == g.tid), None)
        if w is None or w.outcome in ("blocked",):
            return PENDING
        return MET if met else FAILED
    return PENDING


def evaluate(sim: Simulation, o: Outcome | None = None, *, others: bool = True) -> Result:
    """Score a finished (or running) simulation; with `others`, replay the same player actions under
    every other policy to say which one would have won."""
    from ..kernel.policy import POLICIES

    o = o or sim.outcome()
    hz = sim.k.hz
    goals = []
    for g in sim.scene.goals:
        met, detail = evaluate_goal(g, o, hz)
        goals.append(GoalResult(goal_text(g, hz), met, detail, g.points))
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
            if all(evaluate_goal(g, alt_o, hz)[0] for g in sim.scene.goals):
                saved_by.append(pid)
    return Result(won, score, max_score, actions, par, goals, saved_by, forfeits)
