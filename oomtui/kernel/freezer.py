"""kernel/freezer.c, kernel/cgroup/legacy_freezer.c and the cgroup v2 freezer (kernel-model.md 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import events as ev
from .exit import reap_zombie_children, signal_wake_up, start_exit
from .state import DISK, EXITING, FROZEN, RUNNING, SLEEPING, STOPPED_V2, Cgroup, Process, Task

if TYPE_CHECKING:
    from .core import Kernel


def freezing(k: "Kernel", t: Task) -> bool:
    """freezing_slow_path(): the v1 freezer applies unless the task is exempt as an OOM victim:
    <=6.17 per thread (TIF_MEMDIE), 6.18+ per process (tsk_is_oom_victim: signal->oom_mm)."""
    if not t.process.freezer_cgroup.v1_freezing():
        return False
    if k.policy.thaw_whole_process:
        return t.process.oom_mm is None
    return not t.tif_memdie


def task_can_run(k: "Kernel", t: Task) -> None:
    """A thread becomes runnable (D-state over, thawed, a freezer's fake wake-up): try_to_freeze() in
    get_signal() runs before the pending SIGKILL is dequeued, so a freezing cgroup catches it first;
    else the fatal signal sends it into do_exit()."""
    if not t.alive or t.state in (EXITING, DISK):
        return
    if freezing(k, t):
        if t.state != FROZEN:
            if t.state in (RUNNING, SLEEPING):
                t.resume_state = t.state
            k.set_state(t, FROZEN)
        return
    if t.process.freezer_cgroup.v2_frozen() and not t.process.group_exit:
        if t.state in (RUNNING, SLEEPING):
            t.resume_state = t.state
        k.set_state(t, STOPPED_V2)
        return
    if t.process.group_exit:
        start_exit(k, t, signal_wake_up(k, [t]).get(t.tid))
        return
    if t.state in (FROZEN, STOPPED_V2):
        k.set_state(t, t.resume_state)
    reap_zombie_children(k, t.process)  # it can call wait() again


def thaw_task(k: "Kernel", t: Task) -> bool:
    """__thaw_task(): wake a frozen task; it stays only if freezing() still holds for it."""
    if t.state != FROZEN or freezing(k, t):
        return False
    k.set_state(t, t.resume_state)
    task_can_run(k, t)
    return True


def freezer_state(k: "Kernel", cg: Cgroup) -> str:
    """v1 freezer.state (FROZEN reported lazily once every task is frozen); v2 cgroup.events frozen."""
    if cg.freezer == "v2":
        return "frozen" if cg.v2_frozen() else "thawed"
    if not cg.v1_freezing():
        return "THAWED"
    threads = [t for c in cg.subtree() for p in c.members for t in p.threads if t.alive and t.state != EXITING]
    return "FROZEN" if all(t.state == FROZEN for t in threads) else "FREEZING"


def _conform(k: "Kernel", t: Task, freeze: bool) -> None:
    if not t.alive or t.state == EXITING:
        return
    if freeze:
        # freeze_task(): a fake signal wake-up; sleepers freeze at once, D-state tasks
        # when they return to user space (task_can_run() then catches them)
        if t.state in (RUNNING, SLEEPING):
            task_can_run(k, t)
    elif t.state in (FROZEN, STOPPED_V2):
        k.set_state(t, t.resume_state)
        task_can_run(k, t)


def freezer_migrate(k: "Kernel", p: Process) -> None:
    """A process moved into another cgroup takes on that cgroup's freezer state: v1 freezer_attach()
    ("make the new tasks conform to the current state of @new_css": freeze_task() or __thaw_task()),
    v2 cgroup_freezer_migrate_task() (sets or clears JOBCTL_TRAP_FREEZE)."""
    cg = p.freezer_cgroup
    freeze = cg.v1_freezing() or cg.v2_frozen()
    for t in p.threads:
        _conform(k, t, freeze)


def freeze_cgroup(k: "Kernel", cg: Cgroup, freeze: bool) -> None:
    """Write freezer.state FROZEN/THAWED (v1) or cgroup.freeze 1/0 (v2) on `cg` (which has a freezer:
    Kernel.freezer_target)."""
    cg.freeze_self = freeze
    for c in cg.subtree():
        for p in list(c.members):
            for t in p.threads:
                _conform(k, t, freeze)
    k.emit(ev.FreezerState(t=k.jiffies, cgroup=cg.path, state=freezer_state(k, cg)))

