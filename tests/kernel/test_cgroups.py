"""cgroup hierarchies and migration (issue 10 §2): v1's memory and freezer hierarchies apart, `move`
(cgroup_migrate) with charges left where they were, and the memcg flavour in the OOM report."""

from __future__ import annotations

import pytest

from oomtui.kernel.core import KernelError
from oomtui.kernel.state import FROZEN, STOPPED_V2
from oomtui.scene import actions as A
from oomtui.scene.load import SceneError, load_scene
from oomtui.scene.sim import Simulation

from ..helpers import HEAD, sim

MIB = 256  # pages

SPLIT = HEAD + """
memcg = "v1"

[[cgroups]]
path = "/apps"
memory_max = "600 MiB"

[[cgroups]]
path = "/apps/cached"

[[cgroups]]
path = "/frozen"
hierarchy = "freezer"
freezer = "v1"
frozen = true

[[cgroups]]
path = "/thawed"
hierarchy = "freezer"
freezer = "v1"

[[processes]]
pid = 100
comm = "cached"
cgroup = "/apps/cached"
freezer_cgroup = "/frozen"
rss = "300 MiB"
  [[processes.threads]]
  tid = 100
  [[processes.threads]]
  tid = 101

[[processes]]
pid = 150
comm = "idle"
cgroup = "/apps/cached"
freezer_cgroup = "/thawed"
rss = "10 MiB"

[[processes]]
pid = 200
comm = "hog"
cgroup = "/apps"
rss = "100 MiB"
alloc = { rate = "1 GiB/s", target = "2 GiB", start = "100ms" }
"""


def states(s: Simulation, pid: int) -> set[str]:
    return {t.state for t in s.k.pids[pid].threads}


def test_the_freezer_hierarchy_freezes_and_the_report_names_the_memcg():
    s = sim(SPLIT)
    assert states(s, 100) == {FROZEN} and FROZEN not in states(s, 200)
    o = s.run(s.k.hz)
    kill = next(line for line in o.dmesg if "] oom-kill:" in line)
    # the victim's memory cgroup, never its freezer cgroup (kernel-model.md 11.1)
    assert "oom_memcg=/apps,task_memcg=/apps/cached,task=cached,pid=100" in kill
    assert any("] memory+swap: usage" in line for line in o.dmesg)  # memcg = "v1"
    assert not any("] swap: usage" in line for line in o.dmesg)


def test_moving_between_freezer_cgroups_freezes_and_thaws():
    s = sim(SPLIT)
    s.apply(A.Move(pid=100, cgroup="/thawed"))  # freezer_attach(): conform to the new cgroup: thawed
    assert FROZEN not in states(s, 100)
    s.apply(A.Move(pid=150, cgroup="/frozen"))
    assert states(s, 150) == {FROZEN}
    assert s.k.pids[150] in s.k.cgroups["/frozen"].members
    assert s.k.pids[150] not in s.k.cgroups["/thawed"].members
    assert s.k.pids[150].cgroup.path == "/apps/cached"  # its memory cgroup did not change


def test_a_move_on_any_hierarchy_sends_the_task_to_the_end_of_its_memcg_scan():
    # a new css_set: the memcg walk visits it last (kernel-model.md 11.5)
    s = sim(SPLIT)
    cached = s.k.cgroups["/apps/cached"]
    assert [p.pid for p in cached.members] == [100, 150]
    s.apply(A.Move(pid=100, cgroup="/thawed"))
    assert [p.pid for p in cached.members] == [150, 100]
    s = sim(SPLIT.replace('freezer_cgroup = "/frozen"\n', "", 1))  # 100 starts on no freezer cgroup
    s.apply(A.Move(pid=100, cgroup="/frozen"))
    assert [p.pid for p in s.k.cgroups["/apps/cached"].members] == [150, 100] and states(s, 100) == {FROZEN}


def test_a_moved_process_leaves_its_charges_behind():
    s = Simulation(load_scene("moved-charges"))
    k = s.k
    system, apps = k.cgroups["/system"], k.cgroups["/apps"]
    before = (system.usage, apps.usage)
    s.run(int(0.3 * k.hz))  # moved at 200 ms
    assert k.pids[100].cgroup is apps
    assert (system.usage, apps.usage) == before  # nothing moved with it
    o = s.run()
    assert o.killed_pids("oom") == [100, 200]  # indexer's 900 MiB went back to /system, not /apps
    assert system.usage == 0 and apps.usage >= 0
    assert k.precharged == {}


def test_after_a_move_new_charges_go_to_the_new_memcg():
    text = HEAD.replace('ram = "1 GiB"', 'ram = "2 GiB"') + """
[[cgroups]]
path = "/a"
[[cgroups]]
path = "/b"

[[processes]]
pid = 100
comm = "grower"
cgroup = "/a"
rss = "100 MiB"
alloc = { rate = "250 MiB/s", target = "50 MiB", start = "400ms" }

[[actions]]
at = "100ms"
do = "move"
pid = 100
cgroup = "/b"
"""
    s = sim(text)
    s.run(s.k.hz)
    a, b = s.k.cgroups["/a"], s.k.cgroups["/b"]
    assert (a.usage // MIB, b.usage // MIB) == (100, 50)  # what it had stays in /a; the new 50 MiB in /b
    s.apply(A.Kill(pid=100))
    s.run(2 * s.k.hz)
    assert (a.usage, b.usage) == (0, 0)  # each page uncharged from the memcg it was charged to


def test_charges_left_behind_are_freed_right_in_race_trials_too():
    # race trials free exit_mmap's pages in mmu_gather batches (tlb_flush_mmu): each batch from its own memcg
    for seed in (1, 2):
        s = Simulation(load_scene("moved-charges"), race_seed=seed)
        s.run()
        assert s.k.cgroups["/system"].usage == 0 and s.k.cgroups["/apps"].usage >= 0


def test_a_v2_move_into_a_frozen_cgroup_parks_the_process():
    text = HEAD + """
[[cgroups]]
path = "/cold"
freezer = "v2"
frozen = true

[[processes]]
pid = 100
comm = "app"
rss = "10 MiB"
"""
    s = sim(text)
    s.apply(A.Move(pid=100, cgroup="/cold"))  # cgroup_freezer_migrate_task()
    assert states(s, 100) == {STOPPED_V2}
    s.apply(A.Move(pid=100, cgroup="/"))
    assert STOPPED_V2 not in states(s, 100)


@pytest.mark.parametrize("old, new, path, message", [
    ('memcg = "v1"', "", "cgroups[2].hierarchy", 'needs memcg = "v1"'),  # v2: one unified hierarchy
    ('cgroup = "/apps/cached"\nfreezer_cgroup = "/frozen"', 'cgroup = "/frozen"',
     "processes[0].cgroup", "is on the freezer hierarchy"),
    ('freezer_cgroup = "/frozen"', 'freezer_cgroup = "/nowhere"', "processes[0].freezer_cgroup", "no cgroup '/nowhere'"),
    ('freezer_cgroup = "/frozen"', 'freezer_cgroup = "/apps"', "processes[0].freezer_cgroup", "on the memory hierarchy"),
])
def test_bad_hierarchies_are_refused_with_their_key(old, new, path, message):
    with pytest.raises(SceneError) as e:
        sim(SPLIT.replace(old, new, 1))
    assert e.value.path == path and message in str(e.value)


def test_one_freezer_per_task():
    text = SPLIT.replace('path = "/apps/cached"\n', 'path = "/apps/cached"\nfreezer = "v1"\n', 1)
    with pytest.raises(SceneError) as e:
        sim(text)
    assert e.value.path == "processes[0].freezer_cgroup" and "has a freezer already" in str(e.value)


def test_bad_moves_change_nothing():
    s = sim(SPLIT)
    with pytest.raises(SceneError) as e:
        sim(SPLIT + '\n[[actions]]\nat = "1s"\ndo = "oom"\ncgroup = "/frozen"\n')
    assert e.value.path == "actions[0]" and "freezer's hierarchy" in str(e.value)
    s.apply(A.Kill(pid=150))
    s.run(s.k.hz)
    with pytest.raises(KernelError, match="has exited"):
        s.apply(A.Move(pid=150, cgroup="/frozen"))
    assert s.k.pids[150] not in s.k.cgroups["/frozen"].members
