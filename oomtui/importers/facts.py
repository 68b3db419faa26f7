"""What `oomtui explain` and `oomtui import` both read from a report: the kernel era, the page size, the
constraint, totalpages, a row by pid, how the killed task relates to the selected one, the memcg flavour and
whether swap was accounted.

Each fact says how it was found (a printed release, a format clue, a measurement, an assumption), so that both
commands can say it in their output.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from ..kernel.version import KernelVersion
from .report import CgroupCounter, OomReport, TaskRow, node_list

PAGE_SIZES_KB = (4, 8, 16, 32, 64)  # x86/arm 4K, sparc64 8K, arm64 16K/64K, ppc64/arm64 64K
# The page size distributions build each architecture with (CONFIG_PAGE_SIZE_*): a default, used only when
# neither the verdict's total-vm nor the buddy lists measure it. arm64 varies (4K Debian/Ubuntu/RHEL 9, 16K
# Asahi, 64K RHEL 8): 4K assumed. mips defaults to PAGE_SIZE_4KB (OpenWrt's routers); 64-bit Loongson-3 kernels
# are built with 16K, which only a measurement tells.
ARCH_PAGE_KB = {"x86_64": 4, "i686": 4, "aarch64": 4, "arm": 4, "s390x": 4, "riscv64": 4, "mips64el": 4,
                "mips": 4, "mips64": 4, "ppc64le": 64, "ppc64": 64, "loongarch64": 16, "sparc64": 8,
                "ia64": 16}  # fmt: skip

_ONE_PAGE_SIZE = frozenset({"x86_64", "i686", "arm", "s390x", "riscv64", "sparc64"})  # built with one page size only

# hugetlb page sizes (the "hugepages_size=" of show_free_areas()'s hstate lines) that only one base page size has:
# sparc64's 256 MiB hstate with its 8 MiB or 2 GiB one (HPAGE_SHIFT 23, 28, 31) on 8 KiB pages (ia64's 256 MiB
# comes alone); arm64's 512 MiB PMD on 64 KiB pages
_HSTATES = ((frozenset({8192, 262144}), 8, "sparc64"), (frozenset({262144, 2097152}), 8, "sparc64"),
            (frozenset({524288}), 64, "arm64 with 64 KiB pages"))  # fmt: skip


# --- era ------------------------------------------------------------------------------


Clues = tuple[tuple[tuple[KernelVersion, str], ...], tuple[tuple[KernelVersion, str], ...]]


def era_clues(r: OomReport) -> Clues:
    """(lower bounds, upper bounds "before X") on the kernel version from the report's formats
    (kernel-model.md 1.7 and 2.5), each with the clue in words. Read once per report: the era functions below
    take them. The clues are a function of a few of the report's facts (_clues), so an archive of thousands of
    reports from a few kernels works each set out once."""
    k = r.killed
    cols = r.task_columns
    return _clues(
        tuple(cols) if cols is not None else None, r.task_columns_guessed, r.task_columns_sure, r.task_pid_wide,
        r.task_pid_narrow, r.tasks_state_line,
        r.task_header_line is not None and r.first_line < r.task_header_line, r.ram_pages is not None,
        None if k is None else (k.rhel6, k.pgtables_kb is not None, k.message is not None,
                                k.file_rss_kb is not None and k.shmem_rss_kb is None and not k.comm_cut,
                                k.shmem_rss_kb is not None and k.uid is None),
        r.constraint is not None, bool(r.reaper), r.selected is not None, r.header_oom_adj, r.header_has_nodemask,
        r.header_order_first,
    )  # fmt: skip


@lru_cache(maxsize=1024)
def _clues(printed_cols: tuple[str, ...] | None, guessed: bool, sure: bool, pid_wide: bool, rows_narrow: bool,
           state_line: bool,
           before_header: bool, has_ram: bool, killed: tuple[bool, ...] | None, has_constraint: bool,
           has_reaper: bool, has_selected: bool, header_oom_adj: bool, header_nodemask: bool,
           header_order_first: bool) -> Clues:  # fmt: skip
    """era_clues from the facts it reads (`guessed`: headerless rows, their columns guessed, `sure`: from what only
    that format prints; `rows_narrow`: such rows' pid field is narrower than 4.19's; `killed`: the verdict's rhel6,
    whether it prints pgtables, a message prefix, file-rss without shmem-rss on a line not cut in its comm, shmem-rss
    without a uid after it; None: no verdict)."""
    lower: list[tuple[KernelVersion, str]] = []
    upper: list[tuple[KernelVersion, str]] = []
    cols = printed_cols or ()
    if guessed and not sure:  # three formats print 7 numbers: a best guess among them is no clue
        cols = ()  # (8, 9 and 10 numbers are one format each: report._HEADERS_BY_WIDTH)

    # dump_tasks() header history
    if "rss_anon" in cols:
        lower.append((KernelVersion(6, 8), "rss_anon/rss_file/rss_shmem columns"))
    if "pgtables_bytes" in cols and "rss_anon" not in cols:
        upper.append((KernelVersion(6, 8), "no rss_anon columns"))
    if pid_wide:
        lower.append((KernelVersion(4, 19), "'[  pid  ]' task header"))
    if cols and not pid_wide and (not guessed or rows_narrow):
        upper.append((KernelVersion(4, 19), "task rows narrower than '[%7d]'" if guessed else "'[ pid ]' task header"))
    if state_line:
        lower.append((KernelVersion(4, 19), "'Tasks state' line"))
    # a missing line counts only where the paste is whole around it: show_mem()'s "pages RAM" just before the dump,
    # and a narrow "[ pid ]" header (the wide one is 4.19+ itself, so its 'Tasks state' line was cut, e.g. by grep)
    if before_header and not state_line and "pgtables_bytes" in cols and has_ram and not pid_wide:
        upper.append((KernelVersion(4, 19), "no 'Tasks state' line before the header"))
    if "pgtables_bytes" in cols:
        lower.append((KernelVersion(4, 15), "pgtables_bytes column"))
    if "nr_ptes" in cols:
        upper.append((KernelVersion(4, 15), "nr_ptes column"))
    # nr_puds was printed only by linux-next of autumn 2017: "mm: account pud page tables" (b4e98d9ac775, posted 25
    # September 2017, after the 4.14 merge window; the stable bot names it a missing dependency of v4.14.109) and
    # "mm: consolidate page table accounting" (af5b0f6a09e4), which replaced the three columns by pgtables_bytes,
    # were both merged for 4.15; 4.14 printed nr_pmds without it
    if "nr_puds" in cols:
        lower.append((KernelVersion(4, 14), "nr_puds column (linux-next before 4.15)"))
        upper.append((KernelVersion(4, 15), "nr_puds column (linux-next before 4.15)"))
    # "mm: account pmd page tables to the process" (dc6c9a35b66b, 4.0: a 4.0.0-rc1 report prints the column)
    if "nr_pmds" in cols:
        lower.append((KernelVersion(4, 0), "nr_pmds column"))
    if "nr_ptes" in cols and "nr_pmds" not in cols:
        upper.append((KernelVersion(4, 0), "nr_ptes without nr_pmds"))
    if "swapents" in cols and "pgtables_bytes" not in cols:
        lower.append((KernelVersion(3, 6), "nr_ptes/swapents columns"))
    if "oom_adj" in cols:
        upper.append((KernelVersion(3, 6), "'cpu oom_adj' columns"))
    if "oom_score_adj" in cols:  # KernelVersion has no sublevel
        lower.append((KernelVersion(2, 6), "oom_score_adj column (2.6.36)"))
    # oom_kill_process()/dump_header() message history
    if killed is not None and not killed[0] and killed[1]:
        lower.append((KernelVersion(5, 4), "UID/pgtables on the Killed line"))
    if killed is not None and killed[2]:
        lower.append((KernelVersion(5, 1), "'Out of memory: Killed process' prefix"))
    if has_constraint:
        lower.append((KernelVersion(5, 0), "oom-kill: summary line"))
    # "mm, shmem: add internal shmem resident memory accounting" (eca56ff906bd, 4.5) added shmem-rss to the line
    if killed is not None and killed[3]:
        upper.append((KernelVersion(4, 5), "no shmem-rss on the Killed line"))
    # 5.4 added "UID:%u pgtables:%lukB oom_score_adj:%hd" after shmem-rss (an absence, and a backport adds fields,
    # never drops them: RHEL 7's 3.10 prints shmem-rss, so its presence dates nothing)
    if killed is not None and killed[4]:
        upper.append((KernelVersion(5, 4), "no UID after shmem-rss on the Killed line"))
    if has_reaper:
        lower.append((KernelVersion(4, 6), "oom_reaper lines"))
    if has_selected:
        upper.append((KernelVersion(5, 1), "'or sacrifice child' line"))
    # the rewrite that added oom_score_adj (a63d83f427fb, 2.6.36) printed oom_adj beside it; "oom: remove
    # deprecated oom_adj" (01dc52ebdf47, 3.7) took it off the header line
    if header_oom_adj:
        lower.append((KernelVersion(2, 6), "oom_adj= beside oom_score_adj= on the header line: 2.6.36 on"))
        upper.append((KernelVersion(3, 7), "oom_adj= beside oom_score_adj= on the header line: 3.6 at most"))
    if header_nodemask:
        upper.append((KernelVersion(5, 0), "nodemask= on the header line"))
    # linux-next between 4.4-rc and the 4.5 merge window (see report._INVOKED_ORDER_FIRST)
    if header_order_first:
        lower.append((KernelVersion(4, 4), "order= before gfp_mask= on the header line"))
        upper.append((KernelVersion(4, 5), "order= before gfp_mask= on the header line"))
    # 5.0+ prints oom-kill: between the task dump and the verdict: its absence counts when both are there
    if not has_constraint and killed is not None and printed_cols is not None:
        upper.append((KernelVersion(5, 0), "no oom-kill: line"))
    return tuple(lower), tuple(upper)


def era_conflicts(r: OomReport, version: KernelVersion | None, clues: Clues) -> list[str]:
    """Clues (era_clues') that contradict each other or the printed release (a backport, a distribution patch):
    reported, never resolved silently."""
    return list(_era_conflicts(r.kernel_release, version, clues))


@lru_cache(maxsize=1024)
def _era_conflicts(release: str | None, version: KernelVersion | None, clues: Clues) -> tuple[str, ...]:
    lower, upper = clues
    out = []
    for lo, why_lo in lower:
        for hi, why_hi in upper:
            if not lo < hi:
                out.append(f"{why_lo} says at least {lo}, {why_hi} says before {hi}")
    if version is not None and release:
        ahead = _next_releases(release)
        out += [f"release {release}, but {why} says at least {lo}" for lo, why in lower
                if version < lo and lo not in ahead]  # fmt: skip
        out += [f"release {release}, but {why} says before {hi}" for hi, why in upper if not version < hi]
    return tuple(out)


def _next_releases(release: str) -> tuple[KernelVersion, ...]:
    """A linux-next tree ("5.0.0-rc4-next-20190131") already carries the next release's merge window: X.Y+1, or
    X+1.0 where the numbering rolls over (4.20 -> 5.0)."""
    if "-next-" not in release:
        return ()
    try:
        v = KernelVersion.parse(release)
    except ValueError:
        return ()
    return KernelVersion(v.major, v.minor + 1), KernelVersion(v.major + 1, 0)


def infer_era(r: OomReport, clues: Clues) -> tuple[KernelVersion | None, str]:
    """The kernel version: from the release on the "CPU: ... Comm:" line, else bounded by the formats (`clues`:
    era_clues')."""
    return _infer_era(r.kernel_release, clues)


@lru_cache(maxsize=1024)  # an archive's reports come from a few kernels
def _infer_era(release: str | None, clues: Clues) -> tuple[KernelVersion | None, str]:
    if release:
        try:
            version = KernelVersion.parse(release)
        except ValueError:
            pass
        else:
            source = f"kernel release {release} on the CPU line"
            nexts = _next_releases(release)
            ahead = [(lo, why) for lo, why in clues[0] if version < lo and lo in nexts] if nexts else []
            if ahead:
                lo, why = max(ahead, key=lambda c: c[0])
                return lo, f"{source}, a linux-next tree: it has the next merge window's code ({why}: {lo})"
            return version, source
    lower, upper = clues
    if not lower and not upper:
        return None, "no kernel release and no version-specific format in the report"
    lo = max(lower, key=lambda c: c[0]) if lower else None
    hi = min(upper, key=lambda c: c[0]) if upper else None
    parts = []
    if lo:
        parts.append(f"at least {lo[0]} ({lo[1]})")
    if hi:
        parts.append(f"before {hi[0]} ({hi[1]})")
    source = "inferred from the formats: " + ", ".join(parts)
    # Only an upper bound: the release just before it stands for the era (its rules held since 2.6.36).
    version = lo[0] if lo else _release_before(hi[0])
    # the clues allow more than one release (era_range's test, on the bounds at hand)
    if not release and not (lo and hi and lo[0] >= _release_before(hi[0])):
        source += f"; scored by the rules of {version}"
    return version, source


# the last minor release of each major: 2.6.39, 3.19, 4.20, 5.19 (KernelVersion has no sublevel: 2.6 is 2.6.x)
_LAST_MINOR = {2: 6, 3: 19, 4: 20, 5: 19}


def _release_before(v: KernelVersion) -> KernelVersion:
    return KernelVersion(v.major, v.minor - 1) if v.minor else KernelVersion(v.major - 1, _LAST_MINOR[v.major - 1])


def era_range(r: OomReport, clues: Clues, at_least: KernelVersion | None = None) -> str | None:
    """The releases a report without a printed release can be from, in words ("4.0 to 4.13", "4.20 or
    before"), when its format clues (era_clues') do not pin one release: the era stands for them all (None: a
    release is printed, or the clues pin it, or there are none). `at_least`: a lower bound found otherwise (the
    rules a printed score needs)."""
    return None if r.kernel_release else _era_range(clues, at_least)


@lru_cache(maxsize=1024)
def _era_range(clues: Clues, at_least: KernelVersion | None) -> str | None:
    lower, upper = clues
    lo = max([v for v, _ in lower] + ([at_least] if at_least else []), default=None)
    last = _release_before(min(v for v, _ in upper)) if upper else None
    if lo is None:
        return None if last is None else f"{last} or before"
    if last is None:
        return f"{lo} or later"
    return f"{lo} to {last}" if lo < last else None


# the releases whose score rules differ from the one before (kernel-model.md 1.7)
_SCORE_RULE_CUTS = (KernelVersion(3, 8), KernelVersion(3, 14), KernelVersion(4, 17), KernelVersion(5, 9))


def era_candidates(r: OomReport, version: KernelVersion, clues: Clues) -> list[KernelVersion]:
    """Without a release, every era the formats allow (`clues`: era_clues') whose score rules differ (3.8, 3.14,
    4.17, 5.9): a printed score can tell them apart. The inferred era comes first."""
    if r.kernel_release:
        return [version]
    lower, upper = clues
    lo = max((v for v, _ in lower), default=KernelVersion(2, 6))
    hi = min((v for v, _ in upper), default=KernelVersion(99, 0))
    return [version] + [v for v in _SCORE_RULE_CUTS if lo < v < hi and v != version]


# --- page size, totalpages, constraint --------------------------------------------------------


def find_index(r: OomReport, pid: int) -> int | None:
    """Where the task-dump row of a pid is (the dump prints the thread that holds the mm; match its tgid too)."""
    return r.tasks.row_of(pid)


def find_row(r: OomReport, pid: int) -> TaskRow | None:
    """The task-dump row of a pid (see find_index)."""
    return r.tasks[i] if (i := find_index(r, pid)) is not None else None


def infer_page_size(r: OomReport) -> tuple[int, str]:
    """PAGE_SIZE in bytes. The victim's total_vm (pages) against the kB on the Killed line; the VM may have
    grown a little between the dump and the kill (003: +708 kB), so take the nearest page size."""
    k = r.killed
    row = find_row(r, k.pid) if k else None
    if k and row and k.total_vm_kb and row.total_vm:
        kb, rest = divmod(k.total_vm_kb, row.total_vm)
        near = not rest and kb in PAGE_SIZES_KB  # exactly total_vm pages of a page size: the usual case
        if not near:
            ratio = k.total_vm_kb / row.total_vm
            kb = min(PAGE_SIZES_KB, key=lambda p: abs(ratio / p - 1))
            near = abs(ratio / kb - 1) < 0.2
        if near:
            return kb * 1024, f"victim's total_vm {row.total_vm} pages vs total-vm:{k.total_vm_kb}kB"
    if r.buddy_page_kb in PAGE_SIZES_KB:
        return r.buddy_page_kb * 1024, "smallest block of the buddy lists"
    # a memcg OOM dumps the memcg's own tasks: their rss (pages) is its anonymous memory (v1 rss, v2 anon, bytes)
    # and the file pages they map (v1 mapped_file, v2 file_mapped)
    stats = r.memcg_stats
    anon = stats.get("rss", stats.get("anon"))
    if anon and r.tasks and (pages := sum(r.tasks.column("rss"))) >= 1000:
        ratio = (anon + stats.get("mapped_file", stats.get("file_mapped", 0))) / 1024 / pages
        size = min(PAGE_SIZES_KB, key=lambda p: abs(ratio / p - 1))
        if abs(ratio / size - 1) < 0.1:
            return size * 1024, f"the dump's rss ({pages} pages) against the memcg's own count ({anon // 1024} kB)"
    # page tables are whole pages (mm_inc_nr_ptes() and the others count PTRS_PER_PTE entries, a page): where every
    # row's pgtables_bytes is a multiple of 16 or 64 KiB, so is the page
    # (values enough that 4 KiB pages make it one time in 65536: 4 for 64 KiB, 8 for 16 KiB, counted once each, as a
    # pool of forked workers prints one value many times; not on an architecture built with one page size)
    if r.tasks and r.arch not in _ONE_PAGE_SIZE and (column := r.tasks.column("pgtables_bytes")) is not None:
        sizes = {b for b in column if b}
        for kb, values in ((64, 4), (16, 8)):
            if len(sizes) >= values and all(b % (kb * 1024) == 0 for b in sizes):
                return kb * 1024, f"every row's pgtables_bytes a multiple of {kb} KiB (page tables are whole pages)"
    for sizes, kb, arch in _HSTATES:
        if sizes <= r.hugepage_sizes_kb:
            return kb * 1024, f"the hugepage sizes {'/'.join(f'{s} kB' for s in sorted(sizes))} only {arch} has"
    if r.arch in ARCH_PAGE_KB:
        kb = ARCH_PAGE_KB[r.arch]
        return kb * 1024, f"the default of {r.arch} (arch from the {r.arch_source}); nothing in the report measures it"
    return 4096, "assumed (nothing in the report tells, and the architecture is unknown)"


def total_pages(r: OomReport, constraint: str, page_kb: int) -> tuple[int | None, str]:
    """oc->totalpages of constrained_alloc() (kernel-model.md 1.3)."""
    swap_pages = (r.total_swap_kb or 0) // page_kb
    if constraint == "CONSTRAINT_MEMCG":
        return memcg_pages(r, page_kb)
    if constraint in ("CONSTRAINT_CPUSET", "CONSTRAINT_MEMORY_POLICY"):
        # total_swap_pages + sum of node_present_pages over the allowed nodes (current's mems_allowed for a
        # cpuset, the allocation's nodemask for a mempolicy).
        nodes = node_list(r.mems_allowed if constraint == "CONSTRAINT_CPUSET" else r.nodemask)
        if nodes and all(n in r.zone_present_kb for n in nodes) and r.total_swap_kb is not None:
            present = sum(r.zone_present_kb[n] for n in nodes) // page_kb
            return present + swap_pages, f"present pages of nodes {nodes} ({present}) + swap pages ({swap_pages})"
        return None, f"{constraint}: the nodes' present pages or the swap total are missing"
    if r.ram_pages is None:
        return None, "no 'pages RAM' line"
    # totalram_pages() counts managed pages; show_mem() prints "pages RAM" = sum of present pages and
    # "pages reserved" = sum of (present - managed), so totalram_pages() = RAM - reserved. The printed
    # scores of the 3.10 (651), 4.9 (98) and 4.19 (303) fixtures reproduce only with the subtraction.
    ram = r.ram_pages - (r.reserved_pages or 0)
    how = f"RAM {r.ram_pages} - reserved {r.reserved_pages or 0} + swap {swap_pages} pages"
    if r.total_swap_kb is None:
        how += " (no 'Total swap' line: swap counted as 0)"
    return ram + swap_pages, how


def _swap_headroom(r: OomReport) -> tuple[int, int, str]:
    """A memcg's swap headroom (kB) by its limits, what it has swapped out (kB), and which lines say so: cgroup v1
    memsw.max - memory.max and memsw usage - memory usage, cgroup v2 swap.max and the "swap:" usage. r.memory is
    not None."""
    if r.memsw is not None:
        return (max(r.memsw.limit_kb - r.memory.limit_kb, 0),
                max((r.memsw.usage_kb or 0) - (r.memory.usage_kb or 0), 0), "memory+swap limit - memory limit")
    if r.swap is not None:
        return r.swap.limit_kb, r.swap.usage_kb or 0, "swap limit"
    return 0, 0, "no swap line"


def memcg_headroom_unknown(r: OomReport) -> bool:
    """A memcg's totalpages that memcg_pages() can only bound from below: swap headroom the report's lines do not
    measure (the system's swap is not printed, and the cgroup has swapped out less than the headroom)."""
    if r.memory is None or r.total_swap_kb is not None:
        return False
    headroom, swapped, _ = _swap_headroom(r)
    return 0 < headroom and swapped < headroom


def memcg_pages(r: OomReport, page_kb: int) -> tuple[int | None, str]:
    """mem_cgroup_get_max(): the memory limit, plus swap headroom where swap is accounted: cgroup v1
    memsw.max - memory.max, cgroup v2 swap.max, each capped at total_swap_pages (4.14 mem_cgroup_get_limit
    is the same sum)."""
    if r.memory is None:
        return None, "memcg OOM without a 'memory: usage ..., limit ...' line"
    limit = r.memory.limit_kb // page_kb
    headroom_kb, swapped_kb, kind = _swap_headroom(r)
    if headroom_kb == 0:
        return limit, f"memcg limit {r.memory.limit_kb} kB = {limit} pages"
    if r.total_swap_kb is not None:
        extra = min(headroom_kb, r.total_swap_kb) // page_kb
        return limit + extra, f"memcg limit {limit} pages + swap headroom {extra} pages"
    # The system's swap is at least what this cgroup has swapped out (v1: memory+swap usage - memory usage,
    # v2: the "swap:" usage): when that covers the headroom, the cap does not bind and the sum is exact.
    if swapped_kb >= headroom_kb:
        return limit + headroom_kb // page_kb, (
            f"memcg limit {limit} pages + swap headroom {headroom_kb // page_kb} pages ({kind}; the system's swap "
            f"is at least the {swapped_kb} kB this cgroup has swapped out, so the headroom is not capped)")
    if swapped_kb == 0:
        return limit, (
            f"memcg limit {limit} pages; the swap headroom ({kind}) is capped at the system's swap size, "
            "which a memcg report does not print: counted as 0, so totalpages is a lower bound"
        )
    extra = swapped_kb // page_kb
    return limit + extra, (
        f"memcg limit {limit} pages + at least {extra} pages of swap headroom ({kind}, capped at the system's swap "
        f"size, which a memcg report does not print; the cgroup has {swapped_kb} kB swapped out): totalpages is a "
        "lower bound"
    )


def infer_constraint(r: OomReport) -> tuple[str, str | None]:
    """The constraint as printed (5.0+), else what the report's lines imply."""
    if r.constraint == "CONSTRAINT_NONE" and r.oom_memcg:
        # dump_oom_summary() prints oom_memcg= only for a memcg OOM; 5.0-5.1 printed oc->constraint before
        # out_of_memory() had set it for one ("mm/oom_kill.c: fix uninitialized oc->constraint", 5.2, 5.1.19)
        return "CONSTRAINT_MEMCG", (f"the oom-kill: line says CONSTRAINT_NONE but names oom_memcg={r.oom_memcg}: a "
                                    "memcg OOM (5.0 and 5.1 printed the constraint before setting it)")
    if r.constraint:
        return r.constraint, None
    messages = {v.message for v in (r.killed, r.selected) if v is not None}
    # mem_cgroup_print_oom_info() (its "Memory cgroup stats for" lines) is printed for a memcg OOM only
    # (the message may follow another's words: Kubernetes' event "Warning OOMKilling  Memory cgroup out of memory")
    if r.memory is not None or r.memcg_task_line or r.memcg_stats_of or any(
            m and m.endswith("Memory cgroup out of memory") for m in messages):
        return "CONSTRAINT_MEMCG", "constraint inferred from the memcg lines"
    if r.memcg_trace:
        return "CONSTRAINT_MEMCG", "constraint inferred from the call trace (mem_cgroup_out_of_memory)"
    return "CONSTRAINT_NONE", "constraint assumed CONSTRAINT_NONE (no oom-kill: line; before 5.0 it is not printed at all)"


def pgtables_bytes(t: TaskRow, page_bytes: int) -> int:
    """pgtables_bytes (4.15+) or the page-table page counts of older dumps, in bytes."""
    if t.pgtables_bytes is not None:
        return t.pgtables_bytes
    return ((t.nr_ptes or 0) + (t.nr_pmds or 0) + (t.nr_puds or 0)) * page_bytes


def kinship(r: OomReport, selected: int, killed: int) -> str:
    """How the killed pid relates to the selected one: "same", "thread" (a thread of the same process: the rows'
    tgid), "child" (another process of the dump), "unknown" (the killed pid is not in the dump)."""
    if selected == killed:
        return "same"
    a, b = find_index(r, selected), find_index(r, killed)
    if b is None:
        return "unknown"
    tgid = r.tasks.column("tgid")  # the rows' tgid only: no TaskRow built for a row that is only compared
    if tgid[b] == selected or (a is not None and tgid[a] == tgid[b]):
        return "thread"
    return "child"


def chose_a_thread_of(r: OomReport, selected: int, killed: int, page_bytes: int) -> bool:
    """Whether the kernel's choice, in no row of a whole dump, was a thread of the process it killed. Before 5.1 the
    selection walked threads (select_bad_process()'s do_each_thread, a memcg's css_task_iter) and printed the one it
    chose; dump_tasks() lists processes, and threads of one process share its mm and its points. Said only where the
    killed row has the most memory and the highest oom_score_adj of the candidates, so that it wins at any totalpages:
    a child killed in its parent's place whose parent's row was lost (a cut paste, a ratelimited dump) does not."""
    if r.task_columns is None or r.task_columns_guessed or find_index(r, selected) is not None:
        return False
    if (k := find_index(r, killed)) is None:
        return False
    # (rows are built as they are read: compared by their place in the table)
    rows = {i: t for i, t in enumerate(r.tasks) if t.oom_score_adj > -1000}
    if k not in rows:
        return False
    size = {i: t.rss + (t.swapents or 0) + pgtables_bytes(t, page_bytes) // page_bytes for i, t in rows.items()}
    return size[k] == max(size.values()) and rows[k].oom_score_adj == max(t.oom_score_adj for t in rows.values())


def kills_allocating_task(r: OomReport) -> bool:
    """vm.oom_kill_allocating_task=1: out_of_memory() kills current without select_bad_process() (its message is
    "Out of memory (oom_kill_allocating_task)")."""
    for v in (r.selected, r.killed):  # (no generator: once a report, thrice)
        if v is not None and v.message and "oom_kill_allocating_task" in v.message:
            return True
    return False


# --- memcg flavour and swap accounting --------------------------------------------------------

# No limit, as a memcg counter prints it: PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE pages on 64-bit (9007199254740988 kB
# with 4 KiB pages, ...976 with 16 KiB), LONG_MAX pages on 32-bit (8589934588 kB with 4 KiB: include/linux/
# page_counter.h); RES_COUNTER_MAX before 3.19 (18014398509481983 kB)
_UNLIMITED_32_BIT_KB = frozenset((2**31 - 1) * p for p in PAGE_SIZES_KB)


def unlimited(kb: int) -> bool:
    """A memcg counter's printed limit is PAGE_COUNTER_MAX: "max", no limit set."""
    return kb >= 1 << 50 or kb in _UNLIMITED_32_BIT_KB


class MemcgFlavour(NamedTuple):
    """The memory controller's cgroup version as a memcg OOM report shows it."""

    version: str | None  # "v1", "v2"; None: the report prints none of the lines that tell
    why: str
    certain: bool  # False: v1 taken for lines cgroup v2 printed the same way (4.5 - 5.2), or the era is unknown


def _memsw_used(m: CgroupCounter | None) -> bool:
    """A "memory+swap:" counter charged or limited: only cgroup v1 with swap accounting charges it, or has the limit
    file to set (do_memsw_account())."""
    return m is not None and ((m.usage_kb or 0) > 0 or not unlimited(m.limit_kb))


def _v1_stats(r: OomReport) -> bool:
    """A v1-format stat dump ("cache:...KB rss:...KB ..." before 5.3, "cache N" lines on later v1 kernels), as
    opposed to v2's format (anon, file)."""
    return "rss" in r.memcg_stats or "cache" in r.memcg_stats


def memcg_flavour(r: OomReport, version: KernelVersion | None) -> MemcgFlavour:
    """v1 or v2, from the lines mem_cgroup_print_oom_info() (mem_cgroup_print_oom_meminfo() from 5.0) printed.
    Until 5.2 both hierarchies printed "memory+swap:", "kmem:" and a v1 stat dump (cache:..KB rss:..KB); 5.3's
    "mm: memcontrol: dump memory.stat during cgroup OOM" (c8713d0b2312) prints "swap:" on cgroup v2 instead,
    and for both the memory.stat of v2's format (anon, file), which later v1 kernels replaced with v1's (cache,
    rss; 6.18 in the lab). Before 4.5 cgroup v2 was a development-only mount option. "Task in ... killed as a
    result of limit of" (before 5.0), oom-kill:'s oom_memcg= (from 5.0) and v2-format stats tell nothing."""
    if r.swap is not None:
        return MemcgFlavour("v2", "the report prints cgroup v2's 'swap:' line", True)
    if r.oom_group_memcg is not None:
        # memory.oom.group (4.19) is a cgroup v2 file, and mem_cgroup_get_oom_group() returns NULL off the v2 hierarchy
        return MemcgFlavour("v2", "the report kills a memory.oom.group, which only cgroup v2 has", True)
    shown = [name for name, c in (("'memory+swap:'", r.memsw), ("'kmem:'", r.kmem)) if c is not None]
    shown += ["a v1 memory.stat dump (cache, rss)"] if _v1_stats(r) else []
    if not shown:
        return MemcgFlavour(None, "the report prints no 'memory+swap:', 'kmem:', 'swap:' or v1 memory.stat line", False)
    lines = f"the report prints {' and '.join(shown)}"
    if version is not None and version.at_least(5, 3):
        return MemcgFlavour("v1", f"{lines}, which from 5.3 only cgroup v1 prints", True)
    if version is not None and not version.at_least(4, 5):
        return MemcgFlavour("v1", f"{lines}, and before 4.5 cgroup v2 was for kernel development only", True)
    # an unknown era, or 4.5 - 5.2, when v2 printed the same lines: only what v1 alone charges or limits tells
    era = "the era is unknown" if version is None else f"on {version}"
    lines = f"{lines}, as cgroup v2 did too before 5.3 ({era})"
    if _memsw_used(r.memsw):
        # do_memsw_account() is !cgroup_subsys_on_dfl() && do_swap_account: memsw.limit_in_bytes is a v1 file
        return MemcgFlavour("v1", f"{lines}, but with memory+swap charged or limited, as v1 alone does", True)
    if r.kmem is not None and (r.kmem.usage_kb or 0) > 0:
        # memcg_kmem_charge_memcg() charges the kmem counter only if !cgroup_subsys_on_dfl()
        return MemcgFlavour("v1", f"{lines}, but with kmem charged, as v1 alone does", True)
    return MemcgFlavour("v1", f"{lines}, and nothing v1 alone charges is charged: v1 assumed", False)


def swap_unaccounted(r: OomReport, version: KernelVersion | None, flavour: MemcgFlavour) -> str | None:
    """Why the report shows a kernel whose memcgs' swap was not accounted (booted with swapaccount=0, or built
    without CONFIG_MEMCG_SWAP; possible before 6.2), or None when nothing shows it. With accounting on, try_charge()
    charges memsw with every page it charges to memory (do_memsw_account()), so memsw usage is never below memory
    usage; and a v1-format stat dump lists swap: before 5.3 mem_cgroup_print_oom_info() skips it `if (...
    !do_swap_account)`, on either hierarchy (the v2-format dump of 5.3 on has no swap entry at all). A v2 report
    cannot show it: swap.max of a v2 memcg with accounting on reads "max" too until set, and usage 0 is nothing
    swapped out. In the fixtures every memsw usage of 0 under a non-zero memory usage comes with a stat dump
    without swap, and every other with swap."""
    if flavour.version != "v1" or version is not None and not version.swapaccount_optional:
        return None
    m, stats = r.memsw, r.memcg_stats
    if _memsw_used(m) or "swap" in stats:
        return None  # charged, limited (the limit file exists only with accounting on) or listed: accounted
    why = []
    usage = r.memory.usage_kb if r.memory is not None else None
    if m is not None and usage and flavour.certain:  # on v2 before 5.3 memsw is never charged either way
        swapents = sum(t.swapents or 0 for t in r.tasks)
        why.append(f"'memory+swap: usage 0kB' while 'memory:' has {usage} kB, and its limit is {m.limit_kb} kB "
                   "(PAGE_COUNTER_MAX: memsw.limit_in_bytes is hidden): the memsw counter was never charged"
                   + (f", not even for the {swapents} swap entries of the task dump" if swapents else ""))
    # the stat names come before the LRU lists, so a dump that reached inactive_anon would have shown swap
    if _v1_stats(r) and "inactive_anon" in stats:
        why.append("the memory.stat dump has no swap entry, which it leaves out only without swap accounting")
    return "; ".join(why) or None


# --- the task dump -------------------------------------------------------------------


def why_no_dump(r: OomReport) -> str:
    """Why a report has no task dump, as far as its lines tell, and what would give one. dump_tasks() prints it
    after Mem-Info and before the verdict when vm.oom_dump_tasks is set: a sysctl since 2.6.25 (fef1bdd68c81), on by
    default since 2.6.36 (ad915c432ecb)."""
    sub = re.match(r"2\.6\.(\d+)", r.kernel_release or "")
    if sub and int(sub[1]) < 25:
        return f"Linux {r.kernel_release} prints none (vm.oom_dump_tasks came in 2.6.25)"
    begins = (r.invoked_line is not None or r.trigger_comm is not None or r.ram_pages is not None or bool(r.meminfo)
              or bool(r.zones) or r.memory is not None)  # fmt: skip
    ends = [w for w, there in (("'Kill process'", r.selected), ("'oom-kill:'", r.constraint or r.oom_kill_pid),
                               ("'Killed process'", r.killed), ("'oom_reaper'", r.reaper),
                               ("'Out of memory and no killable processes'", r.no_killable),
                               ("'Kernel panic - not syncing: Out of memory'", r.panic_on_oom),
                               ("'is already exiting'", r.already_exiting)) if there]  # fmt: skip
    if not ends and r.unread_choice:  # a closing line cut or garbled past reading
        ends = [f"line {r.unread_choice}, not read"]
    paste = "paste the whole report, from its 'invoked oom-killer' line to its 'Killed process' line"
    if not begins:
        return ("the report has only its closing line(s)" + (f" ({', '.join(ends)})" if ends else "")
                + f", not the task dump the kernel prints before them; {paste}")
    if not ends:
        return f"the report stops at line {r.last_line}, before any task dump or verdict (cut off?); {paste}"
    if r.old_badness or sub and int(sub[1]) < 36:
        return ("vm.oom_dump_tasks was 0, its default before 2.6.36; with `sysctl vm.oom_dump_tasks=1` the next "
                "report has one")
    return ("the kernel printed none (vm.oom_dump_tasks=0), or the paste left it out; " + paste
            + ", or set `sysctl vm.oom_dump_tasks=1` for the next OOM")
