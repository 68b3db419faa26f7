"""Every built-in scenario (kernel-model.md section 10) under every policy: who is killed, when memory
returns, which waiters hang, how long the OOM killer is blocked, livelock."""

from __future__ import annotations

import pytest

from oomtui.kernel.policy import POLICIES
from oomtui.scene.load import builtin_ids, load_scene
from oomtui.scene.sim import Outcome, Simulation

P1, P2, P3, P4A, P5, P6 = "linux-4.6", "linux-5.18", "robust-delay", "reap-frozen", "linux-6.18", "never-reap-robust"
NOW = (0, 200)  # memory back within 200 ms of the kill
TWO_S = (2000, 2300)  # at the 2 s timer plus the reap


def run(scene: str, policy: str) -> Outcome:
    return Simulation(load_scene(scene), policy).run()


def first_victim(o: Outcome):
    return next(k for k in o.kills if k.reason == "oom")


def memory_back_after_kill(o: Outcome) -> int | None:
    v = first_victim(o)
    times = [f.t_ms for f in o.freed if f.t_ms >= v.t_ms and f.freed_kb >= 512 * 1024]
    return min(times) - v.t_ms if times else None


def reaper_results(o: Outcome) -> list[str]:
    return [r.result for r in o.reaps if r.by == "oom_reaper"]


def within(value: int | None, bounds: tuple[int, int]) -> bool:
    return value is not None and bounds[0] <= value <= bounds[1]


SCENARIOS = {
    "robust-waiter", "frozen-robust-holder", "frozen-big-victim", "v2-frozen-victim", "d-state-holder",
    "d-state-mmap-lock", "frozen-mm-sibling", "lmkd-mrelease", "never-reap-livelock", "score-ties",
    "moved-charges", "moved-charges-v1", "v1-split-freezer",
}


def test_every_builtin_scene_is_a_tested_scenario_or_a_story_scene():
    ids = set(builtin_ids())
    assert SCENARIOS <= ids
    story = {s for s in ids if load_scene(s).scene.game is not None}  # tests/scenes/test_story.py
    assert ids == SCENARIOS | story


# S1 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s1_robust_waiter(policy):
    o = run("robust-waiter", policy)
    assert first_victim(o).pid == 100
    w = o.waiter(200)
    if policy == P1:
        # the reaper starts at once and zaps the worker's stack before its futex cleanup (150 ms later)
        assert w.outcome == "hung"
        assert reaper_results(o) == ["reaped"]
        assert within(memory_back_after_kill(o), NOW)
    else:
        # 2 s delay (P3: glibc registers robust lists; P4a: not frozen): the victim exits on its own
        assert w.outcome == "eownerdead"
        assert reaper_results(o) == ([] if policy == P6 else ["skipped"])  # the timer finds MMF_OOM_SKIP
        assert not any("oom_reaper:" in line for line in o.dmesg)
        assert 100 <= o.oom_blocked_ms <= 400  # until the exiting victim starts giving memory back
    assert o.livelock is None


# S2 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s2_frozen_robust_holder(policy):
    o = run("frozen-robust-holder", policy)
    v = first_victim(o)
    assert v.pid == 100
    w = o.waiter(200)
    if policy == P5:
        # thaw_process(): every thread exits and runs its own futex cleanup
        assert w.outcome == "eownerdead" and w.t_ms - v.t_ms < 50
        assert reaper_results(o) == ["skipped"]
        assert o.oom_blocked_ms < 300
    elif policy == P6:
        # never reaped, never exits until userspace thaws at 6 s: livelock, then the list is intact
        assert o.livelock is not None
        assert w.outcome == "eownerdead" and w.t_ms >= 6000
        assert reaper_results(o) == []
    else:
        # the reaper zaps frozen A1's stack; when the cgroup is thawed A1's robust walk faults
        assert w.outcome == "hung" and w.t_ms >= 6000
        assert reaper_results(o) == ["reaped"]
        expected = NOW if policy in (P1, P4A) else TWO_S
        assert within(memory_back_after_kill(o), expected)
        assert o.livelock is None


# S3 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s3_frozen_big_victim(policy):
    o = run("frozen-big-victim", policy)
    assert first_victim(o).pid == 100
    back = memory_back_after_kill(o)
    if policy == P5:
        assert reaper_results(o) == ["skipped"]  # exits normally; exit_mmap frees everything
        assert within(back, NOW)
        assert any(f.by == "exit_mmap" and f.pid == 100 for f in o.freed)
    elif policy in (P1, P3, P4A):
        # P3: no robust list registered (Go) -> no delay; P4a: frozen -> no delay
        assert reaper_results(o) == ["reaped"]
        assert within(back, NOW)
    else:
        assert reaper_results(o) == ["reaped"]
        assert within(back, TWO_S)
        assert o.oom_blocked_ms >= 2000


# S4 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s4_v2_frozen_victim_is_a_negative_control(policy):
    o = run("v2-frozen-victim", policy)
    assert first_victim(o).pid == 100
    w = o.waiter(200)
    assert w.outcome == "eownerdead"
    assert w.t_ms - first_victim(o).t_ms < 50  # SIGKILL gets v2-frozen tasks out at once
    assert o.livelock is None


# S5 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s5_d_state_holder(policy):
    o = run("d-state-holder", policy)
    v = first_victim(o)
    w = o.waiter(200)
    if policy == P6:
        assert reaper_results(o) == []
        assert w.outcome == "eownerdead" and w.t_ms >= 10000
        return
    # the holder resumes at 10 s, long after its stack was reaped: the delay does not help it
    assert w.outcome == "hung" and w.t_ms >= 10000
    assert reaper_results(o) == ["reaped"]
    assert within(memory_back_after_kill(o), NOW if policy == P1 else TWO_S)
    assert v.pid == 100


@pytest.mark.parametrize("policy", POLICIES)
def test_s5_mmap_lock_holder_forces_a_second_victim(policy):
    o = run("d-state-mmap-lock", policy)
    victims = [k for k in o.kills if k.reason == "oom"]
    assert victims[0].pid == 100
    if policy == P6:
        assert len(victims) == 1  # robust user, never reaped: blocked until the D state ends
        return
    assert reaper_results(o)[0] == "unable"
    assert any("oom_reaper: unable to reap pid:100 (app)" in line for line in o.dmesg)
    second = victims[1].t_ms - victims[0].t_ms
    # 10 failed trylocks HZ/10 apart (~1 s) after the reaper starts: P1 at ~1 s, the others at ~3 s
    assert (950 <= second <= 1100) if policy == P1 else (2950 <= second <= 3100)
    assert victims[1].pid == 200


# S6 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s6_frozen_mm_sibling(policy):
    o = run("frozen-mm-sibling", policy)
    v = first_victim(o)
    reasons = {k.pid: k.reason for k in o.kills}
    if policy == P1:
        # 4.19 keeps the first-scanned process on a tie: launcher itself is the victim
        assert v.pid == 100 and reasons[150] == "mm_sharer"
        assert within(memory_back_after_kill(o), NOW)
        return
    assert v.pid == 150 and reasons[100] == "mm_sharer"  # 5.9+: later-scanned wins the tie
    if policy == P6:
        assert o.livelock is not None  # launcher stays frozen, nobody reaps: nothing sets MMF_OOM_SKIP
        return
    # launcher stays frozen (not an OOM victim, not thawed, even on 6.18): only the reaper frees memory
    assert reaper_results(o) == ["reaped"]
    assert within(memory_back_after_kill(o), TWO_S)
    assert not any(f.by == "exit_mmap" for f in o.freed)


# S7 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s7_lmkd_mrelease(policy):
    o = run("lmkd-mrelease", policy)
    calls = [(s.ret, s.errno) for s in o.syscalls]
    w = o.waiter(200)
    if policy == P1:
        assert calls == [(-1, "ENOSYS")] * 3  # 4.19 has no process_mrelease
        assert w.outcome == "eownerdead"
        return
    assert calls[0] == (-1, "EINVAL")  # not dying yet
    assert calls[1] == (0, None)
    assert calls[2] == (-1, "ESRCH")  # gone
    mrelease_reaps = [r for r in o.reaps if r.by == "process_mrelease"]
    if policy == P3:
        assert mrelease_reaps == []  # seed v4: returns 0 without reaping a robust-futex user
        assert w.outcome == "eownerdead"
    elif policy == P5:
        # reverse walk: the worker's stack (robust list head) is zapped first (observed on 6.18, 11.7)
        assert mrelease_reaps and w.outcome == "hung"
    else:
        # forward walk: the 1 GiB heap first, the worker finishes its cleanup (20 ms) before its stack goes
        assert mrelease_reaps and w.outcome == "eownerdead"
    assert [k.reason for k in o.kills] == ["signal"]


# S8 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s8_livelock_only_without_the_reaper(policy):
    o = run("never-reap-livelock", policy)
    if policy == P6:
        assert o.livelock is not None and o.livelock.pid == 100
        assert o.oom_blocked_ms >= 3000
        return
    assert o.livelock is None
    back = memory_back_after_kill(o)
    assert within(back, NOW if policy in (P1, P4A, P5) else TWO_S)


# S9 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_s9_score_ties(policy):
    o = run("score-ties", policy)
    order = [k.pid for k in o.kills if k.reason == "oom"]
    if policy == P1:
        assert order == [100, 200, 300]  # first scanned wins; -998 clamps both pods to 1
    else:
        assert order == [200, 100, 400]  # later scanned wins; the bigger -998 pod goes


def test_s9_oom_score_of_the_tied_processes():
    sim = Simulation(load_scene("score-ties"), P5)
    # badness = 25600 heap + 16 stack + 4 TLS + 51 page-table pages = 25671 of 1048576 totalpages
    # 5.9+: (1000 + 25671*1000/1048576) * 2/3 = (1000 + 24) * 2/3 = 682 for both
    assert sim.k.oom_score(100) == sim.k.oom_score(200) == 682
    assert sim.k.oom_score(1) == 0  # global init is never eligible
    old = Simulation(load_scene("score-ties"), P1)
    # before 5.9: badness * 1000 / totalpages
    assert old.k.oom_score(100) == old.k.oom_score(200) == 24


# cgroup hierarchies and migration (issue 10 section 2) ----------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_moved_charges_two_victims_for_one_limit(policy):
    o = run("moved-charges", policy)
    # indexer is scored by all it has, but what it had stays charged to /system: killing it frees
    # nothing /apps counts, so worker goes too, under every policy
    assert o.killed_pids("oom") == [100, 200]
    usage = [line.split("usage ")[1].split("kB")[0] for line in o.dmesg if "] memory: usage" in line]
    assert len(usage) == 2 and usage[0] == usage[1]  # /apps as full at the second OOM as at the first


@pytest.mark.parametrize("policy", POLICIES)
def test_moved_charges_v1_one_victim_for_one_limit(policy):
    sim = Simulation(load_scene("moved-charges-v1"), policy)
    o = sim.run()
    # memory.move_charge_at_immigrate: indexer's 900 MiB moved into /apps with it, so killing it frees
    # what /apps counts and worker carries on, under every policy (each at the scene's 6.6)
    assert o.killed_pids("oom") == [100] and o.kernel == "6.6"
    assert sim.k.cgroups["/system"].usage == 0 and sim.k.pids[200].alloc.remaining == 0


@pytest.mark.parametrize("policy", POLICIES)
def test_v1_split_freezer(policy):
    o = run("v1-split-freezer", policy)
    assert o.killed_pids("oom") == [100]  # gallery (101) was moved out of /frozen before the OOM
    # the report names the victim's memory cgroup, never its freezer cgroup: 5.0+ in the oom-kill:
    # summary (task_memcg=), before that in "Task in ... killed as a result of limit of ..."
    assert any("task_memcg=/apps/cached,task=camera" in line or "Task in /apps/cached killed" in line
               for line in o.dmesg)
    assert not any("/frozen" in line for line in o.dmesg)
    assert any("] memory+swap: usage" in line for line in o.dmesg)
    freed = [f for f in o.freed if f.pid == 100]
    if policy == P6:
        assert not freed and o.oom_blocked_ms > 2000  # never reaps a robust-list user: browser waits
        return
    back, by = freed[0].t_ms - first_victim(o).t_ms, freed[0].by
    if policy == P5:
        assert by == "exit_mmap" and within(back, NOW)  # thaw_process(): every thread exits
    elif policy in (P1, P4A):
        assert by == "oom_reaper" and within(back, NOW)  # reaped at once
    else:
        assert by == "oom_reaper" and within(back, TWO_S) and o.oom_blocked_ms == 2000
