"""`oomtui import FILE -o SCENE.toml`: turn a real OOM report into a scene that replays it.

The scene rebuilds what the kernel saw when it chose its victim: the machine (RAM and swap from Mem-Info, or a
cgroup with the memcg limit), one process per task-dump row in the printed order (the kernel's scan order), with
the row's counters, and the same kind of OOM, triggered by hand at 1 s: the report shows what memory held, not
how fast it was allocated, so a manual OOM is the faithful replay. Era, page size, totalpages and the constraint
come from oomtui.importers.facts, the same reading that `oomtui explain` checks against the kernel's choice; so do
a memcg OOM's cgroup version (`memcg`, which decides the replay's memcg lines) and whether the kernel accounted
swap to memcgs (`swapaccount`), each with the reason in a comment beside it.

Sizes in the scene are in 4 KiB pages (the simulator's page); reports from 16/64 KiB-page machines are scaled.
The output depends only on the report and the file's name: the same input gives the same bytes.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from pathlib import Path

import msgspec

from ..errors import UserError
from ..kernel.oom_kill import PAGE_COUNTER_MAX
from ..kernel.page_types import PAGE_SIZE
from ..kernel.policy import policy_for_version
from ..kernel.version import KernelVersion
from .explain import Explanation, explain_reports
from .facts import (MemcgFlavour, find_index, find_row, infer_constraint, infer_page_size, memcg_flavour,
                    pgtables_bytes, swap_unaccounted, total_pages, unlimited, why_no_dump)
from .report import ISO_TIME, MONTH_DAY_TIME, OomReport, TaskRow, no_report_error, parse_reports, read_input
from .scene_text import SCHEMA_DIRECTIVE, STACK_PAGES, TLS_PAGES, fit_anon, toml_str, write_schema_beside

OOM_AT = "1s"
_TITLE_PART = 24  # the longest memcg path or release a title holds
DURATION = "4s"
WRAP = 110


class Imported(msgspec.Struct, kw_only=True):
    """What `import_report` built: the TOML text and what the command prints about it."""

    text: str
    processes: int
    victim_pid: int | None  # the kernel's victim as a scene pid (its tgid)
    victim_comm: str | None
    named: tuple[int, str] | None = None  # the victim the report names (pid, comm), in its dump or not
    cgroup: str | None  # the memcg of a memcg OOM
    notes: list[str] = []  # also written into the TOML as comments


# --- TOML text ----------------------------------------------------------------------------------


def _comment_safe(s: str) -> str:
    """Text for a `#` comment: one line, no control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in s)


def _comment(text: str) -> list[str]:
    """A `#` comment, wrapped."""
    return ["# " + line for line in textwrap.wrap(_comment_safe(text), WRAP, break_long_words=False)]


def _multiline(text: str) -> str:
    """A wrapped TOML multi-line basic string."""
    body = toml_str(text)[1:-1]  # every quote is escaped, so no '"""' can occur
    lines = textwrap.wrap(body, WRAP, break_long_words=False, break_on_hyphens=False)
    # a line must not end inside an escape: wrap only breaks at spaces, and escapes hold none
    return '"""\n' + "\n".join(lines) + '\n"""'


def size(pages: int) -> str:
    """Scene pages as an exact size string: GiB or MiB when they divide evenly, else KiB."""
    kib = pages * (PAGE_SIZE // 1024)
    if kib and kib % (1024 * 1024) == 0:
        return f'"{kib // (1024 * 1024)} GiB"'
    if kib and kib % 1024 == 0:
        return f'"{kib // 1024} MiB"'
    return f'"{kib} KiB"'


# --- the report's facts -----------------------------------------------------------------------------



def report_time(text_lines: list[str], r: OomReport) -> str | None:
    """When the report was printed, from the wrapper of its first line (dmesg stamp, syslog date)."""
    if not 1 <= r.first_line <= len(text_lines):
        return None
    raw = text_lines[r.first_line - 1]
    if m := re.search(r"\[\s*(\d+\.\d+)\]", raw):
        return f"{float(m[1]):.3f} s after boot"
    if m := re.search(r"\[([^\]]*\d{1,2}:\d\d:\d\d[^\]]*)\]", raw):
        return m[1].strip()
    if m := re.search(rf"{ISO_TIME}|{MONTH_DAY_TIME}", raw):
        return m[0]
    return None


class _Proc(msgspec.Struct, kw_only=True):
    """One process of the scene: its task-dump row, and its memory in scene (4 KiB) pages."""

    row: TaskRow
    pid: int
    heap: int  # anon pages besides the stack and the TLS block every scene process gets
    stack: int
    file: int
    shmem: int
    swap: int
    pgtables: int
    parent: int | None = None
    cap_sys_admin: bool = False  # as explain assumed (the root bonus before 4.17)


class _Facts(msgspec.Struct, kw_only=True):
    """What the report says, as oomtui.importers.facts reads it for explain too."""

    version: KernelVersion | None
    era_source: str
    page_bytes: int
    scale: int  # report pages -> scene pages
    constraint: str
    cgroup: str | None  # the memcg path of a memcg OOM
    killed: tuple[int, str, str] | None  # OomReport.victim(), else the selected process (_killed_or_selected)
    selected: TaskRow | None  # the row of the pre-5.1 "Kill process" choice
    cap_sys_admin: frozenset[int]  # tgids explain took to hold CAP_SYS_ADMIN (before 4.17)
    flavour: MemcgFlavour | None = None  # of a memcg OOM: the scene's `memcg`
    swap_unaccounted: str | None = None  # why the scene says `swapaccount = false`
    tp_range: tuple[int, int] | None = None  # totalpages unknown: what explain found the report allows, scene pages
    totalpages: int | None = None  # explain's totalpages (unknown: the lowest it allows), scene pages
    borrowed: tuple[int, str] | None = None  # no Mem-Info: explain's totalpages and why, from another report


class _Plan(msgspec.Struct, kw_only=True):
    """The scene to write: processes in the dump's order, the victim, the machine."""

    procs: list[_Proc]
    victim: _Proc | None
    ram: int  # scene pages
    swap: int
    limit: int | None  # memory_max of the OOM memcg, scene pages
    swap_limit: tuple[str, int | None] | None = None  # its ("memsw_max" | "swap_max", pages; None: "max")
    machine_comments: list[str]


def _split(row: TaskRow, r: OomReport, page_kb: int, killed: bool) -> tuple[int, int, int]:
    """(anon, file, shmem) pages of one row: the 6.8+ columns; for the victim of an older dump (`killed`: the row
    of the Killed line's pid) the proportions of its Killed line (kB at kill time), keeping the row's rss; else all
    anon."""
    if row.rss_anon is not None:
        return row.rss_anon, row.rss_file or 0, row.rss_shmem or 0
    k = r.killed
    if k is not None and k.anon_rss_kb is not None and killed:
        file = min((k.file_rss_kb or 0) // page_kb, row.rss)
        shmem = min((k.shmem_rss_kb or 0) // page_kb, row.rss - file)
        return row.rss - file - shmem, file, shmem
    return row.rss, 0, 0


def _memcg_path(r: OomReport) -> str:
    p = (r.oom_memcg or "").strip().rstrip("/")
    if not p.startswith("/") or p in ("", "/") or "//" in p:
        return "/imported"
    return p


# --- the scene ---------------------------------------------------------------------------------------


def import_report(text: str, file_label: str, index: int = 1) -> Imported:
    """The scene TOML for report `index` (1-based) of `text`. Raises UserError when it cannot be built."""
    reports = parse_reports(text)
    if not reports:
        raise no_report_error(file_label, text.splitlines())
    if not 1 <= index <= len(reports):
        n = len(reports)
        raise UserError(
            f"{file_label}: no report {index}: the file has {n} OOM report{'s' if n != 1 else ''} "
            f"(--report 1{f'..{n}' if n > 1 else ''})"
        )
    r = reports[index - 1]
    lines = f"lines {r.first_line}-{r.last_line}" if r.last_line > r.first_line else f"line {r.first_line}"
    where = f"{file_label}: report {index} ({f'host {r.host}, ' if r.host else ''}{lines})"
    if r.task_columns is None:
        raise UserError(f"{where}: cannot build a scene: no task dump, so the processes the kernel chose from are "
                        f"unknown: {why_no_dump(r)}")
    if not r.tasks:
        raise UserError(f"{where}: cannot build a scene: the task dump has a header (line {r.task_header_line}) but "
                        "no rows it could read, so the processes the kernel chose from are unknown: a filter (grep) "
                        "that kept the header may have dropped them; paste the report unfiltered")
    # explain's reading of this report, in the file's context (earlier victims the reaper went through)
    exp = next(itertools.islice(explain_reports(reports), index - 1, None))
    return _build(r, exp, text, file_label, index, len(reports))


def _build(r: OomReport, exp: Explanation, text: str, file_label: str, index: int, count: int) -> Imported:
    notes: list[str] = []
    facts = _read_facts(r, exp, notes)
    plan = _plan(r, facts, notes)
    return _render(r, facts, plan, notes, text, file_label, index, count)


def _read_facts(r: OomReport, exp: Explanation, notes: list[str]) -> _Facts:
    """The facts as explain read them: its era (which a printed score may have moved) and who it took to hold
    CAP_SYS_ADMIN, so that the replay scores as explain does (kernel-model.md 1.7)."""
    version = KernelVersion.parse(exp.era) if exp.era else None
    caps = frozenset(t.tgid for t in exp.tasks if t.cap_sys_admin)
    if exp.cap_sys_admin is not None:
        notes.append(f"before 4.17 oom_badness() gave CAP_SYS_ADMIN tasks a bonus; the report does not say who held "
                     f"it: {exp.cap_sys_admin} here, as oomtui explain assumed")  # fmt: skip
    page_bytes, page_source = infer_page_size(r)
    if page_bytes != PAGE_SIZE:
        notes.append(f"page size {page_bytes // 1024} KiB ({page_source}): page counts are scaled to 4 KiB pages")
    constraint, _ = infer_constraint(r)
    memcg = constraint == "CONSTRAINT_MEMCG"
    flavour = memcg_flavour(r, version) if memcg else None
    notes += [f"the parser: {p}" for p in r.problems]
    scale = max(1, page_bytes // PAGE_SIZE)
    tp_range = (exp.totalpages_range[0] * scale, exp.totalpages_range[1] * scale) if exp.totalpages_range else None
    lent = r.ram_pages is None and exp.totalpages is not None and constraint == "CONSTRAINT_NONE"
    return _Facts(version=version, era_source=exp.era_source, page_bytes=page_bytes, scale=scale,
                  constraint=constraint, tp_range=tp_range,
                  totalpages=exp.totalpages * scale if exp.totalpages is not None else tp_range and tp_range[0],
                  borrowed=(exp.totalpages, exp.totalpages_source) if lent else None,
                  cgroup=_memcg_path(r) if memcg else None, killed=_killed_or_selected(r),
                  selected=find_row(r, r.selected.pid) if r.selected else None, cap_sys_admin=caps, flavour=flavour,
                  swap_unaccounted=swap_unaccounted(r, version, flavour) if flavour else None)  # fmt: skip


def _killed_or_selected(r: OomReport) -> tuple[int, str, str] | None:
    """The kernel's victim; where the paste ends after "Kill process ... or sacrifice child", the process it
    selected (the one killed, unless it had a child of its own mm to sacrifice)."""
    if (v := r.victim()) is not None:
        return v
    return (r.selected.pid, r.selected.comm, "Kill process") if r.selected else None


def _plan(r: OomReport, facts: _Facts, notes: list[str]) -> _Plan:
    procs = _plan_processes(r, facts, notes)
    victim = _plan_victim(r, facts, procs, notes)
    ram, swap, limit, comments = _plan_machine(r, facts, procs, notes)
    swap_limit = None
    if limit is not None:
        swap_limit, swap = _plan_swap_limit(r, facts, limit, swap, comments, notes)
    return _Plan(procs=procs, victim=victim, ram=ram, swap=swap, limit=limit, swap_limit=swap_limit,
                 machine_comments=comments)


def _plan_processes(r: OomReport, facts: _Facts, notes: list[str]) -> list[_Proc]:
    """One process per row in printed order (the kernel's scan order); a row's first column may be a thread:
    the pid is its tgid. Sizes in scene pages: the builder adds a 64 KiB stack and a 16 KiB TLS block (anon) to
    each, which fit_anon takes out of the row's anon (a tiny process shrinks its stack). Page tables are the
    whole pages oom_badness() counts (4.19+: mm_pgtables_bytes() / PAGE_SIZE, rounded down; before: nr_ptes and
    nr_pmds), in the report's page size."""
    page_kb, scale = facts.page_bytes // 1024, facts.scale
    procs: list[_Proc] = []
    seen: set[int] = set()
    dupes = bigger = 0
    killed = find_index(r, r.killed.pid) if r.killed is not None else None
    for i, row in enumerate(r.tasks):
        if row.tgid in seen:
            dupes += 1
            continue
        seen.add(row.tgid)
        anon, file, shmem = (n * scale for n in _split(row, r, page_kb, i == killed))
        swap, pgtables = (row.swapents or 0) * scale, pgtables_bytes(row, facts.page_bytes) // facts.page_bytes * scale
        # a row with less rss than the TLS block still gets it: oom_badness() adds rss, swapents and page tables
        # alike (since 2.6.36), so those pages come out of its swap, then its page tables, and its points hold
        tls = max(TLS_PAGES - anon - file - shmem, 0)
        from_swap = min(tls, swap)
        from_pgtables = min(tls - from_swap, pgtables)
        bigger += tls > from_swap + from_pgtables
        heap, (stack,), file, shmem = fit_anon(anon, file, shmem)
        procs.append(_Proc(row=row, pid=row.tgid, heap=heap, stack=stack, file=file, shmem=shmem,
                           swap=swap - from_swap, pgtables=pgtables - from_pgtables,
                           cap_sys_admin=row.tgid in facts.cap_sys_admin))  # fmt: skip
    if dupes:
        notes.append(f"{dupes} task-dump row(s) repeat a pid already listed: only the first row of each pid is kept")
    if bigger:
        notes.append(f"{bigger} row(s) hold less than the {TLS_PAGES} pages of the TLS block every scene process gets, "
                     "even with their swap and page tables: each is replayed up to that many pages bigger")
    if r.tasks[0].swapents is None:
        notes.append("this dump has no swapents or page-table columns (2.6.3x/3.x format): swap and pgtables are 0")
    return procs


def _plan_victim(r: OomReport, facts: _Facts, procs: list[_Proc], notes: list[str]) -> _Proc | None:
    """The kernel's victim, and before 5.1 the process it selected before sacrificing a child: declared the
    victim's parent when the dump lists it first."""
    by_pid = {p.pid: p for p in procs}
    killed, selected_row = facts.killed, facts.selected
    killed_row = find_row(r, killed[0]) if killed else None
    victim = by_pid.get(killed_row.tgid) if killed_row else None
    if killed and victim is None:
        notes.append(f"the kernel's victim {killed[1]} ({killed[0]}) is not in the task dump")
    if selected_row and victim and selected_row.tgid != victim.pid:
        parent = by_pid.get(selected_row.tgid)
        if parent is not None and procs.index(parent) < procs.index(victim):
            victim.parent = parent.pid
            notes.append(
                f"the kernel selected {parent.row.comm} ({parent.pid}) and killed its child {victim.row.comm} "
                f"({victim.pid}) ('or sacrifice child', before 5.1): {victim.pid} is declared its child"
            )
        else:
            notes.append(
                f"the kernel sacrificed the child {victim.row.comm} ({victim.pid}) of {selected_row.comm} "
                f"({selected_row.tgid}), but the child is listed first: the replay cannot make it a child"
            )
    return victim


def _plan_machine(r: OomReport, facts: _Facts, procs: list[_Proc],
                  notes: list[str]) -> tuple[int, int, int | None, list[str]]:  # fmt: skip
    """(ram, swap, memcg limit, TOML comments): the report's RAM and swap, raised where the listed RSS does not
    fit (the dump's rss counts shared pages once per process), or guessed where the report does not print them."""
    used = sum(p.heap + p.stack + TLS_PAGES + p.shmem + p.pgtables for p in procs)  # RAM the processes take
    charged = sum(p.heap + p.stack + TLS_PAGES + p.shmem for p in procs)  # charged to a memcg (anon + shmem)
    swap = (r.total_swap_kb or 0) * 1024 // PAGE_SIZE
    span = facts.tp_range
    comments: list[str] = []
    gib = 1024**3 // PAGE_SIZE
    roomy = -(-(used + used // 4) // gib) * gib  # the listed RSS plus 25 %, rounded up to a GiB
    if facts.cgroup is not None:
        if r.memory is not None:
            limit = r.memory.limit_kb * 1024 // PAGE_SIZE
        elif span is not None and span[0] > facts.scale:
            # a paste without the memcg lines: explain's lowest totalpages, the memcg's charge by its own stats (at a
            # memcg OOM try_charge() has reached the limit) or where the kernel's printed score puts it; its points
            # are computed there, and so are the replay's
            limit = span[0]
            score = r.selected.score if r.selected else None
            why = f"where the kernel's printed score {score} puts it" if score is not None else \
                "what the memcg's stats show charged to it"
            notes.append(f"the report has no 'memory: usage ..., limit ...' line: the memcg limit is the lowest the "
                         f"report allows, {size(limit)[1:-1]} ({why}), where oomtui explain ranks too")
        else:  # a guess, and the replay may choose otherwise: no more than the printed score allows (its lowest,
            # at most a page here, is no memcg's limit)
            limit = min(roomy, span[1]) if span else roomy
            notes.append("the report has no 'memory: usage ..., limit ...' line: the memcg limit is the listed RSS "
                         "plus 25 %, rounded up to a GiB" + _within_words(limit, roomy)
                         + "; the kernel's limit is unknown")
        ram = (r.ram_pages - (r.reserved_pages or 0)) * facts.scale if r.ram_pages is not None else 0
        need = max(limit, used)
        if ram < need:
            ram = -(-(need + need // 4) // gib) * gib
            comments.append(
                "# ram: a memcg report does not print the machine's memory; this is the memcg limit or the listed RSS, "
                "whichever is larger, plus 25 %, rounded up to a GiB"
            )
        if facts.swap_unaccounted and not swap:
            # mem_cgroup_get_max() added total_swap_pages: the scene's totalpages is short of it
            notes.append("with swap accounting off no memory+swap limit can be set, so the kernel's totalpages "
                         "added all of the machine's swap, which a memcg report does not print: the scene has no "
                         "swap")
        if charged > limit:
            notes.append(
                f"the listed RSS ({size(charged)[1:-1]}) is more than the memcg limit: the dump's rss counts shared "
                "and file pages too; the replay does not check the limit until something allocates"
            )
        return ram, swap, limit, comments
    if r.total_swap_kb is None and (listed := sum(p.swap for p in procs)):
        # no 'Total swap' line: the machine had at least the swap its tasks use (or the replay's free swap would go
        # below 0)
        swap = listed
        comments.append(f"# swap: the report has no 'Total swap' line; this is the swap its tasks use, "
                        f"{size(swap)[1:-1]}")
    if r.ram_pages is None and facts.borrowed is not None:  # the Mem-Info totals of another report of the boot
        ram = max(facts.borrowed[0] * facts.scale - swap, 0)
        comments.append(f"# ram: the report has no 'pages RAM' line; totalpages as oomtui explain took it: "
                        f"{_comment_safe(facts.borrowed[1])}")
    elif r.ram_pages is None:  # a paste without Mem-Info: the machine's size is a guess
        # totalpages = totalram_pages() + total_swap_pages (oom_badness(), 2.6.36 on): the swap the report prints is
        # kept and RAM guessed; a guess outside what explain allows is moved to its lowest, where explain's points are
        tp = roomy + swap
        if span is not None and not span[0] <= tp <= span[1]:
            tp = span[0]
        ram = max(tp - swap, 0)
        moved = f", moved to {size(ram)[1:-1]} so that totalpages (RAM + swap) is the lowest the report allows, " \
            f"{tp} pages, where oomtui explain shows its points" * (tp != roomy + swap)
        comments.append("# ram: the report has no 'pages RAM' line; this is the listed RSS plus 25 %, rounded up to a "
                        "GiB" + moved)
        notes.append("the report has no Mem-Info totals: RAM is a guess (the listed RSS plus 25 %" + moved
                     + "), so the kernel's totalpages and the weight of oom_score_adj are "
                     + ("known only as closely as that score tells" if moved else "not the kernel's"))
    else:
        ram = (r.ram_pages - (r.reserved_pages or 0)) * facts.scale
        comments.append(
            f"# ram: {r.ram_pages} pages RAM - {r.reserved_pages or 0} reserved (totalram_pages()); "
            f"swap: Total swap = {r.total_swap_kb or 0} kB"
        )
    if used > ram:
        deficit = used - ram
        ram += deficit
        moved = min(deficit, swap)
        swap -= moved
        comments.append(
            f"# ram raised by {size(deficit)[1:-1]} to hold the listed RSS (the dump's rss counts shared pages "
            "once per process)" + (f"; swap lowered by {size(moved)[1:-1]} to keep totalpages = ram + swap as "
                                    "the kernel had it" if moved else "")
        )
        if moved < deficit:
            notes.append("RAM had to be raised beyond the report's RAM + swap: totalpages differs from the kernel's")
    return ram, swap, None, comments


def _plan_swap_limit(r: OomReport, facts: _Facts, limit: int, swap: int, comments: list[str],
                     notes: list[str]) -> tuple[tuple[str, int | None] | None, int]:  # fmt: skip
    """(the memcg's swap limit as the scene writes it, the scene's swap): mem_cgroup_get_max() adds to a memcg OOM's
    totalpages the swap the memcg may still use, at most total_swap_pages: v1's memory+swap limit less the memory
    limit, v2's swap.max. Where the report does not print the machine's swap (a memcg OOM prints no Mem-Info), the
    scene's swap is what explain's totalpages counts above the memory limit, the least the machine can have had."""
    flavour = facts.flavour.version if facts.flavour else None
    if facts.swap_unaccounted or r.memory is None:
        return None, swap
    if flavour == "v1" and r.memsw is not None:
        key, kb = "memsw_max", r.memsw.limit_kb
    elif flavour == "v2" and r.swap is not None:
        key, kb = "swap_max", r.swap.limit_kb
    else:
        if flavour == "v2" and r.memsw is not None:  # 4.5 - 5.2: v2 printed v1's lines, not swap.max
            notes.append("the memcg may also use swap, but a cgroup v2 report before 5.3 does not print its swap.max: "
                         "the scene's cgroup has none")
        return None, swap
    pages = None if unlimited(kb) else kb * 1024 // PAGE_SIZE
    headroom = PAGE_COUNTER_MAX if pages is None else pages - limit if key == "memsw_max" else pages
    if headroom < 0:  # a garbled line: the kernel never has memsw.max below memory.max
        notes.append("the memory+swap limit is below the memory limit, which the kernel refuses: the scene's cgroup "
                     "has no swap limit")
        return None, swap
    if headroom == 0:  # the scene's default: memsw.max = memory.max, swap.max = 0
        return None, swap
    need = (facts.totalpages or 0) - limit  # what explain's totalpages counts of the memcg's swap headroom
    if r.total_swap_kb is None and 0 < need <= headroom and swap < need:
        comments.append(f"# swap: a memcg report does not print the machine's swap; this is the least that gives the "
                        f"memcg the {size(need)[1:-1]} of swap headroom oomtui explain counts in totalpages")
        swap = need
    return (key, pages), swap


def _within_words(pages: int, guess: int) -> str:
    return f", moved to {size(pages)[1:-1]}, where the kernel's printed score puts totalpages" * (pages != guess)


def _process_block(p: _Proc, cg: str | None, shm_blocks: list[list[str]]) -> list[str]:
    """The [[processes]] table of one process (and its [[shm]] object, appended to shm_blocks)."""
    row = p.row
    block = [f"# dump line {row.line}: [{row.pid}] {_comment_safe(_row_text(row))}"]
    block.append("[[processes]]")
    block.append(f"pid = {p.pid}")
    block.append(f"comm = {toml_str(row.comm)}")
    if p.pid == 1:
        block.append("init = true")
    if row.uid:
        block.append(f"uid = {row.uid}")
    if p.cap_sys_admin:
        block.append("cap_sys_admin = true")
    if p.parent is not None:
        block.append(f"parent = {p.parent}")
    if cg:
        block.append(f"cgroup = {toml_str(cg)}")
    if row.oom_score_adj:
        block.append(f"oom_score_adj = {max(-1000, min(1000, row.oom_score_adj))}")
    if p.heap:
        block.append(f"rss = {size(p.heap)}")
    if p.file:
        block.append(f"file_rss = {size(p.file)}")
    if p.swap:
        block.append(f"swap = {size(p.swap)}")
    block.append(f"pgtables = {size(p.pgtables)}")
    if p.stack != STACK_PAGES:
        block += ["  [[processes.threads]]", f"  tid = {p.pid}", f"  stack_rss = {size(p.stack)}"]
    if p.shmem:
        name = f"shmem-{p.pid}"
        shm_blocks.append(["[[shm]]", f"name = {toml_str(name)}", f"size = {size(p.shmem)}"]
                          + ([f"cgroup = {toml_str(cg)}"] if cg else []))  # fmt: skip
        block += ["  [[processes.vmas]]", '  kind = "shmem"', f"  size = {size(p.shmem)}", f"  shm = {toml_str(name)}"]
    return block


def _words(r: OomReport, facts: _Facts, plan: _Plan, when: str | None, name: str, index: int,
           count: int) -> tuple[str, str, str]:  # fmt: skip
    """The scene's title, story and the OOM action's caption: what happened, in the report's own terms."""
    cg, version, victim, killed = facts.cgroup, facts.version, plan.victim, facts.killed
    era = str(version) if version else None
    policy = policy_for_version(version) if version else "linux-6.18"
    release = f"Linux {r.kernel_release}" if r.kernel_release else (f"a {era}-era kernel" if era else "an unknown kernel")
    trigger = _trigger_words(r)
    manual = r.order == -1 or r.sysrq
    kind = f"memcg OOM in {r.oom_memcg or cg}" if cg else ("manual OOM (sysrq-f)" if manual else "global OOM")
    if victim:
        victim_words = f"{victim.row.comm} ({victim.pid})"
    elif r.no_killable:
        victim_words = "nobody: it found no killable process"
    elif r.panic_on_oom:
        victim_words = f"nobody: vm.panic_on_oom ({r.panic_on_oom}) made it panic"
    elif killed:
        victim_words = f"{killed[1]} ({killed[0]}), which is not in the task dump"
    else:
        victim_words = "an unknown process: the report ends before the 'Killed process' line"
    # only "Kill process ... or sacrifice child" names it: the kernel's choice, not necessarily who died
    chosen_only = victim is not None and r.selected is not None and r.victim() is None
    kill = f"chose {victim_words} to kill (the report ends before its 'Killed process' line)" if chosen_only \
        else f"killed {victim_words}"
    # the live view's top line drops a title that does not fit beside the clock (120 columns): the memcg path and
    # the release only where short; the story has them whole
    path = r.oom_memcg or cg or ""
    short_kind = kind if len(path) <= _TITLE_PART else "memcg OOM"
    short_release = release if len(release) <= _TITLE_PART or era is None else f"Linux {era}"
    title = f"{victim.row.comm if victim else 'nobody'} {'chosen' if chosen_only else 'killed'}: {short_kind} on " \
        f"{short_release}"  # fmt: skip
    story = [
        f"Imported from {name} (report {index} of {count}, {f'host {r.host}, ' if r.host else ''}lines "
        f"{r.first_line}-{r.last_line}): a {kind} on "
        f"{release}{f', printed {when}' if when else ''}. {trigger}. The kernel {kill}."
    ]
    if r.selected and victim and facts.selected and facts.selected.tgid != victim.pid:
        story.append(f"It had selected {r.selected.comm} ({r.selected.pid}) and sacrificed this child instead.")
    story.append(
        f"The scene holds the {len(plan.procs)} processes of the task dump, in its order (the kernel's scan order), "
        "with their rss, swap entries, page tables and oom_score_adj; kernel threads are never in the dump. "
        f"Since the report shows what memory held but not how fast it was allocated, the OOM is triggered by hand at "
        f"{OOM_AT.replace('s', ' s')}" + (f" in {cg}" if cg else "") + "."
    )
    if version is None:
        story.append("The report shows no kernel version: the scene uses the linux-6.18 rules.")
    else:
        story.append(f"Kernel era {era} ({facts.era_source}): policy {policy}.")
        if not version.has_oom_reaper:
            story.append(
                "Kernels before 4.6 have no OOM reaper: the scene still uses linux-4.6, the oldest policy, so an "
                f"oom_reaper step in the replay did not happen on the {era} kernel, where only the victim's own exit "
                "freed its memory."
            )
    caption = f"{kind}: {trigger}" + (f", {when}" if when else "") + f"; the kernel {kill}"
    return title, " ".join(story), caption


def _render(r: OomReport, facts: _Facts, plan: _Plan, notes: list[str], text: str, file_label: str, index: int,
            count: int) -> Imported:  # fmt: skip
    cg, version, victim = facts.cgroup, facts.version, plan.victim
    shm_blocks: list[list[str]] = []
    lines_proc = [_process_block(p, cg, shm_blocks) for p in plan.procs]
    cgroups: list[list[str]] = []
    if cg is not None:
        parts = cg.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            path = "/" + "/".join(parts[:i])
            block = ["[[cgroups]]", f"path = {toml_str(path)}"]
            if path == cg:
                block.append(f"memory_max = {size(plan.limit)}")
                if plan.swap_limit is not None:
                    key, pages = plan.swap_limit
                    block.append(f"{key} = {size(pages) if pages is not None else toml_str('max')}")
                if r.oom_group_memcg:
                    block.append("oom_group = true")
            cgroups.append(block)
    tp, tp_source = facts.borrowed or total_pages(r, facts.constraint, facts.page_bytes // 1024)

    era = str(version) if version else None
    policy = policy_for_version(version) if version else "linux-6.18"
    name = Path(file_label).name if file_label != "<stdin>" else file_label
    title, story, caption = _words(r, facts, plan, report_time(text.splitlines(), r), name, index, count)

    out: list[str] = [SCHEMA_DIRECTIVE]
    out.append(f"# imported by oomtui import from {_comment_safe(name)}, report {index} of {count}")
    out.append(f"# lines {r.first_line}-{r.last_line}; totalpages {tp} ({_comment_safe(tp_source)}) in "
               f"{facts.page_bytes // 1024} KiB pages")  # fmt: skip
    out.append("# rss = the row's anon pages minus the 64 KiB stack and 16 KiB TLS every scene process gets")
    for n in notes:
        out.append(f"# note: {_comment_safe(n)}")
    out.append(f"title = {toml_str(title)}")
    out.append(f"story = {_multiline(story)}")
    host = f"host {r.host}, " if r.host else ""
    out.append(f"source = {toml_str(f'{name}, report {index} of {count}, {host}lines {r.first_line}-{r.last_line}')}")
    out += plan.machine_comments
    out.append(f"ram = {size(plan.ram)}")
    if plan.swap:
        out.append(f"swap = {size(plan.swap)}")
    if facts.flavour is not None and facts.flavour.version:
        out += _comment(f"memcg {facts.flavour.version}: {facts.flavour.why}")
        out.append(f"memcg = {toml_str(facts.flavour.version)}")
    if facts.swap_unaccounted:
        out += _comment(f"swapaccount = false (booted with swapaccount=0, or built without CONFIG_MEMCG_SWAP): "
                        f"{facts.swap_unaccounted}")
        out.append("swapaccount = false")
    out.append("hz = 250")
    out.append(f"policy = {toml_str(policy)}")
    if era:
        out.append(f"kernel = {toml_str(era)}")
    out.append(f"duration = {toml_str(DURATION)}")
    for block in cgroups + shm_blocks + lines_proc:
        out.append("")
        out += block
    out += ["", "[[actions]]", f"at = {toml_str(OOM_AT)}", 'do = "oom"']
    if cg:
        out.append(f"cgroup = {toml_str(cg)}")
    out.append(f"caption = {toml_str(caption)}")
    return Imported(
        text="\n".join(out) + "\n", processes=len(plan.procs), victim_pid=victim.pid if victim else None,
        victim_comm=victim.row.comm if victim else None, named=r.victim()[:2] if r.victim() else None, cgroup=cg,
        notes=notes,
    )  # fmt: skip


def _row_text(row: TaskRow) -> str:
    parts = [f"uid {row.uid}", f"tgid {row.tgid}", f"rss {row.rss}"]
    if row.rss_anon is not None:
        parts.append(f"(anon {row.rss_anon} file {row.rss_file} shmem {row.rss_shmem})")
    if row.swapents is not None:
        parts.append(f"swapents {row.swapents}")
    if row.pgtables_bytes is not None:
        parts.append(f"pgtables_bytes {row.pgtables_bytes}")
    for name in ("nr_ptes", "nr_pmds", "nr_puds"):
        if (v := getattr(row, name)) is not None:
            parts.append(f"{name} {v}")
    parts.append(f"adj {row.oom_score_adj} {row.comm}")
    return ", ".join(parts[:-1]) + ", " + parts[-1]


def _trigger_words(r: OomReport) -> str:
    if r.order == -1 or r.sysrq:
        who = f"{r.trigger_comm} ({r.trigger_pid})" if r.trigger_pid else (r.trigger_comm or "a kworker")
        return f"sysrq-f: {who} ran the OOM killer by hand ({'order=-1' if r.order == -1 else 'moom_callback'})"
    if r.trigger_comm is None:
        return "the report's beginning is missing, so the trigger is unknown"
    who = f"{r.trigger_comm} ({r.trigger_pid})" if r.trigger_pid else r.trigger_comm
    gfp = f"gfp_mask={r.gfp_mask}, order={r.order}" if r.gfp_mask else None
    return f"{who} invoked the OOM killer" + (f" ({gfp})" if gfp else "")


# --- command -------------------------------------------------------------------------------------------


def replay_victim(text: str, label: str) -> tuple[int, str] | None:
    """Run the scene and return the first OOM kill (pid, comm), or None."""
    from ..scene.load import loads
    from ..scene.sim import Simulation

    out = Simulation(loads(text, label)).run()
    k = next((k for k in out.kills if k.reason == "oom"), None)
    return (k.pid, k.comm) if k else None


def main(args) -> int:
    import sys

    label = "<stdin>" if args.file == "-" else args.file
    imported = import_report(read_input(args.file), label, args.report)
    out = Path(args.output)
    replay = replay_victim(imported.text, str(out))  # validates the scene before anything is written
    if out.is_dir():
        raise UserError(f"{out}: is a directory, expected a file name for the scene (.toml)")
    if imported.victim_pid:
        victim = f"victim {imported.victim_pid} ({imported.victim_comm})"
    elif imported.named:  # named by the report, not among the rows it shows
        victim = f"the kernel's victim {imported.named[1]} ({imported.named[0]}) is not in its task dump"
    else:
        victim = "victim unknown"
    n = imported.processes
    victim = f"{n} process{'es' * (n != 1)}, {victim}"
    if args.output == "-":  # -o -: the scene on stdout, what it is on stderr
        from ..cli import write_output

        write_output("-", imported.text)
        print(f"wrote the scene to stdout: {victim}", file=sys.stderr)
    else:
        try:
            with open(out, "w", encoding="utf-8", newline="\n") as f:
                f.write(imported.text)
        except OSError as e:
            raise UserError(f"{out}: cannot write the scene: {e.strerror or e}") from None
        schema_note = write_schema_beside(out)
        print(f"wrote {out}: {victim}; try: oomtui play {out}")
        if schema_note:
            print(schema_note)
    for n in imported.notes:
        if n.startswith("the parser: "):
            print(f"oomtui: warning: {n[len('the parser: '):]}", file=sys.stderr)
    if imported.victim_pid is not None and (replay is None or replay[0] != imported.victim_pid):
        got = f"{replay[1]} ({replay[0]})" if replay else "nobody"
        print(f"oomtui: warning: the replay kills {got}, the kernel killed {imported.victim_comm} "
              f"({imported.victim_pid})", file=sys.stderr)
    return 0
