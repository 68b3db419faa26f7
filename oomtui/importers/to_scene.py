"""`oomtui import FILE -o SCENE.toml`: turn a real OOM report into a scene that replays it.

The scene rebuilds what the kernel saw when it chose its victim: the machine (RAM and swap from Mem-Info, or a
cgroup with the memcg limit), one process per task-dump row in the printed order (the kernel's scan order), with
the row's counters, and the same kind of OOM, triggered by hand at 1 s: the report shows what memory held, not
how fast it was allocated, so a manual OOM is the faithful replay. Era, page size, totalpages and the constraint
come from oomtui.importers.explain, the same reading that `oomtui explain` checks against the kernel's choice.

Sizes in the scene are in 4 KiB pages (the simulator's page); reports from 16/64 KiB-page machines are scaled.
The output depends only on the report and the file's name: the same input gives the same bytes.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import msgspec

from ..errors import UserError
from ..kernel.policy import policy_for_version
from ..kernel.version import KernelVersion
from .explain import _constraint, _pgtables_bytes, _read, find_row, infer_era, infer_page_size, total_pages
from .report import _ISO_TIME, _MONTH_DAY_TIME, OomReport, TaskRow, parse_reports
from .scene_text import STACK_PAGES, TLS_PAGES, fit_anon, toml_str

SCENE_PAGE = 4096
OOM_AT = "1s"
DURATION = "4s"
WRAP = 110


class Imported(msgspec.Struct, kw_only=True):
    """What `import_report` built: the TOML text and what the command prints about it."""

    text: str
    processes: int
    victim_pid: int | None  # the kernel's victim as a scene pid (its tgid)
    victim_comm: str | None
    cgroup: str | None  # the memcg of a memcg OOM
    notes: list[str] = []  # also written into the TOML as comments


# --- TOML text ----------------------------------------------------------------------------------


def _comment_safe(s: str) -> str:
    """Text for a `#` comment: one line, no control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in s)


def _multiline(text: str) -> str:
    """A wrapped TOML multi-line basic string."""
    body = toml_str(text)[1:-1]  # every quote is escaped, so no '"""' can occur
    lines = textwrap.wrap(body, WRAP, break_long_words=False, break_on_hyphens=False)
    # a line must not end inside an escape: wrap only breaks at spaces, and escapes hold none
    return '"""\n' + "\n".join(lines) + '\n"""'


def size(pages: int) -> str:
    """Scene pages as an exact size string: GiB or MiB when they divide evenly, else KiB."""
    kib = pages * (SCENE_PAGE // 1024)
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
    if m := re.search(rf"{_ISO_TIME}|{_MONTH_DAY_TIME}", raw):
        return m[0]
    return None


class _Proc(msgspec.Struct, kw_only=True):
    row: TaskRow
    pid: int
    anon: int  # pages of the report's page size
    file: int
    shmem: int
    swap: int
    pgtables_bytes: int
    parent: int | None = None


def _split(row: TaskRow, r: OomReport, page_kb: int) -> tuple[int, int, int]:
    """(anon, file, shmem) pages of one row: the 6.8+ columns; for the victim of an older dump the proportions
    of its Killed line (kB at kill time), keeping the row's rss; else all anon."""
    if row.rss_anon is not None:
        return row.rss_anon, row.rss_file or 0, row.rss_shmem or 0
    k = r.killed
    if k is not None and k.anon_rss_kb is not None and row is find_row(r, k.pid):
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
        raise UserError(
            f"{file_label}: no OOM report found (looked for 'invoked oom-killer', 'Kill process', 'Killed process')"
        )
    if not 1 <= index <= len(reports):
        n = len(reports)
        raise UserError(
            f"{file_label}: no report {index}: the file has {n} OOM report{'s' if n != 1 else ''} "
            f"(--report 1{f'..{n}' if n > 1 else ''})"
        )
    r = reports[index - 1]
    where = f"{file_label}: report {index} (lines {r.first_line}-{r.last_line})"
    if r.task_columns is None:
        raise UserError(
            f"{where}: cannot build a scene: the report has no task dump (vm.oom_dump_tasks=0, or the dump was "
            "cut off), so the processes the kernel chose from are unknown"
        )
    if not r.tasks:
        raise UserError(f"{where}: cannot build a scene: the task dump has a header but no rows it could read")
    return _build(r, text, file_label, index, len(reports))


def _build(r: OomReport, text: str, file_label: str, index: int, count: int) -> Imported:
    notes: list[str] = []
    version, era_source = infer_era(r)
    page_bytes, page_source = infer_page_size(r)
    page_kb = page_bytes // 1024
    scale = max(1, page_bytes // SCENE_PAGE)  # report pages -> scene pages
    constraint, _ = _constraint(r)
    memcg = constraint == "CONSTRAINT_MEMCG"
    if page_bytes != SCENE_PAGE:
        notes.append(f"page size {page_kb} KiB ({page_source}): page counts are scaled to 4 KiB pages")

    # processes, one per row in printed order; a row's first column may be a thread: the pid is its tgid
    procs: list[_Proc] = []
    seen: set[int] = set()
    dupes = 0
    notes += [f"the parser: {p}" for p in r.problems]
    for row in r.tasks:
        if row.tgid in seen:
            dupes += 1
            continue
        seen.add(row.tgid)
        anon, file, shmem = _split(row, r, page_kb)
        procs.append(_Proc(row=row, pid=row.tgid, anon=anon, file=file, shmem=shmem, swap=row.swapents or 0,
                           pgtables_bytes=_pgtables_bytes(row, page_bytes)))  # fmt: skip
    if dupes:
        notes.append(f"{dupes} task-dump row(s) repeat a pid already listed: only the first row of each pid is kept")
    if r.tasks[0].swapents is None:
        notes.append("this dump has no swapents or page-table columns (2.6.3x/3.x format): swap and pgtables are 0")
    by_pid = {p.pid: p for p in procs}

    # the kernel's victim (and, before 5.1, the process it selected before sacrificing a child)
    killed = r.victim()  # the verdict, else the oom-kill: or reaper line
    killed_row = find_row(r, killed[0]) if killed else None
    selected_row = find_row(r, r.selected.pid) if r.selected else None
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

    # scene pages of every process: the builder adds a 64 KiB stack and a 16 KiB TLS block (anon) to each
    lines_proc: list[list[str]] = []
    used = 0  # scene pages of RAM the processes take (anon incl. stack/TLS, shmem objects, page tables)
    shm_blocks: list[list[str]] = []
    cg = _memcg_path(r) if memcg else None
    charged = 0  # pages charged to the memcg (anon + shmem)
    for p in procs:
        row = p.row
        anon, file, shmem = p.anon * scale, p.file * scale, p.shmem * scale
        swap = p.swap * scale
        pgt_pages = -(-p.pgtables_bytes // SCENE_PAGE)
        heap, (stack,), file, shmem = fit_anon(anon, file, shmem)  # a tiny process shrinks its stack
        block = [f"# dump line {row.line}: [{row.pid}] {_comment_safe(_row_text(row))}"]
        block.append("[[processes]]")
        block.append(f"pid = {p.pid}")
        block.append(f"comm = {toml_str(row.comm)}")
        if p.pid == 1:
            block.append("init = true")
        if row.uid:
            block.append(f"uid = {row.uid}")
        if p.parent is not None:
            block.append(f"parent = {p.parent}")
        if cg:
            block.append(f"cgroup = {toml_str(cg)}")
        if row.oom_score_adj:
            block.append(f"oom_score_adj = {max(-1000, min(1000, row.oom_score_adj))}")
        if heap:
            block.append(f"rss = {size(heap)}")
        if file:
            block.append(f"file_rss = {size(file)}")
        if swap:
            block.append(f"swap = {size(swap)}")
        block.append(f"pgtables = {size(pgt_pages)}")
        if stack != STACK_PAGES:
            block += ["  [[processes.threads]]", f"  tid = {p.pid}", f"  stack_rss = {size(stack)}"]
        if shmem:
            name = f"shmem-{p.pid}"
            shm_blocks.append(["[[shm]]", f"name = {toml_str(name)}", f"size = {size(shmem)}"]
                              + ([f"cgroup = {toml_str(cg)}"] if cg else []))  # fmt: skip
            block += ["  [[processes.vmas]]", '  kind = "shmem"', f"  size = {size(shmem)}", f"  shm = {toml_str(name)}"]
        lines_proc.append(block)
        used += heap + stack + TLS_PAGES + shmem + pgt_pages
        charged += heap + stack + TLS_PAGES + shmem

    # the machine
    swap_pages = (r.total_swap_kb or 0) * 1024 // SCENE_PAGE
    machine_comments: list[str] = []
    cgroups: list[list[str]] = []
    gib = 1024**3 // SCENE_PAGE
    roomy = -(-(used + used // 4) // gib) * gib  # the listed RSS plus 25 %, rounded up to a GiB
    if memcg:
        if r.memory is not None:
            limit = r.memory.limit_kb * 1024 // SCENE_PAGE
        else:  # a paste without the memcg lines: the limit is a guess, and the replay may choose otherwise
            limit = roomy
            notes.append("the report has no 'memory: usage ..., limit ...' line: the memcg limit is the listed RSS "
                         "plus 25 %, rounded up to a GiB; the kernel's limit is unknown")
        if r.ram_pages is not None:
            ram = (r.ram_pages - (r.reserved_pages or 0)) * scale
        else:
            ram = 0
        need = max(limit, used)
        if ram < need:
            ram = -(-(need + need // 4) // gib) * gib
            machine_comments.append(
                "# ram: a memcg report does not print the machine's memory; this is the memcg limit or the listed RSS, "
                "whichever is larger, plus 25 %, rounded up to a GiB"
            )
        parts = cg.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            path = "/" + "/".join(parts[:i])
            block = ["[[cgroups]]", f"path = {toml_str(path)}"]
            if path == cg:
                block.append(f"memory_max = {size(limit)}")
                if r.oom_group_memcg:
                    block.append("oom_group = true")
            cgroups.append(block)
        if r.memory and r.memsw is not None and r.memsw.limit_kb > r.memory.limit_kb or r.swap is not None and r.swap.limit_kb:
            notes.append("the memcg may also use swap; the scene's cgroup models only the memory limit")
        if charged > limit:
            notes.append(
                f"the listed RSS ({size(charged)[1:-1]}) is more than the memcg limit: the dump's rss counts shared "
                "and file pages too; the replay does not check the limit until something allocates"
            )
    else:
        if r.ram_pages is None:  # a paste without Mem-Info: the machine's size is a guess
            ram = roomy
            machine_comments.append("# ram: the report has no 'pages RAM' line; this is the listed RSS plus 25 %, "
                                    "rounded up to a GiB")
            notes.append("the report has no Mem-Info totals: RAM is a guess (the listed RSS plus 25 %), so the "
                         "kernel's totalpages and the weight of oom_score_adj are not the kernel's")
        else:
            ram = (r.ram_pages - (r.reserved_pages or 0)) * scale
            machine_comments.append(
                f"# ram: {r.ram_pages} pages RAM - {r.reserved_pages or 0} reserved (totalram_pages()); "
                f"swap: Total swap = {r.total_swap_kb or 0} kB"
            )
        if used > ram:
            deficit = used - ram
            ram += deficit
            moved = min(deficit, swap_pages)
            swap_pages -= moved
            machine_comments.append(
                f"# ram raised by {size(deficit)[1:-1]} to hold the listed RSS (the dump's rss counts shared pages "
                "once per process)" + (f"; swap lowered by {size(moved)[1:-1]} to keep totalpages = ram + swap as "
                                        "the kernel had it" if moved else "")
            )
            if moved < deficit:
                notes.append("RAM had to be raised beyond the report's RAM + swap: totalpages differs from the kernel's")

    tp, tp_source = total_pages(r, constraint, page_kb)

    # words
    era = str(version) if version else None
    policy = policy_for_version(version) if version else "linux-6.18"
    release = f"Linux {r.kernel_release}" if r.kernel_release else (f"a {era}-era kernel" if era else "an unknown kernel")
    trigger = _trigger_words(r)
    when = report_time(text.splitlines(), r)
    kind = f"memcg OOM in {r.oom_memcg or cg}" if memcg else ("manual OOM (sysrq-f)" if r.order == -1 else "global OOM")
    name = Path(file_label).name if file_label != "<stdin>" else file_label
    if victim:
        victim_words = f"{victim.row.comm} ({victim.pid})"
    elif r.no_killable:
        victim_words = "nobody: it found no killable process"
    elif killed:
        victim_words = f"{killed[1]} ({killed[0]}), which is not in the task dump"
    else:
        victim_words = "an unknown process: the report ends before the 'Killed process' line"
    title = f"{victim.row.comm if victim else 'nobody'} killed: {kind} on {release}"
    story = [
        f"Imported from {name} (report {index} of {count}, lines {r.first_line}-{r.last_line}): a {kind} on "
        f"{release}{f', printed {when}' if when else ''}. {trigger}. The kernel killed {victim_words}."
    ]
    if r.selected and victim and selected_row and selected_row.tgid != victim.pid:
        story.append(f"It had selected {r.selected.comm} ({r.selected.pid}) and sacrificed this child instead.")
    story.append(
        f"The scene holds the {len(procs)} processes of the task dump, in its order (the kernel's scan order), "
        "with their rss, swap entries, page tables and oom_score_adj; kernel threads are never in the dump. "
        f"Since the report shows what memory held but not how fast it was allocated, the OOM is triggered by hand at "
        f"{OOM_AT.replace('s', ' s')}" + (f" in {cg}" if memcg else "") + "."
    )
    if version is None:
        story.append("The report shows no kernel version: the scene uses the linux-6.18 rules.")
    else:
        story.append(f"Kernel era {era} ({era_source}): policy {policy}.")
        if not version.has_oom_reaper:
            story.append(
                "Kernels before 4.6 have no OOM reaper: the scene still uses linux-4.6, the oldest policy, so an "
                f"oom_reaper step in the replay did not happen on the {era} kernel, where only the victim's own exit "
                "freed its memory."
            )
    caption = f"{kind}: {trigger}" + (f", {when}" if when else "") + f"; the kernel killed {victim_words}"

    out: list[str] = []
    out.append(f"# imported by oomtui import from {_comment_safe(name)}, report {index} of {count}")
    out.append(f"# lines {r.first_line}-{r.last_line}; totalpages {tp} ({_comment_safe(tp_source)}) in "
               f"{page_kb} KiB pages")  # fmt: skip
    out.append("# rss = the row's anon pages minus the 64 KiB stack and 16 KiB TLS every scene process gets")
    for n in notes:
        out.append(f"# note: {_comment_safe(n)}")
    out.append(f"title = {toml_str(title)}")
    out.append(f"story = {_multiline(' '.join(story))}")
    out.append(f"source = {toml_str(f'{name}, report {index} of {count}, lines {r.first_line}-{r.last_line}')}")
    out += machine_comments
    out.append(f"ram = {size(ram)}")
    if swap_pages:
        out.append(f"swap = {size(swap_pages)}")
    out.append("hz = 250")
    out.append(f"policy = {toml_str(policy)}")
    if era:
        out.append(f"kernel = {toml_str(era)}")
    out.append(f"duration = {toml_str(DURATION)}")
    for block in cgroups + shm_blocks + lines_proc:
        out.append("")
        out += block
    out += ["", "[[actions]]", f"at = {toml_str(OOM_AT)}", 'do = "oom"']
    if memcg:
        out.append(f"cgroup = {toml_str(cg)}")
    out.append(f"caption = {toml_str(caption)}")
    return Imported(
        text="\n".join(out) + "\n", processes=len(procs), victim_pid=victim.pid if victim else None,
        victim_comm=victim.row.comm if victim else None, cgroup=cg, notes=notes,
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
    if r.order == -1:
        who = f"{r.trigger_comm} ({r.trigger_pid})" if r.trigger_pid else (r.trigger_comm or "a kworker")
        return f"sysrq-f: {who} ran the OOM killer by hand (order=-1)"
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
    imported = import_report(_read(args.file), label, args.report)
    out = Path(args.output)
    replay = replay_victim(imported.text, str(out))  # validates the scene before anything is written
    if out.is_dir():
        raise UserError(f"{out}: is a directory, expected a file name for the scene (.toml)")
    victim = f"victim {imported.victim_pid} ({imported.victim_comm})" if imported.victim_pid else "victim unknown"
    if args.output == "-":  # -o -: the scene on stdout, what it is on stderr
        from ..cli import write_output

        write_output("-", imported.text)
        print(f"wrote the scene to stdout: {imported.processes} processes, {victim}", file=sys.stderr)
    else:
        try:
            with open(out, "w", encoding="utf-8", newline="\n") as f:
                f.write(imported.text)
        except OSError as e:
            raise UserError(f"{out}: cannot write the scene: {e.strerror or e}") from None
        print(f"wrote {out}: {imported.processes} processes, {victim}; try: oomtui play {out}")
    for n in imported.notes:
        if n.startswith("the parser: "):
            print(f"oomtui: warning: {n[len('the parser: '):]}", file=sys.stderr)
    if imported.victim_pid is not None and (replay is None or replay[0] != imported.victim_pid):
        got = f"{replay[1]} ({replay[0]})" if replay else "nobody"
        print(f"oomtui: warning: the replay kills {got}, the kernel killed {victim[7:]}", file=sys.stderr)
    return 0
