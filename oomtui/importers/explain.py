"""`oomtui explain FILE`: re-run the kernel's victim selection on real OOM reports.

For every report in the file: rebuild the candidate table from the task dump and `totalpages` from the
Mem-Info totals (or the memcg limit), find the kernel era, run that era's select_bad_process() with
oomtui.kernel.oom_badness, and compare the model's victim with the kernel's.
"""

from __future__ import annotations

import argparse
import collections
import array
import contextlib
import gc
import heapq
import itertools
import sys
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import repeat
from operator import add, attrgetter, eq, floordiv, itemgetter, le, mul

import msgspec

from ..kernel.oom_badness import (
    OOM_SCORE_ADJ_MIN,
    badness_column,
    badness_rule,
    better_candidate,
    oom_badness_era,
    printed_kill_score,
    proc_oom_score_column,
    root_bonus,
    scaled_score,
)
from ..kernel.version import KernelVersion
from ..scene.units import fmt_size
from . import analysis
from .facts import (
    chose_a_thread_of,
    era_candidates,
    era_clues,
    era_conflicts,
    era_range,
    find_index,
    find_row,
    infer_constraint,
    infer_era,
    infer_page_size,
    kills_allocating_task,
    kinship,
    memcg_headroom_unknown,
    pgtables_bytes,
    total_pages,
    why_no_dump,
)
from .report import (
    OomReport, TaskRow, TaskTable, column_has, column_index, column_positions, input_lines, int_column, iter_reports,
    no_report_error,
)

RANKING_SIZE = 10
FORMAT_VERSION = 2  # of the JSON output: 2 added memory, allocation, memcg, cause, advice, platform, tasks

# --- output structs ----------------------------------------------------------------


class Task(msgspec.Struct):
    pid: int
    comm: str


class Trigger(msgspec.Struct):
    """The task that ran into the OOM: the "invoked oom-killer" and CPU lines (either may be missing)."""

    pid: int | None
    comm: str | None


class Candidate(msgspec.Struct, gc=False):
    """A row of the task dump as the kernel's selection weighed it."""

    # no defaults, so that positional: Scored.build makes a slice of rows with one map()
    pid: int
    tgid: int
    comm: str
    uid: int
    rss: int
    swapents: int | None  # None: the dump has no such column (2.6.36-3.5)
    pgtables_bytes: int | None  # None: no page-table column (2.6.36-3.5)
    oom_score_adj: int
    cap_sys_admin: bool  # assumed to hold CAP_SYS_ADMIN (the root bonus before 4.17; see Explanation)
    points: int | None  # None: not a candidate (see ineligible)
    ineligible: str | None  # why the kernel never chooses it
    oom_score: int | None  # /proc/PID/oom_score the process had (5.9+ formula, global totalpages)
    scan_order: int  # position in the task dump = the kernel's scan order


class ScoreCheck(msgspec.Struct, kw_only=True):
    """The pre-5.1 printed "score %u" against the model's score of the kernel's choice."""

    printed: int
    model: int | None  # None: totalpages unknown
    agree: bool | None  # None: the dump lacks columns the score counts, and the printed score is within reach
    model_max: int | None = None  # with the columns the dump lacks at their most (swap in use, page tables)
    how: str = ""


class Explanation(msgspec.Struct, kw_only=True):
    index: int
    lines: list[int]  # first and last line of the report in the input
    host: str | None = None  # the syslog host its lines name (a log of many machines), else null
    kernel_victim: Task | None  # the "Killed process" line, else the oom-kill: line, else the reaper line
    kernel_victim_source: str | None
    kernel_victim_rss_kb: int | None = None  # anon + file + shmem rss on the "Killed process" line
    kernel_selected: Task | None  # pre-5.1 "Kill process ... or sacrifice child"; else the killed one
    kernel_victim_is: str | None = None  # of kernel_selected: "same", "thread", "child", "unknown" (kinship)
    model_victim: Task | None
    agree: bool | None  # null when not compared
    compared: bool  # False: the report lacks what a comparison needs (see problems)
    era: str | None
    era_source: str
    era_range: str | None = None  # the releases the formats allow when none is printed ("4.0 to 4.13")
    constraint: str | None
    totalpages: int | None
    totalpages_source: str
    totalpages_range: list[int] | None = None  # totalpages unknown: [low, high] the report allows; points are at low
    page_size: int
    page_size_source: str
    manual: bool  # sysrq-f (order=-1)
    trigger: Trigger | None
    printed_score: int | None = None  # pre-5.1 "score %u"
    model_score: int | None = None  # the same from the model (printed_kill_score of the kernel's choice)
    score_check: ScoreCheck | None = None  # null when the kernel printed no score
    cap_sys_admin: str | None = None  # which tasks were assumed to hold CAP_SYS_ADMIN (before 4.17), in words
    era_conflicts: list[str] = []
    panic_on_oom: str | None = None  # "system-wide" or "compulsory": vm.panic_on_oom made the kernel panic, no kill
    candidates: int = 0
    ranking: list[Candidate] = []
    kernel_victim_rank: int | None = None
    why: list[str] = []
    notes: list[str] = []
    problems: list[str] = []
    memory: analysis.Memory | None = None
    allocation: analysis.Allocation | None = None
    memcg: analysis.Memcg | None = None
    cause: analysis.Cause | None = None
    advice: list[str] = []
    platform: analysis.Platform | None = None
    tasks: Sequence[Candidate] = []  # every row of the task dump in scan order, with its points and oom_score


class ExplainOutput(msgspec.Struct):
    file: str
    reports: list[Explanation]
    format_version: int = FORMAT_VERSION


# --- selection ------------------------------------------------------------------------------


def _eligible(t: TaskRow) -> bool:
    # oom_badness(): OOM_SCORE_ADJ_MIN is never chosen; oom_unkillable_task(): global init. Kernel threads have
    # no mm and are not in the dump. The dump's pid is the global pid, so pid 1 is the global init.
    return t.oom_score_adj != OOM_SCORE_ADJ_MIN and t.pid != 1


def _rss_swap(tasks: TaskTable) -> Iterable[int]:
    """rss + swapents of each row (swapents 0 where the dump or the row has none), added in C where the swapents
    column is an array (it holds no None)."""
    rss, swap = tasks.column("rss") or (), tasks.column("swapents")
    if swap is None:
        return rss
    if isinstance(swap, array.array):
        # every row's swapents 0 (no swap, or none in use): rss itself, without adding a zero to each row
        return rss if not swap.tobytes().strip(b"\0") else map(add, rss, swap)
    return map(add, rss, swap) if None not in swap else [r + (s or 0) for r, s in zip(rss, swap)]


class Weighed:
    """What every run of the selection over one dump shares, whatever its era, totalpages or CAP_SYS_ADMIN
    assumption: which rows are candidates, the pages oom_badness() counts for each (rss + swapents + page tables),
    and why the others are never chosen. Column by column (see TaskTable)."""

    def __init__(self, tasks: TaskTable, page_bytes: int, oom_skip: frozenset[int] = frozenset()):
        n = len(tasks)
        self.tasks = tasks
        column = tasks.column
        pid, adj = column("pid"), column("oom_score_adj")
        self.pgtables, pgt_pages = _page_tables(tasks, page_bytes) if n else (None, ())
        # a machine-integer array as soon as it is made: a list of 100 000 int objects is 3.6 MB
        pages = int_column(list(map(add, _rss_swap(tasks), pgt_pages)))
        self.eligible: Sequence[int] = range(n)  # rows of the candidates, in scan order
        self.adjs = adj
        self.ineligible: dict[int, str] = {}  # row -> why the kernel never chooses it
        self.slot = None  # per row, its place among the candidates (-1: none); None: every row is one
        # _eligible written out: the rows it rejects are few, found by scans in C, and the candidates are the runs of
        # rows between them (a test of every row took half of Weighed on real reports)
        if n and (column_has(adj, OOM_SCORE_ADJ_MIN) or column_has(pid, 1) or oom_skip):
            never = sorted({*column_positions(adj, OOM_SCORE_ADJ_MIN), *column_positions(pid, 1), *oom_skip})
            for i in never:
                self.ineligible[i] = ("oom_score_adj -1000 (OOM_SCORE_ADJ_MIN)" if adj[i] == OOM_SCORE_ADJ_MIN
                                      else "global init" if pid[i] == 1 else "an earlier victim with MMF_OOM_SKIP")
            ends = [-1, *never, n]
            runs = [range(a + 1, b) for a, b in zip(ends, ends[1:])]  # runs[k] follows never[k - 1]
            self.eligible = list(itertools.chain.from_iterable(runs))
            pages = list(itertools.chain.from_iterable(pages[rows.start : rows.stop] for rows in runs))
            self.adjs = list(itertools.chain.from_iterable(adj[rows.start : rows.stop] for rows in runs))
            # a candidate's place: its row less the rows never chosen before it; -1 on those
            slot = list(runs[0])
            for k, rows in enumerate(runs[1:], 1):
                slot.append(-1)
                slot += range(rows.start - k, rows.stop - k)
            self.slot = int_column(slot)
        self.pages = pages  # of each candidate
        # the row of the first candidate with the most pages
        self.biggest = self.eligible[column_index(pages, max(pages))] if pages else None
        self.columns = [pid, column("tgid"), column("comm"), column("uid"), column("rss"), column("swapents"),
                        self.pgtables, adj]  # Candidate's fields read from the rows, in build's order
        self._badness: tuple | None = None  # the latest badness() asked: its era, totalpages and points

    def process_row(self, tgid: int) -> int | None:
        """The row of the first candidate of a process (by tgid: a thread is its process)."""
        for i in column_positions(self.tasks.column("tgid"), tgid):
            if self.slot is None or self.slot[i] >= 0:
                return i
        return None

    def badness(self, version: KernelVersion, totalpages: int, cap_sys_admin: frozenset[int]) -> Sequence[int]:
        """badness_column of the candidates under one era's rules and totalpages, the rows `cap_sys_admin` taken to
        hold CAP_SYS_ADMIN. The runs of one era ask in a row, each with its own assumption of who holds it: the
        points without the root bonus, and with it of each row asked, are worked out once for them all."""
        if self._badness is None or self._badness[:2] != (version, totalpages):
            self._badness = (version, totalpages, int_column(badness_column(version, totalpages, self.pages,
                                                                            self.adjs)), {})  # fmt: skip
        points, bonused = self._badness[2:]  # bonused: a candidate's place -> its points with the root bonus
        if cap_sys_admin and root_bonus(version) is not None:
            rule, points = badness_rule(version, totalpages), list(points)
            for k in cap_sys_admin if self.slot is None else map(self.slot.__getitem__, cap_sys_admin):
                if k >= 0:  # a candidate
                    if k not in bonused:
                        bonused[k] = rule(self.pages[k], self.adjs[k], True)
                    points[k] = bonused[k]
            points = int_column(points)
        return points


class Scored:
    """oom_badness() of every row of a dump under one run's rules, as columns (see TaskTable): a Candidate is built
    only for a row that is shown (the ranking, the victim) or read (`candidates`, `rows`), and the JSON `tasks` a
    slice at a time."""

    def __init__(self, weighed: Weighed, points: Sequence[int], scores: Sequence[int] | None, caps: frozenset[int]):
        w = weighed
        self.tasks, self.eligible, self.pgtables, self.ineligible = w.tasks, w.eligible, w.pgtables, w.ineligible
        self.biggest, self._columns, self._slot = w.biggest, w.columns, w.slot
        self.points = points  # of each candidate (as eligible)
        self.scores = scores  # /proc/PID/oom_score of each candidate
        self.caps = caps  # candidates taken to hold CAP_SYS_ADMIN
        self._shown: dict[int, Candidate] = {}  # the Candidates handed out one by one: one object per row

    @property
    def candidates(self) -> CandidateRows:
        return CandidateRows(self, self.eligible)

    @property
    def rows(self) -> CandidateRows:
        return CandidateRows(self, range(len(self.tasks)))

    def build(self, rows: Sequence[int]) -> list[Candidate]:
        """The Candidates of some rows, read a column at a time (a slice where the rows run in order)."""
        if not rows:
            return []
        if isinstance(rows, range) and rows.step == 1 or len(rows) == 1:
            at = itemgetter(slice(rows[0], rows[-1] + 1))
        else:
            at = itemgetter(*rows)
        pid, tgid, comm, uid, rss, swap, pgt, adj = [repeat(None) if c is None else at(c) for c in self._columns]
        # the candidates' own columns, by each row's place among the candidates
        points, scores = [repeat(None) if values is None else at(values) if self._slot is None
                          else [None if k < 0 else values[k] for k in at(self._slot)]
                          for values in (self.points, self.scores)]  # fmt: skip
        caps = [i in self.caps for i in rows] if self.caps else repeat(False)
        ineligible = list(map(self.ineligible.get, rows)) if self.ineligible else repeat(None)
        return list(map(Candidate, pid, tgid, comm, uid, rss, swap, pgt, adj, caps, points, ineligible, scores,
                        map(add, rows, repeat(1))))  # scan order: 1-based

    def at(self, rows: Sequence[int]) -> list[Candidate]:
        """The Candidates of some rows: those handed out already (one object per row), the others built."""
        shown = self._shown
        if len(shown) >= len(rows):  # a small dump, its rows shown (the ranking): reused
            return [shown.get(i) or self.candidate(i) for i in rows]
        built = self.build(rows)
        if isinstance(rows, range) and rows.step == 1:  # a slice of the table (JSON): the few shown put in
            for i, c in shown.items():
                if rows.start <= i < rows.stop:
                    built[i - rows.start] = c
        elif shown:
            built = [shown.get(i, c) for i, c in zip(rows, built)]
        return built

    def candidate(self, row: int) -> Candidate:
        if (c := self._shown.get(row)) is None:
            self._show([row])
            c = self._shown[row]
        return c

    def _show(self, rows: Sequence[int]) -> None:
        """Builds the Candidates of the rows not handed out yet, at once."""
        if not self._shown and len(self.tasks) <= RANKING_SIZE:  # a dump no longer than the ranking is shown whole
            rows = range(len(self.tasks))
        elif self._shown:
            rows = [i for i in rows if i not in self._shown]
        self._shown.update(zip(rows, self.build(rows)))

    def points_of(self, row: int) -> int:
        """The points of a candidate's row."""
        return self.points[row if self._slot is None else self._slot[row]]

    def ranking(self, chosen: int, first: int | None = None) -> list[Candidate]:
        """by_points over the candidates (`chosen`: the row of the choice), building only the rows that can be among
        the first `first`, in one go."""
        rows = self.eligible
        if first is not None and len(rows) > first:
            least = _nth_largest(self.points, first)
            rows = list(itertools.compress(rows, map(le, repeat(least), self.points)))
        if len(self._shown) < len(self.tasks):
            self._show(rows)
        return by_points([self._shown[i] for i in rows], self._shown[chosen], first)


class CandidateRows(Sequence):
    """Some rows of a Scored as a sequence of Candidate, built as they are read."""

    def __init__(self, scored: Scored, rows: Sequence[int]):
        self._scored, self._rows = scored, rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, k: int | slice) -> Candidate | list[Candidate]:
        if isinstance(k, slice):
            return self._scored.at(self._rows[k])
        return self._scored.candidate(self._rows[k])

    def __iter__(self) -> Iterator[Candidate]:
        for k in range(0, len(self._rows), _JSON_ROWS):
            yield from self._scored.at(self._rows[k : k + _JSON_ROWS])


def _page_tables(tasks: TaskTable, page_bytes: int) -> tuple[Sequence[int | None] | None, Iterable[int]]:
    """Candidate.pgtables_bytes of each row (None: the dump has no page-table column) and the page-table pages
    oom_badness() counts: pgtables_bytes (4.15+), or nr_ptes + nr_pmds + nr_puds pages before."""
    b = tasks.column("pgtables_bytes")
    counts = [tasks.column("nr_ptes"), tasks.column("nr_pmds"), tasks.column("nr_puds")]
    if counts == [None, None, None]:
        if b is None:
            return None, repeat(0)
        return b, map(floordiv, b, repeat(page_bytes)) if isinstance(b, array.array) or None not in b else [
            (x or 0) // page_bytes for x in b]
    present = [c for c in counts if c is not None]
    if b is None and counts[0] is not None and not any(None in c for c in present):  # every row has its counts
        pages = present[0]
        for c in present[1:]:
            pages = list(map(add, pages, c))
        return list(map(mul, pages, repeat(page_bytes))), pages
    # facts.pgtables_bytes of each row, read a column at a time (no TaskRow built for a row)
    n = len(tasks)
    shown, pages = [], []
    for x, ptes, pmds, puds in zip(*(repeat(None, n) if c is None else c for c in (b, *counts))):
        if x is None:
            x = ((ptes or 0) + (pmds or 0) + (puds or 0)) * page_bytes
            shown.append(None if ptes is None else x)
        else:
            shown.append(x)
        pages.append(x // page_bytes)
    return shown, pages


def select_bad_process(
    tasks: TaskTable | list[TaskRow], totalpages: int, version: KernelVersion, page_bytes: int,
    global_totalpages: int | None, cap_sys_admin: frozenset[int] = frozenset(), weighed: Weighed | None = None,
) -> tuple[Scored, Candidate | None]:
    """select_bad_process()/oom_evaluate_task() over the dump in its printed order, which is the kernel's scan
    order (for_each_process or mem_cgroup_scan_tasks). `cap_sys_admin`: scan positions (0-based) of the tasks
    taken to hold CAP_SYS_ADMIN; `weighed`: these tasks and page size already weighed, with the scan positions of
    earlier victims whose mm has MMF_OOM_SKIP, which oom_evaluate_task skips (the runs of one report share it).
    Returns every row scored (its `candidates`: the eligible ones) and the chosen one."""
    w = weighed or Weighed(tasks if isinstance(tasks, TaskTable) else TaskTable(tasks), page_bytes)
    scored, chosen = _select(w, totalpages, version, global_totalpages, cap_sys_admin)
    return scored, None if chosen is None else scored.candidate(chosen)


def _select(w: Weighed, totalpages: int, version: KernelVersion, global_totalpages: int | None,
            cap_sys_admin: frozenset[int]) -> tuple[Scored, int | None]:  # fmt: skip
    """select_bad_process with the chosen one's row (None: no candidate): a Candidate is built only for a run
    that is shown."""
    if not w.eligible:
        return Scored(w, [], None, frozenset()), None
    points = w.badness(version, totalpages, cap_sys_admin)
    scores = None
    if global_totalpages and version.oom_score_scaled_2000:
        # /proc/PID/oom_score always uses the global totalpages (proc_oom_score, 5.9+: no root bonus)
        g = points if global_totalpages == totalpages else badness_column(version, global_totalpages, w.pages, w.adjs)
        scores = int_column(proc_oom_score_column(g, global_totalpages, version))
    # (no frozenset().intersection: it would walk every eligible row of a 100 000-row dump to find nothing)
    scored = Scored(w, points, scores, cap_sys_admin.intersection(w.eligible) if cap_sys_admin else cap_sys_admin)
    return scored, _chosen_row(w, points, version)


def _chosen_row(w: Weighed, points: Sequence[int], version: KernelVersion) -> int:
    """oom_evaluate_task() in scan order: the choice ends on the highest points, and better_candidate() settles
    which of the candidates with those points the scan keeps. The row of the choice."""
    pid, tgid = w.tasks.column("pid"), w.tasks.column("tgid")
    top = max(points)
    chosen = None
    for k in column_positions(points, top):  # the candidates with the top points
        i = w.eligible[k]
        if chosen is None or better_candidate(top, top, pid[chosen] == tgid[chosen], version):
            chosen = i
    return chosen


class _Run(msgspec.Struct):
    """One run of the selection under one era's rules and one CAP_SYS_ADMIN assumption."""

    version: KernelVersion
    caps: str | None
    scored: Scored
    chosen_idx: int | None  # the row of the model's choice
    kernel_idx: int | None  # the row of the kernel's choice among the candidates (by tgid: a thread is its process)
    score: int | None  # printed_kill_score of the kernel's choice
    score_max: int | None  # ... with the columns the dump lacks at their most
    reproduces: bool  # no printed score, or the printed score is the model's (or within reach)

    # the Candidates of a run are built when it is shown or named: most runs are only compared by their rows
    @property
    def chosen(self) -> Candidate | None:
        return None if self.chosen_idx is None else self.scored.candidate(self.chosen_idx)

    @property
    def kernel(self) -> Candidate | None:
        return None if self.kernel_idx is None else self.scored.candidate(self.kernel_idx)

    @property
    def chosen_tgid(self) -> int | None:
        """The process of the model's choice."""
        return None if self.chosen_idx is None else self.scored.tasks.column("tgid")[self.chosen_idx]

    @property
    def agree(self) -> bool:
        return self.kernel_idx is not None and self.kernel_idx == self.chosen_idx


def _missing_pages_max(r: OomReport, row: TaskRow, page_bytes: int) -> int:
    """What swapents and nr_ptes can add to a row of a dump without those columns: the swap in use, and one
    page-table page per 512 pages of its virtual size (PTRS_PER_PTE on 64-bit; 1024 on 32-bit non-PAE)."""
    page_kb = page_bytes // 1024
    swap_used = max((r.total_swap_kb or 0) - (r.free_swap_kb or 0), 0) // page_kb
    return swap_used + -(-row.total_vm // 512)


def _runs(r: OomReport, versions: list[KernelVersion], totalpages: int, page_bytes: int, global_tp: int | None,
          kidx: int | None, weighed: Weighed) -> Iterator[_Run]:  # fmt: skip
    """The selection under each era's rules and each CAP_SYS_ADMIN assumption that could matter (`kidx`: the row
    of the kernel's choice; `weighed`: the dump, weighed once for them all), run as they are asked for. The report
    does not say who held CAP_SYS_ADMIN; uid 0 is a hint (a container's root may lack it): kernel-model.md 1.7. No
    era is run after one that settles _choose_run's choice: without a printed score the first run, else the first
    run that reproduces it and agrees."""
    printed = r.selected.score if r.selected else None
    # only the eras with a root bonus (before 4.17) look at who is root
    bonus = any(map(root_bonus, versions))
    root = frozenset(itertools.compress(itertools.count(), map(eq, r.tasks.column("uid"), repeat(0)))) if bonus \
        else frozenset()
    kernel_row = r.tasks[kidx] if kidx is not None else None
    kernel = weighed.process_row(kernel_row.tgid) if kernel_row is not None else None  # the same in every run
    lacks_columns = bool(r.tasks) and r.tasks.column("swapents") is None  # a dump has a column or not
    for v in versions:
        settled = printed is None
        options: list[tuple[frozenset[int], str | None]] = [(frozenset(), None)]
        if root_bonus(v) is not None and root:
            # nothing the report does not show is assumed first (as the simulator, which has no capabilities, and
            # a replay of the report do); then the smallest departures from it
            options = [(frozenset(), "no task holds CAP_SYS_ADMIN")]
            if kidx in root:
                name = f"{kernel_row.comm} ({kernel_row.pid})"
                options += [(frozenset({kidx}), f"only {name} holds CAP_SYS_ADMIN"),
                            (root - {kidx}, f"every uid-0 task but {name} holds CAP_SYS_ADMIN")]  # fmt: skip
            options.append((root, "every uid-0 task holds CAP_SYS_ADMIN"))
        for caps, words in options:
            cands, chosen = _select(weighed, totalpages, v, global_tp, caps)
            score = score_max = None
            reproduces = printed is None
            if printed is not None and kernel is not None:
                score = printed_kill_score(cands.points_of(kernel), totalpages, v)
                reproduces = score == printed
                if lacks_columns:
                    kc = cands.candidate(kernel)
                    pages = kc.rss + _missing_pages_max(r, kernel_row, page_bytes)
                    best = oom_badness_era(pages, kc.oom_score_adj, totalpages, v, cap_sys_admin=kc.cap_sys_admin)
                    score_max = printed_kill_score(best, totalpages, v)
                    reproduces = score <= printed <= score_max
            run = _Run(v, words, cands, chosen, kernel, score, score_max, reproduces)
            settled = settled or run.reproduces and run.agree
            yield run
        if settled:  # every run of this era is made: the notes compare them
            return


def _choose_run(runs: list[_Run], printed: int | None) -> _Run:
    """A printed score is the only evidence of the free choices: the first run that reproduces it (and agrees,
    if one does). Without one, or when none reproduces it, the first run: the inferred era, with no task
    holding CAP_SYS_ADMIN (see _runs)."""
    reproducing = [run for run in runs if run.reproduces] if printed is not None else []
    if not reproducing:  # nothing to choose by: the default, never the one that happens to agree
        return runs[0]
    return next((run for run in reproducing if run.agree), reproducing[0])


# --- words ------------------------------------------------------------------------------------


def _mib(pages: int, page_bytes: int) -> str:
    return fmt_size(pages * page_bytes)


def _base(c: Candidate, page_bytes: int) -> int:
    return c.rss + (c.swapents or 0) + (c.pgtables_bytes or 0) // page_bytes


def _adj_pages(c: Candidate, totalpages: int) -> int:
    return c.oom_score_adj * (totalpages // 1000)  # oom_badness(): adj *= totalpages / 1000


def explain_selection(
    scored: Scored, ranked: list[Candidate], chosen: Candidate, version: KernelVersion, totalpages: int,
    page_bytes: int, assumed: bool = False,
) -> list[str]:
    """Why the model picks `chosen` among the candidates of `scored`, in words; `ranked`: the first of by_points
    (the runner-up is its second). `assumed`: the report does not give totalpages, and the points are those at
    `totalpages`, the lowest it can be; what adj weighs is then said as a bound."""
    why: list[str] = []
    at_least = "at least " if assumed else ""
    base = _base(chosen, page_bytes)
    biggest = scored.candidate(scored.biggest)
    # only the columns the dump has
    terms = [f"rss {chosen.rss}"] + ([f"swapents {chosen.swapents}"] if chosen.swapents is not None else []) + (
        [f"pgtables {chosen.pgtables_bytes // page_bytes}"] if chosen.pgtables_bytes is not None else [])
    size = f"{' + '.join(terms)} = {base} pages"
    if biggest is chosen or _base(biggest, page_bytes) == base:
        why.append(f"{chosen.comm} ({chosen.pid}) has the largest rss+swap+pgtables: {size} ({_mib(base, page_bytes)})")
    else:
        big = _base(biggest, page_bytes)
        why.append(
            f"{chosen.comm} ({chosen.pid}) is not the biggest process ({biggest.comm} ({biggest.pid}) has "
            f"{big} pages, {_mib(big, page_bytes)}); {chosen.comm} has {size}"
        )
        for c in (chosen, biggest):
            if c.oom_score_adj and scaled_score(version):
                why.append(f"adj {c.oom_score_adj:+d} on {c.comm} adds to its 0..1000 score directly (2.6.36-3.7)")
            elif c.oom_score_adj:
                adj = _adj_pages(c, totalpages)
                verb = "adds" if adj > 0 else "subtracts"
                why.append(
                    f"adj {c.oom_score_adj:+d} on {c.comm} {verb} {abs(c.oom_score_adj)} x {at_least}{totalpages // 1000}"
                    f" = {at_least}{abs(adj)} pages ({_mib(abs(adj), page_bytes)})"
                )
        if chosen.points == biggest.points:  # equal scores: the tie-break below decides, not the sizes
            scale = (" (2.6.36-3.7 rounds the 0..1000 score down and clamps it to 1..1000)"
                     if scaled_score(version) else "")  # fmt: skip
            why.append(f"so {chosen.comm} and {biggest.comm} ({biggest.pid}) both score {chosen.points} "
                       f"points{scale}: a tie")
        else:
            why.append(
                f"so {chosen.comm} scores {chosen.points} points against {biggest.points} for {biggest.comm}: "
                "the adj difference outweighs the difference in size"
            )
    if chosen.oom_score_adj and (biggest is chosen or _base(biggest, page_bytes) == base):
        adj = _adj_pages(chosen, totalpages)
        why.append(f"its adj {chosen.oom_score_adj:+d} {'adds' if adj > 0 else 'subtracts'} {at_least}{abs(adj)} pages")
    # the runner-up: the second of by_points, which puts the chosen one first
    nxt = ranked[1] if len(ranked) > 1 and ranked[0] is chosen else next((c for c in ranked if c is not chosen), None)
    if nxt is not None:
        if nxt.points == chosen.points:
            if scaled_score(version):
                why.append(f"tie on {chosen.points} points with {nxt.comm} ({nxt.pid}): 2.6.36-3.7 "
                           "select_bad_process() replaced its choice only on more points: the first scanned keeps it")
            elif version.leader_tie_break:
                why.append(
                    f"tie on {chosen.points} points with {nxt.comm} ({nxt.pid}): before 5.9 oom_evaluate_task kept "
                    "the first-scanned thread-group leader ('prefer thread group leaders')"
                )
            else:
                why.append(
                    f"tie on {chosen.points} points with {nxt.comm} ({nxt.pid}): the later-scanned wins on 5.9+ "
                    "(oom_evaluate_task skips only when points < chosen_points)"
                )
        elif scaled_score(version):
            why.append(f"next is {nxt.comm} ({nxt.pid}) with {nxt.points} of 1000 points (2.6.36-3.7 scored "
                       "points*1000/totalpages + adj, clamped to 1..1000)")
        else:
            d = chosen.points - nxt.points
            # with totalpages unknown the gap moves with it: it grows if the chosen one has the higher adj
            bound = "" if not assumed or chosen.oom_score_adj == nxt.oom_score_adj else (
                "at least " if chosen.oom_score_adj > nxt.oom_score_adj else "at most ")
            why.append(f"next is {nxt.comm} ({nxt.pid}) with {nxt.points} points, {bound}{d} pages "
                       f"({_mib(d, page_bytes)}) behind")
    if chosen.points == 1 and not version.signed_badness and len(scored.eligible) > 1:
        why.append("every candidate scores 1: before 5.9 oom_badness() never returned less than 1 for an eligible task")
    if chosen.oom_score is not None:
        why.append(f"its /proc/{chosen.pid}/oom_score was {chosen.oom_score}")
    return why


def _nth_largest(values: Sequence[int], n: int) -> int:
    """The n-th largest of values (n <= len(values)): sorted() in C for a short column, heapq.nlargest's one pass
    over a long one (sorting 100 000 takes six times as long; below a few hundred the sort is the faster)."""
    return (sorted(values, reverse=True) if len(values) < 400 else heapq.nlargest(n, values))[n - 1]


def by_points(candidates: list[Candidate], chosen: Candidate, first: int | None = None) -> list[Candidate]:
    """Highest points first; the chosen one first among its equals (the scan kept it), then in scan order, the
    order the kernel weighs equals in (the 0..1000 score of 2.6.36-3.7 ties many at 1). The simulator's decision
    panel ranks the same way, so a replayed report shows this ranking. `first`: only that many (sorting only the
    rows that score at least the first's lowest)."""
    if first is not None and len(candidates) > first:
        points = list(map(attrgetter("points"), candidates))
        least = _nth_largest(points, first)
        candidates = list(itertools.compress(candidates, [p >= least for p in points]))
    out = sorted(candidates, key=attrgetter("points"), reverse=True)  # stable: candidates are in scan order
    # (a Candidate equals only itself: its scan_order is its row's own; list.index tries `is` first)
    top = i = out.index(chosen)
    while top and out[top - 1].points == chosen.points:  # sorted: its equals are just before it
        top -= 1
    if top < i:
        out.insert(top, out.pop(i))
    return out[:first]


# --- one report ---------------------------------------------------------------------------------

_parse_era = lru_cache(maxsize=256)(KernelVersion.parse)  # an Explanation's era, back to a KernelVersion


_CANNOT_RERUN = "so the selection cannot be re-run"  # a problem of a report without a task dump, or its rows


def _missing(r: OomReport, victim: tuple[int, str, str] | None) -> list[str]:
    """What a truncated or garbled report lacks, in words (`victim`: r.victim())."""
    problems = []
    if r.invoked_line is None:
        problems.append("the report has no 'invoked oom-killer' line: its beginning is missing")
    if victim is None and r.selected is None and not (r.no_killable or r.panic_on_oom or r.already_exiting):
        begins = "begins with 'invoked oom-killer' but " if r.invoked_line is not None else ""
        problems.append(f"the report {begins}has no 'Killed process' line: truncated?")
    elif r.killed is None and r.selected is not None:
        problems.append("the report has a 'Kill process' line but no 'Killed process' line: truncated?")
    elif victim is not None and r.killed is None:
        problems.append(f"no 'Killed process' line: the victim is read from the {victim[2]} line")
    if r.task_columns is None:
        problems.append(f"no task dump, {_CANNOT_RERUN}: {why_no_dump(r)}")
    elif not r.tasks:
        problems.append(f"the task dump has a header (line {r.task_header_line}) but no rows it could read, "
                        f"{_CANNOT_RERUN}: a filter (grep) that kept the header may have dropped them")
    return problems


def _report_notes(r: OomReport, victim: tuple[int, str, str] | None, kin: str | None) -> list[str]:
    """What the report says about the kill beyond the victim's name (`victim`: r.victim(); `kin`: the kinship of the
    selected task and the victim)."""
    notes = []
    if r.reserved_printed is not None:
        notes.append(f"'{r.reserved_printed} pages reserved' is {r.reserved_pages} printed unsigned: show_mem() "
                     "found more managed than present pages (a CMA area is the usual cause), and totalram_pages is "
                     "RAM minus that"
                     + (f", {r.ram_pages - r.reserved_pages} pages" if r.ram_pages is not None else
                        " (the paste has no 'pages RAM' line)"))
    if r.no_killable:
        notes.append("'Out of memory and no killable processes...': the kernel found no victim")
    if r.already_exiting:
        notes.append("the victim was already exiting: the kernel skipped the kill")
    if r.order == -1 or r.sysrq:
        how = "order=-1" if r.order == -1 else "moom_callback in the trace; before 4.x it asked for order 0 GFP_KERNEL"
        notes.append(f"manual OOM: sysrq-f ({how}); no real shortage is needed")
    if r.selected and r.killed and kin != "same":  # the victim is the killed one
        sel, kil = f"{r.selected.comm} ({r.selected.pid})", f"{r.killed.comm} ({r.killed.pid})"
        if kin == "thread" and find_row(r, r.selected.pid) is None:
            notes.append(f"the kernel selected {sel}, which is in no row of the dump: a thread (before 5.1 the "
                         "selection walked threads, and the dump lists processes); its process is taken to be the "
                         f"one killed, {kil}, whose threads share its points")
        elif kin == "thread":
            notes.append(f"the kernel selected {sel} and the verdict names {kil}, a thread of the same process: "
                         "oom_kill_process() prints the thread that holds the mm (find_lock_task_mm)")
        elif kin == "child":
            # oom_kill_process(): 2.6.36-5.0 the child with the most points; before 2.6.36 the first one
            notes.append(f"the kernel selected {sel} and killed its child {kil} instead " + (
                "('or a child', before 2.6.36: the first child with an mm of its own dies in the parent's place)"
                if r.old_badness else "('or sacrifice child', before 5.1: of the children with an mm of their own, "
                "the one with the most points dies in the parent's place)"))  # fmt: skip
        else:  # "unknown"
            notes.append(f"the kernel selected {sel} and killed {kil}, which is not in the task dump: a child or "
                         "another thread of it ('or sacrifice child', before 5.1)")
    k = r.killed
    if k and k.pgtables_kb and (row := find_row(r, k.pid)) and row.pgtables_bytes \
            and k.pgtables_kb == row.pgtables_bytes > 1024:  # fmt: skip
        # 5.4 printed mm_pgtables_bytes() with a "kB" unit; "mm/oom: fix pgtables units mismatch in Killed process
        # message" (5.5, 5.4.9) shifts it by 10
        notes.append(f"the verdict's pgtables:{k.pgtables_kb}kB is the dump's pgtables_bytes: this kernel printed "
                     "bytes as kB (fixed in 5.5 and 5.4.9); the real size is "
                     f"{fmt_size(row.pgtables_bytes)}")
    if victim and r.trigger_pid is not None and kinship(r, victim[0], r.trigger_pid) in ("same", "thread"):
        notes.append(f"the task that triggered the OOM, {r.trigger_comm} ({r.trigger_pid}), is the victim's process")
    # mem_cgroup_scan_tasks() walks every member, the victim included: its second "Killed process" line is no more
    if r.group_kills:
        first = r.killed.pid if r.killed else None
        more = [k for k in r.group_kills if k.pid != first]
        group = f"memory.oom.group of {r.oom_group_memcg or 'the OOM cgroup'}"
        names = ", ".join(f"{k.comm} ({k.pid})" for k in more)
        notes.append(f"{group}: also killed {len(more)} more: {names}" if more else
                     f"{group}: the group kill named only the victim again")  # fmt: skip
        if "kubepods" in (r.oom_group_memcg or ""):
            notes.append("memory.oom.group kills every process of the container together, in the cgroup's order, "
                         "not by size: the kubelet sets it on cgroup v2 containers (Kubernetes 1.28 on)")
        if init := next((k for k in r.group_kills if k.pid == 1), None):
            # oom_kill_memcg_member() skipped only OOM_SCORE_ADJ_MIN until "mm,oom: Don't kill global init via
            # memory.oom.group" (February 2019, 5.0-rc; Fixes: 3d8b38eb81ca, 4.19)
            notes.append(f"memory.oom.group killed global init, {init.comm} (1): the kernel panics when init dies "
                         "('Attempted to kill init!'); kernels with 'mm,oom: Don't kill global init via "
                         "memory.oom.group' skip it")
    for rp in r.reaper:
        notes.append(f"oom_reaper {'reaped' if rp.reaped else 'could not reap'} {rp.comm} ({rp.pid})")
    if r.task_columns_guessed:
        notes.append(f"the task dump's header is missing: its columns were read as '{' '.join(r.task_columns)}' "
                     "from the numbers in the rows")
    if r.tasks and r.tasks.column("swapents") is None and not r.old_badness:
        notes.append("this task dump has no swapents or page-table columns (2.6.3x/3.x format): points count rss only")
    return notes


def oom_skipped(r: OomReport, reaped: set[tuple[int, str]]) -> frozenset[int]:
    """Scan positions of rows that are earlier victims the OOM reaper has been through (`reaped`: (pid, comm) of
    the reaper lines of earlier reports): oom_reap_task() sets MMF_OOM_SKIP on the mm whether it reaped it or not
    ("unable to reap"), so oom_evaluate_task() skips the task while it lingers (a D-state thread, a held
    mmap_lock). Same pid (or tgid) and comm as the reaper line."""
    if not reaped:
        return frozenset()
    pid, tgid, comm = map(r.tasks.column, ("pid", "tgid", "comm"))
    # the rows of a reaped comm first (in C), then their pids: no tuple made for every row
    named = itertools.compress(range(len(comm)), map({c for _, c in reaped}.__contains__, comm))
    return frozenset(i for i in named if (tgid[i], comm[i]) in reaped or (pid[i], comm[i]) in reaped)


def explain_report(r: OomReport, reaped: set[tuple[int, str]] | None = None,
                   lender: tuple[OomReport, str] | None = None) -> Explanation:  # fmt: skip
    """One report; `reaped`: (pid, comm) of the earlier reports' reaper lines in the same file (see oom_skipped);
    `lender`: a report that may be of the same boot, with the Mem-Info totals this one lacks, and why (_same_boot;
    explain_reports keeps them only where the printed score reproduces with them)."""
    return _explain_memory(r, _explain_victim(r, reaped or set(), lender))


def _explain_memory(r: OomReport, exp: Explanation) -> Explanation:
    """explain_report after the victim: where memory went, the allocation, the cause and what to do."""
    version = _parse_era(exp.era) if exp.era else None
    mem = analysis.memory(r, exp.page_size)
    alloc = analysis.allocation(r, version, exp.page_size, exp.constraint)
    cg = analysis.memcg(r)
    victim = find_row(r, exp.kernel_victim.pid) if exp.kernel_victim else None
    cause = analysis.cause(r, mem, alloc, cg, exp.constraint, victim, exp.page_size)
    exp.memory, exp.allocation, exp.memcg, exp.cause = mem, alloc, cg, cause
    biggest = _biggest(r.tasks) if cause.kind == "user_memory" else None  # only that advice names it
    exp.advice = analysis.advice(cause, r, mem, alloc, cg, exp.constraint, victim, biggest, exp.page_size)
    exp.platform = analysis.platform(r)
    if (k := r.killed) is not None and k.anon_rss_kb is not None:
        exp.kernel_victim_rss_kb = k.anon_rss_kb + (k.file_rss_kb or 0) + (k.shmem_rss_kb or 0)
    return exp


def _biggest(tasks: TaskTable) -> TaskRow | None:
    """The row with the most rss + swapents: the first of them, as max() picks."""
    sizes = _rss_swap(tasks) if tasks else []
    sizes = sizes if isinstance(sizes, (list, array.array)) else list(sizes)
    return tasks[column_index(sizes, max(sizes))] if sizes else None


def _allocating_task(r: OomReport, exp: Explanation, selected: Task, trigger: Trigger) -> Explanation:
    """The allocating-task path has no selection to re-run: the model's victim is the task that asked for memory,
    and the printed score is the 0 points passed for it (oom_kill_process(current, ..., 0, ...) before 4.7,
    oc->chosen_points left 0 after)."""
    exp.model_victim = Task(trigger.pid, trigger.comm or selected.comm)
    exp.compared = True
    exp.agree = selected.pid == trigger.pid
    exp.problems = [p for p in exp.problems if _CANNOT_RERUN not in p]  # (it runs no selection)
    exp.notes.append(f"vm.oom_kill_allocating_task=1: the kernel chose the task that asked for memory, "
                     f"{trigger.comm} ({trigger.pid}), without comparing processes")
    if exp.printed_score is not None:
        exp.score_check = ScoreCheck(printed=exp.printed_score, model=0, agree=exp.printed_score == 0,
                                     how=f"the printed score {exp.printed_score} is the 0 points the allocating-task "
                                         "path passes, not a badness")  # fmt: skip
        exp.notes.append(exp.score_check.how)
    return exp


def _old_badness(r: OomReport, exp: Explanation) -> Explanation:
    """Before 2.6.36 badness() (mm/oom_kill.c; replaced by oom_badness() in a63d83f427fb, 2.6.36) scored total_vm,
    plus half the total_vm of each child with an mm of its own, divided by the square root of the CPU time and the
    fourth root of the run time, doubled for a niced task, divided by 4 for CAP_SYS_ADMIN or CAP_SYS_RESOURCE and
    again for CAP_SYS_RAWIO, shifted by oom_adj. No report prints CPU or run time: the score cannot be recomputed,
    nor the victim re-chosen."""
    why = ("badness() of before 2.6.36 weighs CPU and run time (and children, nice, capabilities), which no OOM "
           "report prints")
    if exp.era == "2.6":
        exp.era_source += f"; before 2.6.36 by its formats ({', '.join(r.old_formats) or 'of badness()'})"
    if exp.printed_score is not None:
        exp.score_check = ScoreCheck(printed=exp.printed_score, model=None, agree=None,
                                     how=f"the printed score {exp.printed_score} cannot be reproduced: {why}")
        exp.notes.append(exp.score_check.how)
    if r.tasks:
        exp.problems.append(f"the selection cannot be re-run: {why}")
    return exp


def _explain_victim(r: OomReport, reaped: set[tuple[int, str]], lender: tuple[OomReport, str] | None) -> Explanation:
    clues = era_clues(r)
    version, era_source = infer_era(r, clues)
    page_bytes, page_source = infer_page_size(r)
    page_kb = page_bytes // 1024
    constraint, constraint_note = infer_constraint(r)
    victim = r.victim()
    kernel_victim = Task(victim[0], victim[1]) if victim else None
    selected = Task(r.selected.pid, r.selected.comm) if r.selected else kernel_victim
    kin = kinship(r, selected.pid, kernel_victim.pid) if selected and kernel_victim else None
    if kin == "child" and chose_a_thread_of(r, selected.pid, kernel_victim.pid, page_bytes):
        kin = "thread"
    problems = r.problems + _missing(r, victim)
    notes = ([constraint_note] if constraint_note else []) + _report_notes(r, victim, kin)
    conflicts = era_conflicts(r, version, clues)
    # only the invoked and CPU lines name the trigger (the oom-kill: line's task is the victim)
    trigger = Trigger(r.trigger_pid, r.trigger_comm) if r.trigger_comm or r.trigger_pid else None

    totalpages, tp_source = total_pages(r, constraint, page_kb)
    if totalpages is None and constraint == "CONSTRAINT_NONE" and lender is not None:
        # RAM, reserved and swap are the machine's: another report of the same boot printed them
        other, why = lender
        swap = other.total_swap_kb if r.total_swap_kb is None else r.total_swap_kb
        totalpages, how = total_pages(msgspec.structs.replace(r, ram_pages=other.ram_pages, total_swap_kb=swap,
                                                              reserved_pages=other.reserved_pages), constraint, page_kb)
        tp_source = (f"{how}; borrowed from report {other.index}, of the same boot: {why}, and the printed score "
                     "reproduces with them")
    global_tp = None
    if constraint == "CONSTRAINT_NONE":
        global_tp = totalpages
    elif r.ram_pages is not None:
        global_tp = total_pages(r, "CONSTRAINT_NONE", page_kb)[0]

    exp = Explanation(
        index=r.index, lines=[r.first_line, r.last_line], host=r.host, kernel_victim=kernel_victim,
        kernel_victim_source=victim[2] if victim else None, kernel_selected=selected,
        kernel_victim_is=kin,
        model_victim=None, agree=None, compared=False, era=str(version) if version else None,
        era_source=era_source, era_range=era_range(r, clues), constraint=constraint, totalpages=totalpages, totalpages_source=tp_source,
        page_size=page_bytes, page_size_source=page_source, manual=r.order == -1 or r.sysrq, trigger=trigger,
        printed_score=r.selected.score if r.selected else None, notes=notes, problems=problems,
        era_conflicts=conflicts, panic_on_oom=r.panic_on_oom,
    )  # fmt: skip
    if conflicts:
        notes.append("the era's clues disagree (a backport or a distribution patch?): " + "; ".join(conflicts))
    if kills_allocating_task(r) and selected is not None and trigger is not None and trigger.pid is not None:
        return _allocating_task(r, exp, selected, trigger)
    if r.old_badness:
        return _old_badness(r, exp)
    if not r.tasks or version is None:
        if version is None and r.tasks:
            problems.append("unknown kernel era: cannot choose the selection rules")
        if exp.printed_score is not None:  # printed, so said, though nothing here can recompute it
            why = "no task dump" if not r.tasks else "unknown kernel era"
            exp.score_check = ScoreCheck(printed=exp.printed_score, model=None, agree=None,
                                         how=f"the printed score {exp.printed_score} cannot be checked: {why}")
            notes.append(exp.score_check.how)
        return exp
    kidx = find_index(r, selected.pid) if selected else None
    if kidx is None and kin == "thread" and kernel_victim is not None:  # a thread in no row: its process was killed
        kidx = find_index(r, kernel_victim.pid)
    kernel_row = r.tasks[kidx] if kidx is not None else None
    printed = r.selected.score if r.selected else None
    oom_skip = oom_skipped(r, reaped)
    weighed = Weighed(r.tasks, page_bytes, oom_skip)  # the same for every run of the selection
    if totalpages is None:
        shown = _unknown_totalpages(r, exp, version, page_bytes, kidx, tp_source, weighed)
        if shown is None:
            return exp
        run, tp_shown = shown  # points as at the lowest totalpages possible (a note says so); no score
        tp_words, same_victim = None, False  # not checked over the assumptions
    else:
        eras = era_candidates(r, version, clues)
        runs = list(_runs(r, eras, totalpages, page_bytes, global_tp, kidx, weighed))
        run = _choose_run(runs, printed)
        if printed is not None and not run.reproduces and memcg_headroom_unknown(r) and (span := _totalpages_from_score(
                r, run.version, page_bytes, kernel_row, totalpages, _MAX_MEMORY_BYTES // page_bytes)):  # fmt: skip
            # the swap headroom the report does not print: the totalpages that gives the printed score
            totalpages = exp.totalpages = span[0]
            exp.totalpages_source = tp_source = (f"{tp_source}; the printed score {printed} needs totalpages "
                                                 f"{span[0]}..{span[1]}: swap headroom of at least "
                                                 f"{span[0] - (r.memory.limit_kb // page_kb)} pages")  # fmt: skip
            runs = list(_runs(r, eras, totalpages, page_bytes, global_tp, kidx, weighed))
            run = _choose_run(runs, printed)
        tp_words = tp_shown = totalpages
        if run.version != version:
            exp.era, exp.era_range = str(run.version), era_range(r, clues, run.version)
            exp.era_source += f"; the printed score reproduces only with the rules of {run.version} on"
        same_victim = False  # said only with a CAP_SYS_ADMIN assumption
        if run.caps is not None:
            same_victim = len({o.chosen_tgid for o in runs if o.version == run.version}) == 1
            exp.cap_sys_admin = run.caps
            others = [o for o in runs if o.version == run.version and o.caps != run.caps and o.agree != run.agree]
            if others and (o := others[0]).chosen is not None:
                notes.append(f"if {o.caps}, the model would pick {o.chosen.comm} ({o.chosen.pid})")
    scored = run.scored
    exp.candidates = len(scored.eligible)
    exp.tasks = scored.rows
    if run.chosen_idx is None:
        problems.append("no eligible process in the task dump (all oom_score_adj -1000 or init)")
        return exp
    exp.ranking = ranked = scored.ranking(run.chosen_idx, RANKING_SIZE)  # builds the chosen one with the others
    chosen = run.chosen
    exp.model_victim = Task(chosen.pid, chosen.comm)
    exp.why = explain_selection(scored, ranked, chosen, run.version, tp_shown, page_bytes,
                                assumed=tp_words is None)  # fmt: skip
    for i in sorted(oom_skip):
        t = r.tasks[i]
        exp.why.append(f"{t.comm} ({t.pid}) is skipped: an earlier report's victim the OOM reaper has been through "
                       "(MMF_OOM_SKIP), still listed")  # fmt: skip
    if scored.ineligible and (excluded := [t for t in map(r.tasks.__getitem__, sorted(scored.ineligible))
                                           if not _eligible(t)]):
        names = ", ".join(f"{t.comm} ({t.pid})" for t in excluded[:4]) + (", ..." if len(excluded) > 4 else "")
        exp.why.append(f"{len(excluded)} process(es) with oom_score_adj -1000 or init are never chosen: {names}")
    if constraint == "CONSTRAINT_MEMCG" and r.oom_memcg:
        exp.why.append(f"only the tasks of memcg {r.oom_memcg} are candidates; totalpages is its limit")
    if run.caps is not None:
        bonus = root_bonus(run.version)
        exp.why.append(f"before 4.17 oom_badness() gave CAP_SYS_ADMIN tasks a bonus ({bonus}); the report does not "
                       f"say who held it: assumed {run.caps}"
                       + (" (the victim is the same whoever held it)" if same_victim else ""))  # fmt: skip

    if selected is None:
        return exp
    kernel = run.kernel
    rank = next((i for i, c in enumerate(ranked, 1) if c is kernel), None)
    if rank is None and kernel is not None:  # below the ranking: rank it
        ranked = scored.ranking(run.chosen_idx)
        rank = next((i for i, c in enumerate(ranked, 1) if c is kernel), None)
    if rank is None and r.task_columns_guessed and find_row(r, selected.pid) is None:
        # pasted from inside the dump: the rows before the first shown, the kernel's choice among them, are not here
        problems.append(f"the task dump begins in the middle (no header): the kernel's choice {selected.comm} "
                        f"({selected.pid}) is not among the rows shown, so the selection cannot be checked")
        return exp
    exp.compared = True
    exp.agree = run.agree
    exp.kernel_victim_rank = rank
    if r.task_columns_guessed:  # no header: the rows were cut from a longer dump or kept by a filter (grep)
        notes.append(f"only {len(r.tasks)} row(s) of the task dump are shown (no header: cut or filtered), so the "
                     "comparison is among them; the kernel saw every task")
    if rank is None:
        problems.append(
            f"the kernel's choice {selected.comm} ({selected.pid}) is not among the eligible rows of the task dump"
        )
    elif not exp.agree and constraint == "CONSTRAINT_MEMCG" and not run.version.at_least(5, 3) \
            and (k := ranked[rank - 1]).points == chosen.points:
        # a memcg OOM's scan visits its tasks per css_set, in the order they joined it (3.x's cgroup v1: the newest
        # first; kernel-model.md, real-kernel observation 5), and before 5.3 ("mm, oom: refactor dump_tasks for memcg
        # OOMs", which dumps them by the same scan) dump_tasks() walked for_each_process: which of equal points the
        # scan met first that dump does not show
        exp.agree = True
        notes.append(f"a tie: the kernel's choice {k.comm} ({k.pid}) and the model's {chosen.comm} ({chosen.pid}) "
                     f"have the same {k.points} points, and a memcg OOM visits its tasks in the order they joined "
                     "the memcg, not the dump's: either could be the one met first")
    elif not exp.agree:
        k = ranked[rank - 1]
        problems.append(
            f"the kernel chose {k.comm} ({k.pid}, {k.points} points, rank {rank}) but the model picks "
            f"{chosen.comm} ({chosen.pid}, {chosen.points} points): the dump may omit what the kernel saw "
            "(an existing OOM victim, cpuset/mempolicy filters, a process that exited or grew in the meantime)"
        )
    if printed is not None:
        exp.score_check = _score_check(printed, run, tp_words)
        exp.model_score = run.score if tp_words is not None else None
        notes.append(exp.score_check.how)
    return exp


def _score_check(printed: int, run: _Run, totalpages: int | None) -> ScoreCheck:
    if totalpages is None or run.kernel is None:
        why = "totalpages is unknown" if totalpages is None else "the kernel's choice is not in the dump"
        return ScoreCheck(printed=printed, model=None, agree=None, how=f"the printed score {printed} cannot be "
                          f"checked: {why}")  # fmt: skip
    if run.score_max is not None:  # the dump lacks swapents and nr_ptes
        # a range that closes on the printed score (both ends clamped to it) reproduces it outright
        agree = (True if run.score == run.score_max else None) if run.reproduces else False
        how = (f"the printed score {printed} is {'within' if run.reproduces else 'outside'} the model's "
               f"{run.score}..{run.score_max}: the dump has no swapents or nr_ptes columns, so the model counts rss "
               "only (lower end) or adds all swap in use and the most page tables the victim's size allows (upper)")
        if agree:
            how = (f"the printed score {printed} reproduces: the dump has no swapents or nr_ptes columns, but the "
                   f"model's range without and with them is {run.score}..{run.score_max}")
        return ScoreCheck(printed=printed, model=run.score, agree=agree, model_max=run.score_max, how=how)
    if run.reproduces:
        how = f"the printed score {printed} reproduces with totalpages {totalpages}"
    else:
        how = f"the printed score is {printed}, the model computes {run.score} (totalpages {totalpages})"
    if run.caps is not None:
        how += f", assuming {run.caps}"
    return ScoreCheck(printed=printed, model=run.score, agree=run.reproduces, how=how)


# Bounds on an unknown totalpages: at least the biggest task's footprint, at most 64 TiB of memory.
_MAX_MEMORY_BYTES = 64 << 40


def _bisect(lo: int, hi: int, below) -> int:
    """The largest t in [lo, hi] with below(t) true, for a predicate true at lo and monotone (true, then false)."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if below(mid) else (lo, mid - 1)
    return lo


def _totalpages_from_score(r: OomReport, version: KernelVersion, page_bytes: int, kernel_row: TaskRow | None,
                           low: int, high: int) -> tuple[int, int] | None:  # fmt: skip
    """The totalpages for which the kernel's choice prints its "score %u": the score falls as totalpages grows
    (points*1000/totalpages, + adj on the 0..1000 scale), so the matching totalpages form one interval."""
    if r.selected is None or kernel_row is None or not _eligible(kernel_row):
        return None
    printed = r.selected.score
    # the pages oom_badness() counts for it, as Weighed does
    pages = kernel_row.rss + (kernel_row.swapents or 0) + pgtables_bytes(kernel_row, page_bytes) // page_bytes

    def score(tp: int) -> int:  # its oom_badness(), as select_bad_process weighs it (no CAP_SYS_ADMIN assumed)
        return printed_kill_score(oom_badness_era(pages, kernel_row.oom_score_adj, tp, version, cap_sys_admin=False),
                                  tp, version)  # fmt: skip

    if not score(high) <= printed <= score(low):
        return None
    first = _bisect(low, high, lambda tp: score(tp) > printed) + 1 if score(low) > printed else low
    last = _bisect(first, high, lambda tp: score(tp) >= printed)
    return (first, last) if score(first) == printed else None


def _score_steps(r: OomReport, low: int, high: int, budget: int = 20000) -> list[int] | None:
    """The totalpages in [low, high] where some 0..1000 score steps: pages * 1000 // T changes value at
    T = pages * 1000 // k + 1 for each score k (pages as oom_badness() of 2.6.36-3.7 counts them). None: more
    than the budget."""
    out = {low, high}
    for t in r.tasks:
        if not _eligible(t):
            continue
        scaled = (t.rss + (t.swapents or 0) + (t.nr_ptes or 0)) * 1000
        k_min, k_max = max(scaled // high, 1), min(scaled // max(low, 1) + 1, 1001)
        if k_max - k_min > budget - len(out):
            return None
        out.update(tp for k in range(k_min, k_max + 1) if low <= (tp := scaled // k + 1) <= high)
    return sorted(out)


def _unknown_totalpages(r: OomReport, exp: Explanation, version: KernelVersion, page_bytes: int,
                        kidx: int | None, tp_source: str, weighed: Weighed) -> tuple[_Run, int] | None:  # fmt: skip
    """Without totalpages the adj term (adj * totalpages / 1000) is unknown. In page units (3.8 on) each
    candidate's points are linear in totalpages/1000, so if one candidate wins at both ends of the possible range it
    wins everywhere between; the 0..1000 score of 2.6.36-3.7 is not (rounded, clamped), so it is tried at every step
    (_score_steps). When the choice holds it is made, with that caveat; else it depends on totalpages and is not.
    The range: from the biggest task (1 page for a memcg) to 64 TiB, or what a printed score allows. Returns the run
    at the low end and that totalpages (the one its points are shown for)."""
    if exp.constraint == "CONSTRAINT_MEMCG":
        # a memcg's limit can be below a member's rss: rss counts pages shared with, or charged to, others
        low, least = 1, "1 page (a memcg limit may be below a task's rss)"
        # but never below what the memcg's own stats show charged to it (v1 rss + cache + swap: memory+swap charges
        # its swap, and without that totalpages adds all the machine's swap; v2 anon + file)
        charged = sum(r.memcg_stats.get(k, 0) for k in ("rss", "cache", "swap", "anon", "file")) // page_bytes
        if charged > 1:
            low, least = charged, f"{charged} pages (charged to the memcg by its stats: its limit is no lower)"
    else:
        low = max((t.rss + (t.swapents or 0) for t in r.tasks if _eligible(t)), default=1) or 1
        least = f"{low} pages (the biggest task)"
    high = max(_MAX_MEMORY_BYTES // page_bytes, low)
    how = f"from {least} to {high} ({fmt_size(_MAX_MEMORY_BYTES)})"
    kernel_row = r.tasks[kidx] if kidx is not None else None
    if span := _totalpages_from_score(r, version, page_bytes, kernel_row, low, high):
        low, high = span
        how = f"from {low} to {high} pages (where the kernel's choice prints its score {r.selected.score})"

    exp.totalpages_range = [low, high]

    def run(tp: int) -> _Run:
        return next(_runs(r, [version], tp, page_bytes, None, kidx, weighed))  # its first: no CAP_SYS_ADMIN assumed

    a, b = run(low), run(high)
    if a.chosen_idx is None or b.chosen_idx is None:
        return a, low
    if scaled_score(version):
        # 2.6.36-3.7 clamps each score to 1..1000 and rounds it down, equal scores going to the first scanned: the
        # choice can change and change back as totalpages grows. It is constant between the totalpages where a score
        # steps, so each of those is tried; too many to try leaves the question open.
        steps = _score_steps(r, low, high)
        if steps is None:
            exp.problems.append(f"totalpages unknown ({tp_source}): on the 0..1000 scale the choice may change "
                                f"anywhere from {low} to {high} pages, too many steps to try: not compared")
            return None
        tgid = r.tasks.column("tgid")
        for tp in steps:  # the choice alone at each (a run, its scores and notes, only where it differs)
            points = badness_column(version, tp, weighed.pages, weighed.adjs)
            if tgid[_chosen_row(weighed, points, version)] != a.chosen_tgid:
                c = run(tp).chosen
                exp.problems.append(
                    f"totalpages unknown ({tp_source}): the model picks {a.chosen.comm} ({a.chosen.pid}) at "
                    f"totalpages {low} and {c.comm} ({c.pid}) at {tp} (scores rounded down and clamped to 1..1000, "
                    "ties to the first scanned): not compared")  # fmt: skip
                return None
        b = a
    if a.chosen_tgid == b.chosen_tgid:
        exp.notes.append(
            f"totalpages unknown ({tp_source}): the model's choice is the same for any totalpages {how}; points are "
            f"shown for {low}, no score is computed"
        )
        return a, low
    cut = _bisect(low, high, lambda tp: run(tp).chosen_tgid == a.chosen_tgid)
    exp.problems.append(
        f"totalpages unknown ({tp_source}): adj weighs adj x totalpages/1000, and the model picks {a.chosen.comm} "
        f"({a.chosen.pid}) up to {cut} pages ({fmt_size(cut * page_bytes)}) and {b.chosen.comm} ({b.chosen.pid}) "
        "above: not compared"
    )
    return None


# --- command -------------------------------------------------------------------------------------



def explain_reports(reports: Iterable[OomReport]) -> Iterator[Explanation]:
    """explain_report for each report of one file, in order; an earlier victim the reaper went through is skipped
    in later reports of the same machine (oom_skipped)."""
    # of each syslog host (a log of many machines; None: the lines name none)
    reaped: dict[str | None, set[tuple[int, str]]] = collections.defaultdict(set)
    killed: dict[str | None, dict[int, int]] = collections.defaultdict(dict)  # victim pid -> the report that killed it
    latest: dict[str | None, OomReport] = {}  # the latest report with Mem-Info totals
    released: dict[str | None, OomReport] = {}  # the latest report with a kernel release
    it = iter(reports)
    nxt = next(it, None)  # the next report (a lender too)
    while (r := nxt) is not None:
        nxt = next(it, None)
        own, release_from = r, None  # (r itself, or r with a kernel release it lacked: _with_release)
        if r.kernel_release is not None:
            released[r.host] = r
        elif r.host is not None:
            r, release_from = _with_release(r, released.get(r.host), nxt)
        exp, totals = None, latest.get(r.host)
        if r.ram_pages is None and r.selected is not None and r.selected.score is not None:
            # neither the same kernel line nor the next line makes one machine (a fleet's VMs run one kernel, a
            # central syslog or two pasted dmesgs put them side by side): lent totals stand only where the
            # kernel's printed score reproduces with them
            for lender in _lenders(r, totals, nxt):  # the victim's part only: the rest does not weigh totalpages
                exp = _explain_victim(r, reaped[r.host], lender)
                if exp.score_check is not None and exp.score_check.agree:
                    break
                exp = None
        exp = explain_report(r, reaped[r.host]) if exp is None else _explain_memory(r, exp)
        if release_from is not None:
            exp.era_source += f" ({release_from})"
            exp.platform = analysis.platform(own)  # the machine as its own lines show it
        if r.ram_pages is not None:
            latest[r.host] = msgspec.structs.replace(r, tasks=TaskTable())  # its totals, not its dump
        if r.trigger_pid in killed[r.host] and exp.kernel_victim is not None and exp.kernel_victim.pid != r.trigger_pid:
            # a victim's own page fault (or allocation) ran out_of_memory() again: before "mm, oom: do not trigger
            # out_of_memory from the #PF" (60e2793d440a, 5.16; backported to the stable trees of November 2021,
            # 4.14.256 among them) pagefault_out_of_memory() did, and once the reaper had set MMF_OOM_SKIP on its mm
            # the selection passed over it to an innocent task
            exp.notes.append(f"the task that triggered this OOM, {r.trigger_comm} ({r.trigger_pid}), was already "
                             f"killed in report {killed[r.host][r.trigger_pid]}: a dying victim ran the OOM killer again, "
                             f"and {exp.kernel_victim.comm} ({exp.kernel_victim.pid}) was killed in its stead")
        yield exp
        reaped[r.host] |= {(p.pid, p.comm) for p in r.reaper}
        if exp.kernel_victim is not None:
            killed[r.host].setdefault(exp.kernel_victim.pid, r.index)


def _with_release(r: OomReport, before: OomReport | None, after: OomReport | None) -> tuple[OomReport, str | None]:
    """r with the kernel release of a report of the same syslog host on the line before or after it (_same_boot:
    one boot's log; a host, for two pastes side by side are not told apart by lines alone), where r prints none (its
    CPU line cut away), and whose it is; else r as it is. Not where it adds a conflict to r's own era clues that the
    lender's do not have too."""
    clues = era_clues(r)
    own = set(era_conflicts(r, infer_era(r, clues)[0], clues))
    for a, b, other in ((before, r, before), (r, after, after)):
        if other is not None and other.kernel_release and other.host == r.host and (why := _same_boot(a, b)):
            lent = msgspec.structs.replace(r, kernel_release=other.kernel_release, kernel_build=other.kernel_build)
            theirs = era_clues(other)  # (a backport's clue that contradicts the release contradicts it in both)
            if set(era_conflicts(lent, infer_era(lent, clues)[0], clues)) <= own | set(
                    era_conflicts(other, infer_era(other, theirs)[0], theirs)):  # fmt: skip
                return lent, f"report {other.index}'s, of the same boot: {why}"
    return r, None


def _same_boot(a: OomReport, b: OomReport) -> str | None:
    """Why two reports of one file (a before b) may be of one boot of one machine, or None: a clock break between them
    (report.BOUNDARY), or a kernel-line fact that differs, or neither the same kernel line nor b on the line after a
    (explain_reports lends only where the printed score confirms it)."""
    facts = ((a.kernel_release, b.kernel_release), (a.kernel_build, b.kernel_build), (a.hardware, b.hardware))
    if a.boot != b.boot or a.host != b.host or any(x and y and x != y for x, y in facts):
        return None
    if b.first_line == a.last_line + 1:
        return f"report {b.index} begins on the line after report {a.index} ends"
    if a.kernel_release and a.kernel_release == b.kernel_release and a.kernel_build == b.kernel_build:
        return f"the same kernel line, {a.kernel_release} {a.kernel_build or ''}".rstrip() + (
            f" on {a.hardware}" if a.hardware else "")
    return None


def _lenders(r: OomReport, before: OomReport | None, after: OomReport | None) -> Iterator[tuple[OomReport, str]]:
    """The reports whose Mem-Info totals r may use (_same_boot), and why: the latest before it that has them, then
    the next one."""
    if before is not None and (why := _same_boot(before, r)):
        yield before, why
    if after is not None and after.ram_pages is not None and (why := _same_boot(r, after)):
        yield after, why


def explain_text(text: str) -> list[Explanation]:
    """Every report of a text, whole: its task table a list (for msgspec to encode at once; explain --json streams
    it, see _write_json)."""
    out = list(explain_reports(iter_reports(text.splitlines())))
    for e in out:
        e.tasks = list(e.tasks)
    return out


_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_buffer = bytearray()  # _write_json encodes a report into it: no bytes object made for each of thousands
_JSON_ROWS = 4096  # task rows encoded at a time
assert Explanation.__struct_fields__[-1] == "tasks"  # _write_json writes it last


def _write_json(out, e: Explanation) -> None:
    """One Explanation as JSON; its task table (the last key) a slice at a time, so that a dump of 100 000 rows is
    never held built or encoded whole."""
    if len(e.tasks) <= _JSON_ROWS:  # built whole (msgspec encodes a list, not a CandidateRows)
        _encoder.encode_into(msgspec.structs.replace(e, tasks=e.tasks[:]), _buffer)
        out.write(_buffer)
        return
    head = _encode(msgspec.structs.replace(e, tasks=[]))
    out.write(head[: -len(b"]}")])  # '..."tasks":[]}': the rows go between the brackets
    for k in range(0, len(e.tasks), _JSON_ROWS):
        if k:
            out.write(b",")
        out.write(memoryview(_encode(e.tasks[k : k + _JSON_ROWS]))[1:-1])  # the rows, not a copy of them
    out.write(b"]}")


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Explaining allocates a tuple for every input line and task row (cleaned lines, regex groups) and makes no
    reference cycles worth collecting as it goes: the cyclic collector's passes, one every 700 allocations, cost
    a twentieth of a 100 000-row dump's time. One every 50 000 while explain runs; the settings are put back."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def main(args: argparse.Namespace) -> int:
    kept: list[str] = []  # stdin's first lines: what it held, if no report
    with _few_collections(), input_lines(args.file, kept) as lines:
        explanations = explain_reports(iter_reports(lines))
        first = next(explanations, None)
        if first is None:
            raise no_report_error(args.file, kept if args.file == "-" else None)
        every = itertools.chain([first], explanations)
        if args.json:  # ExplainOutput, written one report at a time, as bytes (no decoded copy of a big one)
            sys.stdout.flush()
            out = sys.stdout.buffer
            out.write(b'{"file":' + _encode(args.file) + b',"reports":[')
            for i, e in enumerate(every):
                if i:
                    out.write(b",")
                _write_json(out, e)
            out.write(b'],"format_version":' + _encode(FORMAT_VERSION) + b"}\n")
            out.flush()
        else:
            from .explain_view import print_explanations  # Rich is imported only for the text view

            label = "stdin" if args.file == "-" else args.file
            print_explanations(label, every, getattr(args, "sort", "points"), getattr(args, "all", False))
    return 0
