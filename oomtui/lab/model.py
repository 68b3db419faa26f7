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
from ..scene.load import loads
from ..scene.sim import Outcome, Simulation
from .experiments import (
    EXIT_TIMEOUT_S,
    REAPER_WINDOW_S,
    FrozenVictimExperiment,
    MemcgOomExperiment,
    MreleaseExperiment,
    RobustFutexExperiment,
)
from .formats import report_lines, unstamped

PY_ANON_MIB = 5  # a lab child (python3 + ctypes) before it allocates: ~5 MiB anon ...
PY_FILE_MIB = 6  # ... and ~6 MiB of mapped interpreter and libraries (real runs: 4.5-5.5 / 6.0-6.7)
ALLOC_RATE = "1 GiB/s"  # bytes(1 MiB) in a loop, every page written
_REAPER_LINE = re.compile(r"oom_reaper: (?:reaped process |unable to reap pid:)(\d+)")


class ModelRun(msgspec.Struct):
    """One experiment run by the model: the scene it ran, its policy, outcome() and the raw result."""

    policy: str
    kernel: str
    outcome: dict[str, Any]
    details: dict[str, Any]  # model-side facts outside outcome() (kill order, waiter raw outcome ...)
    scenes: list[str]  # the TOML texts (robust-futex: one per trial); `oomtui run` one to watch it
    simulated: list[Outcome]  # one per scene
    dmesg: list[str] = []  # the model's OOM report lines, unstamped, as the real side reads them


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


def _header(title: str, story: str, ram_mib: int, limit_mib: int, duration_s: float, frozen: bool) -> str:
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
        text += '\n[[cgroups]]\npath = "/lab/frozen"\nfreezer = "v1"\n'
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
        "victim_exited": exit_ms is not None and t_kill is not None and exit_ms - t_kill <= EXIT_TIMEOUT_S * 1000,
        "reaper_acted": _reaper_line(_window(out, t_kill), _tids(sim, pid)),
    }
    details = {"kill_ms": t_kill, "exit_ms": exit_ms, "killed_roles": [_role(roles, k) for k in out.killed_pids()]}
    return ModelRun(policy, _kernel(policy, kernel), outcome, details, [text], [out],
                    report_lines(unstamped(_window(out, t_kill).dmesg)))


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
    from ..kernel.state import FROZEN

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
    return ModelRun(policy, _kernel(policy, kernel), outcome, details, [text], [out])


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
        + f'\n[[futexes]]\nname = "M"\nshm = "mutex"\nowner = 100\n'
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
    return ModelRun(policy, _kernel(policy, kernel), outcome, details, scenes, outs)


MODELS: dict[str, Callable[[str, str | None], ModelRun]] = {
    "memcg-oom": model_memcg_oom,
    "frozen-victim": model_frozen_victim,
    "mrelease": model_mrelease,
    "robust-futex": model_robust_futex,
}


def run_model(name: str, release: str, real: dict[str, Any] | None = None) -> ModelRun:
    """The model of experiment `name` under the policy (and version) of kernel `release`.
    `real` (the real run's measured dict) sizes the mrelease target as the real run did."""
    policy, kernel = policy_for_release(release), kernel_of_release(release)
    if name == "mrelease" and real is not None and real.get("target_mib"):
        return model_mrelease(policy, kernel, target_mib=int(real["target_mib"]))
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
