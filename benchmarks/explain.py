"""`oomtui explain` speed and memory: prints numbers, asserts nothing.

    python benchmarks/explain.py [--quick] [--text]

Each input is timed: merely reading the file and splitting it into lines (the floor), and the whole of
`oomtui explain --json FILE > /dev/null` (read, parse, explain, encode, write), and of `oomtui explain FILE > /dev/null`
(the text view, drawn by Rich) for the one big report, and for the archives too with --text (slow: Rich draws each of
thousands of reports). Inputs, written to a temporary directory:

1. one report with 100 000 task rows (a 6.x global OOM with every column and dmesg stamps);
2. an archive of about 50 MB of fourteen real reports of tests/data/fixtures (FIXTURES), repeated, as journalctl
   prints them;
3. an archive of about 50 MB of small reports (a few rows each), the "thousands of reports" case.

Memory is the peak resident size of a child process that runs explain, minus that of one explaining a small
report (the interpreter and its imports), against the file's size. The children keep oomtui's bytecode in the
temporary directory, as an installed package has it (PYTHONDONTWRITEBYTECODE would have every run compile oomtui
from source: some 40 ms of CPU each).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The real reports the archive repeats: the same fourteen in every session's numbers (a fixture added for a rule, a
# fragment or an odd era, would change what is measured; one, a 2.6.36-3.7 dump without its header or totals,
# tries the choice at each of some 1 800 totalpages where a score steps, 10 ms a report)
FIXTURES = [REPO / "tests" / "data" / "fixtures" / name for name in (
    "dmesg/003-qemu-6.11-stress-ng-adj1000-global.log", "dmesg/008-lkml-5.2-rc7-memcg-leaker-reaper.log",
    "dmesg/009-lkml-3.2-rc3-xfs019-xfs_db-oom_adj.log",
    "dmesg/019-lkml-4.19.69-gentoo-global-firefox-biggest-not-victim-adj300.log",
    "dmesg/020-lkml-4.9-i686-highmem-lowmem-oom-firefox-reaper.log",
    "oomanalyser/001-archlinux-6.1.1-global-doxygen-reaper.log",
    "oomanalyser/002-proxmox-5.15-pve-lxc-memcg-v2-php-fpm-dmesg-T.log",
    "oomanalyser/003-rhel7-3.10.0-514-global-numa-mysqld-rsyslog012.log",
    "oomanalyser/004-ubuntu-21.10-5.13-sysrq-manual-global-unattended-upgr.log",
    "oomanalyser/005-rhel7-3.10.0-514-global-numa-java-2017-original-HISTORY.log",
    "oomanalyser/006-test034-begin-without-end-INCOMPLETE.log", "oomanalyser/007-test035-end-without-begin-INCOMPLETE.log",
    "public/3.14-lxc-memcg-big_alloc-score1110-root-bonus.log", "public/4.15-k8s-pod-memcg-v1-dmesg-T-from-call-trace.log",
)]  # fmt: skip
TINY = REPO / "tests" / "data" / "fixtures" / "dmesg" / "003-qemu-6.11-stress-ng-adj1000-global.log"

CHILD = """
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
if sys.argv[1] == "split":
    with open(sys.argv[2], encoding="utf-8", errors="replace") as f:
        n = len(f.read().splitlines())
else:
    import os
    from oomtui.cli import main
    out, sys.stdout = sys.stdout, open(os.devnull, "w")
    # `oomtui explain [--json] FILE > /dev/null`
    main(["explain", "--json", sys.argv[2]] if sys.argv[1] == "json" else ["explain", sys.argv[2]])
    n, sys.stdout = sys.stdout.tell(), out
t, c = time.perf_counter() - t0, time.process_time() - c0
# VmHWM: this process's own peak (ru_maxrss would carry over the parent's peak through fork and exec)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(t, c, hwm, n)
"""


def big_report(rows: int) -> str:
    out = [
        "[  100.000000] stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
        "oom_score_adj=0",
        "[  100.000001] CPU: 3 PID: 4242 Comm: stress Not tainted 6.8.0-31-generic #31-Ubuntu",
        "[  100.000002] Mem-Info:",
        "[  100.000003] Free swap  = 0kB",
        "[  100.000004] Total swap = 0kB",
        "[  100.000005] 268435456 pages RAM",
        "[  100.000006] 4000000 pages reserved",
        "[  100.000007] Tasks state (memory values in pages):",
        "[  100.000008] [  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
        "oom_score_adj name",
    ]
    for i in range(rows):
        pid = 1000 + i
        rss = 1000 + (i * 7919) % 50000
        out.append(f"[  100.{i:06d}] [{pid:7d}] {1000 + i % 7:5d} {pid:5d} {rss * 2:8d} {rss:8d} {rss - 10:8d} "
                   f"{10:8d} {0:9d} {40960:8d} {0:8d}         {(i % 5) * 100 - 200:5d} worker-{i % 97}")
    # oom_evaluate_task() on 5.9+: among equal points the later-scanned wins (hence i in the key)
    victim = 1000 + max(range(rows), key=lambda i: ((1000 + (i * 7919) % 50000) + ((i % 5) * 100 - 200) * 264435, i))
    out.append(f"[  100.999999] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
               f"global_oom,task_memcg=/,task=worker,pid={victim},uid=1000")
    out.append(f"[  100.999999] Out of memory: Killed process {victim} (worker) total-vm:8000kB, anon-rss:4000kB, "
               "file-rss:40kB, shmem-rss:0kB, UID:1000 pgtables:40kB oom_score_adj:200")
    return "\n".join(out) + "\n"


def archive(size: int, texts: list[str], prefix: str) -> str:
    parts, total, i = [], 0, 0
    while total < size:
        t = "".join(f"{prefix}{line}\n" for line in texts[i % len(texts)].splitlines())
        parts.append(t)
        total += len(t)
        i += 1
    return "".join(parts)


def small_report(i: int) -> str:
    rows = "\n".join(f"[{300 + j:7d}]  1000 {300 + j:5d}    20000    {1000 + j * 37 + i % 11:5d}    81920        0"
                     f"             0 w{j}" for j in range(6))  # fmt: skip
    return (f"w invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
            f"CPU: 0 PID: 300 Comm: w Not tainted 5.15.0-91-generic #101-Ubuntu\n"
            f"memory: usage 524288kB, limit 524288kB, failcnt {i}\nswap: usage 0kB, limit 0kB, failcnt 0\n"
            f"Tasks state (memory values in pages):\n"
            f"[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n{rows}\n"
            f"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/j,"
            f"task_memcg=/j,task=w5,pid=305,uid=1000\n"
            f"Memory cgroup out of memory: Killed process 305 (w5) total-vm:80000kB, anon-rss:4000kB, file-rss:0kB, "
            f"shmem-rss:0kB, UID:1000 pgtables:80kB oom_score_adj:0\n")  # fmt: skip


ENV = dict(os.environ)  # of the children; main() gives them a bytecode cache


def run(mode: str, path: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak resident kB) of one child process."""
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True, check=True,
                         env=ENV)  # fmt: skip
    t, c, rss_kb, _ = out.stdout.split()
    return float(t), float(c), int(rss_kb)


def measure(label: str, path: Path, reports: int | None = None, text: bool = True) -> None:
    """Ratios on CPU time as well as wall time: on a shared, busy machine the wall clock counts other processes."""
    size = path.stat().st_size
    split_t, split_c, _ = min(run("split", path) for _ in range(3))
    base = run("json", TINY)[2]  # the interpreter with oomtui imported, explaining one small report
    n = f", {reports} reports" if reports else ""
    print(f"{label}: {size / 1e6:.1f} MB{n}")
    print(f"   read + split     {split_t * 1000:7.0f} ms wall, {split_c * 1000:6.0f} ms CPU")
    for mode in ("json", "text") if text else ("json",):
        t, c, rss = min(run(mode, path) for _ in range(2))
        extra = max(rss - base, 0) * 1024
        what = "--json" if mode == "json" else "(text)"
        print(f"   explain {what} {t * 1000:7.0f} ms wall = {t / split_t:5.1f}x, {c * 1000:6.0f} ms CPU = "
              f"{c / split_c:5.1f}x;  peak memory {rss / 1e3:.0f} MB: {extra / 1e6:.0f} MB more than explaining one "
              f"small report = {extra / size:.1f}x the file")
    print(f"   ({base / 1e3:.0f} MB: the interpreter and oomtui, explaining one small report)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 000 rows and 5 MB archives")
    ap.add_argument("--text", action="store_true", help="time the text view on the archives too")
    args = ap.parse_args()
    rows, size = (10_000, 5_000_000) if args.quick else (100_000, 50_000_000)
    with tempfile.TemporaryDirectory() as d:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(d) / "pycache")
        run("json", TINY)  # compiles oomtui once
        p = Path(d) / "big.log"
        p.write_text(big_report(rows), encoding="utf-8")
        measure(f"1. one report, {rows} task rows", p)
        real = [f.read_text(encoding="utf-8") for f in FIXTURES]
        p = Path(d) / "real.log"
        p.write_text(archive(size, real, "Dec 01 10:00:00 host kernel: "), encoding="utf-8")
        out = subprocess.run([sys.executable, "-m", "oomtui", "explain", "--json", str(p)], capture_output=True,
                             text=True, check=True)  # fmt: skip
        reports = len(json.loads(out.stdout)["reports"])
        measure("2. archive of the real fixtures, journalctl prefix", p, reports, args.text)
        p = Path(d) / "small.log"
        smalls = [small_report(i) for i in range(50)]
        p.write_text(archive(size, smalls, "[ 5.000000] "), encoding="utf-8")
        out = subprocess.run([sys.executable, "-m", "oomtui", "explain", "--json", str(p)], capture_output=True,
                             text=True, check=True)  # fmt: skip
        measure("3. archive of small memcg reports", p, len(json.loads(out.stdout)["reports"]), args.text)


if __name__ == "__main__":
    main()
