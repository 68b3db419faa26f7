"""The lab's experiments: scene-like situations run on the real kernel.

Each experiment's `run()` returns a msgspec Struct with what was measured; its `outcome()` is
the small dict of facts a model run of the same situation must reproduce (who was killed, the
errno of each call, the waiter's fate, whether the OOM reaper acted). Timings stay out of
`outcome()`: they are measured, reported, and compared only loosely.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from . import pthread
from .cgroup import PREFIX
from .kmsg import KmsgLine, OomLines, killed_pid, reaper_pid
from .lmkd import LmkdRaceExperiment
from ..importers.snapshot import read_meminfo, read_status, status_kb
from .procs import Call, Child, errno_name, process_mrelease, thread_states
from .session import Session

# OOM_REAPER_DELAY is 2*HZ (mm/oom_kill.c, 5.18+); the timer may fire a wheel granule late and the
# reap takes a moment: a victim still unreaped 3 s after its kill would have produced the line.
REAPER_WINDOW_S = 3.0
KILL_TIMEOUT_S = 10.0  # the OOM kill must happen within this after the pressure starts
EXIT_TIMEOUT_S = 5.0


def _rss_kb(pid: int) -> int:
    st = read_status(pid) or {}
    return sum(status_kb(st, k) for k in ("RssAnon", "RssFile", "RssShmem"))


def _wait_reaper_window(s: Session, pid: int, t_kill: float) -> None:
    """Keep reading the log until REAPER_WINDOW_S after the kill, or until the reaper spoke."""
    left = t_kill + REAPER_WINDOW_S - time.monotonic()
    s.log().wait_for(lambda ln: reaper_pid(ln) == pid, max(left, 0.0))


# --------------------------------------------------------------------------------------------
# Fields more than one experiment measures: an experiment's struct extends one of these (its fields come
# first in `measured`), or holds an OomUnderPressure as `oom`.
class Victim(msgspec.Struct):
    """The OOM kill's victim: the pid of the `Killed process` line, its role, when it exited, the reaper."""

    victim_pid: int | None
    victim_role: str | None
    exit_after_kill_line_ms: float | None  # None: still there EXIT_TIMEOUT_S later; ~0: gone when it was read
    reaper_line: bool  # an oom_reaper line about it within REAPER_WINDOW_S

    def facts(self) -> dict[str, Any]:
        return {
            "victim_role": self.victim_role,
            "victim_exited": self.exit_after_kill_line_ms is not None,
            "reaper_acted": self.reaper_line,
        }

    def reaper_sentence(self) -> str:
        if self.reaper_line:
            return "The oom_reaper printed a line: it reaped the victim (the victim had not exited by the 2 s timer)."
        return (
            f"No oom_reaper line within {REAPER_WINDOW_S:g} s: the victim exited before the 2 s reaper timer "
            "(MMF_OOM_SKIP was already set)."
        )


class ChildVictim(Victim):
    """A victim that is the lab's child process: also its comm in the Killed line and how it ended (its wait status)."""

    victim_comm: str | None
    victim_end: str | None  # how the victim process ended: "SIGKILL", "exit 0", ...


class Waiter(msgspec.Struct):
    """lab-waiter's pthread_mutex_timedlock() on the robust mutex another process holds."""

    waiter_rc: int | None  # its return: 130 EOWNERDEAD, 110 ETIMEDOUT; None: no answer
    waiter_fate: str  # "EOWNERDEAD", "ETIMEDOUT" (it would hang without a timeout), ...
    waiter_waited_s: float | None

    def waited(self) -> str:
        return f" after {self.waiter_waited_s:.2f} s" if self.waiter_waited_s is not None else ""


# --------------------------------------------------------------------------------------------
class MemcgOom(ChildVictim, tag="memcg-oom"):
    limit_mib: int
    memcg_oom_kills: int  # memory.oom_control oom_kill
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return {**self.facts(), "victim_exited": self.victim_end == "SIGKILL"}  # ended by the kill's signal

    def summary(self) -> list[str]:
        if self.victim_pid is None:
            return [f"No OOM kill happened in the {self.limit_mib} MiB memcg."]
        return [
            f"The memcg OOM killer ({self.limit_mib} MiB limit) killed {self.victim_comm} (pid {self.victim_pid}, "
            f"role {self.victim_role}); it ended by {self.victim_end}.",
            self.reaper_sentence(),
        ]


class MemcgOomExperiment:
    name: ClassVar[str] = "memcg-oom"
    limit_mib: ClassVar[int] = 64

    @staticmethod
    def describe() -> str:
        return (
            "One process allocates until its 64 MiB memcg is full: the memcg OOM killer kills it. "
            "Shows the oom-kill: and Killed process lines, and whether the oom_reaper printed a line."
        )

    def run(self) -> MemcgOom:
        with Session(self.name, self.limit_mib) as s:
            hog = s.spawn("hog", "hog", 0, 1)
            line = s.log().wait_for(lambda ln: killed_pid(ln) == hog.pid, KILL_TIMEOUT_S)
            t_kill = time.monotonic()
            exit_s = hog.wait_exit(EXIT_TIMEOUT_S)
            if line is not None:
                _wait_reaper_window(s, hog.pid, t_kill)
            if exit_s is not None:
                hog.proc.wait(EXIT_TIMEOUT_S)
            lines = s.oom_lines()
            victim = killed_pid(line) if line else None
            return MemcgOom(
                limit_mib=self.limit_mib,
                victim_pid=victim,
                victim_comm=_comm_of(lines, victim),
                victim_role=s.role_of(victim),
                victim_end=hog.signal_name(),
                exit_after_kill_line_ms=_ms(exit_s),
                memcg_oom_kills=s.groups.oom_kills(),
                reaper_line=bool(lines.reaper),
                dmesg=lines,
            )


# --------------------------------------------------------------------------------------------
class FrozenVictim(ChildVictim, tag="frozen-victim"):
    limit_mib: int
    victim_threads: int
    victim_states_frozen: list[str]  # thread states after freezer.state reached FROZEN
    # Every OOM kill in the memcg, in order, and the printk time between the first two. The trigger
    # keeps allocating and is sometimes killed as well (a race, hence not part of outcome()).
    killed_roles: list[str]
    second_kill_after_ms: float | None
    trigger_survived: bool
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return self.facts()

    def summary(self) -> list[str]:
        if self.victim_pid is None:
            return ["No OOM kill happened."]
        frozen = "".join(self.victim_states_frozen)
        fate = (
            f"exited {self.exit_after_kill_line_ms:.1f} ms after the Killed line (the kill thawed it)"
            if self.exit_after_kill_line_ms is not None
            else f"was still there {EXIT_TIMEOUT_S:g} s after the kill (still frozen)"
        )
        return [
            f"A {self.victim_threads}-thread process was v1-frozen (thread states {frozen}); another process of the "
            f"same {self.limit_mib} MiB memcg allocated.",
            f"The OOM killer chose {self.victim_comm} (pid {self.victim_pid}, role {self.victim_role}), which {fate}.",
            _trigger_sentence(self.killed_roles, self.second_kill_after_ms, self.trigger_survived),
            self.reaper_sentence(),
        ]


class FrozenVictimExperiment:
    name: ClassVar[str] = "frozen-victim"
    limit_mib: ClassVar[int] = 64
    victim_mib: ClassVar[int] = 40
    victim_threads: ClassVar[int] = 5
    trigger_mib: ClassVar[int] = 30

    @staticmethod
    def describe() -> str:
        return (
            "A 5-thread process holding 40 MiB is frozen by the cgroup v1 freezer; another process of the same "
            "64 MiB memcg allocates 30 MiB. Is the frozen process chosen, thawed, gone within how long, reaped?"
        )

    def run(self) -> FrozenVictim:
        with Session(self.name, self.limit_mib) as s:
            victim = s.spawn("victim", "hog", self.victim_mib, self.victim_threads, frozen_group=True)
            victim.expect("done", KILL_TIMEOUT_S)
            s.groups.freeze()
            states = thread_states(victim.pid)
            trigger = s.spawn("trigger", "hog", self.trigger_mib, 1)
            line = s.log().wait_for(lambda ln: killed_pid(ln) in (victim.pid, trigger.pid), KILL_TIMEOUT_S)
            t_kill = time.monotonic()
            exit_s = victim.wait_exit(EXIT_TIMEOUT_S)
            try:
                trigger.expect("done", EXIT_TIMEOUT_S)
                survived = True
            except RuntimeError:
                survived = False
            if line is not None:
                _wait_reaper_window(s, killed_pid(line) or 0, t_kill)
            if exit_s is not None:
                victim.proc.wait(EXIT_TIMEOUT_S)
            lines = s.oom_lines()
            vpid = killed_pid(line) if line else None
            kills = [(ln.usec, killed_pid(ln)) for ln in s.log().lines if killed_pid(ln) in (victim.pid, trigger.pid)]
            return FrozenVictim(
                limit_mib=self.limit_mib,
                victim_threads=self.victim_threads,
                victim_states_frozen=states,
                victim_pid=vpid,
                victim_comm=_comm_of(lines, vpid),
                victim_role=s.role_of(vpid),
                victim_end=victim.signal_name(),
                exit_after_kill_line_ms=_ms(exit_s),
                killed_roles=[str(s.role_of(pid)) for _, pid in kills],
                second_kill_after_ms=(kills[1][0] - kills[0][0]) / 1000 if len(kills) > 1 else None,
                trigger_survived=survived,
                reaper_line=bool(lines.reaper),
                dmesg=lines,
            )


# --------------------------------------------------------------------------------------------
class Mrelease(msgspec.Struct, tag="mrelease"):
    target_mib: int
    live: Call  # on a running process that got no signal
    states_after_kill: list[str]  # v1-frozen + kill(2)ed: still frozen?
    killed_frozen: Call  # first call on the SIGKILLed, still frozen process
    rss_before_kb: int
    rss_after_kb: int
    again: Call  # a second call on the same process
    exit_after_thaw_ms: float | None
    after_exit: Call  # after it exited and was reaped by its parent

    def outcome(self) -> dict[str, Any]:
        return {
            "errno": {
                "live": self.live.errno,
                "killed_frozen": self.killed_frozen.errno,
                "again": self.again.errno,
                "after_exit": self.after_exit.errno,
            },
            "still_frozen_after_kill": bool(self.states_after_kill) and set(self.states_after_kill) == {"D"},
            "reaper_acted": self.rss_after_kb < self.rss_before_kb // 10,
        }

    def summary(self) -> list[str]:
        freed_gib = (self.rss_before_kb - self.rss_after_kb) / (1 << 20)
        rate = freed_gib / (self.killed_frozen.ms / 1000) if self.killed_frozen.ms > 0 else 0.0
        return [
            f"Live process: process_mrelease -> {self.live.ret} ({self.live.errno}).",
            f"v1-frozen then SIGKILLed by kill(2): thread states {''.join(self.states_after_kill)} (kill does not thaw).",
            f"process_mrelease -> {self.killed_frozen.ret} ({self.killed_frozen.errno}) in {self.killed_frozen.ms:.1f} ms: "
            f"RSS {self.rss_before_kb // 1024} MiB -> {self.rss_after_kb // 1024} MiB (~{rate:.1f} GiB/s).",
            f"Second call -> {self.again.ret} ({self.again.errno}); after thaw the process exited"
            + (f" in {self.exit_after_thaw_ms:.1f} ms" if self.exit_after_thaw_ms is not None else " (not seen)")
            + f"; then process_mrelease -> {self.after_exit.ret} ({self.after_exit.errno}).",
        ]


class MreleaseExperiment:
    name: ClassVar[str] = "mrelease"
    target_mib: ClassVar[int] = 256

    @staticmethod
    def describe() -> str:
        return (
            "process_mrelease(2) on a live process, then on a v1-frozen process that got SIGKILL from kill(2) "
            "(return value, RSS before/after, time), a second time, and after it exited."
        )

    def run(self) -> Mrelease:
        mib = _affordable_mib(self.target_mib)
        with Session(self.name, mib + 64) as s:
            target = s.spawn("target", "hog", mib, 1, frozen_group=True)
            target.expect("done", KILL_TIMEOUT_S)
            live = process_mrelease(target.pidfd)  # not dying: task_will_free_mem() false -> EINVAL
            s.groups.freeze()
            os.kill(target.pid, signal.SIGKILL)
            time.sleep(0.05)  # give it every chance to act on SIGKILL: a v1-frozen task cannot
            states = thread_states(target.pid)
            rss_before = _rss_kb(target.pid)
            first = process_mrelease(target.pidfd)
            rss_after = _rss_kb(target.pid)
            again = process_mrelease(target.pidfd)
            s.groups.thaw()
            exit_s = target.wait_exit(EXIT_TIMEOUT_S)
            target.proc.wait(EXIT_TIMEOUT_S)
            after = process_mrelease(target.pidfd)  # no thread has an mm any more -> ESRCH
            return Mrelease(mib, live, states, first, rss_before, rss_after, again, _ms(exit_s), after)


# --------------------------------------------------------------------------------------------
class RobustTrial(Waiter):
    mrelease: Call | None  # process_mrelease on the killed, frozen owner before the thaw
    owner_exit_after_thaw_ms: float | None
    futex_word_after: str  # hex; OWNER_DIED is 0x40000000


class RobustFutex(msgspec.Struct, tag="robust-futex"):
    waiter_timeout_s: float
    thaw: RobustTrial
    mrelease_then_thaw: RobustTrial

    def outcome(self) -> dict[str, Any]:
        return {
            "waiter_fate": {"thaw": self.thaw.waiter_fate, "mrelease_then_thaw": self.mrelease_then_thaw.waiter_fate},
            "errno": {"mrelease": self.mrelease_then_thaw.mrelease.errno if self.mrelease_then_thaw.mrelease else None},
            "reaper_acted": self.mrelease_then_thaw.mrelease is not None and self.mrelease_then_thaw.mrelease.ret == 0,
        }

    def summary(self) -> list[str]:
        out = []
        for label, t in (("Thaw only", self.thaw), ("process_mrelease, then thaw", self.mrelease_then_thaw)):
            call = f" (process_mrelease -> {t.mrelease.errno} in {t.mrelease.ms:.1f} ms)" if t.mrelease else ""
            hang = " -- without a timeout it would wait forever" if t.waiter_fate == "ETIMEDOUT" else ""
            out.append(f"{label}{call}: the waiter got {t.waiter_fate}{t.waited()}{hang}; "
                       f"futex word {t.futex_word_after}.")
        return out


class RobustFutexExperiment:
    name: ClassVar[str] = "robust-futex"
    waiter_timeout_s: ClassVar[float] = 2.0

    @staticmethod
    def describe() -> str:
        return (
            "The owner of a process-shared robust mutex (a MAP_SHARED memfd page) is v1-frozen and SIGKILLed; "
            "another process waits for the mutex. Thaw it (a) directly, (b) after process_mrelease: "
            "EOWNERDEAD or a waiter that would hang?"
        )

    def run(self) -> RobustFutex:
        return RobustFutex(self.waiter_timeout_s, self.trial(False), self.trial(True))

    def trial(self, mrelease_first: bool) -> RobustTrial:
        tag = "robust-mrelease" if mrelease_first else "robust-thaw"
        with robust_page(tag) as (fd, page):
            return self._trial(tag, fd, mrelease_first, page)

    def _trial(self, tag: str, fd: int, mrelease_first: bool, page: mmap.mmap) -> RobustTrial:
        with Session(tag, 64) as s:
            owner = s.spawn("owner", "owner", fd, frozen_group=True, pass_fds=(fd,))
            owner.expect("locked", KILL_TIMEOUT_S)
            waiter = s.spawn("waiter", "waiter", fd, self.waiter_timeout_s, pass_fds=(fd,))
            waiter.expect("waiting", KILL_TIMEOUT_S)
            _wait_futex_waiters(page)
            s.groups.freeze()
            os.kill(owner.pid, signal.SIGKILL)  # stays frozen: no exit, no robust-list walk yet
            call = process_mrelease(owner.pidfd) if mrelease_first else None
            s.groups.thaw()
            exit_s = owner.wait_exit(EXIT_TIMEOUT_S)
            return RobustTrial(
                **msgspec.structs.asdict(_waiter_result(waiter, self.waiter_timeout_s)),
                mrelease=call,
                owner_exit_after_thaw_ms=_ms(exit_s),
                futex_word_after=f"{pthread.futex_word(page):#010x}",
            )


@contextlib.contextmanager
def robust_page(tag: str) -> Iterator[tuple[int, mmap.mmap]]:
    """A page holding a robust, process-shared mutex, and its fd for the children (pass_fds).

    The page is a memfd (shmem, like /dev/shm, so the futex is keyed the same way): it has no name in
    any directory, so nobody can plant a link where the lab writes."""
    fd = os.memfd_create(f"{PREFIX}{tag}", os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, mmap.PAGESIZE)
        with mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED) as page:
            pthread.mutex_init(page)
            yield fd, page
    finally:
        os.close(fd)


def _waiter_result(waiter: Child, timeout_s: float) -> Waiter:
    """What a waiter child answered, or "no answer"."""
    try:
        _, rc, waited = waiter.expect("result", timeout_s + EXIT_TIMEOUT_S).split()
    except RuntimeError:
        return Waiter(waiter_rc=None, waiter_fate="no answer", waiter_waited_s=None)
    return Waiter(waiter_rc=int(rc), waiter_fate=_errno_or_ok(int(rc)), waiter_waited_s=float(waited))


def _wait_futex_waiters(page: mmap.mmap, timeout: float = 5.0) -> None:
    """The waiter is blocked in FUTEX_WAIT once glibc has set FUTEX_WAITERS in the futex word."""
    deadline = time.monotonic() + timeout
    while not pthread.futex_word(page) & pthread.FUTEX_WAITERS:
        if time.monotonic() > deadline:
            raise RuntimeError("the waiter did not start waiting on the mutex")
        time.sleep(0.005)
    time.sleep(0.02)  # the bit is set just before the futex syscall: let it get there


# --------------------------------------------------------------------------------------------
# kernel-model.md section 10's scenarios under pressure: a trigger process of the same memcg allocates
# until the memcg OOM killer acts, the way frozen-victim does it.
def _pressure(s: Session, mib: int) -> tuple[KmsgLine | None, float]:
    """Start lab-trigger allocating `mib` MiB; the first `Killed process` line about one of the session's
    processes (the trigger included), and when it was read."""
    s.spawn("trigger", "hog", mib, 1)
    ours = s.pids()
    line = s.log().wait_for(lambda ln: killed_pid(ln) in ours, KILL_TIMEOUT_S)
    return line, time.monotonic()


def _killed_roles(s: Session) -> list[str]:
    """Every OOM kill of the session's processes, in order, by role."""
    ours = s.pids()
    return [str(s.role_of(pid)) for ln in s.log().lines if (pid := killed_pid(ln)) in ours]


def _exit_after(pidfd: int, t0: float, timeout: float = EXIT_TIMEOUT_S) -> float | None:
    """Seconds from `t0` until the process behind `pidfd` exits (any process, not only a child), None if it
    is still there `timeout` s after t0."""
    left = t0 + timeout - time.monotonic()
    if not select.select([pidfd], [], [], max(left, 0.0))[0]:
        return None
    return time.monotonic() - t0


class OomUnderPressure(Victim):
    """What every pressure experiment measures about its OOM kill."""

    killed_roles: list[str]  # every OOM kill of the experiment's processes, in order

    def sentence(self) -> str:
        if self.victim_pid is None:
            return "No OOM kill happened."
        fate = (f"it exited {self.exit_after_kill_line_ms:.1f} ms after the Killed line"
                if self.exit_after_kill_line_ms is not None else f"it was still there {EXIT_TIMEOUT_S:g} s later")
        return (f"The OOM killer chose {self.victim_role} (pid {self.victim_pid}); {fate}. OOM kills, in order: "
                f"{', '.join(self.killed_roles)}.")


def _oom_measure(s: Session, line: KmsgLine | None, t_kill: float,
                 victim_exit_s: float | None) -> tuple[OomUnderPressure, OomLines]:
    """After the kill: wait out the reaper window, then read what the log says."""
    if line is not None:
        _wait_reaper_window(s, killed_pid(line) or 0, t_kill)
    vpid = killed_pid(line) if line else None
    lines = s.oom_lines()
    return OomUnderPressure(victim_pid=vpid, victim_role=s.role_of(vpid), exit_after_kill_line_ms=_ms(victim_exit_s),
                            reaper_line=bool(lines.reaper), killed_roles=_killed_roles(s)), lines


# --------------------------------------------------------------------------------------------
class FrozenRobustOom(Waiter, tag="frozen-robust-oom"):
    limit_mib: int
    owner_states_frozen: list[str]
    oom: OomUnderPressure
    futex_word_after: str
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return {**self.oom.facts(), "waiter_fate": self.waiter_fate}

    def summary(self) -> list[str]:
        return [
            f"lab-owner (a robust mutex held by its second thread) was v1-frozen (thread states "
            f"{''.join(self.owner_states_frozen)}); lab-trigger filled the {self.limit_mib} MiB memcg.",
            self.oom.sentence(),
            f"The waiter got {self.waiter_fate}{self.waited()}; futex word {self.futex_word_after}.",
            self.oom.reaper_sentence(),
        ]


class FrozenRobustOomExperiment:
    name: ClassVar[str] = "frozen-robust-oom"
    limit_mib: ClassVar[int] = 64
    owner_mib: ClassVar[int] = 35
    trigger_mib: ClassVar[int] = 30
    waiter_timeout_s: ClassVar[float] = 4.0  # beyond the oom_reaper's 2 s timer

    @staticmethod
    def describe() -> str:
        return (
            "kernel-model.md S2: the second thread of a 35 MiB process holds a robust mutex; the process is "
            "v1-frozen, another waits for the mutex, a third fills the 64 MiB memcg. The OOM killer chooses the "
            "frozen holder: is it thawed, does the waiter get EOWNERDEAD or hang, does the reaper act?"
        )

    def run(self) -> FrozenRobustOom:
        with robust_page(self.name) as (fd, page), Session(self.name, self.limit_mib) as s:
            owner = s.spawn("owner", "owner", fd, self.owner_mib, "thread", frozen_group=True, pass_fds=(fd,))
            owner.expect("locked", KILL_TIMEOUT_S)
            waiter = s.spawn("waiter", "waiter", fd, self.waiter_timeout_s, pass_fds=(fd,))
            waiter.expect("waiting", KILL_TIMEOUT_S)
            _wait_futex_waiters(page)
            s.groups.freeze()
            states = thread_states(owner.pid)
            line, t_kill = _pressure(s, self.trigger_mib)
            exit_s = owner.wait_exit(EXIT_TIMEOUT_S) if line is not None and killed_pid(line) == owner.pid else None
            result = _waiter_result(waiter, self.waiter_timeout_s)
            oom, lines = _oom_measure(s, line, t_kill, exit_s)
            return FrozenRobustOom(**msgspec.structs.asdict(result), limit_mib=self.limit_mib,
                                   owner_states_frozen=states, oom=oom,
                                   futex_word_after=f"{pthread.futex_word(page):#010x}", dmesg=lines)


# --------------------------------------------------------------------------------------------
class V2Frozen(msgspec.Struct, tag="v2-frozen"):
    limit_mib: int
    victim_threads: int
    victim_states_frozen: list[str]  # while cgroup.events says frozen 1
    oom: OomUnderPressure
    kill_states_frozen: list[str]
    kill_exit_ms: float | None  # from the cgroup.kill write to the exit of the frozen process
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return {
            "states_frozen": "".join(sorted(set(self.victim_states_frozen))),
            **self.oom.facts(),
            "cgroup_kill_exited": self.kill_exit_ms is not None,
        }

    def summary(self) -> list[str]:
        killed = (f"exited {self.kill_exit_ms:.1f} ms after the write" if self.kill_exit_ms is not None
                  else f"was still there {EXIT_TIMEOUT_S:g} s later")
        return [
            f"A {self.victim_threads}-thread process was frozen by cgroup v2's cgroup.freeze (thread states "
            f"{''.join(self.victim_states_frozen)}); another process of the same {self.limit_mib} MiB memcg "
            "allocated.",
            self.oom.sentence(),
            self.oom.reaper_sentence(),
            f"cgroup.kill on a v2-frozen group (thread states {''.join(self.kill_states_frozen)}): the process "
            f"{killed}.",
        ]


class V2FrozenExperiment:
    name: ClassVar[str] = "v2-frozen"
    limit_mib: ClassVar[int] = 64
    victim_mib: ClassVar[int] = 40
    victim_threads: ClassVar[int] = 5
    trigger_mib: ClassVar[int] = 30

    @staticmethod
    def describe() -> str:
        return (
            "kernel-model.md S4: frozen-victim with cgroup v2's freezer (cgroup.freeze = 1 in a group of the "
            "unified hierarchy, which must be mounted already): does the OOM kill wake the frozen victim? Then "
            "cgroup.kill on a v2-frozen group: does its process exit?"
        )

    def run(self) -> V2Frozen:
        with Session(self.name, self.limit_mib, unified=True) as s:
            victim = s.spawn("victim", "hog", self.victim_mib, self.victim_threads, unified=True)
            victim.expect("done", KILL_TIMEOUT_S)
            s.groups.freeze_v2()
            states = thread_states(victim.pid)
            line, t_kill = _pressure(s, self.trigger_mib)
            exit_s = victim.wait_exit(EXIT_TIMEOUT_S) if line is not None and killed_pid(line) == victim.pid else None
            oom, lines = _oom_measure(s, line, t_kill, exit_s)
        with Session(f"{self.name}-kill", self.limit_mib, unified=True) as s:
            target = s.spawn("target", "hog", 8, 3, unified=True)
            target.expect("done", KILL_TIMEOUT_S)
            s.groups.freeze_v2()
            kill_states = thread_states(target.pid)
            s.groups.kill_v2()
            kill_exit = target.wait_exit(EXIT_TIMEOUT_S)
        return V2Frozen(self.limit_mib, self.victim_threads, states, oom, kill_states, _ms(kill_exit), lines)


# --------------------------------------------------------------------------------------------
class CloneVmFrozen(msgspec.Struct, tag="clone-vm-frozen"):
    limit_mib: int
    sibling_states_frozen: list[str]
    oom: OomUnderPressure  # its victim_exited: the process the Killed line names
    exit_after_kill_line_ms: dict[str, float | None]  # each of the two processes sharing the mm
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return {**self.oom.facts(), "exited": {k: v is not None for k, v in self.exit_after_kill_line_ms.items()}}

    def summary(self) -> list[str]:
        fates = [f"{role} exited {ms:.1f} ms after the Killed line" if ms is not None
                 else f"{role} was still there {EXIT_TIMEOUT_S:g} s after it"
                 for role, ms in self.exit_after_kill_line_ms.items()]
        return [
            f"lab-victim shares its mm with lab-sibling (clone(CLONE_VM) without CLONE_THREAD); only the sibling is "
            f"v1-frozen (states {''.join(self.sibling_states_frozen)}). lab-trigger keeps allocating in the same "
            f"{self.limit_mib} MiB memcg until it gets its memory or is killed.",
            self.oom.sentence(),
            "; ".join(fates) + ".",
            self.oom.reaper_sentence(),
        ]


class CloneVmFrozenExperiment:
    name: ClassVar[str] = "clone-vm-frozen"
    limit_mib: ClassVar[int] = 64
    victim_mib: ClassVar[int] = 40
    trigger_mib: ClassVar[int] = 30

    @staticmethod
    def describe() -> str:
        return (
            "kernel-model.md S6: a 40 MiB process and a sibling it cloned with CLONE_VM (one mm, two processes); "
            "only the sibling is v1-frozen. A third process of the 64 MiB memcg keeps allocating. Which of the two "
            "is chosen, is the frozen one thawed and do both exit, or is their memory left to the reaper's timer?"
        )

    def run(self) -> CloneVmFrozen:
        with Session(self.name, self.limit_mib) as s:
            victim = s.spawn("victim", "sharer", self.victim_mib)
            sibling = int(victim.expect("sibling", KILL_TIMEOUT_S).split()[1])
            s.adopt(sibling, "sibling")
            s.groups.add(sibling, frozen_group=True)
            sibling_fd = os.pidfd_open(sibling)
            try:
                s.groups.freeze()
                states = thread_states(sibling)
                line, t_kill = _pressure(s, self.trigger_mib)
                exits = {role: _exit_after(fd, t_kill) if line is not None else None
                         for role, fd in (("victim", victim.pidfd), ("sibling", sibling_fd))}
            finally:
                os.close(sibling_fd)
            chosen = s.role_of(killed_pid(line)) if line is not None else None
            oom, lines = _oom_measure(s, line, t_kill, exits.get(str(chosen)))
            return CloneVmFrozen(self.limit_mib, states, oom, {k: _ms(v) for k, v in exits.items()}, lines)


# --------------------------------------------------------------------------------------------
class DState(Waiter, tag="d-state"):
    limit_mib: int
    holder_states: list[str]  # the main thread sleeps (S), the second waits for its vfork child (D)
    vfork_child_states: list[str]  # it sleeps in pause() (S)
    oom: OomUnderPressure
    vfork_child_exited: bool
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return {
            "holder_state": "".join(self.holder_states),
            **self.oom.facts(),
            "vfork_child_exited": self.vfork_child_exited,
            "waiter_fate": self.waiter_fate,
        }

    def summary(self) -> list[str]:
        return [
            f"lab-holder's second thread holds a robust mutex and waits in vfork() for a child that never execs "
            f"(thread states {''.join(self.holder_states)}: wait_for_vfork_done, TASK_KILLABLE). lab-trigger fills "
            f"the {self.limit_mib} MiB memcg.",
            self.oom.sentence(),
            f"The vfork child (same mm) {'exited' if self.vfork_child_exited else 'was still there'}; the waiter got "
            f"{self.waiter_fate}{self.waited()}.",
            self.oom.reaper_sentence(),
        ]


class DStateExperiment:
    name: ClassVar[str] = "d-state"
    limit_mib: ClassVar[int] = 64
    holder_mib: ClassVar[int] = 35
    trigger_mib: ClassVar[int] = 30
    waiter_timeout_s: ClassVar[float] = 4.0

    @staticmethod
    def describe() -> str:
        return (
            "kernel-model.md S5 as far as it can be made safely: the thread of a 35 MiB process that holds a "
            "robust mutex waits in vfork() for a child that never execs (state D, but killable: nothing here can "
            "make an unkillable D state and release it). Another process waits for the mutex, a third fills the "
            "64 MiB memcg: does the OOM kill wake the D-state holder, the waiter get EOWNERDEAD, the vfork child "
            "die too?"
        )

    def run(self) -> DState:
        with robust_page(self.name) as (fd, page), Session(self.name, self.limit_mib) as s:
            holder = s.spawn("holder", "vforker", fd, self.holder_mib, pass_fds=(fd,))
            tid = int(holder.expect("vforking", KILL_TIMEOUT_S).split()[1])
            child = _vfork_child(holder.pid, tid)
            s.adopt(child, "vfork")
            waiter = s.spawn("waiter", "waiter", fd, self.waiter_timeout_s, pass_fds=(fd,))
            waiter.expect("waiting", KILL_TIMEOUT_S)
            _wait_futex_waiters(page)
            states, child_states = thread_states(holder.pid), thread_states(child)
            child_fd = os.pidfd_open(child)
            try:
                line, t_kill = _pressure(s, self.trigger_mib)
                exit_s = holder.wait_exit(EXIT_TIMEOUT_S) if line is not None else None
                child_exit = _exit_after(child_fd, t_kill) if line is not None else None
            finally:
                os.close(child_fd)
            result = _waiter_result(waiter, self.waiter_timeout_s)
            oom, lines = _oom_measure(s, line, t_kill, exit_s)
            return DState(**msgspec.structs.asdict(result), limit_mib=self.limit_mib, holder_states=states,
                          vfork_child_states=child_states, oom=oom, vfork_child_exited=child_exit is not None,
                          dmesg=lines)


def _vfork_child(pid: int, tid: int, timeout: float = 5.0) -> int:
    """The child thread `tid` of process `pid` waits for in vfork(), once the thread is in D."""
    deadline = time.monotonic() + timeout
    while True:
        children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        if children and Path(f"/proc/{pid}/task/{tid}/stat").read_text().rpartition(")")[2].split()[0] == "D":
            return int(children[0])
        if time.monotonic() > deadline:
            raise RuntimeError(f"lab-holder (pid {pid}) did not enter vfork() within {timeout:g} s")
        time.sleep(0.005)


# --------------------------------------------------------------------------------------------
def _trigger_sentence(killed_roles: list[str], gap_ms: float | None, survived: bool) -> str:
    if survived:
        return "The allocating process got its memory and survived."
    if gap_ms is not None and killed_roles[1:2] == ["trigger"]:
        return (
            f"The allocating process was OOM-killed too, {gap_ms:.1f} ms later: the exiting victim no longer "
            "blocked the selection, but its memory was not uncharged yet."
        )
    return "The allocating process did not finish its allocation."


def _comm_of(lines: OomLines, pid: int | None) -> str | None:
    for text in lines.killed:
        head = f"Killed process {pid} ("
        if head in text:
            return text.split(head, 1)[1].split(")", 1)[0]
    return None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _errno_or_ok(code: int) -> str:
    return "OK" if code == 0 else errno_name(code)


def _affordable_mib(wanted: int) -> int:
    """At most a quarter of MemAvailable, so the experiment never pressures the machine itself."""
    available_kb = read_meminfo().get("MemAvailable")
    return wanted if available_kb is None else max(16, min(wanted, available_kb // 1024 // 4))


EXPERIMENTS = {
    e.name: e
    for e in (MemcgOomExperiment(), FrozenVictimExperiment(), MreleaseExperiment(), RobustFutexExperiment(),
              FrozenRobustOomExperiment(), CloneVmFrozenExperiment(), V2FrozenExperiment(), DStateExperiment(),
              LmkdRaceExperiment())
}
