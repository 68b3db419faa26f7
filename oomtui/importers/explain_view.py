"""The text of `oomtui explain`: what happened in a sysadmin's words first (the machine, the cause, memory, the
allocation, the memcg, what to do), then the kernel's detail (era, totalpages, the task table)."""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

from ..kernel.oom_badness import scaled_score
from ..kernel.version import KernelVersion
from ..scene.units import fmt_size
from . import analysis
from .explain import RANKING_SIZE, Candidate, Explanation, Task, by_points

SORT_COLUMNS = {"points": None, "pid": "pid", "comm": "comm", "rss": "rss", "swapents": "swapents",
                "pgtables": "pgtables_bytes", "adj": "oom_score_adj", "oom_score": "oom_score", "order": "scan_order"}


def _sorted_tasks(e: Explanation, sort: str, every: bool) -> tuple[list[Candidate], str]:
    """The rows of the task table and its title: the top RANKING_SIZE candidates, or every row (--all), by `sort`:
    points as the kernel ranks them, names and ids ascending, sizes largest first; rows without the value last."""
    if sort == "points" and not every:  # by_points, as explain ranked them
        return e.ranking, f"top {len(e.ranking)} of {e.candidates} candidates, by points"
    candidates = [c for c in e.tasks if c.points is not None]
    if sort == "points":  # the chosen one first among its equals; rows that are never chosen last
        rows = by_points(candidates, e.ranking[0]) + ([c for c in e.tasks if c.points is None] if every else [])
    else:
        key = SORT_COLUMNS[sort]
        pool = e.tasks if every else candidates
        rows = sorted((c for c in pool if getattr(c, key) is not None), key=attrgetter(key),
                      reverse=key not in ("comm", "pid", "scan_order"))  # fmt: skip
        rows += [c for c in pool if getattr(c, key) is None]
    if every:
        return rows, f"every row of the task dump, by {sort}"
    return rows[:RANKING_SIZE], f"top {min(len(rows), RANKING_SIZE)} of {e.candidates} candidates, by {sort}"


def print_explanations(file: str, explanations: Iterable[Explanation], sort: str = "points", every: bool = False) -> None:
    """The human report, in a sysadmin's words first (what happened, memory, what to do), the kernel's detail
    after. Comm names, file names and report text are user data: they are printed as rich Text (never parsed
    as markup), so a comm like "[/x]" or a file "oom[x].log" prints as it is."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..text import visible

    console = Console()

    def say(*parts: str | tuple[str, str]) -> None:
        # a report's text reaches no terminal raw: an escape sequence in a comm is shown escaped
        console.print(Text.assemble(*(visible(p) if isinstance(p, str) else (visible(p[0]), p[1]) for p in parts)),
                      highlight=False)

    for e in explanations:
        host = f"host {e.host}, " if e.host else ""  # a log of many machines: which one's
        title = visible(f"{file}: report {e.index} ({host}lines {e.lines[0]}-{e.lines[1]})")
        console.rule(Text(title, style="bold"))
        if e.platform and (line := _platform_words(e.platform)):
            say(("machine:", "bold"), f" {line}")
        if e.cause:
            say(("what happened:", "bold"), f" {e.cause.text}")
        if e.memory and (line := _memory_words(e.memory)):
            say(("memory:", "bold"), f" {line}")
        if e.allocation and (line := _allocation_words(e)):
            say(("allocation:", "bold"), f" {line}")
        if e.memcg and (line := _memcg_words(e.memcg)):
            say(("memcg:", "bold"), f" {line}")
        console.print(_verdict(e))
        for w in e.why:
            say(f"  - {w}")
        if e.advice:
            say(("what to do:", "bold"))
            for i, a in enumerate(e.advice, 1):
                say(f"  {i}. {a}")
        era = f"{e.era_range or e.era} ({e.era_source})" if e.era else e.era_source
        say(("kernel era:", "dim"), f" {era}")
        if e.trigger:
            say(("trigger:", "dim"), f" {e.trigger.comm or '?'}" + (f" ({e.trigger.pid})" if e.trigger.pid is not None else ""))
        say(("constraint:", "dim"), f" {e.constraint}; totalpages: {e.totalpages or 'unknown'} ({e.totalpages_source})")
        if e.page_size != 4096:
            say(("page size:", "dim"), f" {e.page_size // 1024} KiB ({e.page_size_source})")
        if e.ranking:
            rows, caption = _sorted_tasks(e, sort, every)
            table = Table(title=caption, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
            with_score = any(c.oom_score is not None for c in rows)
            cells = []
            for c in rows:
                marks = []
                if e.model_victim and c.pid == e.model_victim.pid:
                    marks.append("model")
                if e.kernel_selected and c.pid == e.kernel_selected.pid:
                    marks.append("kernel")
                if c.ineligible:
                    marks.append("never")  # why is in the JSON ("ineligible")
                absent = "-"  # a column this dump does not have, or no points
                row = [str(c.scan_order), str(c.pid), c.comm, str(c.rss), absent if c.swapents is None else str(c.swapents),
                       absent if c.pgtables_bytes is None else str(c.pgtables_bytes // e.page_size),
                       str(c.oom_score_adj), absent if c.points is None else str(c.points)]  # fmt: skip
                if with_score:
                    row.append(absent if c.oom_score is None else str(c.oom_score))
                if {"model", "kernel"} <= set(marks):
                    marks[:2] = ["both"]  # the kernel's and the model's choice
                row.append(", ".join(marks))
                style = "bold" if {"model", "kernel", "both"} & set(marks) else "dim" if c.ineligible else None
                cells.append(([visible(cell) for cell in row], style))
            heads = ["scan", "pid", "comm", "rss", "swap", "pgtbl", "adj", "points"] + (
                ["score"] if with_score else []) + [""]  # fmt: skip
            scan = sort == "order"  # asked for; else the column costs a narrow terminal too much
            if not scan:
                heads, cells = heads[1:], [(r[1:], style) for r, style in cells]
            for j, col in enumerate(heads):
                if col == "comm":  # a narrow terminal folds a long name; numbers and marks are never cut
                    longest = max([4] + [len(r[j]) for r, _ in cells])
                    table.add_column(col, overflow="fold", min_width=min(longest, 8))
                elif not col:
                    table.add_column(col, no_wrap=True, min_width=max([0] + [len(r[j]) for r, _ in cells]))
                else:
                    width = max([len(col)] + [len(r[j]) for r, _ in cells])
                    table.add_column(col, justify="right", no_wrap=True, min_width=width)
            for r, style in cells:
                table.add_row(*(Text(cell) for cell in r), style=style)
            console.print(table)
            legend = ("scan: position in the dump (the kernel's scan order); " if scan else "") + (
                "rss, swap (swapents), pgtbl (page tables) in pages; ")  # fmt: skip
            if e.era and scaled_score(KernelVersion.parse(e.era)):
                legend += "points = (rss + swap + pgtbl) x 1000 / totalpages + adj, 1..1000; '-': no such column"
            else:
                legend += "points = rss + swap + pgtbl + adj x totalpages/1000"
            if with_score:
                legend += "; score: /proc/PID/oom_score"
            legend += "; both: the kernel's and the model's choice"
            if every:
                legend += "; never: oom_score_adj -1000, init, or an earlier victim the reaper went through"
            say(("(" + legend + ")", "dim"))
        for n in e.notes:
            say("  ", ("note:", "dim"), f" {n}")
        for p in e.problems:
            say("  ", ("problem:", "yellow"), f" {p}")


def _kb(kb: int | None) -> str:
    return "?" if kb is None else fmt_size(kb * 1024)


def _platform_words(p: analysis.Platform) -> str:
    parts = [f"Linux {p.kernel}" if p.kernel else None, p.distribution and f"({p.distribution})",
             p.arch and f"on {p.arch}" + (f" (from the {p.arch_source})" if p.arch_source else ""),
             p.hardware and f"- {p.hardware}"]  # fmt: skip
    return " ".join(x for x in parts if x)


def _memory_words(m: analysis.Memory) -> str | None:
    if m.ram_kb is None:  # a memcg report prints no Mem-Info: the memcg line says what there is
        return None
    parts = []
    if m.ram_kb is not None:
        free = f", {_kb(m.free_kb)} free ({100 * m.free_kb / m.ram_kb:.0f} %)" if m.free_kb is not None else ""
        parts.append(f"RAM {_kb(m.ram_kb)}{free}")
    if m.swap_total_kb == 0:
        parts.append("no swap")
    elif m.swap_total_kb is not None:
        used = m.swap_used_kb if m.swap_used_kb is not None else m.swap_total_kb - (m.swap_free_kb or 0)
        parts.append(f"swap {_kb(used)} of {_kb(m.swap_total_kb)} used ({100 * used / m.swap_total_kb:.0f} %)")
    went = [f"{u.what} {_kb(u.kb)}" + (f" ({u.percent:.0f} %)" if u.percent is not None else "")
            for u in m.where if u.what != "free"][:4]  # fmt: skip
    if went:
        parts.append("held by " + ", ".join(went))
    return "; ".join(parts)


def _allocation_words(e: Explanation) -> str | None:
    a = e.allocation
    if a.order == -1:
        return "none: a manual OOM (sysrq-f) asks for no memory"
    if a.verdict and a.verdict.startswith("not an allocation"):
        return "none: " + a.verdict[len("not an allocation: ") :]
    flags = "|".join(a.gfp_flags) if a.gfp_flags else a.gfp_mask or "?"
    who = e.trigger.comm if e.trigger and e.trigger.comm else "the trigger"
    size = (f"order {a.order} ({_kb(a.size_kb)})" if a.size_kb is not None else f"order {a.order}"
            if a.order is not None else "memory of an unknown order")  # a header cut, or garbled, before it
    out = f"{who} asked for {size}, {flags}, from any zone up to {a.zone}: {a.verdict}"
    if a.last_attempt:
        out += f"; the kernel's last try: {a.last_attempt}"
    if a.fragmentation != "unknown":
        out += f"; memory {a.fragmentation}"
    elif a.order:
        out += "; fragmentation not known"
    return out


def _memcg_words(c: analysis.Memcg) -> str | None:
    if c.usage_kb is None and c.path is None:
        return None
    if c.usage_kb is None:  # no "memory: usage" line in the paste
        return f"{c.path}: usage and limit not in the report"
    limit = "no limit" if c.limit_kb is None else f"limit {_kb(c.limit_kb)}"
    out = f"{c.path or 'the OOM cgroup'}: {_kb(c.usage_kb)} used, {limit}"
    if c.failcnt:
        out += f", {c.failcnt} failed charges"
    if c.memsw_limit_kb is not None and c.memsw_usage_kb is not None:  # v1: one limit on memory and swap together
        out += (f"; memory+swap {_kb(c.memsw_usage_kb)} used of {_kb(c.memsw_limit_kb)} ({_kb(c.swap_usage_kb)} "
                "in swap)" + (f", {c.memsw_failcnt} failed charges" if c.memsw_failcnt else ""))
    elif c.swap_limit_kb == 0:
        out += "; swap disabled for this cgroup"
    elif c.swap_usage_kb is not None:
        out += f"; swap {_kb(c.swap_usage_kb)} used" + ("" if c.swap_limit_kb is None else f" of {_kb(c.swap_limit_kb)}")
    return out


def _verdict(e: Explanation):
    """The verdict line as rich Text: coloured by the outcome, the names in it never read as markup."""
    from rich.text import Text

    from ..text import visible

    def name(t: Task) -> str:
        return f"{visible(t.comm)} ({t.pid})"

    if e.panic_on_oom:
        kernel = f"The kernel killed no process: it panicked ({e.panic_on_oom} vm.panic_on_oom)"
    elif e.kernel_selected is None:
        kernel = "The report does not show the kernel's victim"
    elif e.kernel_victim and e.kernel_victim_is != "same":
        whom = {"thread": "its thread", "child": "its child"}.get(e.kernel_victim_is, "")
        kernel = f"The kernel chose {name(e.kernel_selected)} and killed {whom or 'its child or thread'} {name(e.kernel_victim)}"
    else:
        kernel = f"The kernel chose {name(e.kernel_selected)}"
    model = f"the model picks {name(e.model_victim)}" if e.model_victim else "the model could not run"
    if e.panic_on_oom and e.model_victim:
        model += " (had the kernel not panicked)"
    if not e.compared:
        return Text(f"{kernel}; {model}: not compared.", style="yellow")
    if e.agree:
        return Text(f"{kernel}; {model}: agree.", style="green")
    return Text(f"{kernel}; {model}: DISAGREE.", style="red")
