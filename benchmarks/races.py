"""Race trials: the model's lmkd-race distribution next to the real kernel's counts, and trial throughput.

The real counts were measured on this project's Linux 6.18.44 machine (2 vCPUs, shared with other
work) on 2026-12-01 by oomtui/lab/lmkd_race.c (docs/races.md; `oomtui lab lmkd-race` runs it): a
process holding a process-shared robust mutex,
a waiter in another process, and a killer pinned to CPU 0 that sends SIGKILL and calls
process_mrelease(pidfd, 0) at once or after a delay. Each model row runs the same situation as a scene
(benchmarks print numbers; tests/races asserts behaviours).

    python benchmarks/races.py [TRIALS]
"""

from __future__ import annotations

import sys
import time

from oomtui.lab.model import frozen_victim_scene, lmkd_race_scene
from oomtui.scene.load import loads
from oomtui.scene.trials import run_trials

# (victim placement, holder, delay between kill and process_mrelease in µs): (hung, -ESRCH, trials)
REAL = {
    ("same", "main", 0): (176, 750, 1000),
    ("other", "main", 0): (111, 1, 1000),
    ("any", "main", 0): (203, 793, 1000),
    ("any-busy", "main", 0): (6, 194, 200),  # `lab lmkd-race` at load 4.3: the other CPU never idle
    ("same", "thread", 0): (6, 387, 400),
    ("other", "thread", 0): (59, 0, 1000),
    ("any", "thread", 0): (6, 324, 400),
    ("other", "main", 1000): (36, 862, 900),
    ("other", "thread", 1000): (6, 494, 500),
    ("other", "main", 20000): (1, 399, 400),
    ("any", "main", 20000): (0, 400, 400),
}
# `oomtui lab frozen-victim` 20 times: the trigger (the allocating process) was OOM-killed too in 6
FROZEN_VICTIM_REAL = (6, 20)


def main(trials: int) -> None:
    print(f"{'placement':<9} {'holder':<6} {'delay':>6} | {'real hung':>15} {'real ESRCH':>15} | "
          f"{'model hung':>15} {'model ESRCH':>15}")
    total_trials, total_s = 0, 0.0
    for (placement, holder, delay), (hung, esrch, n) in REAL.items():
        t0 = time.perf_counter()
        d = run_trials(loads(lmkd_race_scene(placement, holder, delay)), trials, seed=1)
        total_s += time.perf_counter() - t0
        total_trials += trials
        m_hung = sum(s.count for w in d.waiters for s in w.outcomes if s.value == "hung")
        m_esrch = sum(s.count for c in d.mrelease for s in c.results if s.value == "ESRCH")
        print(f"{placement:<9} {holder:<6} {delay // 1000:>4}ms | {hung:>5}/{n:<4} {hung / n:5.1%} "
              f"{esrch:>5}/{n:<4} {esrch / n:5.1%} | {m_hung:>5}/{trials:<4} {m_hung / trials:5.1%} "
              f"{m_esrch:>5}/{trials:<4} {m_esrch / trials:5.1%}")
    d = run_trials(loads(frozen_victim_scene(), "lab frozen-victim"), trials, seed=1)
    both = sum(s.count for s in d.victims if "lab-trigger" in s.value)
    real, n = FROZEN_VICTIM_REAL
    print(f"\nlab frozen-victim, the allocator OOM-killed too: real {real}/{n} {real / n:5.1%} | "
          f"model {both}/{trials} {both / trials:5.1%}")
    print(f"\n{total_trials} model trials in {total_s:.2f} s: {total_trials / total_s:.0f} trials/s "
          f"({total_s / total_trials * 1000:.2f} ms each, scene build included)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
