"""This machine as the OOM killer sees it, read from /proc and the cgroup file systems, read-only.

One `Reader.read()` is one look: every process with an mm (RssAnon/RssFile/RssShmem, VmSwap, VmPTE
from /proc/PID/status, oom_score_adj, the kernel's own /proc/PID/oom_score, its memory and freezer
cgroups), every memory cgroup on the way to them (v1 memory.limit_in_bytes/usage_in_bytes/failcnt,
v2 memory.max/current/events/pressure), the freezer state of their groups (v1 freezer.state, v2
cgroup.events "frozen"), and PSI from /proc/pressure/memory.

Nothing here writes anywhere. Every path is under `root` (the tests build a fake /proc and
/sys/fs/cgroup in a directory). A process that exits while it is read is left out, as the kernel
would by then; what cannot be read for lack of privilege is counted and said (`Reading.cannot`).

Each interval reads three small files of every process: statm, oom_score_adj and oom_score, and who is in
which cgroup from the groups' cgroup.procs (Reader.members; /proc/PID/cgroup where that cannot tell), so
that every number the model weighs is the kernel's of that moment; status (Name, PPid, Uid, Threads,
the Rss split, VmSwap, VmPTE) only where one of them changed, and on every full read (Reader.read_proc).
The files stay open between intervals (ProcFiles): a pread() at offset 0 makes the kernel show the file
anew, a third of the cost of open+read+close. /proc/PID/stat is not needed; a task without an mm
(kernel thread, zombie) has no RssAnon line in status, so it is left out like select_bad_process()
leaves it (find_lock_task_mm() NULL).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import sys
import time
from pathlib import Path

import msgspec

from ..importers.snapshot import (UNLIMITED, Counters, Totals, cgroup_path, counters_of, memcg_of, parse_mounts,
                                  read_proc_file)


class Proc(msgspec.Struct):
    pid: int
    comm: str
    ppid: int
    uid: int
    state: str  # the State: letter (R, S, D, T, Z...)
    threads: int
    counters: Counters
    oom_score_adj: int
    oom_score: int | None  # the kernel's /proc/PID/oom_score; None: unreadable
    memcg: str  # the memory controller's cgroup, "/" for the root
    freezer: str | None  # the v1 freezer cgroup, None without a v1 freezer hierarchy
    cgroup2: str | None  # the unified (v2) cgroup, None without one


class Psi(msgspec.Struct):
    """A pressure file (/proc/pressure/memory, memory.pressure): the share of wall time in which
    some / all non-idle tasks stalled on memory, averaged over 10 s and 60 s, in percent."""

    some_avg10: float
    some_avg60: float
    full_avg10: float
    full_avg60: float
    some_total_us: int
    full_total_us: int


class Memcg(msgspec.Struct):
    path: str
    v1: bool
    limit: int | None  # bytes; None: unlimited (or unreadable)
    usage: int | None  # bytes
    failcnt: int | None = None  # v1: times the limit was hit
    oom_kills: int | None = None  # v1 memory.oom_control oom_kill, v2 memory.events oom_kill
    ooms: int | None = None  # v2 memory.events oom: times the OOM killer was invoked here
    memsw_limit: int | None = None  # v1 memory.memsw.limit_in_bytes (swap accounted), bytes
    swap_max: int | None = None  # v2 memory.swap.max, bytes
    swappiness: int | None = None  # v1 memory.swappiness (v2 has none per group)
    pressure: Psi | None = None  # v2 memory.pressure


class Reading(msgspec.Struct):
    at: float  # time.monotonic() when the read started
    release: str
    totals: Totals
    mem_available_kb: int
    procs: list[Proc]  # by pid
    memcgs: dict[str, Memcg]  # every memory cgroup a process is in, and their ancestors
    frozen: dict[str, str]  # "v1:PATH" / "v2:PATH" -> FROZEN, FREEZING (v1) or frozen (v2); thawed left out
    psi: Psi | None
    swappiness: int  # /proc/sys/vm/swappiness
    memcg_v2: bool  # the memory controller is on the unified hierarchy
    kthreads: int  # processes without an mm (kernel threads, zombies): never OOM candidates
    vanished: int  # processes that exited while being read
    cannot: list[str]  # what this user could not read, one phrase each
    full: bool = True  # status read again for every process (else where its other files changed)


# the /proc/PID/status fields read ("Name:\tbash", "RssAnon:\t  1128 kB"); Name is the first line
_STATUS_KEYS = ("State", "PPid", "Uid", "Threads", "RssAnon", "RssFile", "RssShmem", "VmSwap", "VmPTE")


def parse_status(text: str) -> dict[str, str]:
    """The fields of /proc/PID/status that watch uses, by str.find (a dict of all ~55 lines costs
    more than the read itself at 1 000 processes a second)."""
    out = {"Name": text[5:text.find("\n")].strip()} if text.startswith("Name:") else {}
    for key in _STATUS_KEYS:
        i = text.find("\n" + key + ":")
        if i >= 0:
            j = text.find("\n", i + 1)
            out[key] = text[i + len(key) + 2:j if j >= 0 else None].strip()
    return out


def parse_psi(text: str | None) -> Psi | None:
    """ "some avg10=0.00 avg60=0.00 avg300=0.00 total=N" and the same for "full"."""
    if not text:
        return None
    vals: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        kind, *pairs = line.split()
        vals[kind] = dict(p.split("=", 1) for p in pairs)
    try:
        some, full = vals["some"], vals.get("full", {"avg10": "0", "avg60": "0", "total": "0"})
        return Psi(float(some["avg10"]), float(some["avg60"]), float(full["avg10"]), float(full["avg60"]),
                   int(some["total"]), int(full["total"]))
    except (KeyError, ValueError):
        return None


def _int(text: str | None) -> int | None:
    """A number file; "max" (v2 unlimited) and anything unreadable are None."""
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _limit(n: int | None) -> int | None:
    return None if n is None or n >= UNLIMITED else n


def _keyed(text: str | None) -> dict[str, int]:
    """A flat keyed file: "key value" lines (memory.events, memory.oom_control)."""
    out = {}
    for line in (text or "").splitlines():
        k, _, v = line.partition(" ")
        if v.strip().lstrip("-").isdigit():
            out[k] = int(v)
    return out


PROCS_PER_CGROUP = 8  # Reader.members: walking a cgroup and reading its cgroup.procs ~ 8 /proc/PID/cgroup
FD_HEADROOM = 256  # descriptors left to the rest of the process (terminal, kmsg, a replay's pipes)
_GONE = (FileNotFoundError, ProcessLookupError, PermissionError, NotADirectoryError)


class ProcFiles:
    """/proc/PID files kept open between readings. A pread() at offset 0 runs the file's show function
    again (seq_read_iter() restarts the seq_file at position 0): the same text as open+read+close, in
    one syscall. A kept file of a process that exited reads ESRCH (proc_single_show() finds no task
    behind its struct pid), also once the pid is reused: then the new process's files are opened.
    At most `budget` stay open (RLIMIT_NOFILE, its soft limit raised to the hard one, less FD_HEADROOM);
    beyond it a file is opened, read and closed each time."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.fds: dict[int, dict[str, int]] = {}
        self.trio: dict[int, tuple[int, int, int]] = {}  # statm, oom_score_adj, oom_score, once all are open
        self.kept = 0
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 1 << 16 if hard == resource.RLIM_INFINITY else min(hard, 1 << 16)
        if soft != resource.RLIM_INFINITY and soft < want:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
                soft = want
            except (ValueError, OSError):
                pass
        self.budget = max(0, (1 << 16 if soft == resource.RLIM_INFINITY else soft) - FD_HEADROOM)

    def read(self, pid: int, name: str) -> bytes | None:
        """The file's bytes, None if the process is gone (or hides it)."""
        files = self.fds.get(pid)
        fd = files.get(name) if files is not None else None
        if fd is not None:
            try:
                return _pread_all(fd)
            except ProcessLookupError:  # that process exited; the pid may be another's now
                self.forget(pid)
        path = f"{self.root}/proc/{pid}/{name}"
        if self.kept >= self.budget:
            text = read_proc_file(path)
            return text.encode() if text is not None else None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except _GONE:
            return None
        self.fds.setdefault(pid, {})[name] = fd
        self.kept += 1
        try:
            return _pread_all(fd)
        except ProcessLookupError:
            self.forget(pid)
            return None

    def quick(self, pid: int) -> tuple[bytes | None, bytes | None, bytes | None]:
        """statm, oom_score_adj and oom_score (Reader.read_proc reads them every time): three pread()s
        once all are open, the cost of the syscalls alone at 1 000 processes a second."""
        fds = self.trio.get(pid)
        if fds is None:
            files = self.fds.get(pid) or {}
            if "statm" in files and "oom_score_adj" in files and "oom_score" in files:
                fds = self.trio[pid] = (files["statm"], files["oom_score_adj"], files["oom_score"])
        if fds is not None:
            pread = os.pread
            try:
                return pread(fds[0], 4096, 0), pread(fds[1], 64, 0), pread(fds[2], 64, 0)
            except ProcessLookupError:
                self.forget(pid)
        return self.read(pid, "statm"), self.read(pid, "oom_score_adj"), self.read(pid, "oom_score")

    def forget(self, pid: int) -> None:
        self.trio.pop(pid, None)
        for fd in self.fds.pop(pid, {}).values():
            os.close(fd)
            self.kept -= 1

    def keep_only(self, pids: dict[int, object]) -> None:
        """Close the files of every process not in `pids` (gone, or no longer watched)."""
        for pid in [p for p in self.fds if p not in pids]:
            self.forget(pid)

    def close(self) -> None:
        self.keep_only({})


def _pread_all(fd: int) -> bytes:
    data = os.pread(fd, 8192, 0)
    while len(data) % 8192 == 0 and data:  # a long cgroup or status file (a short read is its end)
        more = os.pread(fd, 65536, len(data))
        if not more:
            break
        data += more
    return data


class Members(msgspec.Struct):
    """Reader.members(): pid -> cgroup path in each hierarchy (a pid listed in no group is in the root)."""

    memcg: dict[int, str] | None  # the memory controller's hierarchy (v1, else v2)
    freezer: dict[int, str] | None  # None: no v1 freezer hierarchy
    cgroup2: dict[int, str] | None  # None: no v2 hierarchy
    clash: set[int]  # listed twice in one hierarchy

    def of(self, pid: int) -> tuple[str, str | None, str | None] | None:
        """(memcg, v1 freezer, v2 cgroup) as Reader._cgroups() would say; None: ask /proc/PID/cgroup."""
        if pid in self.clash:
            return None
        return (self.memcg.get(pid, "/") if self.memcg is not None else "/",
                self.freezer.get(pid, "/") if self.freezer is not None else None,
                self.cgroup2.get(pid, "/") if self.cgroup2 is not None else None)


class Reader:
    """Reads this machine (or a fake one under `root`) again and again: the mounts once, the rest each time."""

    def __init__(self, root: str | Path = "/", release: str | None = None) -> None:
        self.root = str(root).rstrip("/")
        self.release = release or os.uname().release
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.mounts = parse_mounts(read_proc_file(f"{self.root}/proc/self/mountinfo") or "")
        self.files = ProcFiles(self.root)
        # pid -> (what read_proc read, what it returned, status): (statm, oom_score_adj, oom_score, cgroups)
        # and the Proc; statm alone and False for a process without an mm
        self._last: dict[int, tuple[object, Proc | bool, bytes | None]] = {}
        self._seen: dict[int, tuple[object, Proc | bool, bytes | None]] = {}
        self._cg_cache: dict[bytes, tuple[str, str | None, str | None]] = {}
        self.from_cgroups = False  # the last read() learnt the cgroups from cgroup.procs (Reader.members)
        # cgroup.procs numbers pids in the reader's pid namespace (cgroup_procs_show(): task_pid_vnr()), /proc
        # in its mount's: the cgroup side is asked only where they are the same
        self_link = f"{self.root}/proc/self"
        self.same_pidns = not os.path.islink(self_link) or os.readlink(self_link) == str(os.getpid())
        self.memcg_v2 = self.mounts.memory_v1 is None and self.mounts.cgroup2 is not None and \
            "memory" in (self._cg2_file("/", "cgroup.controllers") or "").split()

    def _file(self, path: str) -> str | None:
        return read_proc_file(self.root + path)

    def _cg2_file(self, path: str, name: str) -> str | None:
        assert self.mounts.cgroup2 is not None
        return self._file(f"{self.mounts.cgroup2}{path.rstrip('/')}/{name}")

    def _cgroups(self, raw: bytes) -> tuple[str, str | None, str | None]:
        """(memcg, v1 freezer, v2 cgroup) of a /proc/PID/cgroup text; most processes share a few texts."""
        got = self._cg_cache.get(raw)
        if got is None:
            lines, m = raw.decode("utf-8", "replace").splitlines(), self.mounts
            got = (memcg_of(lines, v2=m.memory_v1 is None),
                   cgroup_path(lines, "freezer") if m.freezer_v1 is not None else None,
                   cgroup_path(lines, None) if m.cgroup2 is not None else None)
            if len(self._cg_cache) > 4096:
                self._cg_cache.clear()
            self._cg_cache[raw] = got
        return got

    def members(self, procs: int) -> Members | None:
        """Who is in which cgroup, from the cgroup side: the cgroup.procs of every group below the root of
        each hierarchy watch reads (memory, v1 freezer, v2), a few dozen files where /proc/PID/cgroup is
        a thousand (a third of a refresh). None, and /proc/PID/cgroup of every process, where there are
        more than `procs` / PROCS_PER_CGROUP groups: walking a group costs about what reading 8 processes'
        cgroup files does."""
        m = self.mounts
        most = procs // PROCS_PER_CGROUP
        where: dict[str, dict[int, str]] = {}
        clash: set[int] = set()
        for mount in {m.memory_v1, m.freezer_v1, m.cgroup2} - {None}:
            assert mount is not None
            top = self.root + mount
            found = where[mount] = {}
            dirs = [top]
            while dirs:
                try:
                    it = os.scandir(dirs.pop())
                except OSError:  # removed meanwhile
                    continue
                with it:
                    for e in it:
                        if not e.is_dir(follow_symlinks=False):
                            continue
                        most -= 1
                        if most < 0:
                            return None
                        dirs.append(e.path)
                        path = e.path[len(top):]
                        for pid in map(int, (read_proc_file(e.path + "/cgroup.procs") or "").split()):
                            if found.setdefault(pid, path) is not path:
                                clash.add(pid)  # v1: threads of one process in two groups
        return Members(where.get(m.memory_v1 or m.cgroup2 or ""), where.get(m.freezer_v1 or ""),
                       where.get(m.cgroup2 or ""), clash)

    def read_proc(self, pid: int, full: bool = True, members: Members | None = None) -> Proc | None | bool:
        """One process: None if it exited meanwhile, False if it has no mm, a Proc otherwise.

        statm, oom_score_adj and oom_score are read every time, and the cgroups: /proc/PID/cgroup, or with
        `members` where they differ from what /proc/PID/cgroup said last time (a process new, moved, or
        caught between two cgroup.procs mid-move: it is read in /proc then, so a move is seen within one
        reading). status is read the first time, on a full read, and where one of them changed.
        Unchanged, nothing oom_badness() adds changed either (resident is get_mm_rss(); a page swapped
        out or in, or a page table for a new mapping, moves resident or size), and the last Proc stands:
        the same object, so the Monitor knows it need not weigh it again. A task without an mm stays so
        (a kernel thread never gets one, nor a zombie back): statm alone is read for it."""
        last = self._last.get(pid)
        if last is not None and last[1] is False:
            statm = self.files.read(pid, "statm")
            if statm is None:
                return None
            if last[0] == statm:
                self._seen[pid] = last
                return False
        statm, adj, score = self.files.quick(pid)
        if statm is None or adj is None:  # score: 0444, but hidepid= or an LSM may refuse it
            return None
        was = last[1] if last is not None and last[1] is not False else None
        cg = members.of(pid) if members is not None else None
        if cg is None or was is None or cg != (was.memcg, was.freezer, was.cgroup2):
            raw = self.files.read(pid, "cgroup")
            if raw is None:
                return None
            cg = self._cgroups(raw)
        key = (statm, adj, score), cg
        if not full and last is not None and last[0] == key:
            self._seen[pid] = last
            return was
        status_text = self.files.read(pid, "status")
        if status_text is None:
            return None
        if was is not None and status_text == last[2]:  # type: ignore[index]
            # the same status: statm's numbers are all in it, so only oom_score_adj, oom_score or a cgroup moved
            p = was if last[0] == key else msgspec.structs.replace(  # type: ignore[index]
                was, oom_score_adj=int(adj), oom_score=_int(score.strip()) if score is not None else None,
                memcg=cg[0], freezer=cg[1], cgroup2=cg[2])
            self._seen[pid] = (key, p, status_text)
            return p
        status = parse_status(status_text.decode("utf-8", "replace"))  # a comm may hold any bytes
        counters = counters_of(status)
        if counters is None:
            self._seen[pid] = (statm, False, None)
            return False
        p = Proc(
            pid=pid, comm=status.get("Name", "?").strip(), ppid=int(status.get("PPid", "0")),
            uid=int(status.get("Uid", "0").split()[0]), state=status.get("State", "?").strip()[:1],
            threads=int(status.get("Threads", "1")), counters=counters, oom_score_adj=int(adj),
            oom_score=_int(score.strip()) if score is not None else None, memcg=cg[0], freezer=cg[1], cgroup2=cg[2],
        )  # fmt: skip
        if was is not None and was == p:
            p = was  # a full read that found nothing new
        self._seen[pid] = (key, p, status_text)
        return p

    def read_memcg(self, path: str) -> Memcg:
        if not self.memcg_v2 and self.mounts.memory_v1 is not None:
            d = f"{self.mounts.memory_v1}{path.rstrip('/')}/"
            oom = _keyed(self._file(d + "memory.oom_control"))
            return Memcg(
                path=path, v1=True, limit=_limit(_int(self._file(d + "memory.limit_in_bytes"))),
                usage=_int(self._file(d + "memory.usage_in_bytes")),
                failcnt=_int(self._file(d + "memory.failcnt")), oom_kills=oom.get("oom_kill"),
                memsw_limit=_limit(_int(self._file(d + "memory.memsw.limit_in_bytes"))),
                swappiness=_int(self._file(d + "memory.swappiness")),
            )  # fmt: skip
        if self.memcg_v2:
            events = _keyed(self._cg2_file(path, "memory.events"))
            return Memcg(
                path=path, v1=False, limit=_limit(_int(self._cg2_file(path, "memory.max"))),
                usage=_int(self._cg2_file(path, "memory.current")), oom_kills=events.get("oom_kill"),
                ooms=events.get("oom"), swap_max=_limit(_int(self._cg2_file(path, "memory.swap.max"))),
                pressure=parse_psi(self._cg2_file(path, "memory.pressure")),
            )  # fmt: skip
        return Memcg(path=path, v1=True, limit=None, usage=None)

    def _frozen(self, procs: list[Proc]) -> dict[str, str]:
        """The freezer state of every group a process is in: v1 freezer.state (FROZEN, FREEZING), v2
        cgroup.events "frozen 1" (the group and everything under it is frozen: cgroup_freeze())."""
        out: dict[str, str] = {}
        seen: set[str] = set()
        for p in procs:
            if p.freezer is not None and "v1:" + p.freezer not in seen:
                seen.add("v1:" + p.freezer)
                state = (self._file(f"{self.mounts.freezer_v1}{p.freezer.rstrip('/')}/freezer.state") or "").strip()
                if state in ("FROZEN", "FREEZING"):
                    out["v1:" + p.freezer] = state
            if p.cgroup2 is not None and p.cgroup2 != "/" and "v2:" + p.cgroup2 not in seen:
                seen.add("v2:" + p.cgroup2)  # the root cgroup cannot be frozen
                if _keyed(self._cg2_file(p.cgroup2, "cgroup.events")).get("frozen") == 1:
                    out["v2:" + p.cgroup2] = "frozen"
        return out

    def close(self) -> None:
        self.files.close()

    def memcg_dir(self, path: str) -> str | None:
        """The directory of a memory cgroup (under root), None without a memory controller."""
        mount = self.mounts.cgroup2 if self.memcg_v2 else self.mounts.memory_v1
        return f"{self.root}{mount}{path.rstrip('/')}" if mount is not None else None

    def _subtree_pids(self, only: str) -> list[str]:
        """The processes of the memcgs within(only) (cgroup.procs of each), without reading all of /proc."""
        if only.endswith("*"):
            parent, _, stem = only[:-1].rpartition("/")
            base = self.memcg_dir(parent or "/") or ""
            tops = [f"{base}/{name}" for name in sorted(os.listdir(base)) if name.startswith(stem)]
        else:
            tops = [self.memcg_dir(only) or ""]
        pids: list[str] = []
        for top in tops:
            for d, _, _ in os.walk(top):
                pids += (read_proc_file(f"{d}/cgroup.procs") or "").split()
        return pids

    def read(self, only: str | None = None, full: bool = True) -> Reading:
        """The machine; `only`: just the processes of the memcgs within(only) (and the memcgs on their way).
        Not `full`: see read_proc."""
        at = time.monotonic()
        self._seen = {}
        procs: list[Proc] = []
        kthreads = vanished = denied = no_score = 0
        try:
            entries = os.listdir(f"{self.root}/proc") if only is None else self._subtree_pids(only)
        except OSError as e:
            raise OSError(f"{self.root}/proc: {e.strerror}") from None
        members = self.members(len(entries)) if only is None and self.same_pidns else None
        self.from_cgroups = members is not None
        trio, last_of, pread = self.files.trio, self._last, os.pread
        for entry in entries:
            if not entry.isdigit():
                continue
            pid = int(entry)
            # read_proc's commonest case inline, where its calls cost as much as the pread()s: a process
            # with an mm none of whose files changed. Else read_proc reads them again.
            fds, last = trio.get(pid), last_of.get(pid)
            try:
                same = not full and members is not None and fds is not None and last is not None and \
                    last[1] is not False and last[0][0] == (pread(fds[0], 4096, 0), pread(fds[1], 64, 0), pread(fds[2], 64, 0)) and \
                    last[0][1] == members.of(pid)  # type: ignore[index]
            except ProcessLookupError:
                same = False
            if same:
                self._seen[pid] = last  # type: ignore[assignment]
                p: Proc | bool | None = last[1]  # type: ignore[index]
            else:
                p = self.read_proc(pid, full, members)
            if p is None and os.path.isdir(f"{self.root}/proc/{entry}"):
                denied += 1  # still there: hidepid=, an LSM, or a file of root's only
            elif p is None:
                vanished += 1
            elif p is False:
                kthreads += 1
            else:
                assert isinstance(p, Proc)
                procs.append(p)
                no_score += p.oom_score is None
        procs.sort(key=lambda p: p.pid)
        self._last = self._seen  # the processes gone are forgotten, their files closed
        self.files.keep_only(self._seen)
        paths: set[str] = {"/"}  # the root memcg even with no process watched (an empty --cgroup)
        for p in procs:
            path = p.memcg
            while path not in paths:
                paths.add(path)
                path = path.rsplit("/", 1)[0] or "/"
        meminfo = {}
        for line in (self._file("/proc/meminfo") or "").splitlines():
            key, _, value = line.partition(":")
            meminfo[key] = int(value.split()[0])
        cannot = []
        if denied:
            cannot.append(f"{denied} process{'es' if denied > 1 else ''} (permission denied)")
        if no_score:
            cannot.append(f"/proc/PID/oom_score of {no_score} processes")
        if self.mounts.memory_v1 is None and not self.memcg_v2:
            cannot.append("memory cgroups (no memory controller mounted)")
        return Reading(
            at=at, release=self.release,
            totals=Totals(meminfo.get("MemTotal", 0), meminfo.get("SwapTotal", 0), self.page_size),
            mem_available_kb=meminfo.get("MemAvailable", meminfo.get("MemFree", 0)),
            procs=procs, memcgs={path: self.read_memcg(path) for path in sorted(paths, key=lambda c: c.split("/"))},
            frozen=self._frozen(procs), psi=parse_psi(self._file("/proc/pressure/memory")),
            swappiness=_int((self._file("/proc/sys/vm/swappiness") or "").strip()) or 0,
            memcg_v2=self.memcg_v2, kthreads=kthreads, vanished=vanished, cannot=cannot, full=full,
        )  # fmt: skip


def within(path: str, only: str) -> bool:
    """Whether memcg `path` is watched with --cgroup ONLY: that group and the groups under it; ONLY ending
    in * takes every group whose path begins with the rest (`oomtui lab --watch`: /oomtui-lab-PID-*)."""
    if only.endswith("*"):
        return path.startswith(only[:-1])
    return path == only or path.startswith(only.rstrip("/") + "/")


def frozen_state(r: Reading, p: Proc) -> str | None:
    """"FROZEN"/"FREEZING" (v1 freezer) or "frozen" (v2: cgroup.events says it of every group under a
    frozen one too), None when thawed."""
    if p.freezer is not None and (s := r.frozen.get("v1:" + p.freezer)):
        return s
    return r.frozen.get(f"v2:{p.cgroup2}")


# --- robust futex lists ---------------------------------------------------------------------------
# /proc has no robust_list field. get_robust_list(2) returns a thread's registered head (set_robust_list,
# which glibc calls for every thread it starts), given PTRACE_MODE_READ_REALCREDS on the target (root,
# or the same user without Yama restrictions). Whether a robust mutex is *held* needs the list itself:
# head->list.next == &head->list means empty. Reading it is a pread() of /proc/PID/mem (ptrace read
# access again). Nothing is written and nothing stops the target.
_SYS_GET_ROBUST_LIST = {"x86_64": 274, "aarch64": 100, "riscv64": 100, "ppc64le": 299, "s390x": 305}


class Robust(msgspec.Struct):
    """A process's robust futex lists, thread by thread, as far as this user may see them."""

    registered: int  # threads with a robust list head (glibc: every thread)
    holding: list[int]  # tids whose list is not empty (or has an op pending): a robust mutex held
    unknown: str | None = None  # why some or all of it could not be read


def read_robust(pid: int) -> Robust:
    nr = _SYS_GET_ROBUST_LIST.get(platform.machine())
    if nr is None:
        return Robust(0, [], f"get_robust_list(2) number unknown on {platform.machine()}")
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return Robust(0, [], "the process is gone")
    registered, holding, why = 0, [], None
    try:
        mem = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        mem, why = -1, f"/proc/{pid}/mem: {e.strerror}"
    try:
        for tid in tids:
            head, size = ctypes.c_void_p(), ctypes.c_size_t()
            if libc.syscall(nr, tid, ctypes.byref(head), ctypes.byref(size)) != 0:
                err = ctypes.get_errno()
                if err == errno.ESRCH:
                    continue  # the thread exited
                return Robust(registered, holding, f"get_robust_list: {os.strerror(err)}")
            if not head.value:
                continue
            registered += 1
            if mem < 0:
                continue
            try:
                # struct robust_list_head { struct robust_list list; long futex_offset; list_op_pending; }
                raw = os.pread(mem, 3 * ctypes.sizeof(ctypes.c_void_p), head.value)
            except OSError as e:
                why = f"/proc/{pid}/mem: {e.strerror}"
                continue
            w = ctypes.sizeof(ctypes.c_void_p)
            nxt, pending = int.from_bytes(raw[:w], sys.byteorder), int.from_bytes(raw[2 * w:3 * w], sys.byteorder)
            if nxt != head.value or pending:
                holding.append(tid)
    finally:
        if mem >= 0:
            os.close(mem)
    return Robust(registered, holding, why)
