"""Lab benchmarks on the real kernel (root, cgroup v1 memory + freezer): prints numbers, asserts nothing.

    python benchmarks/lab.py [--kills N] [--no-all]

1. `oomtui lab --all --json --yes`: wall time, exit status, experiments and facts that agree;
2. N times: `oomtui lab frozen-victim --yes` SIGKILLed while its victim is v1-frozen; the time from the
   SIGKILL until the run's cgroups are gone, until no process of the run is left (zombies aside: they
   are their new parent's to reap), and until a reader of the lab's stdout and stderr sees EOF.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from oomtui.lab.cgroup import FREEZER_ROOT, run_groups, run_prefix

LAB = [sys.executable, "-m", "oomtui.cli", "lab"]


def bench_all() -> None:
    t0 = time.perf_counter()
    proc = subprocess.run([*LAB, "--all", "--json", "--yes"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    doc = json.loads(proc.stdout)
    facts = [f for e in doc["experiments"] for f in e["facts"]]
    agree = sum(1 for e in doc["experiments"] if e["agree"])
    print(f"1. lab --all: {wall:.1f} s wall, exit {proc.returncode}; {agree}/{len(doc['experiments'])} experiments "
          f"and {sum(1 for f in facts if f['agree'])}/{len(facts)} facts agree")


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int(d.joinpath("stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError):
                continue
    return out


def kill_once() -> tuple[float, float, float]:
    proc = subprocess.Popen([*LAB, "frozen-victim", "--yes"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    state = FREEZER_ROOT / f"{run_prefix(proc.pid)}frozen-victim" / "freezer.state"
    while True:
        try:
            if state.read_text().strip() == "FROZEN":
                break
        except OSError:
            pass
        time.sleep(0.001)
    run = _children(proc.pid)
    pipes = {proc.stdout.fileno(), proc.stderr.fileno()}
    t0 = time.perf_counter()
    os.kill(proc.pid, signal.SIGKILL)
    groups_s = procs_s = eof_s = None
    while None in (groups_s, procs_s, eof_s) and time.perf_counter() - t0 < 10:
        now = time.perf_counter() - t0
        if groups_s is None and not run_groups(proc.pid):
            groups_s = now
        if procs_s is None and all(_state(p) in (None, "Z") for p in run):
            procs_s = now
        for fd in select.select(list(pipes), [], [], 0.001)[0]:
            if not os.read(fd, 65536):
                pipes.discard(fd)
        if eof_s is None and not pipes:
            eof_s = now
    proc.wait()
    return tuple(float("nan") if v is None else v * 1000 for v in (groups_s, procs_s, eof_s))  # type: ignore[return-value]


def bench_kills(n: int) -> None:
    rows = [kill_once() for _ in range(n)]
    print(f"2. SIGKILL with a v1-frozen child, {n} runs (ms after the SIGKILL: median / max):")
    for i, what in enumerate(("groups removed", "no process of the run", "stdout+stderr EOF")):
        vals = [r[i] for r in rows]
        print(f"   {what:<22} {statistics.median(vals):7.1f} / {max(vals):7.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--no-all", action="store_true")
    args = ap.parse_args()
    if not args.no_all:
        bench_all()
    bench_kills(args.kills)


if __name__ == "__main__":
    main()
