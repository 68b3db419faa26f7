"""A running scene: the kernel plus the scene's timed actions, and the outcome detected from events.

Front ends (CLI, TUI, recorder, tests) drive a Simulation; they never touch kernel state directly.
"""

from __future__ import annotations

import msgspec

from ..gc_pause import gc_paused
from ..kernel import events as ev
from ..kernel.core import Kernel, KernelError
from ..kernel.oom_kill import global_badness_table
from .actions import Action, Step
from .build import build_kernel
from .load import LoadedScene
from .sidesteps import Sidestep, SidestepRefused


class KillRec(msgspec.Struct):
    t_ms: int
    pid: int
    comm: str
    reason: str
    signal: str


class ReapRec(msgspec.Struct):
    t_ms: int
    pid: int
    comm: str
    by: str
    result: str
    freed_kb: int


class FreedRec(msgspec.Struct):
    t_ms: int
    pid: int
    by: str  # "exit_mmap" | "oom_reaper" | "process_mrelease"
    freed_kb: int


class WaiterRec(msgspec.Struct):
    tid: int
    futex: str
    outcome: str  # eownerdead | acquired | timedout | blocked | hung | killed
    t_ms: int | None


class SyscallRec(msgspec.Struct):
    t_ms: int
    name: str
    pid: int
    ret: int
    errno: str | None


class LivelockRec(msgspec.Struct):
    t_ms: int
    pid: int
    comm: str
    reason: str
    until_ms: int | None  # when a user action got allocations going again; None: still livelocked


class FailedMoveRec(msgspec.Struct):
    """A move the kernel refused (echo PID > cgroup.procs = -1 errno): the process stayed where it was."""

    t_ms: int
    pid: int
    comm: str
    from_: str = msgspec.field(name="from")  # the cgroup it stayed in
    to: str  # the cgroup it was to join
    hierarchy: str  # whose cgroups: "memory" (and what is co-mounted there, or v2's one) | "freezer"
    errno: str  # EBUSY (v2 no internal processes) | ENOMEM (v1 move_charge_at_immigrate)


class Outcome(msgspec.Struct):
    scene: str
    title: str
    policy: str
    kernel: str
    hz: int
    t_ms: int
    kills: list[KillRec]
    reaps: list[ReapRec]
    freed: list[FreedRec]
    waiters: list[WaiterRec]
    syscalls: list[SyscallRec]
    oom_blocked_ms: int
    livelock: LivelockRec | None
    panic: str | None
    dmesg: list[str]
    # present only when a move failed: a run without one is what it was before moves could fail
    failed_moves: list[FailedMoveRec] | msgspec.UnsetType = msgspec.UNSET

    def waiter(self, tid: int) -> WaiterRec:
        return next(w for w in self.waiters if w.tid == tid)

    def killed_pids(self, reason: str | None = None) -> list[int]:
        return [k.pid for k in self.kills if reason is None or k.reason == reason]


class Simulation:
    def __init__(self, ls: LoadedScene, policy: str | None = None, kernel: str | None = None,
                 race_seed: int | None = None):
        """race_seed: one race trial (events inside a jiffy ordered by a seeded random source and by
        CPU placement, scene/trials.py); None: the deterministic model."""
        self.loaded = ls
        self.scene = ls.scene
        self.policy_override = policy
        self.kernel_override = kernel
        self.race_seed = race_seed
        with gc_paused():
            built = build_kernel(ls, policy, kernel, race_seed)
            self.k: Kernel = built.kernel
            # the walk over every process that the first global OOM would make, made now: with 100 000
            # processes it takes 100 ms, one frame and more of an OOM storm (later OOMs only refresh it)
            global_badness_table(self.k)
            self.k.freeze_for_gc()  # a big model is long-lived: keep full collections off it
        self.script: list[tuple[int, Action]] = built.script
        self.walkthrough, self.duration = built.walkthrough, built.duration
        self.sidesteps: list[Sidestep] = built.sidesteps
        self._next_action = 0
        self.played: list[tuple[int, Action]] = []  # the player's actions, for replays and scoring
        self.forfeits: list[tuple[int, Action, Sidestep]] = []  # (jiffy, move, sidestep): the win is forfeited
        self._oom_at: int | None = None
        self._oom_scanned = 0

    @property
    def id(self) -> str:
        return self.loaded.ref

    def restart(self) -> None:
        self.__init__(self.loaded, self.policy_override, self.kernel_override, self.race_seed)  # type: ignore[misc]

    def advance(self, n: int) -> list[ev.AnyEvent]:
        """Advance n jiffies, applying scripted actions when their time comes."""
        out: list[ev.AnyEvent] = []
        target = self.k.jiffies + n
        while self._next_action < len(self.script) and self.script[self._next_action][0] <= target:
            at, action = self.script[self._next_action]
            self._next_action += 1
            out += self._step_to(at)
            out += self.apply(action, scripted=True)
        out += self._step_to(target)
        return out

    def _step_to(self, at: int) -> list[ev.AnyEvent]:
        """Up to the moment an action at jiffy `at` runs: the end of the previous jiffy; race trials:
        the µs of `at` where the killer thread gets to make its call."""
        race = self.k.race
        if race is None:
            return self.k.step(max(0, at - self.k.jiffies))
        at = max(at, self.k.jiffies)
        return self.k.step(at - self.k.jiffies, sub=race.action_sub(at))

    def next_event_at(self) -> int | None:
        times = [t for t in (self.k.next_event_at(),) if t is not None]
        if self._next_action < len(self.script):
            times.append(self.script[self._next_action][0])
        return min(times) if times else None

    def advance_to_next_event(self, limit: int) -> list[ev.AnyEvent]:
        nxt = self.next_event_at()
        if nxt is None:
            return self.advance(limit)
        return self.advance(max(0, min(nxt, self.k.jiffies + limit) - self.k.jiffies))

    def oom_at(self) -> int | None:
        """The jiffy at which the OOM killer first marked a victim (mark_oom_victim), None before."""
        if self._oom_at is None:
            events = self.k.events
            for i in range(self._oom_scanned, len(events)):
                if isinstance(events[i], ev.MarkVictim):
                    self._oom_at = events[i].t
                    break
            self._oom_scanned = len(events)
        return self._oom_at

    def sidestep(self, action: Action) -> Sidestep | None:
        """The scene's sidestep this player move would be now (first match in file order), else None.
        The TUI may ask before applying, e.g. to word a confirmation; apply() enforces it anyway."""
        if not self.sidesteps:
            return None
        now, oom = self.k.jiffies, self.oom_at()
        return next((s for s in self.sidesteps if s.matches_action(action) and s.in_window(now, oom)), None)

    def apply(self, action: Action, scripted: bool = False, *, sidesteps: bool = True) -> list[ev.AnyEvent]:
        """Apply a player's (or, with scripted=True, the scene's) action now. A bad target raises
        KernelError with a clear message and changes nothing. A player's move that is one of the
        scene's refused sidesteps raises SidestepRefused (a UserError), changes nothing and is not
        counted; a forfeit sidestep is applied and recorded in `forfeits`. `sidesteps=False` skips
        the check (replays of moves already judged)."""
        side = self.sidestep(action) if sidesteps and not scripted else None
        if side is not None and side.refused:
            raise SidestepRefused(side, action)
        before = self._step_to(self.k.jiffies) if self.k.race is not None else []
        mark = len(self.k.events)
        try:
            self.k.emit(ev.ActionApplied(t=self.k.jiffies, what=action.describe(), caption=action.caption,
                                         scripted=scripted))
            action.apply(self.k)
        except KernelError:
            del self.k.events[mark:]  # a refused action leaves no trace
            self.k.drain()
            raise
        if not scripted:
            self.played.append((self.k.jiffies, action))
            if side is not None:
                self.forfeits.append((self.k.jiffies, action, side))
        return before + self.k.drain()

    def autoplay(self, until: int | None = None) -> list[tuple[Step, list[ev.AnyEvent]]]:
        """Headless walkthrough: each step's action is applied as the player's, at its time."""
        out = []
        for step in self.walkthrough:
            if until is not None and step.at > until:
                break
            self.advance(max(0, step.at - self.k.jiffies))
            events = self.apply(step.action) if step.action is not None else []
            out.append((step, events))
        return out

    def replay(self, policy: str) -> "Simulation":
        """The same scene and the same player actions at the same times, under another policy
        (the player's own policy switches are left out: the question is what that kernel does)."""
        from .actions import SetPolicy

        other = Simulation(self.loaded, policy, self.kernel_override, self.race_seed)
        for at, action in self.played:
            if isinstance(action, SetPolicy):
                continue
            other.advance(max(0, at - other.k.jiffies))
            try:
                other.apply(action, sidesteps=False)  # judged where it was played
            except KernelError:
                pass  # the target may not exist there (already gone): the player could not have done it
        return other

    def run(self, until: int | None = None, *, dmesg: bool = True) -> Outcome:
        end = self.duration if until is None else until
        if end > self.k.jiffies:
            self.advance(end - self.k.jiffies)
        if self.k.race is not None:
            self.k.step(0)  # the rest of the last jiffy (advance stops where an action there would run)
        return self.outcome(dmesg=dmesg)

    def outcome(self, *, dmesg: bool = True) -> Outcome:
        """`dmesg=False`: an empty `dmesg`, for a caller that reads k.dmesg_lines() itself."""
        k = self.k
        ms = k.ms
        kills, reaps, freed, syscalls, failed = [], [], [], [], []
        panic = None
        dm, batch = ev.Dmesg, ev.DmesgLines
        for e in k.events:
            if type(e) is dm or type(e) is batch:
                continue  # dmesg lines: k.dmesg()
            if isinstance(e, ev.Kill):
                kills.append(KillRec(ms(e.t), e.pid, e.comm, e.reason, e.signal))
            elif isinstance(e, ev.Reaped):
                reaps.append(ReapRec(ms(e.t), e.pid, e.comm, e.by, e.result, e.freed_kb))
                if e.freed_kb:
                    freed.append(FreedRec(ms(e.t), e.pid, e.by, e.freed_kb))
            elif isinstance(e, ev.ExitMmap) and e.phase == "done":
                freed.append(FreedRec(ms(e.t), e.pid, "exit_mmap", e.freed_kb))
            elif isinstance(e, ev.Syscall):
                syscalls.append(SyscallRec(ms(e.t), e.name, e.pid, e.ret, e.errno))
            elif isinstance(e, ev.Panic) and panic is None:
                panic = e.message
            elif isinstance(e, ev.CgroupMove) and e.errno:
                failed.append(FailedMoveRec(ms(e.t), e.pid, e.comm, e.from_cgroup, e.cgroup, e.hierarchy, e.errno))
        waiters = []
        for f in k.futexes.values():
            for w in f.history:
                outcome = w.outcome or "blocked"
                waiters.append(WaiterRec(w.task.tid, f.name, outcome, None if w.t is None else ms(w.t)))
        blocked = k.oom_blocked()
        ll = k.livelock
        return Outcome(
            scene=self.id, title=self.scene.title, policy=k.policy.id, kernel=str(k.policy.version), hz=k.hz,
            t_ms=ms(k.jiffies), kills=kills, reaps=reaps, freed=freed, waiters=waiters, syscalls=syscalls,
            oom_blocked_ms=ms(blocked),
            livelock=LivelockRec(ms(ll.t), ll.pid, ll.comm, ll.reason,
                                 None if k.livelock_end is None else ms(k.livelock_end)) if ll else None,
            panic=panic, dmesg=k.dmesg() if dmesg else [], failed_moves=failed or msgspec.UNSET,
        )
