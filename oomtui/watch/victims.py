"""Who the kernel would kill if an OOM happened now: the model's select_bad_process() over a Reading.

The Reading becomes a model Kernel (the same objects the game runs): one Process per real process with
its mm counters set from /proc/PID/status, one Cgroup per memory cgroup. Then, for the whole machine
and for every memcg with a limit, the model's own select_bad_process() and explain_choice() pick and
explain, with the OomControl a real OOM there would have (constraint, totalpages). Each process's
model oom_score (proc_oom_score_of) sits beside the kernel's /proc/PID/oom_score.

What the model cannot see here, and so never weighs: an OOM victim still exiting (tsk_is_oom_victim
aborts the kernel's scan), MMF_OOM_SKIP, a vfork child sharing its parent's mm, cpuset/mempolicy
constraints of the allocating task.
"""

from __future__ import annotations

import bisect
from operator import attrgetter

import msgspec

from ..kernel import events as ev
from ..kernel.core import PAGE_SIZE, Kernel
from ..kernel.oom_kill import (PAGE_COUNTER_MAX, OomControl, explain_choice, mem_cgroup_get_max,
                               proc_oom_score_of, select_bad_process)
from ..kernel.policy import get_policy, kernel_of_release, policy_for_release
from ..kernel.state import Cgroup, Process
from .reader import Memcg, Proc, Reading, within


class Verdict(msgspec.Struct):
    """The next victim of one OOM domain: the whole machine (memcg None) or a memcg with a limit."""

    memcg: str | None
    constraint: str  # CONSTRAINT_NONE or CONSTRAINT_MEMCG
    totalpages: int
    victim: int | None  # pid; None: nothing killable
    victim_comm: str | None
    candidates: list[ev.Candidate]  # the best first (TOP_CANDIDATES), then a few ineligible
    why: str  # explain_choice(): the arithmetic
    limit: int | None = None  # bytes (memcg)
    usage: int | None = None  # bytes (memcg)


class Scores(msgspec.Struct):
    model: dict[int, int]  # pid -> the model's /proc/PID/oom_score
    verdicts: list[Verdict]  # the machine first, then each limited memcg in path order


def memcg_totalpages(k: Kernel, cg: Cgroup, m: Memcg, r: Reading) -> int:
    """The totalpages of a memcg OOM: the model's mem_cgroup_get_max() of its cgroup (build_kernel() gives it the
    group's swap limits), with no swap at all when the group's swappiness is 0 (v2: vm.swappiness)."""
    swappiness = m.swappiness if m.swappiness is not None else r.swappiness
    return mem_cgroup_get_max(k, cg) if swappiness else PAGE_COUNTER_MAX if cg.limit is None else cg.limit


def build_kernel(r: Reading) -> Kernel:
    """The model kernel of this reading: processes in pid order (for_each_process() walks the task list
    in creation order; pid order is the nearest /proc offers), each in its memcg."""
    ps = r.totals.page_size
    policy = get_policy(policy_for_release(r.release), kernel=kernel_of_release(r.release))
    k = Kernel(policy, ram_pages=r.totals.mem_total_kb * 1024 // ps,
               swap_pages=r.totals.swap_total_kb * 1024 // ps, memcg_v1=not r.memcg_v2)
    for path, m in r.memcgs.items():
        # no memsw.limit_in_bytes (v1: unlimited, or swap not accounted) or swap.max (v2: "max"): PAGE_COUNTER_MAX
        # (a reading between two writes may show memsw below memory, which the kernel never has)
        limit = m.limit // ps if m.limit is not None else None
        memsw, swap = (PAGE_COUNTER_MAX if x is None else x // ps for x in (m.memsw_limit, m.swap_max))
        memsw = max(memsw, PAGE_COUNTER_MAX if limit is None else limit)
        cg = k.add_cgroup(path, limit=limit, memsw_max=memsw, swap_max=swap) if path != "/" else k.root
        cg.usage = (m.usage or 0) // ps
    for p in r.procs:
        add_process(k, p, ps)
    return k


def add_process(k: Kernel, p: Proc, ps: int) -> None:
    """A reading's process into the model. The task list and its memcg's members stay in pid order, the
    order build_kernel() adds them in: a pid below others (pid_max wrapped) goes to its place, and its
    scan position (Process.order, the BadnessTable's) is its pid."""
    proc = k.add_process(p.pid, p.comm, p.memcg if p.memcg in k.cgroups else "/", is_init=p.pid == 1, order=p.pid)
    pid_of = attrgetter("pid")
    tasks, members = k.tasklist, proc.cgroup.members
    if len(tasks) > 1 and tasks[-2].pid > p.pid:
        tasks.pop()
        bisect.insort(tasks, proc, key=pid_of)
    if len(members) > 1 and members[-2].pid > p.pid:
        k.css_set_move_task(proc, proc.cgroup, proc.cgroup, bisect.bisect(members, p.pid, hi=len(members) - 1, key=pid_of))
    set_process(k, proc, p, ps)
    k.add_thread(proc, p.pid)  # find_lock_task_mm() needs one thread with the mm


def drop_process(k: Kernel, proc: Process) -> None:
    """A process gone from /proc leaves the model as if it had never been added: off the task list,
    its memcg's members and the pid tables, its mm and page tables uncharged; exited_at makes the
    global BadnessTable forget it (cgroup_exit() drops its row of the kernel's columns)."""
    proc.exited_at = k.jiffies
    k.tasklist.remove(proc)
    k.cgroup_exit(proc)
    del k.pids[proc.pid]
    for t in proc.threads:
        del k.tids[t.tid]
    mm = proc.init_mm
    assert mm is not None
    k.mms.remove(mm)
    k.used_pages -= mm.pgtables_bytes // PAGE_SIZE


def set_process(k: Kernel, proc: Process, p: Proc, ps: int) -> None:
    """A reading's numbers onto its model process, new or kept from the last reading (Model.update)."""
    c, mm = p.counters, proc.init_mm
    assert mm is not None
    proc.comm, proc.uid = p.comm, p.uid
    k.write_oom_score_adj(proc, p.oom_score_adj)
    proc.oom_score_adj_min = p.oom_score_adj
    # the counters move to the reading's (the global BadnessTable weighs the process again)
    for member, kb in (("anon", c.rss_anon_kb), ("file", c.rss_file_kb), ("shmem", c.rss_shmem_kb),
                       ("swapents", c.swap_kb)):
        k.add_mm_counter(mm, member, kb * 1024 // ps - getattr(mm, member))
    k.set_pgtables_bytes(mm, c.pgtables_kb * 1024)  # charged as new_mm() charges them


def _verdict(k: Kernel, memcg: str | None, totalpages: int) -> Verdict:
    cg = k.cgroups[memcg] if memcg is not None else None
    oc = OomControl(cg, None, False, totalpages)
    select_bad_process(k, oc)
    chosen = oc.chosen
    return Verdict(memcg=memcg, constraint=oc.constraint, totalpages=totalpages,
                   victim=chosen.pid if chosen else None, victim_comm=chosen.comm if chosen else None,
                   candidates=oc.candidates, why=explain_choice(k, oc))


def verdicts_of(k: Kernel, r: Reading, only: str | None = None) -> list[Verdict]:
    """The machine's next victim (CONSTRAINT_NONE: totalram + total swap, constrained_alloc()) and each
    limited memcg's (CONSTRAINT_MEMCG: mem_cgroup_get_max()). `only`: just those within(only)."""
    verdicts = [] if only else [_verdict(k, None, k.totalpages_global())]
    for path, m in r.memcgs.items():
        if m.limit is not None and (only is None or within(path, only)):
            v = _verdict(k, path, memcg_totalpages(k, k.cgroups[path], m, r))
            v.limit, v.usage = m.limit, m.usage
            verdicts.append(v)
    return verdicts


def next_victims(r: Reading, only: str | None = None, k: Kernel | None = None) -> Scores:
    """Every process's model oom_score and verdicts_of() the reading. `k`: build_kernel(r), when the caller
    has it already."""
    k = k or build_kernel(r)
    return Scores({p.pid: proc_oom_score_of(k, p) for p in k.tasklist}, verdicts_of(k, r, only))


class Model:
    """build_kernel() and next_victims() kept from one reading to the next. Only the processes whose Proc
    changed (Reader.read_proc returns the same object for the others) get their numbers in place, through
    the kernel's writers, and their oom_score weighed again; a process gone is dropped, a new one added in its
    place; the verdicts are found again only if something of that happened. The kernel is built again
    when a process changed memcg, or the machine or a memcg limit changed. The numbers are those of
    a kernel built anew (tests/watch/test_reader.py)."""

    def __init__(self, only: str | None = None) -> None:
        self.only = only
        self.k: Kernel | None = None
        self.scores: Scores | None = None
        self.rebuilds = 0
        self.changed: list[int] = []  # the pids weighed again by the last update (new ones included)
        self.moved = True  # processes came or went in the last update (or the kernel was built anew)
        self._procs: dict[int, Proc] = {}
        self._shape: object = None

    def update(self, r: Reading) -> None:
        shape = (r.release, r.totals, r.swappiness, r.memcg_v2,
                 [(path, m.limit, m.memsw_limit, m.swap_max, m.swappiness) for path, m in r.memcgs.items()])
        procs = {p.pid: p for p in r.procs}
        last, k, scores = self._procs, self.k, self.scores
        changed = [p for p in r.procs if last.get(p.pid) is not p]  # in pid order
        gone = [pid for pid in last if pid not in procs]
        rebuild = k is None or scores is None or shape != self._shape or \
            any(p.pid in last and p.memcg != last[p.pid].memcg for p in changed)
        self._procs, self._shape, self.changed = procs, shape, [p.pid for p in changed]
        self.moved = rebuild or bool(gone) or any(p.pid not in last for p in changed)
        if rebuild:
            self.k = build_kernel(r)
            self.scores = next_victims(r, self.only, self.k)
            self.rebuilds += 1
            return
        assert k is not None and scores is not None
        ps = r.totals.page_size
        for path, m in r.memcgs.items():
            k.cgroups[path].usage = (m.usage or 0) // ps
        for pid in gone:
            drop_process(k, k.pids[pid])
            del scores.model[pid]
        for p in changed:
            if p.pid in last:
                set_process(k, k.pids[p.pid], p, ps)
            else:
                add_process(k, p, ps)
            scores.model[p.pid] = proc_oom_score_of(k, k.pids[p.pid])
        if changed or gone:
            scores.verdicts = verdicts_of(k, r, self.only)
        else:
            for v in scores.verdicts:
                if v.memcg is not None:
                    v.usage = r.memcgs[v.memcg].usage
