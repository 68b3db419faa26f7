"""`oomtui snapshot`: this machine's processes as the OOM killer sees them, read from /proc.

`--check-scores` recomputes every process's /proc/PID/oom_score with the model
(oomtui.kernel.oom_badness) and compares it with the kernel's.

How the comparison copes with a live system: each process's memory counters are read from
/proc/PID/status twice, before and after /proc/PID/oom_score. If they did not change, the model
must match the kernel exactly. If they changed, the kernel's value must lie between the model's
values for the two reads. Beyond that, TOLERANCE_POINTS of slack absorb a counter that moved and
moved back in between (one point is 1.5/1000 of totalpages, tens of MB on a desktop); a larger
difference is a mismatch. Exact matches, drifted ones and mismatches are all reported.
Processes that vanish while being read are skipped.
"""

from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path

import msgspec

from ..errors import UserError
from ..kernel.oom_badness import oom_badness, proc_oom_score
from ..kernel.version import KernelVersion

TOLERANCE_POINTS = 1
PF_KTHREAD = 0x00200000  # include/linux/sched.h


class Counters(msgspec.Struct, frozen=True):
    """The mm counters oom_badness() adds up, as /proc/PID/status shows them (kB)."""

    rss_anon_kb: int
    rss_file_kb: int
    rss_shmem_kb: int
    swap_kb: int
    pgtables_kb: int  # VmPTE = mm_pgtables_bytes() >> 10


class ProcInfo(msgspec.Struct):
    pid: int
    comm: str
    ppid: int
    threads: int
    kthread: bool
    oom_score_adj: int
    cgroups: list[str]  # /proc/PID/cgroup lines: "ID:CONTROLLERS:PATH"
    oom_score: int  # what the kernel printed
    counters: Counters | None  # None: no mm (kernel thread, zombie)
    counters_after: Counters | None  # the same, read again after oom_score


class Totals(msgspec.Struct):
    mem_total_kb: int
    swap_total_kb: int
    page_size: int

    @property
    def totalpages(self) -> int:
        """totalram_pages() + total_swap_pages (fs/proc/base.c proc_oom_score); MemTotal is
        totalram_pages() in kB (si_meminfo), SwapTotal is total_swap_pages in kB."""
        return (self.mem_total_kb + self.swap_total_kb) * 1024 // self.page_size


class Mismatch(msgspec.Struct):
    pid: int
    comm: str
    model: int
    kernel: int
    why: str


class ScoreCheck(msgspec.Struct):
    kernel: str
    totalpages: int
    tolerance_points: int
    compared: int
    kernel_threads: int
    exact: int
    drifted: list[Mismatch]  # within tolerance, not exact
    mismatches: list[Mismatch]


def _read(path: str) -> str | None:
    """A /proc file's text, None if the process went away (or hides it) meanwhile."""
    try:
        return Path(path).read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError as e:  # ESRCH from a task that exited mid-read
        if e.errno == errno.ESRCH:
            return None
        raise


def read_status(pid: int) -> dict[str, str] | None:
    """/proc/PID/status as a dict, None if the process is gone."""
    text = _read(f"/proc/{pid}/status")
    if text is None:
        return None
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def status_kb(status: dict[str, str], key: str) -> int:
    """A `NNN kB` field of /proc/PID/status; 0 when absent (no mm)."""
    return int(status.get(key, "0 kB").split()[0])


def _counters(status: dict[str, str]) -> Counters | None:
    if "RssAnon" not in status:  # no mm: kernel thread or zombie
        return None
    kb = [status_kb(status, k) for k in ("RssAnon", "RssFile", "RssShmem", "VmSwap", "VmPTE")]
    return Counters(*kb)


def read_process(pid: int) -> ProcInfo | None:
    """One process, or None if it vanished while being read."""
    stat = _read(f"/proc/{pid}/stat")
    status = read_status(pid)
    adj = _read(f"/proc/{pid}/oom_score_adj")
    cgroup = _read(f"/proc/{pid}/cgroup")
    score = _read(f"/proc/{pid}/oom_score")
    status_after = read_status(pid)
    if None in (stat, status, adj, cgroup, score, status_after):
        return None
    assert stat is not None and status is not None and status_after is not None
    comm, _, rest = stat.partition(" (")[2].rpartition(") ")
    fields = rest.split()  # fields[0] is field 3 (state) of proc(5)
    return ProcInfo(
        pid=pid,
        comm=comm,
        ppid=int(fields[1]),
        threads=int(fields[17]),
        kthread=bool(int(fields[6]) & PF_KTHREAD),
        oom_score_adj=int(str(adj)),
        cgroups=str(cgroup).splitlines(),
        oom_score=int(str(score)),
        counters=_counters(status),
        counters_after=_counters(status_after),
    )


def read_processes() -> list[ProcInfo]:
    procs = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (p := read_process(int(entry))) is not None:
            procs.append(p)
    return sorted(procs, key=lambda p: p.pid)


def read_totals() -> Totals:
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info[key] = int(value.split()[0])
    return Totals(info["MemTotal"], info.get("SwapTotal", 0), os.sysconf("SC_PAGE_SIZE"))


def model_score(p: ProcInfo, counters: Counters | None, totals: Totals, version: KernelVersion) -> int:
    """The model's /proc/PID/oom_score. Unkillable (kernel thread, global init) and mm-less
    processes are ineligible (oom_badness LONG_MIN, printed as 0)."""
    eligible = counters is not None and not p.kthread and p.pid != 1
    c = counters or Counters(0, 0, 0, 0, 0)
    ps = totals.page_size
    badness = oom_badness(
        rss=(c.rss_anon_kb + c.rss_file_kb + c.rss_shmem_kb) * 1024 // ps,
        swapents=c.swap_kb * 1024 // ps,
        pgtables_bytes=c.pgtables_kb * 1024,
        adj=p.oom_score_adj,
        totalpages=totals.totalpages,
        version=version,
        eligible=eligible,
        page_size=ps,
    )
    return proc_oom_score(badness, totals.totalpages, version)


def _why(p: ProcInfo, model: int) -> str:
    if p.counters != p.counters_after:
        return "its memory changed between the reads (it was allocating or freeing)"
    if p.oom_score == 0 and model != 0:
        return (
            "the kernel sees it as ineligible: exiting with MMF_OOM_SKIP set, or a vfork child "
            "still sharing its parent's mm"
        )
    if p.pid == 1 and model == 0:
        return "pid 1 here is not the global init (this /proc belongs to a child pid namespace)"
    return (
        "the RSS counters are per-CPU approximations, read at different moments by "
        "/proc/PID/status and /proc/PID/oom_score"
    )


def check_scores(procs: list[ProcInfo], totals: Totals, version: KernelVersion) -> ScoreCheck:
    exact = 0
    drifted: list[Mismatch] = []
    mismatches: list[Mismatch] = []
    for p in procs:
        before = model_score(p, p.counters, totals, version)
        after = model_score(p, p.counters_after, totals, version)
        low, high = min(before, after), max(before, after)
        k = p.oom_score
        diff = low - k if k < low else k - high if k > high else 0
        nearest = low if k < low else high
        if diff == 0 and p.counters == p.counters_after:
            exact += 1
        elif diff <= TOLERANCE_POINTS:
            drifted.append(Mismatch(p.pid, p.comm, nearest, k, _why(p, nearest)))
        else:
            mismatches.append(Mismatch(p.pid, p.comm, nearest, k, _why(p, nearest)))
    return ScoreCheck(
        kernel=str(version),
        totalpages=totals.totalpages,
        tolerance_points=TOLERANCE_POINTS,
        compared=len(procs),
        kernel_threads=sum(p.kthread for p in procs),
        exact=exact,
        drifted=drifted,
        mismatches=mismatches,
    )


def main(args: argparse.Namespace) -> int:
    if not args.check_scores:
        raise UserError("writing a scene from /proc is not available yet: use --check-scores")
    version = KernelVersion.parse(os.uname().release)
    totals = read_totals()
    result = check_scores(read_processes(), totals, version)
    if args.json:
        print(msgspec.json.encode(result).decode())
    else:
        _print(result, totals)
    return 1 if result.mismatches else 0


def _print(r: ScoreCheck, totals: Totals) -> None:
    print(
        f"Compared {r.compared} processes ({r.kernel_threads} kernel threads) with /proc/PID/oom_score "
        f"on Linux {r.kernel}."
    )
    print(
        f"totalpages = (MemTotal {totals.mem_total_kb} kB + SwapTotal {totals.swap_total_kb} kB) / "
        f"{totals.page_size // 1024} kB = {r.totalpages} pages"
    )
    print(
        f"{r.exact} exact, {len(r.drifted)} within ±{r.tolerance_points} point (memory changed while reading), "
        f"{len(r.mismatches)} mismatches."
    )
    for title, rows in (("Within tolerance:", r.drifted), ("Mismatches:", r.mismatches)):
        if rows:
            print(f"\n{title}")
            print(f"  {'pid':>7}  {'comm':<16} {'model':>5} {'kernel':>6}  why")
            for m in rows:
                print(f"  {m.pid:>7}  {m.comm:<16} {m.model:>5} {m.kernel:>6}  {m.why}")

