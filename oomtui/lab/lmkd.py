"""The lmkd race on the real kernel: SIGKILL a robust-mutex owner, then process_mrelease(2) at once.

lmkd_race.c (beside this file) runs the pattern TRIALS times per victim placement: the owner holds a
process-shared robust mutex, a waiter in another process blocks on it (300 ms timeout: a timeout is a
waiter that would hang), and a killer pinned to CPU 0 sends SIGKILL and calls process_mrelease(pidfd, 0)
at once or after a delay. The lab builds it with gcc into a private directory (mkdtemp, mode 0700) and
runs it as one of its children, in the experiment's memcg. Its counts sit beside the model's race
trials of the same situation (lab/model.py `lmkd_race_scene`, docs/races.md).

Where an unpinned victim runs depends on whether the other CPU is idle at the wake-up (the scheduler
moves it there, else it stays beside the killer), which the lab cannot choose on a shared machine: it
runs the unpinned victim twice, with the other CPU as the machine has it and with a busy loop of its
own pinned there, and counts the trials whose victim ran on the other CPU; that share is the model's
`idle` for the row. It also reads how much of each row's time the other CPU was idle (/proc/stat).

A count agrees when the real share's 95 % Wilson interval overlaps the model's, widened by LOAD_MARGIN
on each side: the race depends on what else the machine runs (two real batches of the same placement
differed by 14 points, docs/races.md), which the model knows only through the unpinned rows' share.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from ..scene.trials import wilson
from .session import Session

SOURCE = Path(__file__).with_name("lmkd_race.c")
BINARY = "lab-lmkd"  # the comm of its processes
# name: (victim placement, mutex holder, delay between kill and process_mrelease in µs)
CONFIGS: dict[str, tuple[str, str, int]] = {
    "killer-cpu": ("same", "main", 0),
    "other-cpu": ("other", "main", 0),
    "unpinned": ("any", "main", 0),  # the other CPU as the machine has it
    "unpinned-busy": ("any-busy", "main", 0),  # a busy loop of the lab's pinned to the other CPU
    "other-cpu-1ms": ("other", "main", 1000),
}
MAX_TRIALS = 2000
TRIALS = 200  # per placement: 20-100 s for all five on a shared 2-CPU machine (a hang costs the 300 ms timeout)
WAITER_TIMEOUT_S = 0.3  # lmkd_race.c's pthread_mutex_timedlock
LOAD_MARGIN = 0.10
COUNTED = ("hung", "esrch")  # the waiter timed out; process_mrelease returned -ESRCH
OTHER_CPU = 1  # lmkd_race.c pins the killer to CPU 0, a victim placed "other" (and its busy loop) to CPU 1


class RaceCounts(msgspec.Struct):
    placement: str
    holder: str
    delay_us: int
    trials: int
    hung: int
    eownerdead: int
    mrelease_ok: int
    esrch: int
    other: int
    hung_with_esrch: int
    ran_other: int  # trials whose owner last ran (exited) on a CPU other than the killer's
    other_cpu_idle: float  # the share of the row's time the other CPU was idle (/proc/stat)
    mappings_above_head: int | None  # of the victim's main thread's robust list head (/proc/PID/maps)


class LmkdRace(msgspec.Struct, tag="lmkd-race"):
    trials: int
    cpus: list[int]
    build_dir: str  # where lmkd_race.c was built (removed when the experiment ends)
    configs: dict[str, RaceCounts]

    def outcome(self) -> dict[str, Any]:
        # an -ESRCH (every thread passed exit_mm) never comes with a hang: futex cleanup ran first
        return {"hung_with_esrch": sum(c.hung_with_esrch for c in self.configs.values())}

    def counts(self) -> dict[str, dict[str, list[int]]]:
        return {name: {k: [getattr(c, k), c.trials] for k in COUNTED} for name, c in self.configs.items()}

    def summary(self) -> list[str]:
        out = [f"{self.trials} trials per placement; killer pinned to CPU 0 (this machine's CPUs: "
               f"{', '.join(map(str, self.cpus))}); waiter timeout {WAITER_TIMEOUT_S * 1000:g} ms. A count agrees "
               f"when its 95 % interval (CI) overlaps the model's widened by {LOAD_MARGIN * 100:g} points either "
               "side (the race moves with the machine's load; the model takes from the real run only how often the "
               "unpinned victim ran on the other CPU)."]
        for name, c in self.configs.items():
            out.append(f"{name}: the waiter hung in {c.hung}/{c.trials}; process_mrelease returned -ESRCH in "
                       f"{c.esrch}/{c.trials}, 0 in {c.mrelease_ok}/{c.trials}; a hang with -ESRCH: "
                       f"{c.hung_with_esrch}; the victim ran on the other CPU in {c.ran_other}/{c.trials}, "
                       f"which was idle {c.other_cpu_idle * 100:.0f} % of the time.")
        above = {c.mappings_above_head for c in self.configs.values()} - {None}
        if above:
            out.append(f"Mappings above the main thread's robust list head: {', '.join(map(str, sorted(above)))}.")
        return out


class LmkdRaceExperiment:
    name: ClassVar[str] = "lmkd-race"
    trials: int = TRIALS

    @staticmethod
    def describe() -> str:
        return (
            "The lmkd pattern (SIGKILL a robust-mutex owner, then process_mrelease at once) over many trials, "
            "with the victim on the killer's CPU, on the other CPU, unpinned (the other CPU as the machine has "
            "it, then kept busy by a loop of the lab's), and on the other CPU with 1 ms between the two calls: "
            "how often does the waiter hang, process_mrelease return -ESRCH? (builds lmkd_race.c with gcc in a "
            "private temporary directory)"
        )

    def run(self) -> LmkdRace:
        cpus = sorted(os.sched_getaffinity(0))
        if not {0, 1} <= set(cpus):
            raise RuntimeError(f"lmkd-race pins to CPUs 0 and 1; this process may run on {cpus} only")
        with tempfile.TemporaryDirectory(prefix="oomtui-lab-lmkd-") as tmp:  # mkdtemp: 0700, a fresh name
            binary = _build(Path(tmp))
            with Session(self.name, 64) as s:
                counts = {name: self._placement(s, binary, name, *cfg) for name, cfg in CONFIGS.items()}
        return LmkdRace(self.trials, cpus, tmp, counts)

    def _placement(self, s: Session, binary: Path, name: str, placement: str, holder: str,
                   delay_us: int) -> RaceCounts:
        before = _cpu_times(OTHER_CPU)
        proc = s.spawn(name, "exec", binary, self.trials, placement, holder, delay_us)
        # a trial takes 5-25 ms, a hung one the waiter's timeout more
        timeout = 10 + self.trials * (0.05 + WAITER_TIMEOUT_S)
        above = None
        while True:
            line = proc.readline(timeout)
            if line.startswith("{"):
                break
            if line.startswith("busy loop running"):  # any-busy: the loop's start-up is not the row's
                before = _cpu_times(OTHER_CPU)
            if "mappings above it" in line:  # "main thread robust head 0x...: 18 of 25 mappings above it"
                above = int(line.split(": ", 1)[1].split()[0])
        idle, total = (a - b for a, b in zip(_cpu_times(OTHER_CPU), before))
        return msgspec.convert({**json.loads(line), "mappings_above_head": above,
                                "other_cpu_idle": round(idle / total, 3) if total else 0.0}, RaceCounts)


def _cpu_times(cpu: int) -> tuple[int, int]:
    """(idle, total) clock ticks of `cpu` so far, from its /proc/stat line (idle and iowait are idle)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                ticks = [int(x) for x in line.split()[1:]]
                return ticks[3] + ticks[4], sum(ticks[:8])  # user ... steal; guest time is in user already
    raise RuntimeError(f"/proc/stat has no line for CPU {cpu}")


def _build(tmp: Path) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("lmkd-race needs gcc to build lmkd_race.c (apt-get install gcc)")
    out = tmp / BINARY
    done = subprocess.run([gcc, "-O2", "-pthread", "-o", str(out), str(SOURCE)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"gcc could not build {SOURCE.name}: {done.stderr.strip().splitlines()[-1:]}")
    return out


def _text(count: int, n: int, lo: float, hi: float) -> str:
    """"144/150 = 96.0 % (CI 91.5-98.2)": the count, its share and its 95 % interval, in percent."""
    return f"{count}/{n} = {count / n * 100:.1f} % (CI {lo * 100:.1f}-{hi * 100:.1f})"


def count_facts(real: dict[str, dict[str, list[int]]] | None,
                model: dict[str, dict[str, list[int]]] | None) -> list[dict[str, Any]]:
    """`race.PLACEMENT.COUNT` facts: the real count and the model's, each with its 95 % interval; they
    agree when the real interval overlaps the model's widened by LOAD_MARGIN (the model's value says
    the widened range)."""
    facts = []
    for name in (model or real or {}):
        for key in COUNTED:
            r = real[name][key] if real else None
            m = model[name][key] if model else None
            r_lo, r_hi = wilson(*r) if r else (0.0, 0.0)
            if m:
                m_lo, m_hi = wilson(*m)
                w_lo, w_hi = max(0.0, m_lo - LOAD_MARGIN), min(1.0, m_hi + LOAD_MARGIN)
                m_text = _text(m[0], m[1], m_lo, m_hi) + f", ±{LOAD_MARGIN * 100:g}: {w_lo * 100:.1f}-{w_hi * 100:.1f}"
            agree = None if not (r and m) else r_lo <= w_hi and r_hi >= w_lo
            facts.append({"fact": f"race.{name}.{key}", "real": _text(r[0], r[1], r_lo, r_hi) if r else None,
                          "model": m_text if m else None, "agree": agree})
    return facts
