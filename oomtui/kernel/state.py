"""Kernel objects, named after their C counterparts: task_struct, signal_struct (Process),
mm_struct, vm_area_struct, mem_cgroup/freezer cgroup, futexes.

Plain slotted classes: the engine mutates them; front ends only read them.
"""

from __future__ import annotations

from bisect import insort
from operator import attrgetter
from typing import Literal

from .page_types import PAGE_SIZE

# --- mm flags (include/linux/sched/coredump.h, mm_types.h) ------------------
MMF_OOM_SKIP = "MMF_OOM_SKIP"
MMF_OOM_REAP_QUEUED = "MMF_OOM_REAP_QUEUED"
MMF_UNSTABLE = "MMF_UNSTABLE"
MMF_MULTIPROCESS = "MMF_MULTIPROCESS"
NO_FLAGS: frozenset[str] = frozenset()

# --- futex word bits (include/uapi/linux/futex.h) ---------------------------
FUTEX_WAITERS = 0x80000000
FUTEX_OWNER_DIED = 0x40000000
FUTEX_TID_MASK = 0x3FFFFFFF
ROBUST_LIST_LIMIT = 2048

VmaKind = Literal["anon", "stack", "file", "shared_file", "shmem", "hugetlb", "pfnmap"]

# Thread states as the model tracks them; display letters in STATE_LETTER.
RUNNING, SLEEPING, DISK, FROZEN, STOPPED_V2, EXITING, ZOMBIE = (
    "running", "sleeping", "disk", "frozen", "frozen_v2", "exiting", "zombie",
)
STATE_LETTER = {
    RUNNING: "R", SLEEPING: "S", DISK: "D", FROZEN: "FROZEN v1", STOPPED_V2: "FROZEN v2",
    EXITING: "EXITING", ZOMBIE: "ZOMBIE",
}


class ShmObject:
    """A tmpfs/memfd/SysV segment: its pages outlive any one mapping (the reaper never touches them)."""

    __slots__ = ("name", "pages", "charges")

    def __init__(self, name: str, pages: int, memcg: "Cgroup"):
        self.name = name
        self.pages = pages
        # [memcg, pages] in offset order: all charged to the memcg that created it, until v1's
        # move_charge_at_immigrate moves some (memcontrol_v1.py)
        self.charges: list[list] = [[memcg, pages]] if pages else []


class Vma:
    # 8 slots, 96 bytes: mlock and a [[shm]] object are rare, so a mapping with either is a _VmaMore, the
    # others read the class defaults (10 slots made each of the 700 000 mappings of 100 000 processes 112)
    __slots__ = ("start", "end", "kind", "_name", "rss", "swap", "stack_of", "zapped")
    locked = False  # VM_LOCKED (mlock)
    shm: ShmObject | None = None

    def __new__(cls, *args, locked: bool = False, shm: ShmObject | None = None, **kwargs):
        return object.__new__(_VmaMore if locked or shm is not None else cls)

    def __init__(self, start: int, end: int, kind: VmaKind, name: str | None, rss: int, swap: int = 0, *,
                 locked: bool = False, shm: ShmObject | None = None, stack_of: int | None = None):
        self.start = start
        self.end = end
        self.kind = kind
        self._name = name  # None: a thread's stack, named when read (see name)
        self.rss = rss  # resident pages of this mapping
        self.swap = swap  # swap entries (private anon only)
        if locked or shm is not None:
            self.locked, self.shm = locked, shm
        self.stack_of = stack_of  # tid whose stack/TLS (and glibc robust list head) lives here
        self.zapped = False  # race trials: when the walk finished it is Races.zapped_at

    @property
    def name(self) -> str:
        """What /proc/PID/maps shows. A thread stack's "[stack:TID]" (as maps named it before 4.5) is
        made when read, not stored: a scene of 500 000 threads has as many stacks."""
        n = self._name
        return n if n is not None else f"[stack:{self.stack_of}]"

    @property
    def pages(self) -> int:
        return (self.end - self.start) // PAGE_SIZE

    @property
    def is_anonymous(self) -> bool:
        """vma_is_anonymous(): private anonymous memory (heap, stacks, TLS)."""
        return self.kind in ("anon", "stack")

    @property
    def shared(self) -> bool:
        """VM_SHARED: MAP_SHARED file or shmem/memfd/MAP_SHARED|MAP_ANONYMOUS."""
        return self.kind in ("shared_file", "shmem")

    @property
    def counter(self) -> str | None:
        """Which rss counter the resident pages of this mapping are in (mm_counter())."""
        if self.kind in ("anon", "stack"):
            return "anon"
        if self.kind in ("file", "shared_file"):
            return "file"
        if self.kind == "shmem":
            return "shmem"
        return None  # hugetlb and pfnmap pages are not in the rss counters


class _VmaMore(Vma):
    """A mapping that is mlock()ed or maps a [[shm]] object."""

    __slots__ = ("locked", "shm")


_START = attrgetter("start")


class MmStruct:
    __slots__ = ("id", "vmas", "mm_users", "flags", "anon", "file", "shmem", "swapents",
                 "pgtables_bytes", "memcg", "mmap_lock_writer", "owner_pid", "procs", "total_vm")

    def __init__(self, mm_id: int, memcg: "Cgroup", pgtables_bytes: int):
        self.id = mm_id
        self.vmas: list[Vma] = []  # sorted by start
        self.mm_users = 0
        # MMF_* bits, set only with Kernel.set_mm_flag(): a shared empty frozenset until the first (most
        # of 100 000 mms never get one)
        self.flags: frozenset[str] = NO_FLAGS
        # the rss_stat counters (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS) and page tables:
        # written only by Kernel.add_mm_counter and Kernel.set_pgtables_bytes
        self.anon = 0
        self.file = 0
        self.shmem = 0
        self.swapents = 0
        self.pgtables_bytes = pgtables_bytes
        self.memcg = memcg  # where private pages are charged (mm->owner's memcg)
        self.mmap_lock_writer: "Task | None" = None
        self.owner_pid = 0
        self.procs: list[Process] = []  # every process created with this mm (CLONE_VM sharers), in order
        self.total_vm = 0  # pages mapped (sum of VMA sizes)

    @property
    def rss(self) -> int:
        return self.anon + self.file + self.shmem

    @property
    def badness_pages(self) -> int:
        """What oom_badness() adds up: get_mm_rss() + MM_SWAPENTS + mm_pgtables_bytes() / PAGE_SIZE."""
        return self.anon + self.file + self.shmem + self.swapents + self.pgtables_bytes // PAGE_SIZE

    def add_vma(self, vma: Vma) -> None:
        """Into the mapping tree (its pages are counted by Kernel.add_vma)."""
        insort(self.vmas, vma, key=_START)  # after any mapping at the same start, as a stable sort put it
        self.total_vm += vma.pages


class Cgroup:
    """A cgroup node: memory controller (limit, usage, memory.oom.group) and a freezer (v1 or v2).
    The memory hierarchy (cgroup v2's unified one, or v1's with the memory controller, maybe co-mounted
    with the freezer) is Kernel.root's tree; a v1 freezer mounted on a hierarchy of its own is a second
    tree (Kernel.freezer_root), whose cgroups have no memory controller (`memory` False)."""

    __slots__ = ("path", "parent", "children", "limit", "usage", "oom_group", "freezer",
                 "freeze_self", "members", "failcnt", "memory", "move_charge", "memsw_max", "swap_max")

    def __init__(self, path: str, parent: "Cgroup | None", limit: int | None = None,
                 oom_group: bool = False, freezer: str | None = None, memory: bool = True):
        self.path = path
        self.parent = parent
        self.memory = memory  # on the memory controller's hierarchy
        self.children: list[Cgroup] = []
        self.limit = limit  # pages, None = max
        # the swap limits mem_cgroup_get_max() reads (Kernel.add_cgroup), pages: v1's memory.memsw.limit_in_bytes
        # (None: the memory limit, no swap headroom) and v2's memory.swap.max (0: no swap); PAGE_COUNTER_MAX = max
        self.memsw_max: int | None = None
        self.swap_max = 0
        self.usage = 0  # pages charged (hierarchical: includes descendants)
        self.oom_group = oom_group
        self.freezer = freezer  # None, "v1" or "v2"
        self.freeze_self = False  # freezer.state=FROZEN (v1) / cgroup.freeze=1 (v2) written here
        self.members: list[Process] = []  # css_set order: join order, a moved task goes to the end
        # (on a freezer-only hierarchy: the processes attached there, for freezer.state)
        self.failcnt = 0
        # v1 memory.move_charge_at_immigrate: what a task moving in brings of its charges, bit 0
        # (MOVE_ANON) its anonymous pages and their swap, bit 1 (MOVE_FILE) the file and shmem pages it
        # maps (Kernel.move, memcontrol_v1.py)
        self.move_charge = 0

    def ancestors(self):
        c: Cgroup | None = self
        while c is not None:
            yield c
            c = c.parent

    def subtree(self):
        """mem_cgroup_iter() pre-order: this memcg first, then its descendants."""
        yield self
        for ch in self.children:
            yield from ch.subtree()

    def is_descendant_of(self, other: "Cgroup") -> bool:
        return any(c is other for c in self.ancestors())

    def v1_freezing(self) -> bool:
        """cgroup_freezing(): this cgroup or an ancestor has CGROUP_FREEZING (v1 legacy freezer)."""
        return any(c.freezer == "v1" and c.freeze_self for c in self.ancestors())

    def v2_frozen(self) -> bool:
        return any(c.freezer == "v2" and c.freeze_self for c in self.ancestors())


class DSleep:
    """A thread's uninterruptible sleep (state D): when it ends, and what it holds meanwhile."""

    __slots__ = ("until", "holds_mmap_lock", "killable")

    def __init__(self, until: int | None, holds_mmap_lock: bool, killable: bool):
        self.until = until  # jiffy at which it ends; None: forever
        self.holds_mmap_lock = holds_mmap_lock  # holds mmap_lock for write while in D
        self.killable = killable  # TASK_KILLABLE: a fatal signal ends it


class Task:
    """task_struct: one thread."""

    __slots__ = ("tid", "process", "state", "pf_exiting", "tif_memdie", "mm", "robust_list",
                 "robust_held", "waiting_on", "dsleep", "exit_latency", "resume_state")

    def __init__(self, tid: int, process: "Process", state: str, robust_list: bool, exit_latency: int):
        self.tid = tid
        self.process = process
        self.state = state
        self.pf_exiting = False
        self.tif_memdie = False
        self.mm: MmStruct | None = None
        self.robust_list = robust_list  # set_robust_list() registered (glibc does it for every thread)
        # robust futexes on this thread's robust list, in lock order; glibc's ENQUEUE_MUTEX inserts at the
        # head, so exit_robust_list() walks them newest first. A shared empty tuple until the thread
        # takes one (hold_robust): most of 500 000 threads never do
        self.robust_held: list[Futex] | tuple[()] = ()
        self.waiting_on: Futex | None = None
        self.dsleep: DSleep | None = None  # a thread in D only (one slot, not three, on 500 000 threads)
        self.exit_latency = exit_latency  # jiffies from wake-up with SIGKILL to futex_cleanup()
        self.resume_state = state  # what a thawed/undisturbed thread goes back to

    def hold_robust(self, f: "Futex") -> None:
        """glibc's ENQUEUE_MUTEX: f, just locked, joins this thread's robust list."""
        if not self.robust_held:
            self.robust_held = []
        self.robust_held.append(f)  # type: ignore[union-attr]

    @property
    def d_until(self) -> int | None:
        """Jiffy at which its uninterruptible sleep ends (None: forever, or no such sleep)."""
        return self.dsleep.until if self.dsleep is not None else None

    @property
    def holds_mmap_lock(self) -> bool:
        return self.dsleep is not None and self.dsleep.holds_mmap_lock

    @property
    def killable(self) -> bool:
        return self.dsleep is not None and self.dsleep.killable

    @property
    def alive(self) -> bool:
        return self.state != ZOMBIE

    @property
    def letter(self) -> str:
        return STATE_LETTER[self.state]


class Process:
    """A thread group: signal_struct (oom_score_adj, SIGNAL_GROUP_EXIT, oom_mm) plus its threads."""

    __slots__ = ("pid", "comm", "uid", "parent", "children", "threads", "cgroup", "oom_score_adj",
                 "oom_score_adj_min", "group_exit", "oom_mm", "is_init", "kthread", "in_vfork",
                 "core_dumping", "handles_sigterm", "alloc", "exited_at", "order", "killed_at",
                 "kill_reason", "init_mm", "released", "cap_sys_admin", "freezer_cg", "mm", "slot")

    def __init__(self, pid: int, comm: str, cgroup: Cgroup, oom_score_adj: int = 0, uid: int = 0):
        self.pid = pid
        self.comm = comm
        self.uid = uid
        self.parent: Process | None = None
        self.children: list[Process] | tuple[()] = ()  # a shared empty tuple until adopt()
        self.threads: list[Task] = []
        self.cgroup = cgroup
        self.oom_score_adj = oom_score_adj
        self.oom_score_adj_min = oom_score_adj
        self.group_exit = False  # SIGNAL_GROUP_EXIT: set synchronously when a fatal signal is sent
        self.oom_mm: MmStruct | None = None  # signal->oom_mm, set by mark_oom_victim, never cleared
        self.is_init = False
        self.kthread = False
        self.in_vfork = False
        self.core_dumping = False
        self.handles_sigterm = True
        self.alloc: Allocation | None = None
        self.exited_at: int | None = None
        self.order = 0  # position in the global task list (creation order)
        self.killed_at: int | None = None
        self.kill_reason: str | None = None
        self.init_mm: MmStruct | None = None  # the mm its threads get at creation
        self.released = False  # a zombie reaped by its parent: gone from the task list
        self.cap_sys_admin = False  # has_capability_noaudit(p, CAP_SYS_ADMIN): the root bonus before 4.17
        self.freezer_cg: Cgroup | None = None  # its cgroup on a v1 freezer hierarchy of its own
        # find_lock_task_mm()'s mm, kept as threads get and lose theirs (Kernel.set_task_mm)
        self.mm: MmStruct | None = None
        # its row in select_bad_process()'s columns (oom_kill.BadnessInputs.row: none once it exited)
        self.slot = -1

    @property
    def freezer_cgroup(self) -> Cgroup:
        """task_freezer(): the cgroup whose freezer applies; without a freezer hierarchy of its own,
        its cgroup (cgroup v2, or the freezer co-mounted with the memory controller)."""
        return self.freezer_cg or self.cgroup

    def adopt(self, child: "Process") -> None:
        """child joins this process's children (copy_process(): list_add_tail(&p->sibling, ...))."""
        if not self.children:
            self.children = []
        self.children.append(child)  # type: ignore[union-attr]

    @property
    def leader(self) -> Task:
        return self.threads[0]

    @property
    def alive(self) -> bool:
        return self.exited_at is None

    def find_lock_task_mm(self) -> Task | None:
        """find_lock_task_mm(): the first thread (list order) that still has an mm."""
        for t in self.threads:
            if t.mm is not None:
                return t
        return None


class Allocation:
    """A thread that faults in memory at `rate` pages per jiffy until it has added `target` pages."""

    __slots__ = ("task", "rate", "remaining", "vma", "start", "blocked_since", "failed")

    def __init__(self, task: Task, rate: int, remaining: int, vma: Vma, start: int):
        self.task = task
        self.rate = rate
        self.remaining = remaining
        self.vma = vma
        self.start = start
        self.blocked_since: int | None = None  # OOM aborted on a pending victim since this jiffy
        self.failed = False  # charge failed for good (memcg OOM with nothing to kill)


class Waiter:
    __slots__ = ("task", "timeout_at", "outcome", "t")

    def __init__(self, task: Task, timeout_at: int | None):
        self.task = task
        self.timeout_at = timeout_at
        self.outcome: str | None = None  # eownerdead | acquired | timedout | hung
        self.t: int | None = None


class Futex:
    """A futex word. `shm` set: in a MAP_SHARED object (the reaper never zaps it); else in `vma`
    of a private mapping."""

    __slots__ = ("name", "word", "robust", "shm", "vma", "waiters", "history", "owner_task")

    def __init__(self, name: str, robust: bool, shm: ShmObject | None, vma: Vma | None):
        self.name = name
        self.word = 0
        self.robust = robust
        self.shm = shm
        self.vma = vma
        self.waiters: list[Waiter] = []  # FIFO; still waiting
        self.history: list[Waiter] = []  # every waiter ever, for outcomes
        self.owner_task: Task | None = None

    @property
    def owner_tid(self) -> int:
        return self.word & FUTEX_TID_MASK

    @property
    def owner_died(self) -> bool:
        return bool(self.word & FUTEX_OWNER_DIED)
