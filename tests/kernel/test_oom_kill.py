"""oom_kill_process and friends: memory.oom.group, the pre-5.1 child sacrifice, pinned mm, no killable
process, the pending-victim abort, the task_will_free_mem(current) shortcut, the LIFO reaper queue."""

from oomtui.kernel import events as ev
from oomtui.scene.actions import Kill, Oom
from tests.helpers import HEAD, sim


def kinds(s, cls):
    return [e for e in s.k.events if isinstance(e, cls)]


GROUP = HEAD + """
[[cgroups]]
path = "/pod"
oom_group = true
memory_max = "600 MiB"

[[processes]]
pid = 100
comm = "a"
cgroup = "/pod"
rss = "300 MiB"

[[processes]]
pid = 200
comm = "b"
cgroup = "/pod"
rss = "100 MiB"

[[processes]]
pid = 300
comm = "c"
cgroup = "/pod"
rss = "50 MiB"
oom_score_adj = -1000

[[processes]]
pid = 400
comm = "outside"
rss = "10 MiB"
"""


def test_memory_oom_group_kills_the_whole_group_and_the_victim_twice():
    s = sim(GROUP, "linux-6.18")
    s.apply(Oom(cgroup="/pod"))
    kills = [(k.pid, k.reason) for k in kinds(s, ev.Kill)]
    assert kills[0] == (100, "oom")
    assert (200, "oom_group") in kills and (100, "oom_group") in kills
    assert all(pid != 300 for pid, _ in kills)  # -1000 is spared
    assert all(pid != 400 for pid, _ in kills)  # outside the group
    lines = [e.line for e in kinds(s, ev.Dmesg)]
    assert "Tasks in /pod are going to be killed due to memory.oom.group set" in lines
    assert sum(line.startswith("Memory cgroup out of memory: Killed process 100 (a)") for line in lines) == 2


CHILD = HEAD + """
[[processes]]
pid = 100
comm = "parent"
rss = "400 MiB"

[[processes]]
pid = 101
comm = "small-child"
parent = 100
rss = "20 MiB"

[[processes]]
pid = 102
comm = "big-child"
parent = 100
rss = "80 MiB"
"""


def test_before_5_1_the_biggest_child_is_sacrificed():
    s = sim(CHILD, "linux-4.6")  # 4.19 rules
    s.apply(Oom())
    lines = [e.line for e in kinds(s, ev.Dmesg)]
    assert any(line.startswith("Out of memory: Kill process 100 (parent) score") and line.endswith("or sacrifice child")
               for line in lines)
    assert [k.pid for k in kinds(s, ev.Kill)] == [102]
    assert any(line.startswith("Killed process 102 (big-child)") for line in lines)
    s = sim(CHILD, "linux-6.18")
    s.apply(Oom())
    assert [k.pid for k in kinds(s, ev.Kill)] == [100]


def test_an_mm_shared_with_init_is_never_reaped():
    s = sim(HEAD + """
[[processes]]
pid = 1
comm = "init"
init = true
rss = "400 MiB"

[[processes]]
pid = 50
comm = "helper"
shares_mm_with = 1
""", "linux-6.18")
    s.apply(Oom())
    lines = [e.line for e in kinds(s, ev.Dmesg)]
    assert "oom killer 50 (helper) has mm pinned by 1 (init)" in lines
    assert "MMF_OOM_SKIP" in s.k.pids[1].mm.flags  # set at once: the next OOM may pick another
    assert kinds(s, ev.ReaperQueued) == []


def test_no_killable_process_panics_a_global_oom_but_not_a_memcg_one():
    only_init = HEAD + '[[processes]]\npid = 1\ncomm = "init"\ninit = true\nrss = "100 MiB"\n'
    s = sim(only_init + '\n[[processes]]\npid = 2\ncomm = "x"\nrss = "900 MiB"\noom_score_adj = -1000\n'
            '  [processes.alloc]\n  rate = "256 MiB/s"\n  target = "500 MiB"\n', "linux-6.18")
    s.advance(250)
    assert s.k.panicked
    assert "Out of memory and no killable processes..." in [e.line for e in kinds(s, ev.Dmesg)]
    m = sim(HEAD + '[[cgroups]]\npath = "/g"\nmemory_max = "50 MiB"\n[[processes]]\npid = 2\ncomm = "x"\n'
            'cgroup = "/g"\nrss = "40 MiB"\noom_score_adj = -1000\n  [processes.alloc]\n  rate = "64 MiB/s"\n'
            '  target = "100 MiB"\n', "linux-6.18")
    m.advance(250)
    assert not m.k.panicked
    assert [e.memcg for e in kinds(m, ev.AllocFailed)] == ["/g"]


FROZEN_VICTIM = HEAD + """
[[cgroups]]
path = "/f"
freezer = "v1"
frozen = true

[[processes]]
pid = 100
comm = "big"
cgroup = "/f"
rss = "600 MiB"
  [[processes.threads]]
  tid = 100
  [[processes.threads]]
  tid = 101

[[processes]]
pid = 200
comm = "hog"
rss = "50 MiB"
  [processes.alloc]
  rate = "256 MiB/s"
  target = "500 MiB"
"""


def test_a_pending_victim_blocks_every_oom_until_mmf_oom_skip():
    s = sim(FROZEN_VICTIM, "linux-5.18")
    s.advance(1000)  # the OOM comes at ~1.4 s; the frozen victim cannot exit
    aborted = kinds(s, ev.OomAborted)
    assert aborted and aborted[0].blocked_by == 100
    kill_t = kinds(s, ev.Kill)[0].t
    reaped = [r for r in kinds(s, ev.Reaped) if r.result == "reaped"]
    assert reaped and reaped[0].t >= kill_t + 500  # nothing else was killed before the 2 s reap
    assert [k.pid for k in kinds(s, ev.Kill)] == [100]
    assert 1900 <= s.outcome().oom_blocked_ms <= 2100


def test_a_dying_allocator_takes_the_task_will_free_mem_shortcut():
    s = sim(FROZEN_VICTIM.replace('rate = "256 MiB/s"', 'rate = "256 MiB/s"\n  start = "10s"'), "linux-6.18")
    s.apply(Kill(pid=200))
    from oomtui.kernel.oom_kill import out_of_memory

    t = s.k.tids[200]
    assert out_of_memory(s.k, None, t) == "progress"
    short = kinds(s, ev.OomShortcut)
    assert short and short[0].where == "current" and short[0].pid == 200
    assert not ev.dmesg_events(s.k.events)  # no dump, no Killed line
    assert s.k.pids[200].oom_mm is not None


def test_reaper_queue_is_lifo():
    s = sim(HEAD + """
[[processes]]
pid = 100
comm = "a"
rss = "300 MiB"

[[processes]]
pid = 200
comm = "b"
rss = "200 MiB"
  [[processes.threads]]
  tid = 200
  state = "D"
  d_for = "5s"
""", "linux-4.6")
    s.k.sysrq_oom()  # a (biggest) is queued and the kthread is woken
    s.k.set_oom_score_adj(200, 1000)
    s.k.sysrq_oom()  # b is pushed at the head before the kthread runs
    assert [p.pid for p in s.k.oom_reaper_list] == [200, 100]
    s.advance(1)
    attempts = [e.pid for e in kinds(s, ev.ReaperAttempt)]
    assert attempts[0] == 200  # popped from the head: last in, first out


def test_a_dump_tasks_table_is_one_event_read_back_as_its_lines_in_order():
    s = sim(GROUP, "linux-6.18")
    s.apply(Oom(cgroup="/pod"))
    batch, = kinds(s, ev.DmesgLines)  # one OOM, one table
    lines = [e.line for e in ev.dmesg_events(s.k.events)]
    header = lines.index("[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name")
    assert lines[header + 1:header + 1 + len(batch.lines)] == batch.lines
    assert [r.split()[1] for r in batch.lines] == ["100]", "200]", "300]"]  # scan order, -1000 listed too
    assert [s.k.format_dmesg(e) for e in ev.dmesg_events(s.k.events)] == s.k.dmesg()
