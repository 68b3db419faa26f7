"""The columns select_bad_process() reads (oom_kill.BadnessInputs) say what the objects say, after
whatever wrote to them: every built-in scene under two policies, scripted and played, race trials,
and `oomtui watch`'s model as processes come, change and go. Each check recomputes every row from the
objects, and a selection from the columns is compared with a walk over the objects by the reference
rules (process_badness, better_candidate), for the whole machine and for every memcg."""

from __future__ import annotations

from array import array

import pytest

from oomtui.kernel import oom_kill
from oomtui.kernel.core import Kernel
from oomtui.kernel.oom_badness import better_candidate
from oomtui.kernel.oom_kill import (
    ADJ_MIN, CAP_SYS_ADMIN, IN_VFORK, OOM_SKIP, SCORED, OomControl, constrained_alloc, oom_unkillable_task,
    process_badness, scan_order, select_bad_process,
)
from oomtui.kernel.policy import get_policy
from oomtui.kernel.state import MMF_OOM_SKIP, Vma
from oomtui.scene.load import builtin_ids, load_scene
from oomtui.scene.sim import Simulation
from oomtui.watch import victims


def check_rows(k: Kernel) -> int:
    """Every process's row against its objects, and each cgroup's member rows; returns the rows checked."""
    cols = k.badness
    live = [p for p in cols.procs if p is not None]
    assert len(set(map(id, live))) == len(live)
    checked = 0
    for p in k.pids.values():
        s = cols.row(p)
        if p.exited_at is not None:
            assert s == -1, f"{p.comm} ({p.pid}) exited but keeps row {s}"
            continue
        assert s >= 0 and cols.procs[s] is p
        t = p.find_lock_task_mm()
        assert p.mm is (t.mm if t is not None else None)  # find_lock_task_mm()'s mm
        mm = p.init_mm
        flags = ((OOM_SKIP if mm is not None and MMF_OOM_SKIP in mm.flags else 0) | (IN_VFORK if p.in_vfork else 0)
                 | (CAP_SYS_ADMIN if p.cap_sys_admin else 0) | (ADJ_MIN if p.oom_score_adj == -1000 else 0)
                 | (SCORED if p.mm is not None and not oom_unkillable_task(p) else 0))
        expected = (p.order, mm.rss + mm.swapents + mm.pgtables_bytes // 4096 if mm is not None else 0,
                    p.oom_score_adj, flags)
        assert (cols.order[s], cols.pages[s], cols.adjs[s], cols.flags[s]) == expected, p.comm
        checked += 1
    for cg in [*k.cgroups.values(), *([k.freezer_root] if k.freezer_root else [])]:
        rows = list(cols.members.get(cg, ()))
        assert rows == [p.slot for p in cg.members], cg.path
        if rows and cg in cols.consecutive:  # scan_rows() reads these as one slice of the columns
            assert rows == list(range(rows[0], rows[0] + len(rows))), cg.path
    if cols.in_order:  # rows in scan order: the global table's positions are rows
        order = [cols.order[s] for s, p in enumerate(cols.procs) if p is not None]
        assert all(a < b for a, b in zip(order, order[1:]))
    return checked


def reference_choice(k: Kernel, oc: OomControl):
    """oom_evaluate_task() over the objects in scan order: (chosen, points), no columns involved."""
    v = k.policy.version
    chosen, chosen_points = None, None
    for p in scan_order(k, oc.memcg):
        if oom_unkillable_task(p) or p.exited_at is not None:
            continue
        points, _ = process_badness(k, p, oc.totalpages)
        if points is None:
            continue
        if chosen is None or better_candidate(points, chosen_points, True, v):
            chosen, chosen_points = p, points
    return chosen, chosen_points


def check_selections(k: Kernel) -> None:
    """A global selection and one per memcg, from the columns, as the objects would have them."""
    for memcg in [None, *(cg for cg in k.cgroups.values() if cg.memory and cg.parent is not None)]:
        oc = OomControl(memcg, None, True, constrained_alloc(k, memcg))  # sysrq: no abort on a victim
        select_bad_process(k, oc)
        chosen, points = reference_choice(k, oc)
        assert (oc.chosen, oc.chosen_points if oc.chosen else None) == (chosen, points), memcg and memcg.path


@pytest.fixture
def checked_selects(monkeypatch):
    """Every select_bad_process() the kernel makes checks the columns first."""
    real, count = oom_kill.select_bad_process, []

    def select(k, oc):
        count.append(check_rows(k))
        return real(k, oc)

    monkeypatch.setattr(oom_kill, "select_bad_process", select)
    return count


def play(sim: Simulation, autoplay: bool) -> int:
    """Run the scene a jiffy at a time (or its walkthrough), checking rows and selections as it goes."""
    if autoplay:
        sim.autoplay()
        return check_rows(sim.k)
    rows = 0
    while sim.k.jiffies < sim.duration and not sim.k.panicked:
        if sim.advance(1):
            rows += check_rows(sim.k)
            check_selections(sim.k)
    return rows


@pytest.mark.parametrize("sid", builtin_ids())
def test_rows_follow_every_writer_through_every_built_in_scene(sid, checked_selects):
    ls = load_scene(sid)
    rows = 0
    for policy in ("linux-6.18", "linux-4.6"):
        rows += play(Simulation(ls, policy), autoplay=False)
        if ls.scene.walkthrough:
            rows += play(Simulation(ls, policy), autoplay=True)
    assert rows > 0


@pytest.mark.parametrize("sid", ["lmkd-mrelease", "lmkd-player", "shared-mm-frozen", "v2-frozen-victim"])
def test_rows_follow_race_trials(sid, checked_selects):
    ls = load_scene(sid)
    for seed in range(3):
        sim = Simulation(ls, race_seed=seed)
        sim.run(dmesg=False)
        check_rows(sim.k)
        check_selections(sim.k)


def test_a_kernel_built_by_hand_keeps_its_rows_through_each_writer():
    k = Kernel(get_policy("linux-4.6"), ram_pages=1 << 20)
    k.add_cgroup("/a", limit=1 << 16)
    k.add_cgroup("/a/b")
    k.add_cgroup("/c")
    k.add_cgroup("/fz", memory=False, freezer="v1")
    init = k.add_process(1, "init", is_init=True)
    k.add_thread(init, 1)
    kt = k.add_process(2, "kthreadd", kthread=True)
    k.add_thread(kt, 2)
    procs = []
    for i in range(12):
        cg = ["/a", "/a/b", "/c", "/"][i % 4]
        p = k.add_process(100 + i, f"p{i}", cg, parent=1, cap_sys_admin=i % 5 == 0,
                          freezer_cgroup="/fz" if i == 3 else None)
        k.add_thread(p, 100 + i)
        k.add_thread(p, 1000 + i)
        k.add_vma(p.init_mm, Vma(0x1000, 0x1000 + 4096 * 64, "anon", "[heap]", 10 * i + 1, swap=i))
        k.set_pgtables_bytes(p.init_mm, 4096 * (i % 3))
        procs.append(p)
    sharer = k.add_process(200, "sharer", "/c", mm=procs[2].init_mm, in_vfork=True)
    k.add_thread(sharer, 200)
    check_rows(k)
    check_selections(k)
    k.add_mm_counter(procs[4].init_mm, "anon", 5000)  # page_alloc
    k.add_mm_counter(procs[2].init_mm, "swapents", 7)  # both processes of the mm
    k.set_oom_score_adj(105, -1000)
    k.set_oom_score_adj(106, 700)
    k.set_mm_flag(procs[7].init_mm, MMF_OOM_SKIP)
    kept = dict(k.memcg_oom_tables)
    assert {cg.path for cg in kept} == {"/a", "/a/b", "/c"}
    check_selections(k)  # the kept memcg tables, brought up to date from the changed rows
    assert k.memcg_oom_tables == kept and all(k.memcg_oom_tables[cg] is t for cg, t in kept.items())
    k.move(108, "/a/b")  # css_set_move_task(): mem_cgroup_scan_tasks() of /a and /a/b walks other rows now
    assert set(k.memcg_oom_tables) == {k.cgroup("/c")}
    k.move(103, "/", hierarchy="freezer")  # to the end of its memcg's css_set too
    check_rows(k)
    check_selections(k)
    k.kill(109)  # exit_mm, exit_mmap, cgroup_exit
    k.kill(104)
    k.step(50)
    assert procs[8].exited_at is not None or procs[4].exited_at is not None
    check_rows(k)
    check_selections(k)
    k.set_policy(get_policy("linux-6.18"))  # another era: the kept table scored again
    k.swap_pages += 1 << 16
    check_rows(k)
    check_selections(k)


def test_watch_model_rows_as_processes_come_change_and_go(monkeypatch):
    """`oomtui watch` adds, updates and drops processes in a kept kernel; pids out of order and rows of gone
    processes (compacted once there are many) keep the rows right."""
    monkeypatch.setattr(oom_kill, "COMPACT_MIN", 8)
    k = Kernel(get_policy("linux-6.18"), ram_pages=1 << 20, swap_pages=1 << 16)
    k.add_cgroup("/m", limit=1 << 14)

    class Counters:
        def __init__(self, n: int):
            self.rss_anon_kb, self.rss_file_kb, self.rss_shmem_kb = 4 * n, 8, 0
            self.swap_kb, self.pgtables_kb = n % 5 * 4, 4 + n % 3 * 4

    class Proc:
        def __init__(self, pid: int, n: int, adj: int = 0):
            self.pid, self.comm, self.uid, self.oom_score_adj = pid, f"c{pid}", 0, adj
            self.memcg = "/m" if pid % 2 else "/"
            self.counters = Counters(n)

    for pid in range(100, 160, 3):
        victims.add_process(k, Proc(pid, pid), 4096)
    check_rows(k)
    check_selections(k)
    generation = k.badness.generation
    for round in range(6):
        for proc in [p for p in list(k.pids.values()) if (p.pid + round) % 4 == 0]:
            victims.drop_process(k, proc)
        for pid in range(200 + 40 * round, 220 + 40 * round):
            victims.add_process(k, Proc(pid, pid * (round + 1), adj=-1000 if pid % 7 == 0 else 0), 4096)
        victims.add_process(k, Proc(50 + round, 999), 4096)  # a wrapped pid: before the others
        for p in list(k.pids.values())[::3]:
            victims.set_process(k, p, Proc(p.pid, p.pid + round, adj=300), 4096)
        check_rows(k)
        check_selections(k)
    assert k.badness.generation > generation  # rows were compacted (and put back in scan order)
    assert len(k.badness.procs) < 4 * len(k.pids)


def test_a_compaction_that_interleaves_a_memcg_keeps_its_scan_right():
    """Rows put back in scan order: a memcg whose rows were one run (read as a slice of the columns) is one no
    longer when a process of another memcg sorts between them (a reused pid under `oomtui watch`)."""
    k = Kernel(get_policy("linux-6.18"), ram_pages=1 << 20)
    k.add_cgroup("/a", limit=1 << 14)
    k.add_cgroup("/b", limit=1 << 14)

    class Counters:
        rss_anon_kb, rss_file_kb, rss_shmem_kb, swap_kb, pgtables_kb = 400, 8, 0, 0, 4

    class Proc:
        def __init__(self, pid: int, memcg: str):
            self.pid, self.comm, self.uid, self.oom_score_adj, self.memcg = pid, f"c{pid}", 0, 0, memcg
            self.counters = Counters()

    for pid, memcg in ((100, "/a"), (102, "/a"), (101, "/b")):
        victims.add_process(k, Proc(pid, memcg), 4096)
    k.badness.compact()
    check_rows(k)
    check_selections(k)


def test_a_memcg_subtree_is_read_by_runs_in_mem_cgroup_iter_order():
    """mem_cgroup_scan_tasks() walks a memcg and its descendants in pre-order: the rows of each memcg that are one
    run are read as slices of the columns, in that order whatever order they were created in, and the others one by
    one. Two processes tie on the most points: the later scanned wins from 5.9, the first scanned before."""
    k = Kernel(get_policy("linux-6.18"), ram_pages=1 << 20)
    for path in ("/t", "/t/a", "/t/b", "/t/b/c", "/u", "/v", "/v/x", "/v/y"):
        k.add_cgroup(path, limit=1 << 16 if path.count("/") == 1 else None)
    pid = 100
    # /t's children created out of pre-order (/t/b/c, /t/b, /t/a), /t's own processes between /u's: one by one;
    # /v/x then /v/y in pre-order: one run for all of /v
    for cg, n in (("/t/b/c", 3), ("/t/b", 3), ("/t/a", 3), ("/t", 1), ("/u", 1), ("/t", 1), ("/u", 1),
                  ("/v/x", 3), ("/v/y", 3)):
        for _ in range(n):
            p = k.add_process(pid, f"p{pid}", cg)
            k.add_thread(p, pid)
            pages = 64 if pid in (101, 111) else 10 + pid * 7 % 23
            k.add_vma(p.init_mm, Vma(0x1000, 0x1000 + 4096 * pages, "anon", "[heap]", pages))
            pid += 1
    t = k.cgroup("/t")
    rows, runs = oom_kill.scan_rows(k, t)
    assert [p.slot for p in scan_order(k, t)] == list(rows)
    assert [type(r) for r in runs] == [array, range, range, range]  # /t, /t/a, /t/b, /t/b/c
    assert oom_kill.scan_rows(k, k.cgroup("/v"))[0] == range(13, 19)
    for policy in ("linux-6.18", "linux-4.6"):
        k.set_policy(get_policy(policy))  # the kept tables scored again
        check_selections(k)
        oc = OomControl(t, None, True, constrained_alloc(k, t))
        select_bad_process(k, oc)
        assert oc.chosen is k.process(101 if policy == "linux-6.18" else 111)  # /t/b/c's second, /t's second
        ranked = sorted(scan_order(k, t), key=lambda p: -process_badness(k, p, oc.totalpages)[0])  # stable
        assert [(c.pid, c.points) for c in oc.candidates] == [
            (p.pid, process_badness(k, p, oc.totalpages)[0]) for p in ranked]
    k.add_mm_counter(k.process(107).init_mm, "anon", 100)  # /t/a's second: the kept table brought up to date
    check_selections(k)
    oc = OomControl(t, None, True, constrained_alloc(k, t))
    select_bad_process(k, oc)
    assert oc.chosen is k.process(107) is k.memcg_oom_tables[t].proc(3)  # /t's two, then /t/a's
