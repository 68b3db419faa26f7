"""mm/mmap.c: exit_mmap(), run by the last mmput() of an mm (kernel-model.md 3.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import events as ev
from .memory import ZapJob, flush_gathered, start_zap
from .page_types import KB_PER_PAGE, PAGE_SIZE
from .sched import GATHER_PAGES
from .state import MMF_OOM_SKIP, MmStruct

if TYPE_CHECKING:
    from .core import Kernel


def exit_mmap(k: "Kernel", mm: MmStruct, then) -> None:
    """6.0+: unmap every VMA (forward), set MMF_OOM_SKIP, then free page tables and VMAs. (4.17-5.19
    reaped an OOM victim's mm first with __oom_reap_task_mm() and then set MMF_OOM_SKIP: the same
    memory freed and the same flag, so every era uses this path.)"""
    k.emit(ev.ExitMmap(t=k.jiffies, pid=mm.owner_pid, phase="start"))

    def tlb_finish_mmu(job: ZapJob) -> None:
        if job.pending:
            flush_gathered(k, job, job.pending)
        pt_pages = mm.pgtables_bytes // PAGE_SIZE
        k.set_pgtables_bytes(mm, 0)  # free_pgtables()
        mm.vmas = []
        mm.total_vm = 0
        k.emit(ev.ExitMmap(t=k.jiffies, pid=mm.owner_pid, phase="done", freed_kb=(job.freed + pt_pages) * KB_PER_PAGE))
        then()

    def unmapped(job: ZapJob) -> None:
        # "Set MMF_OOM_SKIP to hide this task from the oom killer/reaper because the memory has been
        # already freed" - before free_pgtables() and tlb_finish_mmu(), which free the last gathered
        # pages. Race trials model that window (an allocator retrying in it finds a full memcg and
        # no victim to wait for: the lab's allocator-also-killed race); whole jiffies close it.
        k.set_mm_flag(mm, MMF_OOM_SKIP)
        if k.race is None:
            return tlb_finish_mmu(job)
        k.add_timer_us(k.now_us() + job.pending * k.race.p.free_us_per_page, lambda: tlb_finish_mmu(job))

    job = ZapJob(mm, list(mm.vmas), k.exit_rate, "exit_mmap", mm.owner_pid, unmapped)
    if k.race is not None:
        job.gather = GATHER_PAGES  # tlb_gather_mmu_fullmm()
    start_zap(k, job)
