"""Edge cases found in review: each once gave a wrong outcome or a crash."""

import pytest

from oomtui.kernel import events as ev
from oomtui.scene.load import SceneError, load_scene
from oomtui.scene.sim import Simulation
from tests.helpers import sim

T = 'title = "t"\nstory = "s"\n'


def test_exit_mmap_does_not_finish_while_the_reaper_still_holds_half_the_heap():
    # a slow reaper starts on the heap; the victim's own exit_mmap must finish that heap too before
    # MMF_OOM_SKIP lets the OOM killer choose again: no second victim
    s = sim(T + """ram = "1 GiB"
duration = "4s"
policy = "robust-delay"
reap_rate = "100 MiB/s"
[[processes]]
pid = 100
comm = "big"
rss = "600 MiB"
  [[processes.threads]]
  tid = 100
  robust_list = false
  exit_latency = "40ms"
[[processes]]
pid = 200
comm = "bystander"
rss = "150 MiB"
[[processes]]
pid = 300
comm = "loader"
rss = "32 MiB"
  [processes.alloc]
  rate = "256 MiB/s"
  target = "500 MiB"
""")
    o = s.run()
    assert [k.pid for k in o.kills if k.reason == "oom"] == [100]
    assert sum(f.freed_kb for f in o.freed if f.pid == 100) >= 600 * 1024


def test_memcg_oom_after_a_victim_exited_does_not_crash_and_skips_the_exited_task():
    s = sim(T + """ram = "4 GiB"
duration = "5s"
policy = "linux-5.18"
[[cgroups]]
path = "/m"
memory_max = "600 MiB"
[[processes]]
pid = 100
comm = "a"
cgroup = "/m"
rss = "400 MiB"
  [[processes.threads]]
  tid = 100
  state = "D"
  d_for = "10s"
[[processes]]
pid = 101
comm = "c"
cgroup = "/m"
shares_mm_with = 100
[[processes]]
pid = 200
comm = "alloc"
cgroup = "/m"
rss = "1 MiB"
  [processes.alloc]
  rate = "256 MiB/s"
  target = "400 MiB"
""")
    o = s.run()
    assert o.kills[0].pid == 101 and o.kills[0].reason == "oom"
    assert any(r.result == "reaped" for r in o.reaps)


def test_a_victim_whose_leader_already_exited_is_killed_with_a_report():
    # task_will_free_mem(victim) on the leader, whose mm is gone: no silent shortcut
    s = sim(T + """ram = "1 GiB"
duration = "3s"
policy = "linux-5.18"
[[processes]]
pid = 100
comm = "a"
rss = "600 MiB"
  [[processes.threads]]
  tid = 100
  [[processes.threads]]
  tid = 101
  state = "D"
  d_for = "10s"
[[processes]]
pid = 300
comm = "loader"
rss = "32 MiB"
  [processes.alloc]
  rate = "256 MiB/s"
  target = "800 MiB"
  start = "500ms"
[[actions]]
at = "100ms"
do = "kill"
pid = 100
""")
    o = s.run()
    assert any(line.endswith("oom_score_adj:0") and "Killed process 101 (a)" in line for line in o.dmesg)


def test_the_robust_list_is_walked_newest_first():
    # P (private, reaped first by the forward walk) was locked before M: the walk handles M, then faults
    s = sim(T + """ram = "4 GiB"
duration = "3s"
policy = "linux-4.6"
kernel = "5.15"
[[shm]]
name = "m"
size = "4 KiB"
[[processes]]
pid = 100
comm = "a"
rss = "600 MiB"
  [[processes.threads]]
  tid = 100
  exit_latency = "40ms"
  [[processes.vmas]]
  kind = "shmem"
  size = "4 KiB"
  shm = "m"
[[processes]]
pid = 200
comm = "b"
rss = "10 MiB"
[[futexes]]
name = "P"
private_to = 100
owner = 100
[[futexes]]
name = "M"
shm = "m"
owner = 100
waiters = [{ tid = 200 }]
[[actions]]
at = "1s"
do = "oom"
""")
    o = s.run()
    assert o.waiter(200).outcome == "eownerdead"
    assert any(isinstance(e, ev.RobustListFault) for e in s.k.events)  # then P's word faults


def test_release_at_unlocks_only_the_declared_owner():
    s = sim(T + """ram = "2 GiB"
duration = "4s"
[[shm]]
name = "m"
size = "4 KiB"
[[processes]]
pid = 100
comm = "a"
rss = "10 MiB"
[[processes]]
pid = 200
comm = "b"
rss = "10 MiB"
[[processes]]
pid = 300
comm = "c"
rss = "10 MiB"
[[futexes]]
name = "M"
shm = "m"
owner = 100
waiters = [{ tid = 200 }, { tid = 300 }]
release_at = "3s"
[[actions]]
at = "1s"
do = "kill"
pid = 100
""")
    o = s.run()
    assert o.waiter(200).outcome == "eownerdead"
    assert o.waiter(300).outcome == "blocked"  # 200 holds it now; the release was 100's, and 100 is gone


def test_oom_score_adj_follows_the_shared_mm_on_4_19_too():
    text = T + """ram = "2 GiB"
duration = "2s"
[[processes]]
pid = 100
comm = "launcher"
rss = "500 MiB"
[[processes]]
pid = 150
comm = "app"
shares_mm_with = 100
[[actions]]
at = "500ms"
do = "set_adj"
pid = 150
value = 1000
[[actions]]
at = "1s"
do = "oom"
"""
    old = sim(text, "linux-4.6").run()
    assert [(k.pid, k.reason) for k in old.kills] == [(100, "oom"), (150, "mm_sharer")]  # tie, first scanned
    new = sim(text, "linux-6.18").run()
    assert [(k.pid, k.reason) for k in new.kills] == [(150, "oom"), (100, "mm_sharer")]  # tie, later scanned


def test_a_kernel_thread_builds_and_is_never_a_candidate():
    o = sim(T + """ram = "1 GiB"
[[processes]]
pid = 2
comm = "kthreadd"
kthread = true
[[processes]]
pid = 100
comm = "a"
rss = "100 MiB"
[[actions]]
at = "1s"
do = "oom"
""").run()
    assert [k.pid for k in o.kills] == [100]


def test_a_d_state_allocator_is_refused(tmp_path):
    f = tmp_path / "d.toml"
    f.write_text(T + 'ram = "1 GiB"\n[[processes]]\npid = 1\ncomm = "x"\n  [[processes.threads]]\n  tid = 1\n'
                 '  state = "D"\n  d_for = "1s"\n  [processes.alloc]\n  rate = "1 MiB/s"\n  target = "1 MiB"\n')
    with pytest.raises(SceneError) as e:
        Simulation(load_scene(str(f)))
    assert e.value.path == "processes[0].alloc.thread"


def test_a_livelock_ends_when_userspace_thaws_the_victim():
    o = Simulation(load_scene("frozen-robust-holder"), "never-reap-robust").run()
    assert o.livelock is not None and o.livelock.t_ms < 2500
    assert o.livelock.until_ms is not None and 6000 <= o.livelock.until_ms <= 6200
    assert o.oom_blocked_ms <= o.livelock.until_ms - o.kills[0].t_ms + 50
