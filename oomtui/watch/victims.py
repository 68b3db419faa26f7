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

import msgspec

from ..kernel import events as ev
from ..kernel.core import Kernel
from ..kernel.oom_kill import (PAGE_COUNTER_MAX, OomControl, explain_choice, proc_oom_score_of,
                               select_bad_process)
from ..kernel.policy import get_policy, kernel_of_release, policy_for_release
from .reader import Memcg, Reading


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


def mem_cgroup_get_max(m: Memcg, r: Reading) -> int:
    """mm/memcontrol.c mem_cgroup_get_max() (as read for 6.x), the totalpages of a memcg OOM: the memory limit plus
    the swap the group may still use: v1 with memsw accounting min(memsw - max, total swap), v2 (and v1
    without memsw) min(swap.max, total swap); no swap at all when the group's swappiness is 0."""
    ps = r.totals.page_size
    limit = m.limit // ps if m.limit is not None else PAGE_COUNTER_MAX
    swap_total = r.totals.swap_total_kb * 1024 // ps
    swappiness = m.swappiness if m.swappiness is not None else r.swappiness  # v2: vm_swappiness
    if not swappiness:
        return limit
    if m.v1:  # memsw unlimited or not accounted: memsw.max (or swap.max) is PAGE_COUNTER_MAX
        memsw = m.memsw_limit // ps - limit if m.memsw_limit is not None else swap_total
        return limit + min(max(memsw, 0), swap_total)
    swap_max = m.swap_max // ps if m.swap_max is not None else PAGE_COUNTER_MAX
    return limit + min(swap_max, swap_total)


def build_kernel(r: Reading) -> Kernel:
    """The model kernel of this reading: processes in pid order (for_each_process() walks the task list
    in creation order; pid order is the nearest /proc offers), each in its memcg."""
    ps = r.totals.page_size
    policy = get_policy(policy_for_release(r.release), kernel=kernel_of_release(r.release))
    k = Kernel(policy, ram_pages=r.totals.mem_total_kb * 1024 // ps,
               swap_pages=r.totals.swap_total_kb * 1024 // ps, memcg_v1=not r.memcg_v2)
    for path, m in r.memcgs.items():
        cg = k.add_cgroup(path, limit=m.limit // ps if m.limit is not None else None) if path != "/" else k.root
        cg.usage = (m.usage or 0) // ps
    for p in r.procs:
        c = p.counters
        proc = k.add_process(p.pid, p.comm, p.memcg if p.memcg in k.cgroups else "/",
                             oom_score_adj=p.oom_score_adj, uid=p.uid, is_init=p.pid == 1,
                             pgtables_bytes=c.pgtables_kb * 1024)
        mm = proc.init_mm
        assert mm is not None
        mm.anon, mm.file, mm.shmem = c.rss_anon_kb * 1024 // ps, c.rss_file_kb * 1024 // ps, c.rss_shmem_kb * 1024 // ps
        mm.swapents = c.swap_kb * 1024 // ps
        k.add_thread(proc, p.pid)  # find_lock_task_mm() needs one thread with the mm
    return k


def _verdict(k: Kernel, memcg: str | None, totalpages: int) -> Verdict:
    cg = k.cgroups[memcg] if memcg is not None else None
    oc = OomControl(cg, None, False, totalpages)
    select_bad_process(k, oc)
    chosen = oc.chosen
    return Verdict(memcg=memcg, constraint=oc.constraint, totalpages=totalpages,
                   victim=chosen.pid if chosen else None, victim_comm=chosen.comm if chosen else None,
                   candidates=oc.candidates, why=explain_choice(k, oc))


def next_victims(r: Reading, only: str | None = None, k: Kernel | None = None) -> Scores:
    """The machine's next victim (CONSTRAINT_NONE: totalram + total swap, constrained_alloc()) and each
    limited memcg's (CONSTRAINT_MEMCG: mem_cgroup_get_max()). `only`: just that memcg subtree's.
    `k`: build_kernel(r), when the caller has it already."""
    k = k or build_kernel(r)
    model = {p.pid: proc_oom_score_of(k, p) for p in k.tasklist}
    verdicts = [] if only else [_verdict(k, None, k.totalpages_global())]
    for path, m in r.memcgs.items():
        inside = only is None or path == only or path.startswith(only.rstrip("/") + "/")
        if m.limit is not None and inside:
            v = _verdict(k, path, mem_cgroup_get_max(m, r))
            v.limit, v.usage = m.limit, m.usage
            verdicts.append(v)
    return Scores(model, verdicts)
