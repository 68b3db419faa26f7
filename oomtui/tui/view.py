"""Read-only queries of kernel state that the panels need and the model does not offer.

No Textual here; everything takes the Kernel and returns plain values.
"""

from __future__ import annotations

from ..kernel.core import Kernel, KernelError
from ..kernel.oom_kill import oom_unkillable_task, process_badness
from ..kernel.page_types import KB_PER_PAGE, PAGE_SIZE
from ..kernel.state import (
    DISK, FROZEN, MMF_MULTIPROCESS, MMF_OOM_SKIP, MMF_UNSTABLE, STOPPED_V2, Process, Task,
)


def size(pages: int) -> str:
    """Pages as a short human size: 4K, 64M, 1.17G."""
    kb = pages * KB_PER_PAGE
    if kb == 0:
        return "0"
    if kb < 1024:
        return f"{kb}K"
    mb = kb / 1024
    if mb < 1000:
        return f"{mb:.0f}M" if mb >= 10 else f"{mb:.1f}M"
    return f"{mb / 1024:.2f}G"


def size_in(pages: int, width: int) -> str:
    """size() for a column `width` characters wide: fewer decimals, then a larger unit, rather than
    push the next column out of line (5.83G in a 4-wide SWAP column reads 5.8G, 1000K reads 1.0M)."""
    s = size(pages)
    if len(s) <= width:
        return s
    kb = pages * KB_PER_PAGE
    for unit, scale in (("M", 1024), ("G", 1024**2), ("T", 1024**3), ("P", 1024**4)):
        for text in (f"{kb / scale:.1f}{unit}", f"{kb / scale:.0f}{unit}"):
            if len(text) <= width:
                return text
    return text


def size_kb(kb: int) -> str:
    return size(kb // KB_PER_PAGE) if kb >= KB_PER_PAGE else f"{kb}K"


def cut_middle(text: str, width: int) -> str:
    """A long cgroup path cut in its middle to `width` (at least 12) characters: both its top (/kubepods…) and the
    container's hash at its end stay."""
    width = max(width, 12)
    if len(text) <= width:
        return text
    keep = width - 1
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2:]


def secs(j: int, hz: int, digits: int = 3, unit: str = "s") -> str:
    """Jiffies as seconds: 1.048s (`digits` after the point, `unit` after the number)."""
    return f"{j / hz:.{digits}f}{unit}"


def badness(k: Kernel, p: Process) -> tuple[int | None, str]:
    """oom_badness() points against the global totalpages, or (None, why not eligible)."""
    if p.exited_at is not None:
        return None, "exited"
    if oom_unkillable_task(p):
        return None, "init" if p.is_init else "kthread"
    return process_badness(k, p, k.totalpages_global())


def oom_score(k: Kernel, p: Process) -> int | None:
    if p.exited_at is not None:
        return None
    try:
        return k.oom_score(p.pid)
    except KernelError:  # already released from the pid table: nothing to show
        return None


def stuck_threads(p: Process) -> list[Task]:
    """Threads that cannot run to exit now: frozen or in uninterruptible sleep."""
    return [t for t in p.threads if t.state in (FROZEN, STOPPED_V2, DISK)]


def marks(k: Kernel, p: Process) -> list[tuple[str, str]]:
    """(label, kind) marks of a process: victim, dying, reaped, pinned, skip, exited."""
    out: list[tuple[str, str]] = []
    if p.exited_at is not None:
        out.append(("exited", "exited"))
        if p.oom_mm is not None:
            out.insert(0, ("victim", "victim"))
        return out
    if any(hung_on(t) for t in p.threads):
        out.append(("HUNG", "hung"))
    if p.oom_mm is not None:
        out.append(("VICTIM", "victim"))  # a victim is always dying too: say it once
    elif p.group_exit:
        out.append(("dying", "dying"))
    mm = p.oom_mm or p.mm
    if mm is not None and MMF_UNSTABLE in mm.flags:
        out.append(("reaped", "reaped"))
    if p.group_exit and stuck_threads(p):
        out.append(("pinned", "pinned"))
    elif p.group_exit and mm is not None and _sharers(k, p, mm):
        out.append(("pinned", "pinned"))
    if mm is not None and MMF_OOM_SKIP in mm.flags and p.oom_mm is not None:
        out.append(("OOM_SKIP", "skip"))
    if p.oom_score_adj == -1000:
        out.append(("unkillable", "dim"))
    if p.freezer_cg is not None:  # the tree groups by memory cgroup: say where the freezer is
        out.append((f"freezer:{p.freezer_cg.path}", "dim"))
    return out


def hung_on(t: Task):
    """The futex this thread waits on forever (its owner exited without waking it), else None."""
    f = t.waiting_on
    if f is None:
        return None
    for w in f.history:
        if w.task is t and w.outcome == "hung":
            return f
    return None


def _sharers(k: Kernel, p: Process, mm) -> list[Process]:
    """Other processes using this mm (CLONE_VM without CLONE_THREAD): only MMF_MULTIPROCESS mms."""
    if MMF_MULTIPROCESS not in mm.flags:
        return []
    return [q for q in k.tasklist if q is not p and any(t.mm is mm for t in q.threads)]


def pins(k: Kernel, dying) -> list[str]:
    """Who pins what: memory of the dying processes `dying` (pids) that cannot go back yet, and why.
    Cost grows with the dying, not with the task list."""
    out: list[str] = []
    shm_seen: set[str] = set()
    for pid in dying:
        p = k.pids.get(pid)
        if p is None or p.exited_at is not None:
            continue
        mm = p.oom_mm or p.mm
        if mm is None:
            continue
        why: list[str] = [f"thread {t.tid} {t.letter}" for t in stuck_threads(p)]
        for q in _sharers(k, p, mm):
            st = stuck_threads(q)
            why.append(f"mm shared with {q.comm} {q.pid}" + (f" ({st[0].letter})" if st else ""))
        if mm.mmap_lock_writer is not None:
            why.append(f"mmap_lock held by {mm.mmap_lock_writer.tid}")
        for v in mm.vmas:
            if v.shm is not None and v.shm.name not in shm_seen:
                shm_seen.add(v.shm.name)
                out.append(f"shm {v.shm.name}: {size(v.shm.pages)} stays (tmpfs outlives {p.comm})")
        if not why:
            continue
        reaped = MMF_UNSTABLE in mm.flags
        what = f"page tables {size(mm.pgtables_bytes // PAGE_SIZE)}" if reaped else f"{size(mm.anon + mm.swapents)} anon"
        out.insert(0, f"{p.comm} {p.pid}: {what} held — {', '.join(why)}")
    return out
