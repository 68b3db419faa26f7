"""kernel/sched (try_to_wake_up, select_task_rq_fair, wakeup_preempt): what happens below a jiffy,
for race trials.

Off unless asked (Kernel.race is None): then time moves in whole jiffies, an action runs before any
thread moves in its jiffy, and a scene has one outcome. With a Races object, the events of a jiffy
are placed at microseconds inside it, drawn from a seeded random source and from CPU placement:

- a SIGKILL wakes every thread of the group (complete_signal(): signal_wake_up() on each). Where a
  woken thread runs is select_task_rq(): its pinned CPU; else, as it last ran beside the waker,
  select_idle_sibling() keeps it there unless another CPU is idle (the machine's `idle` share);
- on the waker's own CPU the wake-up usually preempts the waker on its return from kill(2)
  (wakeup_preempt(): EEVDF picks the woken entity): the victim's threads then run their whole exit
  path before the killer's next system call, so process_mrelease() finds no thread with an mm
  (find_lock_task_mm() NULL: -ESRCH). When it does not preempt, the woken thread waits until an
  idle CPU pulls it (newidle balance) or the killer's slice ends;
- on another CPU it runs after the wake-up IPI and the idle exit, or, when that CPU is busy with a
  task the wake-up does not preempt, after that task's slice; a thread moved to an idle CPU that ran
  none of its work wakes slower still;
- the reaper (the oom_reaper kthread or process_mrelease() in the caller's context) pays for each
  mapping it walks (vma_us) and each page it zaps (the reap rate); see memory._zap_tick_timed.

Every number below is a fit to the lab counts of this project's Linux 6.18.44 machine (a loaded
2-vCPU virtual machine, C programs with the lmkd pattern; docs/races.md has the counts). They are
UNCONFIRMED for any other machine: a phone with 8 CPUs, idle or not, will differ.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from .state import Vma

US_PER_S = 1_000_000


class RaceParams(msgspec.Struct, frozen=True):
    """Distributions of the sub-jiffy model, in microseconds. Lognormals are given by their median
    and the sigma of their logarithm."""

    # P(a SIGKILL wake-up on the killer's CPU preempts it on return from kill(2)), the killer alone in
    # its task group; lab: -ESRCH with a one-thread victim on the killer's CPU in 1138 of 1200 trials
    # of six `lab lmkd-race` rows at loads 0.1-4.3 (pinned there, or unpinned beside the lab's busy
    # loop: 86-99.5 % a row); the first batches 750 of 1000; two threads 387 of 400 (1 - 0.07**2)
    preempt: float = 0.93
    # not preempting on the killer's CPU: until an idle CPU pulls it or the killer's slice ends
    # (lab: the reaper won 176 of the 250 trials that were not -ESRCH)
    pull_median: float = 40.0
    pull_sigma: float = 1.0
    # from a preempting wake-up to futex_cleanup() (get_signal -> do_exit -> exit_mm)
    exit_median: float = 5.0
    exit_sigma: float = 0.3
    # the rest of do_exit after exit_mm() before the killer gets its CPU back
    exit_rest: float = 5.0
    # another, idle CPU: wake-up IPI + idle exit + the exit path to futex_cleanup(); lab: the main
    # thread's robust list lost in about 5.5 % and a second thread's in 0.3 % of the fast wake-ups
    remote_median: float = 19.8
    remote_sigma: float = 0.18
    # another CPU busy with a task the wake-up does not preempt; lab: with 1 ms between kill and
    # process_mrelease 36 of 900 waiters still hung, with 20 ms 1 of 400
    busy: float = 0.056
    busy_median: float = 2000.0
    busy_sigma: float = 1.2
    # an unpinned thread select_idle_sibling() moved to another, idle CPU (its last CPU, the waker's,
    # is busy): the wake-up IPI reaches a CPU that ran none of its work. Lab (traced, from the kill
    # to the victim's first event there): median 62 µs, against 46 µs for a victim pinned there that
    # used it 2 ms before. Its waiter hung in 59 of 310 moved trials at loads 1.3-4 (19 %; 11 % of
    # the wake-ups moved), and in 414 of 1000 unpinned trials of five `lab lmkd-race` runs on an idle
    # machine (about 95 % moved; 32.5-54 % a run, more spread than chance: docs/races.md).
    # The longer a CPU's idle spells, the deeper the idle state its cpuidle governor picks (menu/teo:
    # predicted idle length against exit latency; on a virtual machine the host's halt polling and
    # C-state), so the median grows with `idle`: a line through the two (the median that gives 19 %
    # at idle 0.11 and 43.5 % at 0.95); the mechanism is UNCONFIRMED on this machine, whose guest
    # has one idle state, HLT.
    moved_median: float = 26.3  # idle = 1
    moved_warm: float = 5.5  # µs less per unit of time the other CPU is busy
    moved_sigma: float = 0.25
    # kill(2) returning and process_mrelease() getting as far as its VMA walk (pidfd, mmgrab,
    # task_will_free_mem, mmap_read_lock)
    syscall: float = 3.0
    # the reaper's cost per mapping walked (maple tree step, mmu_notifier, tlb gather)
    vma_us: float = 1.0
    # mappings above the main thread's static TLS (its robust list head) that the scene layout
    # does not draw: libc, ld.so, vdso, vvar ... (measured: 16 VMAs for a small C program on 6.18;
    # kernel-model.md 11.7 says "about a dozen")
    mappings_above_tls: int = 16
    # freeing one page at tlb_finish_mmu() (exit_mmap's last gather batch); UNCONFIRMED
    free_us_per_page: float = 0.1


CALIBRATED = RaceParams()

# mmu_gather in exit_mmap (tlb_gather_mmu_fullmm): freed pages wait in batches of MAX_GATHER_BATCH
# ((PAGE_SIZE - 16) / 8 = 510 pointers) and at most MAX_GATHER_BATCH_COUNT (10000 / 510 = 19)
# batches before a flush; the last ones are freed by tlb_finish_mmu(), after MMF_OOM_SKIP was set
# (mm/mmap.c exit_mmap, 6.0+). The count is from include/asm-generic/tlb.h as remembered: UNCONFIRMED.
GATHER_PAGES = 510 * (10000 // 510)

# a thread's exit_latency up to this (the scene default, "4ms") means "as soon as it runs"
AT_ONCE_US = 4000

# where an unpinned waker runs (the scene's killer thread, an allocator, or, when the scene names no
# killer, a task of its own): only whether a victim wakes on the same CPU matters
WAKER_CPU = 0


class Races:
    """The seeded random source, the machine's CPUs and where the killer is within its jiffy."""

    __slots__ = ("rng", "cpus", "pins", "killer", "idle", "p", "tick_us", "current", "cursor", "zapped_at")

    def __init__(self, hz: int, seed: int, cpus: int, pins: dict[int, int], killer: int | None,
                 idle: float = 0.0, params: RaceParams = CALIBRATED):
        self.rng = random.Random(seed)
        self.cpus = cpus
        self.pins = pins  # tid -> CPU (sched_setaffinity to one CPU)
        self.killer = killer  # tid whose CPU user actions (kill, process_mrelease) run on
        self.idle = idle  # the share of wake-ups that find another CPU idle (the scene's [races] idle)
        self.p = params
        self.tick_us = US_PER_S // hz
        self.current: int | None = None  # tid the kernel runs on behalf of ("current"): the waker
        self.cursor = (0, 0.0)  # (jiffy, µs): where the killer's next system call starts
        # µs at which an unmapping walk finished each mapping it finished (a thread's robust list head
        # reads as gone after that); here, not on every Vma, as only race trials ask
        self.zapped_at: dict[Vma, float] = {}

    def lognormal(self, median: float, sigma: float) -> float:
        return math.exp(self.rng.gauss(math.log(median), sigma))

    def cpu_of(self, tid: int | None) -> int:
        return WAKER_CPU if tid is None else self.pins.get(tid, WAKER_CPU)

    def select_task_rq(self, tid: int, waker_cpu: int) -> tuple[int, bool]:
        """(CPU, moved): pinned, its CPU. Unpinned, it last ran on the waker's CPU (prev_cpu == this
        CPU: select_task_rq_fair() skips wake_affine()); select_idle_sibling() keeps it there, where the
        waker runs, unless select_idle_cpu() finds another CPU of the LLC idle (6.18; SIS_UTIL, 5.19+,
        skips that scan when the LLC is busy: the lab's `idle` is the share that moved, as measured)."""
        cpu = self.pins.get(tid)
        if cpu is not None:
            return cpu, False
        if self.cpus == 1 or self.rng.random() >= self.idle:
            return waker_cpu, False
        return self.rng.choice([c for c in range(self.cpus) if c != waker_cpu]), True

    def action_sub(self, jiffy: int) -> int:
        """µs into `jiffy` at which the killer's next action runs: where its last call left it, or
        the start of the jiffy (it woke at the tick)."""
        j, us = self.cursor
        return int(us) if j == jiffy else 0

    def user_action(self, jiffy: int, sub: int) -> None:
        """A user action starts now on the killer's CPU; it returns `syscall` µs later."""
        self.current = self.killer
        self.cursor = (jiffy, sub + self.p.syscall)

    def wake_group(self, now_us: float, tids: list[int], starve_us: dict[int, float]) -> dict[int, float]:
        """SIGKILL wakes these threads at absolute time now_us (complete_signal()). Returns, per tid,
        the absolute µs at which it reaches futex_cleanup(); moves the killer's cursor past the
        victims that preempt it. starve_us: a floor the scene gives a thread (an exit_latency above
        the default: it cannot run sooner)."""
        p = self.p
        waker = self.current
        waker_cpu = self.cpu_of(waker)
        placed = [(tid, *self.select_task_rq(tid, waker_cpu)) for tid in tids]
        # Woken together with equal lag, they run in the order of their EEVDF deadlines: taken as
        # random (UNCONFIRMED).
        self.rng.shuffle(placed)
        local = [tid for tid, cpu, _ in placed if cpu == waker_cpu and tid not in starve_us]
        # Each wake-up on the killer's CPU may preempt it (wakeup_preempt()); once preempted, every
        # victim thread queued there runs before the killer gets its CPU back.
        preempted = any(self.rng.random() < p.preempt for _ in local)
        t_local = now_us + p.syscall  # the waker's return from kill(2)
        out: dict[int, float] = {}
        for tid, cpu, moved in placed:
            floor = starve_us.get(tid, 0.0)
            if cpu == waker_cpu and preempted and tid in local:
                # runs before the waker's next instruction, to the end of do_exit
                t_local += self.lognormal(p.exit_median, p.exit_sigma)
                out[tid] = t_local
                t_local += p.exit_rest
            elif cpu == waker_cpu:
                out[tid] = now_us + floor + self.lognormal(p.pull_median, p.pull_sigma) \
                    + self.lognormal(p.exit_median, p.exit_sigma)
            elif moved:
                out[tid] = now_us + floor + self.moved_wake_us()
            else:
                # Each on its own: the lab's two-thread victims on one other CPU did not lose as if the
                # second waited for the first's exit (why is UNCONFIRMED)
                out[tid] = now_us + floor + self.remote_wake_us()
        if waker == self.killer:  # an OOM kill runs in the allocator's context: the killer did not wait
            j = int(t_local // self.tick_us)
            self.cursor = (j, t_local - j * self.tick_us)
        return out

    def moved_wake_us(self) -> float:
        """A wake-up select_idle_sibling() moved to an idle CPU, until the woken task runs: slower the
        more of its time that CPU idles (RaceParams.moved_median)."""
        p = self.p
        return self.lognormal(p.moved_median - p.moved_warm * (1.0 - self.idle), p.moved_sigma)

    def remote_wake_us(self) -> float:
        """A wake-up on another CPU until the woken task runs (for a victim: to futex_cleanup()): the
        IPI and idle exit, or the slice of a task there that the wake-up does not preempt."""
        p = self.p
        if self.rng.random() < p.busy:
            return self.lognormal(p.busy_median, p.busy_sigma)
        return self.lognormal(p.remote_median, p.remote_sigma)
