"""Freezer semantics (kernel-model.md 5) and the robust-futex exit path (4)."""

import pytest

from oomtui.scene.actions import Freeze, Kill, Mrelease, Thaw, Unlock
from tests.helpers import HEAD, sim

BASE = HEAD + """
[[cgroups]]
path = "/v1"
freezer = "v1"

[[cgroups]]
path = "/v2"
freezer = "v2"

[[shm]]
name = "m"
size = "4 KiB"

[[processes]]
pid = 100
comm = "holder"
cgroup = "{cg}"
rss = "300 MiB"
  [[processes.threads]]
  tid = 100
  [[processes.threads]]
  tid = 101
  robust_list = {robust}

[[processes]]
pid = 200
comm = "waiter"
rss = "10 MiB"

[[futexes]]
name = "M"
shm = "m"
robust = {frobust}
owner = 101
waiters = [{{ tid = 200{timeout} }}]
"""


def scene(cg="/v1", robust="true", frobust="true", timeout=""):
    return BASE.format(cg=cg, robust=robust, frobust=frobust, timeout=timeout)


def letters(s, pid):
    return [t.letter for t in s.k.pids[pid].threads]


def test_sigkill_does_not_release_a_v1_frozen_task():
    s = sim(scene("/v1"), "linux-6.18")
    s.apply(Freeze(cgroup="/v1"))
    s.apply(Kill(pid=100))
    s.advance(250)
    assert letters(s, 100) == ["FROZEN v1", "FROZEN v1"]
    assert s.outcome().waiter(200).outcome == "blocked"
    s.apply(Thaw(cgroup="/v1"))
    s.advance(10)
    assert s.k.pids[100].exited_at is not None
    assert s.outcome().waiter(200).outcome == "eownerdead"


def test_sigkill_gets_a_v2_frozen_task_out():
    s = sim(scene("/v2"), "linux-6.18")
    s.apply(Freeze(cgroup="/v2"))
    assert letters(s, 100) == ["FROZEN v2", "FROZEN v2"]
    s.apply(Kill(pid=100))
    s.advance(10)
    assert s.k.pids[100].exited_at is not None
    assert s.outcome().waiter(200).outcome == "eownerdead"


@pytest.mark.parametrize("policy,thawed", [("linux-5.18", [100]), ("linux-6.18", [100, 101])])
def test_mark_oom_victim_thaws_one_thread_before_6_18_and_all_since(policy, thawed):
    s = sim(scene("/v1"), policy)
    s.apply(Freeze(cgroup="/v1"))
    s.k.sysrq_oom()
    mark = next(e for e in s.k.events if type(e).__name__ == "MarkVictim")
    assert mark.thawed == thawed
    s.advance(20)
    if policy == "linux-5.18":
        assert letters(s, 100) == ["ZOMBIE", "FROZEN v1"]  # the rest of the group stays in the refrigerator
    else:
        assert s.k.pids[100].exited_at is not None


def test_a_thread_waking_from_d_state_in_a_freezing_cgroup_freezes():
    s = sim(HEAD + """
[[cgroups]]
path = "/v1"
freezer = "v1"

[[processes]]
pid = 100
comm = "io"
cgroup = "/v1"
  [[processes.threads]]
  tid = 100
  state = "D"
  d_for = "100ms"
""")
    s.apply(Freeze(cgroup="/v1"))
    from oomtui.kernel.freezer import freezer_state

    assert letters(s, 100) == ["D"] and freezer_state(s.k, s.k.cgroups["/v1"]) == "FREEZING"
    s.advance(30)
    assert letters(s, 100) == ["FROZEN v1"] and freezer_state(s.k, s.k.cgroups["/v1"]) == "FROZEN"


def test_exit_robust_list_with_a_reaped_head_loses_the_wakeup():
    # kernel-model.md 11.4: process_mrelease before thawing -> the waiter never gets OWNER_DIED
    s = sim(scene("/v1", timeout=', timeout = "2s"'), "linux-6.18")
    s.apply(Freeze(cgroup="/v1"))
    s.apply(Kill(pid=100))
    s.apply(Mrelease(pid=100))
    s.advance(5)
    s.apply(Thaw(cgroup="/v1"))
    s.advance(600)
    o = s.outcome()
    assert o.waiter(200).outcome == "timedout"
    f = s.k.futexes["M"]
    assert f.owner_tid == 101 and not f.owner_died  # the dead owner's TID stays, no FUTEX_OWNER_DIED
    assert any(type(e).__name__ == "RobustListFault" and e.tid == 101 for e in s.k.events)


def test_without_a_timeout_the_same_waiter_hangs():
    s = sim(scene("/v1"), "linux-6.18")
    s.apply(Freeze(cgroup="/v1"))
    s.apply(Kill(pid=100))
    s.apply(Mrelease(pid=100))
    s.advance(5)
    s.apply(Thaw(cgroup="/v1"))
    s.advance(10)
    assert s.outcome().waiter(200).outcome == "hung"


def test_a_non_robust_futex_owner_dying_leaves_its_waiter_hung():
    s = sim(scene("/v1", frobust="false"), "linux-6.18")
    s.apply(Kill(pid=100))
    s.advance(10)
    assert s.outcome().waiter(200).outcome == "hung"


def test_a_thread_without_a_robust_list_does_not_mark_owner_died():
    s = sim(scene("/v1", robust="false"), "linux-6.18")
    s.apply(Kill(pid=100))
    s.advance(10)
    assert s.outcome().waiter(200).outcome == "hung"


def test_unlock_hands_the_mutex_to_the_waiter():
    s = sim(scene("/v1"), "linux-6.18")
    s.apply(Unlock(futex="M"))
    w = s.outcome().waiter(200)
    assert w.outcome == "acquired"
    assert s.k.futexes["M"].owner_tid == 200


def test_futex_word_bits_on_owner_death():
    s = sim(scene("/v1"), "linux-6.18")
    f = s.k.futexes["M"]
    assert f.word == 101 | 0x80000000  # owner TID with FUTEX_WAITERS
    s.apply(Kill(pid=100))
    s.advance(1)
    # handle_futex_death: (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED, then the woken waiter takes the lock
    # (glibc stores its own TID without the OWNER_DIED bit and returns EOWNERDEAD)
    died = [e for e in s.k.events if type(e).__name__ == "FutexEvent" and e.outcome == "owner_died"]
    assert [e.tid for e in died] == [101]
    assert f.owner_tid == 200 and not f.owner_died
    assert s.outcome().waiter(200).outcome == "eownerdead"
