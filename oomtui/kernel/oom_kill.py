"""mm/oom_kill.c: out_of_memory, select_bad_process, oom_kill_process, mark_oom_victim,
queue_oom_reaper, the oom_reaper kthread and process_mrelease(2).

Section numbers refer to ../shared/kernel-model.md.
"""

from __future__ import annotations

import heapq
from array import array
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING

from ..gc_pause import gc_paused
from . import dmesg
from . import events as ev
from .exit import send_signal
from .freezer import thaw_task
from .memory import ZapJob, start_zap
from .oom_badness import (
    LONG_MIN,
    OOM_SCORE_ADJ_MIN,
    badness_column,
    badness_rule,
    oom_badness_era,
    printed_kill_score,
    proc_oom_score,
    root_bonus,
    scaled_score,
)
from .page_types import KB_PER_PAGE, PAGE_SIZE
from .state import MMF_OOM_REAP_QUEUED, MMF_OOM_SKIP, MMF_UNSTABLE, ZOMBIE, Cgroup, MmStruct, Process, Task

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .core import Kernel
    from .version import KernelVersion

MAX_OOM_REAP_RETRIES = 10
PAGE_COUNTER_MAX = (2**63 - 1) // PAGE_SIZE  # LONG_MAX / PAGE_SIZE
SYSRQ_COMM, SYSRQ_PID = "kworker/0:1", 13
TOP_CANDIDATES = 20  # how many candidates an OomSelected event carries


# ---------------------------------------------------------------- eligibility and badness (1.1, 1.2)
def oom_unkillable_task(p: Process) -> bool:
    """is_global_init() or PF_KTHREAD."""
    return p.is_init or p.kthread


def process_badness(k: "Kernel", p: Process, totalpages: int) -> tuple[int | None, str]:
    """oom_badness(): (points, "") or (None, why it is not eligible), by the rules of the kernel's era
    (oom_badness_era, the CAP_SYS_ADMIN bonus before 4.17 included)."""
    mm = p.mm  # find_lock_task_mm()'s mm, kept as threads get and lose theirs (Kernel.set_task_mm)
    if mm is None:
        return None, "no mm: every thread passed exit_mm"
    reason = _ineligible(badness_flags(p, mm))
    if reason is not None:
        return None, reason
    return oom_badness_era(mm.badness_pages, p.oom_score_adj, totalpages, k.policy.version, cap_sys_admin=p.cap_sys_admin), ""


def proc_oom_score_of(k: "Kernel", p: Process) -> int:
    """/proc/PID/oom_score (1.4): always against the global totalpages."""
    total = k.totalpages_global()
    if oom_unkillable_task(p):
        points, _ = None, ""
    else:
        points, _ = process_badness(k, p, total)
    v = k.policy.version
    if points is None:
        return proc_oom_score(LONG_MIN if v.signed_badness else 0, total, v)
    return proc_oom_score(points, total, v)


# ---------------------------------------------------------------- the OOM control (oom_control)
class OomControl:
    __slots__ = ("memcg", "current", "sysrq", "totalpages", "constraint", "chosen", "chosen_points",
                 "candidates")

    def __init__(self, memcg: Cgroup | None, current: Task | None, sysrq: bool, totalpages: int):
        self.memcg = memcg
        self.current = current
        self.sysrq = sysrq
        self.totalpages = totalpages
        self.constraint = "CONSTRAINT_MEMCG" if memcg is not None else "CONSTRAINT_NONE"
        self.chosen: Process | None = None
        self.chosen_points = 0
        self.candidates: list[ev.Candidate] = []

    @property
    def message(self) -> str:
        return "Memory cgroup out of memory" if self.memcg is not None else "Out of memory"


def constrained_alloc(k: "Kernel", memcg: Cgroup | None) -> int:
    """totalpages (1.3): mem_cgroup_get_max() for a memcg OOM (PAGE_COUNTER_MAX when unlimited),
    else totalram + total swap."""
    if memcg is None:
        return k.totalpages_global()
    return max(mem_cgroup_get_max(k, memcg), 1)


def mem_cgroup_get_max(k: "Kernel", memcg: Cgroup) -> int:
    """mm/memcontrol.c mem_cgroup_get_max() (mem_cgroup_get_limit() before 4.18's "mm: rename page_counter's
    count/limit into usage/max", <20180405185921.4942-1-guro@fb.com>): the memory limit plus the swap the memcg may
    still use, capped at total_swap_pages, when mem_cgroup_swappiness() is not 0 (the model has no per-memcg
    swappiness: its default, 60).

    Its shapes: 2.6.37 - 4.4 `min(limit + total_swap_pages, memsw limit)` (bytes of res_counter until 3.19's
    page_counter; 2.6.36 added pages to bytes, fixed by 2.6.37's "memcg: fix unit mismatch in memcg oom limit
    calculation": a "2.6" scene names no minor release, so it is not modelled); 4.5 "mm: memcontrol: charge swap
    to cgroup2" caps the swap at swap.max too: `min(max + min(swap.max, total_swap_pages), memsw.max)`; 5.10's
    "mm/memcg: Simplify mem_cgroup_get_max()" (Waiman Long) `max + min(swap.max, total)` on v2, `max +
    min(memsw.max - max, total)` on v1, and 6.2 picks the branch by do_memsw_account() rather than the
    hierarchy. They give the same pages: v1 never sets swap.max and v2 never memsw.max (PAGE_COUNTER_MAX), and
    memsw.max is never below memory.max (mem_cgroup_resize_max() says EINVAL). What changes with the era is
    only v2 before 4.5, which had no swap limit: all of swap counts, as it does without swap accounting (the
    limit files are hidden: memsw.max and swap.max stay PAGE_COUNTER_MAX)."""
    limit = PAGE_COUNTER_MAX if memcg.limit is None else memcg.limit
    if not k.do_swap_account or not k.memcg_v1 and not k.policy.version.has_memcg_swap_max:
        return limit + k.swap_pages
    if k.memcg_v1:  # v1: the swap headroom is memsw.max - memory.max; the scene's default is none
        memsw = limit if memcg.memsw_max is None else memcg.memsw_max
        return limit + min(memsw - limit, k.swap_pages)
    return limit + min(memcg.swap_max, k.swap_pages)


def scan_order(k: "Kernel", memcg: Cgroup | None):
    """for_each_process (creation order) or mem_cgroup_scan_tasks (each memcg of the subtree in
    pre-order, its tasks in css_set membership order; kernel-model.md 11.5)."""
    if memcg is None:
        yield from k.tasklist
    elif k.race is None:
        for cg in memcg.subtree():
            yield from cg.members
    else:
        for cg in memcg.subtree():
            yield from (p for p in cg.members if not css_task_iter_skips(p))


def scan_rows(k: "Kernel", memcg: Cgroup) -> "tuple[Sequence[int], list[Sequence[int]]]":
    """mem_cgroup_scan_tasks()'s order (scan_order) as rows of the kernel's columns, and the same rows as runs
    to read the columns by: for each memcg of the subtree (mem_cgroup_iter(), pre-order), its css_set as
    BadnessInputs.members keeps it, a range when its rows are one ascending run (slices of the columns), else
    the rows themselves (read one by one). A subtree of memcgs whose runs continue each other is one range."""
    if k.race is not None:  # race trials: css_task_iter_skips() reads the threads (small scenes)
        rows = array("q", [p.slot for p in scan_order(k, memcg)])
        return rows, [rows] if rows else []
    inputs = k.badness
    parts: list[array[int]] = []  # each memcg's member rows
    runs: list[Sequence[int]] = []
    # mm/memcontrol.c mem_cgroup_scan_tasks(): for_each_mem_cgroup_tree() (mem_cgroup_iter(), pre-order), each
    # memcg's css_task_iter (CSS_TASK_ITER_PROCS) calling oom_evaluate_task() per task
    for cg in memcg.subtree():
        rows = inputs.members.get(cg)
        if rows:
            parts.append(rows)
            runs.append(range(rows[0], rows[0] + len(rows)) if cg in inputs.consecutive else rows)
    if not runs:
        return range(0), []
    if all(isinstance(r, range) for r in runs) and all(a.stop == b.start for a, b in zip(runs, runs[1:])):
        one = range(runs[0].start, runs[-1].stop)  # type: ignore[union-attr]
        return one, [one]
    if len(parts) == 1:
        return runs[0], runs
    joined = array("q")
    for rows in parts:
        joined += rows  # a copy of each memcg's rows, not a walk of them
    return joined, runs


def css_task_iter_skips(p: Process) -> bool:
    """Race trials: mem_cgroup_scan_tasks() iterates CSS_TASK_ITER_PROCS, and css_task_iter_advance()
    skips "dying leaders w/o live member threads" (kernel/cgroup/cgroup.c, 4.x-6.18 as read; UNCONFIRMED
    on 6.18 itself). Once the leader passed cgroup_exit() and every thread passed do_exit()'s
    signal->live decrement, a memcg OOM scan no longer sees the process, even while its last thread
    still unmaps its memory in exit_mmap(): nothing aborts the scan, and the allocator or another
    process is killed (the lab's frozen-victim: the trigger killed too, its memcg still full of the
    victim's pages). Which thread exits last is decided below a jiffy, so whole-jiffy runs keep a
    process on the css_set until its last thread is gone (their output stays what it was)."""
    return p.leader.state == ZOMBIE and all(t.pf_exiting for t in p.threads)


def first_pending_victim(k: "Kernel", oc: OomControl) -> Process | None:
    """Where select_bad_process() would abort: the first process in scan order that is an OOM
    victim (signal->oom_mm set) whose mm lacks MMF_OOM_SKIP. Found without walking every task."""
    if oc.sysrq:
        return None  # oom_evaluate_task: `if (!is_sysrq_oom(oc) && tsk_is_oom_victim(task))`
    # Global: zombies stay in the task list until their parent reaps them, and still abort the scan.
    # Memcg: cgroup_exit() took exiting tasks off the css_set, so the memcg walk no longer sees them.
    pending = [p for p in k.pending_victims() if not oom_unkillable_task(p)]
    if oc.memcg is not None:
        pre = {id(cg): i for i, cg in enumerate(oc.memcg.subtree())}
        pending = [p for p in pending if id(p.cgroup) in pre and p in p.cgroup.members
                   and (k.race is None or not css_task_iter_skips(p))]
        key = lambda p: (pre[id(p.cgroup)], p.cgroup.members.index(p))  # noqa: E731
    else:
        key = lambda p: p.order  # noqa: E731
    return min(pending, key=key) if pending else None


def select_bad_process(k: "Kernel", oc: OomControl) -> Process | None:
    """select_bad_process()/oom_evaluate_task(): returns the process that aborts the scan, if any."""
    blocker = first_pending_victim(k, oc)
    if blocker is not None:
        oc.chosen = None
        return blocker
    v = k.policy.version
    if oc.memcg is None:
        table = global_badness_table(k)  # for_each_process (oc.totalpages is totalpages_global())
    else:
        table = memcg_badness_table(k, oc.memcg, (v, oc.totalpages))
    chosen, chosen_points, top, ineligible = table.select(v.signed_badness, v.leader_tie_break)
    oc.chosen, oc.chosen_points = chosen, chosen_points
    oc.candidates = [_candidate(p, pts, "") for pts, p in top]
    oc.candidates += [_candidate(p, None, why) for p, why in ineligible]
    return None


def global_badness_table(k: "Kernel") -> "BadnessTable":
    """The table a global OOM's select_bad_process() reads (Kernel.oom_table), brought up to date: made
    from every row of the kernel's columns (for_each_process(): rows in scan order) when there is none
    yet, or when the rows were renumbered since; what changed since is weighed again; another era or
    totalpages (what oom_badness() depends on besides the process) scores the kept inputs again."""
    hand_out_changes(k)
    rule = (k.policy.version, k.totalpages_global())
    inputs, table = k.badness, k.oom_table
    if table is not None and (table.generation != inputs.generation or not inputs.in_order):
        table = None
    if table is None:
        if not inputs.in_order:
            inputs.compact()  # `oomtui watch` added a process before others in scan order
        table = k.oom_table = BadnessTable(inputs, rule)
    else:
        table.refresh(rule)
    return table


def memcg_badness_table(k: "Kernel", memcg: Cgroup, rule: tuple["KernelVersion", int]) -> "BadnessTable":
    """The table a memcg OOM's select_bad_process() reads: mem_cgroup_scan_tasks()'s own order
    (kernel-model.md 11.5) over its members' rows, kept (Kernel.memcg_oom_tables) until
    css_set_move_task() changes a css_set of the subtree (rows renumbered by compact() too), and
    brought up to date like the global one in between (an OOM storm in one memcg)."""
    hand_out_changes(k)
    if k.race is not None:  # race trials: css_task_iter_skips() decides the rows of each scan
        return BadnessTable(k.badness, rule, scan_rows(k, memcg))
    table = k.memcg_oom_tables.get(memcg)
    if table is None or table.generation != k.badness.generation:
        table = k.memcg_oom_tables[memcg] = BadnessTable(k.badness, rule, scan_rows(k, memcg))
    else:
        table.refresh(rule)
    return table


def hand_out_changes(k: "Kernel") -> None:
    """The processes whose row changed since (BadnessInputs.dirty) go to every kept table's `changed`;
    a table made from now on reads the rows as they are."""
    inputs = k.badness
    fresh, inputs.dirty = inputs.dirty, set()
    if fresh:
        for table in chain((k.oom_table,) if k.oom_table is not None else (), k.memcg_oom_tables.values()):
            table.changed |= fresh


# What a process's row says besides its numbers (BadnessInputs.flags)
SCORED = 16  # oom_evaluate_task() scores it: not oom_unkillable_task(), not exited, it has an mm
OOM_SKIP = 1  # its mm has MMF_OOM_SKIP
IN_VFORK = 2
ADJ_MIN = 4  # oom_score_adj is OOM_SCORE_ADJ_MIN
CAP_SYS_ADMIN = 8  # the root bonus before 4.17
# bytes.translate() tables: a row with a flag but SCORED -> 1; a row not scored -> 1; CAP_SYS_ADMIN -> 1
_FLAGGED = bytes(int(bool(f & ~SCORED)) for f in range(256))
_UNSCORED = bytes(int(not f & SCORED) for f in range(256))
_HOLDS_CAP = bytes(int(bool(f & CAP_SYS_ADMIN)) for f in range(256))
COMPACT_MIN = 4096  # rows of exited processes kept before they are dropped (BadnessInputs.add)


class BadnessInputs:
    """What oom_evaluate_task() and oom_badness() read of every process, in columns by row
    (Process.slot), written by the kernel's own writers as they write (Kernel.add_mm_counter,
    set_pgtables_bytes, set_mm_flag, write_oom_score_adj, set_task_mm, add_process, cgroup_exit and
    css_set_move_task), so that select_bad_process() reads arrays, not 100 000 objects (reading their
    fields was half of a first walk). A row: the process (None once it exited), its scan position in
    the task list (Process.order), the pages oom_badness() adds up for its mm (get_mm_rss() + swap
    entries + page tables: MmStruct.badness_pages), oom_score_adj, and flags: whether
    oom_evaluate_task() scores it at all (SCORED: not oom_unkillable_task(), not exited,
    find_lock_task_mm() finds an mm), what makes oom_badness() pass it over, the root bonus. All of it
    is the same in every era (2.6.36-6.18): BadnessTable applies the era's rules. `members`: each
    cgroup's css_set (Cgroup.members) as rows, for mem_cgroup_scan_tasks(). `dirty`: the processes
    whose row changed since a kept BadnessTable last took them (hand_out_changes; None while no table
    was made). `consecutive`: the cgroups whose member rows are one ascending run. Rows are not
    reused: compact() renumbers them (a new `generation`)."""

    __slots__ = ("procs", "order", "pages", "adjs", "flags", "members", "consecutive", "dirty", "in_order", "dead",
                 "generation", "pages_deferred")

    def __init__(self) -> None:
        # numbers in arrays: a list of 100 000 ints points to objects all over the heap, and reading them
        # was most of a walk's time
        self.procs: list[Process | None] = []
        self.order = array("q")
        self.pages = array("q")
        self.adjs = array("q")
        self.flags = bytearray()
        self.members: dict[Cgroup, array[int]] = {}
        self.consecutive: set[Cgroup] = set()  # those whose member rows are one ascending run (created together)
        self.dirty: set[Process] | None = None
        self.in_order = True  # rows are in scan order (`oomtui watch` adds a wrapped pid out of it)
        self.dead = 0  # rows of exited processes
        self.generation = 0
        # a scene's build maps every page before any OOM: its add_mm_counter() calls leave `pages` to fill_pages()
        self.pages_deferred = False

    def row(self, p: Process) -> int:
        """p's row, or -1 once it has exited (its Process.slot may be another's after compact())."""
        s = p.slot
        return s if 0 <= s < len(self.procs) and self.procs[s] is p else -1

    def add(self, p: Process) -> None:
        """copy_process(): a row for a new process (no thread has its mm yet: not scored)."""
        if self.dead > COMPACT_MIN and 2 * self.dead > len(self.procs):
            self.compact()
        if self.order and p.order <= self.order[-1]:
            self.in_order = False
        mm = p.init_mm
        p.slot = len(self.procs)
        self.procs.append(p)
        self.order.append(p.order)
        self.pages.append(mm.badness_pages if mm is not None and not self.pages_deferred else 0)  # else fill_pages()
        self.adjs.append(p.oom_score_adj)
        self.flags.append(badness_flags(p, mm))
        self._changed(p)

    def fill_pages(self) -> None:
        """`pages` of every row from its mm at once, after a build that deferred them; every writer keeps
        them from now on."""
        self.pages[:] = array("q", [p.init_mm.badness_pages if p is not None and p.init_mm is not None else 0
                                    for p in self.procs])
        self.pages_deferred = False

    def _changed(self, p: Process) -> None:
        if self.dirty is not None:
            self.dirty.add(p)

    def mm_pages(self, mm: MmStruct, pages: int) -> None:
        """`pages` more (or fewer) for oom_badness() in every process created with mm (row() inlined:
        each page a scene maps at build and every allocation comes here)."""
        procs, dirty = self.procs, self.dirty
        for q in mm.procs:
            s = q.slot
            if 0 <= s < len(procs) and procs[s] is q:
                self.pages[s] += pages
                if dirty is not None:
                    dirty.add(q)

    def mm_oom_skip(self, mm: MmStruct) -> None:
        """MMF_OOM_SKIP on mm: its processes are no longer candidates."""
        for q in mm.procs:
            s = self.row(q)
            if s >= 0:
                self.flags[s] |= OOM_SKIP
                self._changed(q)

    def set_adj(self, p: Process) -> None:
        """p's oom_score_adj was written."""
        s = self.row(p)
        if s >= 0:
            adj = self.adjs[s] = p.oom_score_adj
            self.flags[s] = (self.flags[s] & ~ADJ_MIN) | (ADJ_MIN if adj == OOM_SCORE_ADJ_MIN else 0)
            self._changed(p)

    def set_mm(self, p: Process) -> None:
        """p's find_lock_task_mm() mm was set or dropped: oom_evaluate_task() scores a process that
        is not oom_unkillable_task() (global init, a kthread) while one of its threads has an mm."""
        s = self.row(p)
        if s >= 0:
            scored = p.mm is not None and not oom_unkillable_task(p) and p.exited_at is None
            self.flags[s] = (self.flags[s] & ~SCORED) | (SCORED if scored else 0)
            self._changed(p)

    def release(self, p: Process) -> None:
        """p exited (cgroup_exit(), off every css_set): its row is not scored again."""
        s = self.row(p)
        if s >= 0:
            self.procs[s] = None
            self.flags[s] = 0
            self.dead += 1
            self._changed(p)

    def css_set_add(self, cg: Cgroup, at: int, p: Process) -> None:
        rows = self.members.get(cg)
        if rows is None:
            rows = self.members[cg] = array("q")
        rows.insert(at, p.slot)
        if len(rows) == 1:
            self.consecutive.add(cg)
        elif at != len(rows) - 1 or rows[-2] + 1 != rows[-1]:
            self.consecutive.discard(cg)

    def css_set_del(self, cg: Cgroup, at: int) -> None:
        rows = self.members[cg]
        del rows[at]
        if 0 < at < len(rows):
            self.consecutive.discard(cg)

    def compact(self) -> None:
        """Drop the rows of exited processes and put the others in scan order (`oomtui watch` adds a row
        for each process it sees come and go, and a wrapped pid out of order)."""
        keep = sorted((s for s, p in enumerate(self.procs) if p is not None), key=self.order.__getitem__)
        row = {s: i for i, s in enumerate(keep)}
        self.procs = [self.procs[s] for s in keep]
        self.order, self.pages, self.adjs = (array("q", [col[s] for s in keep]) for col in
                                             (self.order, self.pages, self.adjs))
        self.flags = bytearray(self.flags[s] for s in keep)
        for p in self.procs:
            p.slot = row[p.slot]  # type: ignore[union-attr]
        for rows in self.members.values():
            rows[:] = array("q", [row[s] for s in rows])
        # renumbered in scan order, a memcg's rows may no longer be one run (another's sorted between them)
        self.consecutive = {cg for cg, rows in self.members.items()
                            if rows and rows.tolist() == list(range(rows[0], rows[0] + len(rows)))}
        self.in_order, self.dead = True, 0
        self.generation += 1


# A heap entry is one int, (-points << POS_BITS) | scan position: the best points first, the earlier
# scanned among equals (a tuple and its two ints per process were most of the table's memory)
POS_BITS = 32
POS_MASK = (1 << POS_BITS) - 1
HEAP_DEPTH = 256  # the walk's heap holds the entries of at least this many best (and their ties) to start with
SAMPLE = 4096  # of how many processes (every n-th) _heap_anew takes the HEAP_DEPTH-th best for its cutoff


class BadnessTable:
    """What select_bad_process() learns from one walk over the processes in scan order, kept: their
    points by scan position (None: not scored, or ineligible with the reason in `why`), the positions
    of CAP_SYS_ADMIN holders (`caps`), and heaps of entries for the best. The processes are rows of the
    kernel's columns (BadnessInputs): every row for a global OOM (for_each_process(): position = row),
    a memcg subtree's member rows for mem_cgroup_scan_tasks() (position = index in `rows`; a range when they
    are one run; read from the columns by `runs`, scan_rows). The global one lives as long as the kernel (or
    its rows' generation), a memcg's until a css_set of its subtree changes, and each re-evaluates only the
    processes whose row changed since its last OOM (`changed`, from BadnessInputs.dirty): in an OOM storm of
    100 000 processes every OOM walked all of them, most of the run's time. A changed process's new
    entry goes on a second heap (`hot`), so that the walk's heap is not rebuilt for a few changes (that
    took 25-44 ms at 100 000 processes): an old entry is skipped when it comes to the top, and `hot` is
    compacted in proportion to its own size (or, once most of the table changed, one heap is made anew
    from the points). Another era or totalpages scores the inputs again (rescore). Results are those of
    a walk over the objects, tie rules included (tests/kernel/test_selection_property.py,
    tests/kernel/test_badness_table.py, tests/kernel/test_badness_columns.py,
    tests/scenes/test_json_identity.py)."""

    __slots__ = ("inputs", "rows", "runs", "generation", "why", "caps", "rule",
                 "badness", "points", "heap", "cutoff", "hot", "hot_floor", "changed", "position")

    def __init__(self, inputs: BadnessInputs, rule: tuple[KernelVersion, int],
                 scan: "tuple[Sequence[int], list[Sequence[int]]] | None" = None):
        """scan None: every row of `inputs`, in scan order (BadnessInputs.in_order), read as they change;
        else those rows and the runs to read them by (scan_rows), read now. Scan positions below 2**POS_BITS."""
        self.rows, self.runs = scan if scan is not None else (None, None)
        self.inputs, self.generation = inputs, inputs.generation
        self.changed: set[Process] = set()  # rows changed since it was brought up to date (hand_out_changes)
        self.position: dict[int, int] | None = None  # scan position by row, of a memcg's (made at a refresh)
        with gc_paused():  # a few lists, all kept
            self.rescore(rule)

    def proc(self, pos: int) -> Process:
        """The process at scan position `pos`."""
        rows = self.rows
        return self.inputs.procs[pos if rows is None else rows[pos]]  # type: ignore[return-value]

    def rescore(self, rule: tuple[KernelVersion, int]) -> None:
        """oom_badness() of every scored process by `rule` (era, totalpages): the era's arithmetic over the
        columns (oom_badness.badness_column), then one heap anew."""
        self.rule = rule
        self.badness = badness_rule(*rule)
        inputs, rows = self.inputs, self.rows
        if rows is None:
            pages, adjs, flags = inputs.pages, inputs.adjs, bytes(inputs.flags)
        elif isinstance(rows, range):  # one run of rows (scan_rows)
            a, b = rows.start, rows.stop
            pages, adjs, flags = inputs.pages[a:b], inputs.adjs[a:b], bytes(inputs.flags[a:b])
        else:  # a memcg subtree's rows by runs, read now (refresh() reads its changed rows later)
            pages, adjs, flag_bytes = [], [], bytearray()
            for run in self.runs:  # type: ignore[union-attr]
                if isinstance(run, range):  # a memcg's rows, one run: slices
                    a, b = run.start, run.stop
                    pages += inputs.pages[a:b]
                    adjs += inputs.adjs[a:b]
                    flag_bytes += inputs.flags[a:b]
                else:
                    row = itemgetter(*run) if len(run) > 1 else lambda col, s=run[0]: (col[s],)
                    pages += row(inputs.pages)
                    adjs += row(inputs.adjs)
                    flag_bytes += bytes(row(inputs.flags))
            flags = bytes(flag_bytes)
        why: dict[int, str] = {}
        caps: set[int] = set()
        flagged = flags.translate(_FLAGGED)
        i = flagged.find(1)
        while i >= 0:  # the few with a flag
            f = flags[i]
            if f & CAP_SYS_ADMIN:
                caps.add(i)
            reason = _ineligible(f)
            if reason is not None and f & SCORED:
                why[i] = reason
            i = flagged.find(1, i + 1)
        points: list[int | None] = badness_column(  # type: ignore[assignment]
            *rule, pages, adjs, flags.translate(_HOLDS_CAP) if caps else None)
        unscored = flags.translate(_UNSCORED)
        i = unscored.find(1)
        while i >= 0:  # oom_unkillable_task(), exited or without an mm: not scored at all
            points[i] = None
            i = unscored.find(1, i + 1)
        for i in why:
            points[i] = None
        self.why, self.caps, self.points = why, caps, points
        self._heap_anew()

    def _heap_anew(self, depth: int | None = HEAP_DEPTH, taken: "set[int] | frozenset[int]" = frozenset()) -> None:
        """One heap of the eligible processes' entries (but those `taken`), `hot` emptied. Given a depth, only of
        those with at least `cutoff` points: the depth-th best of every n-th process (about SAMPLE of them), so at
        least `depth` entries, about depth * n (an OOM reads the top: an entry for each of 100 000 processes was a
        third of the walk, nlargest() over all of them a quarter); _best makes the rest when it must go below the
        cutoff. No cutoff when the sample has fewer than `depth` with points (0 counts as none: still below)."""
        points = self.points
        sample = points[:: max(1, len(points) // SAMPLE)]
        best = heapq.nlargest(depth, filter(None, sample)) if depth else []
        cutoff = self.cutoff = best[-1] if len(best) == depth else None
        if cutoff is None:
            heap = [(-v << POS_BITS) | pos for pos, v in enumerate(points) if v is not None]
        else:
            heap = [(-v << POS_BITS) | pos for pos, v in enumerate(points) if v is not None and v >= cutoff]
        if taken:
            heap = [e for e in heap if e not in taken]
        heapq.heapify(heap)
        self.heap = heap
        self.hot = []
        self.hot_floor = 0

    def _valid(self, entry: int) -> bool:
        """An entry is valid while its process still has those points."""
        pos = entry & POS_MASK
        return pos < len(self.points) and self.points[pos] == -(entry >> POS_BITS)

    def _position_of(self) -> "Callable[[int], int | None]":
        """A memcg table's scan position of a row (None: not a member)."""
        rows = self.rows
        assert rows is not None
        if isinstance(rows, range):
            return lambda s: s - rows.start if s in rows else None
        if self.position is None:
            self.position = dict(zip(rows, range(len(rows))))
        return self.position.get

    def refresh(self, rule: tuple["KernelVersion", int]) -> None:
        """Re-evaluate the processes whose row changed (`changed`), from their rows, then score again by
        another `rule` if it is one. New points get a new entry on `hot`; a process gone (exited, or no
        longer scored) has none."""
        inputs, rows = self.inputs, self.rows
        changed, self.changed = self.changed, set()
        points, why, caps = self.points, self.why, self.caps
        if rows is None and len(points) < len(inputs.procs):  # rows added since (`oomtui watch`)
            points.extend([None] * (len(inputs.procs) - len(points)))
        position = self._position_of() if changed and rows is not None else None
        for p in changed:
            s = pos = p.slot  # its row in this generation, even once it exited (rows are not reused)
            if s < 0:
                continue
            f = inputs.flags[s]
            if rows is not None:  # a memcg's: its members' rows by scan position
                pos = position(s)  # type: ignore[misc]
                if pos is None:
                    continue  # not a member
            cap = bool(f & CAP_SYS_ADMIN)
            if cap:
                caps.add(pos)
            else:
                caps.discard(pos)
            reason = _ineligible(f)
            if inputs.procs[s] is not p or not f & SCORED:
                points[pos] = None
                why.pop(pos, None)
            elif reason is not None:
                points[pos] = None
                why[pos] = reason
            else:
                why.pop(pos, None)
                v = self.badness(inputs.pages[s], inputs.adjs[s], cap)
                if points[pos] != v:
                    points[pos] = v
                    heapq.heappush(self.hot, (-v << POS_BITS) | pos)
        if len(self.hot) > 2 * self.hot_floor + 64:  # mostly old entries
            if len(self.hot) > len(points) // 2:  # most of the table changed: one heap anew
                self._heap_anew()
            else:  # one valid entry each
                self.hot = [e for e in set(self.hot) if self._valid(e)]
                heapq.heapify(self.hot)
                self.hot_floor = len(self.hot)
        if self.rule != rule:
            self.rescore(rule)

    def select(self, signed: bool, leader_tie_break: bool):
        """(chosen, chosen_points, the TOP_CANDIDATES best as (points, p), the first 5 ineligible as
        (p, why)): oom_evaluate_task()'s comparison over the scan. Equal points: the later-scanned
        process wins (5.9+), the first scanned before 5.9 (a thread-group leader is kept; before the
        leader rule, 2.6.36 select_bad_process() replaced only on `points > chosen_points`, the same
        first-scanned winner among processes)."""
        ranked = self._best(signed)
        chosen, chosen_points = None, LONG_MIN if signed else 0
        if ranked:
            best = [e for e in ranked if e[0] == ranked[0][0]]  # ranked holds every tie of the best
            chosen_points, _, chosen = best[0] if leader_tie_break else best[-1]
        top = [(pts, p) for pts, _, p in ranked[:TOP_CANDIDATES]]
        if chosen is not None and all(p is not chosen for _, p in top):
            top[-1] = (chosen_points, chosen)  # a tie beyond the top rows: show the winner
        first = heapq.nsmallest(5, self.why)
        return chosen, chosen_points, top, [(self.proc(pos), self.why[pos]) for pos in first]

    def _best(self, signed: bool) -> list[tuple[int, int, Process]]:
        """(points, position, p), best first (earlier first among equals): at least the
        TOP_CANDIDATES best and every process tied with the best, from the tops of the heaps."""
        heap, hot = self.heap, self.hot
        out: list[tuple[int, int, Process]] = []
        taken: set[int] = set()
        while heap or hot or self.cutoff is not None:
            h = heap if heap and (not hot or heap[0] < hot[0]) else hot
            e = h[0] if h else None
            if e is not None and (e in taken or not self._valid(e)):
                heapq.heappop(h)  # stale (changed or gone), or a second entry of one taken
                continue
            if self.cutoff is not None and (e is None or -(e >> POS_BITS) < self.cutoff):
                # below the heap's cutoff a process left out may come first: every entry, from now on
                self._heap_anew(None, taken)
                heap, hot = self.heap, self.hot
                continue
            assert e is not None
            pts, pos = -(e >> POS_BITS), e & POS_MASK
            if len(out) >= TOP_CANDIDATES and pts != out[0][0]:
                break
            if not signed and pts <= 1:
                break  # before 5.9 every eligible task scores at least 1: ranked below, by position
            heapq.heappop(h)
            taken.add(e)
            out.append((pts, pos, self.proc(pos)))
        for e in taken:
            heapq.heappush(hot, e)
        if not signed and len(out) < TOP_CANDIDATES and len(out) < len(self.points) - self.points.count(None):
            # the clamp ties everything at 1 or below: those rank by position (rare: an idle machine)
            out += [(1, pos, self.proc(pos)) for pos, pts in enumerate(self.points) if pts is not None and pts <= 1]
        return out


def badness_flags(p: Process, mm: MmStruct | None) -> int:
    """The flags of p's row but SCORED, with mm the one its threads have: what makes oom_badness() pass p over
    (_ineligible), and the root bonus."""
    return ((OOM_SKIP if mm is not None and MMF_OOM_SKIP in mm.flags else 0) | (IN_VFORK if p.in_vfork else 0)
            | (CAP_SYS_ADMIN if p.cap_sys_admin else 0) | (ADJ_MIN if p.oom_score_adj == OOM_SCORE_ADJ_MIN else 0))


def _ineligible(flags: int) -> str | None:
    """oom_badness(): OOM_SCORE_ADJ_MIN, MMF_OOM_SKIP or in the middle of vfork -> not a candidate (the one
    source of these reasons: the tables read them from the rows, process_badness from badness_flags)."""
    if flags & ADJ_MIN:
        return "oom_score_adj -1000"
    if flags & OOM_SKIP:
        return "MMF_OOM_SKIP"
    if flags & IN_VFORK:
        return "in vfork"
    return None


def _candidate(p: Process, points: int | None, note: str) -> ev.Candidate:
    mm = p.mm
    assert mm is not None
    return ev.Candidate(pid=p.pid, comm=p.comm, rss=mm.rss, swapents=mm.swapents, pgtables_bytes=mm.pgtables_bytes,
                        oom_score_adj=p.oom_score_adj, points=points, note=note)


def explain_choice(k: "Kernel", oc: OomControl) -> str:
    if oc.chosen is None:
        return "no eligible process"
    c = next(x for x in oc.candidates if x.pid == oc.chosen.pid)
    v = k.policy.version
    bonus = root_bonus(v) if oc.chosen.cap_sys_admin else None
    unit = oc.totalpages // 1000
    parts = f"rss {c.rss} + swap {c.swapents} + pgtables {c.pgtables_bytes // PAGE_SIZE}"
    if scaled_score(v):  # 2.6.36-3.7: 0..1000 (oom_badness.badness_rule)
        parts = f"({parts}) x 1000 / {oc.totalpages}" + (" - 30 for CAP_SYS_ADMIN" if bonus else "")
        if c.oom_score_adj:
            parts += f" + adj {c.oom_score_adj}"
        text = f"{c.comm} ({c.pid}) has the highest badness: {parts} = {c.points} of 1000"
    else:
        if bonus == "points -= points * 3 / 100":
            parts = f"{parts} - 3 % for CAP_SYS_ADMIN"
        adj = c.oom_score_adj - (30 if bonus == "adj -= 30" else 0)
        if adj:
            parts += f" + adj {adj}{' (30 off for CAP_SYS_ADMIN)' if bonus == 'adj -= 30' else ''} x {unit}"
        text = f"{c.comm} ({c.pid}) has the highest badness: {parts} = {c.points} pages"
    ties = [x for x in oc.candidates if x.points == c.points and x.pid != c.pid]
    if ties:
        rule = ("first scanned kept (thread-group-leader tie-break, before 5.9)"
                if k.policy.version.leader_tie_break else "the later-scanned process wins (5.9+)")
        text += f"; tie with {', '.join(f'{t.comm} ({t.pid})' for t in ties[:3])}: {rule}"
    return text


# ---------------------------------------------------------------- out_of_memory (1.2)
def out_of_memory(k: "Kernel", memcg: Cgroup | None, current: Task | None, sysrq: bool = False) -> str:
    """Returns "progress" (killed, or shortcut), "blocked" (aborted on a pending victim) or
    "failed" (nothing killable)."""
    # task_will_free_mem(current): mark it, queue the reaper; no scan, no kill, no dmesg.
    if current is not None and current.mm is not None and task_will_free_mem(k, current):
        k.emit(ev.OomShortcut(t=k.jiffies, pid=current.process.pid, comm=current.process.comm, where="current"))
        mark_oom_victim(k, current)
        queue_oom_reaper(k, current)
        return "progress"
    oc = OomControl(memcg, current, sysrq, constrained_alloc(k, memcg))
    blocker = select_bad_process(k, oc)
    if blocker is not None:
        if k.last_abort != blocker.pid:
            k.last_abort = blocker.pid
            k.emit(ev.OomAborted(t=k.jiffies, blocked_by=blocker.pid, comm=blocker.comm))
        return "blocked"
    k.last_abort = None
    kind = "sysrq" if sysrq else ("memcg" if memcg is not None else "global")
    k.emit(ev.OomInvoked(t=k.jiffies, kind=kind, memcg=memcg.path if memcg else None,
                         pid=current.process.pid if current else None,
                         comm=current.process.comm if current else SYSRQ_COMM, totalpages=oc.totalpages))
    k.emit(ev.OomSelected(t=k.jiffies, candidates=oc.candidates,
                          victim_pid=oc.chosen.pid if oc.chosen else None, why=explain_choice(k, oc)))
    if oc.chosen is None:
        dump_header(k, oc, None)
        k.printk(dmesg.NO_KILLABLE)
        if memcg is None and not sysrq:
            k.printk(f"Kernel panic - not syncing: {dmesg.PANIC_DEADLOCK}")
            k.panicked = True
            k.emit(ev.Panic(t=k.jiffies, message=dmesg.PANIC_DEADLOCK))
        return "failed"
    oom_kill_process(k, oc)
    return "progress"


def dump_header(k: "Kernel", oc: OomControl, victim: Process | None) -> None:
    """dump_header(): invoked line, (stack), Mem-Info or memcg usage, dump_tasks, oom-kill: summary."""
    v = k.policy.version
    cur = oc.current.process if oc.current else None
    comm, pid, adj = (cur.comm, oc.current.tid, cur.oom_score_adj) if cur and oc.current else (SYSRQ_COMM, SYSRQ_PID, 0)
    k.printk(dmesg.invoked_line(v, comm, adj, oc.sysrq, memcg=oc.memcg is not None))
    k.printk(dmesg.cpu_line(v, pid, comm))
    if oc.memcg is not None:
        for line in dmesg.memcg_lines(v, oc.memcg, victim.cgroup if victim else None, v1=k.memcg_v1,
                                      swap_accounted=k.do_swap_account):
            k.printk(line)
    else:
        for line in dmesg.mem_info_lines(k.ram_pages, k.swap_pages, k.swap_pages - k.swap_used):
            k.printk(line)
    for line in dmesg.dump_tasks_header(v):
        k.printk(line)
    # dump_tasks(): a row per process in scan order, from the thread find_lock_task_mm() returns,
    # printed as one batch (one DmesgLines event)
    k.printk_lines(dmesg.dump_task_rows(v, _dump_tasks(k, oc), k.dump_tasks_memo))
    if victim is not None and v.has_oom_kill_summary:
        k.printk(dmesg.oom_kill_summary(oc.constraint, oc.memcg.path if oc.memcg else None,
                                        victim.cgroup.path, victim.comm, victim.pid, victim.uid))


def _dump_tasks(k: "Kernel", oc: OomControl):
    """dump_tasks(): every process in scan order but the unkillable, from the thread
    find_lock_task_mm() returns (none: skipped): (process, tid, mm)."""
    for p in (k.tasklist if oc.memcg is None else scan_order(k, oc.memcg)):
        if p.is_init or p.kthread:
            continue  # oom_unkillable_task()
        for t in p.threads:  # find_lock_task_mm()
            if t.mm is not None:
                yield p, t.tid, t.mm
                break


def _ratelimit_ok(k: "Kernel") -> bool:
    """__ratelimit(&oom_rs): DEFAULT_RATELIMIT_BURST (10) calls per DEFAULT_RATELIMIT_INTERVAL (5*HZ)
    window, the window starting at the first call; a new window reports what the last one dropped."""
    rs = k.ratelimit
    if rs.begin is None or k.jiffies >= rs.begin + 5 * k.hz:
        if rs.missed:
            k.printk(f"oom_kill_process: {rs.missed} callbacks suppressed")
        rs.begin, rs.printed, rs.missed = k.jiffies, 0, 0
    if rs.printed >= 10:
        rs.missed += 1
        return False
    rs.printed += 1
    return True


# ---------------------------------------------------------------- the kill (2.1 - 2.4)
def oom_kill_process(k: "Kernel", oc: OomControl) -> None:
    victim = oc.chosen
    assert victim is not None
    # If the task is already exiting, don't alarm the sysadmin or kill its children. The check is on
    # the task select_bad_process() visited, the leader: a leader past exit_mm (mm NULL) says no.
    t = victim.leader
    if task_will_free_mem(k, t):
        k.emit(ev.OomShortcut(t=k.jiffies, pid=victim.pid, comm=victim.comm, where="victim"))
        mark_oom_victim(k, t)
        queue_oom_reaper(k, t)
        return
    if _ratelimit_ok(k):
        dump_header(k, oc, victim)
    v = k.policy.version
    if v.sacrifice_child:
        score = printed_kill_score(oc.chosen_points, oc.totalpages, v)
        k.printk(dmesg.sacrifice_line(oc.message, victim.pid, victim.comm, score))
        victim = sacrifice_child(k, oc, victim)
    oom_group = mem_cgroup_get_oom_group(victim, oc.memcg)
    __oom_kill_process(k, victim, oc.message, "oom")
    if oom_group is not None:
        k.printk(dmesg.oom_group_line(oom_group.path))
        for cg in oom_group.subtree():
            for p in list(cg.members):
                # oom_kill_memcg_member(): skip -1000 and global init; the victim gets it again
                if p.oom_score_adj != OOM_SCORE_ADJ_MIN and not oom_unkillable_task(p) and p.alive:
                    __oom_kill_process(k, p, oc.message, "oom_group")


def sacrifice_child(k: "Kernel", oc: OomControl, victim: Process) -> Process:
    """Pre-5.1: kill the child (not sharing the victim's mm) with the highest nonzero badness instead.
    victim_points starts at 0 and must be strictly beaten."""
    best, best_points = victim, 0
    vmm = victim.mm
    for child in victim.children:
        if not child.alive or (vmm is not None and child.mm is vmm):
            continue
        if oc.memcg is not None and not child.cgroup.is_descendant_of(oc.memcg):
            continue
        if oom_unkillable_task(child):
            continue
        points, _ = process_badness(k, child, oc.totalpages)
        if points is not None and points > best_points:
            best, best_points = child, points
    return best


def mem_cgroup_get_oom_group(victim: Process, oom_domain: Cgroup | None) -> Cgroup | None:
    """memory.oom.group (4.19+): the highest ancestor of the victim's memcg, up to the OOM domain,
    with oom_group set. None for a victim in the root memcg."""
    cg = victim.cgroup
    if cg.parent is None:
        return None
    if oom_domain is not None and not cg.is_descendant_of(oom_domain):
        return None
    found = None
    for c in cg.ancestors():
        if c.parent is None:
            break
        if c.oom_group:
            found = c
        if c is oom_domain:
            break
    return found


def __oom_kill_process(k: "Kernel", victim: Process, message: str, reason: str) -> None:
    t = victim.find_lock_task_mm()
    if t is None:
        k.printk(dmesg.already_exiting_line(message, victim.pid, victim.comm))
        return
    mm = t.mm
    assert mm is not None
    # SIGKILL before granting reserves: SIGNAL_GROUP_EXIT is set synchronously
    send_signal(k, victim, "SIGKILL", reason)
    mark_oom_victim(k, t)
    k.printk(dmesg.killed_line(k.policy.version, message, t.tid, victim.comm, mm, victim.uid, victim.oom_score_adj))
    can_oom_reap = True
    for q in list(mm.procs):
        if q is victim or not q.alive or not any(th.mm is mm for th in q.threads):
            continue
        if q.is_init:
            can_oom_reap = False
            k.set_mm_flag(mm, MMF_OOM_SKIP)
            k.printk(dmesg.mm_pinned_line(t.tid, victim.comm, q.pid, q.comm))
            continue
        if q.kthread:
            continue
        # CLONE_VM sharers get SIGKILL but are not marked: no TIF_MEMDIE, no oom_mm, not thawed
        send_signal(k, q, "SIGKILL", "mm_sharer")
    if can_oom_reap:
        queue_oom_reaper(k, t)


def mark_oom_victim(k: "Kernel", t: Task) -> None:
    """Set TIF_MEMDIE, signal->oom_mm; thaw: one thread (<=6.17 __thaw_task) or the whole process
    (6.18 thaw_process, freezing_slow_path() then ignores every thread of an oom victim)."""
    if t.tif_memdie:
        return
    t.tif_memdie = True
    p = t.process
    if p.oom_mm is None:
        p.oom_mm = t.mm
        k.victims.append(p)
    thawed: list[int] = []
    for th in (p.threads if k.policy.thaw_whole_process else [t]):
        if thaw_task(k, th):
            thawed.append(th.tid)
    k.emit(ev.MarkVictim(t=k.jiffies, pid=p.pid, tid=t.tid, thawed=thawed))


def __task_will_free_mem(p: Process) -> bool:
    if p.core_dumping:
        return False
    if p.group_exit:
        return True
    live = [t for t in p.threads if t.alive]
    return len(live) == 1 and live[0].pf_exiting


def task_will_free_mem(k: "Kernel", t: Task) -> bool:
    """2.2: the process, and every other process sharing its mm, is dying."""
    mm = t.mm
    if mm is None:
        return False
    if not __task_will_free_mem(t.process):
        return False
    if MMF_OOM_SKIP in mm.flags:
        return False
    if mm.mm_users <= 1:
        return True
    for q in mm.procs:
        if q is t.process or not q.alive:
            continue
        if any(th.mm is mm for th in q.threads) and not __task_will_free_mem(q):
            return False
    return True


# ---------------------------------------------------------------- the OOM reaper (3)
def process_has_robust_futex(k: "Kernel", p: Process) -> bool:
    """seed v4 process_has_robust_futex() over the victim and every process sharing its mm:
    any thread with robust_list registered (registration, not ownership)."""
    mm = p.oom_mm or p.mm
    procs = [p] + [q for q in (mm.procs if mm is not None else []) if q is not p and any(th.mm is mm for th in q.threads)]
    return any(th.robust_list for q in procs for th in q.threads if th.alive)


def queue_oom_reaper(k: "Kernel", t: Task) -> None:
    p = t.process
    mm = p.oom_mm
    if mm is None or MMF_OOM_REAP_QUEUED in mm.flags:
        return  # one queueing per mm, ever (MMF_OOM_REAP_QUEUED)
    if not k.policy.version.has_oom_reaper:
        return  # before 4.6 there is no oom_reaper: memory returns only when the victim exits
    k.set_mm_flag(mm, MMF_OOM_REAP_QUEUED)
    k.reaper_task[p.pid] = t.tid  # get_task_struct(tsk): the reaper reports this thread's pid
    pol = k.policy
    robust = process_has_robust_futex(k, p)
    if pol.never_reap_robust and robust:
        k.emit(ev.ReaperQueued(t=k.jiffies, pid=p.pid, comm=p.comm, delay=-1, fires_at=-1,
                               why="never: robust-futex user (rejected policy)"))
        return
    delay_2s = 2 * k.hz  # OOM_REAPER_DELAY
    if pol.reaper_delay == "immediate":
        # 4.6-5.17 wake_oom_reaper(): on the list now
        k.emit(ev.ReaperQueued(t=k.jiffies, pid=p.pid, comm=p.comm, delay=0, fires_at=k.jiffies,
                               why="no delay under this policy"))
        oom_reaper_push(k, p)
        return
    if pol.reaper_delay == "robust_only":
        delay, why = (delay_2s, "robust list registered: 2*HZ") if robust else (0, "no robust list: no delay")
    elif pol.reaper_delay == "unless_frozen":
        frozen = p.freezer_cgroup.v1_freezing()
        delay, why = (0, "victim frozen/freezing: no delay") if frozen else (delay_2s, "OOM_REAPER_DELAY (2*HZ)")
    else:
        delay, why = delay_2s, "OOM_REAPER_DELAY (2*HZ)"
    # expires = jiffies + delay; a zero delay still fires on the next timer tick
    fires = k.jiffies + max(delay, 1)
    k.reaper_timers[p.pid] = fires
    k.emit(ev.ReaperQueued(t=k.jiffies, pid=p.pid, comm=p.comm, delay=delay, fires_at=fires, why=why))
    k.add_timer(fires, lambda: wake_oom_reaper(k, p))


def wake_oom_reaper(k: "Kernel", p: Process) -> None:
    """Timer callback: the victim may have terminated on its own (exit_mmap set MMF_OOM_SKIP)."""
    k.reaper_timers.pop(p.pid, None)
    mm = p.oom_mm
    assert mm is not None
    if MMF_OOM_SKIP in mm.flags:
        k.emit(ev.ReaperTimer(t=k.jiffies, pid=p.pid, comm=p.comm, result="noop"))
        k.emit(ev.Reaped(t=k.jiffies, pid=p.pid, comm=p.comm, by="oom_reaper", result="skipped", freed_kb=0))
        return
    k.emit(ev.ReaperTimer(t=k.jiffies, pid=p.pid, comm=p.comm, result="fires"))
    oom_reaper_push(k, p)


def oom_reaper_push(k: "Kernel", p: Process) -> None:
    k.oom_reaper_list.insert(0, p)  # pushed at the head, popped from the head: LIFO
    if k.reaper_current is None and not k.reaper_armed:
        k.reaper_armed = True
        if k.race is not None:
            # wake_up(&oom_reaper_wait): the unbound kthread runs on another CPU microseconds later
            # (4.6-5.17: in the killer's context, racing the victim's exit; kernel-model.md 10 S1)
            k.add_timer_us(k.now_us() + k.race.remote_wake_us(), lambda: oom_reaper(k))
            return
        k.add_timer(k.jiffies + 1, lambda: oom_reaper(k))  # the kthread runs at its next scheduling


def oom_reaper(k: "Kernel") -> None:
    """The oom_reaper kthread: one victim at a time, from the head of oom_reaper_list."""
    k.reaper_armed = False
    if k.reaper_current is not None or not k.oom_reaper_list:
        return
    p = k.oom_reaper_list.pop(0)
    k.reaper_current = p
    oom_reap_task(k, p, 1)


def oom_reap_task(k: "Kernel", p: Process, attempt: int) -> None:
    """3.3: up to MAX_OOM_REAP_RETRIES mmap_read_trylock attempts, HZ/10 apart."""
    mm = p.oom_mm
    assert mm is not None
    if mm.mmap_lock_writer is not None:
        k.reaper_state = f"trylock {attempt}/{MAX_OOM_REAP_RETRIES} failed"
        k.emit(ev.ReaperAttempt(t=k.jiffies, pid=p.pid, attempt=attempt, ok=False))
        if attempt < MAX_OOM_REAP_RETRIES:
            k.add_timer(k.jiffies + k.hz // 10, lambda: oom_reap_task(k, p, attempt + 1))
        else:
            k.add_timer(k.jiffies + k.hz // 10, lambda: oom_reap_done(k, p, None))
        return
    k.emit(ev.ReaperAttempt(t=k.jiffies, pid=p.pid, attempt=attempt, ok=True))
    if MMF_OOM_SKIP in mm.flags:
        oom_reap_done(k, p, 0, skipped=True)  # exit_mmap got past unmapping: nothing to do
        return
    k.reaper_state = "reaping"
    __oom_reap_task_mm(k, mm, "oom_reaper", p.pid, lambda job: oom_reap_done(k, p, job.freed))


def oom_reap_done(k: "Kernel", p: Process, freed: int | None, skipped: bool = False) -> None:
    mm = p.oom_mm
    assert mm is not None
    if freed is None:
        if MMF_OOM_SKIP not in mm.flags:
            k.printk(dmesg.unable_line(k.reaper_task.get(p.pid, p.pid), p.comm))
        k.emit(ev.Reaped(t=k.jiffies, pid=p.pid, comm=p.comm, by="oom_reaper", result="unable", freed_kb=0))
    elif skipped:
        k.emit(ev.Reaped(t=k.jiffies, pid=p.pid, comm=p.comm, by="oom_reaper", result="skipped", freed_kb=0))
    else:
        k.printk(dmesg.reaped_line(k.reaper_task.get(p.pid, p.pid), p.comm, mm))
        k.emit(ev.Reaped(t=k.jiffies, pid=p.pid, comm=p.comm, by="oom_reaper", result="reaped", freed_kb=freed * KB_PER_PAGE))
    # "either reaped or somebody can't call mmap_write_unlock": the next OOM may pick another victim
    k.set_mm_flag(mm, MMF_OOM_SKIP)
    k.reaper_current = None
    k.reaper_state = "idle"
    if k.oom_reaper_list:
        k.reaper_armed = True
        k.add_timer(k.jiffies, lambda: oom_reaper(k))


def reapable_vmas(k: "Kernel", mm: MmStruct) -> list:
    """3.4: skip VM_HUGETLB, VM_PFNMAP (and VM_LOCKED before 5.18); unmap only vma_is_anonymous()
    or !VM_SHARED. 6.18 walks from the top (mas_for_each_rev), earlier kernels from the bottom."""
    v = k.policy.version
    out = [m for m in mm.vmas if m.kind not in ("hugetlb", "pfnmap")
           and (m.is_anonymous or not m.shared)
           and (v.reaps_mlocked or not m.locked)]
    return out[::-1] if k.policy.reverse_vma_walk else out


def __oom_reap_task_mm(k: "Kernel", mm: MmStruct, by: str, pid: int, on_done) -> None:
    k.set_mm_flag(mm, MMF_UNSTABLE)  # faults in private mappings now fail (check_stable_address_space)
    job = ZapJob(mm, reapable_vmas(k, mm), k.reap_rate, by, pid, on_done)
    if k.race is not None and k.policy.reverse_vma_walk:
        job.lead_us = _unmodelled_above(k, mm) * k.race.p.vma_us
    start_zap(k, job)


def _unmodelled_above(k: "Kernel", mm: MmStruct) -> int:
    """Race trials: the mappings above the main thread's TLS (libraries, ld.so, vdso, vvar) that the
    scene layout leaves out; the reverse walk (6.18) pays for each before it reaches a robust list
    head. How many lie above it decides the lmkd race (kernel-model.md 11.7)."""
    heads = [v.start for v in mm.vmas if v.stack_of is not None]
    if not heads:
        return 0
    top = max(heads)
    drawn = sum(1 for v in mm.vmas if v.start > top)
    return max(0, k.race.p.mappings_above_tls - drawn)  # type: ignore[union-attr]


# ---------------------------------------------------------------- process_mrelease (6)
ERRNO = {"EINVAL": 22, "ESRCH": 3, "ENOSYS": 38, "EINTR": 4, "EAGAIN": 11, "EBADF": 9}


def process_mrelease(k: "Kernel", pid: int, flags: int, caller: int | None) -> None:
    def ret(value: int, errno: str | None) -> None:
        k.emit(ev.Syscall(t=k.jiffies, name="process_mrelease", pid=pid, ret=value, errno=errno, flags=flags))

    if not k.policy.version.has_process_mrelease:
        return ret(-1, "ENOSYS")  # syscall 448 exists since 5.15
    if flags != 0:
        return ret(-1, "EINVAL")
    p = k.pids.get(pid)
    if p is None or p.exited_at is not None:
        return ret(-1, "ESRCH")
    t = p.find_lock_task_mm()
    if t is None or t.mm is None:
        return ret(-1, "ESRCH")  # every thread passed exit_mm
    mm = t.mm
    if not task_will_free_mem(k, t):
        # error only if the work has not been done already
        return ret(0, None) if MMF_OOM_SKIP in mm.flags else ret(-1, "EINVAL")
    if k.policy.mrelease_skips_robust and process_has_robust_futex(k, p):
        return ret(0, None)  # seed v4: `if (!reap || delay_reap) goto drop_mm;`
    k.mrelease_calls.append(pid)
    _mrelease_lock(k, p, mm, ret)


def _mrelease_lock(k: "Kernel", p: Process, mm: MmStruct, ret) -> None:
    """mmap_read_lock_killable(): the caller sleeps while a writer holds mmap_lock."""
    if mm.mmap_lock_writer is not None:
        k.add_timer(k.jiffies + 1, lambda: _mrelease_lock(k, p, mm, ret))
        return

    def done(job: ZapJob | None) -> None:
        k.mrelease_calls.remove(p.pid)
        if job is not None:
            k.emit(ev.Reaped(t=k.jiffies, pid=p.pid, comm=p.comm, by="process_mrelease", result="reaped",
                             freed_kb=job.freed * KB_PER_PAGE))
        ret(0, None)  # no MMF_OOM_SKIP, no dmesg line

    if MMF_OOM_SKIP in mm.flags:
        return done(None)
    __oom_reap_task_mm(k, mm, "process_mrelease", p.pid, done)
