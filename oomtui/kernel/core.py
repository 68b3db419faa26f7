"""The Kernel: simulated time, timers, memory accounting, construction and user actions.

Time is in jiffies at `hz`. Nothing happens per tick unless something is scheduled: timers wait
in a heap; work in progress (an exit, a reap, an allocation) reschedules itself while it lasts.
The same construction, policy and actions give the same events, byte for byte.
"""

from __future__ import annotations

import gc
import heapq
import itertools
from typing import TYPE_CHECKING, Callable, Iterator

from . import events as ev
from .dmesg import stamp
from .exit import send_signal
from .freezer import freeze_cgroup, freezer_migrate, task_can_run
from .memcontrol_v1 import MOVE_ANON, leave_swap_behind, mem_cgroup_count_precharge, mem_cgroup_move_charge
from .memory import ZapJob, take_pages
from .oom_kill import BadnessInputs, out_of_memory, proc_oom_score_of, process_mrelease
from .page_alloc import arm_alloc
from .page_types import PAGE_SIZE
from .policy import Policy
from .state import (
    DISK, MMF_MULTIPROCESS, MMF_OOM_SKIP, SLEEPING,
    Allocation, Cgroup, DSleep, Futex, MmStruct, Process, ShmObject, Task, Vma, Waiter,
    FUTEX_WAITERS,
)

if TYPE_CHECKING:
    from .oom_kill import BadnessTable
    from .sched import Races

SUB_SHIFT = 40  # race trials: a timer's µs into its jiffy rides in the high bits of its order number
GC_FREEZE_MIN_PROCESSES = 1000  # see Kernel.freeze_for_gc


class KernelError(ValueError):
    """An action the model cannot perform as asked (unknown pid, bad target)."""


class RateLimit:
    """struct ratelimit_state."""

    __slots__ = ("begin", "printed", "missed")

    def __init__(self) -> None:
        self.begin: int | None = None
        self.printed = 0
        self.missed = 0


class Kernel:
    def __init__(self, policy: Policy, *, hz: int = 250, ram_pages: int, swap_pages: int = 0,
                 reserved_pages: int = 0, reap_rate: int | None = None, exit_rate: int | None = None,
                 memcg_v1: bool = False, swapaccount: bool = True):
        self.policy = policy
        self.hz = hz
        self.memcg_v1 = memcg_v1  # the memory controller on a v1 hierarchy: !cgroup_subsys_on_dfl()
        self.swapaccount = swapaccount  # the swapaccount= boot option (do_swap_account reads it per era)
        self.jiffies = 0
        self.ram_pages = ram_pages
        self.swap_pages = swap_pages
        self.reserved_pages = reserved_pages  # kernel + everything not modelled
        self.used_pages = reserved_pages
        self.swap_used = 0
        # ~12 GB/s: process_mrelease freed 400 MiB in 32.6 ms on this project's 6.18 machine
        # (kernel-model.md 11.3); exit_mmap unmaps at the same rate.
        default_rate = max(1, (12 * 1024**3 // PAGE_SIZE) // hz)
        self.reap_rate = reap_rate or default_rate
        self.exit_rate = exit_rate or default_rate
        self.root = Cgroup("/", None)
        self.cgroups: dict[str, Cgroup] = {"/": self.root}  # every hierarchy's, by path (unique but "/")
        self.freezer_root: Cgroup | None = None  # a v1 freezer hierarchy of its own, once it has a cgroup
        # pages a process moved away from (move()) left charged to a memcg other than its mm's: per
        # mapping, [memcg, pages] in address order; empty unless something moved (Kernel.uncharge_owners)
        self.precharged: dict[Vma, list[list]] = {}
        # an mm whose swap entries are recorded to a memcg it has left (swap_cgroup), for a later move
        # with memory.move_charge_at_immigrate (memcontrol_v1.py)
        self.swap_owner: dict[MmStruct, Cgroup] = {}
        self.tasklist: list[Process] = []  # for_each_process order: creation order
        self.pids: dict[int, Process] = {}
        self.tids: dict[int, Task] = {}
        self.mms: list[MmStruct] = []
        self.shm: dict[str, ShmObject] = {}
        self.futexes: dict[str, Futex] = {}
        self.allocations: list[Allocation] = []
        self._timers: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._order = itertools.count()
        self.alloc_armed = False
        self.events: list[ev.AnyEvent] = []
        self._new: list[ev.AnyEvent] = []
        # oom_reaper kthread
        self.oom_reaper_list: list[Process] = []  # head at index 0: LIFO
        self.reaper_state = "idle"  # idle | trylock k/10 | reaping VMA at 0x... | sleeping
        self.reaper_current: Process | None = None
        self.reaper_timers: dict[int, int] = {}  # victim pid -> jiffy its timer fires
        self.reaper_task: dict[int, int] = {}  # victim pid -> tid of the thread queue_oom_reaper() got
        self.reaper_armed = False
        self.zap_jobs: list[ZapJob] = []
        self.mrelease_calls: list[int] = []  # pids with a process_mrelease() in progress
        # outcome bookkeeping
        self.oom_blocked_jiffies = 0
        self.livelock: ev.Livelock | None = None
        self.panicked = False
        self.ratelimit = RateLimit()  # dump_header's oom_rs
        self.dump_tasks_memo: dict = {}  # dump_tasks() rows as last printed (dmesg.dump_task_rows); not state
        self._next_mm = 1
        self.last_abort: int | None = None  # pid the last aborted OOM scan stopped at
        self.victims: list[Process] = []  # every process mark_oom_victim() marked, in order
        # what select_bad_process() reads of every process, in columns its writers keep (oom_kill.BadnessInputs),
        # and the global OOM's table of every process's badness made from them (oom_kill.BadnessTable), and a
        # memcg OOM's, by memcg, until a css_set in its subtree changes (mem_cgroup_scan_tasks()'s rows)
        self.badness = BadnessInputs()
        self.oom_table: BadnessTable | None = None
        self.memcg_oom_tables: dict[Cgroup, BadnessTable] = {}
        self.livelock_end: int | None = None  # when allocations went through again after a livelock
        self.dormant_since: int | None = None  # allocators parked: every retry would abort the same way
        # Race trials (sched.py): None keeps whole-jiffy time. With it, `sub` is the µs into the
        # current jiffy of what runs now, and timers are ordered by (jiffy, µs, order pushed).
        self.race: Races | None = None
        self.sub = 0

    # ------------------------------------------------------------------ events & timers
    def emit(self, e: ev.AnyEvent) -> None:
        self._new.append(e)
        self.events.append(e)

    def printk(self, line: str) -> None:
        self.emit(ev.Dmesg(t=self.jiffies, line=line))

    def printk_lines(self, chunks: list[tuple[str, ...]]) -> None:
        """printk() each line of the chunks in order, now, as one event (dump_tasks prints a row per process)."""
        if chunks:
            self.emit(ev.DmesgLines(t=self.jiffies, chunks=chunks))

    def format_dmesg(self, e: ev.Dmesg) -> str:
        return stamp(e.t, self.hz) + e.line

    def dmesg(self) -> list[str]:
        return list(self.dmesg_lines())

    def dmesg_lines(self) -> Iterator[str]:
        """The log as dmesg prints it, one line at a time (an OOM storm of 100 000 processes prints
        millions); each printk batch's stamp is formatted once."""
        hz, when, prefix = self.hz, None, ""
        dm, batch = ev.Dmesg, ev.DmesgLines
        for e in self.events:
            kind = type(e)
            if kind is dm or kind is batch:
                if e.t != when:
                    when, prefix = e.t, stamp(e.t, hz)
                if kind is dm:
                    yield prefix + e.line
                else:
                    for chunk in e.chunks:
                        for line in chunk:
                            yield prefix + line

    def add_timer(self, when: int, fn: Callable[[], None], sub: int | None = None) -> None:
        """Run fn at jiffy `when` (now, if that is past). Race trials: `sub` µs into it (default: now
        for a timer due in this jiffy, else the jiffy's start)."""
        when = max(when, self.jiffies)
        if self.race is None:
            heapq.heappush(self._timers, (when, next(self._seq), fn))
            return
        if sub is None:
            sub = self.sub if when == self.jiffies else 0
        elif when == self.jiffies:
            sub = max(sub, self.sub)
        heapq.heappush(self._timers, (when, (sub << SUB_SHIFT) | next(self._seq), fn))

    def add_timer_us(self, at_us: float, fn: Callable[[], None]) -> None:
        """Race trials: run fn at absolute time at_us (µs since boot)."""
        j = int(at_us // self.race.tick_us)  # type: ignore[union-attr]
        self.add_timer(j, fn, int(at_us - j * self.race.tick_us))  # type: ignore[union-attr]

    def now_us(self) -> float:
        """Race trials: absolute µs of what runs now."""
        return self.jiffies * self.race.tick_us + self.sub  # type: ignore[union-attr]

    def next_event_at(self) -> int | None:
        return self._timers[0][0] if self._timers else None

    def step(self, n: int = 1, sub: int | None = None) -> list[ev.AnyEvent]:
        """Advance n jiffies; return the events that happened. Idle jiffies cost nothing.
        Race trials: with `sub`, stop at that µs of the target jiffy (a user action runs there)."""
        target = self.jiffies + n
        if self.race is not None:
            return self._step_timed(target, sub)
        while not self.panicked:
            if self._timers and self._timers[0][0] <= target:
                when = self._timers[0][0]
                self.jiffies = max(self.jiffies, when)
                while self._timers and self._timers[0][0] <= self.jiffies:
                    _, _, fn = heapq.heappop(self._timers)
                    fn()
            else:
                break
        if not self.panicked:
            self.jiffies = target
        out, self._new = self._new, []
        return out

    def _step_timed(self, target: int, sub: int | None) -> list[ev.AnyEvent]:
        limit = (target << SUB_SHIFT) | ((1 << SUB_SHIFT) - 1 if sub is None else sub)
        timers = self._timers
        while not self.panicked and timers:
            when, seq, fn = timers[0]
            at = seq >> SUB_SHIFT
            if (when << SUB_SHIFT) | at > limit:
                break
            heapq.heappop(timers)
            if when > self.jiffies:
                self.jiffies, self.sub = when, at
            else:
                self.sub = max(self.sub, at)
            fn()
        if not self.panicked and target > self.jiffies:
            self.jiffies, self.sub = target, 0
        if sub is not None and not self.panicked:
            self.sub = max(self.sub, sub)
        out, self._new = self._new, []
        return out

    def freeze_for_gc(self) -> None:
        """Once built, a big model lives as long as the scene: move it out of the garbage collector's
        reach (gc.freeze), or every full collection walks all of it, tens of ms inside one frame of an
        OOM storm with 5 000 processes. No behaviour changes: only what the collector walks.
        Small models are left alone, so that test suites building thousands of kernels keep their
        garbage collectable; a previous model (a restart) is unfrozen and collected first. With nothing
        frozen yet there is no full collection first: at 100 000 processes it walks the model for
        seconds (the build pauses the collector, oomtui.gc_pause, so all of it is still young)."""
        if len(self.tasklist) < GC_FREEZE_MIN_PROCESSES:
            return
        if gc.get_freeze_count():
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def drain(self) -> list[ev.AnyEvent]:
        """Events produced by actions since the last step()."""
        out, self._new = self._new, []
        return out

    def ms(self, jiffies: int) -> int:
        return jiffies * 1000 // self.hz

    def jiffies_from_ms(self, ms: float) -> int:
        return int(round(ms * self.hz / 1000))

    # ------------------------------------------------------------------ construction
    def add_cgroup(self, path: str, *, limit: int | None = None, oom_group: bool = False,
                   freezer: str | None = None, frozen: bool = False, memory: bool = True,
                   move_charge: int = 0, memsw_max: int | None = None, swap_max: int = 0) -> Cgroup:
        """memory=False: a cgroup of the freezer's own hierarchy (v1 freezer mounted alone).
        move_charge: v1's memory.move_charge_at_immigrate (0-3). memsw_max, swap_max: v1's memory+swap and
        v2's swap limit in pages (Cgroup.memsw_max, Cgroup.swap_max)."""
        if path in self.cgroups:
            raise KernelError(f"cgroup {path} exists")
        parent_path = path.rsplit("/", 1)[0] or "/"
        if parent_path == "/" and not memory:
            if self.freezer_root is None:
                self.freezer_root = Cgroup("/", None, memory=False)  # its root cannot be frozen
            parent: Cgroup | None = self.freezer_root
        else:
            parent = self.cgroups.get(parent_path)
        if parent is None:
            raise KernelError(f"cgroup {path}: parent {parent_path} does not exist")
        if parent.memory != memory:
            which = "memory" if parent.memory else "freezer"
            raise KernelError(f"cgroup {path}: parent {parent_path} is on the {which} hierarchy")
        cg = Cgroup(path, parent, limit, oom_group, freezer, memory)
        cg.freeze_self = frozen
        cg.move_charge = move_charge
        cg.memsw_max, cg.swap_max = memsw_max, swap_max
        parent.children.append(cg)
        self.cgroups[path] = cg
        return cg

    def new_mm(self, memcg: Cgroup, pgtables_bytes: int = 0) -> MmStruct:
        mm = MmStruct(self._next_mm, memcg, pgtables_bytes)
        self._next_mm += 1
        self.mms.append(mm)
        self.charge_pages(memcg, 0, global_pages=pgtables_bytes // PAGE_SIZE)
        return mm

    def add_process(self, pid: int, comm: str, cgroup: str = "/", *, parent: int | None = None,
                    oom_score_adj: int = 0, uid: int = 0, mm: MmStruct | None = None,
                    pgtables_bytes: int = 0, is_init: bool = False, kthread: bool = False,
                    handles_sigterm: bool = True, freezer_cgroup: str | None = None, in_vfork: bool = False,
                    cap_sys_admin: bool = False, order: int | None = None) -> Process:
        """copy_process(): a new process in cgroup `cgroup`, with a new mm unless `mm` (CLONE_VM) or a
        kthread. order: its position in for_each_process() order when not the next (`oomtui watch`)."""
        if pid in self.pids or pid in self.tids:
            raise KernelError(f"pid {pid} is used twice")
        cg = self.cgroups.get(cgroup)
        if cg is None:
            raise KernelError(f"process {pid}: cgroup {cgroup} does not exist")
        if not cg.memory:
            raise KernelError(f"process {pid}: cgroup {cgroup} is on the freezer's hierarchy, not the memory one")
        p = Process(pid, comm, cg, oom_score_adj, uid)
        fcg = None
        if freezer_cgroup is not None:
            fcg = self.cgroup(freezer_cgroup)
            if fcg.memory:
                raise KernelError(f"process {pid}: freezer cgroup {freezer_cgroup} is on the memory hierarchy")
            if any(c.freezer for c in cg.ancestors()):
                raise KernelError(f"process {pid}: its cgroup {cgroup} has a freezer already: a task has one freezer")
        pp = None
        if parent is not None:
            pp = self.pids.get(parent)
            if pp is None:
                raise KernelError(f"process {pid}: parent {parent} does not exist")
        p.is_init, p.kthread, p.handles_sigterm = is_init, kthread, handles_sigterm
        p.in_vfork, p.cap_sys_admin = in_vfork, cap_sys_admin
        p.order = next(self._order) if order is None else order
        if pp is not None:
            p.parent = pp
            pp.adopt(p)
        if mm is not None and mm.mm_users:
            self.set_mm_flag(mm, MMF_MULTIPROCESS)  # CLONE_VM without CLONE_THREAD (5.10+)
        self.tasklist.append(p)
        self.pids[pid] = p
        if mm is None and not kthread:
            mm = self.new_mm(cg, pgtables_bytes)
            mm.owner_pid = pid
        p.init_mm = mm
        if mm is not None:
            mm.procs.append(p)
        self.badness.add(p)
        self.css_set_move_task(p, None, cg)  # cgroup_post_fork()
        if fcg is not None:
            self._attach_freezer(p, fcg)
        return p

    def add_thread(self, p: Process, tid: int, *, state: str = SLEEPING, robust_list: bool = True,
                   exit_latency: int = 1, d_for: int | None = None, d_forever: bool = False,
                   holds_mmap_lock: bool = False, killable: bool = False) -> Task:
        if tid in self.tids or (tid in self.pids and self.pids[tid] is not p):
            raise KernelError(f"tid {tid} is used twice")
        t = Task(tid, p, state, robust_list, exit_latency)
        mm = p.init_mm
        if mm is not None:
            self.set_task_mm(t, mm)  # every thread's mm is its process's init_mm, until exit_mm()
            mm.mm_users += 1
        if state == DISK:
            t.resume_state = SLEEPING
            until = None if d_forever else self.jiffies + (d_for or 0)
            t.dsleep = DSleep(until, holds_mmap_lock, killable)
            if holds_mmap_lock and mm is not None:
                mm.mmap_lock_writer = t
            if until is not None:
                self.add_timer(until, lambda t=t: self._d_state_ends(t))
        p.threads.append(t)
        self.tids[tid] = t
        return t

    def add_vma(self, mm: MmStruct, vma: Vma) -> Vma:
        """A mapping with `vma.rss` pages resident and `vma.swap` swapped out."""
        mm.add_vma(vma)
        c = vma.counter  # mm_counter()
        if c is not None and vma.rss:
            self.add_mm_counter(mm, c, vma.rss)
        if vma.swap:
            self.add_mm_counter(mm, "swapents", vma.swap)
        if vma.is_anonymous:
            self.charge_pages(mm.memcg, vma.rss, global_pages=vma.rss)
            self.swap_used += vma.swap
        return vma

    def add_shm(self, name: str, pages: int, memcg: str = "/") -> ShmObject:
        cg = self.cgroups[memcg]
        obj = ShmObject(name, pages, cg)
        self.shm[name] = obj
        self.charge_pages(cg, pages, global_pages=pages)
        return obj

    def add_futex(self, name: str, *, robust: bool, shm: ShmObject | None = None, vma: Vma | None = None,
                  owner: Task | None = None) -> Futex:
        f = Futex(name, robust, shm, vma)
        if owner is not None:
            f.word = owner.tid
            f.owner_task = owner
            if robust:
                owner.hold_robust(f)
        self.futexes[name] = f
        return f

    def add_waiter(self, f: Futex, task: Task, timeout: int | None = None) -> Waiter:
        """task blocks in FUTEX_WAIT on f (glibc: pthread_mutex_lock / timedlock)."""
        w = Waiter(task, None if timeout is None else self.jiffies + timeout)
        f.waiters.append(w)
        f.history.append(w)
        task.waiting_on = f
        if f.owner_task is not None:
            f.word |= FUTEX_WAITERS
        if w.timeout_at is not None:
            self.add_timer(w.timeout_at, lambda: self._futex_timeout(f, w))
        return w

    def add_allocation(self, task: Task, rate: int, target: int, start: int = 0) -> Allocation:
        p = task.process
        mm = task.mm
        if mm is None:
            raise KernelError(f"task {task.tid} has no mm to allocate in")
        heap = next((v for v in mm.vmas if v.kind == "anon" and v.name == "[heap]"), None)
        if heap is None:
            base = max((v.end for v in mm.vmas if v.start < 0x7F0000000000), default=0x560000000000)
            heap = Vma(base, base + PAGE_SIZE, "anon", "[heap]", 0)
            self.add_vma(mm, heap)
        a = Allocation(task, rate, target, heap, start)
        p.alloc = a
        self.allocations.append(a)
        self.add_timer(start, lambda: arm_alloc(self))
        return a

    # ------------------------------------------------------------------ memory accounting
    def add_mm_counter(self, mm: MmStruct, member: str, value: int) -> None:
        """add_mm_counter() (include/linux/mm.h): `value` pages more in one of mm's rss_stat counters
        ("anon", "file", "shmem": MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES; "swapents": MM_SWAPENTS),
        and in what oom_badness() adds up for the processes using mm (select_bad_process's columns).
        Each counter by name, not setattr(): every mapping a scene builds comes through here."""
        if member == "anon":
            mm.anon += value
        elif member == "file":
            mm.file += value
        elif member == "shmem":
            mm.shmem += value
        elif member == "swapents":
            mm.swapents += value
        else:
            raise ValueError(f"no rss_stat counter {member!r}")
        if not self.badness.pages_deferred:
            self.badness.mm_pages(mm, value)

    def set_pgtables_bytes(self, mm: MmStruct, nbytes: int) -> None:
        """mm->pgtables_bytes (mm_inc_nr_ptes()/mm_dec_nr_ptes(); free_pgtables() at exit_mmap()) and
        the RAM its pages take; oom_badness() counts them too."""
        pages = nbytes // PAGE_SIZE - mm.pgtables_bytes // PAGE_SIZE
        self.used_pages += pages
        mm.pgtables_bytes = nbytes
        if not self.badness.pages_deferred:
            self.badness.mm_pages(mm, pages)

    def set_mm_flag(self, mm: MmStruct, flag: str) -> None:
        """set_bit(flag, &mm->flags). MMF_OOM_SKIP hides mm's processes from select_bad_process()."""
        if flag in mm.flags:
            return
        mm.flags = mm.flags | {flag}
        if flag == MMF_OOM_SKIP:
            self.badness.mm_oom_skip(mm)

    def free_pages(self) -> int:
        return self.ram_pages - self.used_pages

    def charge_pages(self, memcg: Cgroup, pages: int, *, global_pages: int) -> None:
        self.used_pages += global_pages
        if pages:
            for c in memcg.ancestors():
                c.usage += pages

    def try_charge(self, memcg: Cgroup, pages: int) -> Cgroup | None:
        """try_charge_memcg(): the lowest ancestor whose limit would be exceeded, else charge."""
        for c in memcg.ancestors():
            if c.limit is not None and c.usage + pages > c.limit:
                c.failcnt += 1
                return c
        return None

    def uncharge_pages(self, memcg: Cgroup, pages: int) -> None:
        """Freed anon pages leave RAM and their memcg (mem_cgroup_uncharge on the last folio_put)."""
        self.used_pages -= pages
        for cg in memcg.ancestors():
            cg.usage -= pages

    def pending_victims(self) -> list[Process]:
        """OOM victims whose mm lacks MMF_OOM_SKIP: each one blocks select_bad_process()."""
        return [p for p in self.victims if not p.released and "MMF_OOM_SKIP" not in p.oom_mm.flags]  # type: ignore[union-attr]

    # ------------------------------------------------------------------ allocation (page_alloc.py)
    def oom_blocked(self) -> int:
        """Jiffies during which some allocation was blocked by a pending OOM victim."""
        parked = self.jiffies - self.dormant_since if self.dormant_since is not None else 0
        return self.oom_blocked_jiffies + parked

    def kick(self) -> None:
        """After a user action: allocators retry (a thaw or kill may have unblocked them)."""
        if self.dormant_since is not None:
            self.oom_blocked_jiffies += self.jiffies - self.dormant_since
            self.dormant_since = None
        if self.allocations:
            arm_alloc(self)

    # ------------------------------------------------------------------ thread transitions
    def set_state(self, t: Task, state: str) -> None:
        if t.state != state:
            t.state = state
            self.emit(ev.ThreadState(t=self.jiffies, tid=t.tid, pid=t.process.pid, state=state))

    def _d_state_ends(self, t: Task) -> None:
        if t.state != DISK or t.d_until is None or t.d_until > self.jiffies:
            return
        held, t.dsleep = t.holds_mmap_lock, None
        if held and t.mm is not None and t.mm.mmap_lock_writer is t:
            t.mm.mmap_lock_writer = None
        self.set_state(t, t.resume_state)
        task_can_run(self, t)

    def _futex_timeout(self, f: Futex, w: Waiter) -> None:
        if w.outcome is None and w in f.waiters:
            f.waiters.remove(w)
            w.outcome, w.t = "timedout", self.jiffies
            w.task.waiting_on = None
            self.emit(ev.FutexEvent(t=self.jiffies, futex=f.name, tid=w.task.tid, outcome="timedout"))

    # ------------------------------------------------------------------ actions (one entry each)
    def process(self, pid: int) -> Process:
        p = self.pids.get(pid)
        if p is None:
            raise KernelError(f"no process with pid {pid}")
        return p

    def cgroup(self, path: str) -> Cgroup:
        c = self.cgroups.get(path)
        if c is None:
            raise KernelError(f"no cgroup {path}")
        return c

    def sysrq_oom(self, memcg: str | None = None) -> None:
        """sysrq-f (moom_callback): a manual OOM; with `memcg`, a memcg OOM as if a charge there failed."""
        if self.race is not None:
            self.race.current = None  # moom_callback() runs in a kworker
        out_of_memory(self, memcg=self.cgroup(memcg) if memcg and memcg != "/" else None,
                      current=None, sysrq=memcg in (None, "/"))
        self.kick()

    def kill(self, pid: int, sig: str = "SIGKILL") -> None:
        p = self.process(pid)
        self._user_action()
        send_signal(self, p, sig, reason="signal")
        self.kick()

    def freezer_target(self, path: str) -> Cgroup:
        """The cgroup a freezer.state / cgroup.freeze write goes to: it must have a freezer."""
        c = self.cgroup(path)
        if c.freezer is None:
            raise KernelError(f"cgroup {c.path} has no freezer")
        return c

    def freeze(self, path: str) -> None:
        cg = self.freezer_target(path)
        self._user_action()
        freeze_cgroup(self, cg, True)
        self.kick()

    def thaw(self, path: str) -> None:
        cg = self.freezer_target(path)
        self._user_action()
        freeze_cgroup(self, cg, False)
        self.kick()

    def move(self, pid: int, path: str, hierarchy: str | None = None) -> None:
        """echo PID > cgroup.procs: cgroup_migrate() of the whole thread group into `path`, on the
        hierarchy that cgroup is on (the memory one, or the freezer's own; `hierarchy` names it, which
        only "/" needs). A write the kernel refuses (EBUSY, ENOMEM) is a CgroupMove with its errno:
        nothing moves."""
        p = self.process(pid)
        cg = self.move_target(path, hierarchy)
        if not p.alive:
            raise KernelError(f"{p.comm} ({pid}) has exited: there is no task to move")
        if cg.memory:
            if p.freezer_cg is not None and any(c.freezer for c in cg.ancestors()):
                raise KernelError(f"{path} has a freezer, and {p.comm} ({pid}) is in {p.freezer_cg.path} "
                                  "on the freezer's own hierarchy: a task has one freezer")
        elif any(c.freezer for c in p.cgroup.ancestors()):
            raise KernelError(f"{p.comm} ({pid}): its cgroup {p.cgroup.path} has a freezer already")
        self._user_action()
        mm = p.init_mm
        moves_mm = cg.memory and mm is not None and mm.owner_pid == pid and mm.memcg is not cg
        flags = self.move_charge_flags(cg) if moves_mm else 0
        mc = mem_cgroup_count_precharge(self, mm, cg, flags) if flags else None  # type: ignore[arg-type]
        errno = None
        if self.internal_process(cg):
            errno = "EBUSY"
        elif mc is not None and self.try_charge(cg, mc.precharge) is not None:
            # mem_cgroup_can_attach() -> mem_cgroup_precharge_mc(): the destination is charged for every
            # page first, before `from` lets go; a limit it would pass, even on an ancestor both share,
            # fails the attach and the write with ENOMEM. mem_cgroup_do_precharge() tries in bulk without
            # direct reclaim, then page by page with reclaim but __GFP_NORETRY (no OOM kill): the model
            # has nothing reclaim could free (no page cache, no swap-out: a charge over a limit goes
            # straight to the OOM path, page_alloc.py), so the bulk attempt decides
            errno = "ENOMEM"
        hierarchy = "memory" if cg.memory else "freezer"
        # on the freezer's own hierarchy a task in none of its cgroups is in its root
        here = p.cgroup if cg.memory else p.freezer_cg or self.freezer_root
        assert here is not None
        if errno is not None:
            self.emit(ev.CgroupMove(t=self.jiffies, pid=pid, comm=p.comm, cgroup=cg.path, hierarchy=hierarchy,
                                    from_cgroup=here.path, left_kb=0, errno=errno))
            return
        left = moved = moved_swap = 0
        # css_set_move_task(): off the old css_set onto the tail of the new one. A css_set is the
        # cgroups of every hierarchy, so a move on any of them sends the task to the end of its
        # memcg's scan order (kernel-model.md 11.5)
        if not cg.memory:
            self.css_set_move_task(p, p.cgroup, p.cgroup)
            self._attach_freezer(p, cg)
        else:
            self.css_set_move_task(p, p.cgroup, cg)
            p.cgroup = cg
            if moves_mm:
                assert mm is not None
                if mc is not None:
                    moved, moved_swap = mem_cgroup_move_charge(self, mm, mc)
                if mc is None or not mc.swap:
                    leave_swap_behind(self, mm, cg)
                if not flags & MOVE_ANON:
                    # What is charged stays charged where it was: cgroup v2 never moves charges
                    # (cgroup-v2.rst: "stays charged to the cgroup until the area is released"), nor v1
                    # without memory.move_charge_at_immigrate's bit 0, gone in 6.13. New charges follow
                    # mm->owner's memcg (get_mem_cgroup_from_mm()). Pages left behind by an earlier move
                    # stay where they are.
                    for v in mm.vmas:
                        n = v.rss - self.precharged_pages(v) if v.is_anonymous else 0
                        if n:
                            self.precharged.setdefault(v, []).append([mm.memcg, n])
                            left += n
                mm.memcg = cg
        freezer_migrate(self, p)  # the new cgroup's freezer state (a co-mounted or v2 one moves with it)
        self.emit(ev.CgroupMove(t=self.jiffies, pid=pid, comm=p.comm, cgroup=cg.path, hierarchy=hierarchy,
                                from_cgroup=here.path, left_kb=left * PAGE_SIZE // 1024,
                                moved_kb=moved * PAGE_SIZE // 1024, moved_swap_kb=moved_swap * PAGE_SIZE // 1024))
        self.kick()

    def move_target(self, path: str, hierarchy: str | None = None) -> Cgroup:
        """The cgroup a move into `path` goes to; "/" is the memory hierarchy's root unless
        `hierarchy` is "freezer" (the v1 freezer's own root: no freezer.state, never frozen)."""
        if hierarchy == "freezer" and path == "/":
            if self.freezer_root is None:
                raise KernelError('there is no freezer hierarchy of its own (cgroups with hierarchy = "freezer")')
            return self.freezer_root
        cg = self.cgroup(path)
        if hierarchy is not None and cg.memory != (hierarchy == "memory"):
            raise KernelError(f"cgroup {path} is not on the {hierarchy} hierarchy")
        return cg

    def internal_process(self, cg: Cgroup) -> bool:
        """cgroup v2's no-internal-process rule: a process may not join a cgroup with domain controllers
        enabled for its children (cgroup_migrate_vet_dst(): `if (dst_cgrp->subtree_control) return
        -EBUSY`; the root is mixable, exempt; cgroup-v2.rst "No Internal Process Constraint"). Each cgroup
        of the model's v2 hierarchy is a memcg, so a parent's cgroup.subtree_control has +memory."""
        return not self.memcg_v1 and cg.memory and cg.parent is not None and bool(cg.children)

    def move_charge_flags(self, cg: Cgroup) -> int:
        """What a task moving into `cg` brings of its charges: v1 memory.move_charge_at_immigrate there
        (MOVE_ANON, MOVE_FILE), in an era that still moves them (version.py), else 0.
        mem_cgroup_can_attach() reads the destination's value and moves only for the mm's owner."""
        if self.memcg_v1 and self.policy.version.moves_charge_at_immigrate:
            return cg.move_charge
        return 0

    def _attach_freezer(self, p: Process, cg: Cgroup) -> None:
        """Into a cgroup of the freezer's own hierarchy."""
        self.css_set_move_task(p, p.freezer_cg, cg)
        p.freezer_cg = cg

    def css_set_move_task(self, p: Process, frm: Cgroup | None, to: Cgroup | None, at: int | None = None) -> None:
        """css_set_move_task(): p off `frm`'s members (None: a new task), onto the tail of `to`'s (None: it
        exits), or at index `at` (`oomtui watch` keeps pid order). Cgroup.members is the css_set order
        mem_cgroup_scan_tasks() walks; select_bad_process()'s columns keep it as rows beside it."""
        if frm is not None:
            i = frm.members.index(p)
            del frm.members[i]
            self.badness.css_set_del(frm, i)
        if to is not None:
            at = len(to.members) if at is None else at
            to.members.insert(at, p)
            self.badness.css_set_add(to, at, p)
        if self.memcg_oom_tables:  # memcgs whose mem_cgroup_scan_tasks() (css_task_iter) walks this css_set
            for cg in (frm, to):
                for a in cg.ancestors() if cg is not None else ():
                    self.memcg_oom_tables.pop(a, None)

    def cgroup_exit(self, p: Process) -> None:
        """cgroup_exit() of an exited process: off its css_sets, out of memcg scans; its row of
        select_bad_process()'s columns goes."""
        if self.badness.row(p) >= 0:  # not yet gone (a row lives from add_process() to here)
            self.css_set_move_task(p, p.cgroup, None)
            if p.freezer_cg is not None:
                self.css_set_move_task(p, p.freezer_cg, None)
        self.badness.release(p)

    def precharged_pages(self, vma: Vma) -> int:
        """Pages of `vma` still charged to a memcg its mm has left."""
        return sum(n for _, n in self.precharged.get(vma, ()))

    def uncharge_owners(self, mm: MmStruct, vma: Vma, pages: int) -> list[tuple[Cgroup, int]]:
        """Whose charge `pages` freed pages of `vma` drop (each folio uncharges the memcg it was charged
        to, folio_memcg()): first what was charged before a move (the heap grows up, so those are its
        lowest pages, which unmap_page_range() reaches first), then the mm's memcg."""
        segs = self.precharged.get(vma)
        if not segs:
            return [(mm.memcg, pages)]
        out = take_pages(segs, pages)
        if not segs:
            del self.precharged[vma]
        rest = pages - sum(n for _, n in out)
        return out + [(mm.memcg, rest)] if rest else out

    def process_mrelease(self, pid: int, flags: int = 0, caller: int | None = None) -> None:
        self._user_action()
        process_mrelease(self, pid, flags, caller)
        self.kick()

    def _user_action(self) -> None:
        """Race trials: a system call of the scene's killer thread, on its CPU, now."""
        if self.race is not None:
            self.race.user_action(self.jiffies, self.sub)

    def write_oom_score_adj(self, p: Process, adj: int) -> None:
        """p->signal->oom_score_adj = adj: the one writer of it (and of its column)."""
        p.oom_score_adj = adj
        self.badness.set_adj(p)

    def set_task_mm(self, t: Task, mm: MmStruct | None) -> None:
        """task->mm: copy_mm() gives a new thread its process's mm, exit_mm() takes it away. Process.mm
        follows: find_lock_task_mm()'s mm (the first thread's that has one: each has init_mm or none)."""
        t.mm = mm
        p = t.process
        if mm is None:
            mm = next((th.mm for th in p.threads if th.mm is not None), None)
        if p.mm is not mm:
            p.mm = mm
            self.badness.set_mm(p)

    def set_oom_score_adj(self, pid: int, adj: int) -> None:
        """__set_oom_adj(): per signal_struct, and every other process sharing the mm too (skipping
        kthreads, global init and vfork children) where the era does that (version.py)."""
        if not -1000 <= adj <= 1000:
            raise KernelError(f"oom_score_adj {adj} out of range -1000..1000")
        p = self.process(pid)
        targets = [p]
        mm = p.mm
        if mm is not None and self.policy.version.oom_adj_follows_shared_mm:
            targets += [q for q in mm.procs if q is not p and q.alive and q.mm is mm and not q.kthread
                        and not q.is_init and not q.in_vfork]
        for q in targets:
            self.write_oom_score_adj(q, adj)
            self.emit(ev.AdjChanged(t=self.jiffies, pid=q.pid, oom_score_adj=adj))

    def set_policy(self, policy: Policy) -> None:
        """Applies to decisions made after the change (timers already armed keep their expiry)."""
        self.policy = policy
        self.emit(ev.PolicyChanged(t=self.jiffies, policy=policy.id))

    # ------------------------------------------------------------------ queries
    @property
    def do_swap_account(self) -> bool:
        """The memcgs' swap counters (v1 memsw: do_memsw_account(); v2 swap) are charged: do_swap_account before
        5.8, !cgroup_memory_noswap 5.8 - 6.1; swapaccount=0 is ignored from 6.2 (KernelVersion.swapaccount_optional).
        Read per call: a policy switch to another era honours or ignores the boot option as that era does."""
        return self.swapaccount or not self.policy.version.swapaccount_optional

    def totalpages_global(self) -> int:
        """totalram_pages() + total_swap_pages (CONSTRAINT_NONE, and /proc/PID/oom_score)."""
        return self.ram_pages + self.swap_pages

    def oom_score(self, pid: int) -> int:
        return proc_oom_score_of(self, self.process(pid))

