"""Race trials: one scene run many times, the events inside each jiffy ordered by a seeded random
source and by CPU placement (kernel/sched.py), and what came out counted.

Each count carries a 95 % Wilson score interval (a binomial proportion's interval that stays inside
0..1 and behaves at 0 and n). The same scene, moves, policy, trial count and seed give the same
counts, byte for byte. Wins are still judged on the deterministic run; this is what the same play
does when the kernel's sub-jiffy races are let loose.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Literal, Union

import msgspec

from ..kernel import events as ev
from ..kernel.core import KernelError
from .actions import Action
from .load import LoadedScene
from .sim import Outcome, Simulation

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile
MAX_TRIALS = 100_000

Moves = Union[Literal["scripted", "autoplay"], list[tuple[int, Action]]]


def wilson(count: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for count successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = count / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


class Share(msgspec.Struct):
    """One outcome: in `count` of the trials, i.e. `share` of them, 95 % CI low..high."""

    value: str
    count: int
    share: float
    low: float
    high: float


class WaiterShares(msgspec.Struct):
    futex: str
    tid: int
    outcomes: list[Share]  # eownerdead | acquired | timedout | blocked | hung | killed


class CallShares(msgspec.Struct):
    call: int  # 1 for the run's first process_mrelease, ...
    pid: int
    results: list[Share]  # "0" or the errno name


class Distribution(msgspec.Struct):
    """`oomtui run SCENE --trials N --json` (and one per policy in `compare --trials N --json`)."""

    scene: str
    title: str
    policy: str
    kernel: str
    trials: int
    seed: int
    confidence: float
    cpus: int
    killer: int | None  # tid making the user's system calls; None: a task of its own on CPU 0
    pinned: dict[str, int]  # tid -> CPU
    moves: str  # "scripted", "autoplay" or "played"
    waiters: list[WaiterShares]
    mrelease: list[CallShares]
    victims: list[Share]  # the run's OOM victims, "comm (pid), ..." or "none"
    robust_list_lost: list[Share]  # "thread TID (comm)": exit_robust_list() faulted on its head


def trial_seed(seed: int, i: int) -> int:
    return seed * MAX_TRIALS + i


def _shares(counter: Counter, n: int) -> list[Share]:
    out = []
    for value, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        low, high = wilson(count, n)
        out.append(Share(value, count, round(count / n, 6), round(low, 6), round(high, 6)))
    return out


def _play(sim: Simulation, moves: Moves, until: int | None) -> Outcome:
    if moves == "autoplay":
        sim.autoplay(until)
    elif moves != "scripted":
        for at, action in moves:
            if until is not None and at > until:
                break
            sim.advance(max(0, at - sim.k.jiffies))
            try:
                sim.apply(action, sidesteps=False)  # judged where it was played
            except KernelError:
                pass  # its target is gone in this trial: the player could not have done it here
    return sim.run(until)


def run_trials(ls: LoadedScene, trials: int, seed: int = 0, *, policy: str | None = None,
               kernel: str | None = None, until: int | None = None, moves: Moves = "scripted") -> Distribution:
    if not 1 <= trials <= MAX_TRIALS:
        raise ValueError(f"trials must be 1..{MAX_TRIALS}, got {trials}")
    waiters: dict[tuple[str, int], Counter] = {}
    calls: dict[int, Counter] = {}
    call_pid: dict[int, int] = {}
    victims: Counter = Counter()
    lost: Counter = Counter()
    sim = None
    for i in range(trials):
        sim = Simulation(ls, policy, kernel, race_seed=trial_seed(seed, i))
        o = _play(sim, moves, until)
        for w in o.waiters:
            waiters.setdefault((w.futex, w.tid), Counter())[w.outcome] += 1
        n = 0
        for s in o.syscalls:
            if s.name == "process_mrelease":
                n += 1
                calls.setdefault(n, Counter())["0" if s.errno is None else s.errno] += 1
                call_pid.setdefault(n, s.pid)
        oom = [f"{k.comm} ({k.pid})" for k in o.kills if k.reason == "oom"]
        victims[", ".join(oom) or "none"] += 1
        for tid in sorted({e.tid for e in sim.k.events if isinstance(e, ev.RobustListFault)}):
            lost[f"thread {tid} ({sim.k.tids[tid].process.comm})"] += 1
    assert sim is not None
    k = sim.k
    race = k.race
    assert race is not None
    return Distribution(
        scene=sim.id, title=sim.scene.title, policy=k.policy.id, kernel=str(k.policy.version), trials=trials,
        seed=seed, confidence=0.95, cpus=race.cpus, killer=race.killer,
        pinned={str(tid): cpu for tid, cpu in sorted(race.pins.items())},
        moves=moves if isinstance(moves, str) else "played",
        waiters=[WaiterShares(f, tid, _shares(c, trials)) for (f, tid), c in waiters.items()],
        mrelease=[CallShares(i, call_pid[i], _shares(c, trials)) for i, c in sorted(calls.items())],
        victims=_shares(victims, trials),
        robust_list_lost=_shares(lost, trials),
    )


def share_text(s: Share, n: int) -> str:
    """"hung in 31 of 200 trials (15.5 %, 95 % CI 11.1-21.2 %)"."""
    return f"{s.value} in {s.count} of {n} trials ({s.share * 100:.1f} %, 95 % CI {_ci(s)})"


def _ci(s: Share) -> str:
    return f"{s.low * 100:.1f}-{s.high * 100:.1f} %"


def distribution_groups(d: Distribution) -> list[tuple[str, list[Share]]]:
    """(heading, outcomes) in the order `run` shows them."""
    out = [(f"futex {w.futex}, waiter {w.tid}", w.outcomes) for w in d.waiters]
    out += [(f"process_mrelease #{c.call} (pid {c.pid})", c.results) for c in d.mrelease]
    if d.robust_list_lost:
        out.append(("robust list lost (exit_robust_list faulted)", d.robust_list_lost))
    out.append(("OOM victims", d.victims))
    return out


def distribution_lines(d: Distribution) -> list[str]:
    """The distribution as aligned text: a heading, then one line per outcome."""
    n = d.trials
    lines = []
    for heading, shares in distribution_groups(d):
        lines.append(heading)
        width = max(len(s.value) for s in shares)
        for s in shares:
            lines.append(f"  {s.value:<{width}}  {s.count:>{len(str(n))}} of {n}  {s.share * 100:5.1f} %"
                         f"  (95 % CI {_ci(s)})")
    return lines


def trials_of_play(sim: Simulation) -> Distribution | None:
    """The scene's [races] trials of the moves played in `sim` (the result screen); None for a scene
    without [races]."""
    races = sim.scene.races
    if races is None:
        return None
    return run_trials(sim.loaded, races.trials, races.seed, policy=sim.policy_override,
                      kernel=sim.kernel_override, moves=list(sim.played))


def headline(d: Distribution) -> str | None:
    """The sentence a race scene teaches: how often a waiter hung, e.g. "waiter 200 (futex M) hung in
    31 of 200 trials (15.5 %, 95 % CI 11.1-21.2 %)"; None if no waiter ever hung."""
    for w in d.waiters:
        for s in w.outcomes:
            if s.value == "hung":
                return f"waiter {w.tid} (futex {w.futex}) {share_text(s, d.trials)}"
    return None
