"""Random scenes and random action sequences never crash and keep the model's invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oomtui.kernel.core import KernelError
from oomtui.kernel.policy import POLICIES
from oomtui.scene import actions as A
from tests.helpers import sim


@st.composite
def scenes(draw):
    n = draw(st.integers(1, 5))
    lines = ['title = "p"', 'story = "p"', f'ram = "{draw(st.integers(256, 2048))} MiB"', 'duration = "3s"']
    lines += ['[[cgroups]]', 'path = "/v1"', 'freezer = "v1"', f'frozen = {str(draw(st.booleans())).lower()}',
              '[[cgroups]]', 'path = "/v2"', 'freezer = "v2"', f'memory_max = "{draw(st.integers(64, 1024))} MiB"',
              '[[shm]]', 'name = "m"', 'size = "4 KiB"']
    tids = []
    for i in range(n):
        pid = 100 * (i + 1)
        cg = draw(st.sampled_from(["/", "/v1", "/v2"]))
        lines += ['[[processes]]', f'pid = {pid}', f'comm = "p{i}"', f'cgroup = "{cg}"',
                  f'rss = "{draw(st.integers(0, 400))} MiB"', f'oom_score_adj = {draw(st.integers(-1000, 1000))}']
        if i and draw(st.integers(0, 5)) == 0:
            lines[-2] = 'rss = 0'
        for j in range(draw(st.integers(1, 3))):
            tid = pid + j
            tids.append(tid)
            lines += ['  [[processes.threads]]', f'  tid = {tid}',
                      f'  robust_list = {str(draw(st.booleans())).lower()}',
                      f'  exit_latency = "{draw(st.integers(1, 200))}ms"']
            if j and draw(st.integers(0, 4)) == 0:
                lines += ['  state = "D"', f'  d_for = "{draw(st.integers(10, 3000))}ms"',
                          f'  mmap_lock = {str(draw(st.booleans())).lower()}']
        lines += ['  [[processes.vmas]]', '  kind = "shmem"', '  size = "4 KiB"', '  shm = "m"']
        if draw(st.booleans()):
            lines += ['  [processes.alloc]', f'  rate = "{draw(st.integers(16, 512))} MiB/s"',
                      f'  target = "{draw(st.integers(1, 1500))} MiB"', f'  thread = {pid}']
    if len(tids) >= 2:
        owner, waiter = draw(st.permutations(tids))[:2]
        lines += ['[[futexes]]', 'name = "M"', 'shm = "m"', f'robust = {str(draw(st.booleans())).lower()}',
                  f'owner = {owner}', f'waiters = [{{ tid = {waiter} }}]']
    return "\n".join(lines) + "\n", [100 * (i + 1) for i in range(n)]


def action_strategy(pids):
    return st.one_of(
        st.builds(A.Kill, pid=st.sampled_from(pids + [4242])),
        st.builds(A.Sigterm, pid=st.sampled_from(pids)),
        st.builds(A.Mrelease, pid=st.sampled_from(pids), flags=st.sampled_from([0, 0, 1])),
        st.builds(A.Oom, cgroup=st.sampled_from([None, "/v2"])),
        st.builds(A.Freeze, cgroup=st.sampled_from(["/v1", "/v2"])),
        st.builds(A.Thaw, cgroup=st.sampled_from(["/v1", "/v2"])),
        st.builds(A.SetAdj, pid=st.sampled_from(pids), value=st.integers(-1000, 1000)),
        st.builds(A.SetPolicy, policy=st.sampled_from(list(POLICIES))),
    )


def check_invariants(k):
    mms = k.mms
    for mm in mms:
        anon = sum(v.rss for v in mm.vmas if v.counter == "anon")
        assert mm.anon == anon and mm.anon >= 0
        assert mm.file == sum(v.rss for v in mm.vmas if v.counter == "file") >= 0
        assert mm.shmem == sum(v.rss for v in mm.vmas if v.counter == "shmem") >= 0
        assert mm.swapents == sum(v.swap for v in mm.vmas) >= 0
        assert all(v.rss >= 0 and v.swap >= 0 for v in mm.vmas)
        assert mm.mm_users >= 0
    # pages are conserved: what is used is exactly what is mapped, cached in shm, or page tables
    expect = k.reserved_pages + sum(mm.anon + mm.pgtables_bytes // 4096 for mm in mms) + sum(s.pages for s in k.shm.values())
    assert k.used_pages == expect
    assert k.swap_used == sum(mm.swapents for mm in mms) >= 0
    for cg in k.cgroups.values():
        charged = sum(mm.anon for mm in mms if mm.memcg.is_descendant_of(cg))
        charged += sum(n for s in k.shm.values() for memcg, n in s.charges if memcg.is_descendant_of(cg))
        assert cg.usage == charged >= 0
    for f in k.futexes.values():
        # one owner at most, and the word says who it is
        if f.owner_task is not None:
            assert f.owner_tid == f.owner_task.tid
        owners = [t for t in k.tids.values() if f in t.robust_held]
        assert len(owners) <= 1
        assert all(w.outcome is None for w in f.waiters)
    for t in k.tids.values():
        if not t.alive:  # a dead task holds nothing
            assert t.mm is None and t.waiting_on is None and not t.robust_held


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_scenes_and_actions_keep_invariants(data):
    text, pids = data.draw(scenes())
    policy = data.draw(st.sampled_from(list(POLICIES)))
    s = sim(text, policy)
    steps = data.draw(st.lists(st.tuples(st.integers(0, 200), action_strategy(pids)), max_size=8))
    check_invariants(s.k)
    for gap, action in steps:
        s.advance(gap)
        try:
            s.apply(action)
        except KernelError:
            pass
        check_invariants(s.k)
    s.advance(800)
    check_invariants(s.k)
    o = s.outcome()
    assert all(w.outcome in ("eownerdead", "acquired", "timedout", "blocked", "hung", "killed") for w in o.waiters)
    assert o.oom_blocked_ms >= 0


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_same_scene_and_actions_give_identical_events(data):
    text, pids = data.draw(scenes())
    steps = data.draw(st.lists(st.tuples(st.integers(0, 100), action_strategy(pids)), max_size=5))

    def once():
        s = sim(text, "linux-6.18")
        for gap, action in steps:
            s.advance(gap)
            try:
                s.apply(action)
            except KernelError:
                pass
        s.advance(500)
        import msgspec

        return msgspec.json.encode(s.k.events)

    assert once() == once()
