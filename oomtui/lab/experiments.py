"""The lab's experiments: scene-like situations run on the real kernel.

Each experiment's `run()` returns a msgspec Struct with what was measured; its `outcome()` is
the small dict of facts a model run of the same situation must reproduce (who was killed, the
errno of each call, the waiter's fate, whether the OOM reaper acted). Timings stay out of
`outcome()`: they are measured, reported, and compared only loosely.
"""

from __future__ import annotations

import mmap
import os
import signal
import time
from typing import Any, ClassVar

import msgspec

from . import pthread
from .cgroup import PREFIX
from .kmsg import OomLines, killed_pid, reaper_pid
from ..importers.snapshot import read_meminfo, read_status, status_kb
from .procs import Call, errno_name, process_mrelease, thread_states
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
class MemcgOom(msgspec.Struct, tag="memcg-oom"):
    limit_mib: int
    victim_pid: int | None
    victim_comm: str | None
    victim_role: str | None
    victim_end: str | None  # how the victim process ended: "SIGKILL", "exit 0", ...
    exit_after_kill_line_ms: float | None  # 0 when it was already gone when we read the line
    memcg_oom_kills: int  # memory.oom_control oom_kill
    reaper_line: bool
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return {
            "victim_role": self.victim_role,
            "victim_exited": self.victim_end == "SIGKILL",
            "reaper_acted": self.reaper_line,
        }

    def summary(self) -> list[str]:
        if self.victim_pid is None:
            return [f"No OOM kill happened in the {self.limit_mib} MiB memcg."]
        return [
            f"The memcg OOM killer ({self.limit_mib} MiB limit) killed {self.victim_comm} (pid {self.victim_pid}, "
            f"role {self.victim_role}); it ended by {self.victim_end}.",
            _reaper_sentence(self.reaper_line),
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
class FrozenVictim(msgspec.Struct, tag="frozen-victim"):
    limit_mib: int
    victim_threads: int
    victim_states_frozen: list[str]  # thread states after freezer.state reached FROZEN
    victim_pid: int | None
    victim_comm: str | None
    victim_role: str | None
    victim_end: str | None
    exit_after_kill_line_ms: float | None
    # Every OOM kill in the memcg, in order, and the printk time between the first two. The trigger
    # keeps allocating and is sometimes killed as well (a race, hence not part of outcome()).
    killed_roles: list[str]
    second_kill_after_ms: float | None
    trigger_survived: bool
    reaper_line: bool
    dmesg: OomLines

    def outcome(self) -> dict[str, Any]:
        return {
            "victim_role": self.victim_role,
            "victim_exited": self.exit_after_kill_line_ms is not None,
            "reaper_acted": self.reaper_line,
        }

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
            _reaper_sentence(self.reaper_line),
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
class RobustTrial(msgspec.Struct):
    mrelease: Call | None  # process_mrelease on the killed, frozen owner before the thaw
    owner_exit_after_thaw_ms: float | None
    waiter_rc: int | None  # pthread_mutex_timedlock's return: 130 EOWNERDEAD, 110 ETIMEDOUT
    waiter_fate: str  # "EOWNERDEAD", "ETIMEDOUT" (it would hang without a timeout), ...
    waiter_waited_s: float | None
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
            waited = f" after {t.waiter_waited_s:.2f} s" if t.waiter_waited_s is not None else ""
            hang = " -- without a timeout it would wait forever" if t.waiter_fate == "ETIMEDOUT" else ""
            out.append(f"{label}{call}: the waiter got {t.waiter_fate}{waited}{hang}; futex word {t.futex_word_after}.")
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
        # The shared page is a memfd (shmem, like /dev/shm, so the futex is keyed the same way): it has no
        # name in any directory, so nobody can plant a link where the lab writes. The children get its fd.
        fd = os.memfd_create(f"{PREFIX}{tag}", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, mmap.PAGESIZE)
            with mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED) as page:
                pthread.mutex_init(page)
                return self._trial(tag, fd, mrelease_first, page)
        finally:
            os.close(fd)

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
            try:
                _, rc, waited = waiter.expect("result", self.waiter_timeout_s + EXIT_TIMEOUT_S).split()
                waiter_rc, waited_s = int(rc), float(waited)
                fate = _errno_or_ok(waiter_rc)
            except RuntimeError:
                waiter_rc, waited_s, fate = None, None, "no answer"
            return RobustTrial(
                mrelease=call,
                owner_exit_after_thaw_ms=_ms(exit_s),
                waiter_rc=waiter_rc,
                waiter_fate=fate,
                waiter_waited_s=waited_s,
                futex_word_after=f"{pthread.futex_word(page):#010x}",
            )


def _wait_futex_waiters(page: mmap.mmap, timeout: float = 5.0) -> None:
    """The waiter is blocked in FUTEX_WAIT once glibc has set FUTEX_WAITERS in the futex word."""
    deadline = time.monotonic() + timeout
    while not pthread.futex_word(page) & pthread.FUTEX_WAITERS:
        if time.monotonic() > deadline:
            raise RuntimeError("the waiter did not start waiting on the mutex")
        time.sleep(0.005)
    time.sleep(0.02)  # the bit is set just before the futex syscall: let it get there


# --------------------------------------------------------------------------------------------
def _reaper_sentence(reaper_line: bool) -> str:
    if reaper_line:
        return "The oom_reaper printed a line: it reaped the victim (the victim had not exited by the 2 s timer)."
    return (
        f"No oom_reaper line within {REAPER_WINDOW_S:g} s: the victim exited before the 2 s reaper timer "
        "(MMF_OOM_SKIP was already set)."
    )


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
    for e in (MemcgOomExperiment(), FrozenVictimExperiment(), MreleaseExperiment(), RobustFutexExperiment())
}
