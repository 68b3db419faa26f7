"""mm/memory.c: unmap_page_range() and the zap_pte_range() accounting under it, shared by the
oom_reaper, process_mrelease (both through __oom_reap_task_mm, oom_kill.py) and exit_mmap (mmap.py).
Unmapping is work in progress: a ZapJob walks its VMAs at `rate` pages per jiffy, rescheduling itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from . import events as ev
from .state import Cgroup, MmStruct, Vma

if TYPE_CHECKING:
    from .core import Kernel


class ZapJob:
    """unmap_page_range() over a list of VMAs at `rate` pages per jiffy: used by the oom_reaper,
    by process_mrelease (in the caller's context) and by exit_mmap."""

    __slots__ = ("mm", "order", "idx", "rate", "by", "pid", "on_done", "freed", "current", "lead_us",
                 "gather", "pending", "pending_owners")

    def __init__(self, mm: MmStruct, order: list[Vma], rate: int, by: str, pid: int,
                 on_done: Callable[["ZapJob"], None]):
        self.mm = mm
        self.order = order
        self.idx = 0
        self.rate = rate
        self.by = by
        self.pid = pid
        self.on_done = on_done
        self.freed = 0  # anon pages returned to the free pool
        self.current: Vma | None = None
        # race trials only (Kernel.race): µs of walking before the first listed VMA (mappings the
        # scene does not draw), and exit_mmap's mmu_gather: freed pages stay charged in batches of
        # `gather` until flushed; `pending` of them wait for tlb_finish_mmu()
        self.lead_us = 0.0
        self.gather = 0
        self.pending = 0
        self.pending_owners: list[list] = []  # [memcg, pages] of the pending ones, in zap order


def take_pages(fifo: list[list], pages: int) -> list[tuple[Cgroup, int]]:
    """Up to `pages` pages off the front of a FIFO of [memcg, pages]: (memcg, pages) taken, in order."""
    out = []
    while fifo and pages:
        memcg, n = fifo[0]
        take = min(n, pages)
        out.append((memcg, take))
        pages -= take
        if take == n:
            fifo.pop(0)
        else:
            fifo[0][1] -= take
    return out


def start_zap(k: "Kernel", job: ZapJob) -> None:
    """Start unmapping now; the job reschedules itself each jiffy until its VMAs are done."""
    k.zap_jobs.append(job)
    _zap_tick(k, job)


def _zap_tick(k: "Kernel", job: ZapJob) -> None:
    if k.race is not None:
        return _zap_tick_timed(k, job)
    _zap_tick_jiffy(k, job)


def _enter_vma(k: "Kernel", job: ZapJob, vma: Vma) -> bool:
    """The walk reaches `vma`; False: another job already unmapped all of it (skip it). A VMA another
    job is still unmapping is shared: both take pages from what is left."""
    if vma.zapped and vma.rss == 0 and vma.swap == 0:
        return False
    vma.zapped = True
    job.current = vma
    if job.by != "exit_mmap":
        k.emit(ev.ReapVma(t=k.jiffies, pid=job.pid, by=job.by, start=vma.start, end=vma.end,
                          name=vma.name, pages=vma.rss + vma.swap))
    return True


def _zap_tick_jiffy(k: "Kernel", job: ZapJob) -> None:
    """unmap_page_range() for `rate` pages this jiffy. The reaper and exit_mmap may work on the same
    range at once (6.18 walks them in opposite directions to reduce PTE-lock contention); each
    page is freed once, by whichever gets there first."""
    budget = job.rate
    mm = job.mm
    while job.idx < len(job.order):
        vma = job.order[job.idx]
        if job.current is not vma and not _enter_vma(k, job, vma):
            job.idx += 1
            continue
        work = vma.rss + vma.swap
        if work > budget:
            pages = min(vma.rss, budget)
            job.freed += uncharge_vma_pages(k, mm, vma, pages, min(vma.swap, budget - pages))
            break
        job.freed += uncharge_vma_pages(k, mm, vma, vma.rss, vma.swap)
        budget -= work
        job.idx += 1
        job.current = None
    if job.idx >= len(job.order):
        k.zap_jobs.remove(job)
        job.on_done(job)
    else:
        k.add_timer(k.jiffies + 1, lambda: _zap_tick(k, job))


def _zap_tick_timed(k: "Kernel", job: ZapJob) -> None:
    """Race trials: the same walk in microseconds from now to the end of this jiffy, each mapping
    costing vma_us and each page the reap rate. A thread's descriptor (its robust list head) is at
    the top of its stack mapping, and unmap_page_range() goes up through a VMA, so a mapping counts
    as zapped (Races.zapped_at) once all of it is done."""
    race = k.race
    assert race is not None
    tick = race.tick_us
    page_us = tick / job.rate
    vma_us = race.p.vma_us
    t, job.lead_us = k.sub + job.lead_us, 0.0
    while job.idx < len(job.order) and t < tick:
        vma = job.order[job.idx]
        if job.current is not vma:
            if not _enter_vma(k, job, vma):
                job.idx += 1
                continue
            t += vma_us
        work = vma.rss + vma.swap
        room = max(0, int((tick - t) / page_us))
        if work > room:
            pages = min(vma.rss, room)
            _zap_pages(k, job, vma, pages, min(vma.swap, room - pages), tick - 1)
            t = tick
            break
        t += work * page_us
        _zap_pages(k, job, vma, vma.rss, vma.swap, min(int(t), tick - 1))
        race.zapped_at[vma] = k.jiffies * tick + t
        job.idx += 1
        job.current = None
    if job.idx >= len(job.order):
        k.zap_jobs.remove(job)
        # done at µs t of this jiffy (or just past it): a thread exiting before then still reads
        k.add_timer(k.jiffies, lambda: job.on_done(job), min(int(t), tick - 1))
    else:
        k.add_timer(k.jiffies + 1, lambda: _zap_tick(k, job), 0)


def _zap_pages(k: "Kernel", job: ZapJob, vma: Vma, pages: int, swap: int, sub: int) -> None:
    """Race trials: zap pages that are done at µs `sub` of this jiffy."""
    if not job.gather:
        job.freed += uncharge_vma_pages(k, job.mm, vma, pages, swap)
        return
    # tlb_remove_page(): into the gather batch; tlb_flush_mmu() frees the batches once they are
    # full, at the moment the walk gets there
    freed = uncharge_vma_pages(k, job.mm, vma, pages, swap, charged=False)
    job.freed += freed
    job.pending += freed
    if freed:
        job.pending_owners += ([m, n] for m, n in k.uncharge_owners(job.mm, vma, freed))
    if job.pending >= job.gather:
        n = job.pending - job.pending % job.gather
        job.pending %= job.gather
        k.add_timer(k.jiffies, lambda: flush_gathered(k, job, n), sub)


def flush_gathered(k: "Kernel", job: ZapJob, pages: int) -> None:
    """tlb_flush_mmu(): the first `pages` gathered pages are freed, each from its own memcg."""
    for memcg, n in take_pages(job.pending_owners, pages):
        k.uncharge_pages(memcg, n)


def uncharge_vma_pages(k: "Kernel", mm: MmStruct, vma: Vma, pages: int, swap: int, charged: bool = True) -> int:
    """zap_pte_range()'s accounting (add_mm_rss_vec, free_swap_and_cache): drop `pages` resident and
    `swap` entries of one mapping; return pages returned to RAM. charged=False: the anon pages leave
    the mm but stay charged (Kernel.uncharge_pages later)."""
    vma.rss -= pages
    vma.swap -= swap
    c = vma.counter
    freed = 0
    if c is not None and pages:
        k.add_mm_counter(mm, c, -pages)
    if c == "anon":
        freed = pages
        if charged:
            for memcg, n in k.uncharge_owners(mm, vma, pages):
                k.uncharge_pages(memcg, n)
    # (file pages stay in the page cache, never counted as used; shmem pages stay with their object)
    if swap:
        k.add_mm_counter(mm, "swapents", -swap)
    k.swap_used -= swap
    return freed
