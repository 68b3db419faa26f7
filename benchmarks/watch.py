"""`oomtui watch` cost on this machine: prints numbers, asserts nothing.

    python benchmarks/watch.py [--procs 1000] [--seconds 10] [--interval 1]

Spawns sleepers until the machine has about --procs processes with an mm (kernel threads not counted),
then measures for --seconds, in this process:
1. the Monitor alone (read /proc and the cgroups, build the model, weigh every OOM domain, poll kmsg)
   at --interval: CPU time as % of one core, and the cost of one refresh;
2. the whole TUI (WatchApp, headless at 120x36) at the same interval: CPU % of one core, peak RSS.
The sleepers are killed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import subprocess
import time

from oomtui.watch.app import WatchApp
from oomtui.watch.monitor import Monitor


def rss_mib() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB."""
    f = {}
    with open("/proc/self/status") as s:
        for line in s:
            k, _, v = line.partition(":")
            f[k] = v
    return int(f["VmRSS"].split()[0]) / 1024, int(f["VmHWM"].split()[0]) / 1024


def spawn(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL) for _ in range(n)]


def bench_monitor(seconds: float, interval: float) -> None:
    m = Monitor()
    cpu0, wall0 = time.process_time(), time.monotonic()
    costs = []
    while time.monotonic() - wall0 < seconds:
        t = time.process_time()
        m.refresh()
        m.poll()
        costs.append(time.process_time() - t)
        time.sleep(max(0.0, interval - (time.monotonic() - wall0) % interval))
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    r = m.reading
    print(f"1. Monitor: {len(r.procs)} processes with an mm (+{r.kthreads} without), {len(r.memcgs)} memcgs, "
          f"{len(m.scores.verdicts)} OOM domains; cgroups from "
          + ("each group's cgroup.procs" if m.reader.from_cgroups else "/proc/PID/cgroup"))
    print(f"   {len(costs)} refreshes in {wall:.1f} s: CPU {100 * cpu / wall:.2f} % of one core; one refresh "
          f"{1000 * min(costs):.1f} ms min, {1000 * sorted(costs)[len(costs) // 2]:.1f} ms median of CPU; the model "
          f"kernel built {m.model.rebuilds} times in {m.ticks} refreshes (else updated in place)")
    m.close()


def bench_app(seconds: float, interval: float) -> None:
    async def run() -> tuple[float, float]:
        app = WatchApp(Monitor(), interval)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(1.0)  # start-up (imports, first layout) left out
            cpu0, wall0 = time.process_time(), time.monotonic()
            await asyncio.sleep(seconds)
            return time.process_time() - cpu0, time.monotonic() - wall0

    cpu, wall = asyncio.run(run())
    now, peak = rss_mib()
    print(f"2. WatchApp (headless 120x36, every {interval:g} s): CPU {100 * cpu / wall:.2f} % of one core over "
          f"{wall:.1f} s; RSS {now:.1f} MiB, peak {peak:.1f} MiB "
          f"(ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--interval", type=float, default=1.0)
    a = ap.parse_args()
    have = len(Monitor(events=False).reading.procs)
    sleepers = spawn(max(0, a.procs - have))
    try:
        time.sleep(0.5)
        bench_monitor(a.seconds, a.interval)
        bench_app(a.seconds, a.interval)
    finally:
        for p in sleepers:
            p.send_signal(signal.SIGKILL)
        for p in sleepers:
            p.wait()
    print(f"   ({len(sleepers)} sleepers spawned; os.cpu_count() {os.cpu_count()})")


if __name__ == "__main__":
    main()
