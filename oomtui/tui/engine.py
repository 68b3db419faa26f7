"""What the TUI keeps beside the model: the wall-clock drive and what it learnt from events.

No Textual here. The kernel owns simulated time; the Engine only decides how many jiffies to
advance per frame (wall time x speed, fractions carried) and folds each frame's events into the
small records the panels draw from, so a panel never rescans `k.events`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..kernel import events as ev
from ..kernel.core import Kernel
from ..scene.actions import Action
from ..scene.load import LoadedScene
from ..scene.sim import Simulation

SPEEDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]


@dataclass
class TimerRec:
    """One queue_oom_reaper() call and how its 2 s timer ended."""

    pid: int
    comm: str
    queued_at: int
    delay: int  # jiffies; 0 = no delay, -1 = never queued
    fires_at: int
    why: str
    result: str | None = None  # None while counting down | "fires" | "noop" | "immediate" | "never"
    ended_at: int | None = None


@dataclass
class Observed:
    """Records folded from events (reset on restart / scene change)."""

    timers: list[TimerRec] = field(default_factory=list)
    last_selected: ev.OomSelected | None = None
    last_invoked: ev.OomInvoked | None = None
    last_aborted: ev.OomAborted | None = None
    aborts: int = 0  # aborted scans since the last completed one
    first_abort_t: int | None = None
    syscalls: list[ev.Syscall] = field(default_factory=list)
    reaped: dict[int, str] = field(default_factory=dict)  # pid -> result of its last reap
    freed_kb: dict[int, int] = field(default_factory=dict)  # pid -> kB freed by reaper / mrelease / exit
    killed: dict[int, int] = field(default_factory=dict)  # pid -> jiffy of its (first) SIGKILL
    hung: list[tuple[int, str, int]] = field(default_factory=list)  # (tid, futex, t)
    eownerdead: list[tuple[int, str, int]] = field(default_factory=list)
    reaper_done: tuple[int, str, int] | None = None  # (pid, result, t) of the last finished reap
    free_hist: deque = field(default_factory=lambda: deque(maxlen=240))  # (jiffy, free pages)
    last_hist_t: int = -1


class Engine:
    """A Simulation plus pause/speed and the wall-clock -> jiffies carry."""

    def __init__(self, ls: LoadedScene, policy: str | None = None, kernel: str | None = None,
                 paused: bool = False, speed: float = 1.0):
        self.kernel_override = kernel
        self.sim = Simulation(ls, policy=policy, kernel=kernel)
        self.paused = paused
        self.speed = clamp_speed(speed)
        self.carry = 0.0
        self.obs = Observed()
        self.end_noted = False
        self.generation = 0  # bumps on restart / scene change: widgets rebuild
        # autoplay: time never runs past the next walkthrough step, so each step happens at its
        # exact jiffy, as in the headless walkthrough (Simulation.autoplay)
        self.stop_at: int | None = None
        self._sample(force=True)

    # ------------------------------------------------------------------ state
    @property
    def k(self) -> Kernel:
        return self.sim.k

    @property
    def finished(self) -> bool:
        return self.k.jiffies >= self.sim.duration

    # ------------------------------------------------------------------ driving
    def take(self, dt: float) -> int:
        """How many jiffies `dt` wall seconds make at the current speed (nothing while paused)."""
        if self.paused or self.k.panicked:
            return 0
        self.carry += dt * self.speed * self.k.hz
        n = int(self.carry)
        if n <= 0:
            return 0
        self.carry -= n
        # a stalled frame (suspend, debugger) must not jump the story by minutes
        n = min(n, max(1, int(self.k.hz * self.speed)))
        if self.k.jiffies < self.sim.duration:  # stop exactly at the end: that is when a scene is scored
            n = min(n, self.sim.duration - self.k.jiffies)
        return n

    def advance(self, n: int) -> list[ev.AnyEvent]:
        if self.stop_at is not None:
            n = max(0, min(n, self.stop_at - self.k.jiffies))
        out = self.sim.advance(n)
        self.fold(out)
        return out

    def next_event(self, limit_s: float = 60.0) -> list[ev.AnyEvent]:
        """Run to the next scheduled timer or scripted action (at most limit_s simulated seconds)."""
        limit = int(limit_s * self.k.hz)
        if self.stop_at is not None:
            limit = max(0, min(limit, self.stop_at - self.k.jiffies))
        out: list[ev.AnyEvent] = []
        start = self.k.jiffies
        while not out and self.k.jiffies - start < limit and not self.k.panicked:
            out = self.sim.advance_to_next_event(limit - (self.k.jiffies - start))
            if self.sim.next_event_at() is None and not out:
                break
        self.fold(out)
        return out

    def apply(self, action: Action) -> list[ev.AnyEvent]:
        out = self.sim.apply(action)
        self.fold(out)
        return out

    def restart(self, policy: str | None = None) -> None:
        """Start the scene again; under `policy` (default: the policy in force now)."""
        pol = policy or self.k.policy.id
        self.sim = Simulation(self.sim.loaded, policy=pol, kernel=self.kernel_override)
        self._reset()

    def load(self, ls: LoadedScene, policy: str | None = None) -> None:
        self.sim = Simulation(ls, policy=policy, kernel=self.kernel_override)
        self._reset()

    def _reset(self) -> None:
        self.obs = Observed()
        self.carry = 0.0
        self.end_noted = False
        self.stop_at = None
        self.generation += 1
        self._sample(force=True)

    def set_speed(self, speed: float) -> None:
        self.speed = clamp_speed(speed)

    def faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed + 1e-9), MAX_SPEED)

    def slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed - 1e-9), MIN_SPEED)

    # ------------------------------------------------------------------ folding events
    def fold(self, events: list[ev.AnyEvent]) -> None:
        o = self.obs
        k = self.k
        for e in events:
            if isinstance(e, ev.ReaperQueued):
                if e.delay < 0:
                    o.timers.append(TimerRec(e.pid, e.comm, e.t, -1, -1, e.why, "never", e.t))
                elif e.delay == 0 and e.fires_at == e.t:
                    o.timers.append(TimerRec(e.pid, e.comm, e.t, 0, e.t, e.why, "immediate", e.t))
                else:
                    o.timers.append(TimerRec(e.pid, e.comm, e.t, e.delay, e.fires_at, e.why))
            elif isinstance(e, ev.ReaperTimer):
                for tr in reversed(o.timers):
                    if tr.pid == e.pid and tr.result is None:
                        tr.result, tr.ended_at = e.result, e.t
                        break
            elif isinstance(e, ev.Kill):
                if e.signal == "SIGKILL" or k.pids[e.pid].group_exit:
                    o.killed.setdefault(e.pid, e.t)
            elif isinstance(e, ev.OomInvoked):
                o.last_invoked = e
            elif isinstance(e, ev.OomSelected):
                o.last_selected = e
                o.last_aborted = None
                o.aborts = 0
            elif isinstance(e, ev.OomAborted):
                o.last_aborted = e
                if o.aborts == 0:
                    o.first_abort_t = e.t
                o.aborts += 1
            elif isinstance(e, ev.Syscall):
                o.syscalls.append(e)
            elif isinstance(e, ev.Reaped):
                o.reaped[e.pid] = e.result
                if e.freed_kb:
                    o.freed_kb[e.pid] = o.freed_kb.get(e.pid, 0) + e.freed_kb
                if e.by == "oom_reaper":
                    o.reaper_done = (e.pid, e.result, e.t)
            elif isinstance(e, ev.ExitMmap) and e.phase == "done":
                o.freed_kb[e.pid] = o.freed_kb.get(e.pid, 0) + e.freed_kb
            elif isinstance(e, ev.FutexEvent):
                if e.outcome == "hung":
                    o.hung.append((e.tid, e.futex, e.t))
                elif e.outcome == "eownerdead":
                    o.eownerdead.append((e.tid, e.futex, e.t))
        self._sample()

    def _sample(self, force: bool = False) -> None:
        """Free-memory history: one sample per 100 ms of simulated time."""
        k = self.k
        o = self.obs
        step = max(1, k.hz // 10)
        if force or o.last_hist_t < 0:
            o.free_hist.append((k.jiffies, k.free_pages()))
            o.last_hist_t = k.jiffies
            return
        if k.jiffies - o.last_hist_t >= step:
            # fill skipped buckets with the value now (a frame can span several buckets)
            n = min((k.jiffies - o.last_hist_t) // step, o.free_hist.maxlen or 240)
            for _ in range(n):
                o.free_hist.append((k.jiffies, k.free_pages()))
            o.last_hist_t = k.jiffies


def clamp_speed(x: float) -> float:
    return max(MIN_SPEED, min(MAX_SPEED, float(x)))
