"""Honest feedback: what a player's move actually did, in one line, from the events it produced and
the kernel state right after it. "kill -TERM 300" is what was asked; "SIGTERM to loader 300: it has a
handler and keeps running" is what happened.

Pure functions over the model (no Textual, no Rich), one per kind of move; each action's effect()
(scene/actions.py) calls its own. The TUI shows the line after Simulation.apply().
"""

from __future__ import annotations

from ..kernel import events as ev
from ..kernel.core import Kernel
from ..kernel.state import DISK, EXITING, FROZEN, STOPPED_V2

ERRNO_WHY = {
    "EINVAL": "not dying: no fatal signal, task_will_free_mem() is false (or flags != 0)",
    "ESRCH": "no such process, or every thread already passed exit_mm",
    "ENOSYS": "process_mrelease() does not exist before 5.15",
    "EINTR": "the caller got a fatal signal",
    "EAGAIN": "a blockable MMU notifier",
}


def _name(k: Kernel, pid: int) -> str:
    p = k.pids.get(pid)
    return f"{p.comm} {pid}" if p else f"pid {pid}"


def _tids(ts) -> str:
    ids = [str(t.tid) for t in ts]
    return ("thread " if len(ids) == 1 else "threads ") + ", ".join(ids)


def _of(events: list, cls) -> list:
    return [e for e in events if isinstance(e, cls)]


def _dying(k: Kernel, pid: int, signal: str) -> str:
    """After a fatal signal: SIGNAL_GROUP_EXIT is set at send time (complete_signal), but only threads
    that can run act on it: a v1-frozen thread stays in the refrigerator, a D-state one exits when its
    sleep ends (kernel-model.md 2.3, 5.1)."""
    p = k.pids[pid]
    head = f"{signal} to {p.comm} {pid}"
    if p.exited_at is not None:
        return f"{head}: exited"
    if p.killed_at is not None and p.killed_at < k.jiffies:
        head += ": already dying"
    else:
        head += ": dying"
    frozen = [t for t in p.threads if t.state == FROZEN]
    disk = [t for t in p.threads if t.state == DISK]
    notes = []
    if frozen:
        notes.append(f"{_tids(frozen)} frozen (v1): cannot exit until thawed")
    if disk:
        notes.append(f"{_tids(disk)} in D state: exit{'s' if len(disk) == 1 else ''} when the sleep ends")
    return head + ("; " + "; ".join(notes) if notes else "")


def sent_signal(pid: int, events: list, k: Kernel, signal: str) -> str:
    p = k.pids[pid]
    sent = [e for e in _of(events, ev.Kill) if e.pid == pid and e.signal == signal]
    if not sent:
        return f"{signal} to {p.comm} {pid}: it has already exited, nothing to signal"
    if signal == "SIGTERM" and p.handles_sigterm:
        # a caught signal is not fatal: no SIGNAL_GROUP_EXIT, so not "dying" for the OOM killer or
        # process_mrelease (sig_fatal() is false with a handler installed)
        return f"SIGTERM to {p.comm} {pid}: it has a handler and keeps running"
    if signal == "SIGTERM":
        return _dying(k, pid, "SIGTERM").replace(": dying", ": no handler, fatal: dying", 1)
    return _dying(k, pid, signal)


def _batch_start(events: list, k: Kernel) -> int:
    """Index in k.events of the first event of this batch (the batch is at the end)."""
    if not events:
        return len(k.events)
    first = events[0]
    for i in range(len(k.events) - 1, -1, -1):
        if k.events[i] is first:
            return i
    return len(k.events)


def adj(pid: int, events: list, k: Kernel) -> str:
    changed = _of(events, ev.AdjChanged)
    mine = [e for e in changed if e.pid == pid]
    if not mine:
        return f"oom_score_adj of {_name(k, pid)}: unchanged"
    # the value before: the last earlier write, else the value the process started with (the model
    # keeps signal->oom_score_adj_min at the starting value)
    start = _batch_start(events, k)
    old = next((e.oom_score_adj for e in reversed(k.events[:start]) if isinstance(e, ev.AdjChanged) and e.pid == pid),
               k.pids[pid].oom_score_adj_min)
    text = f"oom_score_adj of {_name(k, pid)}: {old} → {mine[-1].oom_score_adj}"
    others = [e for e in changed if e.pid != pid]
    if others:
        # __set_oom_adj(): every process sharing the mm gets the same value
        text += "; also " + ", ".join(_name(k, e.pid) for e in others) + " (shares its mm)"
    return text


def oom(cg: str | None, events: list, k: Kernel) -> str:
    prefix = f"memcg OOM in {cg}" if cg and cg != "/" else "OOM"
    aborted = _of(events, ev.OomAborted)
    if aborted:
        a = aborted[0]
        return f"{prefix}: aborted, blocked by pending victim {a.blocked_by} ({a.comm})"
    shortcut = _of(events, ev.OomShortcut)
    if shortcut:
        s = shortcut[0]
        # task_will_free_mem(): the victim is already dying; it is marked and the reaper queued, no kill
        return f"{prefix}: {s.comm} {s.pid} is already dying: marked as a victim, nothing new killed"
    kills = [e for e in _of(events, ev.Kill) if e.reason in ("oom", "oom_group", "mm_sharer")]
    if kills:
        why = {"oom_group": "memory.oom.group", "mm_sharer": "shares its mm"}
        main = [e for e in kills if e.reason == "oom"]
        rest = [e for e in kills if e.reason != "oom"]
        text = f"{prefix}: killed " + ", ".join(f"{e.comm} {e.pid}" for e in main or kills[:1])
        if rest and main:
            text += "; also " + ", ".join(f"{e.comm} {e.pid} ({why[e.reason]})" for e in rest)
        thawed = [t for e in _of(events, ev.MarkVictim) for t in e.thawed]
        if thawed:
            text += f"; mark_oom_victim() thawed {'thread' if len(thawed) == 1 else 'threads'} " + \
                ", ".join(map(str, thawed))
        return text
    selected = _of(events, ev.OomSelected)
    if selected and selected[0].victim_pid is None:
        return f"{prefix}: nothing it may kill"
    if not _of(events, ev.OomInvoked) and k.last_abort is not None:
        # out_of_memory() reports an abort once per blocker: this one aborted on the same victim again
        blocker = k.pids[k.last_abort]
        return f"{prefix}: aborted, blocked by pending victim {blocker.pid} ({blocker.comm})"
    return f"{prefix}: nothing happened"


def _freezer_state(path: str, verb: str, events: list) -> str:
    st = [e for e in _of(events, ev.FreezerState) if e.cgroup == path]
    return f"{verb} {path}: {st[-1].state if st else 'no change'}"


def froze(path: str, events: list, k: Kernel) -> str:
    text = _freezer_state(path, "freeze", events)
    # freeze_task(): a D-state task freezes only when it returns to user space
    disk = [t for cg in k.cgroups[path].subtree() for p in cg.members for t in p.threads if t.state == DISK]
    if disk:
        text += f"; {_tids(disk)} in D state: freeze{'s' if len(disk) == 1 else ''} when the sleep ends"
    return text


def thawed(path: str, events: list, k: Kernel) -> str:
    text = _freezer_state(path, "thaw", events)
    # thawed threads of a dying process now see the pending SIGKILL and exit (get_signal())
    exiting = sorted({e.pid for e in _of(events, ev.ThreadState) if e.state == EXITING})
    if exiting:
        text += "; " + ", ".join(_name(k, pid) for pid in exiting) + " now exit" + \
            ("s" if len(exiting) == 1 else "") + " (SIGKILL was pending)"
    return text


def mrelease(pid: int, events: list, k: Kernel) -> str:
    who = _name(k, pid)
    sys = [e for e in _of(events, ev.Syscall) if e.name == "process_mrelease" and e.pid == pid]
    if sys:
        s = sys[-1]
        if s.errno:
            return f"process_mrelease({who}) = -1 {s.errno}: {ERRNO_WHY.get(s.errno, s.errno)}"
        freed = sum(e.freed_kb for e in _of(events, ev.Reaped) if e.pid == pid)
        return f"process_mrelease({who}) = 0" + (f": reaped {freed // 1024} MiB" if freed else ": nothing left to reap")
    if pid in k.mrelease_calls:
        mm = k.pids[pid].mm
        if mm is not None and mm.mmap_lock_writer is not None:
            return f"process_mrelease({who}): waits for mmap_lock (held by thread {mm.mmap_lock_writer.tid})"
        # the caller unmaps the private memory itself, a chunk per jiffy; the call returns when done
        return f"process_mrelease({who}): reaping in the caller's context"
    return f"process_mrelease({who}): no answer yet"


def unlock(name: str, events: list, k: Kernel) -> str:
    got = [e for e in _of(events, ev.FutexEvent) if e.futex == name and e.outcome in ("acquired", "eownerdead")]
    if got:
        return f"unlock {name}: waiter {got[0].tid} {'acquired it' if got[0].outcome == 'acquired' else 'got EOWNERDEAD'}"
    return f"unlock {name}: free now, nobody was waiting"


def move(asked: str, events: list, k: Kernel) -> str:
    """`asked`: the write as the action describes it, said when nothing happened."""
    moved = _of(events, ev.CgroupMove)
    if not moved:
        return asked
    m = moved[-1]
    if m.errno:
        return f"{_name(k, m.pid)} stays in {m.from_cgroup}: write() = -1 {m.errno}, {MOVE_ERRNO_WHY[m.errno]}"
    text = f"{_name(k, m.pid)} now in {m.cgroup} ({m.hierarchy} hierarchy)"
    changed = {e.state for e in _of(events, ev.ThreadState) if e.pid == m.pid}
    if changed & {FROZEN, STOPPED_V2}:
        text += ": its threads freeze"
    elif changed:
        text += ": thawed"
    if m.left_kb:
        text += f"; {m.left_kb // 1024} MiB stay charged to the memcg it left"
    if m.moved_kb or m.moved_swap_kb:
        swap = f" and the charges of {m.moved_swap_kb // 1024} MiB of swap" if m.moved_swap_kb else ""
        text += f"; {m.moved_kb // 1024} MiB of charges{swap} move with it (memory.move_charge_at_immigrate)"
    return text


MOVE_ERRNO_WHY = {
    "EBUSY": "the cgroup has child cgroups with the memory controller, and cgroup v2 lets a cgroup "
             "hold processes or enable controllers for children, not both (no internal processes)",
    "ENOMEM": "memory.move_charge_at_immigrate: the destination cannot take the charges that would move "
              "with it (its limit, or an ancestor's)",
}


def policy(k: Kernel) -> str:
    return f"kernel policy now {k.policy.id} ({k.policy.title}): timers already armed keep their expiry"
