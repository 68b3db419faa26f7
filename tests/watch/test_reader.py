"""`oomtui watch`'s reader and next victims on fake machines (tests/watch/fake_machine.py): exact numbers.

The v1 machine: 8 GiB RAM + 1 GiB swap = 2 097 152 + 262 144 = 2 359 296 pages (4 KiB), so one
oom_score_adj point is 2 359 pages globally. Memcgs: /db (limit 512 MiB, memsw 640 MiB) holding
/db/batch (limit 128 MiB, frozen), and /user (no limit).
"""

from __future__ import annotations

import os

import pytest

from oomtui.errors import UserError
from oomtui.watch.reader import Reader, frozen_state, read_robust
from oomtui.watch.monitor import Monitor
from oomtui.watch.victims import next_victims

from .fake_machine import MiB, V1_CG, machine, proc, put

def test_v1_reading_has_every_field(v1) -> None:
    r = Reader(v1, release="6.18.0").read()
    assert [p.pid for p in r.procs] == [1, 100, 101, 200, 201, 300]
    assert (r.kthreads, r.vanished, r.cannot) == (1, 1, ["1 process (permission denied)"])
    pg = r.procs[1]
    assert (pg.comm, pg.counters.rss_anon_kb, pg.counters.rss_file_kb, pg.counters.rss_shmem_kb,
            pg.counters.pgtables_kb, pg.oom_score_adj, pg.oom_score, pg.memcg) == \
        ("postgres", 307200, 20480, 102400, 1024, -500, 364, "/db")
    assert r.procs[3].threads == 30 and r.procs[2].ppid == 100
    assert r.totals.totalpages == 2_359_296
    db = r.memcgs["/db"]
    assert (db.v1, db.limit, db.usage, db.failcnt, db.oom_kills, db.memsw_limit) == \
        (True, 512 << 20, 500 << 20, 7, 1, 640 << 20)
    assert r.memcgs["/user"].limit is None and r.memcgs["/"].limit is None
    assert list(r.memcgs) == ["/", "/db", "/db/batch", "/user"]
    assert frozen_state(r, r.procs[-1]) == "FROZEN" and frozen_state(r, r.procs[1]) is None
    assert (r.psi.some_avg10, r.psi.full_avg10, r.psi.some_total_us) == (2.5, 0.75, 123456)


def test_v1_next_victims_are_the_kernels_arithmetic(v1) -> None:
    s = next_victims(Reader(v1, release="6.18.0").read())
    machine_, db, batch = s.verdicts
    # whole machine: chrome 262 144 rss + 512 pgtables + 300 x 2 359 = 970 356
    assert (machine_.memcg, machine_.totalpages, machine_.victim) == (None, 2_359_296, 200)
    assert machine_.candidates[0].points == 970_356
    assert "chrome (200) has the highest badness" in machine_.why and "= 970356 pages" in machine_.why
    # /db: mem_cgroup_get_max = 131 072 + min(163 840 - 131 072, 262 144) = 163 840, unit 163.
    # postgres 107 520 + 256 - 500 x 163 = 26 276; pg-worker 38 400 + 64 = 38 464; hog 25 600 + 2 560 + 64
    assert (db.memcg, db.totalpages, db.victim, db.limit, db.usage) == ("/db", 163_840, 101, 512 << 20, 500 << 20)
    assert [(c.pid, c.points) for c in db.candidates] == [(101, 38_464), (300, 28_224), (100, 26_276)]
    # /db/batch: memsw unlimited, so 32 768 + all 262 144 swap pages; only hog is inside
    assert (batch.memcg, batch.totalpages, batch.victim) == ("/db/batch", 294_912, 300)
    # the model's /proc/PID/oom_score against the kernel's (pg-worker's file says 678, the model 677)
    assert s.model == {1: 0, 100: 364, 101: 677, 200: 940, 201: 0, 300: 674}
    assert next_victims(Reader(v1, release="6.18.0").read(), only="/db/batch").verdicts == [batch]


def test_v1_before_5_9_ranks_with_unsigned_badness(v1) -> None:
    """A 5.4 kernel floors an eligible task's badness at 1 and prints oom_score as points*1000/totalpages."""
    s = next_victims(Reader(v1, release="5.4.0").read())
    assert s.model[200] == 970_356 * 1000 // 2_359_296 == 411
    assert s.model[100] == 0  # 107 776 - 500 x 2 359 < 0: floored to 1 point, 1000/2 359 296 prints 0


def test_v2_machine(tmp_path) -> None:
    machine(tmp_path, mem_kb=4 * 1024 * MiB, swap_kb=2 * 1024 * MiB, mountinfo=[("/sys/fs/cgroup", "cgroup2", "rw")],
            swappiness=0)
    cg2 = "/sys/fs/cgroup"
    put(tmp_path, f"{cg2}/cgroup.controllers", "cpuset cpu io memory pids\n")
    put(tmp_path, f"{cg2}/app/memory.max", f"{256 << 20}\n")
    put(tmp_path, f"{cg2}/app/memory.swap.max", "max\n")
    put(tmp_path, f"{cg2}/app/memory.current", f"{200 << 20}\n")
    put(tmp_path, f"{cg2}/app/memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n")
    put(tmp_path, f"{cg2}/app/memory.pressure", "some avg10=12.00 avg60=3.00 avg300=1.00 total=99\n"
                                                 "full avg10=4.00 avg60=1.00 avg300=0.50 total=42\n")
    put(tmp_path, f"{cg2}/app/sub/memory.max", "max\n")
    put(tmp_path, f"{cg2}/app/sub/cgroup.events", "populated 1\nfrozen 1\n")
    put(tmp_path, f"{cg2}/app/cgroup.events", "populated 1\nfrozen 0\n")
    proc(tmp_path, 10, "web", anon=100 * MiB, pte=100, adj=100, cgroup="0::/app\n")
    proc(tmp_path, 11, "cron", anon=120 * MiB, cgroup="0::/app/sub\n")
    r = Reader(tmp_path, release="6.8.0").read()
    assert r.memcg_v2
    app = r.memcgs["/app"]
    assert (app.v1, app.limit, app.usage, app.ooms, app.oom_kills, app.swap_max) == (False, 256 << 20, 200 << 20, 2, 1, None)
    assert (app.pressure.some_avg10, app.pressure.full_total_us) == (12.0, 42)
    assert frozen_state(r, r.procs[1]) == "frozen" and frozen_state(r, r.procs[0]) is None
    (machine_, verdict) = next_victims(r).verdicts
    # vm.swappiness 0: no swap in mem_cgroup_get_max: 65 536 pages, unit 65; web 25 600 + 25 + 100 x 65 = 32 125
    assert (verdict.memcg, verdict.totalpages, verdict.victim) == ("/app", 65_536, 10)
    assert [(c.pid, c.points) for c in verdict.candidates] == [(10, 32_125), (11, 30_720)]
    # globally adj weighs 1 572 a point: web 25 625 + 157 200 = 182 825 beats cron 30 720
    assert (machine_.totalpages, machine_.victim, machine_.candidates[0].points) == (1_572_864, 10, 182_825)


def test_robust_lists_of_this_process() -> None:
    """glibc registers a robust list for every thread it starts (set_robust_list); none is held here."""
    r = read_robust(os.getpid())
    if r.unknown and "get_robust_list" in r.unknown:
        pytest.skip(f"this user may not read robust lists: {r.unknown}")
    assert r.registered >= 1 and r.holding == []


def test_each_refresh_reads_what_the_model_weighs(v1) -> None:
    """Every refresh reads oom_score_adj, the kernel's oom_score and the cgroup of every process, status
    where those or statm changed; the model kept between refreshes (processes weighed, added and dropped
    in place, the kernel built again when one moves or a pid wraps) has the numbers of one built anew."""
    m = Monitor(root=str(v1), events=False)  # tick 0: a full read
    chrome = m.procs[200]
    proc(v1, 101, "pg-worker", ppid=100, anon=300 * MiB, pte=256, adj=500, score=999, cgroup=V1_CG.format(m="/db", f="/"))
    proc(v1, 102, "pg-new", ppid=100, anon=1 * MiB, score=666, cgroup=V1_CG.format(m="/db", f="/"))
    m.refresh()  # tick 1: a new pid below others (pid_max wrapped) goes to its place in the task list
    assert not m.reading.full and m.model.rebuilds == 1 and m.model.moved
    assert [p.pid for p in m.k.tasklist] == [1, 100, 101, 102, 200, 201, 300]
    w = m.procs[101]
    assert (w.counters.rss_anon_kb, w.oom_score_adj, w.oom_score, m.procs[102].oom_score) == (300 * MiB, 500, 999, 666)
    assert m.procs[200] is chrome  # none of its files changed: the same Proc, not weighed again
    assert m.scores == next_victims(m.reading)
    # oom_score_adj alone changes (statm does not): read at once, weighed in place. chrome is now
    # ineligible, and pg-worker leads: 76 800 + 64 pages + 500 x 2 359 = 1 256 364
    (v1 / "proc/200/oom_score_adj").write_text("-1000\n")
    m.refresh()
    assert m.model.rebuilds == 1 and m.procs[200].oom_score_adj == -1000 and m.model.changed == [200]
    whole = m.scores.verdicts[0]
    assert (whole.victim, whole.candidates[0].points) == (101, 1_256_364)
    assert m.scores == next_victims(m.reading)
    # a process exits, a bigger one starts (above every pid): both in place, the new one the next victim
    for f in (v1 / "proc/201").iterdir():
        f.unlink()
    (v1 / "proc/201").rmdir()
    proc(v1, 400, "java", anon=6144 * MiB, pte=8192, score=900, cgroup=V1_CG.format(m="/user", f="/"))
    m.refresh()
    assert m.model.rebuilds == 1 and m.model.moved and 201 not in m.k.pids
    whole = m.scores.verdicts[0]  # 1 572 864 + 2 048 pages
    assert (whole.victim, whole.candidates[0].points, m.k.tasklist[-1].pid) == (400, 1_574_912, 400)
    assert m.scores == next_victims(m.reading)
    # status rewritten alone (statm, oom_score_adj, oom_score, cgroup as they were) is seen at the next full read
    statm = (v1 / "proc/200/statm").read_text()
    proc(v1, 200, "chrome", anon=1024 * MiB, pte=4096, adj=-1000, score=940, cgroup=V1_CG.format(m="/user", f="/"))
    (v1 / "proc/200/statm").write_text(statm)
    m.refresh()
    assert m.procs[200].counters.pgtables_kb == 2048
    while not m.reading.full:
        m.refresh()
    assert m.procs[200].counters.pgtables_kb == 4096 and m.scores == next_victims(m.reading)
    # a process moved to another memcg: the kernel is built again
    proc(v1, 102, "pg-new", ppid=100, anon=1 * MiB, score=666, cgroup=V1_CG.format(m="/db/batch", f="/"))
    m.refresh()
    assert m.model.rebuilds == 2 and m.procs[102].memcg == "/db/batch"
    assert [c.pid for c in m.scores.verdicts[2].candidates] == [300, 102] and m.scores == next_victims(m.reading)


def test_one_cgroup_subtree(v1) -> None:
    """--cgroup: only the processes of that memcg and below (their cgroup.procs, not all of /proc)."""
    m = Monitor(root=str(v1), cgroup="/db/", events=False)
    assert sorted(m.procs) == [100, 101, 300]
    assert [(v.memcg, v.victim) for v in m.scores.verdicts] == [("/db", 101), ("/db/batch", 300)]
    with pytest.raises(UserError, match=r"--cgroup /nope: no such memory cgroup \(looked for .*/sys/fs/cgroup/memory/nope\)"):
        Monitor(root=str(v1), cgroup="/nope", events=False)


def test_cgroups_by_prefix(v1) -> None:
    """--cgroup PREFIX*: every memcg whose path begins with PREFIX (`oomtui lab --watch` watches
    /oomtui-lab-CHILD-*, groups that come and go); none yet is not an error."""
    m = Monitor(root=str(v1), cgroup="/d*", events=False)
    assert sorted(m.procs) == [100, 101, 300]
    assert [(v.memcg, v.victim) for v in m.scores.verdicts] == [("/db", 101), ("/db/batch", 300)]
    empty = Monitor(root=str(v1), cgroup="/oomtui-lab-1-*", events=False)
    assert (empty.procs, empty.scores.verdicts, list(empty.reading.memcgs)) == ({}, [], ["/"])
    (v1 / "sys/fs/cgroup/memory/oomtui-lab-1-x").mkdir()
    put(v1, "/sys/fs/cgroup/memory/oomtui-lab-1-x/cgroup.procs", "200\n")  # chrome, as if moved there
    empty.refresh()
    assert list(empty.procs) == [200]


def test_cgroups_learnt_from_cgroup_procs(v1) -> None:
    """With fewer cgroups than processes (one per PROCS_PER_CGROUP), who is where comes from the groups'
    cgroup.procs; /proc/PID/cgroup is read only for a process new, or listed elsewhere than it said last
    time: a move is seen at the next reading, also when it is caught between two groups' cgroup.procs."""
    procs = {"memory/db": [100, 101], "memory/db/batch": [300], "memory/user": [200],
             "freezer/db/batch": [300], "unified": []}
    for pid in range(1000, 1040):  # a busy /user: 40 sleepers
        proc(v1, pid, "sleep", anon=1 * MiB, score=1, cgroup=V1_CG.format(m="/user", f="/"))
        procs["memory/user"].append(pid)
    put(v1, "/sys/fs/cgroup/freezer/db/cgroup.procs", "")

    def lists() -> None:
        for group, pids in procs.items():
            put(v1, f"/sys/fs/cgroup/{group}/cgroup.procs", "".join(f"{p}\n" for p in pids))

    def move(pid: int, old: str | None, new: str | None) -> None:
        if old:
            procs[f"memory{old}"].remove(pid)
        if new:
            procs[f"memory{new}"].append(pid)
        lists()

    lists()
    reader, per_process = Reader(v1, release="6.18.0"), Reader(v1, release="6.18.0")
    per_process.same_pidns = False  # /proc of another pid namespace: every /proc/PID/cgroup is read
    r = reader.read()
    assert reader.from_cgroups and not per_process.from_cgroups
    assert r.procs == per_process.read().procs
    assert [(p.pid, p.memcg, p.freezer, p.cgroup2) for p in r.procs[:6]] == [
        (1, "/", "/", "/"), (100, "/db", "/", "/"), (101, "/db", "/", "/"), (200, "/user", "/", "/"),
        (201, "/", "/", "/"), (300, "/db/batch", "/db/batch", "/")]
    # a process listed where it was: /proc/PID/cgroup is not read again (here it lies, as no kernel would)
    put(v1, "/proc/1000/cgroup", V1_CG.format(m="/db", f="/"))
    assert reader.read(full=False).procs[6].memcg == "/user"
    # moved from /user to /db (cgroup_migrate(): /proc/PID/cgroup and both cgroup.procs at once)
    move(1000, "/user", "/db")
    r = reader.read(full=False)
    assert r.procs[6].memcg == "/db" and r.procs == per_process.read(full=False).procs
    # caught mid-move, /db -> /db/batch: gone from /db's cgroup.procs, not yet in /db/batch's
    put(v1, "/proc/1000/cgroup", V1_CG.format(m="/db/batch", f="/"))
    move(1000, "/db", None)
    assert reader.read(full=False).procs[6].memcg == "/db/batch"
    # listed in both (caught the other way round): /proc/PID/cgroup decides
    move(1001, None, "/db")
    put(v1, "/proc/1001/cgroup", V1_CG.format(m="/db", f="/"))
    assert reader.read(full=False).procs[7].memcg == "/db"
    move(1001, "/user", None)
    assert reader.read(full=False).procs[7].memcg == "/db"
    # more groups than one per PROCS_PER_CGROUP processes: every process's /proc/PID/cgroup
    for i in range(6):
        (v1 / f"sys/fs/cgroup/unified/g{i}").mkdir()
    assert reader.read().procs == per_process.read().procs and not reader.from_cgroups
