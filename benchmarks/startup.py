"""Benchmark start-up: `oomtui scenes` against a bare `python -c 'import msgspec'` (target: within 1.2x).

    .venv/bin/python benchmarks/startup.py [--runs 21]

Each command runs as a subprocess, interleaved with the others so that a busy machine slows them alike;
the median wall time of --runs runs is printed. Like benchmarks/tui.py, with bytecode caches (under a
temporary PYTHONPYCACHEPREFIX, after one warm-up run each), as an installed oomtui starts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def oomtui_command() -> list[str]:
    script = Path(sys.executable).with_name("oomtui")  # the console script a user runs
    return [str(script)] if script.exists() else [sys.executable, "-m", "oomtui"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import msgspec'": [sys.executable, "-c", "import msgspec"],
        "oomtui scenes": [*oomtui_command(), "scenes"],
        "oomtui --help": [*oomtui_command(), "--help"],
    }
    with tempfile.TemporaryDirectory(prefix="oomtui-startup-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(args.runs + 1):
            for name, cmd in commands.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
                if i:  # the first round is the warm-up that writes the caches
                    times[name].append(time.perf_counter() - t0)
    median = {name: statistics.median(ts) * 1000 for name, ts in times.items()}
    base = median["python -c 'import msgspec'"]
    print(f"start-up, median of {args.runs} runs ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}):")
    for name, ms in median.items():
        print(f"  {name:<28} {ms:6.1f} ms  {ms / base:4.2f}x the msgspec import")
    print(f"target: oomtui scenes within 1.20x of the msgspec import: "
          f"{'met' if median['oomtui scenes'] <= 1.2 * base else 'missed'}")


if __name__ == "__main__":
    main()
