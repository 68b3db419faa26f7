"""Events in words: one line each for timelines (CLI, TUI, recordings). No Rich here."""

from __future__ import annotations

from ..kernel import events as ev
from ..kernel.core import Kernel

ERRNO_TEXT = {
    "EINVAL": "target is not dying (or flags != 0)",
    "ESRCH": "no such process, or every thread already passed exit_mm",
    "ENOSYS": "process_mrelease does not exist before 5.15",
    "EINTR": "caller got a fatal signal",
    "EAGAIN": "a blockable MMU notifier",
}


def syscall_text(e: ev.Syscall) -> str:
    """The call as strace would show it, with a why for the errno."""
    call = f"{e.name}(pidfd({e.pid}), {e.flags})"
    if e.errno:
        why = ERRNO_TEXT.get(e.errno, "")
        return f"{call} = -1 {e.errno}" + (f" ({why})" if why else "")
    return f"{call} = {e.ret}"


def describe(e: ev.AnyEvent, k: Kernel) -> tuple[str, str] | None:
    """(kind, text) for events worth a timeline line, else None. kind is a style key:
    kill, reap, futex-ok, futex-bad, freezer, syscall, oom, exit, alarm, action."""
    hz = k.hz
    if isinstance(e, ev.Kill):
        why = {"oom": "OOM killer victim", "oom_group": "memory.oom.group", "mm_sharer": "shares the victim's mm",
               "signal": "sent by userspace"}.get(e.reason, e.reason)
        return "kill", f"{e.signal} -> {e.comm} ({e.pid}): {why}"
    if isinstance(e, ev.OomInvoked):
        where = f"memcg {e.memcg}" if e.memcg else ("sysrq-f" if e.kind == "sysrq" else "global")
        return "oom", f"out_of_memory ({where}) invoked by {e.comm}, totalpages {e.totalpages}"
    if isinstance(e, ev.OomSelected):
        return "oom", f"select_bad_process: {e.why}"
    if isinstance(e, ev.OomAborted):
        return "oom", f"OOM scan aborted: blocked by pending victim {e.blocked_by} ({e.comm}) without MMF_OOM_SKIP"
    if isinstance(e, ev.OomShortcut):
        return "oom", f"task_will_free_mem({e.where}) {e.comm} ({e.pid}): marked as victim, no kill"
    if isinstance(e, ev.MarkVictim):
        thawed = f", thawed {', '.join(map(str, e.thawed))}" if e.thawed else ""
        return "oom", f"mark_oom_victim: {e.pid} (thread {e.tid}) gets TIF_MEMDIE{thawed}"
    if isinstance(e, ev.ReaperQueued):
        if e.delay < 0:
            return "reap", f"oom_reaper: {e.comm} ({e.pid}) is never queued: {e.why}"
        return "reap", f"queue_oom_reaper: {e.comm} ({e.pid}), delay {e.delay} jiffies ({e.delay / hz:.2f} s): {e.why}"
    if isinstance(e, ev.ReaperTimer):
        text = "fires" if e.result == "fires" else "no-op: MMF_OOM_SKIP already set"
        return "reap", f"reaper timer for {e.comm} ({e.pid}): {text}"
    if isinstance(e, ev.ReaperAttempt) and not e.ok:
        return "reap", f"oom_reaper: mmap_read_trylock failed on {e.pid} (attempt {e.attempt}/10)"
    if isinstance(e, ev.Reaped):
        if e.result == "reaped":
            return "reap", f"{e.by} reaped {e.comm} ({e.pid}): {e.freed_kb // 1024} MiB freed"
        if e.result == "unable":
            return "alarm", f"oom_reaper: unable to reap {e.comm} ({e.pid}); MMF_OOM_SKIP set anyway"
        return None
    if isinstance(e, ev.RobustListFault):
        return "futex-bad", f"exit_robust_list of thread {e.tid} faults: its robust list head was reaped"
    if isinstance(e, ev.FutexEvent):
        text = {
            "owner_died": f"{e.futex}: owner {e.tid} died, FUTEX_OWNER_DIED set",
            "eownerdead": f"{e.futex}: waiter {e.tid} woken, pthread_mutex_lock returns EOWNERDEAD",
            "acquired": f"{e.futex}: waiter {e.tid} acquired it",
            "timedout": f"{e.futex}: waiter {e.tid} timed out (ETIMEDOUT)",
            "hung": f"{e.futex}: waiter {e.tid} HUNG: the owner is gone and no wake-up can come",
            "killed": f"{e.futex}: waiter {e.tid} was killed while waiting",
        }[e.outcome]
        return ("futex-bad" if e.outcome in ("hung", "timedout") else "futex-ok"), text
    if isinstance(e, ev.FreezerState):
        return "freezer", f"freezer {e.cgroup}: {e.state}"
    if isinstance(e, ev.CgroupMove):
        if e.errno:
            return "alarm", f"{e.comm} ({e.pid}) not moved to {e.cgroup}: the write fails with {e.errno}"
        stay = f"; {e.left_kb // 1024} MiB stay charged where they were" if e.left_kb else ""
        if e.moved_kb or e.moved_swap_kb:
            swap = f" and the charges of {e.moved_swap_kb // 1024} MiB of swap" if e.moved_swap_kb else ""
            stay += f"; {e.moved_kb // 1024} MiB of charges{swap} move with it"
        where = " (freezer hierarchy)" if e.hierarchy == "freezer" and e.cgroup == "/" else ""
        return "freezer" if e.hierarchy == "freezer" else "oom", f"{e.comm} ({e.pid}) moved to {e.cgroup}{where}{stay}"
    if isinstance(e, ev.Syscall):
        return "syscall", syscall_text(e)
    if isinstance(e, ev.ExitMmap):
        if e.phase == "done":
            return "exit", f"exit_mmap of {e.pid} done: {e.freed_kb // 1024} MiB freed, MMF_OOM_SKIP set"
        return None
    if isinstance(e, ev.ProcessExit):
        return "exit", f"{e.comm} ({e.pid}) exited"
    if isinstance(e, ev.AllocFailed):
        return "alarm", f"{e.comm} ({e.pid}): allocation fails for good (nothing to kill in {e.memcg or 'the system'})"
    if isinstance(e, ev.Livelock):
        return "alarm", f"OOM LIVELOCK: {e.reason}"
    if isinstance(e, ev.Panic):
        return "alarm", f"Kernel panic: {e.message}"
    if isinstance(e, ev.ActionApplied):
        who = "script" if e.scripted else "player"
        return "action", f"{who}: {e.what}" + (f" ({e.caption})" if e.caption else "")
    if isinstance(e, ev.PolicyChanged):
        return "oom", f"policy switched to {e.policy}"
    if isinstance(e, ev.AdjChanged):
        return "oom", f"oom_score_adj of {e.pid} = {e.oom_score_adj}"
    return None


def timeline(k: Kernel, events: list[ev.AnyEvent] | None = None) -> list[tuple[int, str, str]]:
    """(jiffies, kind, text) for every notable event."""
    out = []
    for e in k.events if events is None else events:
        d = describe(e, k)
        if d is not None:
            out.append((e.t, d[0], d[1]))
    return out
