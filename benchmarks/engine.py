"""Engine benchmarks: prints numbers, asserts nothing.

    python benchmarks/engine.py [--quick]

1. jiffies simulated per wall second for each built-in scene (its whole duration, every policy);
2. select_bad_process() over 1 000, 10 000 and 100 000 processes: the first OOM, after a policy switch, a
   later one, and a memcg OOM over all of them;
3. a generated 10 000-process / 50 000-thread scene simulating 10 s of kernel time: build time,
   simulation wall time, peak memory;
4. the OOM storm of the TUI benchmark's 5 000-process scene, without the TUI: time per
   Simulation.advance(8) (one 30 fps frame at 1x), mean, p95 and max;
5. `oomtui --help` start-up against `python -c "import msgspec, argparse"`, measured in the same run.
6. a generated 100 000-process / 500 000-thread scene (about 30 MB), 10 s of kernel time: `oomtui run
   --json` in a subprocess, its wall time and peak RSS against tomllib parsing the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from oomtui.kernel.core import Kernel
from oomtui.kernel.oom_kill import OomControl, constrained_alloc, select_bad_process
from oomtui.kernel.policy import POLICIES, get_policy
from oomtui.kernel.state import Cgroup, Vma
from oomtui.scene.load import builtin_ids, load_scene, loads
from oomtui.scene.sim import Simulation

MiB = 256  # pages


def bench_scenes() -> None:
    print("1. built-in scenes: simulated jiffies per wall second (whole duration, all 6 policies)")
    for sid in builtin_ids():
        ls = load_scene(sid)
        jiffies = events = 0
        t0 = time.perf_counter()
        for pol in POLICIES:
            sim = Simulation(ls, pol)
            sim.run()
            jiffies += sim.k.jiffies
            events += len(sim.k.events)
        dt = time.perf_counter() - t0
        print(f"   {sid:22} {jiffies / dt:12,.0f} jiffies/s   {events:6} events   {dt * 1000:7.1f} ms")


def kernel_with(n: int, threads: int = 1, children: int = 0) -> Kernel:
    """n processes, every one in the memcg /all (32 GiB limit), or in one of its `children` child memcgs in turn
    (a service's processes started among the others': each child's rows are not one run)."""
    k = Kernel(get_policy("linux-6.18"), ram_pages=64 * 1024 * MiB)
    k.add_cgroup("/all", limit=32 * 1024 * MiB)
    for c in range(children):
        k.add_cgroup(f"/all/c{c}")
    for i in range(n):
        pid = 1000 + i * (threads + 1)
        cg = f"/all/c{i % children}" if children else "/all"
        p = k.add_process(pid, f"proc{i}", cg, oom_score_adj=(i * 37) % 2001 - 1000)
        for j in range(threads):
            k.add_thread(p, pid + j)
        k.add_vma(p.init_mm, Vma(0x5600_0000_0000, 0x5600_0000_0000 + 4096 * 64, "anon", "[heap]", (i * 7919) % 64))
    return k


def bench_selection(sizes: list[int]) -> None:
    print("2. select_bad_process() (global OOM, linux-6.18 rules), CPU time (other work on a shared machine "
          "stretches wall time): `first` reads every process's row of the kernel's columns into the badness table "
          "(a Simulation makes that table when it builds the model, so its first OOM is a `later` one); `era` "
          "follows a policy switch to 4.19's rules and more swap (the columns scored again); a later one re-evaluates what "
          "changed since (here 200 allocators that grew), as in an OOM storm; `memcg` is a memcg OOM in /all, "
          "which holds every process (the first: mem_cgroup_scan_tasks()'s table made from its members' rows), "
          "`memcg later` one after those 200 allocators grew again (the kept table brought up to date); last, "
          "the first memcg OOM in /all when its processes are in 10 child memcgs (mem_cgroup_iter() over the "
          "subtree), taken in turn")
    for n in sizes:
        k = kernel_with(n)
        k.freeze_for_gc()  # as a Simulation does
        memcg = k.cgroup("/all")
        first, era, later, scan, scan_later = [], [], [], [], []
        for _ in range(5):
            k.oom_table = None
            k.memcg_oom_tables.clear()
            k.set_policy(get_policy("linux-6.18"))
            first.append(_select_time(k))
            k.set_policy(get_policy("linux-4.6"))  # 4.19's rules: badness clamped at 1, not signed
            k.swap_pages += 256 * MiB
            era.append(_select_time(k))
            for p in k.tasklist[:: max(1, n // 200)]:  # what an allocation pass does to 200 mms
                k.add_mm_counter(p.init_mm, "anon", 256)
            later.append(_select_time(k))
            scan.append(_select_time(k, memcg))
            for p in k.tasklist[:: max(1, n // 200)]:
                k.add_mm_counter(p.init_mm, "anon", 256)
            scan_later.append(_select_time(k, memcg))
        print(f"   {n:7,} processes: first {min(first) * 1000:7.2f} ms (best of 5, median "
              f"{statistics.median(first) * 1000:.2f}), era {min(era) * 1000:6.2f} ms (median "
              f"{statistics.median(era) * 1000:.2f}), later {min(later) * 1000:5.2f} ms (median "
              f"{statistics.median(later) * 1000:.2f}), memcg {min(scan) * 1000:6.2f} ms (median "
              f"{statistics.median(scan) * 1000:.2f}), memcg later {min(scan_later) * 1000:5.2f} ms (median "
              f"{statistics.median(scan_later) * 1000:.2f})")
    n = sizes[-1]
    k = kernel_with(n, children=10)
    k.freeze_for_gc()
    tree = []
    for _ in range(5):
        k.memcg_oom_tables.clear()
        tree.append(_select_time(k, k.cgroup("/all")))
    print(f"   {n:7,} processes in 10 child memcgs of /all, each's rows not one run: memcg {min(tree) * 1000:6.2f} ms "
          f"(best of 5, median {statistics.median(tree) * 1000:.2f})")


def _select_time(k: Kernel, memcg: Cgroup | None = None) -> float:
    """CPU seconds of one select_bad_process(): global, or a memcg OOM in `memcg`."""
    oc = OomControl(memcg, None, False, constrained_alloc(k, memcg))
    t0 = time.process_time()
    select_bad_process(k, oc)
    return time.process_time() - t0


def big_scene_lines(nproc: int = 10_000, threads: int = 5):
    """A busy host: per 10 000 processes, 64 GiB of RAM and 10 000 services of 1-9 MiB (5 threads
    each), 1 % of them in a frozen v1 cgroup, 2 % in a 2 GiB batch memcg, 20 allocators of 4 GiB
    each: memory runs out after about a second, then the OOM killer kills steadily to the end."""
    scale = nproc / 10_000
    yield from [f'title = "{nproc // 1000}k processes"', 'story = "generated by benchmarks/engine.py"',
                f'ram = "{round(64 * scale)} GiB"', f'reserved = "{max(1, round(4 * scale))} GiB"', 'duration = "10s"',
                '[[cgroups]]', 'path = "/frozen"', 'freezer = "v1"', 'frozen = true',
                '[[cgroups]]', 'path = "/batch"', f'memory_max = "{max(1, round(2 * scale))} GiB"']
    for i in range(nproc):
        pid = 1000 + i * 10
        cg = "/frozen" if i % 100 == 0 else ("/batch" if i % 50 == 1 else "/")
        adj = -1000 if i % 997 == 0 else (200 if i % 1000 == 13 else 0)
        yield from ["[[processes]]", f"pid = {pid}", f'comm = "svc{i}"', f'cgroup = "{cg}"',
                    f'rss = "{1 + (i * 7919) % 9} MiB"', f"oom_score_adj = {adj}"]
        for j in range(threads):
            yield from ["  [[processes.threads]]", f"  tid = {pid + j}"]
        if i % 500 == 7:
            yield from ["  [processes.alloc]", '  rate = "512 MiB/s"', '  target = "4 GiB"', f'  start = "{i % 3}s"']


def big_scene_text(nproc: int = 10_000, threads: int = 5) -> str:
    return "".join(line + "\n" for line in big_scene_lines(nproc, threads))


def bench_big() -> None:
    print("3. generated scene: 10 000 processes / 50 000 threads, 10 s of kernel time (linux-6.18)")
    text = big_scene_text()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    ls = loads(text, "big.toml")
    sim = Simulation(ls)
    t1 = time.perf_counter()
    o = sim.run()
    t2 = time.perf_counter()
    kills = len([k for k in o.kills if k.reason == "oom"])
    print(f"   build (TOML parse + model): {t1 - t0:6.2f} s")
    print(f"   simulate 10 s ({sim.k.jiffies} jiffies):  {t2 - t1:6.2f} s wall, {len(sim.k.events)} events, "
          f"{kills} OOM kills, {len(o.reaps)} reaper results")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"   peak RSS: {peak / 1024:6.1f} MiB (the interpreter with the scene text: {rss0 / 1024:.1f} MiB)")


def _child(cmd: list[str], stdout) -> tuple[float, float, int]:
    """Run cmd; (wall seconds, CPU seconds, peak RSS in KiB) of that child alone (wait4's rusage)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit(f"{cmd}: exit {p.returncode}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def bench_huge(nproc: int = 100_000) -> None:
    """Issue 10 §6: `oomtui run SCENE --json` of the 100 000-process scene against tomllib parsing it."""
    import tempfile

    print(f"6. generated scene: {nproc:,} processes / {nproc * 5:,} threads, 10 s of kernel time, "
          "`oomtui run --json` (targets: <= 2x tomllib, < 400 MiB)")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "huge.toml")
        with open(path, "w") as f:
            # line by line: a child's peak RSS counts this process's (exec keeps the forked mm's high
            # water mark), so this one stays small
            f.writelines(line + "\n" for line in big_scene_lines(nproc))
        size = os.path.getsize(path)
        parse = [sys.executable, "-c", "import sys, tomllib; tomllib.load(open(sys.argv[1], 'rb'))", path]
        base = [sys.executable, "-c", "import tomllib"]
        b_wall, b_cpu, b_rss = _child(base, subprocess.DEVNULL)
        t_wall, t_cpu, t_rss = _child(parse, subprocess.DEVNULL)
        # the parse alone, without the interpreter's start-up; CPU time too: other work on the machine
        # stretches wall times
        tomllib_s, tomllib_cpu = t_wall - b_wall, t_cpu - b_cpu
        print(f"   scene file: {size / 2**20:.1f} MiB; tomllib.load: {tomllib_s:6.2f} s wall ({tomllib_cpu:.2f} s CPU), "
              f"peak RSS {t_rss / 1024:6.1f} MiB (python alone {b_rss / 1024:.1f} MiB)")
        with open(os.path.join(d, "out.json"), "wb") as out:
            wall, cpu, rss = _child([sys.executable, "-m", "oomtui.cli", "run", path, "--json"], out)
        o = json.loads(open(os.path.join(d, "out.json"), "rb").read())
        kills = sum(1 for k in o["kills"] if k["reason"] == "oom")
        print(f"   run --json: {wall:6.2f} s wall ({cpu:.2f} s CPU), peak RSS {rss / 1024:6.1f} MiB; "
              f"{kills} OOM kills, {len(o['dmesg'])} dmesg lines, {os.path.getsize(out.name) / 2**20:.1f} MiB of JSON")
        print(f"   ratio run / tomllib: {wall / tomllib_s:.2f}x wall, {cpu / tomllib_cpu:.2f}x CPU")


def bench_storm(frames: int = 3) -> None:
    """The TUI's 5 000-process scene without the TUI: one Simulation.advance(8) per call (8 jiffies at
    250 Hz: a 30 fps frame at 1x) from the start to the end, through the OOM storm; per call."""
    from tui import gen_scene  # benchmarks/tui.py; Textual is imported only by its measure()

    print("4. OOM storm: benchmarks/tui.py gen_scene(5000, 2) (5 000 processes / 10 000 threads), "
          "Simulation.advance(8) per call, whole scene")
    ls = gen_scene(5000, 2)
    for run in range(frames):
        t0 = time.perf_counter()
        sim = Simulation(ls)
        build = time.perf_counter() - t0
        times: list[float] = []
        while sim.k.jiffies < sim.duration:
            t = time.perf_counter()
            sim.advance(8)
            times.append(time.perf_counter() - t)
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        scans = sum(1 for e in sim.k.events if type(e).__name__ == "OomSelected")
        print(f"   run {run + 1}: {len(times)} calls, {scans} OOM scans: mean {statistics.mean(times) * 1000:5.2f} ms, "
              f"p95 {p95 * 1000:5.2f} ms, max {times[-1] * 1000:6.2f} ms (build {build * 1000:.0f} ms)")


def bench_startup(runs: int) -> None:
    print(f"5. start-up, best and median of {runs} runs")
    exe = [sys.executable]

    def measure(cmd: list[str]) -> list[float]:
        out = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            out.append(time.perf_counter() - t0)
        return out

    base = measure(exe + ["-c", "import msgspec, argparse"])
    helpt = measure(exe + ["-m", "oomtui.cli", "--help"])
    b, h = min(base), min(helpt)
    print(f"   python -c 'import msgspec, argparse': {b * 1000:6.1f} ms (median {statistics.median(base) * 1000:.1f})")
    print(f"   oomtui --help:                         {h * 1000:6.1f} ms (median {statistics.median(helpt) * 1000:.1f})")
    print(f"   ratio: {h / b:.2f}x (target <= 1.5x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    ap.add_argument("--big-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--storm-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--huge-only", action="store_true", help="only the 100 000-process scene (6.)")
    ap.add_argument("--selection-only", action="store_true", help="only select_bad_process (2.)")
    a = ap.parse_args()
    if a.big_only:
        bench_big()
        return
    if a.storm_only:
        bench_storm()
        return
    if a.huge_only:
        bench_huge()
        return
    if a.selection_only:
        bench_selection([1_000, 10_000, 100_000])
        return
    # 3, 4 and 6 in fresh processes (each with its own peak RSS and garbage collector), started before
    # this one grows: a child's peak RSS counts this process's at its start (exec keeps the forked mm's
    # high water mark), so they run first and their output is printed in order
    def fresh(flag: str) -> str:
        return subprocess.run([sys.executable, __file__, flag], check=True, capture_output=True, text=True).stdout

    big = "" if a.quick else fresh("--big-only")
    storm = fresh("--storm-only")
    huge = "" if a.quick else fresh("--huge-only")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_scenes()
    bench_selection([1_000, 10_000] if a.quick else [1_000, 10_000, 100_000])
    print(big + storm, end="")
    bench_startup(3 if a.quick else 10)
    print(huge, end="")

if __name__ == "__main__":
    main()
