"""The badness table select_bad_process() keeps between OOMs gives, at every OOM of a storm, what a
fresh walk over every process gives: whatever changes a badness input marks it (BadnessInputs.dirty)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomtui.kernel import oom_kill
from oomtui.kernel.core import Kernel
from oomtui.kernel.exit import exit_mm
from oomtui.kernel.oom_kill import HEAP_DEPTH, BadnessTable, OomControl, constrained_alloc, select_bad_process
from oomtui.kernel.policy import get_policy
from oomtui.kernel.state import MMF_OOM_SKIP, Vma
from oomtui.kernel.version import KernelVersion
from oomtui.scene.load import loads
from oomtui.scene.sim import Simulation

STORM = Path(__file__).resolve().parents[1] / "data" / "engine" / "storm-600.toml"


@pytest.mark.parametrize("policy", ["linux-6.18", "linux-4.6"])
@pytest.mark.parametrize("kernel", [None, "4.19"])  # signed badness (5.9+) and the pre-5.9 clamp
def test_kept_table_selects_what_a_fresh_walk_selects(monkeypatch, policy, kernel):
    real = oom_kill.select_bad_process
    checked = []

    def select_and_check(k, oc):
        blocker = real(k, oc)
        if blocker is None and oc.memcg is None:
            kept, k.oom_table = k.oom_table, None
            fresh = OomControl(None, oc.current, oc.sysrq, oc.totalpages)
            real(k, fresh)  # a new table: every process evaluated now
            k.oom_table = kept
            assert same_choice(oc, fresh)
            checked.append(k.jiffies)
        return blocker

    monkeypatch.setattr(oom_kill, "select_bad_process", select_and_check)
    sim = Simulation(loads(STORM.read_text(), "storm-600.toml"), policy, kernel)
    sim.run(dmesg=False)
    assert len(checked) >= 5  # kills through the storm, each one checked


def test_a_simulation_starts_with_every_process_in_the_table_and_nothing_to_refresh():
    k = Simulation(loads(STORM.read_text(), "storm-600.toml")).k
    table = k.oom_table
    assert table is not None and table.rule == (k.policy.version, k.totalpages_global()) and not k.badness.dirty
    scored = {p for p in k.tasklist if not (p.is_init or p.kthread) and p.exited_at is None and p.mm is not None}
    assert len(scored) >= 600
    assert {table.proc(i) for i, v in enumerate(table.points) if v is not None or i in table.why} == scored



def kernel_of(n: int, ram_pages: int, adj, rss, policy: str = "linux-6.18", cap=lambda i: False) -> Kernel:
    """n processes of one thread; adj(i), rss(i) and cap(i) (CAP_SYS_ADMIN) of the i-th, its heap as big as needed."""
    k = Kernel(get_policy(policy), ram_pages=ram_pages)
    for i in range(n):
        p = k.add_process(1000 + i, f"p{i}", "/", oom_score_adj=adj(i), cap_sys_admin=cap(i))
        k.add_thread(p, 1000 + i)
        k.add_vma(p.init_mm, Vma(0x1000, 0x1000 + 4096 * max(rss(i), 1), "anon", "[heap]", rss(i)))
    return k


def kept_and_fresh(k: Kernel) -> tuple[OomControl, OomControl]:
    """A global OOM's selection from the kernel's kept table, and from a fresh walk over every process."""
    kept = OomControl(None, None, False, constrained_alloc(k, None))
    select_bad_process(k, kept)
    table, k.oom_table = k.oom_table, None
    fresh = OomControl(None, None, False, constrained_alloc(k, None))
    select_bad_process(k, fresh)
    k.oom_table = table
    return kept, fresh


def same_choice(a: OomControl, b: OomControl) -> bool:
    return (a.chosen, a.chosen_points, a.candidates) == (b.chosen, b.chosen_points, b.candidates)


@pytest.mark.parametrize("changed", [3, 40, 200])  # a few, many (the second heap compacted), all (one heap anew)
def test_a_kept_table_follows_changes_to_any_number_of_processes(changed):
    k = kernel_of(200, 1 << 22, lambda i: (i * 37) % 400 - 200, lambda i: (i * 7919) % 64)
    for round in range(8):
        for p in k.tasklist[round % 7::max(1, 200 // changed)][:changed]:
            k.add_mm_counter(p.init_mm, "anon", (p.pid * (round + 3)) % 97)  # ties come and go too
        assert same_choice(*kept_and_fresh(k))


@pytest.mark.parametrize("version", [(6, 18), (5, 8), (4, 9), (3, 10), (3, 2)])  # signed, clamped, root bonuses, 0..1000
def test_a_kept_table_scores_again_for_another_era_and_totalpages(version):
    k = kernel_of(300, 1 << 20, lambda i: (i * 37) % 2001 - 1000, lambda i: (i * 7919) % 640, cap=lambda i: i % 7 == 0)
    k.set_mm_flag(k.tasklist[5].init_mm, MMF_OOM_SKIP)
    before = OomControl(None, None, False, constrained_alloc(k, None))
    select_bad_process(k, before)
    table = k.oom_table
    k.set_policy(get_policy("linux-6.18").with_version(KernelVersion(*version)))
    k.swap_pages += 1 << 18  # totalpages too
    k.add_mm_counter(k.tasklist[7].init_mm, "anon", 5000)  # and a change since the last OOM
    kept, fresh = kept_and_fresh(k)
    assert k.oom_table is table and table.rule == (k.policy.version, k.totalpages_global())
    assert same_choice(kept, fresh)
    assert [c.points for c in kept.candidates] != [c.points for c in before.candidates]  # scored anew


@pytest.mark.parametrize("policy", ["linux-6.18", "linux-4.6"])  # signed badness, and the clamp at 1 before 5.9
@pytest.mark.parametrize("sample", [oom_kill.SAMPLE, 300])  # the cutoff from every process, or from every 2nd
def test_a_kept_table_goes_below_its_heaps_cutoff_when_the_best_are_gone(monkeypatch, policy, sample):
    monkeypatch.setattr(oom_kill, "SAMPLE", sample)
    depths, heap_anew = [], BadnessTable._heap_anew
    monkeypatch.setattr(BadnessTable, "_heap_anew",
                        lambda table, depth=HEAP_DEPTH, taken=frozenset(): heap_anew(table, depths.append(depth) or depth, taken))
    k = kernel_of(3 * HEAP_DEPTH, 1 << 22, lambda i: 0, lambda i: 1 + (i * 7919) % 4096, policy)
    select_bad_process(k, OomControl(None, None, False, constrained_alloc(k, None)))
    assert k.oom_table is not None and k.oom_table.cutoff is not None  # the heap holds the best only
    for round in range(16):  # the best 40 lose their memory, as victims do: the heap's top runs out
        for p in sorted(k.tasklist, key=lambda p: -p.init_mm.anon)[:40]:
            k.add_mm_counter(p.init_mm, "anon", round % 3 - p.init_mm.anon)  # ties at the bottom too
        assert same_choice(*kept_and_fresh(k))
    assert None in depths  # went below the cutoff: every entry made


def test_a_process_is_scored_while_one_of_its_threads_has_the_mm():
    k = kernel_of(3, 1 << 22, lambda i: 0, lambda i: 100 * (i + 1))
    p = k.tasklist[2]  # the biggest
    k.add_thread(p, 2000)
    leader, other = p.threads
    select_bad_process(k, OomControl(None, None, False, constrained_alloc(k, None)))
    exit_mm(k, leader)  # find_lock_task_mm() now finds the other thread
    assert p.mm is other.mm is not None and p.mm is p.find_lock_task_mm().mm
    kept, fresh = kept_and_fresh(k)
    assert kept.chosen is p and same_choice(kept, fresh)
    exit_mm(k, other)  # none left: not scored at all
    assert p.mm is None and p.find_lock_task_mm() is None
    kept, fresh = kept_and_fresh(k)
    assert kept.chosen is k.tasklist[1] and same_choice(kept, fresh)
    assert all(c.pid != p.pid for c in kept.candidates)
