"""kernel/exit.c and kernel/futex/core.c: signals, do_exit per thread, futex_cleanup,
exit_robust_list/handle_futex_death, mmput (exit_mmap: mmap.py) (kernel-model.md section 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import events as ev
from .mmap import exit_mmap
from .sched import AT_ONCE_US
from .state import (
    DISK, EXITING, FUTEX_OWNER_DIED, FUTEX_WAITERS, ROBUST_LIST_LIMIT, RUNNING, SLEEPING, STOPPED_V2,
    ZOMBIE, Futex, Process, Task,
)

if TYPE_CHECKING:
    from .core import Kernel


def send_signal(k: "Kernel", p: Process, sig: str, reason: str) -> None:
    """A fatal signal (SIGKILL, or SIGTERM with the default action) sets SIGNAL_GROUP_EXIT at send
    time (complete_signal()), so the process is "dying" for task_will_free_mem() at once, even if
    none of its threads can run yet."""
    if not p.alive:
        return
    k.emit(ev.Kill(t=k.jiffies, pid=p.pid, comm=p.comm, reason=reason, signal=sig))
    if sig == "SIGTERM" and p.handles_sigterm:
        return  # a handler runs: no group exit (the userspace-OOM-killer bug of the SIGTERM scene)
    if p.killed_at is None:
        p.killed_at, p.kill_reason = k.jiffies, reason
    p.group_exit = True
    # fatal signals wake TASK_INTERRUPTIBLE/TASK_WAKEKILL sleepers (signal_wake_up_state() with
    # TASK_WAKEKILL: a TASK_KILLABLE D sleep too) and v2-frozen tasks; a v1-frozen task (TASK_FROZEN)
    # and an uninterruptible D-state task are not woken
    woken = [t for t in p.threads
             if t.state in (RUNNING, SLEEPING, STOPPED_V2) or (t.state == DISK and t.killable)]
    cleanup_at = signal_wake_up(k, woken)
    for t in woken:
        start_exit(k, t, cleanup_at.get(t.tid))


def signal_wake_up(k: "Kernel", threads: list[Task]) -> dict[int, float]:
    """signal_wake_up_state() on each thread woken. Race trials: when each woken thread reaches
    futex_cleanup() (sched.py, one wake-up burst). A thread whose exit_latency is above the scenes'
    default (4 ms, at least a jiffy) is held back that long (the scene says it cannot run sooner); the
    default is the model's "at once", which the race model replaces with microseconds."""
    race = k.race
    if race is None or not threads:
        return {}
    at_once = max(1, -(-AT_ONCE_US // race.tick_us))
    starve = {t.tid: t.exit_latency * race.tick_us for t in threads if t.exit_latency > at_once}
    return race.wake_group(k.now_us(), [t.tid for t in threads], starve)


def start_exit(k: "Kernel", t: Task, cleanup_at: float | None = None) -> None:
    """do_exit(): exit_signals() sets PF_EXITING; the thread reaches exit_mm() `exit_latency` later
    (race trials: at cleanup_at µs)."""
    if t.state in (EXITING, ZOMBIE) or not t.alive:
        return
    t.pf_exiting = True
    f = t.waiting_on
    if f is not None:  # a dying waiter leaves the futex queue
        t.waiting_on = None
        for w in list(f.waiters):
            if w.task is t:
                f.waiters.remove(w)
                w.outcome, w.t = "killed", k.jiffies
                k.emit(ev.FutexEvent(t=k.jiffies, futex=f.name, tid=t.tid, outcome="killed"))
    k.set_state(t, EXITING)
    if cleanup_at is not None:
        k.add_timer_us(cleanup_at, lambda: exit_mm(k, t))
        return
    k.add_timer(k.jiffies + t.exit_latency, lambda: exit_mm(k, t))


def exit_mm(k: "Kernel", t: Task) -> None:
    """exit_mm(): exit_mm_release() -> futex_exit_release() first, then mmput(); the last user runs
    exit_mmap() and only then finishes do_exit()."""
    futex_cleanup(k, t)
    mm = t.mm
    k.set_task_mm(t, None)
    if mm is None:
        return finish_exit(k, t)
    if mm.mmap_lock_writer is t:
        mm.mmap_lock_writer = None
    mm.mm_users -= 1
    if mm.mm_users == 0:
        exit_mmap(k, mm, lambda: finish_exit(k, t))  # mmput() runs it synchronously in this thread
    else:
        finish_exit(k, t)


def finish_exit(k: "Kernel", t: Task) -> None:
    t.tif_memdie = False  # exit_oom_victim(), after mmput()
    k.set_state(t, ZOMBIE)
    p = t.process
    if all(not th.alive for th in p.threads):
        p.exited_at = k.jiffies
        k.cgroup_exit(p)
        if p.alloc is not None and p.alloc in k.allocations:
            k.allocations.remove(p.alloc)
        k.emit(ev.ProcessExit(t=k.jiffies, pid=p.pid, comm=p.comm))
        if p.parent is None or not p.parent.alive or can_reap(p.parent):
            release_task(k, p)
        reap_zombie_children(k, p)  # its orphans go to init, which reaps them


def can_reap(parent: Process) -> bool:
    """A parent reaps its zombie children when one of its threads can run (a frozen or D-state
    parent cannot call wait())."""
    return any(th.state in (RUNNING, SLEEPING) for th in parent.threads)


def release_task(k: "Kernel", p: Process) -> None:
    """The zombie is reaped: gone from the task list (for_each_process no longer sees it)."""
    p.released = True
    if p in k.tasklist:
        k.tasklist.remove(p)


def reap_zombie_children(k: "Kernel", p: Process) -> None:
    for child in p.children:
        if child.exited_at is not None and not child.released:
            release_task(k, child)


# ---------------------------------------------------------------- futexes (4.2 - 4.4)
def futex_cleanup(k: "Kernel", t: Task) -> None:
    if t.robust_list:
        exit_robust_list(k, t)
        t.robust_list = False
    t.robust_held = ()  # the list is gone with the thread, whether or not the walk could read it
    # The owner is past futex cleanup: a futex still carrying its TID can never be woken now.
    # Waiters without a timeout hang; timed waiters will return ETIMEDOUT when their timer fires.
    for f in k.futexes.values():
        if f.owner_task is t and (f.word & 0x3FFFFFFF) == t.tid:
            for w in [w for w in f.waiters if w.timeout_at is None]:
                f.waiters.remove(w)
                w.outcome, w.t = "hung", k.jiffies
                k.emit(ev.FutexEvent(t=k.jiffies, futex=f.name, tid=w.task.tid, outcome="hung"))


def _readable(k: "Kernel", vma) -> bool:
    """get_user() on reaped private memory fails: MMF_UNSTABLE makes the fault VM_FAULT_SIGBUS.
    Race trials: reaped means the reaper was done with that mapping before now."""
    if vma is None:
        return True
    if k.race is not None:
        at = k.race.zapped_at.get(vma)
        return at is None or at > k.now_us()
    return not vma.zapped


def exit_robust_list(k: "Kernel", t: Task) -> None:
    """Walk the user-space robust list: the head lives in the thread's stack/TLS (glibc struct
    pthread, MAP_PRIVATE|MAP_ANONYMOUS). Any fault reading it -> return silently."""
    mm = t.mm
    head = None
    if mm is not None:
        head = next((v for v in mm.vmas if v.stack_of == t.tid), None)
    if not _readable(k, head):
        k.emit(ev.RobustListFault(t=k.jiffies, tid=t.tid, pid=t.process.pid))
        return
    for f in list(reversed(t.robust_held))[:ROBUST_LIST_LIMIT]:  # newest first, as glibc links them
        if not _readable(k, f.vma):
            k.emit(ev.RobustListFault(t=k.jiffies, tid=t.tid, pid=t.process.pid))
            return  # -1 from handle_futex_death aborts the walk
        handle_futex_death(k, f, t)


def handle_futex_death(k: "Kernel", f: Futex, t: Task) -> None:
    uval = f.word
    if (uval & 0x3FFFFFFF) != t.tid:
        return  # not ours
    f.word = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED
    f.owner_task = None
    k.emit(ev.FutexEvent(t=k.jiffies, futex=f.name, tid=t.tid, outcome="owner_died"))
    if uval & FUTEX_WAITERS:
        futex_wake(k, f)


def futex_wake(k: "Kernel", f: Futex) -> None:
    """Wake one waiter; a glibc robust mutex waiter takes the lock and returns EOWNERDEAD when the
    word has FUTEX_OWNER_DIED, else it simply acquires."""
    if not f.waiters:
        f.word &= ~FUTEX_WAITERS
        return
    w = f.waiters.pop(0)
    outcome = "eownerdead" if f.word & FUTEX_OWNER_DIED else "acquired"
    w.outcome, w.t = outcome, k.jiffies
    w.task.waiting_on = None
    f.word = w.task.tid | (FUTEX_WAITERS if f.waiters else 0)
    f.owner_task = w.task
    if f.robust and w.task.robust_list:
        w.task.hold_robust(f)
    k.emit(ev.FutexEvent(t=k.jiffies, futex=f.name, tid=w.task.tid, outcome=outcome))


def futex_unlock(k: "Kernel", f: Futex, t: Task) -> None:
    """The owner unlocks (pthread_mutex_unlock): the word is cleared and one waiter is woken."""
    if f.owner_task is not t:
        return
    if f in t.robust_held:
        t.robust_held.remove(f)
    had_waiters = bool(f.word & FUTEX_WAITERS)
    f.word, f.owner_task = 0, None
    if had_waiters:
        futex_wake(k, f)
