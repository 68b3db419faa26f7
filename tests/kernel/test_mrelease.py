"""process_mrelease(2): every result of kernel-model.md section 6."""

import pytest

from oomtui.scene.actions import Freeze, Kill, Mrelease
from tests.helpers import HEAD, sim

SCENE = HEAD + """
[[cgroups]]
path = "/f"
freezer = "v1"

[[processes]]
pid = 100
comm = "victim"
cgroup = "/f"
rss = "400 MiB"
  [[processes.threads]]
  tid = 100
  [[processes.threads]]
  tid = 101

[[processes]]
pid = 200
comm = "stuck"
rss = "100 MiB"
  [[processes.threads]]
  tid = 200
  [[processes.threads]]
  tid = 201
  state = "D"
  d_for = "1s"
  mmap_lock = true
"""


def calls(s):
    return [(c.ret, c.errno) for c in s.outcome().syscalls]


def test_live_process_gives_einval_and_bad_flags_give_einval():
    s = sim(SCENE, "linux-6.18")
    s.apply(Mrelease(pid=100))
    s.apply(Kill(pid=100))
    s.apply(Mrelease(pid=100, flags=1))
    assert calls(s) == [(-1, "EINVAL"), (-1, "EINVAL")]


def test_unknown_pid_gives_esrch_and_old_kernels_enosys():
    s = sim(SCENE, "linux-6.18")
    s.apply(Mrelease(pid=100))
    s.k.process_mrelease(4242)
    assert calls(s)[-1] == (-1, "ESRCH")
    old = sim(SCENE, "linux-6.18", kernel="5.14")
    old.apply(Kill(pid=100))
    old.apply(Mrelease(pid=100))
    assert calls(old) == [(-1, "ENOSYS")]


def test_frozen_killed_process_is_reaped_synchronously_then_zero_again_then_esrch():
    # kernel-model.md 11.3: kill(2) does not thaw; mrelease -> 0, RSS 400 MiB -> 0 in ~33 ms; again 0; ESRCH after exit
    s = sim(SCENE, "linux-6.18")
    s.apply(Freeze(cgroup="/f"))
    s.apply(Kill(pid=100))
    assert all(t.letter == "FROZEN v1" for t in s.k.pids[100].threads)
    s.apply(Mrelease(pid=100))
    s.advance(25)  # 100 ms
    o = s.outcome()
    assert calls(s) == [(0, None)]
    reap = [r for r in o.reaps if r.by == "process_mrelease"]
    assert reap and reap[0].freed_kb >= 400 * 1024
    assert reap[0].t_ms <= 50
    mm = s.k.pids[100].mm
    assert mm.anon == 0 and "MMF_OOM_SKIP" not in mm.flags  # mrelease never sets MMF_OOM_SKIP
    assert not any("oom_reaper" in line for line in o.dmesg)
    s.apply(Mrelease(pid=100))
    assert calls(s)[-1] == (0, None)  # nothing left to reap but the work is done: still 0 (still dying)
    s.k.thaw("/f")
    s.advance(25)
    s.apply(Mrelease(pid=100))
    assert calls(s)[-1] == (-1, "ESRCH")


def test_mmap_lock_writer_makes_the_caller_wait():
    s = sim(SCENE, "linux-6.18")
    s.apply(Kill(pid=200))
    s.apply(Mrelease(pid=200))
    assert calls(s) == []  # blocked in mmap_read_lock_killable
    s.advance(240)  # 960 ms: still in D, still holding the lock
    assert calls(s) == []
    s.advance(60)
    done = s.outcome().syscalls
    assert [(c.ret, c.errno) for c in done] == [(0, None)]
    assert done[0].t_ms >= 1000  # after the D state (and the lock) ends


def test_after_mmf_oom_skip_a_not_dying_target_returns_zero():
    # a v1-frozen OOM victim reaped by the oom_reaper keeps frozen threads: task_will_free_mem() is false
    # once MMF_OOM_SKIP is set, and the call returns 0 ("the work has been done already")
    s = sim(SCENE, "linux-5.18")
    s.apply(Freeze(cgroup="/f"))
    s.k.sysrq_oom()
    s.advance(600)
    assert "MMF_OOM_SKIP" in s.k.pids[100].mm.flags
    s.apply(Mrelease(pid=100))
    assert calls(s) == [(0, None)]


@pytest.mark.parametrize("policy,reaped", [("robust-delay", False), ("linux-5.18", True)])
def test_seed_v4_returns_zero_without_reaping_robust_users(policy, reaped):
    s = sim(SCENE, policy)
    s.apply(Freeze(cgroup="/f"))
    s.apply(Kill(pid=100))
    s.apply(Mrelease(pid=100))
    s.advance(50)
    assert calls(s) == [(0, None)]
    assert bool([r for r in s.outcome().reaps if r.by == "process_mrelease"]) is reaped
