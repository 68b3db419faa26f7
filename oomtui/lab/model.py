"""The model side of `oomtui lab`: each experiment as a scene, run by the kernel model.

Every experiment of experiments.py has a scene here with the same processes (Python children:
about PY_ANON of anonymous and PY_FILE of file-backed RSS before they allocate), the same memcg
limit, freezer group, threads, robust mutex and timeouts, and the same order of kill / freeze /
process_mrelease / thaw. It runs under the policy of the running kernel (policy_for_release) and
yields an `outcome()` dict with the same keys as the real run's, so `agree` is a plain equality.

Translations between the two vocabularies, stated once:
  - a waiter the model marks "hung" (its owner passed futex cleanup without waking it) returns
    ETIMEDOUT in a real pthread_mutex_timedlock when it has a timeout, as the lab's waiter does;
  - "the reaper acted" is, for the OOM experiments, an `oom_reaper:` line naming the victim within
    REAPER_WINDOW_S of the kill (the real side reads the same line from /dev/kmsg); for the
    process_mrelease experiments, process_mrelease actually unmapped the target's memory.
Nothing here needs root or the real kernel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import msgspec

from ..kernel.policy import kernel_of_release, policy_for_release
from ..kernel.state import FROZEN, STOPPED_V2, Task
from ..scene.load import loads
from ..scene.sim import Outcome, Simulation
from ..scene.trials import trial_seed
from .experiments import (
    EXIT_TIMEOUT_S,
    REAPER_WINDOW_S,
    CloneVmFrozenExperiment,
    DStateExperiment,
    FrozenRobustOomExperiment,
    FrozenVictimExperiment,
    MemcgOomExperiment,
    MreleaseExperiment,
    RobustFutexExperiment,
    V2FrozenExperiment,
)
from .formats import report_lines, unstamped
from .lmkd import CONFIGS as LMKD_CONFIGS
from .output import LabModel

PY_ANON_MIB = 5  # a lab child (python3 + ctypes) before it allocates: ~5 MiB anon ...
PY_FILE_MIB = 6  # ... and ~6 MiB of mapped interpreter and libraries (real runs: 4.5-5.5 / 6.0-6.7)
ALLOC_RATE = "1 GiB/s"  # bytes(1 MiB) in a loop, every page written
_REAPER_LINE = re.compile(r"oom_reaper: (?:reaped process |unable to reap pid:)(\d+)")


class ModelRun(LabModel, kw_only=True):
    """One experiment run by the model: what `lab --json` prints of it (LabModel: its policy, outcome(),
    the scenes it ran and their OOM report lines, unstamped as the real side reads them) and the raw
    result of each scene."""

    simulated: list[Outcome]  # one per scene


def _sim(text: str, name: str, policy: str, kernel: str | None) -> Simulation:
    return Simulation(loads(text, name), policy, kernel)


def _at(sim: Simulation, ms: int) -> None:
    """Advance the simulation to `ms` (actions scheduled at or before it are applied)."""
    target = sim.k.jiffies_from_ms(ms)
    if target > sim.k.jiffies:
        sim.advance(target - sim.k.jiffies)


def _first_kill(out: Outcome) -> tuple[int | None, int | None]:
    k = next((k for k in out.kills if k.reason in ("oom", "oom_group")), None)
    return (k.pid, k.t_ms) if k else (None, None)


def _exit_ms(sim: Simulation, pid: int | None) -> int | None:
    from ..kernel import events as ev

    if pid is None:
        return None
    t = next((e.t for e in sim.k.events if isinstance(e, ev.ProcessExit) and e.pid == pid), None)
    return None if t is None else sim.k.ms(t)


def _exited_within(exit_ms: int | None, since_ms: int | None) -> bool:
    """Gone within EXIT_TIMEOUT_S of `since_ms`, as the real side waits for it."""
    return exit_ms is not None and since_ms is not None and exit_ms - since_ms <= EXIT_TIMEOUT_S * 1000


def _reaper_line(out: Outcome, tids: set[int]) -> bool:
    """An `oom_reaper:` line naming the victim. The kernel prints the tid of the thread queued at
    kill time (usually the leader); the model prints the first thread that still has an mm at reap
    time (101 when only the leader was thawed and exited), so any tid of the victim counts."""
    return any((m := _REAPER_LINE.search(line)) and int(m.group(1)) in tids for line in out.dmesg)


def _window(out: Outcome, t_kill: int | None) -> Outcome:
    """The outcome with only the dmesg lines printed within REAPER_WINDOW_S of the kill (the
    lab stops reading the log then)."""
    if t_kill is None:
        return out
    end = (t_kill + REAPER_WINDOW_S * 1000) / 1000
    lines = [ln for ln in out.dmesg if (m := re.match(r"\[\s*([\d.]+)\]", ln)) is None or float(m.group(1)) <= end]
    return msgspec.structs.replace(out, dmesg=lines)


def _tids(sim: Simulation, pid: int | None) -> set[int]:
    p = sim.k.pids.get(pid) if pid is not None else None
    return {t.tid for t in p.threads} if p is not None else set()


def _role(roles: dict[int, str], pid: int | None) -> str | None:
    return None if pid is None else roles.get(pid, "outsider")


def _process(pid: int, comm: str, cgroup: str, *, anon_mib: int = PY_ANON_MIB, threads: int = 1,
             alloc_mib: int | None = None, alloc_start_ms: int = 0, extra: str = "") -> str:
    text = f"""
[[processes]]
pid = {pid}
comm = "{comm}"
cgroup = "{cgroup}"
rss = "{anon_mib} MiB"
file_rss = "{PY_FILE_MIB} MiB"
"""
    if threads > 1:
        text += "".join(f"  [[processes.threads]]\n  tid = {pid + i}\n" for i in range(threads))
    text += extra
    if alloc_mib is not None:
        text += f'  [processes.alloc]\n  rate = "{ALLOC_RATE}"\n  target = "{alloc_mib} MiB"\n'
        text += f'  start = "{alloc_start_ms}ms"\n'
    return text


def _header(title: str, story: str, ram_mib: int, limit_mib: int, duration_s: float, frozen: bool | str) -> str:
    """`frozen`: a freezer group /lab/frozen inside the memcg, v1 (True or "v1") or "v2" (cgroup.freeze)."""
    text = f'''title = "{title}"
story = """
{story.strip()}
"""
source = "oomtui lab (oomtui/lab/experiments.py); kernel-model.md 11"
ram = "{ram_mib} MiB"
duration = "{duration_s:g}s"

memcg = "v1"  # the lab's memcgs are on the v1 memory hierarchy (lab/cgroup.py)

[[cgroups]]
path = "/lab"
memory_max = "{limit_mib} MiB"
'''
    if frozen:
        text += f'\n[[cgroups]]\npath = "/lab/frozen"\nfreezer = "{"v1" if frozen is True else frozen}"\n'
    return text


def _action(at_ms: int, do: str, caption: str, **kw: object) -> str:
    fields = "".join(f"{k} = {json.dumps(v)}\n" for k, v in kw.items())  # ints and ASCII strings: valid TOML
    return f'\n[[actions]]\nat = "{at_ms}ms"\ndo = "{do}"\n{fields}caption = {json.dumps(caption)}\n'


# ------------------------------------------------------------------------------------- memcg-oom
MEMCG_ROLES = {100: "hog"}


def memcg_oom_scene() -> str:
    e = MemcgOomExperiment
    return _header(
        f"lab memcg-oom: one process fills its {e.limit_mib} MiB memcg",
        f"lab-hog allocates 1 MiB chunks without end inside a {e.limit_mib} MiB memory cgroup until the memcg "
        "OOM killer kills it.",
        4096, e.limit_mib, 1 + EXIT_TIMEOUT_S, frozen=False,
    ) + _process(100, "lab-hog", "/lab", alloc_mib=1024)


def _oom_kill_run(sim, roles: dict[int, str], policy: str, kernel: str | None, text: str) -> ModelRun:
    """The outcome of an experiment whose point is one OOM kill: who, did it exit, did the reaper act."""
    out = sim.run()
    pid, t_kill = _first_kill(out)
    exit_ms = _exit_ms(sim, pid)
    outcome = {
        "victim_role": _role(roles, pid),
        "victim_exited": _exited_within(exit_ms, t_kill),
        "reaper_acted": _reaper_line(_window(out, t_kill), _tids(sim, pid)),
    }
    details = {"kill_ms": t_kill, "exit_ms": exit_ms, "killed_roles": [_role(roles, k) for k in out.killed_pids()],
               "roles": sorted(roles.values())}
    return ModelRun(policy, _kernel(policy, kernel), outcome, details, [text],
                    report_lines(unstamped(_window(out, t_kill).dmesg)), simulated=[out])


def model_memcg_oom(policy: str, kernel: str | None = None) -> ModelRun:
    text = memcg_oom_scene()
    sim = _sim(text, "lab memcg-oom", policy, kernel)
    return _oom_kill_run(sim, MEMCG_ROLES, policy, kernel, text)


# ------------------------------------------------------------------------------------- frozen-victim
FROZEN_ROLES = {100: "victim", 200: "trigger"}
FREEZE_MS, TRIGGER_MS = 100, 200


def frozen_victim_scene() -> str:
    e = FrozenVictimExperiment
    return (
        _header(
            f"lab frozen-victim: a v1-frozen {e.victim_threads}-thread process in a full memcg",
            f"lab-victim ({e.victim_threads} threads, {e.victim_mib} MiB) is frozen by the cgroup v1 freezer; "
            f"lab-trigger, in the same {e.limit_mib} MiB memcg, then allocates {e.trigger_mib} MiB.",
            4096, e.limit_mib, TRIGGER_MS / 1000 + 1 + EXIT_TIMEOUT_S, frozen=True,
        )
        + _process(100, "lab-victim", "/lab/frozen", anon_mib=PY_ANON_MIB + e.victim_mib, threads=e.victim_threads)
        + _process(200, "lab-trigger", "/lab", alloc_mib=e.trigger_mib, alloc_start_ms=TRIGGER_MS)
        + _action(FREEZE_MS, "freeze", "freezer.state = FROZEN", cgroup="/lab/frozen")
    )


def model_frozen_victim(policy: str, kernel: str | None = None) -> ModelRun:
    text = frozen_victim_scene()
    sim = _sim(text, "lab frozen-victim", policy, kernel)
    return _oom_kill_run(sim, FROZEN_ROLES, policy, kernel, text)


# ------------------------------------------------------------------------------------- mrelease
MRELEASE_TIMES = {"live": 100, "freeze_kill": 200, "states": 250, "killed_frozen": 260, "rss_after": 460,
                  "again": 500, "thaw": 700, "after_exit": 1000}


def mrelease_scene(target_mib: int) -> str:
    t = MRELEASE_TIMES
    return (
        _header(
            "lab mrelease: process_mrelease(2) on a live, a killed v1-frozen and an exited process",
            f"lab-target ({target_mib} MiB) is asked to be reaped while alive, then frozen by the cgroup v1 "
            "freezer and SIGKILLed by kill(2), reaped with process_mrelease, reaped again, thawed, and asked once "
            "more after it exited.",
            4096 + target_mib, target_mib + 64, 1.5, frozen=True,
        )
        + _process(100, "lab-target", "/lab/frozen", anon_mib=PY_ANON_MIB + target_mib)
        + _action(t["live"], "mrelease", "on a live process", pid=100)
        + _action(t["freeze_kill"], "freeze", "freezer.state = FROZEN", cgroup="/lab/frozen")
        + _action(t["freeze_kill"], "kill", "kill(2) SIGKILL: does not thaw", pid=100)
        + _action(t["killed_frozen"], "mrelease", "on the killed, frozen process", pid=100)
        + _action(t["again"], "mrelease", "a second time", pid=100)
        + _action(t["thaw"], "thaw", "freezer.state = THAWED", cgroup="/lab/frozen")
        + _action(t["after_exit"], "mrelease", "after it exited", pid=100)
    )


def _rss_kb(sim: Simulation, pid: int) -> int:
    p = sim.k.pids.get(pid)
    mm = p.mm if p is not None else None
    return 0 if mm is None else (mm.anon + mm.file + mm.shmem) * 4


def model_mrelease(policy: str, kernel: str | None = None, target_mib: int | None = None) -> ModelRun:
    target_mib = target_mib or MreleaseExperiment.target_mib
    t = MRELEASE_TIMES
    text = mrelease_scene(target_mib)
    sim = _sim(text, "lab mrelease", policy, kernel)
    _at(sim, t["states"])
    p = sim.k.pids[100]
    states = [th.letter for th in p.threads if th.alive]
    still_frozen = bool(states) and all(th.state == FROZEN for th in p.threads)
    rss_before = _rss_kb(sim, 100)
    _at(sim, t["rss_after"])
    rss_after = _rss_kb(sim, 100)
    out = sim.run()
    calls = [s for s in out.syscalls if s.name == "process_mrelease"]
    names = ("live", "killed_frozen", "again", "after_exit")
    errnos = {n: (c.errno or "OK") for n, c in zip(names, calls)}
    outcome = {
        "errno": errnos,
        "still_frozen_after_kill": still_frozen,
        "reaper_acted": any(r.by == "process_mrelease" and r.result == "reaped" for r in out.reaps)
        and rss_after < rss_before // 10,
    }
    details = {"states_after_kill": states, "rss_before_kb": rss_before, "rss_after_kb": rss_after,
               "exit_ms": _exit_ms(sim, 100), "target_mib": target_mib}
    return ModelRun(policy, _kernel(policy, kernel), outcome, details, [text], [], simulated=[out])


# ------------------------------------------------------------------------------------- robust-futex
ROBUST_TIMES = {"freeze_kill": 100, "mrelease": 100, "thaw": 300}


def robust_futex_scene(mrelease_first: bool) -> str:
    e = RobustFutexExperiment
    t = ROBUST_TIMES
    how = "process_mrelease, then thaw" if mrelease_first else "thaw"
    shm = '  [[processes.vmas]]\n  kind = "shmem"\n  size = "4 KiB"\n  shm = "mutex"\n'
    text = (
        _header(
            f"lab robust-futex: a killed v1-frozen mutex owner, {how}",
            "lab-owner holds a process-shared robust pthread mutex in a MAP_SHARED memfd page; lab-waiter "
            f"blocks in pthread_mutex_timedlock({e.waiter_timeout_s:g} s). The owner is v1-frozen and SIGKILLed "
            f"by kill(2); then: {how}.",
            4096, 64, e.waiter_timeout_s + 2, frozen=True,
        )
        + '\n[[shm]]\nname = "mutex"\nsize = "4 KiB"\ncgroup = "/lab"\n'
        + _process(100, "lab-owner", "/lab/frozen", extra=shm)
        + _process(200, "lab-waiter", "/lab", extra=shm)
        + '\n[[futexes]]\nname = "M"\nshm = "mutex"\nowner = 100\n'
        + f'waiters = [{{ tid = 200, timeout = "{e.waiter_timeout_s:g}s" }}]\n'
        + _action(t["freeze_kill"], "freeze", "freezer.state = FROZEN", cgroup="/lab/frozen")
        + _action(t["freeze_kill"], "kill", "kill(2) SIGKILL: stays frozen", pid=100)
    )
    if mrelease_first:
        text += _action(t["mrelease"], "mrelease", "process_mrelease before the thaw", pid=100)
    return text + _action(t["thaw"], "thaw", "freezer.state = THAWED", cgroup="/lab/frozen")


_FATE = {"eownerdead": "EOWNERDEAD", "acquired": "OK", "timedout": "ETIMEDOUT", "killed": "killed"}


def waiter_fate(raw: str, has_timeout: bool) -> str:
    """The model's waiter outcome in pthread_mutex_timedlock's words (see the module docstring)."""
    if raw == "hung":
        return "ETIMEDOUT" if has_timeout else "hung"
    if raw == "blocked":
        return "ETIMEDOUT" if has_timeout else "blocked"
    return _FATE.get(raw, raw)


def model_robust_futex(policy: str, kernel: str | None = None) -> ModelRun:
    fates, raw, calls, reaped, outs, scenes = {}, {}, [], [], [], []
    for label, first in (("thaw", False), ("mrelease_then_thaw", True)):
        text = robust_futex_scene(first)
        sim = _sim(text, f"lab robust-futex ({label})", policy, kernel)
        out = sim.run()
        w = out.waiter(200)
        raw[label] = w.outcome
        fates[label] = waiter_fate(w.outcome, True)
        if first:
            calls = [s for s in out.syscalls if s.name == "process_mrelease"]
            reaped = [r for r in out.reaps if r.by == "process_mrelease" and r.result == "reaped"]
        outs.append(out)
        scenes.append(text)
    outcome = {
        "waiter_fate": fates,
        "errno": {"mrelease": (calls[0].errno or "OK") if calls else None},
        "reaper_acted": bool(reaped),
    }
    details = {"waiter_raw": raw}
    return ModelRun(policy, _kernel(policy, kernel), outcome, details, scenes, [], simulated=outs)


# ------------------------------------------------------------------- section 10 scenarios under pressure
# Each: the experiment's processes, the freeze at FREEZE_MS, lab-trigger (pid 300) allocating from
# TRIGGER_MS in the same memcg; the facts of the first OOM kill as _oom_kill_run reads them.
_SHM_VMA = '  [[processes.vmas]]\n  kind = "shmem"\n  size = "4 KiB"\n  shm = "mutex"\n'
_SHM = '\n[[shm]]\nname = "mutex"\nsize = "4 KiB"\ncgroup = "/lab"\n'
PRESSURE_END_S = TRIGGER_MS / 1000 + 1 + EXIT_TIMEOUT_S


def _sharer(pid: int, comm: str, cgroup: str) -> str:
    """A process cloned by pid 100 with CLONE_VM (no memory of its own: it maps pid 100's mm)."""
    return f'\n[[processes]]\npid = {pid}\ncomm = "{comm}"\ncgroup = "{cgroup}"\nparent = 100\nshares_mm_with = 100\n'


def _trigger(mib: int) -> str:
    return _process(300, "lab-trigger", "/lab", alloc_mib=mib, alloc_start_ms=TRIGGER_MS)


def _futex(owner: int, timeout_s: float) -> str:
    return (f'\n[[futexes]]\nname = "M"\nshm = "mutex"\nowner = {owner}\n'
            f'waiters = [{{ tid = 200, timeout = "{timeout_s:g}s" }}]\n')


FROZEN_ROBUST_ROLES = {100: "owner", 200: "waiter", 300: "trigger"}


def frozen_robust_oom_scene() -> str:
    e = FrozenRobustOomExperiment
    return (
        _header(
            "lab frozen-robust-oom: a v1-frozen robust holder is OOM-killed (kernel-model.md S2)",
            f"lab-owner's second thread (101) holds a robust, process-shared mutex; lab-owner ({e.owner_mib} MiB) is "
            f"frozen by the cgroup v1 freezer; lab-waiter waits for the mutex ({e.waiter_timeout_s:g} s timeout); "
            f"lab-trigger fills the {e.limit_mib} MiB memcg.",
            4096, e.limit_mib, PRESSURE_END_S, frozen=True,
        )
        + _SHM
        + _process(100, "lab-owner", "/lab/frozen", anon_mib=PY_ANON_MIB + e.owner_mib, threads=2, extra=_SHM_VMA)
        + _process(200, "lab-waiter", "/lab", extra=_SHM_VMA)
        + _trigger(e.trigger_mib)
        + _futex(101, e.waiter_timeout_s)
        + _action(FREEZE_MS, "freeze", "freezer.state = FROZEN", cgroup="/lab/frozen")
    )


def model_frozen_robust_oom(policy: str, kernel: str | None = None) -> ModelRun:
    text = frozen_robust_oom_scene()
    sim = _sim(text, "lab frozen-robust-oom", policy, kernel)
    run = _oom_kill_run(sim, FROZEN_ROBUST_ROLES, policy, kernel, text)
    raw = run.simulated[0].waiter(200).outcome
    run.outcome["waiter_fate"] = waiter_fate(raw, True)
    run.details["waiter_raw"] = {"waiter": raw}
    return run


V2_ROLES = {100: "victim", 300: "trigger"}
KILL_MS = 200


def v2_frozen_scene() -> str:
    e = V2FrozenExperiment
    return (
        _header(
            f"lab v2-frozen: a cgroup v2 frozen {e.victim_threads}-thread process in a full memcg (kernel-model.md S4)",
            f"lab-victim ({e.victim_threads} threads, {e.victim_mib} MiB) is frozen by cgroup v2's cgroup.freeze; "
            f"lab-trigger, in the same {e.limit_mib} MiB memcg, then allocates {e.trigger_mib} MiB.",
            4096, e.limit_mib, PRESSURE_END_S, frozen="v2",
        )
        + _process(100, "lab-victim", "/lab/frozen", anon_mib=PY_ANON_MIB + e.victim_mib, threads=e.victim_threads)
        + _trigger(e.trigger_mib)
        + _action(FREEZE_MS, "freeze", "cgroup.freeze = 1", cgroup="/lab/frozen")
    )


def v2_kill_scene() -> str:
    # cgroup.kill: cgroup_kill() sends SIGKILL to every process of the group (5.14+), as kill(2) would
    return (
        _header("lab v2-frozen: cgroup.kill on a v2-frozen group",
                "lab-target (3 threads) is frozen by cgroup.freeze, then its group is killed through cgroup.kill.",
                4096, V2FrozenExperiment.limit_mib, 1 + EXIT_TIMEOUT_S, frozen="v2")
        + _process(100, "lab-target", "/lab/frozen", anon_mib=PY_ANON_MIB + 8, threads=3)
        + _action(FREEZE_MS, "freeze", "cgroup.freeze = 1", cgroup="/lab/frozen")
        + _action(KILL_MS, "kill", "cgroup.kill = 1: SIGKILL to each process of the group", pid=100)
    )


def proc_letter(t: Task) -> str:
    """The state letter /proc shows for a model thread, as the real side reads it: a v1-frozen task reads D
    (the lab's 6.18 runs), a v2-frozen one S (do_freezer_trap() sleeps TASK_INTERRUPTIBLE)."""
    return {FROZEN: "D", STOPPED_V2: "S"}.get(t.state, t.letter)


def model_v2_frozen(policy: str, kernel: str | None = None) -> ModelRun:
    text = v2_frozen_scene()
    sim = _sim(text, "lab v2-frozen", policy, kernel)
    _at(sim, TRIGGER_MS - 1)
    states = "".join(sorted({proc_letter(t) for t in sim.k.pids[100].threads}))  # as the real side: once each
    run = _oom_kill_run(sim, V2_ROLES, policy, kernel, text)
    kill_text = v2_kill_scene()
    ksim = _sim(kill_text, "lab v2-frozen (cgroup.kill)", policy, kernel)
    out = ksim.run()
    exit_ms = _exit_ms(ksim, 100)
    run.outcome = {"states_frozen": states, **run.outcome, "cgroup_kill_exited": _exited_within(exit_ms, KILL_MS)}
    run.details["cgroup_kill_exit_ms"] = exit_ms
    run.scenes.append(kill_text)
    run.simulated.append(out)
    return run


CLONE_VM_ROLES = {100: "victim", 150: "sibling", 300: "trigger"}


def clone_vm_frozen_scene() -> str:
    e = CloneVmFrozenExperiment
    return (
        _header(
            "lab clone-vm-frozen: a v1-frozen CLONE_VM sibling under continued pressure (kernel-model.md S6)",
            f"lab-victim ({e.victim_mib} MiB) and lab-sibling share one mm (clone(CLONE_VM) without CLONE_THREAD); "
            f"only lab-sibling is frozen by the cgroup v1 freezer. lab-trigger keeps allocating in the same "
            f"{e.limit_mib} MiB memcg.",
            4096, e.limit_mib, PRESSURE_END_S, frozen=True,
        )
        + _process(100, "lab-victim", "/lab", anon_mib=PY_ANON_MIB + e.victim_mib)
        + _sharer(150, "lab-sibling", "/lab/frozen")
        + _trigger(e.trigger_mib)
        + _action(FREEZE_MS, "freeze", "freezer.state = FROZEN", cgroup="/lab/frozen")
    )


def model_clone_vm_frozen(policy: str, kernel: str | None = None) -> ModelRun:
    text = clone_vm_frozen_scene()
    sim = _sim(text, "lab clone-vm-frozen", policy, kernel)
    run = _oom_kill_run(sim, CLONE_VM_ROLES, policy, kernel, text)
    t_kill = run.details["kill_ms"]
    exits = {role: _exit_ms(sim, pid) for pid, role in CLONE_VM_ROLES.items() if role != "trigger"}
    run.outcome["exited"] = {role: _exited_within(ms, t_kill) for role, ms in exits.items()}
    run.details["exit_ms_by_role"] = exits
    return run


D_STATE_ROLES = {100: "holder", 150: "vfork", 200: "waiter", 300: "trigger"}


def d_state_scene() -> str:
    e = DStateExperiment
    return (
        _header(
            "lab d-state: a robust holder waiting in vfork() (state D, killable) is OOM-killed (kernel-model.md S5)",
            f"lab-holder's second thread (101) holds a robust, process-shared mutex and waits in vfork() for "
            "lab-vfork, a child that shares the mm and never execs (wait_for_vfork_done: TASK_KILLABLE). "
            f"lab-waiter waits for the mutex ({e.waiter_timeout_s:g} s timeout); lab-trigger fills the "
            f"{e.limit_mib} MiB memcg.",
            4096, e.limit_mib, PRESSURE_END_S, frozen=False,
        )
        + _SHM
        + _process(100, "lab-holder", "/lab", anon_mib=PY_ANON_MIB + e.holder_mib, extra=(
            '  [[processes.threads]]\n  tid = 100\n  [[processes.threads]]\n  tid = 101\n  state = "D"\n'
            '  d_for = "forever"\n  killable = true\n' + _SHM_VMA))
        + _sharer(150, "lab-vfork", "/lab") + "in_vfork = true\n"
        + _process(200, "lab-waiter", "/lab", extra=_SHM_VMA)
        + _trigger(e.trigger_mib)
        + _futex(101, e.waiter_timeout_s)
    )


def model_d_state(policy: str, kernel: str | None = None) -> ModelRun:
    text = d_state_scene()
    sim = _sim(text, "lab d-state", policy, kernel)
    _at(sim, TRIGGER_MS - 1)
    holder = "".join(proc_letter(t) for t in sim.k.pids[100].threads)
    run = _oom_kill_run(sim, D_STATE_ROLES, policy, kernel, text)
    t_kill = run.details["kill_ms"]
    child_exit = _exit_ms(sim, 150)
    raw = run.simulated[0].waiter(200).outcome
    run.outcome = {"holder_state": holder, **run.outcome, "vfork_child_exited": _exited_within(child_exit, t_kill),
                   "waiter_fate": waiter_fate(raw, True)}
    run.details["waiter_raw"] = {"waiter": raw}
    return run


# ------------------------------------------------------------------------------------- lmkd-race
MODEL_TRIALS = 1000  # per placement: 0.5-1 s each


def lmkd_scene(cpu: int | None, holder: str = "main", delay_us: int = 0, *, idle: float = 0.0,
               killer: int | None = 50, policy: str | None = None, title: str = "lmkd race") -> str:
    """The lmkd pattern as a race-trials scene (lmkd_race.c; tests/races): the killer (pid 50) pinned to
    CPU 0, the owner's threads pinned to `cpu` (None: unpinned), the robust mutex held by its main thread
    or a second one, a waiter; kill at 1 s, then process_mrelease `delay_us` later (whole milliseconds:
    the model's jiffy at HZ=1000). [races]: `killer` (None: no table, races off unless asked) and
    `idle`, the share of wake-ups that find the other CPU idle."""
    pin = "" if cpu is None else f"cpu = {cpu}"
    threads = f"[[processes.threads]]\ntid = 100\n{pin}\n"
    owner = 100
    if holder == "thread":
        threads += f"[[processes.threads]]\ntid = 101\n{pin}\n"
        owner = 101
    races = "" if killer is None else f"[races]\nkiller = {killer}\nidle = {idle:g}\n"
    return f"""
title = "{title}"
story = "calibration"
ram = "4 GiB"
hz = 1000
duration = "3s"
cpus = 2
{f'policy = "{policy}"' if policy else ""}
{races}
[[shm]]
name = "m"
size = "4 KiB"
[[processes]]
pid = 1
comm = "init"
init = true
[[processes]]
pid = 50
comm = "killer"
parent = 1
[[processes.threads]]
tid = 50
cpu = 0
[[processes]]
pid = 100
comm = "owner"
parent = 1
rss = "1 MiB"
{threads}
[[processes.vmas]]
kind = "shmem"
size = "4 KiB"
shm = "m"
[[processes]]
pid = 200
comm = "waiter"
parent = 1
[[futexes]]
name = "M"
shm = "m"
owner = {owner}
waiters = [{{ tid = 200 }}]
[[actions]]
at = "1s"
do = "kill"
pid = 100
[[actions]]
at = "{1000 + delay_us // 1000}ms"
do = "mrelease"
pid = 100
"""


def lmkd_race_scene(placement: str, holder: str, delay_us: int, idle: float = 0.0) -> str:
    """A row of lmkd_race.c: the owner on CPU 0 ("same"), CPU 1 ("other") or unpinned ("any", "any-busy")."""
    return lmkd_scene({"same": 0, "other": 1}.get(placement), holder, delay_us, idle=idle,
                      title=f"lmkd race {placement} {holder} {delay_us}")


# an unpinned row's `idle` without a real run: an idle machine; the lab's busy loop on the other CPU
UNPINNED_IDLE = {"any": 1.0, "any-busy": 0.0}


def lmkd_race_idle(placement: str, measured: dict[str, Any] | None) -> float:
    """The scene's [races] idle for a row: for an unpinned victim, the share of the real row's trials
    whose victim ran on the other CPU (the condition the real counts were taken under); pinned, 0 (it
    only moves unpinned threads)."""
    if placement not in UNPINNED_IDLE:
        return 0.0
    if measured is None:
        return UNPINNED_IDLE[placement]
    return round(measured["ran_other"] / measured["trials"], 3)


def model_lmkd_race(policy: str, kernel: str | None = None, trials: int = MODEL_TRIALS,
                    real: dict[str, Any] | None = None) -> ModelRun:
    """Race trials of each placement, counted jointly (hung and -ESRCH in the same trial), which the
    marginal shares of scene/trials.py cannot say. `real`: the real run's measured dict (LmkdRace),
    whose unpinned rows set the model's `idle`."""
    counts, joint, scenes, simulated, idles = {}, 0, [], [], {}
    configs = real["configs"] if real is not None else {}
    for name, (placement, holder, delay_us) in LMKD_CONFIGS.items():
        idles[name] = idle = lmkd_race_idle(placement, configs.get(name))
        text = lmkd_race_scene(placement, holder, delay_us, idle)
        ls = loads(text, f"lab lmkd-race {name}")
        simulated.append(Simulation(ls, policy, kernel).run())  # the whole-jiffy run `oomtui run` replays
        hung = esrch = 0
        for i in range(trials):
            out = Simulation(ls, policy, kernel, race_seed=trial_seed(0, i)).run()
            h = out.waiter(200).outcome == "hung"
            e = any(c.name == "process_mrelease" and c.errno == "ESRCH" for c in out.syscalls)
            hung, esrch, joint = hung + h, esrch + e, joint + (h and e)
        counts[name] = {"hung": [hung, trials], "esrch": [esrch, trials]}
        scenes.append(text)
    details = {"trials": trials, "counts": counts, "idle": idles}  # placement -> "hung"/"esrch" -> [count, trials]
    return ModelRun(policy, _kernel(policy, kernel), {"hung_with_esrch": joint}, details, scenes, [],
                    simulated=simulated)


MODELS: dict[str, Callable[[str, str | None], ModelRun]] = {
    "memcg-oom": model_memcg_oom,
    "frozen-victim": model_frozen_victim,
    "mrelease": model_mrelease,
    "robust-futex": model_robust_futex,
    "frozen-robust-oom": model_frozen_robust_oom,
    "clone-vm-frozen": model_clone_vm_frozen,
    "v2-frozen": model_v2_frozen,
    "d-state": model_d_state,
    "lmkd-race": model_lmkd_race,
}


def run_model(name: str, release: str, real: dict[str, Any] | None = None) -> ModelRun:
    """The model of experiment `name` under the policy (and version) of kernel `release`.
    `real` (the real run's measured dict) sizes the mrelease target as the real run did, and gives the
    lmkd race's unpinned rows the share of trials whose victim ran on the other CPU."""
    policy, kernel = policy_for_release(release), kernel_of_release(release)
    if name == "mrelease" and real is not None and real.get("target_mib"):
        return model_mrelease(policy, kernel, target_mib=int(real["target_mib"]))
    if name == "lmkd-race" and real is not None:
        return model_lmkd_race(policy, kernel, real=real)
    return MODELS[name](policy, kernel)


def _kernel(policy: str, kernel: str | None) -> str:
    from ..kernel.policy import get_policy

    return str(get_policy(policy, kernel).version)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def compare(real: dict[str, Any] | None, model: dict[str, Any] | None) -> list[tuple[str, Any, Any, bool | None]]:
    """(fact, real, model, equal) for every fact of either side; equal is None when a side is missing."""
    r = flatten(real) if real is not None else {}
    m = flatten(model) if model is not None else {}
    keys = list(r) + [k for k in m if k not in r]
    return [
        (k, r.get(k), m.get(k), None if real is None or model is None else r.get(k) == m.get(k)) for k in keys
    ]
