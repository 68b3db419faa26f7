"""printk formats of the OOM path, exact per era (kernel-model.md 2.5).

Every function returns lines without the "[seconds.micros] " stamp; Kernel.format_dmesg adds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from .page_types import KB_PER_PAGE, PAGE_SIZE
from .version import KernelVersion

if TYPE_CHECKING:
    from .state import Cgroup, MmStruct, Process

GFP_SYSRQ = "0xcc0(GFP_KERNEL)"


def gfp_user_fault(v: KernelVersion) -> str:
    """The gfp mask of an anonymous page fault as real reports print it: 0x140cca(...|__GFP_COMP) on
    6.1 (shared/fixtures/oomanalyser/001), 0x1100cca on 5.15 (002), 0x100cca on 5.2 (dmesg/008); the
    release boundaries in between are UNCONFIRMED."""
    if v.at_least(6, 0):
        return "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)"
    if v.at_least(5, 14):
        return "0x1100cca(GFP_HIGHUSER_MOVABLE)"
    if v.at_least(5, 0):
        return "0x100cca(GFP_HIGHUSER_MOVABLE)"
    return "0x6200ca(GFP_HIGHUSER_MOVABLE)"


def gfp_memcg_charge(v: KernelVersion) -> str:
    """The gfp mask of a memcg OOM from an anonymous fault: the charge's, not the page allocation's.
    do_anonymous_page() (folio_prealloc() on 6.x) charges with mem_cgroup_charge(..., GFP_KERNEL): the lab's
    6.18 memcg OOM prints 0xcc0(GFP_KERNEL), as do 5.10 (tests/data/reports/kmsg-5.10-...) and, with 4.x's
    bit values, 4.19 (tests/data/reports/4.19-memcg-v1-...: 0x6000c0). Before 4.19 UNCONFIRMED."""
    return "0xcc0(GFP_KERNEL)" if v.at_least(5, 0) else "0x6000c0(GFP_KERNEL)"


def stamp(jiffies: int, hz: int) -> str:
    """printk's "[%5lu.%06lu] " from simulated time."""
    us = jiffies * 1_000_000 // hz
    return f"[{us // 1_000_000:5d}.{us % 1_000_000:06d}] "


def invoked_line(v: KernelVersion, comm: str, adj: int, sysrq: bool, memcg: bool = False) -> str:
    gfp = GFP_SYSRQ if sysrq else gfp_memcg_charge(v) if memcg else gfp_user_fault(v)
    order = -1 if sysrq else 0  # sysrq-f's moom_callback uses order -1
    if v.header_has_nodemask:
        # 4.x: nodemask printed as (null) when absent. kernel-model.md 2.5 says two spaces before
        # "order"; real 4.9 and 4.19.69 logs (shared/fixtures/dmesg/019, 020) show one: the logs win.
        return f"{comm} invoked oom-killer: gfp_mask={gfp}, nodemask=(null), order={order}, oom_score_adj={adj}"
    return f"{comm} invoked oom-killer: gfp_mask={gfp}, order={order}, oom_score_adj={adj}"


# preempt_model_str() of a CONFIG_PREEMPT_DYNAMIC kernel booted with preempt=voluntary, as distributions
# ship them: the machine's configuration, not the era's format (the lab masks it)
PREEMPT_MODEL = "PREEMPT(voluntary)"


def cpu_line(v: KernelVersion, pid: int, comm: str) -> str:
    """dump_stack_print_info(): "CPU: %d [UID: %u ]PID: %d Comm: %.20s %s%s %s %.*s[ %s ]" (lib/dump_stack.c)."""
    uid = "UID: 0 " if v.cpu_line_has_uid else ""
    line = f"CPU: 0 {uid}PID: {pid} Comm: {comm} Not tainted {v.major}.{v.minor}.0-oomtui #1"
    return line + f" {PREEMPT_MODEL} " if v.cpu_line_has_preempt_model else line


def mem_info_lines(ram_pages: int, swap_pages: int, free_swap_pages: int) -> list[str]:
    """show_mem()/show_swap_cache_info() totals that report readers use to rebuild totalpages."""
    return [
        f"Free swap  = {free_swap_pages * KB_PER_PAGE}kB",
        f"Total swap = {swap_pages * KB_PER_PAGE}kB",
        f"{ram_pages} pages RAM",
        "0 pages HighMem/MovableOnly",
        "0 pages reserved",
    ]


PAGE_COUNTER_MAX_KB = ((2**63 - 1) // PAGE_SIZE) * KB_PER_PAGE  # "unlimited", as a memcg report prints it


def memcg_lines(v: KernelVersion, memcg: "Cgroup", victim_memcg: "Cgroup | None", v1: bool = False,
                swap_accounted: bool = True) -> list[str]:
    """mem_cgroup_print_oom_meminfo()/context: usage and limit of the OOMing memcg. cgroup v2 prints a
    swap: line; v1 (!cgroup_subsys_on_dfl) memory+swap: and kmem: lines instead (4.19, 5.2 and the lab's
    6.18 reports), as v2 did too before 5.3 (KernelVersion.memcg_oom_info_per_hierarchy). The memory.stat dump
    that follows is not modelled.

    Those lines are printed with swap accounting off too (Kernel.do_swap_account): the counter is then
    never charged (try_charge() skips memsw unless do_memsw_account()) and its limit file is hidden, so
    it reads usage 0 and PAGE_COUNTER_MAX. With it on they print the memcg's memsw.max (v1; the memory limit
    unless the scene sets memsw_max, as the lab sets it) and swap.max (v2; 0 unless the scene sets swap_max)."""
    limit_kb = memcg.limit * KB_PER_PAGE if memcg.limit is not None else PAGE_COUNTER_MAX_KB
    lines = []
    if not v.has_oom_kill_summary and victim_memcg is not None:
        lines.append(f"Task in {victim_memcg.path} killed as a result of limit of {memcg.path}")
    lines.append(
        f"memory: usage {memcg.usage * KB_PER_PAGE}kB, limit {limit_kb}kB, failcnt {memcg.failcnt}"
    )
    if v1 or not v.memcg_oom_info_per_hierarchy:
        # memsw counts what `memory:` counts plus swap, which the model never charges to a memcg. Before 5.3 v2
        # printed these lines too, of counters it never charges: do_memsw_account() is !cgroup_subsys_on_dfl() &&
        # do_swap_account, and memcg_kmem_charge_memcg() charges kmem only if !cgroup_subsys_on_dfl()
        charged = v1 and swap_accounted
        memsw_kb = limit_kb if memcg.memsw_max is None else memcg.memsw_max * KB_PER_PAGE
        usage_kb, memsw_kb = (memcg.usage * KB_PER_PAGE, memsw_kb) if charged else (0, PAGE_COUNTER_MAX_KB)
        lines.append(f"memory+swap: usage {usage_kb}kB, limit {memsw_kb}kB, failcnt 0")
        lines.append(f"kmem: usage 0kB, limit {PAGE_COUNTER_MAX_KB}kB, failcnt 0")
    else:
        swap_kb = memcg.swap_max * KB_PER_PAGE if swap_accounted else PAGE_COUNTER_MAX_KB
        lines.append(f"swap: usage 0kB, limit {swap_kb}kB, failcnt 0")
    return lines


def dump_tasks_header(v: KernelVersion) -> list[str]:
    fmt = v.dump_tasks_format
    lines = ["Tasks state (memory values in pages):"] if v.at_least(4, 19) else []
    if fmt == "6.8":
        lines.append("[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name")
    elif fmt == "4.19":
        lines.append("[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name")
    elif fmt == "4.15":
        lines.append("[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name")
    elif fmt == "4.0":
        lines.append("[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name")
    elif fmt == "3.6":
        lines.append("[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name")
    else:
        lines.append("[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name")
    return lines


def dump_task_row(v: KernelVersion, p: "Process", tid: int, mm: "MmStruct") -> str:
    template, values = _DUMP_TASK_ROW[v.dump_tasks_format]
    return template % values(p, tid, mm)


# dump_task_rows() gives a dump in chunks of the rows of up to 2**CHUNK_BITS processes (by Process.order):
# a chunk whose rows are all as in the last dump is that dump's chunk again, not a copy (an OOM storm of
# 100 000 processes prints 20 dumps of 100 000 rows in 10 s, nearly all of them unchanged)
CHUNK_BITS = 6
_ROW_VALUES = 8  # what a chunk's key keeps of each row: the tid and the 7 values below


def dump_task_rows(v: KernelVersion, tasks: "Iterable[tuple[Process, int, MmStruct]]",
                   memo: dict[str, dict[int, tuple[tuple, tuple[str, ...]]]]) -> list[tuple[str, ...]]:
    """dump_task_row() for each (process, tid, mm) of one dump_tasks(), in order, in chunks (a run of
    rows whose processes share Process.order >> CHUNK_BITS). `memo` is the caller's, kept from dump to
    dump (era -> a chunk's first tid -> (its rows' values, one flat tuple; its rows)): a chunk whose
    values are all unchanged is given again as it is, and a changed one gets each unchanged row's
    previous text back, formatted from those same values by the same template. In an OOM storm most
    rows do not change between dumps: formatting them was most of an OOM, and one list of every row
    per dump most of the run's memory."""
    fmt = v.dump_tasks_format
    template, values = _DUMP_TASK_ROW[fmt]
    chunks = memo.setdefault(fmt, {})
    out: list[tuple[str, ...]] = []
    run: list[tuple] = []  # (p, tid, mm) of the chunk being read
    key: list[int] = []  # what its rows print beside the process's uid, pid and comm, which never change
    at = None
    for p, tid, mm in tasks:
        c = p.order >> CHUNK_BITS
        if c != at and run:
            out.append(_chunk(chunks, run, tuple(key), template, values))
            run, key = [], []
        at = c
        run.append((p, tid, mm))
        # every era's other columns are made of these
        key += (tid, mm.total_vm, mm.anon, mm.file, mm.shmem, mm.pgtables_bytes, mm.swapents, p.oom_score_adj)
    if run:
        out.append(_chunk(chunks, run, tuple(key), template, values))
    return out


def _chunk(chunks: dict, run: list[tuple], key: tuple, template: str, values) -> tuple[str, ...]:
    """The rows of one chunk of dump_task_rows(): the last dump's if `key` is as it was."""
    last = chunks.get(key[0])
    if last is not None and last[0] == key:
        return last[1]
    old = {} if last is None else {last[0][i]: (last[0][i:i + _ROW_VALUES], row)
                                   for i, row in zip(range(0, len(last[0]), _ROW_VALUES), last[1])}
    rows = []
    for i, (p, tid, mm) in zip(range(0, len(key), _ROW_VALUES), run):
        hit = old.get(tid)
        rows.append(hit[1] if hit is not None and hit[0] == key[i:i + _ROW_VALUES] else template % values(p, tid, mm))
    chunk = tuple(rows)
    chunks[key[0]] = (key, chunk)
    return chunk


# The dump_tasks() row of each era: a %-template (half the cost of the same f-string: a dump formats a
# row per process) and the values it prints.
def _values_6_8(p: "Process", tid: int, mm: "MmStruct") -> tuple:
    # pid uid tgid total_vm rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name
    return (tid, p.uid, p.pid, mm.total_vm, mm.anon + mm.file + mm.shmem, mm.anon, mm.file, mm.shmem,
            mm.pgtables_bytes, mm.swapents, p.oom_score_adj, p.comm)


def _values_4_15(p: "Process", tid: int, mm: "MmStruct") -> tuple:
    # pid uid tgid total_vm rss pgtables_bytes swapents oom_score_adj name (4.15 - 6.7)
    return (tid, p.uid, p.pid, mm.total_vm, mm.anon + mm.file + mm.shmem, mm.pgtables_bytes, mm.swapents,
            p.oom_score_adj, p.comm)


def _values_4_0(p: "Process", tid: int, mm: "MmStruct") -> tuple:
    # pid uid tgid total_vm rss nr_ptes nr_pmds swapents oom_score_adj name (4.0 - 4.14); nr_pmds always 0
    return (tid, p.uid, p.pid, mm.total_vm, mm.anon + mm.file + mm.shmem, mm.pgtables_bytes // PAGE_SIZE, 0,
            mm.swapents, p.oom_score_adj, p.comm)


def _values_3_6(p: "Process", tid: int, mm: "MmStruct") -> tuple:
    # pid uid tgid total_vm rss nr_ptes swapents oom_score_adj name (3.6 - 3.19)
    return (tid, p.uid, p.pid, mm.total_vm, mm.anon + mm.file + mm.shmem, mm.pgtables_bytes // PAGE_SIZE, mm.swapents,
            p.oom_score_adj, p.comm)


def _values_2_6_36(p: "Process", tid: int, mm: "MmStruct") -> tuple:
    # pid uid tgid total_vm rss cpu oom_adj oom_score_adj name (2.6.36 - 3.5). oom_score_adj_write() kept the legacy
    # oom_adj in step: OOM_DISABLE (-17) for OOM_SCORE_ADJ_MIN, else adj * OOM_ADJUST_MAX / OOM_SCORE_ADJ_MAX
    # (C truncation; -17 and 0 are seen in shared/fixtures/dmesg/009, the rest UNCONFIRMED); cpu: the model does
    # not place tasks on CPUs outside race trials, 0
    adj = p.oom_score_adj
    oom_adj = -17 if adj == -1000 else int(adj * 15 / 1000)
    return (tid, p.uid, p.pid, mm.total_vm, mm.anon + mm.file + mm.shmem, 0, oom_adj, adj, p.comm)


_DUMP_TASK_ROW: "dict[str, tuple[str, Callable[[Process, int, MmStruct], tuple]]]" = {
    "6.8": ("[%7d] %5d %5d %8d %8d %8d %8d %9d %8d %8d         %5d %s", _values_6_8),
    "4.19": ("[%7d] %5d %5d %8d %8d %8d %8d         %5d %s", _values_4_15),
    "4.15": ("[%5d] %5d %5d %8d %8d %8d %8d         %5d %s", _values_4_15),
    "4.0": ("[%5d] %5d %5d %8d %8d %7d %7d %8d         %5d %s", _values_4_0),
    "3.6": ("[%5d] %5d %5d %8d %8d %7d %8d         %5d %s", _values_3_6),
    "2.6.36": ("[%5d] %5d %5d %8d %8d %3d     %3d         %5d %s", _values_2_6_36),
}


def oom_kill_summary(constraint: str, oom_memcg: str | None, task_memcg: str, comm: str, pid: int, uid: int) -> str:
    ctx = f"oom_memcg={oom_memcg}" if oom_memcg is not None else "global_oom"
    return (f"oom-kill:constraint={constraint},nodemask=(null),cpuset=/,mems_allowed=0,{ctx},"
            f"task_memcg={task_memcg},task={comm},pid={pid},uid={uid}")


def sacrifice_line(message: str, pid: int, comm: str, score: int) -> str:
    """Pre-5.1 oom_kill_process()."""
    return f"{message}: Kill process {pid} ({comm}) score {score} or sacrifice child"


def killed_line(v: KernelVersion, message: str, pid: int, comm: str, mm: "MmStruct", uid: int, adj: int) -> str:
    """__oom_kill_process() verdict line."""
    body = (f"Killed process {pid} ({comm}) total-vm:{mm.total_vm * KB_PER_PAGE}kB, "
            f"anon-rss:{mm.anon * KB_PER_PAGE}kB, file-rss:{mm.file * KB_PER_PAGE}kB, "
            f"shmem-rss:{mm.shmem * KB_PER_PAGE}kB")
    if v.kill_line_uid_pgtables:
        body += f", UID:{uid} pgtables:{mm.pgtables_bytes >> 10}kB oom_score_adj:{adj}"
    if v.kill_line_prefix:
        return f"{message}: {body}"
    return body


def oom_group_line(path: str) -> str:
    return f"Tasks in {path} are going to be killed due to memory.oom.group set"


def mm_pinned_line(victim_pid: int, victim_comm: str, pid: int, comm: str) -> str:
    return f"oom killer {victim_pid} ({victim_comm}) has mm pinned by {pid} ({comm})"


def reaped_line(pid: int, comm: str, mm: "MmStruct") -> str:
    return (f"oom_reaper: reaped process {pid} ({comm}), now anon-rss:{mm.anon * KB_PER_PAGE}kB, "
            f"file-rss:{mm.file * KB_PER_PAGE}kB, shmem-rss:{mm.shmem * KB_PER_PAGE}kB")


def unable_line(pid: int, comm: str) -> str:
    return f"oom_reaper: unable to reap pid:{pid} ({comm})"


def already_exiting_line(message: str, pid: int, comm: str) -> str:
    return f"{message}: OOM victim {pid} ({comm}) is already exiting. Skip killing the task"


NO_KILLABLE = "Out of memory and no killable processes..."
PANIC_DEADLOCK = "System is deadlocked on memory"
