"""`oomtui snapshot`: this machine's processes as the OOM killer sees them, read from /proc.

Without options it writes a scene (TOML, stdout or `-o FILE`) of this machine: RAM and swap from
/proc/meminfo; every process that has an mm (kernel threads and zombies are left out) with its
threads, RssAnon/RssFile/RssShmem/VmSwap/VmPTE, oom_score_adj, uid and memory cgroup, on the
hierarchy the memory controller is on (v1's own, or v2's unified one), with the memcgs' limits (v1
memory.limit_in_bytes and memory.memsw.limit_in_bytes, v2 memory.max and memory.swap.max); and a
sysrq-f at 1 s, so `oomtui run` shows whom the model's OOM killer would pick. Parents come before
their children.
The scene builder gives every thread a 64 KiB stack and the leader a 16 KiB TLS block; they are
taken out of RssAnon (scene_text.fit_anon), so the model's anon counter equals /proc's.

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
import socket
import sys
import time
from pathlib import Path

import msgspec

from ..errors import UserError
from ..kernel.oom_badness import oom_badness, proc_oom_score
from ..kernel.policy import kernel_of_release, policy_for_release
from ..kernel.version import KernelVersion
from ..output import dumps
from .scene_text import SCHEMA_DIRECTIVE, STACK_PAGES, TLS_PAGES, AnonFit, fit_anon, toml_str, write_schema_beside

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
    uid: int = 0  # real uid (the first of /proc/PID/status Uid:), what the OOM report prints


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


def read_proc_file(path: str) -> str | None:
    """A /proc (or cgroup) file's text, None if the process went away (or hides it) meanwhile.
    One open and one read(): `oomtui watch` reads thousands of these a second."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, ProcessLookupError, PermissionError, NotADirectoryError):
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")  # a comm may hold any bytes
    except OSError as e:  # ESRCH from a task that exited mid-read
        if e.errno == errno.ESRCH:
            return None
        raise
    finally:
        os.close(fd)


def read_status(pid: int) -> dict[str, str] | None:
    """/proc/PID/status as a dict, None if the process is gone."""
    text = read_proc_file(f"/proc/{pid}/status")
    if text is None:
        return None
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def status_kb(status: dict[str, str], key: str) -> int:
    """A `NNN kB` field of /proc/PID/status; 0 when absent (no mm)."""
    return int(status.get(key, "0 kB").split()[0])


def counters_of(status: dict[str, str]) -> Counters | None:
    if "RssAnon" not in status:  # no mm: kernel thread or zombie
        return None
    kb = [status_kb(status, k) for k in ("RssAnon", "RssFile", "RssShmem", "VmSwap", "VmPTE")]
    return Counters(*kb)


def read_process(pid: int) -> ProcInfo | None:
    """One process, or None if it vanished while being read."""
    stat = read_proc_file(f"/proc/{pid}/stat")
    status = read_status(pid)
    adj = read_proc_file(f"/proc/{pid}/oom_score_adj")
    cgroup = read_proc_file(f"/proc/{pid}/cgroup")
    score = read_proc_file(f"/proc/{pid}/oom_score")
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
        counters=counters_of(status),
        counters_after=counters_of(status_after),
        uid=int(status.get("Uid", "0").split()[0]),
    )


def read_processes() -> list[ProcInfo]:
    procs = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (p := read_process(int(entry))) is not None:
            procs.append(p)
    return sorted(procs, key=lambda p: p.pid)


def read_meminfo() -> dict[str, int]:
    """/proc/meminfo as {field: kB}."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info[key] = int(value.split()[0])
    return info


def read_totals() -> Totals:
    info = read_meminfo()
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
        if args.json:
            raise UserError("--json goes with --check-scores; a snapshot is a scene file (TOML)")
        text = take_snapshot().text
        if args.output:
            try:
                Path(args.output).write_text(text, encoding="utf-8")
            except OSError as e:
                raise UserError(f"{args.output}: cannot write: {e.strerror or e}") from None
            schema_note = write_schema_beside(Path(args.output))
            print(f"wrote {args.output}: `oomtui run {args.output}` replays a sysrq-f on it", file=sys.stderr)
            if schema_note:
                print(schema_note, file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    version = KernelVersion.parse(os.uname().release)
    totals = read_totals()
    result = check_scores(read_processes(), totals, version)
    if args.json:
        print(dumps(result))
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



# --- a scene of this machine ----------------------------------------------------------------------
UNLIMITED = 1 << 62  # no limit: an unlimited v1 memcg's memory.limit_in_bytes is PAGE_COUNTER_MAX pages, >= 2^62;
# v2's memory.max and memory.swap.max say "max"


class SceneProcess(msgspec.Struct):
    info: ProcInfo
    tids: list[int]  # leader first
    memcg: str  # its memory cgroup's path (v1 memory hierarchy or v2), "/" for the root


class Snapshot(msgspec.Struct):
    text: str  # the scene, TOML
    processes: list[SceneProcess]  # in scene order (parents first)
    cgroups: dict[str, int | None]  # declared memcg path -> limit in bytes (None: unlimited)


def _size(kb: int) -> str:
    if kb and kb % 1024 == 0:
        return f'"{kb // 1024} MiB"'
    return f'"{kb} KiB"'


def _bytes(n: int) -> str:
    return _size(n // 1024) if n % 1024 == 0 else str(n)


def _fit(sp: SceneProcess) -> AnonFit:
    """The process's RssAnon/RssFile/RssShmem as scene pages (4 KiB), with RssAnon split so that the
    builder's stacks and TLS block are part of it, not added on top: the model's counters equal /proc's."""
    c = sp.info.counters
    assert c is not None
    return fit_anon(c.rss_anon_kb // 4, c.rss_file_kb // 4, c.rss_shmem_kb // 4, len(sp.tids))


def _anon_kb(fit: AnonFit) -> int:
    return (fit.heap + sum(fit.stacks) + TLS_PAGES) * 4


def _thread(tid: int, stack_pages: int) -> str:
    return f"{{ tid = {tid} }}" if stack_pages == STACK_PAGES else f"{{ tid = {tid}, stack_rss = {_size(stack_pages * 4)} }}"


class Mounts(msgspec.Struct):
    """Where the hierarchies are mounted (absolute paths on the machine; watch's Reader puts its root before them)."""

    memory_v1: str | None = None
    freezer_v1: str | None = None
    cgroup2: str | None = None


def parse_mounts(text: str) -> Mounts:
    """/proc/self/mountinfo: "... MOUNTPOINT ... - FSTYPE SOURCE OPTIONS"."""
    m = Mounts()
    for line in text.splitlines():
        pre, _, post = line.partition(" - ")
        fields, opts = pre.split(), post.split()
        if len(fields) < 5 or len(opts) < 3:
            continue
        where = fields[4].replace("\\040", " ")
        if opts[0] == "cgroup2" and m.cgroup2 is None:
            m.cgroup2 = where
        elif opts[0] == "cgroup":
            ctl = opts[2].split(",")
            if "memory" in ctl and m.memory_v1 is None:
                m.memory_v1 = where
            if "freezer" in ctl and m.freezer_v1 is None:
                m.freezer_v1 = where
    return m


class MemoryHierarchy(msgspec.Struct, frozen=True):
    """The hierarchy the memory controller is on: v1's own (memory.limit_in_bytes, memory.memsw.limit_in_bytes)
    or v2's unified one (memory.max, memory.swap.max)."""

    mount: Path
    v2: bool


def memory_hierarchy(mountinfo: str | None = None) -> MemoryHierarchy | None:
    """The memory controller's hierarchy from /proc/self/mountinfo (or the text given), None if it is mounted
    nowhere. A controller is on one hierarchy at a time: a hybrid machine mounts v1's memory beside a unified
    hierarchy (often /sys/fs/cgroup/unified) whose cgroup.controllers then does not list it."""
    if mountinfo is None:
        mountinfo = read_proc_file("/proc/self/mountinfo") or ""
    m = parse_mounts(mountinfo)
    if m.memory_v1 is not None:
        return MemoryHierarchy(Path(m.memory_v1), v2=False)
    if m.cgroup2 is not None:
        h = MemoryHierarchy(Path(m.cgroup2), v2=True)
        if "memory" in (read_cgroup_file(h, "/", "cgroup.controllers") or "").split():
            return h
    return None


def read_cgroup_file(h: MemoryHierarchy, path: str, name: str) -> str | None:
    """The file `name` of cgroup `path`, None where it (or the cgroup) is absent or is none of this mount's: a
    "." or ".." in the path (a cgroup outside this cgroup namespace reads "/../x"). Opened one directory at a
    time below the mount, following no symbolic link (cgroupfs has none); what cannot be read is a UserError."""
    parts = [part for part in path.split("/") if part]
    if "." in parts or ".." in parts:
        return None
    where, fds = h.mount, []
    try:
        fds.append(os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        for part in parts:
            where = where / part
            fds.append(os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fds[-1]))
        where = where / name
        fds.append(os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fds[-1]))
        chunks = []
        while chunk := os.read(fds[-1], 65536):
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV):  # ENODEV: a cgroup removed while it was read
            return None
        why = "a symbolic link, not followed" if os.path.islink(where) else e.strerror or str(e)
        raise UserError(f"{where}: cannot read: {why}") from None
    finally:
        for fd in fds:
            os.close(fd)


def cgroup_path(lines: list[str], controller: str | None) -> str | None:
    """The path of one hierarchy in /proc/PID/cgroup lines "ID:CONTROLLERS:PATH": a v1 controller's line, or
    (None) v2's "0::" line; None without that line."""
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if (controller is None and parts[0] == "0" and parts[1] == "") or \
                (controller is not None and controller in parts[1].split(",")):
            return parts[2].rstrip("/") or "/"
    return None


def memcg_of(cgroup_lines: list[str], v2: bool = False) -> str:
    """The memory controller's path among /proc/PID/cgroup lines: the v1 memory line, or on v2 the "0::" line."""
    path = cgroup_path(cgroup_lines, None if v2 else "memory") or "/"
    return path if path.startswith("/") else "/"


def effective_memcg(h: MemoryHierarchy, path: str) -> str:
    """The memcg of a process in cgroup `path` of the memory controller's hierarchy. On v2 a cgroup whose parent
    does not enable +memory in cgroup.subtree_control (its own cgroup.controllers lacks it) has no memory css:
    its processes' css_set holds the nearest ancestor's that has one (cgroup_e_css_by_mask()). A cgroup whose
    cgroup.controllers is absent (gone meanwhile) stays as /proc/PID/cgroup named it."""
    while h.v2 and path != "/":
        controllers = read_cgroup_file(h, path, "cgroup.controllers")
        if controllers is None or "memory" in controllers.split():
            break
        path = path.rsplit("/", 1)[0] or "/"
    return path


def _memcg_number(h: MemoryHierarchy | None, path: str, name: str) -> int | None:
    """The number in a memcg's file `name` (v2's "max": UNLIMITED); None where it is absent. Anything else
    is a UserError naming the file."""
    if h is None or (text := read_cgroup_file(h, path, name)) is None:
        return None
    number = text.strip()
    if h.v2 and number == "max":
        return UNLIMITED
    if not (number.isascii() and number.isdigit()):  # the kernel prints digits alone: not "+1", "1_000"
        expected = 'a number of bytes or "max"' if h.v2 else "a number of bytes"
        raise UserError(f"{h.mount / path.lstrip('/') / name}: expected {expected}, got {text[:40]!r}")
    return int(number)


def memcg_limit(h: MemoryHierarchy | None, path: str) -> int | None:
    """A memcg's memory limit (v1 memory.limit_in_bytes, v2 memory.max); None when unlimited or absent."""
    limit = _memcg_number(h, path, "memory.max" if h is not None and h.v2 else "memory.limit_in_bytes")
    return None if limit is None or limit >= UNLIMITED else limit


def memcg_swap_limit(h: MemoryHierarchy | None, path: str) -> int | None:
    """A memcg's swap limit (UNLIMITED or more: none): v1 memory.memsw.limit_in_bytes, memory and swap
    together; v2 memory.swap.max, swap alone. None where the file is absent (swap not accounted)."""
    return _memcg_number(h, path, "memory.swap.max" if h is not None and h.v2 else "memory.memsw.limit_in_bytes")


def _tids(pid: int) -> list[int] | None:
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if t.isdigit())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if pid in tids:
        tids.remove(pid)
    return [pid, *tids]


def parents_first(procs: list[ProcInfo]) -> list[ProcInfo]:
    """Sorted by pid, except that a parent in the list always comes before its children."""
    by_pid = {p.pid: p for p in procs}
    out: list[ProcInfo] = []
    placed: set[int] = set()
    for p in sorted(procs, key=lambda p: p.pid):
        chain = []
        q: ProcInfo | None = p
        while q is not None and q.pid not in placed and q not in chain:
            chain.append(q)
            q = by_pid.get(q.ppid)
        for q in reversed(chain):
            placed.add(q.pid)
            out.append(q)
    return out


def take_snapshot(procs: list[ProcInfo] | None = None, mountinfo: str | None = None) -> Snapshot:
    """This machine as a scene (see the module docstring). `procs` defaults to a fresh read, `mountinfo` (where
    the cgroup hierarchies are) to /proc/self/mountinfo."""
    if procs is None:
        procs = read_processes()
    meminfo = read_meminfo()
    h = memory_hierarchy(mountinfo)
    v2 = h is not None and h.v2
    memcgs: dict[str, str] = {}  # a cgroup path -> its memcg (effective_memcg), read once
    chosen = []
    for p in procs:
        if p.kthread or p.counters is None:
            continue
        tids = _tids(p.pid)
        if tids is None:  # gone meanwhile
            continue
        path = memcg_of(p.cgroups, v2)
        if path not in memcgs:
            memcgs[path] = effective_memcg(h, path) if h is not None else path
        chosen.append(SceneProcess(p, tids, memcgs[path]))
    by_pid = {sp.info.pid: sp for sp in chosen}
    ordered = [by_pid[p.pid] for p in parents_first([sp.info for sp in chosen])]

    paths: set[str] = set()
    for sp in ordered:
        path = sp.memcg
        while path != "/":
            paths.add(path)
            path = path.rsplit("/", 1)[0] or "/"
    cgroups = {path: memcg_limit(h, path) for path in sorted(paths, key=lambda c: c.split("/"))}

    host = socket.gethostname()
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    release = os.uname().release
    fits = {sp.info.pid: _fit(sp) for sp in ordered}
    modelled_kb = sum(_anon_kb(fits[sp.info.pid]) + fits[sp.info.pid].shmem * 4 + sp.info.counters.pgtables_kb
                      for sp in ordered if sp.info.counters)
    used_kb = meminfo["MemTotal"] - meminfo.get("MemAvailable", meminfo.get("MemFree", 0))
    lines = [
        SCHEMA_DIRECTIVE,
        f"title = {toml_str(f'Snapshot of {host} at {when}')}",
        'story = """',
        f"The processes of {host} (Linux {release}) as /proc showed them at {when}: "
        f"{len(ordered)} processes with an mm (kernel threads left out), their RSS, swap, page tables, "
        "oom_score_adj and memory cgroups. At 1 s a sysrq-f runs the OOM killer: whom would it pick?",
        '"""',
        f"source = {toml_str(f'oomtui snapshot on {host}, Linux {release}, {when}')}",
        f"ram = {_size(meminfo['MemTotal'])}",
        f"swap = {_size(meminfo.get('SwapTotal', 0))}",
        f"reserved = {_size(max(0, used_kb - modelled_kb))}  # in use but not in any process below",
        f'policy = "{policy_for_release(release)}"',
        f'kernel = "{kernel_of_release(release)}"',
        'duration = "3s"',
    ]
    if cgroups:
        lines.insert(-1, 'memcg = "v2"  # the limits below are the unified (v2) hierarchy\'s' if v2 else
                     'memcg = "v1"  # the limits below are the v1 memory hierarchy\'s')
    for path, limit in cgroups.items():
        lines += ["", "[[cgroups]]", f"path = {toml_str(path)}"]
        if limit is not None:
            lines.append(f"memory_max = {_bytes(limit)}")
            # the swap a memcg OOM's totalpages adds (mem_cgroup_get_max()): v1 the memory+swap limit less the
            # memory limit, v2 swap.max; the scene's defaults are none (memsw_max = memory_max, swap_max = 0)
            swap = memcg_swap_limit(h, path)
            if swap is not None and swap > (0 if v2 else limit):
                lines.append(f"{'swap_max' if v2 else 'memsw_max'} = "
                             f"{_bytes(swap) if swap < UNLIMITED else toml_str('max')}")
    for sp in (sp for sp in ordered if fits[sp.info.pid].shmem):
        lines += ["", "[[shm]]", f'name = "shmem-{sp.info.pid}"', f"size = {_size(fits[sp.info.pid].shmem * 4)}"]
        if sp.memcg != "/":
            lines.append(f"cgroup = {toml_str(sp.memcg)}")
    for sp in ordered:
        p, c = sp.info, sp.info.counters
        assert c is not None
        lines += ["", "[[processes]]", f"pid = {p.pid}", f"comm = {toml_str(p.comm)}"]
        if sp.memcg != "/":
            lines.append(f"cgroup = {toml_str(sp.memcg)}")
        if p.ppid in by_pid:
            lines.append(f"parent = {p.ppid}")
        if p.pid == 1:
            lines.append("init = true")
        if p.oom_score_adj:
            lines.append(f"oom_score_adj = {p.oom_score_adj}")
        if p.uid:
            lines.append(f"uid = {p.uid}")
        fit = fits[p.pid]
        lines += [f"rss = {_size(fit.heap * 4)}", f"file_rss = {_size(fit.file * 4)}"]
        if c.swap_kb:
            lines.append(f"swap = {_size(c.swap_kb)}")
        lines.append(f"pgtables = {_size(c.pgtables_kb)}")
        if len(sp.tids) > 1 or fit.stacks != [STACK_PAGES]:
            lines.append("threads = [" + ", ".join(_thread(t, rss) for t, rss in zip(sp.tids, fit.stacks)) + "]")
        if fit.shmem:
            lines.append(f'vmas = [{{ kind = "shmem", size = {_size(fit.shmem * 4)}, shm = "shmem-{p.pid}" }}]')
    lines += [
        "",
        "[[actions]]",
        'at = "1s"',
        'do = "oom"',
        f"caption = {toml_str(f'sysrq-f on a snapshot of {host}')}",
        "",
    ]
    return Snapshot("\n".join(lines), ordered, cgroups)
