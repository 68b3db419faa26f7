"""cgroup hierarchies and migration (issue 10 §2): v1's memory and freezer hierarchies apart, `move`
(cgroup_migrate) with charges left where they were, and the memcg flavour in the OOM report."""

from __future__ import annotations

import json

import pytest

from oomtui.cli import main
from oomtui.kernel import events as ev
from oomtui.kernel.core import KernelError
from oomtui.kernel.state import FROZEN, STOPPED_V2
from oomtui.report.timeline import describe
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


# --- v1 memory.move_charge_at_immigrate -------------------------------------------------------
IMMIGRATE = HEAD.replace('ram = "1 GiB"', 'ram = "2 GiB"') + """
memcg = "v1"
kernel = "6.6"

[[cgroups]]
path = "/p"
memory_max = "1 GiB"
[[cgroups]]
path = "/p/a"
[[cgroups]]
path = "/p/b"
move_charge_at_immigrate = true
[[cgroups]]
path = "/c"

[[processes]]
pid = 100
comm = "grower"
cgroup = "/p/a"
rss = "100 MiB"

[[processes]]
pid = 101
comm = "sharer"
cgroup = "/p/a"
shares_mm_with = 100
"""


def usage_mib(s: Simulation, *paths: str) -> tuple[int, ...]:
    return tuple(s.k.cgroups[p].usage // MIB for p in paths)


def test_move_charge_at_immigrate_moves_the_anon_charges_with_the_task():
    s = sim(IMMIGRATE)
    events = s.apply(A.Move(pid=100, cgroup="/p/b"))  # mem_cgroup_can_attach() + mem_cgroup_move_charge()
    assert usage_mib(s, "/p/a", "/p/b", "/p") == (0, 100, 100)
    assert s.k.precharged == {}
    assert A.Move(pid=100, cgroup="/p/b").effect(events, s.k).endswith(
        "100 MiB of charges move with it (memory.move_charge_at_immigrate)")
    s.apply(A.Kill(pid=100))
    s.apply(A.Kill(pid=101))
    s.run(2 * s.k.hz)
    assert usage_mib(s, "/p/a", "/p/b", "/p") == (0, 0, 0)


def test_without_the_flag_or_in_a_later_era_the_charges_stay():
    s = sim(IMMIGRATE)
    s.apply(A.Move(pid=100, cgroup="/c"))  # /c has the flag off
    assert usage_mib(s, "/p/a", "/c") == (100, 0)
    s = sim(IMMIGRATE)
    s.apply(A.SetPolicy(policy="linux-6.18"))  # 6.18: charge moving is gone (6.13)
    s.apply(A.Move(pid=100, cgroup="/p/b"))
    assert usage_mib(s, "/p/a", "/p/b") == (100, 0)


def test_only_the_charges_of_the_memcg_it_leaves_move_and_only_for_the_mm_owner():
    s = sim(IMMIGRATE)
    s.apply(A.Move(pid=101, cgroup="/p/b"))  # not mm->owner: "We move charges only when we move a owner of the mm"
    assert usage_mib(s, "/p/a", "/p/b") == (100, 0)
    s = sim(IMMIGRATE.replace('rss = "100 MiB"\n', 'rss = "100 MiB"\nalloc = { rate = "500 MiB/s", target = "50 MiB", '
                                                   'start = "200ms" }\n', 1))
    s.apply(A.Move(pid=100, cgroup="/c"))  # the flag is off in /c: 100 MiB stay in /p/a
    s.run(s.k.hz)  # 50 MiB more, charged to /c
    s.apply(A.Move(pid=100, cgroup="/p/b"))  # folio_memcg() == mc.from: only /c's 50 MiB move
    assert usage_mib(s, "/p/a", "/c", "/p/b") == (100, 0, 50)


def test_a_destination_that_cannot_take_the_charges_fails_the_move_with_enomem():
    # /p's limit sees the pages twice while they move (precharged to /p/b before /p/a lets go)
    s = sim(IMMIGRATE.replace('memory_max = "1 GiB"', 'memory_max = "150 MiB"', 1))
    before = usage_mib(s, "/p/a", "/p/b", "/p")
    move = A.Move(pid=100, cgroup="/p/b")
    events = s.apply(move)
    assert s.k.pids[100].cgroup.path == "/p/a" and usage_mib(s, "/p/a", "/p/b", "/p") == before
    assert move.effect(events, s.k).startswith("grower 100 stays in /p/a: write() = -1 ENOMEM")
    s = sim(IMMIGRATE.replace('memory_max = "1 GiB"', 'memory_max = "201 MiB"', 1))
    s.apply(A.Move(pid=100, cgroup="/p/b"))
    assert s.k.pids[100].cgroup.path == "/p/b"


# bit 1 (MOVE_FILE): grower maps 64 MiB of tmpfs charged to /p/a, 16 MiB of it faulted in
SHM = IMMIGRATE.replace('rss = "100 MiB"\n', 'rss = "100 MiB"\n  [[processes.vmas]]\n  kind = "shmem"\n  shm = "seg"\n'
                        '  size = "64 MiB"\n  rss = "16 MiB"\n', 1) + '[[shm]]\nname = "seg"\nsize = "64 MiB"\ncgroup = "/p/a"\n'
READER = '[[processes]]\npid = 300\ncomm = "reader"\ncgroup = "/c"\n  [[processes.vmas]]\n  kind = "shmem"\n' \
         '  shm = "seg"\n  size = "64 MiB"\n  rss = "48 MiB"\n'


@pytest.mark.parametrize("knob, expected", [
    ("true", (64, 100)),  # bit 0 only (true means 1): the heap moves, tmpfs stays with /p/a
    ("2", (100, 64)),  # bit 1 only: the whole mapped range of tmpfs moves (faulted in or not), the heap stays
    ("3", (0, 164)),
    ("0", (164, 0)),
])
def test_move_charge_at_immigrate_bits(knob, expected):
    s = sim(SHM.replace("move_charge_at_immigrate = true", f"move_charge_at_immigrate = {knob}", 1))
    s.apply(A.Move(pid=100, cgroup="/p/b"))
    assert usage_mib(s, "/p/a", "/p/b") == expected
    assert usage_mib(s, "/p") == (164,)  # nothing is charged twice or lost once the move is done


@pytest.mark.parametrize("kernel, moved", [("6.6", 32), ("6.1", 64)])
def test_tmpfs_pages_another_task_maps_stay_from_6_3(kernel, moved):
    # get_mctgt_type() from 6.3 (4e0cf05f6059): a page not in grower's page table but mapped by reader stays.
    # reader has the object's first 48 MiB, grower its first 16: 16..48 MiB stay in /p/a
    s = sim(SHM.replace("move_charge_at_immigrate = true", "move_charge_at_immigrate = 2", 1)
            .replace('kernel = "6.6"', f'kernel = "{kernel}"', 1) + READER)
    s.apply(A.Move(pid=100, cgroup="/p/b"))
    assert usage_mib(s, "/p/a", "/p/b") == (164 - moved, moved)
    s.apply(A.Move(pid=100, cgroup="/p/a"))  # back: /p/a has no flag, everything stays in /p/b
    s.apply(A.Move(pid=100, cgroup="/p/b"))  # again: only what is charged to /p/a (the heap; bit 1 only: none)
    assert usage_mib(s, "/p/a", "/p/b") == (164 - moved, moved)


def test_swap_entries_need_room_in_the_precharge_and_move_with_bit_0():
    # mem_cgroup_do_precharge() charges 100 MiB of heap and 40 MiB of swap entries to /p/b's memory counter
    # (so /p sees 240 MiB and its stacks); __mem_cgroup_clear_mc() takes the swap part off again
    swapped = IMMIGRATE.replace('rss = "100 MiB"\n', 'rss = "100 MiB"\nswap = "40 MiB"\n', 1)
    s = sim(swapped.replace('memory_max = "1 GiB"', 'memory_max = "230 MiB"', 1))
    move = A.Move(pid=100, cgroup="/p/b")
    events = s.apply(move)
    assert "-1 ENOMEM" in move.effect(events, s.k) and usage_mib(s, "/p/a", "/p/b") == (100, 0)
    # __GFP_NORETRY: a failed precharge never OOM-kills; the model has nothing reclaim could free either
    assert not any(isinstance(e, (ev.Kill, ev.MarkVictim)) for e in events)
    s = sim(swapped.replace('memory_max = "1 GiB"', 'memory_max = "241 MiB"', 1))
    events = s.apply(move)
    assert usage_mib(s, "/p/a", "/p/b", "/p") == (0, 100, 100)
    assert move.effect(events, s.k).endswith("100 MiB of charges and the charges of 40 MiB of swap move with it "
                                             "(memory.move_charge_at_immigrate)")
    assert [d[1] for e in events if isinstance(e, ev.CgroupMove) and (d := describe(e, s.k))] == [
        "grower (100) moved to /p/b; 100 MiB of charges and the charges of 40 MiB of swap move with it"]


def test_swap_entries_recorded_to_a_memcg_left_earlier_do_not_move():
    # moved to /c without the flag, grower's swap entries stay recorded to /p/a (swap_cgroup); moving on
    # from /c into /p/b, only what is charged to /c would move: nothing, so /p's 101 MiB are no obstacle
    swapped = IMMIGRATE.replace('rss = "100 MiB"\n', 'rss = "100 MiB"\nswap = "40 MiB"\n', 1)
    s = sim(swapped.replace('memory_max = "1 GiB"', 'memory_max = "101 MiB"', 1))
    s.apply(A.Move(pid=100, cgroup="/c"))
    events = s.apply(A.Move(pid=100, cgroup="/p/b"))
    assert s.k.pids[100].cgroup.path == "/p/b" and not [e for e in events if isinstance(e, ev.CgroupMove) and e.errno]
    assert usage_mib(s, "/p/a", "/c", "/p/b") == (100, 0, 0)


def test_move_charge_at_immigrate_takes_0_to_3():
    with pytest.raises(SceneError) as e:
        sim(IMMIGRATE.replace("move_charge_at_immigrate = true", "move_charge_at_immigrate = 4", 1))
    assert e.value.path == "cgroups[2].move_charge_at_immigrate" and "<= 3" in str(e.value)


@pytest.mark.parametrize("old, new, message", [
    ('kernel = "6.6"', 'kernel = "6.13"', "from 6.13 writing 1, 2 or 3 fails with EINVAL"),
    ('kernel = "6.6"', 'kernel = "2.6"', "came in 2.6.34"),
    ('memcg = "v1"', 'memcg = "v2"', "cgroup v2 never moves charges"),
])
def test_move_charge_at_immigrate_is_refused_where_it_does_not_exist(old, new, message):
    with pytest.raises(SceneError) as e:
        sim(IMMIGRATE.replace(old, new, 1))
    assert e.value.path == "cgroups[2].move_charge_at_immigrate" and message in str(e.value)
    with pytest.raises(SceneError) as e:
        sim(SPLIT.replace('path = "/thawed"\n', 'path = "/thawed"\nmove_charge_at_immigrate = true\n', 1))
    assert e.value.path == "cgroups[3].move_charge_at_immigrate" and "freezer hierarchy has none" in str(e.value)


# --- cgroup v2: no internal processes ----------------------------------------------------------
NESTED = HEAD + """
[[cgroups]]
path = "/app"
[[cgroups]]
path = "/app/web"

[[processes]]
pid = 100
comm = "web"
cgroup = "/app/web"
rss = "10 MiB"

[[processes]]
pid = 200
comm = "cron"
rss = "10 MiB"
"""


def test_v2_processes_only_in_leaves_and_the_root():
    sim(NESTED)  # the root holds cron beside /app: the root is exempt
    with pytest.raises(SceneError) as e:
        sim(NESTED.replace('cgroup = "/app/web"', 'cgroup = "/app"', 1))
    assert e.value.path == "processes[0].cgroup" and "no internal processes" in str(e.value)
    s = sim(NESTED.replace('cgroup = "/app/web"', 'cgroup = "/app"', 1)
            .replace('duration = "5s"', 'duration = "5s"\nmemcg = "v1"', 1))
    assert s.k.pids[100].cgroup.path == "/app"  # v1 has no such rule


def test_a_v2_move_into_a_cgroup_with_children_fails_with_ebusy():
    s = sim(NESTED)
    move = A.Move(pid=200, cgroup="/app")
    events = s.apply(move)  # cgroup_migrate_vet_dst(): dst_cgrp->subtree_control -> -EBUSY
    assert s.k.pids[200].cgroup is s.k.root and s.k.pids[200] not in s.k.cgroups["/app"].members
    assert "-1 EBUSY" in move.effect(events, s.k) and "no internal processes" in move.effect(events, s.k)
    s.apply(A.Move(pid=200, cgroup="/app/web"))  # a leaf takes it
    s.apply(A.Move(pid=100, cgroup="/"))  # and so does the root
    assert (s.k.pids[200].cgroup.path, s.k.pids[100].cgroup.path) == ("/app/web", "/")


def test_a_scripted_move_the_kernel_refuses_is_shown_and_the_run_goes_on():
    s = sim(NESTED + '\n[[actions]]\nat = "100ms"\ndo = "move"\npid = 200\ncgroup = "/app"\n')
    s.run()
    lines = [d[1] for e in s.k.events if (d := describe(e, s.k))]
    assert "cron (200) not moved to /app: the write fails with EBUSY" in lines


def test_run_json_lists_the_moves_the_kernel_refused(tmp_path, capsys):
    def run_json(text: str) -> dict:
        (tmp_path / "s.toml").write_text(text)
        assert main(["run", str(tmp_path / "s.toml"), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    tight = IMMIGRATE.replace('memory_max = "1 GiB"', 'memory_max = "150 MiB"', 1)
    moves = ('\n[[actions]]\nat = "100ms"\ndo = "move"\npid = 100\ncgroup = "/p/b"\n'  # ENOMEM: /p sees 200 MiB
             '\n[[actions]]\nat = "200ms"\ndo = "move"\npid = 100\ncgroup = "/c"\n'  # no flag in /c: it moves
             '\n[[actions]]\nat = "300ms"\ndo = "move"\npid = 100\ncgroup = "/p/a"\n')  # back, flag off: it moves
    d = run_json(tight + moves)
    assert d["failed_moves"] == [{"t_ms": 100, "pid": 100, "comm": "grower", "from": "/p/a", "to": "/p/b",
                                  "hierarchy": "memory", "errno": "ENOMEM"}]
    d = run_json(NESTED + '\n[[actions]]\nat = "100ms"\ndo = "move"\npid = 200\ncgroup = "/app"\n'
                 '\n[[actions]]\nat = "200ms"\ndo = "move"\npid = 100\ncgroup = "/"\n'
                 '\n[[actions]]\nat = "300ms"\ndo = "move"\npid = 100\ncgroup = "/app"\n')
    assert [(m["t_ms"], m["pid"], m["from"], m["to"], m["errno"]) for m in d["failed_moves"]] == [
        (100, 200, "/", "/app", "EBUSY"), (300, 100, "/", "/app", "EBUSY")]
    assert "failed_moves" not in run_json(IMMIGRATE + moves)  # every move went through: no key at all


# --- the v1 freezer's own root -----------------------------------------------------------------
def test_a_move_to_the_freezer_root_thaws():
    s = sim(SPLIT)
    assert states(s, 100) == {FROZEN}
    s.apply(A.Move(pid=100, cgroup="/", hierarchy="freezer"))  # freezer_attach(): the root never freezes
    assert FROZEN not in states(s, 100)
    p = s.k.pids[100]
    assert p.freezer_cg is s.k.freezer_root and p.cgroup.path == "/apps/cached"
    assert p in s.k.freezer_root.members and p not in s.k.cgroups["/frozen"].members


def test_the_freezer_root_is_named_with_its_hierarchy():
    s = sim(SPLIT + '\n[[actions]]\nat = "100ms"\ndo = "move"\npid = 100\ncgroup = "/"\nhierarchy = "freezer"\n')
    s.run(s.k.hz)
    assert s.k.pids[100].freezer_cg is s.k.freezer_root
    with pytest.raises(SceneError) as e:  # no freezer hierarchy of its own
        sim(NESTED + '\n[[actions]]\nat = "100ms"\ndo = "move"\npid = 100\ncgroup = "/"\nhierarchy = "freezer"\n')
    assert e.value.path == "actions[0]" and "no freezer hierarchy of its own" in str(e.value)
    with pytest.raises(SceneError, match="not on the freezer hierarchy"):
        sim(SPLIT + '\n[[actions]]\nat = "100ms"\ndo = "move"\npid = 100\ncgroup = "/apps"\nhierarchy = "freezer"\n')
