"""Build a Kernel from a scene: address-space layout, threads, futexes, timed actions.

Layout follows x86_64 glibc: the brk heap low (0x56...), the mmap area top-down below 0x7f7f...
(main thread TLS first, then thread stacks, then other mappings), the main stack at 0x7ffc....
So a forward VMA walk (<=6.17) reaches the heap first and thread stacks late; the reverse walk of
6.18 reaches the stacks and TLS (where glibc keeps each thread's robust list head) first.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from ..kernel.core import Kernel, KernelError
from ..kernel.exit import futex_unlock
from ..kernel.oom_kill import PAGE_COUNTER_MAX
from ..kernel.page_types import PAGE_SIZE as PAGE
from ..kernel.policy import Policy, get_policy
from ..kernel.sched import Races
from ..kernel.version import KernelVersion
from ..kernel.state import DISK, RUNNING, SLEEPING, Vma
from .actions import BY_DO, Action, Caption, Step
from .load import LoadedScene
from .schema import CgroupSpec, ThreadSpec
from .sidesteps import KEYS, OOM, Sidestep
from .units import parse_duration, parse_pages, parse_rate

HEAP_BASE = 0x5600_0000_0000
MMAP_TOP = 0x7F7F_0000_0000
MAIN_STACK = 0x7FFC_0000_0000
GAP = 0x10_0000  # 1 MiB between mmap-area mappings


def _align(n: int) -> int:
    return -(-n // PAGE) * PAGE


class Builder:
    def __init__(self, ls: LoadedScene):
        self.ls = ls
        self.sc = ls.scene
        self.hz = self.sc.hz
        self._cpus: list[tuple[int, int, int, int]] = []  # (process index, thread index, tid, cpu) of pinned threads
        # every process has the same layout in its own address space: one int object per address
        # (and page-table size), not one per mapping (800 000 of them for 100 000 processes)
        self._ints: dict[int, int] = {}

    def same(self, n: int) -> int:
        """n, as the one int object this build keeps for that value."""
        return self._ints.setdefault(n, n)

    def err(self, path: str, message: str):
        return self.ls.error(path, message)

    def pages(self, value, path: str) -> int:
        try:
            return parse_pages(value)
        except ValueError as e:
            raise self.err(path, str(e)) from None

    def jiffies(self, value, path: str) -> int:
        try:
            return parse_duration(value, self.hz)
        except ValueError as e:
            raise self.err(path, str(e)) from None

    def rate(self, value, path: str) -> int:
        try:
            return parse_rate(value, self.hz)
        except ValueError as e:
            raise self.err(path, str(e)) from None

    def policy(self, policy_id: str | None, kernel: str | None) -> Policy:
        pid = policy_id or self.sc.policy
        try:
            policy = get_policy(pid)
        except ValueError as e:
            raise self.err("policy" if policy_id is None else "--policy", str(e)) from None
        version = kernel or self.sc.kernel
        if version is None:
            return policy
        try:
            return policy.with_version(KernelVersion.parse(version))
        except ValueError as e:
            raise self.err("kernel" if kernel is None else "--kernel", str(e)) from None

    def build(self, policy: Policy) -> tuple[Kernel, list[tuple[int, Action]]]:
        sc = self.sc
        ram, reserved = self.pages(sc.ram, "ram"), self.pages(sc.reserved, "reserved")
        if ram <= 0:
            raise self.err("ram", "a machine needs some RAM")
        if reserved >= ram:
            raise self.err("reserved", f"reserved ({sc.reserved}) must be less than ram ({sc.ram})")
        k = Kernel(policy, hz=self.hz, ram_pages=ram, swap_pages=self.pages(sc.swap, "swap"),
                   reserved_pages=reserved,
                   reap_rate=self.rate(sc.reap_rate, "reap_rate") if sc.reap_rate else None,
                   exit_rate=self.rate(sc.exit_rate, "exit_rate") if sc.exit_rate else None,
                   memcg_v1=sc.memcg == "v1", swapaccount=sc.swapaccount)
        k.badness.pages_deferred = True  # every mapping's pages in select_bad_process()'s columns at the end
        try:
            self._cgroups(k)
            self._shm(k)
            self._processes(k)
            self._futexes(k)
            actions = self._actions(k)
        except KernelError as e:
            raise self.err("", str(e)) from None
        k.badness.fill_pages()
        return k, actions

    def _cgroups(self, k: Kernel) -> None:
        for i, c in enumerate(self.sc.cgroups):
            path = f"cgroups[{i}]"
            if not c.path.startswith("/") or c.path == "/" or c.path.endswith("/"):
                raise self.err(f"{path}.path", f'expected an absolute cgroup path like "/app", got {c.path!r}')
            limit = self.pages(c.memory_max, f"{path}.memory_max") if c.memory_max is not None else None
            if c.hierarchy == "freezer":
                if self.sc.memcg == "v2":
                    raise self.err(f"{path}.hierarchy", 'with memcg = "v2" every controller is on the one unified '
                                                        'hierarchy: a freezer hierarchy of its own needs memcg = "v1"')
                if c.freezer is None:
                    raise self.err(f"{path}.freezer", 'a cgroup of the freezer hierarchy needs freezer = "v1" or "v2"')
                for key in ("memory_max", "memsw_max", "swap_max", "oom_group"):
                    if getattr(c, key):
                        raise self.err(f"{path}.{key}", f"{key} is the memory controller's: the freezer hierarchy has none")
            if c.move_charge_at_immigrate:
                self._move_charge(k, f"{path}.move_charge_at_immigrate", c.hierarchy)
            memsw_max, swap_max = self._swap_limits(k, c, path, limit)
            try:
                k.add_cgroup(c.path, limit=limit, oom_group=c.oom_group, freezer=c.freezer, frozen=False,
                             memory=c.hierarchy == "memory", move_charge=int(c.move_charge_at_immigrate),
                             memsw_max=memsw_max, swap_max=swap_max)
            except KernelError as e:
                raise self.err(f"{path}.path", str(e)) from None
            if c.frozen and c.freezer is None:
                raise self.err(f"{path}.frozen", 'a frozen cgroup needs freezer = "v1" or "v2"')

    def _swap_limits(self, k: Kernel, c: CgroupSpec, path: str, limit: int | None) -> tuple[int | None, int]:
        """memsw_max (v1's memory.memsw.limit_in_bytes) and swap_max (v2's memory.swap.max) in pages, as
        Kernel.add_cgroup takes them; each only where the kernel has the file."""
        memsw = swap = None
        for key, value in (("memsw_max", c.memsw_max), ("swap_max", c.swap_max)):
            if value is None:
                continue
            where = f"{path}.{key}"
            if key == "memsw_max" and self.sc.memcg == "v2":
                raise self.err(where, 'cgroup v1\'s memory.memsw.limit_in_bytes: cgroup v2 limits swap alone, with '
                                      'swap_max (or set memcg = "v1")')
            if key == "swap_max" and self.sc.memcg == "v1":
                raise self.err(where, 'cgroup v2\'s memory.swap.max: cgroup v1 limits memory+swap, with memsw_max '
                                      '(or set memcg = "v2")')
            v = k.policy.version
            if not k.do_swap_account:
                raise self.err(where, f"with swapaccount = false (kernel {v}) the memcgs' swap is not accounted and "
                                      "the swap limit files are hidden: all of swap counts in a memcg OOM")
            if key == "swap_max" and not v.has_memcg_swap_max:
                raise self.err(where, f"kernel {v}: memory.swap.max came in 4.5 (\"mm: memcontrol: charge swap to "
                                      'cgroup2\"); set kernel = "4.5" or later')
            try:
                pages = PAGE_COUNTER_MAX if value == "max" else parse_pages(value)
            except ValueError as e:
                raise self.err(where, f'{e} (or "max": no limit)') from None
            if key == "swap_max":
                swap = pages
            elif pages < (PAGE_COUNTER_MAX if limit is None else limit):
                # mem_cgroup_resize_max(): memsw.max below memory.max is EINVAL
                raise self.err(where, f"the memory+swap limit ({value}) is below the memory limit "
                                      f"({c.memory_max if limit is not None else 'max'}): the kernel says EINVAL")
            else:
                memsw = pages
        return memsw, swap or 0

    def _move_charge(self, k: Kernel, path: str, hierarchy: str) -> None:
        """memory.move_charge_at_immigrate exists only on a v1 memcg, and moves charges only where the
        era still does (KernelVersion.moves_charge_at_immigrate)."""
        if hierarchy == "freezer":
            raise self.err(path, "it is the memory controller's file: the freezer hierarchy has none")
        if self.sc.memcg == "v2":
            raise self.err(path, 'cgroup v1\'s file: cgroup v2 never moves charges (cgroup-v2.rst, "Memory '
                                 'Ownership"); with memcg = "v1" it can')
        v = k.policy.version
        if v.at_least(6, 13):
            raise self.err(path, f"kernel {v}: from 6.13 writing 1, 2 or 3 fails with EINVAL (\"memcg-v1: fully "
                                 'deprecate move_charge_at_immigrate\"; so on 6.18, docs/cgroups.md), charges stay '
                                 'behind; set kernel = "6.12" or earlier')
        if not v.moves_charge_at_immigrate:
            raise self.err(path, f"kernel {v}: memory.move_charge_at_immigrate came in 2.6.34 (from 3.0 here: "
                                 '"2.6" names no minor release); set kernel = "3.0" or later')

    def _shm(self, k: Kernel) -> None:
        for i, s in enumerate(self.sc.shm):
            if s.cgroup not in k.cgroups or not k.cgroups[s.cgroup].memory:
                raise self.err(f"shm[{i}].cgroup", f"no memory cgroup {s.cgroup!r} (declare it under [[cgroups]])")
            if s.name in k.shm:
                raise self.err(f"shm[{i}].name", f"shm {s.name!r} declared twice")
            k.add_shm(s.name, self.pages(s.size, f"shm[{i}].size"), s.cgroup)

    def _processes(self, k: Kernel) -> None:
        for i, ps in enumerate(self.ls.process_specs()):
            path = f"processes[{i}]"
            if ps.cgroup not in k.cgroups:
                raise self.err(f"{path}.cgroup", f"no cgroup {ps.cgroup!r} (declare it under [[cgroups]])")
            if not k.cgroups[ps.cgroup].memory:
                raise self.err(f"{path}.cgroup", f"{ps.cgroup!r} is on the freezer hierarchy: cgroup is the memory "
                                                 "cgroup (for the freezer one, freezer_cgroup)")
            if k.internal_process(k.cgroups[ps.cgroup]):
                cg = k.cgroups[ps.cgroup]
                raise self.err(f"{path}.cgroup", f"{ps.cgroup} has child cgroups ({', '.join(c.path for c in cg.children)}) "
                                                 "with the memory controller: on cgroup v2 a cgroup other than the root "
                                                 "holds processes or enables controllers for children, not both (no "
                                                 "internal processes; the kernel says EBUSY); put it in a leaf")
            if ps.freezer_cgroup is not None and ps.freezer_cgroup not in k.cgroups:
                raise self.err(f"{path}.freezer_cgroup", f"no cgroup {ps.freezer_cgroup!r} (declare it under "
                                                         '[[cgroups]] with hierarchy = "freezer")')
            if ps.parent is not None and ps.parent not in k.pids:
                raise self.err(f"{path}.parent", f"no earlier process with pid {ps.parent}")
            if ps.pid in k.pids or ps.pid in k.tids:
                raise self.err(f"{path}.pid", f"pid {ps.pid} is used twice (as a pid or a thread's tid)")
            shared = None
            if ps.in_vfork and ps.shares_mm_with is None:
                raise self.err(f"{path}.in_vfork", "a vfork() child shares its parent's mm: set shares_mm_with")
            if ps.shares_mm_with is not None:
                other = k.pids.get(ps.shares_mm_with)
                if other is None or other.init_mm is None:
                    raise self.err(f"{path}.shares_mm_with", f"no earlier process with pid {ps.shares_mm_with}")
                shared = other.init_mm
            try:
                p = k.add_process(ps.pid, ps.comm, ps.cgroup, parent=ps.parent, oom_score_adj=ps.oom_score_adj,
                                  uid=ps.uid, mm=shared, is_init=ps.init, kthread=ps.kthread,
                                  handles_sigterm=ps.handles_sigterm, freezer_cgroup=ps.freezer_cgroup,
                                  in_vfork=ps.in_vfork, cap_sys_admin=ps.cap_sys_admin)
            except KernelError as e:
                raise self.err(f"{path}.freezer_cgroup", str(e)) from None
            threads = ps.threads or []
            tids = [t.tid for t in threads] or [ps.pid]
            if threads and threads[0].tid != ps.pid:
                raise self.err(f"{path}.threads[0].tid", f"the first thread is the group leader: its tid must be the pid {ps.pid}")
            # an earlier process's tids are in k.tids (no set of its own: a large set's growth leaves the
            # heap fragmented, 20 MiB at 500 000 threads)
            mine: set[int] = set()
            for j, tid in enumerate(tids):
                if tid in k.tids or tid in mine or (tid != ps.pid and tid in k.pids):
                    raise self.err(f"{path}.threads[{j}].tid", f"tid {tid} is used twice")
                mine.add(tid)
            specs = threads or [ThreadSpec(tid=ps.pid, state="R" if ps.alloc else "S")]
            self._cpus += [(i, j, ts.tid, ts.cpu) for j, ts in enumerate(threads) if ts.cpu is not None]
            for j, ts in enumerate(specs):
                tpath = f"{path}.threads[{j}]"
                state = {"R": RUNNING, "S": SLEEPING, "D": DISK}[ts.state]
                d_forever = ts.d_for == "forever"
                d_for = None if (ts.d_for is None or d_forever) else self.jiffies(ts.d_for, f"{tpath}.d_for")
                if state == DISK and ts.d_for is None:
                    raise self.err(f"{tpath}.d_for", 'a D-state thread needs d_for ("10s" or "forever")')
                if ts.mmap_lock and state != DISK:
                    raise self.err(f"{tpath}.mmap_lock", 'only a thread in state "D" can hold mmap_lock here')
                if ts.killable and state != DISK:
                    raise self.err(f"{tpath}.killable", 'only a thread in state "D" can be killable here')
                # the leader's tid is its pid: one int object for both (100 000 of them at 100 000 processes)
                k.add_thread(p, ps.pid if j == 0 else ts.tid, state=state, robust_list=ts.robust_list,
                             exit_latency=max(1, self.jiffies(ts.exit_latency, f"{tpath}.exit_latency")),
                             d_for=d_for, d_forever=d_forever, holds_mmap_lock=ts.mmap_lock,
                             killable=ts.killable)
            if ps.kthread:
                if ps.vmas or ps.rss or ps.file_rss or ps.alloc or ps.shares_mm_with is not None:
                    raise self.err(path, "a kernel thread has no mm: it cannot declare memory or allocate")
                continue
            if shared is not None:
                if ps.vmas or ps.rss or ps.file_rss:
                    raise self.err(path, "a process sharing another's mm cannot declare its own memory")
                self._stacks(k, p, specs, path, shared_mm=shared)
            else:
                self._layout(k, p, ps, specs, path)
            if ps.alloc is not None:
                a = ps.alloc
                tid = a.thread if a.thread is not None else ps.pid
                t = k.tids.get(tid)
                if t is None or t.process is not p:
                    raise self.err(f"{path}.alloc.thread", f"tid {tid} is not a thread of pid {ps.pid}")
                if t.state == DISK:
                    raise self.err(f"{path}.alloc.thread", f"tid {tid} is in D state: the allocating thread runs")
                t.state = t.resume_state = RUNNING
                k.add_allocation(t, self.rate(a.rate, f"{path}.alloc.rate"), self.pages(a.target, f"{path}.alloc.target"),
                                 self.jiffies(a.start, f"{path}.alloc.start"))

    def _stacks(self, k: Kernel, p, specs, path: str, shared_mm=None) -> None:
        mm = shared_mm or p.init_mm
        base = min((v.start for v in mm.vmas if HEAP_BASE < v.start < MAIN_STACK), default=MMAP_TOP)
        for j, ts in enumerate(specs):
            size = _align(self.pages(ts.stack, f"{path}.threads[{j}].stack") * PAGE)
            rss = min(self.pages(ts.stack_rss, f"{path}.threads[{j}].stack_rss"), size // PAGE)
            if j == 0 and shared_mm is None:
                # the leader's robust list head is in the static TLS block (ld.so, top of the mmap area)
                k.add_vma(mm, Vma(MAIN_STACK, self.same(MAIN_STACK + size), "stack", "[stack]", rss))
                k.add_vma(mm, Vma(MMAP_TOP, self.same(MMAP_TOP + 16 * PAGE), "anon", "[tls]", 4, stack_of=ts.tid))
                continue
            base = self.same(base - size - GAP)
            k.add_vma(mm, Vma(base, self.same(base + size), "stack", None, rss, stack_of=ts.tid))

    def _layout(self, k: Kernel, p, ps, specs, path: str) -> None:
        mm = p.init_mm
        self._stacks(k, p, specs, path)
        heap = self.pages(ps.rss, f"{path}.rss")
        swap = self.pages(ps.swap, f"{path}.swap")
        if heap or swap:
            k.add_vma(mm, Vma(HEAP_BASE, self.same(HEAP_BASE + (heap + swap) * PAGE), "anon", "[heap]", heap, swap=swap))
        fr = self.pages(ps.file_rss, f"{path}.file_rss")
        if fr:
            k.add_vma(mm, Vma(0x5555_5555_0000, 0x5555_5555_0000 + fr * PAGE, "file", f"/usr/bin/{ps.comm}", fr))
        cursor = min(v.start for v in mm.vmas if HEAP_BASE < v.start < MAIN_STACK)
        for j, vs in enumerate(ps.vmas):
            vpath = f"{path}.vmas[{j}]"
            size = self.pages(vs.size, f"{vpath}.size")
            rss = size if vs.rss is None else self.pages(vs.rss, f"{vpath}.rss")
            if rss > size:
                raise self.err(f"{vpath}.rss", f"rss ({rss} pages) is larger than the mapping ({size} pages)")
            shm = None
            if vs.kind == "shmem":
                if vs.shm is None or vs.shm not in k.shm:
                    raise self.err(f"{vpath}.shm", f"kind shmem needs shm = the name of a [[shm]] object, got {vs.shm!r}")
                shm = k.shm[vs.shm]
            elif vs.shm is not None:
                raise self.err(f"{vpath}.shm", 'only kind = "shmem" maps a [[shm]] object')
            swap = self.pages(vs.swap, f"{vpath}.swap")
            if swap and vs.kind not in ("anon", "stack"):
                raise self.err(f"{vpath}.swap", "only private anonymous memory has swap entries")
            cursor -= size * PAGE + GAP
            name = vs.name or {"shmem": f"/dev/shm/{vs.shm}", "file": "/usr/lib/lib.so",
                               "shared_file": "/data/shared.db"}.get(vs.kind, f"[{vs.kind}]")
            k.add_vma(mm, Vma(cursor, cursor + size * PAGE, vs.kind, name, rss, swap=swap, locked=vs.locked, shm=shm))
        pt = ps.pgtables
        if pt is None:
            mapped = sum(v.rss + v.swap for v in mm.vmas)
            pt_bytes = (mapped // 512 + 1) * PAGE  # one PTE page maps 2 MiB
        else:
            pt_bytes = self.pages(pt, f"{path}.pgtables") * PAGE
        k.set_pgtables_bytes(mm, self.same(pt_bytes))

    def _futexes(self, k: Kernel) -> None:
        for i, fs in enumerate(self.sc.futexes):
            path = f"futexes[{i}]"
            if fs.name in k.futexes:
                raise self.err(f"{path}.name", f"futex {fs.name!r} declared twice")
            shm = vma = None
            if fs.shm is not None:
                if fs.shm not in k.shm:
                    raise self.err(f"{path}.shm", f"no [[shm]] object named {fs.shm!r}")
                shm = k.shm[fs.shm]
            elif fs.private_to is not None:
                p = k.pids.get(fs.private_to)
                if p is None or p.init_mm is None:
                    raise self.err(f"{path}.private_to", f"no process with pid {fs.private_to}")
                vma = next((v for v in p.init_mm.vmas if v.name == "[heap]"), None) or p.init_mm.vmas[0]
            else:
                raise self.err(path, "a futex lives in shared memory (shm = ...) or in a process (private_to = pid)")
            owner = None
            if fs.owner is not None:
                owner = k.tids.get(fs.owner)
                if owner is None:
                    raise self.err(f"{path}.owner", f"no thread with tid {fs.owner}")
            f = k.add_futex(fs.name, robust=fs.robust, shm=shm, vma=vma, owner=owner)
            for j, ws in enumerate(fs.waiters):
                t = k.tids.get(ws.tid)
                if t is None:
                    raise self.err(f"{path}.waiters[{j}].tid", f"no thread with tid {ws.tid}")
                if t.waiting_on is not None:
                    raise self.err(f"{path}.waiters[{j}].tid", f"tid {ws.tid} already waits on {t.waiting_on.name}")
                k.add_waiter(f, t, None if ws.timeout is None else self.jiffies(ws.timeout, f"{path}.waiters[{j}].timeout"))
            if fs.release_at is not None:
                if owner is None:
                    raise self.err(f"{path}.release_at", "release_at needs an owner")
                # the declared owner unlocks; if it died first, nothing happens
                k.add_timer(self.jiffies(fs.release_at, f"{path}.release_at"),
                            lambda f=f, o=owner: futex_unlock(k, f, o))

    def _action(self, k: Kernel, a: Action, path: str) -> tuple[int, Action]:
        """A decoded [[actions]] or [[walkthrough]] table: its time, and its target checked."""
        if a.at is None:
            raise self.err(path, "missing required key 'at'")
        try:
            a.validate(k)
        except ValueError as e:
            raise self.err(path, str(e)) from None
        return self.jiffies(a.at, f"{path}.at"), a

    def walkthrough(self, k: Kernel) -> list[Step]:
        steps = []
        for i, s in enumerate(self.sc.walkthrough):
            path = f"walkthrough[{i}]"
            at, action = self._action(k, s, path)
            if s.caption is None:
                raise self.err(path, "missing required key 'caption'")
            steps.append(Step(at, s.caption, None if isinstance(action, Caption) else action, s.hold))
        steps.sort(key=lambda st: st.at)
        return steps

    def _actions(self, k: Kernel) -> list[tuple[int, Action]]:
        out = []
        for i, a in enumerate(self.sc.actions):
            if a.hold:
                raise self.err(f"actions[{i}].hold", "hold is for [[walkthrough]] steps: a scene's own actions never wait")
            out.append(self._action(k, a, f"actions[{i}]"))
        out.sort(key=lambda x: x[0])
        return out

    def goals(self, k: Kernel) -> None:
        """Each goal's keys parse and name what exists (scored only at the end)."""
        for i, g in enumerate(self.sc.goals):
            path = f"goals[{i}]"
            if getattr(g, "amount", None) is not None:
                self.pages(g.amount, f"{path}.amount")
            if getattr(g, "within", None) is not None:
                self.jiffies(g.within, f"{path}.within")
            if getattr(g, "pid", None) is not None and g.pid not in k.pids:
                raise self.err(f"{path}.pid", f"no process with pid {g.pid}")
            if getattr(g, "tid", None) is not None and g.tid not in k.tids:
                raise self.err(f"{path}.tid", f"no thread with tid {g.tid}")

    def races(self, k: Kernel) -> Callable[[int], Races]:
        """Check `cpus`, the threads' `cpu` and [races] killer; return a maker of the race source."""
        sc = self.sc
        pins: dict[int, int] = {}
        for i, j, tid, cpu in self._cpus:
            if cpu >= sc.cpus:
                raise self.err(f"processes[{i}].threads[{j}].cpu",
                               f"CPU {cpu} does not exist: the machine has cpus = {sc.cpus} (0..{sc.cpus - 1})")
            pins[tid] = cpu
        killer = sc.races.killer if sc.races is not None else None
        if killer is not None and killer not in k.tids:
            raise self.err("races.killer", f"no thread with tid {killer}")
        idle = sc.races.idle if sc.races is not None else 0.0
        return lambda seed: Races(self.hz, seed, sc.cpus, pins, killer, idle)

    def _bound(self, value, path: str) -> int | str:
        if isinstance(value, str) and value.strip().lower() == OOM:
            return OOM
        try:
            return parse_duration(value, self.hz)
        except ValueError as e:
            raise self.err(path, f'{e}; or "oom": the first OOM kill') from None

    def sidesteps(self, k: Kernel) -> list[Sidestep]:
        """[[sidesteps]]: each names only the keys its `do` takes, real targets, and never one of the
        scene's own walkthrough moves (the walkthrough must win by the lesson)."""
        out = []
        for i, s in enumerate(self.sc.sidesteps):
            path = f"sidesteps[{i}]"
            allowed = KEYS[s.do]
            for key in ("pid", "cgroup", "futex", "policy", "value", "flags", "value_min", "value_max"):
                if getattr(s, key) is not None and key not in allowed:
                    takes = ", ".join(allowed)
                    raise self.err(f"{path}.{key}", f'{key!r} does not apply to do = "{s.do}" (it takes: {takes})')
            if not s.reason.strip():
                raise self.err(f"{path}.reason", "say why the move skips the lesson: the player reads it")
            if s.pid is not None and s.pid not in k.pids:
                raise self.err(f"{path}.pid", f"no process with pid {s.pid}")
            if s.cgroup is not None:
                c = k.cgroups.get(s.cgroup)
                if c is None:
                    raise self.err(f"{path}.cgroup", f"no cgroup {s.cgroup!r}")
                if BY_DO[s.do].needs_freezer and c.freezer is None:
                    raise self.err(f"{path}.cgroup", f"cgroup {s.cgroup!r} has no freezer")
            if s.futex is not None and s.futex not in k.futexes:
                raise self.err(f"{path}.futex", f"no futex {s.futex!r}")
            if s.policy is not None:
                try:
                    get_policy(s.policy)
                except ValueError as e:
                    raise self.err(f"{path}.policy", str(e)) from None
            for key in ("value", "value_min", "value_max"):
                v = getattr(s, key)
                if v is not None and not -1000 <= v <= 1000:
                    raise self.err(f"{path}.{key}", f"{v} is outside -1000..1000")
            before = None if s.before is None else self._bound(s.before, f"{path}.before")
            after = None if s.after is None else self._bound(s.after, f"{path}.after")
            if isinstance(before, int) and isinstance(after, int) and after >= before:
                raise self.err(f"{path}.after", "the window is empty: after must come before before")
            side = Sidestep(index=i, do=s.do, reason=s.reason.strip(), verdict=s.verdict, pid=s.pid,
                            cgroup=s.cgroup, futex=s.futex, policy=s.policy, value=s.value, flags=s.flags,
                            value_min=s.value_min, value_max=s.value_max, before=before, after=after)
            # walkthrough actions are never sidesteps (an "oom" bound counts as possibly inside)
            for j, st in enumerate(self.sc.walkthrough):
                if isinstance(st, Caption):
                    continue
                at = self.jiffies(st.at, f"walkthrough[{j}].at")  # validated by walkthrough()
                if side.matches_action(st) and side.could_be_in_window(at):
                    raise self.err(path, f"walkthrough[{j}] ({st.describe()} at {st.at}) is this sidestep: "
                                         "the walkthrough must win by the lesson; narrow the sidestep")
            out.append(side)
        return out


class Built(NamedTuple):
    kernel: Kernel
    script: list[tuple[int, Action]]  # the scene's timed actions
    walkthrough: list[Step]
    duration: int  # jiffies
    sidesteps: list[Sidestep]  # player moves that skip the lesson


def build_kernel(ls: LoadedScene, policy: str | None = None, kernel: str | None = None,
                 race_seed: int | None = None) -> Built:
    """race_seed: a race trial (kernel/sched.py) with this seed; None keeps whole-jiffy time."""
    b = Builder(ls)
    pol = b.policy(policy, kernel)
    k, actions = b.build(pol)
    races = b.races(k)
    if race_seed is not None:
        k.race = races(race_seed)
    steps = b.walkthrough(k)
    b.goals(k)
    sidesteps = b.sidesteps(k)
    duration = b.jiffies(ls.scene.duration, "duration")
    # frozen-at-start cgroups: freeze after everything exists, so threads enter the refrigerator
    for c in ls.scene.cgroups:
        if c.frozen:
            k.freeze(c.path)
    k.drain()
    return Built(k, actions, steps, duration, sidesteps)
