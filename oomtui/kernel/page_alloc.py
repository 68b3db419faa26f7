"""mm/page_alloc.c: the allocation loop. Allocating threads fault pages in each jiffy; a charge that
fails enters the OOM path (__alloc_pages_may_oom() -> out_of_memory(), or mem_cgroup_oom() for a memcg
limit), and the allocator retries the next jiffy (__alloc_pages_slowpath()'s retry loop)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import events as ev
from .oom_kill import out_of_memory
from .page_types import PAGE_SIZE
from .state import RUNNING

if TYPE_CHECKING:
    from .core import Kernel


def arm_alloc(k: "Kernel") -> None:
    """Allocators run at this jiffy (once however many ask)."""
    if not k.alloc_armed and not k.panicked:
        k.alloc_armed = True
        k.add_timer(k.jiffies, lambda: alloc_pass(k))


def alloc_pass(k: "Kernel") -> None:
    """Every allocating thread faults in up to `rate` pages this jiffy; a failed charge enters
    the OOM path (__alloc_pages_may_oom / mem_cgroup_oom). The allocator retries each jiffy."""
    k.alloc_armed = False
    active = False
    blocked = False
    for a in list(k.allocations):
        t = a.task
        if a.remaining <= 0 or a.failed or t.mm is None or not t.alive or k.jiffies < a.start:
            continue
        if t.state != RUNNING:
            active = True  # frozen / D / exiting allocators resume later
            continue
        chunk = min(a.rate, a.remaining)
        if k.race is not None:
            k.race.current = t.tid  # an OOM kill from here runs in the allocator's context
        mm = t.mm
        over = k.try_charge(mm.memcg, chunk)
        if over is None and k.free_pages() < chunk:
            over = k.root
        if over is None:
            k.charge_pages(mm.memcg, chunk, global_pages=chunk)
            a.vma.rss += chunk
            end = max(a.vma.end, a.vma.start + a.vma.rss * PAGE_SIZE)
            mm.total_vm += (end - a.vma.end) // PAGE_SIZE
            a.vma.end = end
            k.add_mm_counter(mm, "anon", chunk)
            a.remaining -= chunk
            a.blocked_since = None
            active = active or a.remaining > 0
            continue
        active = True
        progress = out_of_memory(k, memcg=None if over is k.root else over, current=t)
        if progress == "blocked":
            blocked = True
            if a.blocked_since is None:
                a.blocked_since = k.jiffies
        elif progress == "failed":
            a.failed = True
            k.emit(ev.AllocFailed(t=k.jiffies, pid=t.process.pid, comm=t.process.comm,
                                  memcg=None if over is k.root else over.path))
        if k.panicked:
            return
    if blocked:
        k.oom_blocked_jiffies += 1
    elif k.livelock is not None and k.livelock_end is None:
        k.livelock_end = k.jiffies  # userspace (a thaw, a kill) got the allocators going again
    if active:
        if blocked and _only_alloc_pending(k):
            # Nothing the kernel will do can change the outcome: park the allocators (they would
            # retry and abort every jiffy) until a user action kicks them.
            _declare_livelock(k)
            k.dormant_since = k.jiffies
            return
        k.alloc_armed = True
        # race trials: the next attempt lands anywhere in the next jiffy (try_charge_memcg's
        # reclaim and retry loop, __alloc_pages_slowpath, are not aligned to the tick)
        sub = None if k.race is None else k.race.rng.randrange(k.race.tick_us)
        k.add_timer(k.jiffies + 1, lambda: alloc_pass(k), sub)


def _only_alloc_pending(k: "Kernel") -> bool:
    """No kernel work is scheduled that could free memory or set MMF_OOM_SKIP."""
    return k.next_event_at() is None and not k.zap_jobs and k.reaper_current is None \
        and not k.oom_reaper_list and not k.mrelease_calls


def _declare_livelock(k: "Kernel") -> None:
    if k.livelock is not None and k.livelock_end is None:
        return
    pid, comm = (k.last_abort, k.pids[k.last_abort].comm) if k.last_abort else (0, "?")
    why = (f"every OOM invocation aborts on victim {pid} ({comm}): it cannot exit and nothing "
           f"will set MMF_OOM_SKIP on its mm")
    k.livelock = ev.Livelock(t=k.jiffies, pid=pid, comm=comm, reason=why)
    k.livelock_end = None
    k.emit(k.livelock)
