"""Events: the one way front ends learn what happened (plus read-only queries of state).

msgspec tagged-union structs; `t` is the jiffy at which it happened. The JSON of `oomtui run`
and every TUI widget are built from these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import Iterable


class Event(msgspec.Struct, tag_field="type", kw_only=True, gc=False):
    """gc=False: an event holds values only, never a cycle; an OOM storm of 100 000 processes logs
    millions (a dump_tasks row each), which the garbage collector then need not track."""

    t: int


class Dmesg(Event, tag="dmesg"):
    line: str  # without the [seconds.micros] stamp; see Kernel.format_dmesg


class DmesgLines(Event, tag="dmesg_lines"):
    """Lines printed at `t` in one batch: dump_tasks()'s table, a row per process. One event for the
    batch, not one a row (an OOM storm of 100 000 processes prints millions), its lines in chunks that
    a later batch may share (dmesg.dump_task_rows); dmesg_events() gives them as Dmesg events."""

    chunks: list[tuple[str, ...]]

    @property
    def lines(self) -> list[str]:
        return [line for chunk in self.chunks for line in chunk]


def dmesg_events(events: "Iterable[AnyEvent]") -> list[Dmesg]:
    """The Dmesg events among `events`, a batch's lines each as one, in order."""
    out: list[Dmesg] = []
    for e in events:
        if type(e) is Dmesg:
            out.append(e)
        elif type(e) is DmesgLines:
            t = e.t
            out += [Dmesg(t=t, line=line) for chunk in e.chunks for line in chunk]
    return out


class Candidate(msgspec.Struct, gc=False):
    pid: int
    comm: str
    rss: int
    swapents: int
    pgtables_bytes: int
    oom_score_adj: int
    points: int | None  # None: not eligible (see `note`)
    note: str = ""


class OomInvoked(Event, tag="oom_invoked"):
    kind: str  # "global" | "memcg" | "sysrq"
    memcg: str | None
    pid: int | None  # the allocating task ("current"); None for sysrq
    comm: str
    totalpages: int


class OomSelected(Event, tag="oom_selected"):
    """select_bad_process() finished: the candidates it saw, in scan order, and its choice."""

    candidates: list[Candidate]
    victim_pid: int | None
    why: str


class OomAborted(Event, tag="oom_aborted"):
    """oom_evaluate_task() met a victim without MMF_OOM_SKIP: the whole scan aborts."""

    blocked_by: int
    comm: str


class OomShortcut(Event, tag="oom_shortcut"):
    """task_will_free_mem() fast path: mark_oom_victim + queue_oom_reaper, no kill, no dmesg."""

    pid: int
    comm: str
    where: str  # "current" | "victim"


class Panic(Event, tag="panic"):
    message: str


class Kill(Event, tag="kill"):
    pid: int
    comm: str
    reason: str  # "oom" | "oom_group" | "mm_sharer" | "signal"
    signal: str = "SIGKILL"


class MarkVictim(Event, tag="mark_victim"):
    pid: int
    tid: int
    thawed: list[int]


class ReaperQueued(Event, tag="reaper_queued"):
    pid: int
    comm: str
    delay: int  # jiffies
    fires_at: int
    why: str


class ReaperTimer(Event, tag="reaper_timer"):
    pid: int
    comm: str
    result: str  # "fires" | "noop"


class ReaperAttempt(Event, tag="reaper_attempt"):
    pid: int
    attempt: int
    ok: bool


class ReapVma(Event, tag="reap_vma"):
    pid: int
    by: str  # "oom_reaper" | "process_mrelease" | "exit_mmap"
    start: int
    end: int
    name: str
    pages: int


class Reaped(Event, tag="reaped"):
    pid: int
    comm: str
    by: str  # "oom_reaper" | "process_mrelease"
    result: str  # "reaped" | "unable" | "skipped"
    freed_kb: int


class ThreadState(Event, tag="thread_state"):
    tid: int
    pid: int
    state: str


class FreezerState(Event, tag="freezer_state"):
    cgroup: str
    state: str


class CgroupMove(Event, tag="cgroup_move"):
    """cgroup_migrate() of a thread group (echo PID > cgroup.procs)."""

    pid: int
    comm: str
    cgroup: str
    hierarchy: str  # "memory" (with whatever is co-mounted there, or cgroup v2's one) | "freezer"
    from_cgroup: str  # where it was on that hierarchy (and stays, when the write fails)
    left_kb: int  # charged before the move and staying with the memcg it leaves
    moved_kb: int = 0  # charged before the move and moved along (v1 memory.move_charge_at_immigrate)
    moved_swap_kb: int = 0  # swap entries whose charge moved along (its bit 0; before 5.8 with swap accounting only)
    errno: str | None = None  # the write failed (EBUSY, ENOMEM): nothing moved


class RobustListFault(Event, tag="robust_list_fault"):
    """exit_robust_list(): get_user() on the list head faulted (the reaper got there first)."""

    tid: int
    pid: int


class FutexEvent(Event, tag="futex"):
    futex: str
    tid: int
    outcome: str  # "eownerdead" | "acquired" | "timedout" | "hung" | "owner_died"


class ExitMmap(Event, tag="exit_mmap"):
    pid: int
    phase: str  # "start" | "done"
    freed_kb: int = 0


class ProcessExit(Event, tag="process_exit"):
    pid: int
    comm: str


class Syscall(Event, tag="syscall"):
    name: str
    pid: int
    ret: int
    errno: str | None
    flags: int = 0


class AllocFailed(Event, tag="alloc_failed"):
    pid: int
    comm: str
    memcg: str | None


class Livelock(Event, tag="livelock"):
    pid: int
    comm: str
    reason: str


class ActionApplied(Event, tag="action"):
    """A player's or a scene script's action (emitted by the front end's Simulation, before its effects)."""

    what: str
    caption: str | None
    scripted: bool


class PolicyChanged(Event, tag="policy"):
    policy: str


class AdjChanged(Event, tag="adj"):
    pid: int
    oom_score_adj: int


AnyEvent = (
    Dmesg
    | DmesgLines
    | OomInvoked
    | OomSelected
    | OomAborted
    | OomShortcut
    | Panic
    | Kill
    | MarkVictim
    | ReaperQueued
    | ReaperTimer
    | ReaperAttempt
    | ReapVma
    | Reaped
    | ThreadState
    | FreezerState
    | CgroupMove
    | RobustListFault
    | FutexEvent
    | ExitMmap
    | ProcessExit
    | Syscall
    | AllocFailed
    | Livelock
    | ActionApplied
    | PolicyChanged
    | AdjChanged
)
